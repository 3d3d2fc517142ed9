import hashlib
from collections import defaultdict
from datetime import datetime

import imagesize
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.widgets import AdminFileWidget
from django.contrib.auth import get_permission_codename
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Case, F, Value, When
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import ngettext
from PIL import Image

from newsroom.admin import HandMadeRequestsMixin, StalePageAdminMixin, StalePageGuard
from newsroom.sizes import size_in_words

from . import services
from .models import (
    PUBLICATION_YEARS,
    Article,
    Author,
    AuthorFormerSlug,
    FormerSlug,
    Section,
    SectionFormerSlug,
    Tag,
    TagFormerSlug,
    left_out_elements,
)

# The delete pages list what goes with an object (or, for a section or author, the articles
# that keep it): an article with 4,000 comments listed them all, 400 KB, with the button to
# confirm below the last. Django shows this many, then "…and 3,900 more objects."; the
# summary above still counts everything.
DELETE_PAGE_ITEMS = 100
SCHEDULED = "Scheduled for {when}: readers cannot see it yet."
# The publish and unpublish actions' report: singular and plural of one line for each kind
# of article selected, so that every one is accounted for ("%s": the count, as "1,000").
PUBLISHED = ("%s article published.", "%s articles published.")
NOW_SCHEDULED = (
    "%s article scheduled: readers see it from its publication time.",
    "%s articles scheduled: readers see each from its publication time.",
)
ALREADY_SCHEDULED = (
    "%s article was scheduled already and stays so: readers see it from its publication "
    'time. To publish it now, set its "Published at" to now ("Today", "Now") and save.',
    "%s articles were scheduled already and stay so: readers see each from its publication "
    'time. To publish one now, set its "Published at" to now ("Today", "Now") and save.',
)
ALREADY_LIVE = ("%s article was published already.", "%s articles were published already.")
UNPUBLISHED = ("%s article unpublished.", "%s articles unpublished.")
ALREADY_DRAFT = ("%s article was a draft already.", "%s articles were drafts already.")
# The articles Publish or Unpublish takes in a request. "Select all" read every article,
# updated and logged them in one transaction: 100,000 took 50 to 55 s on SQLite and 65 to
# 150 s on PostgreSQL (a load of 12 on 2 cores), past gunicorn's 30 s, which rolled it all
# back and gave the editor an error page. 10,000 take 4 s on SQLite, 9 to 13 s on
# PostgreSQL on that machine: as many as a deletion takes.
CHANGED_IN_THE_REQUEST = 10_000
TOO_MANY_TO_CHANGE = (
    "{doing} the {count} articles selected at once would outlast the server's time limit, "
    "and change none of them: at most {most} are changed at a time. Nothing was changed. "
    "Select fewer (a search or a filter narrows the list: Status, Section, Published at)."
)
SLUG_TAKEN = "Another {kind} has this address already: choose another slug."
SLUG_WAS_ANOTHERS = (
    '{address} was the address of the {kind} "{other}" before its slug changed, and led to it '
    "until now: links to it (shared, bookmarked, in search results) lead to this {kind} from "
    "now on. To keep them leading there, choose another slug."
)
LEFT_OUT_OF_THE_PAGE = (
    "Saved as typed, but readers do not see the {elements} in the text, left out of the page: "
    "an article shows no scripts, styles, embedded pages, players, forms or formulas. Link to "
    "what it showed instead."
)
# A lead image is served as uploaded, on the front page too: a phone's photo (a few MB,
# 12 to 48 million pixels) is taken, a camera's original or a scan is sent back to be
# made smaller. Behind nginx, client_max_body_size must allow this much (README).
LEAD_IMAGE_MAX_BYTES = 10 * 1024 * 1024
LEAD_IMAGE_MAX_PIXELS = 50_000_000
FOR_THE_WEB = "save a copy for the web (2,000 pixels wide is plenty) and upload that."
IMAGE_TOO_HEAVY = (
    "This image file is {size}, more than a lead image may be ({limit}): " + FOR_THE_WEB
)
# Pillow's names of the formats every browser shows (MPO: a camera's JPEG holding a second
# picture); it reads many more (TIFF, PPM, TGA...), which readers would see as broken.
WEB_IMAGE_FORMATS = {"JPEG", "MPO", "PNG", "GIF", "WEBP", "AVIF"}
IMAGE_NOT_FOR_THE_WEB = (
    "This image is in the {format} format, not one made for web pages: save it as JPEG "
    "(a photo) or PNG (a drawing) and upload that."
)
IMAGE_TOO_LARGE = (
    f"This image has more than {LEAD_IMAGE_MAX_PIXELS // 1_000_000} million pixels: " + FOR_THE_WEB
)
# An article saved by someone else since the editor's page was shown, which saving it would
# undo (ArticleForm): the page comes back with their changes kept, not saved yet.
SAVED_MEANWHILE = (
    "This article was saved by {who} on {when}, after you opened this page: saving yours now "
    "would undo what they changed, its status and publication time included. Nothing was saved. "
    "Reload the page to see their version, or save again to replace it with yours."
)
# A section, tag or author changed since the editor's page was shown (ChangedMeanwhileForm).
CHANGED_MEANWHILE = (
    "This {kind} was changed after you opened this page, by a colleague or in another window: "
    "saving yours now would undo that. Nothing was saved. Reload the page to see it as it is "
    "now, or save again to replace it with yours."
)
IMAGE_CUT_SHORT = (
    "This image file is cut short (a download or a copy that did not finish): upload the "
    "whole file."
)


# What the Status column says of an article, in the order it sorts them: the field alone
# says "Published" of an article scheduled for later too.
PUBLICATION_STATUSES = {"draft": "Draft", "scheduled": "Scheduled", "published": "Published"}
PUBLICATION_STATUS_ORDER = Case(
    When(status=Article.Status.DRAFT, then=Value(0)),
    When(published_at__gt=Now(), then=Value(1)),
    default=Value(2),
)


class PublicationStatusFilter(admin.SimpleListFilter):
    """Draft, Scheduled or Published, as the Status column says: the field's own filter
    put scheduled articles among the published ones, and nothing picked them alone."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return PUBLICATION_STATUSES.items()

    def queryset(self, request, queryset):
        match self.value():
            case None:
                return queryset
            case "draft":
                return queryset.filter(status=Article.Status.DRAFT)
            case "scheduled":
                return queryset.scheduled()
            case "published":
                return queryset.published()
        return queryset.none()  # a status no list offers


class LabelledFileWidget(AdminFileWidget):
    """The file box with a label of its own: Django's admin renders it in a fieldset whose
    legend names the group, which leaves the box itself unlabelled for screen readers."""

    use_fieldset = False


class LeadImageField(forms.ImageField):
    """A lead image readers' browsers can show, of a size fit for a web page. One refused
    for its size says so: Pillow's guard against decompression bombs, which refuses an
    image past our limit as it opens it, made it read as "not an image or a corrupted
    image"."""

    def to_python(self, data):
        if data and data.size > LEAD_IMAGE_MAX_BYTES:
            size, limit = size_in_words(data.size), size_in_words(LEAD_IMAGE_MAX_BYTES)
            raise ValidationError(IMAGE_TOO_HEAVY.format(size=size, limit=limit))
        if data and pixels_in_header(data) > LEAD_IMAGE_MAX_PIXELS:
            raise ValidationError(IMAGE_TOO_LARGE)
        try:
            upload = super().to_python(data)
        except ValidationError as error:
            if isinstance(error.__cause__, Image.DecompressionBombError):
                raise ValidationError(IMAGE_TOO_LARGE) from error
            raise
        if upload is not None:
            if upload.image.format not in WEB_IMAGE_FORMATS:
                raise ValidationError(IMAGE_NOT_FOR_THE_WEB.format(format=upload.image.format))
            width, height = upload.image.size
            if width * height > LEAD_IMAGE_MAX_PIXELS:  # Pillow read the header otherwise
                raise ValidationError(IMAGE_TOO_LARGE)
            if not decodes_to_the_end(upload):
                raise ValidationError(IMAGE_CUT_SHORT)
        return upload


def pixels_in_header(upload):
    """The pixels the file's header announces (0 if it cannot be read: Pillow then says
    what it is), before Pillow opens it: past the limit Pillow is held to (apps.py), it
    warns in the server's log, and only the process's warning filters, shared with the
    requests served in threads beside this one, could make that warning a refusal."""
    width, height = imagesize.get(upload, exif_rotation=False)  # (-1, -1): it cannot tell
    upload.seek(0)
    return max(width, 0) * max(height, 0)


def decodes_to_the_end(upload):
    """Django's check (Pillow's verify()) reads a JPEG's header only and a PNG's chunks,
    not its pixels: a file cut short passed. A JPEG is decoded at an eighth of its size,
    which reads every byte at a fraction of the memory."""
    with Image.open(upload) as image:
        image.draft("RGB", (image.width // 8, image.height // 8))
        try:
            image.load()
        except OSError:
            return False
        finally:
            upload.seek(0)
    return True


class StoredFieldsForm(StalePageGuard, forms.ModelForm):
    """A change form guarded against a stale page (StalePageGuard) for what it edits: an
    object saved since, by a colleague or in another window, is not written over unseen."""

    version_field = "saved_version"
    saved_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def version(self, stored):
        """The stored values of the fields the form edits, as one value. Not when the object
        was last saved: any save moves that on, one that changed none of them too (a
        colleague letting an old address go, or saving the page as it was), and the
        editor was told that saving would undo a change there was none of."""
        values = [
            (field.name, self.as_shown(field.value_from_object(stored)))
            for field in stored._meta.concrete_fields + stored._meta.many_to_many
            if field.name in self.fields
        ]
        return hashlib.sha256(repr(values).encode()).hexdigest()

    @staticmethod
    def as_shown(value):
        """A stored value as the form shows and sends it back: tags by id, a time to the
        second (the "Publish" action dates an article to the microsecond, which the first
        save from the form drops: a change nobody made)."""
        if isinstance(value, list):
            return sorted(related.pk for related in value)
        if isinstance(value, datetime):
            value = value.replace(microsecond=0)
        return str(value)


class ChangedMeanwhileForm(StoredFieldsForm):
    """A section's, tag's or author's form: one renamed since (a misspelt name, a name that
    must go) does not get its old name back unseen from a page opened before."""

    def stale_message(self, stored):
        return CHANGED_MEANWHILE.format(kind=stored._meta.verbose_name)


class ArticleForm(StoredFieldsForm):
    """The article's form, guarded against a stale page: an article saved since (a
    colleague's edit, their "Publish" from the list) is not written over unseen, its status
    and publication time included."""

    def stale_message(self, stored):
        """Who saved the version stored and when: who as the action log says, if it says
        (a script's save writes no entry)."""
        entry = (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Article),
                object_id=str(stored.pk),
                action_time__gte=stored.updated_at,
            )
            .select_related("user")
            .order_by("action_time")
            .first()
        )
        who = entry.user.get_username() if entry else "someone"
        when = date_format(timezone.localtime(stored.updated_at), "j F Y, H:i")
        return SAVED_MEANWHILE.format(who=who, when=when)


class FormerSlugInline(admin.TabularInline):
    """The old addresses that redirect to the object, each of which can be let go: a slug
    may hold a name that must no longer lead anywhere. Deleted, the old address is a 404.

    They belong to the object: whoever may change it may let them go, with no permissions
    of their own to grant. They are only ever made by changing the slug, never typed here.
    """

    fields = readonly_fields = ["old_address"]
    extra = 0
    verbose_name = "old address"
    verbose_name_plural = "Old addresses that redirect here"

    @admin.display(description="Address")
    def old_address(self, former):
        return format_html("<code>{}</code>", self.parent_model.address_for(former.slug))

    def parent_permission(self, request, action):
        opts = self.parent_model._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")

    def has_view_permission(self, request, obj=None):
        return self.parent_permission(request, "view") or self.parent_permission(request, "change")

    def has_add_permission(self, request, obj):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.parent_permission(request, "change")


class SectionFormerSlugInline(FormerSlugInline):
    model = SectionFormerSlug


class TagFormerSlugInline(FormerSlugInline):
    model = TagFormerSlug


class AuthorFormerSlugInline(FormerSlugInline):
    model = AuthorFormerSlug


class ArticleFormerSlugInline(FormerSlugInline):
    model = FormerSlug


# A section's, tag's or author's slug: its list, follow page and feeds move with it.
LIST_SLUG_CHANGES = (
    "Changing it keeps old links working, its feeds too: the old address redirects to the new."
)


class AddressInSlugMixin:
    """The slug of a saved article, section, tag or author is in addresses readers keep
    (links, bookmarks, search results, the feeds of a section, tag or author): the form says
    what changing it does, and lists the old addresses that lead to it now."""

    slug_changes = "Changing it keeps old links working: the old address redirects to the new."
    # The add page said nothing of the slug; not slug_changes: a new one has no old links.
    slug_when_new = (
        "The end of its address, filled in from the {source} as you type. Readers keep it "
        "in links and bookmarks once it is on the site, so shorten it now if you want."
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            [source] = self.prepopulated_fields["slug"]
            source_name = self.opts.get_field(source).verbose_name
            help_text = self.slug_when_new.format(source=source_name)
        else:
            help_text = self.slug_changes
        kwargs["help_texts"] = {**kwargs.get("help_texts", {}), "slug": help_text}
        # Django's "Article with this Slug already exists." named a field, not the address.
        taken = SLUG_TAKEN.format(kind=self.opts.verbose_name)
        kwargs["error_messages"] = {
            **kwargs.get("error_messages", {}),
            "slug": {"unique": taken},
        }
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        """A slug that another one had before is its old address no more (a slug in use is
        always its owner's): the editor is told, not refused, since a name may well be
        given again, but the links readers kept to the other one lead here from now on."""
        other = None
        if "slug" in form.changed_data:
            other = self.former_owner(obj)
        super().save_model(request, obj, form, change)
        if other is not None:
            message = SLUG_WAS_ANOTHERS.format(
                address=obj.get_absolute_url(), kind=self.opts.verbose_name, other=other
            )
            self.message_user(request, message, messages.WARNING)

    def former_owner(self, obj):
        """The other one whose former slug `obj`'s slug is, if any."""
        former_slugs = type(obj).former_slugs
        owner_field = former_slugs.field.name
        formers = former_slugs.rel.related_model.objects.filter(slug=obj.slug)
        if obj.pk:
            formers = formers.exclude(**{owner_field: obj.pk})
        former = formers.select_related(owner_field).first()
        return getattr(former, owner_field, None)

    def get_inlines(self, request, obj):
        """A new object has no old address: its form showed an empty table of them."""
        inlines = super().get_inlines(request, obj)
        if obj is None:
            return [inline for inline in inlines if not issubclass(inline, FormerSlugInline)]
        return inlines


class ShownOnceOutMixin:
    """A section, tag or author has a page once one of its articles is public
    (published()): until then "View on site" would lead to a 404."""

    def get_view_on_site_url(self, obj=None):
        if obj is not None and not self.model.objects.published().filter(pk=obj.pk).exists():
            return None
        return super().get_view_on_site_url(obj)


@admin.register(Section)
class SectionAdmin(
    StalePageAdminMixin,
    ShownOnceOutMixin,
    AddressInSlugMixin,
    HandMadeRequestsMixin,
    admin.ModelAdmin,
):
    delete_confirmation_max_display = DELETE_PAGE_ITEMS
    form = ChangedMeanwhileForm
    inlines = [SectionFormerSlugInline]
    slug_changes = LIST_SLUG_CHANGES
    list_display = ["name", "slug", "order"]
    list_editable = ["order"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(
    StalePageAdminMixin,
    ShownOnceOutMixin,
    AddressInSlugMixin,
    HandMadeRequestsMixin,
    admin.ModelAdmin,
):
    delete_confirmation_max_display = DELETE_PAGE_ITEMS
    form = ChangedMeanwhileForm
    inlines = [TagFormerSlugInline]
    slug_changes = LIST_SLUG_CHANGES
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_deleted_objects(self, objs, request):
        """Django's list, with each article the tag is taken off named and linked: it
        showed "Article-tag relationship: Article_tags object (17)", which told the editor
        about to confirm nothing of which articles lose the tag (they keep all else). Their
        titles are read in one query; the rows Django lists each tag's under are its own.
        Staff who may not see articles are not shown their titles (drafts among them)."""
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if not self.admin_site.get_model_admin(Article).has_view_or_change_permission(request):
            return to_delete, model_count, perms_needed, protected
        tagging = Article.tags.through
        label = f"{capfirst(tagging._meta.verbose_name)}: "
        articles_of = defaultdict(list)
        rows = (
            tagging.objects.filter(tag__in=objs)
            .order_by("tag_id", "article_id")
            .values_list("tag_id", "article_id", "article__title")
        )
        for tag_id, article_id, title in rows:
            url = reverse(f"{self.admin_site.name}:articles_article_change", args=[article_id])
            articles_of[tag_id].append(format_html('{}<a href="{}">{}</a>', label, url, title))
        # Django's list: each tag's line, then the list of what goes with it, if anything.
        listed, tags = [], iter(objs)
        for item in to_delete:
            if not isinstance(item, list):
                tag = next(tags)
                listed += [item, articles_of[tag.pk]]
                continue
            others = [line for line in item if not str(line).startswith(label)]
            listed[-1] = [*others, *listed[-1]]
        return [item for item in listed if item != []], model_count, perms_needed, protected


@admin.register(Author)
class AuthorAdmin(
    StalePageAdminMixin,
    ShownOnceOutMixin,
    AddressInSlugMixin,
    HandMadeRequestsMixin,
    admin.ModelAdmin,
):
    delete_confirmation_max_display = DELETE_PAGE_ITEMS
    form = ChangedMeanwhileForm
    inlines = [AuthorFormerSlugInline]
    slug_changes = LIST_SLUG_CHANGES
    list_display = ["display_name", "slug", "user"]
    list_select_related = ["user"]
    search_fields = ["display_name"]
    prepopulated_fields = {"slug": ["display_name"]}
    raw_id_fields = ["user"]

    def get_exclude(self, request, obj=None):
        """Which login an author is, is account management: its lookup would answer "403
        Forbidden" to an editor, who sees the login in the list (a superuser links it)."""
        exclude = super().get_exclude(request, obj) or []
        return exclude if request.user.has_perm("auth.view_user") else [*exclude, "user"]


@admin.register(Article)
class ArticleAdmin(
    StalePageAdminMixin, AddressInSlugMixin, HandMadeRequestsMixin, admin.ModelAdmin
):
    form = ArticleForm
    delete_confirmation_max_display = DELETE_PAGE_ITEMS
    inlines = [ArticleFormerSlugInline]
    list_display = ["title", "section", "author", "publication_status", "published_at"]
    list_filter = [PublicationStatusFilter, "section", ("published_at", admin.DateFieldListFilter)]
    list_select_related = ["section", "author"]
    search_fields = ["title", "standfirst", "author__display_name"]
    date_hierarchy = "published_at"  # read by probes of its index (change_list.html)
    # Newest first, and drafts not yet dated above them, as PostgreSQL puts them anyway:
    # SQLite put them last, on the list's last page. Both read article_newest_idx.
    ordering = [F("published_at").desc(nulls_first=True), "-id"]
    # Django counts the whole table for "n total" beside a search's results, and again on
    # the unfiltered list, whose paginator already says how many articles there are.
    show_full_result_count = False
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["author", "tags"]
    # The upload is stored under a short random name (lead_image_name): the length of the
    # photo's own name, which Django held to the column's, does not matter.
    formfield_overrides = {
        models.ImageField: {
            "form_class": LeadImageField,
            "widget": LabelledFileWidget,
            "max_length": None,
        }
    }
    readonly_fields = ["comment_count", "created_at", "updated_at"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "standfirst", "body", "saved_version"]}),
        ("Placement", {"fields": ["section", "author", "tags"]}),
        ("Publication", {"fields": ["status", "published_at", "comments_enabled"]}),
        ("Lead image", {"fields": ["lead_image", "lead_image_alt"]}),
        ("Record", {"fields": ["comment_count", "created_at", "updated_at"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        """A new article has no record yet: its form showed "0" comments and "-" twice."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return [(name, options) for name, options in fieldsets if name != "Record"]
        return fieldsets

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

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        self.say_if_scheduled(request, obj)
        self.say_if_left_out(request, obj)
        return response

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        self.say_if_scheduled(request, obj)
        self.say_if_left_out(request, obj)
        return response

    def say_if_left_out(self, request, article):
        """The sanitizer drops scripts, styles and embedded pages: "added successfully"
        alone let an editor who pasted an embed code believe readers saw it."""
        if names := left_out_elements(article.body):
            *others, last = [f"<{name}>" for name in names]
            elements = f"{', '.join(others)} and {last}" if others else last
            self.message_user(
                request, LEFT_OUT_OF_THE_PAGE.format(elements=elements), messages.WARNING
            )

    def say_if_scheduled(self, request, article):
        """A published article dated later is scheduled: "added successfully" alone sent
        editors to the site to look for it. The publish action says the same."""
        if article.status == Article.Status.PUBLISHED and not article.is_public:
            when = date_format(timezone.localtime(article.published_at), "j F Y, H:i")
            self.message_user(request, SCHEDULED.format(when=when), messages.INFO)

    @admin.display(description="status", ordering=PUBLICATION_STATUS_ORDER)
    def publication_status(self, article):
        """Draft, Scheduled or Published (readers see it): the field's "Published" alone
        covered articles not out yet, and a column of its own to tell them apart left the
        list too wide for a laptop's screen."""
        if article.status == Article.Status.DRAFT:
            return PUBLICATION_STATUSES["draft"]
        return PUBLICATION_STATUSES["published" if article.is_public else "scheduled"]

    @admin.action(description="Publish the selected articles", permissions=["change"])
    def publish(self, request, queryset):
        """Drafts go live now, or at their scheduled time if one is set in the future.

        As WordPress's "Publish" does, a date set for later is kept: an article already
        scheduled stays so, and the editor is told how to bring it forward. Every article
        selected is accounted for: "0 articles published." left editors guessing why.
        """
        articles = self.selected_for_a_change(request, queryset, doing="Publishing")
        if articles is None:
            return
        drafts = [article for article in articles if article.status == Article.Status.DRAFT]
        untouched = [article for article in articles if article.status != Article.Status.DRAFT]
        published = services.publish_drafts(drafts, by=request.user)
        if left_out := {article.pk for article in drafts} - {article.pk for article in published}:
            # Published by a colleague since the list was read (a query only then).
            untouched += Article.objects.filter(pk__in=left_out, status=Article.Status.PUBLISHED)
        # A draft dated later goes out scheduled: "published" sent editors looking for it.
        newly_scheduled = sum(not article.is_public for article in published)
        newly_live = len(published) - newly_scheduled
        already_scheduled = sum(not article.is_public for article in untouched)
        already_live = len(untouched) - already_scheduled
        self.say_counts(
            request,
            [
                (PUBLISHED, newly_live, messages.SUCCESS),
                (NOW_SCHEDULED, newly_scheduled, messages.SUCCESS),
                (ALREADY_SCHEDULED, already_scheduled, messages.WARNING),
                (ALREADY_LIVE, already_live, messages.INFO),
            ],
        )

    @admin.action(description="Unpublish the selected articles", permissions=["change"])
    def unpublish(self, request, queryset):
        """Back to draft: gone from every public page at once; the date is kept. Every
        article selected is accounted for, as Publish does."""
        articles = self.selected_for_a_change(request, queryset, doing="Unpublishing")
        if articles is None:
            return
        published = [article for article in articles if article.status == Article.Status.PUBLISHED]
        unpublished = services.unpublish(published, by=request.user)
        drafts = len(articles) - len(published)
        if left_out := {article.pk for article in published} - {a.pk for a in unpublished}:
            # Unpublished by a colleague since the list was read (a query only then).
            drafts += Article.objects.filter(pk__in=left_out, status=Article.Status.DRAFT).count()
        self.say_counts(
            request,
            [
                (UNPUBLISHED, len(unpublished), messages.SUCCESS),
                (ALREADY_DRAFT, drafts, messages.INFO),
            ],
        )

    def selected_for_a_change(self, request, queryset, *, doing):
        """The selected articles, with only what Publish and Unpublish read of them and log
        (the list's joins and columns left out); None, the editor told why, when there are
        more than a request can take (CHANGED_IN_THE_REQUEST), counted first."""
        count = queryset.count()
        if count > CHANGED_IN_THE_REQUEST:
            message = TOO_MANY_TO_CHANGE.format(
                doing=doing, count=f"{count:,}", most=f"{CHANGED_IN_THE_REQUEST:,}"
            )
            self.message_user(request, message, messages.ERROR)
            return None
        return list(queryset.select_related(None).only("title", "status", "published_at"))

    def say_counts(self, request, counts):
        """Each (message, count, level) that counts any article: "0 articles published."
        left editors guessing why."""
        for message, count, level in counts:
            if count:
                self.message_user(request, ngettext(*message, count) % f"{count:,}", level)
