"""What every admin here shares: guards against hand-made requests, given to the admins other
apps register too (staff-only pages are still pages a bot can reach: never a 500); and the
action log, which belongs to no app of ours."""

import hashlib

from axes.helpers import get_credentials
from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import (
    BadRequest,
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db.models import Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Replace
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from articles.models import PUBLICATION_YEARS
from comments.models import ISOLATES, in_bdi, isolated
from newsroom.login_throttle import give_back_the_place

# Django's date hierarchy computes the end of the chosen month or day: one too big for a C
# integer overflows (OverflowError, which it does not catch); a wrong one that fits (13) it
# answers itself. Its year is held to PUBLICATION_YEARS as every year is (YEAR_TRANSFORMS).
DATE_HIERARCHY_RANGES = {"month": range(1, 13), "day": range(1, 32)}
# Each search word adds a condition per search field: SQLite gives up near 1,000 (a 500), and
# refuses LIKE patterns over 50,000 bytes. A whole comment (5,000 characters) still fits.
ADMIN_SEARCH_MAX_WORDS = 50
ADMIN_SEARCH_MAX_LENGTH = 5000
# The action log's search reads the few users a word names from its list of their ids (which
# PostgreSQL reads through the log's user index, alongside the name's); more are looked up by
# the search's own statement instead, whose parameters stay few: fifty words of ten users each
# are under SQLite's old limit of 999, where thousands of users in a list failed.
ACTION_LOG_SEARCH_MAX_USERS = 10
# Django's admin lets a URL filter by any of the model's own fields, with any lookup. Values
# compared with the field itself must be ones the field can hold: text in an address column
# fails on PostgreSQL, a number past 64 bits on SQLite.
FIELD_COMPARISONS = {"exact", "gt", "gte", "lt", "lte", "in"}
# A year past 9998 overflows datetime wherever it is extracted (the date hierarchy computes
# the end of the year), and a year 1 in a time zone east of UTC falls before year 1.
YEAR_TRANSFORMS = {"year", "iso_year"}
# Offered nowhere in our lists, and a database error for a pattern it cannot compile, or for
# the one value a URL gives where a range needs two.
UNOFFERED_LOOKUPS = {"regex", "iregex", "range"}
# SQLite cannot take an integer past 64 bits (OverflowError). Django makes one match nothing
# in an `exact`, `lt` or `gt` lookup, but not in the list of an `in` lookup.
SQL_INTEGERS = range(-(2**63), 2**63)
# The field of a deletion's confirmation that holds the ids of what it lists, comma-separated.
SELECTED_IDS = "selected_ids"
# Why a user the action log names is not deleted, on the delete page (as what protects it).
KEEPS_A_RECORD = (
    "{entries} in the action log {verb} what {username} did, and would go with the account. "
    "Deactivate the account instead (untick “Active” on "
    '<a href="{url}">its page</a>): it can no longer sign in, and the record stays.'
)
# Why the account one is signed in with is not deleted, though the log names it nowhere yet:
# the entry for its deletion would name it, and go with it.
OWN_ACCOUNT = (
    "{username} is the account you are signed in with: the action log's entry for its "
    "deletion would name it, and go with it, leaving no record. Another user allowed to "
    "delete accounts can delete it."
)


# An account's access changed since the page editing it was shown (StaffAccountChangeForm).
ACCESS_CHANGED_MEANWHILE = (
    "The access of “{username}” was changed after you opened this page (deactivated, or given "
    "other groups or permissions): saving yours now would undo that. Nothing was saved. Reload "
    "the page to see the account as it is now, or save again to replace it with yours."
)
# What a page shown again (after a conflict, or for a mistake to correct: StalePageGuard)
# cannot keep: a file input starts empty, and saving again would keep the stored file, or
# none, without a word.
FILES_TO_CHOOSE_AGAIN = "A page cannot keep a file chosen on it: choose the {files} again."
# The code of a StalePageGuard's conflict among a form's errors (StalePageAdminMixin).
STALE_PAGE = "stale_page"
ACCESS_FIELDS = {"is_active", "is_staff", "is_superuser", "groups", "user_permissions"}
# A group's permissions changed since the page editing it was shown (GroupForm).
GROUP_PERMISSIONS_CHANGED_MEANWHILE = (
    "The permissions of the group “{group}” were changed after you opened this page: saving "
    "yours now would undo that. Nothing was saved. Reload the page to see them as they are "
    "now, or save again to replace them with yours."
)


class StalePageGuard:
    """For a change form: the page sends back, in its hidden `version_field`, the version of
    the object it showed (version()). A save from a page shown before someone else changed
    the object comes back saying so (stale_message()) instead of undoing their change
    unseen, unless it would undo nothing (would_undo(): by default, unless it changes no
    field, as a form sent twice by a double click finds its own first save). The version
    is compared under the row's lock (PostgreSQL), which the admin's transaction holds until
    the save commits, so of two saves of one version the second is told. The page shown
    again carries the version now: saved again, it replaces the other change knowingly (a
    file chosen on it must be chosen again, and it says so: files_chosen()). A
    form that sends no version (made by hand) is saved as Django saves it.

    An editor fixing a typo in an article's page opened while it was a draft took it off the
    site again after a colleague had published it; a moderator put back the slur another
    had taken out of a comment; an editor saving a user's email from a page opened before
    the account was deactivated reactivated it. Each read "changed successfully"."""

    version_field = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial[self.version_field] = self.version(self.instance)

    def version(self, stored):
        raise NotImplementedError

    def stale_message(self, stored):
        raise NotImplementedError

    def would_undo(self, stored):
        return any(name != self.version_field for name in self.changed_data)

    def clean(self):
        cleaned_data = super().clean()
        shown = cleaned_data.get(self.version_field)
        if not (self.instance.pk and shown):
            return cleaned_data
        model = type(self.instance)
        stored = model._default_manager.select_for_update(of=("self",))
        stored = stored.filter(pk=self.instance.pk).first()
        if stored is None or self.version(stored) == shown or not self.would_undo(stored):
            return cleaned_data
        self.data = self.data.copy()
        self.data[self.add_prefix(self.version_field)] = self.version(stored)
        message = self.stale_message(stored)
        if chosen := self.files_chosen():
            files = " and ".join(chosen.values())
            message = f"{message} {FILES_TO_CHOOSE_AGAIN.format(files=files)}"
        raise ValidationError(message, code=STALE_PAGE)

    def full_clean(self):
        """A form sent back for a mistake elsewhere says so beside each file box it offers
        empty (a conflict's message says it already)."""
        super().full_clean()
        if not self._errors or STALE_PAGE in [e.code for e in self.non_field_errors().as_data()]:
            return
        for name, label in self.files_chosen().items():
            if name not in self._errors:
                self.add_error(name, FILES_TO_CHOOSE_AGAIN.format(files=label))

    def files_chosen(self):
        """The file fields a file was chosen in, which the page shown again offers empty,
        each with its name as a sentence says it."""
        return {
            name: str(field.label).lower()
            for name, field in self.fields.items()
            if isinstance(field, forms.FileField) and self.files.get(self.add_prefix(name))
        }


class StalePageAdminMixin:
    """For an admin whose change form is guarded (StalePageGuard): a conflict alone is told
    as a warning above the page, without Django's "Please correct the error below.", which
    stood above it in red with nothing on the page to correct (the choice is to reload, or
    to save again knowingly). With errors to correct too, it stays among them."""

    def render_change_form(self, request, context, *args, **kwargs):
        errors = context["adminform"].form.non_field_errors()
        if len(context["errors"]) == 1 and [e.code for e in errors.as_data()] == [STALE_PAGE]:
            self.message_user(request, errors[0], messages.WARNING)
            context["errors"] = []
        return super().render_change_form(request, context, *args, **kwargs)

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, **{"form": ShownValuesForm, **kwargs})


class ShownValuesForm(forms.ModelForm):
    """A row of a list's boxes (list_editable): saved where it differs from what the page
    showed, sent back hidden beside each box (show_hidden_initial), not from the row as
    stored: a row a colleague had changed since the list was opened got the page's value
    back, unseen, counted among those "changed successfully". A row sent without those
    values (a list made by hand) is compared with the row as stored, as Django does: else
    every row it sent was counted and logged as changed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.show_hidden_initial = (
                not self.is_bound or self.add_initial_prefix(name) in self.data
            )


def counted(thing, count):
    """ "1 comment", "2,000 comments": a number of things as a message says it (English
    plurals in -s). "1 commenter(s)" and "the 1 articles selected" read as a form letter."""
    return f"{count:,} {thing}" if count == 1 else f"{count:,} {thing}s"


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


def fits_the_field(model, lookup, value):
    """Whether a filter on one of the model's own fields can be run: a year within
    PUBLICATION_YEARS, values the field could hold, no lookup we never offer."""
    name, *parts = lookup.split("__")
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return True  # `pk` or a filter's own parameter: Django's own checks apply
    if UNOFFERED_LOOKUPS.intersection(parts):
        return False
    if YEAR_TRANSFORMS.intersection(parts):
        try:
            return int(value) in PUBLICATION_YEARS
        except ValueError:
            return True  # the admin itself answers "?e=1" for a year that is not a number
    if len(parts) > 1 or (parts and parts[0] not in FIELD_COMPARISONS):
        return True
    target = field.target_field if field.is_relation else field
    try:
        for one in value.split(",") if parts == ["in"] else [value]:
            cleaned = target.to_python(one)
            target.run_validators(cleaned)
            # The database is sent the value as typed: an address with a space around it
            # reads as valid (the field strips it), yet PostgreSQL cannot read it as one.
            # (The field also writes an IPv6 address shorter and in small letters: the same
            # address, which the database reads as typed.)
            if isinstance(cleaned, str) and cleaned != one and one != one.strip():
                return False
    except ValidationError:
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


class HandMadeRequestsMixin:
    """Changelist URLs, action selections, rows edited in the list and autocomplete boxes
    made by hand get a 400 or a form error (a lookup the admin refuses, ids that cannot be
    ids) or a bounded search, never a 500. Every id a request sends is checked here."""

    def lookup_allowed(self, lookup, value, request):
        if "\x00" in value:  # PostgreSQL refuses NUL in text
            return False
        if lookup.endswith("__in") and not integers_fit_the_database(value):
            return False
        if not fits_the_field(self.model, lookup, value):
            return False
        part = lookup.removeprefix(f"{self.date_hierarchy}__") if self.date_hierarchy else None
        if part in DATE_HIERARCHY_RANGES and part != lookup:
            try:
                if int(value) not in DATE_HIERARCHY_RANGES[part]:
                    return False
            except ValueError:
                pass  # the admin itself answers "?e=1" for a date that is not a number
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        """A deletion's confirmation sends the ids of what it lists in one field
        (templates/admin/delete_selected_confirmation.html), read here as the ticked rows
        Django reads, so that its checks and its deletion are Django's own. Django's sent a
        field per object, and a form of over DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) is refused:
        confirming the deletion of 1,500 comments, a spam wave, was a 400."""
        if request.method == "POST" and SELECTED_IDS in request.POST:
            post = request.POST.copy()
            ids = post.pop(SELECTED_IDS)[-1]
            post.setlist(helpers.ACTION_CHECKBOX_NAME, [pk for pk in ids.split(",") if pk])
            request.POST = post
        return super().changelist_view(request, extra_context)

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
        return super().get_search_results(request, queryset, bounded_search(search_term))


def bounded_search(search_term):
    """The search as far as an admin searches: its first ADMIN_SEARCH_MAX_WORDS words."""
    # The changelist's search form refuses a NUL itself; the autocomplete view does not.
    if "\x00" in search_term:
        raise BadRequest("The search holds a NUL character.")
    return " ".join(search_term[:ADMIN_SEARCH_MAX_LENGTH].split()[:ADMIN_SEARCH_MAX_WORDS])


def unquote_search_word(word):
    """A word of the admin's search as Django searches for it: "a phrase" in quotes is one."""
    if word[0] in "\"'" and word[0] == word[-1] and len(word) > 1:
        return unescape_string_literal(word)
    return word


def autocomplete(request):
    """The admin's autocomplete view, for the relations a form can have: a model's own
    foreign keys and many-to-many fields. Django's looks the field up among the reverse
    relations too (a user's author, an article's comments), and failed on one (a 500)."""
    try:
        model = apps.get_model(request.GET.get("app_label", ""), request.GET.get("model_name", ""))
        field = model._meta.get_field(request.GET.get("field_name", ""))
    except (LookupError, ValueError, FieldDoesNotExist):
        field = None  # Django's view refuses these itself
    if field is not None and field.auto_created and not field.concrete:
        raise PermissionDenied
    return admin.site.autocomplete_view(request)


def view_on_site(request, content_type_id, object_id):
    """The admin's "View on site" redirect, where the object's admin page offers it to this
    user: Django's answers any staff member, and would tell a moderator the address (the
    headline) of a draft, or of the article withdrawn since that a comment is on."""
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except (ContentType.DoesNotExist, ValueError):
        model = None  # the shortcut answers 404 itself
    if model is not None:
        if not admin.site.is_registered(model):
            raise Http404("No admin page offers this.")
        model_admin = admin.site.get_model_admin(model)
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        obj = model_admin.get_object(request, object_id)
        if obj is None:
            raise Http404("No admin page offers this.")  # or one this user cannot open
        if model_admin.get_view_on_site_url(obj) is None:
            raise PermissionDenied
    return shortcut(request, content_type_id, object_id)


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's sign-in form, which refuses some right passwords (an account that is not
    staff): those are no failures, and give back their place in the count."""

    def confirm_login_allowed(self, user):
        try:
            super().confirm_login_allowed(user)
        except ValidationError:
            give_back_the_place(self.request, get_credentials(self.cleaned_data["username"]))
            raise


admin.site.login_form = AdminLoginForm
# Headed and titled with the site's name: editors and moderators keep it open among other tabs.
admin.site.site_header = admin.site.site_title = f"{settings.SITE_NAME} admin"


def guard_every_admin(site=admin.site):
    """Give the admins other apps register the same guards: Django's users and groups,
    django-axes' sign-in records, django-tasks-db's task results (a hand-made filter of
    theirs was a 500). Run once every app's admin module is loaded (NewsroomConfig.ready)."""
    for model in apps.get_models():
        if not site.is_registered(model):
            continue
        model_admin = type(site.get_model_admin(model))
        if not issubclass(model_admin, HandMadeRequestsMixin):
            site.unregister(model)
            site.register(
                model, type(model_admin.__name__, (HandMadeRequestsMixin, model_admin), {})
            )


class WithEntriesFilter(admin.RelatedFieldListFilter):
    """Offers only the users (or kinds of object) that have entries this viewer may see: a
    moderator is not shown the other staff's names or the site's models. One probe of the
    entries' index per user or kind, not a DISTINCT over the whole log. Its empty choice
    ("-": entries whose kind of object was removed since) likewise only when there are some:
    otherwise it lists nothing, and a moderator never has any."""

    def field_choices(self, field, request, model_admin):
        visible = model_admin.get_queryset(request)
        self.has_entries_without_one = (
            field.null and visible.filter(**{f"{field.name}__isnull": True}).exists()
        )
        entries = visible.filter(**{field.name: OuterRef("pk")})
        return field.get_choices(
            include_blank=False,
            ordering=self.field_admin_ordering(field, request, model_admin),
            limit_choices_to=Q(Exists(entries)),
        )

    @property
    def include_empty_choice(self):
        return self.has_entries_without_one


def without_isolates(field):
    """The field's text in the database without the invisible isolates around the names
    in it (comments.models.isolated)."""
    text = field
    for isolate in ISOLATES:
        text = Replace(text, Value(isolate), Value(""))
    return text


class ActionLogChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        self.model_admin.find_linkable_objects(request, self.result_list)


@admin.register(LogEntry)
class ActionLogAdmin(HandMadeRequestsMixin, admin.ModelAdmin):
    """Who did what in the admin, also once the object and its history page are gone.

    Read-only for everyone, superusers included: a record anyone could edit records nothing.
    Staff with `view_logentry` see the entries about the models they may view here (the
    Moderators group: comments), never those about drafts or users."""

    list_display = ["action_time", "user", "kind", "object", "action", "change"]
    list_display_links = None
    list_filter = [
        "action_flag",
        ("user", WithEntriesFilter),
        ("content_type", WithEntriesFilter),
    ]
    list_select_related = ["user", "content_type"]
    # An entry's own page: the user by name, as in the list (Django links a user to the
    # users' admin, which moderators may not open), and the change in words, not its JSON.
    fields = readonly_fields = [
        "action_time",
        "username",
        "kind",
        "object_id",
        "object_repr",
        "action",
        "change",
    ]
    search_fields = ["object_name", "user__username"]  # the box; get_search_results reads them
    search_help_text = "The object's name as recorded, or a username."
    date_hierarchy = "action_time"  # read by probes of its index (change_list.html)
    # The paginator counts the entries already; the full count would count the whole table
    # again on every filtered page.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facets count the whole log once per choice
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Action log", **(extra_context or {})})

    def get_changelist(self, request, **kwargs):
        return ActionLogChangeList

    def get_queryset(self, request):
        entries = super().get_queryset(request)
        if request.user.is_superuser:
            return entries
        return entries.filter(content_type__in=self.viewable_content_types(request))

    def get_search_results(self, request, queryset, search_term):
        """Each word in the object's name, compared without its isolates, or in the
        username. Names without isolates: entries record a commenter's name between
        invisible isolates since comments isolated it (Comment.__str__), not before, so a
        quoted "Comment by Ann" found only the older entries, and the same words copied from
        a heading, isolates and all, only the newer ones.

        The users a word names are looked up first, so that the log is searched on its own
        columns, each through an index on PostgreSQL (the name's trigram index, migration
        newsroom 0002, and the user's): Django's join to the users, in an OR with the
        name, read every entry (1.2 to 1.7 s at a million)."""
        queryset = queryset.alias(object_name=without_isolates("object_repr"))
        search_term = bounded_search(search_term.translate(str.maketrans("", "", ISOLATES)))
        for word in map(unquote_search_word, smart_split(search_term)):
            users = User.objects.filter(username__icontains=word).values_list("pk", flat=True)
            few = list(users[: ACTION_LOG_SEARCH_MAX_USERS + 1])
            named = few if len(few) <= ACTION_LOG_SEARCH_MAX_USERS else users
            queryset = queryset.filter(Q(object_name__icontains=word) | Q(user__in=named))
        return queryset, False

    def get_object(self, request, object_id, from_field=None):
        """The entry, its object's name isolated (comments.models.isolated): Django heads
        its page, titles and breadcrumbs it with str(entry), "Changed “...” — Approved.",
        which a name recorded before comments isolated it, ending in a right-to-left
        override, turned around (".devorppA — ”"). Never saved: the log is read-only."""
        entry = super().get_object(request, object_id, from_field)
        if entry is not None:
            entry.object_repr = isolated(entry.object_repr)
        return entry

    def viewable_content_types(self, request):
        """The kinds of object this user may view in the admin, by their own admins' rules."""
        models = [
            model
            for model, model_admin in self.admin_site._registry.items()
            if model is not LogEntry and model_admin.has_view_permission(request)
        ]
        return list(ContentType.objects.get_for_models(*models).values())

    def find_linkable_objects(self, request, entries):
        """Mark the entries whose object still exists and this user may open: one query per
        kind of object on the page, not one per row."""
        wanted = {}
        for entry in entries:
            model = entry.content_type and entry.content_type.model_class()
            model_admin = self.admin_site._registry.get(model)
            if entry.action_flag == DELETION or model_admin is None or not entry.object_id:
                continue
            if model_admin.has_view_permission(request) and names_a_row(model, entry.object_id):
                wanted.setdefault(model_admin, set()).add(entry.object_id)
        existing = {
            (model_admin.model, str(pk))
            for model_admin, ids in wanted.items()
            for pk in model_admin.get_queryset(request)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        }
        for entry in entries:
            model = entry.content_type and entry.content_type.model_class()
            entry.linkable = (model, entry.object_id) in existing

    @admin.display(description="user")
    def username(self, entry):
        return entry.user.get_username()

    @admin.display(description="what kind", ordering="content_type")
    def kind(self, entry):
        return entry.content_type.name if entry.content_type else ""

    @admin.display(description="object", ordering="object_repr")
    def object(self, entry):
        """In <bdi>, as the comments' list shows a name: an entry recorded before comments
        isolated their commenter's name (Comment.__str__), or an article's title, keeps its
        writing direction to itself."""
        if getattr(entry, "linkable", False) and (url := entry.get_admin_url()):
            return format_html('<a href="{}">{}</a>', url, in_bdi(entry.object_repr))
        return in_bdi(entry.object_repr)

    @admin.display(description="action", ordering="action_flag")
    def action(self, entry):
        return entry.get_action_flag_display()

    @admin.display(description="change")
    def change(self, entry):
        return entry.get_change_message()


User = get_user_model()
admin.site.unregister(User)


def access_version(user):
    """What gives an account its access, as one value."""
    access = (
        user.is_active,
        user.is_staff,
        user.is_superuser,
        sorted(user.groups.values_list("pk", flat=True)),
        sorted(user.user_permissions.values_list("pk", flat=True)),
    )
    return hashlib.sha256(repr(access).encode()).hexdigest()


class StaffAccountChangeForm(StalePageGuard, UserChangeForm):
    """A user's form, guarded against a stale page for what gives the account its access:
    one deactivated (it was compromised, its moderator left) or given other groups since is
    not given its old access back unseen."""

    version_field = "access_shown"
    access_shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def version(self, stored):
        return access_version(stored)

    def would_undo(self, stored):
        return bool(ACCESS_FIELDS.intersection(self.changed_data))

    def stale_message(self, stored):
        return ACCESS_CHANGED_MEANWHILE.format(username=stored.get_username())


def permissions_version(group):
    permissions = sorted(group.permissions.values_list("pk", flat=True))
    return hashlib.sha256(repr(permissions).encode()).hexdigest()


class GroupForm(StalePageGuard, forms.ModelForm):
    """A group's form, guarded against a stale page for its permissions: taken from the
    Moderators since (an incident, a change of policy), they are not given back unseen by an
    editor renaming the group from a page opened before."""

    version_field = "permissions_shown"
    permissions_shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def version(self, stored):
        return permissions_version(stored)

    def would_undo(self, stored):
        return "permissions" in self.changed_data

    def stale_message(self, stored):
        return GROUP_PERMISSIONS_CHANGED_MEANWHILE.format(group=stored.name)


admin.site.unregister(Group)


@admin.register(Group)
class GroupPermissionsAdmin(StalePageAdminMixin, GroupAdmin):
    form = GroupForm


@admin.register(User)
class StaffAccountAdmin(StalePageAdminMixin, UserAdmin):
    """Django's, but a user the action log names is kept: their entries are the record of
    who decided what, and LogEntry.user is on_delete=CASCADE; and a page opened before the
    account's access changed does not change it back unseen (StaffAccountChangeForm)."""

    form = StaffAccountChangeForm
    fieldsets = [
        (name, {**options, "fields": [*options["fields"], "access_shown"]})
        if "is_active" in options["fields"]
        else (name, options)
        for name, options in UserAdmin.fieldsets
    ]

    def get_deleted_objects(self, objs, request):
        """A user with entries is protected, saying what to do instead (Django refused for
        want of a permission nobody has, that of deleting entries), and their entries are
        counted in one query, not read one by one (a moderator has thousands). So is the
        account the request is signed in with, which the entry for its deletion would name."""
        entries = dict(
            LogEntry.objects.filter(user__in=objs)
            .order_by()
            .values_list("user")
            .annotate(count=Count("pk"))
        )
        protected = [
            format_html(
                KEEPS_A_RECORD,
                entries=f"{entries[user.pk]:,} {'entry' if entries[user.pk] == 1 else 'entries'}",
                verb="records" if entries[user.pk] == 1 else "record",
                username=user.get_username(),
                url=reverse(
                    f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[user.pk],
                ),
            )
            for user in objs
            if user.pk in entries
        ]
        if request.user.pk not in entries and any(user.pk == request.user.pk for user in objs):
            protected.append(format_html(OWN_ACCOUNT, username=request.user.get_username()))
        if not protected:
            return super().get_deleted_objects(objs, request)
        return [], {}, set(), protected
