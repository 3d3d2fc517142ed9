from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import (
    AdminFileWidget,
    AutocompleteSelect,
    AutocompleteSelectMultiple,
)
from django.core.exceptions import BadRequest, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import ngettext

from .models import PUBLICATION_YEARS, Article, Author, Section, Tag

# Django's date hierarchy computes the end of the chosen year, month or day; past 9998 that
# overflows datetime (a 500), and a year 1 in a time zone east of UTC falls before year 1.
# A month or day too big for a C integer overflows too (OverflowError, which it does not
# catch); a wrong one that fits (13) it answers itself.
DATE_HIERARCHY_RANGES = {"year": PUBLICATION_YEARS, "month": range(1, 13), "day": range(1, 32)}
# Each search word adds a condition per search field: SQLite gives up near 1,000 (a 500), and
# refuses LIKE patterns over 50,000 bytes. A whole comment (5,000 characters) still fits.
ADMIN_SEARCH_MAX_WORDS = 50
ADMIN_SEARCH_MAX_LENGTH = 5000
# SQLite cannot take an integer past 64 bits (OverflowError). Django makes one match nothing
# in an `exact`, `lt` or `gt` lookup, but not in the list of an `in` lookup.
SQL_INTEGERS = range(-(2**63), 2**63)


def integers_fit_the_database(values):
    """Whether every whole number in an `in` lookup's comma-separated values fits.

    Checked whatever the field: a text field would take such a number, but no list in our
    admin is filtered by one.
    """
    for value in values.split(","):
        try:
            number = int(value)
        except ValueError:
            continue  # not a number: the admin answers "?e=1" itself where one is needed
        if number not in SQL_INTEGERS:
            return False
    return True


def names_a_row(model, value):
    """Whether `value` can be a primary key of `model`: text, a NUL or a number past the
    column's range (its validators hold the database's, 64 bits on SQLite) fails in the
    database instead of matching nothing."""
    pk = model._meta.pk
    try:
        pk.run_validators(pk.to_python(value))
    except ValidationError:
        return False
    return True


class IdsOnlyAutocompleteMixin:
    """Labels only the sent values that can be ids: Django looks each one up to show its
    name, and text or a NUL failed in the database."""

    def optgroups(self, name, value, attr=None):
        model = self.field.remote_field.model
        return super().optgroups(name, [v for v in value if names_a_row(model, v)], attr)


class IdsOnlyAutocompleteSelect(IdsOnlyAutocompleteMixin, AutocompleteSelect):
    pass


class IdsOnlyAutocompleteSelectMultiple(IdsOnlyAutocompleteMixin, AutocompleteSelectMultiple):
    pass


class IdsOnlyMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses what cannot be an id before the database sees it: a number past 64 bits
    fails on SQLite, where PostgreSQL finds nothing."""

    def clean(self, value):
        for pk in value if isinstance(value, list | tuple) else ():
            if not names_a_row(self.queryset.model, pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super().clean(value)


class LabelledFileWidget(AdminFileWidget):
    """The file box with a label of its own: Django's admin renders it in a fieldset whose
    legend names the group, which leaves the box itself unlabelled for screen readers."""

    use_fieldset = False


class HandMadeRequestsMixin:
    """Changelist URLs, action selections, rows edited in the list and autocomplete boxes
    made by hand get a 400 or a form error (a lookup the admin refuses, ids that cannot be
    ids) or a bounded search, never a 500. Every id a request sends is checked here."""

    def lookup_allowed(self, lookup, value, request):
        if "\x00" in value:  # PostgreSQL refuses NUL in text
            return False
        if lookup.endswith("__in") and not integers_fit_the_database(value):
            return False
        part = lookup.removeprefix(f"{self.date_hierarchy}__") if self.date_hierarchy else None
        if part in DATE_HIERARCHY_RANGES and part != lookup:
            try:
                if int(value) not in DATE_HIERARCHY_RANGES[part]:
                    return False
            except ValueError:
                pass  # the admin itself answers "?e=1" for a date that is not a number
        return super().lookup_allowed(lookup, value, request)

    def response_action(self, request, queryset, **kwargs):
        self.refuse_unless_ids(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
        return super().response_action(request, queryset, **kwargs)

    def _get_list_editable_queryset(self, request, prefix):
        """Django's own check of the rows edited in the list (list_editable) stops text,
        not a number past the column's range."""
        self.refuse_unless_ids(self._get_edited_object_pks(request, prefix))
        return super()._get_list_editable_queryset(request, prefix)

    def refuse_unless_ids(self, values):
        if not all(names_a_row(self.model, value) for value in values):
            raise BadRequest("The request names rows by something other than their ids.")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                IdsOnlyAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                IdsOnlyAutocompleteSelectMultiple(
                    db_field, self.admin_site, using=kwargs.get("using")
                ),
            )
        kwargs.setdefault("form_class", IdsOnlyMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        # The changelist's search form refuses a NUL itself; the autocomplete view does not.
        if "\x00" in search_term:
            raise BadRequest("The search holds a NUL character.")
        words = search_term[:ADMIN_SEARCH_MAX_LENGTH].split()[:ADMIN_SEARCH_MAX_WORDS]
        return super().get_search_results(request, queryset, " ".join(words))


@admin.register(Section)
class SectionAdmin(HandMadeRequestsMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "order"]
    list_editable = ["order"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(HandMadeRequestsMixin, admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Author)
class AuthorAdmin(HandMadeRequestsMixin, admin.ModelAdmin):
    list_display = ["display_name", "slug", "user"]
    list_select_related = ["user"]
    search_fields = ["display_name"]
    prepopulated_fields = {"slug": ["display_name"]}
    raw_id_fields = ["user"]


@admin.register(Article)
class ArticleAdmin(HandMadeRequestsMixin, admin.ModelAdmin):
    list_display = ["title", "section", "author", "status", "published_at", "is_live"]
    list_filter = ["status", "section", ("published_at", admin.DateFieldListFilter)]
    list_select_related = ["section", "author"]
    search_fields = ["title", "standfirst", "author__display_name"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["author", "tags"]
    formfield_overrides = {models.ImageField: {"widget": LabelledFileWidget}}
    readonly_fields = ["comment_count", "created_at", "updated_at"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "standfirst", "body"]}),
        ("Placement", {"fields": ["section", "author", "tags"]}),
        ("Publication", {"fields": ["status", "published_at", "comments_enabled"]}),
        ("Lead image", {"fields": ["lead_image", "lead_image_alt"]}),
        ("Record", {"fields": ["comment_count", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("body", "body_html")

    def get_changeform_initial_data(self, request):
        """Django prefills the add form from "?field=value" as text, which the publication
        date and time boxes cannot show (a 500): a time the model accepts is parsed,
        anything else left out."""
        initial = super().get_changeform_initial_data(request)
        text = initial.pop("published_at", "")
        try:
            published_at = parse_datetime(text)
        except ValueError:  # well formed but impossible, such as a 13th month
            published_at = None
        if published_at and published_at.year in PUBLICATION_YEARS:
            initial["published_at"] = published_at
        return initial

    @admin.display(boolean=True, description="Readers can see it")
    def is_live(self, article):
        return article.is_public

    @admin.action(description="Publish the selected articles", permissions=["change"])
    def publish(self, request, queryset):
        """Drafts go live now, or at their scheduled time if one is set in the future."""
        now = timezone.now()
        articles = list(queryset.filter(status=Article.Status.DRAFT))
        for article in articles:
            article.status = Article.Status.PUBLISHED
            article.published_at = article.published_at or now
            article.save(update_fields=["status", "published_at", "updated_at"])
            self.log_change(request, article, "Published.")
        self.message_user(
            request,
            ngettext("%d article published.", "%d articles published.", len(articles))
            % len(articles),
            messages.SUCCESS,
        )

    @admin.action(description="Unpublish the selected articles", permissions=["change"])
    def unpublish(self, request, queryset):
        """Back to draft: gone from every public page at once; the date is kept."""
        articles = list(queryset.filter(status=Article.Status.PUBLISHED))
        for article in articles:
            article.status = Article.Status.DRAFT
            article.save(update_fields=["status", "updated_at"])
            self.log_change(request, article, "Unpublished.")
        self.message_user(
            request,
            ngettext("%d article unpublished.", "%d articles unpublished.", len(articles))
            % len(articles),
            messages.SUCCESS,
        )
