"""The comment form's inputs, written in Python rather than through Django's widget templates.

The form is on every article page. Through the templates, each input cost a template render
plus an include for its attributes, ~0.3 ms each and a fifth of the page. Django still decides
every attribute (required, maxlength, aria-describedby, aria-invalid, checked); only the
writing of the tag moves here, with the same markup and the same escaping as the templates.
"""

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.html import conditional_escape


def attributes_html(attrs):
    """django/forms/widgets/attrs.html: True writes the bare name, False leaves it out."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def input_html(widget):
    """django/forms/widgets/input.html, from the "widget" part of Widget.get_context()."""
    value = widget["value"]
    value_html = "" if value is None else f' value="{conditional_escape(value)}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}"'
        f' name="{conditional_escape(widget["name"])}"{value_html}'
        f"{attributes_html(widget['attrs'])}>"
    )


def textarea_html(widget):
    """django/forms/widgets/textarea.html (the newline after the tag is the template's)."""
    value = widget["value"]
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{attributes_html(widget["attrs"])}>'
        f"\n{conditional_escape(value) if value else ''}</textarea>"
    )


class CommentFormRenderer(BaseRenderer):
    """Writes the input types the comment form uses; any other widget gets its template."""

    writers = {
        "django/forms/widgets/text.html": input_html,
        "django/forms/widgets/email.html": input_html,
        "django/forms/widgets/url.html": input_html,
        "django/forms/widgets/hidden.html": input_html,
        "django/forms/widgets/checkbox.html": input_html,
        "django/forms/widgets/textarea.html": textarea_html,
    }

    def get_template(self, template_name):
        return get_default_renderer().get_template(template_name)

    def render(self, template_name, context, request=None):
        write = self.writers.get(template_name)
        if write is None:
            return super().render(template_name, context, request)
        return write(context["widget"])
