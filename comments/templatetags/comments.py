from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def comments_section(context, article):
    """The comment thread and the "Leave a Reply" form under an article."""
    return ""
