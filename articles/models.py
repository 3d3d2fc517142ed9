import functools
import math
import operator
import re
import secrets
import unicodedata
from collections import defaultdict
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import PurePath
from typing import NamedTuple

import markdown
import nh3
from django.conf import settings
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorExact,
    SearchVectorField,
)
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    Lookup,
    OuterRef,
    Q,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, Now
from django.urls import reverse
from django.utils import timezone

from newsroom.control_characters import XML_REFUSED_CHARACTER

WORDS_PER_MINUTE = 230
SEARCH_CONFIG = "english_unaccent"  # migration 0011: english, with accents folded
UPDATE_GRACE = timedelta(minutes=1)
SEARCH_MAX_TERMS = 8
# A search box's text, read the same way for both databases: a "quoted phrase" (in straight,
# curly or angle quotes, as phones type them; the closing quote may be missing) or a run of
# other characters. Minus signs right before either leave it out, however many there are
# ("--word" is a reader leaning on the key, not two "not"s that cancel out); a minus sign
# with a space after it is a dash, and means nothing. A word within a run or a phrase is
# letters and digits, with apostrophes and hyphens inside (O'Brien, well-known, COVID-19).
SEARCH_QUOTES = '"“”„«»'
WEBSEARCH_TOKEN = re.compile(
    rf"(-*)(?:[{SEARCH_QUOTES}]([^{SEARCH_QUOTES}]*)[{SEARCH_QUOTES}]?|([^\s{SEARCH_QUOTES}]+))"
)
SEARCH_WORD = re.compile(r"\w(?:[\w'\u2019-]*\w)?")
# A letter with accents is found by its letter alone, and the other way round ("Zurich" finds
# "Zürich", "résumé" finds "resume"): PostgreSQL through the unaccent dictionary, SQLite
# through GLOB character classes (see _spelled_in), which know the letters of Europe's
# languages: Latin-1's, Latin Extended-A's, and Romanian's ș and ț. Among them, those Unicode
# decomposes into a letter and its accents, and those drawn with a stroke, as unaccent does.
ACCENTED_LATIN = (*range(0xC0, 0x180), *range(0x218, 0x21C))
STROKED_LETTERS = dict(zip("ØøĐđÐðĦħıŁłŦŧ", "OoDdDdHhiLlTt", strict=True))
APOSTROPHES = "'\u2019"
GLOB_SPECIAL = "*?["
# How many of a term's first characters SQLite's search starts patterns with (_spelled_in).
GLOB_STARTS = 2
# The words PostgreSQL's `english` configuration, and so SEARCH_CONFIG, leaves out of
# documents and queries as too common to tell articles apart: its english.stop list, the
# list from the Snowball project that PostgreSQL ships. Read here so that a search can say
# what it left out without asking the database (a test checks the two lists agree).
STOP_WORDS = frozenset({
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
    "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers",
    "herself", "it", "its", "itself", "they", "them", "their", "theirs", "themselves",
    "what", "which", "who", "whom", "this", "that", "these", "those", "am", "is", "are",
    "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does",
    "did", "doing", "a", "an", "the", "and", "but", "if", "or", "because", "as", "until",
    "while", "of", "at", "by", "for", "with", "about", "against", "between", "into",
    "through", "during", "before", "after", "above", "below", "to", "from", "up", "down",
    "in", "out", "on", "off", "over", "under", "again", "further", "then", "once", "here",
    "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more",
    "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so",
    "than", "too", "very", "s", "t", "can", "will", "just", "don", "should", "now",
})  # fmt: skip
# A piece of a search term as PostgreSQL's parser splits it: apart at apostrophes, spaces and
# other punctuation, but with dots, slashes and hyphens inside ("U.S.", "9/11", "so-so").
PARSER_PIECE = re.compile(r"[^\W_](?:(?:[^\W_]|[./-])*[^\W_])?")
# Every word of headlines and summaries, common ones included, as written (lowercased, not
# stemmed): what a search of common words alone looks through (HeadlineWords).
HEADLINE_CONFIG = "simple"
# Ranking reads every matched document again; a common word matches much of the archive.
SEARCH_RANKED_MATCHES = 200
# What the GIN indexes cannot tell by themselves, words typed in capitals ("WHO"), a
# phrase's word order, words left out ("-roof"), is read in the text of the newest this
# many articles they find with the words to find, in any case and any order: a bounded
# number of articles, whatever the words. Left to the planner, a search of words that
# nearly always come together ("solar -roof") was expected to match thousands of articles
# and read every article's text for none (1.5 s at 50,000 articles; docs/benchmarks.md).
SEARCH_CHECKED_MATCHES = 1000
# A day's worth of time zones either side of a date in these years stays within the years
# Python can represent, whatever TIME_ZONE says now or later.
PUBLICATION_YEARS = range(2, 9999)
ALLOWED_BODY_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3",
    "h4", "hr", "i", "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody",
    "td", "th", "thead", "tr", "ul",
}  # fmt: skip
BODY_H1 = re.compile(r"<(/?)h1\b")
# Raw HTML an editor may paste (an embed code, a player, a form or its fields, a formula)
# that the sanitizer leaves out of the page, or whose content it leaves out: the editor is
# told (left_out_elements). A formula (MathML) goes whole, its symbols too.
LEFT_OUT_ELEMENTS = {
    "applet", "audio", "button", "embed", "form", "frame", "frameset", "iframe", "input",
    "link", "math", "object", "script", "select", "style", "svg", "template", "textarea",
    "video",
}  # fmt: skip
CONTROL_CHARACTERS = (
    "Remove the invisible control characters (pasted text can bring them): feeds cannot carry them."
)
NESTED_TOO_DEEPLY = "The text nests too deeply to show (lists within lists)."
IMAGE_NOT_DESCRIBED = (
    "Describe each image in the text for readers who cannot see it: ![what it shows](address)."
)
# An article's text, some 50,000 words: longer than the longest read, short enough for
# PostgreSQL's search document (at most 1 MB, which words all different nearly fill).
# Checked in clean(), not as the textarea's maxlength, which cuts a paste short in silence.
BODY_MAX_CHARACTERS = 300_000
BODY_TOO_LONG = (
    "This text is {length:,} characters long, more than an article may be ({limit:,} "
    "characters): split it into parts, or link to the rest. An image is uploaded as the "
    "lead image or linked to, not pasted into the text."
)
# Leading whitespace (and quotation marks) a line of the body may have: 100 levels of lists.
# The Markdown library's time grows with the cube of the depth (200 levels: 0.6 s; 800: 30 s,
# then it runs out of stack), so a deeper paste is refused before it is rendered.
BODY_MAX_INDENT = 4 * 100
# Text the feeds carry, which Django's feed would refuse to write.
no_control_characters = RegexValidator(
    XML_REFUSED_CHARACTER, CONTROL_CHARACTERS, inverse_match=True
)


@functools.lru_cache(maxsize=1)
def markdown_html(text):
    """Markdown written by editors as HTML, raw HTML typed in it included, before it is
    sanitized. The headline is the page's one h1: a `#` heading in the body becomes an h2,
    where the sanitizer would have dropped the tag and left its words loose in the text.
    The last render is kept for `render_markdown` and `left_out_elements`."""
    html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    return BODY_H1.sub(r"<\1h2", html)


@functools.lru_cache(maxsize=1)
def render_markdown(text):
    """Markdown written by editors, rendered once and sanitized so no script survives.

    The last render is kept: the admin's `Article.clean()` renders the body to find one
    nested too deeply, and `save()` needs the same HTML a moment later.
    """
    return nh3.clean(
        markdown_html(text),
        tags=ALLOWED_BODY_TAGS,
        attributes={"a": {"href", "title"}, "img": {"src", "alt", "title"}, "abbr": {"title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener",
    )


class ImageFinder(HTMLParser):
    """Reads the text alternative of each image in rendered HTML, "" where it has none."""

    def __init__(self):
        super().__init__()
        self.descriptions = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.descriptions.append((dict(attrs).get("alt") or "").strip())


class ElementFinder(HTMLParser):
    """Reads the names of the elements in HTML, each once, in order of appearance."""

    def __init__(self):
        super().__init__()
        self.names = {}

    def handle_starttag(self, tag, attrs):
        self.names.setdefault(tag)


def left_out_elements(text):
    """The elements of raw HTML typed in the Markdown `text` that readers will not see,
    named in LEFT_OUT_ELEMENTS: the sanitizer drops them, or drops what they showed."""
    finder = ElementFinder()
    finder.feed(markdown_html(text))
    finder.close()
    return [name for name in finder.names if name in LEFT_OUT_ELEMENTS]


def image_descriptions(html):
    finder = ImageFinder()
    finder.feed(html)
    finder.close()
    return finder.descriptions


def deepest_indent(text):
    """The most leading whitespace before words on a line of `text`, a tab counting as
    Markdown's four spaces. A quotation's marks (>) count with it: lists nest behind them
    just as deep, and quotations nest too."""
    lines = [line for line in text.expandtabs(4).splitlines() if line.strip()]
    return max((len(line) - len(line.lstrip(" >")) for line in lines), default=0)


class SearchDocument(Expression):
    """The article's weighted full-text document, which PostgreSQL stores beside it.

    Migration 0003 adds the `search_document` column (title weighted A, standfirst B, body
    C, in the SEARCH_CONFIG configuration) with a trigger that keeps it, and the GIN index
    on it. The model declares no field for it: Django would then load ~2 KB per article on
    every page that reads articles (select_related from comments included), and SQLite
    would carry an empty column. This names the column on whichever alias the query gives
    the article table, and follows it when the query becomes a subquery. Changing what the
    document holds means a migration that replaces the trigger's function and rewrites
    the column.
    """

    column = "search_document"
    contains_column_references = True
    output_field = SearchVectorField()

    def __init__(self, alias=None):
        super().__init__()
        self.alias = alias

    def resolve_expression(self, query=None, *args, **kwargs):
        return type(self)(query.get_initial_alias())

    def relabeled_clone(self, relabels):
        return type(self)(relabels.get(self.alias, self.alias))

    def get_group_by_cols(self):
        return [self]

    def as_sql(self, compiler, connection):
        return f"{compiler.quote_name(self.alias)}.{compiler.quote_name(self.column)}", ()


class HeadlineWords(SearchDocument):
    """Every word of the headline (weighted A) and the summary (B), the common words the
    search document leaves out included, in HEADLINE_CONFIG: what a search of common words
    alone looks through (see ArticleQuerySet.search).

    Computed, not stored: migration 0012's GIN index is built on this very expression, so
    a search finds its matches in the index; the SQL must stay the index's, word for word,
    or the planner cannot use it (a test checks the plan). A stored copy would have meant
    rewriting every article (80 s at 100,000 articles) for a search this rare.
    """

    SQL = (
        "(setweight(to_tsvector('{config}'::regconfig, {table}.\"title\"), 'A')"
        " || setweight(to_tsvector('{config}'::regconfig, {table}.\"standfirst\"), 'B'))"
    )

    def as_sql(self, compiler, connection):
        table = compiler.quote_name(self.alias)
        return self.SQL.format(config=HEADLINE_CONFIG, table=table), ()


class SearchPlace(NamedTuple):
    """Where PostgreSQL looks for a word or phrase of a search: one of the article's
    documents, with the configuration that reads the reader's words as it was read."""

    document: type
    config: str

    def matches(self, groups, *, in_any_order=False):
        """search_terms() groups, all of them found here: one tsquery, which the document's
        GIN index reads in one go; with `in_any_order`, a phrase's words in any order."""
        query = full_text_query(groups, config=self.config, in_any_order=in_any_order)
        return Q(SearchVectorExact(self.document(), query))

    def rank(self, groups):
        return SearchRank(self.document(), full_text_query(groups, config=self.config))


# The whole article, its words stemmed ("tours" finds "tour"), common words left out.
ARTICLE_TEXT = SearchPlace(SearchDocument, SEARCH_CONFIG)
# Every word of headlines and summaries, as written: where common words are looked for.
HEADLINES = SearchPlace(HeadlineWords, HEADLINE_CONFIG)


class SlugAddressed(models.Model):
    """A model whose slug is in addresses readers keep (links, bookmarks, search results,
    feeds): a save that changes the slug records the old one among its `former_slugs` (a
    model of its own kind's former slugs), and the old address redirects to the new. The
    views look there only when no object has the slug now.

    One table per kind, not one generic table: each former slug has a real foreign key that
    deletes it with its object, and is unique among its kind's alone (a section and a tag
    may once have had the same slug).
    """

    class Meta:
        abstract = True

    # The view that shows one object by its slug.
    url_name = None
    # What a save compares with the row as it was before, read in one query.
    former_fields = ("slug",)

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        watched = [
            name for name in self.former_fields if update_fields is None or name in update_fields
        ]
        former = {}
        if self.pk and watched:
            former = type(self)._default_manager.filter(pk=self.pk).values(*watched).first()
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.saved_over(former or {}, watched=watched)

    def get_absolute_url(self):
        return self.address_for(self.slug)

    @classmethod
    def address_for(cls, slug):
        """The address of this kind's object with `slug`, such as one of its former slugs."""
        return reverse(cls.url_name, kwargs={"slug": slug})

    def saved_over(self, former, *, watched):
        """After the row is written, in the save's transaction: `former` holds the values
        of the `watched` fields before it (nothing for a new object)."""
        if "slug" in watched:
            self.keep_former_slug(former.get("slug"))

    def keep_former_slug(self, former_slug):
        """Called in the save's transaction with the slug the row had before it (None for a
        new object). The old address leads here from now on, and the new slug is nobody's
        former one. A new object taking someone's former slug needs nothing: a live slug
        wins in the views, and the row goes to it if it changes slug in turn."""
        if not former_slug or former_slug == self.slug:
            return
        former_slugs = self.former_slugs
        former_slugs.model.objects.update_or_create(
            slug=former_slug, defaults={former_slugs.field.name: self}
        )
        former_slugs.model.objects.filter(slug=self.slug).delete()


class FormerSlugBase(models.Model):
    """An address an object had before its slug changed; links to it redirect to the object.

    A slug in use by a live object is that object's, whatever these tables say.
    """

    slug = models.SlugField(max_length=200, unique=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.slug


class SectionQuerySet(models.QuerySet):
    def published(self):
        """Sections with an article the public may read (public()), checked per section
        through article_section_idx. A section's, tag's or author's page, feeds and name
        show only then: an author made for an embargoed story, or a tag added to a
        scheduled draft ("merger-with-acme"), would tell the news before it is out."""
        return self.filter(Exists(Article.objects.published().filter(section=OuterRef("pk"))))


class TagQuerySet(models.QuerySet):
    def published(self):
        """Tags with an article the public may read (SectionQuerySet.published), checked
        in the links' copy of their articles' status and date, which
        article_tag_public_idx serves alone. A wrong copy could show a tag whose page is
        empty, never a draft: the page reads published() articles."""
        return self.filter(Exists(TagLink.objects.filter(public(), tag=OuterRef("pk"))))


class AuthorQuerySet(models.QuerySet):
    def published(self):
        """Authors with an article the public may read (SectionQuerySet.published),
        checked per author through article_author_idx."""
        return self.filter(Exists(Article.objects.published().filter(author=OuterRef("pk"))))


class Section(SlugAddressed):
    url_name = "articles:section"

    name = models.CharField(max_length=100, unique=True, validators=[no_control_characters])
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True, validators=[no_control_characters])
    order = models.PositiveSmallIntegerField(default=0)

    objects = SectionQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        # Where an address typed in other capitals finds its slug (the views' lookup).
        indexes = [models.Index(Lower("slug"), name="section_slug_lower_idx")]

    def __str__(self):
        return self.name

    @property
    def summary(self):
        """What its page's description and its feeds say of it."""
        return self.description or f"The latest from {self.name}."


class Tag(SlugAddressed):
    url_name = "articles:tag"

    name = models.CharField(max_length=100, unique=True, validators=[no_control_characters])
    slug = models.SlugField(max_length=100, unique=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # Where an address typed in other capitals finds its slug (the views' lookup).
        indexes = [models.Index(Lower("slug"), name="tag_slug_lower_idx")]

    def __str__(self):
        return self.name

    @property
    def summary(self):
        """What its page's description and its feeds say of it."""
        return f"Articles about {self.name}."


class Author(SlugAddressed):
    """The public face of a writer; the login account, if any, stays private."""

    url_name = "articles:author"

    display_name = models.CharField(max_length=120, validators=[no_control_characters])
    slug = models.SlugField(max_length=120, unique=True)
    bio = models.TextField(blank=True, max_length=1000, validators=[no_control_characters])
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = AuthorQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        # Where an address typed in other capitals finds its slug (the views' lookup).
        indexes = [models.Index(Lower("slug"), name="author_slug_lower_idx")]

    def __str__(self):
        return self.display_name

    @property
    def summary(self):
        """What their page's description and their feeds say of them."""
        return self.bio or f"Articles by {self.display_name}."


def public():
    """The one definition of what the public may read: published and already live.

    A condition on `status` and `published_at`, which articles and their tag links (TagLink,
    a copy of their articles') both have: a tag's page applies it to both.
    """
    return Q(status=Article.Status.PUBLISHED, published_at__lte=Now())


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """What the public may read (public())."""
        return self.filter(public())

    def scheduled(self):
        """Published with a time still to come: public from then on, without another save."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__gt=Now())

    def visible_to(self, user):
        """What `user` may see of articles, their titles and addresses included: staff who
        may view articles in the admin (editors) also preview drafts and scheduled articles;
        everyone else, moderators too, sees the published ones. As in the admin, the right
        to change articles includes the right to view them."""
        may_view = user.has_perm("articles.view_article") or user.has_perm(
            "articles.change_article"
        )
        if user.is_staff and may_view:
            return self
        return self.published()

    def window(self, start, stop):
        """Rows `start` to `stop` of this ordered list, for a page of it (a list page, a
        sitemap page). Past the first rows the database steps over `start` articles in the
        index alone to find the page's ids (a deferred join), then reads only the page's
        rows: OFFSET read and dropped every row it skipped, most of the table on a deep
        page of a large archive."""
        window = self[start:stop]
        if start:
            window = self.filter(pk__in=window.values("pk"))
        return window

    def tagged(self, tag, start, stop):
        """Rows `start` to `stop` of this list's articles tagged `tag`, for a page of them.

        The page's ids come in order from the tag's public links (TagLink), an index read
        that stops at the page, as a section's page reads the articles' own index; only the
        page's articles are read. Joined to the articles, the tag's list was read whole and
        sorted for any page of it: at 100,000 articles, page 100 of a tag of 9,300 took 29
        to 38 ms on PostgreSQL and its last page 45 to 50 ms (0.24 and 1.3 to 2.1 ms now);
        on SQLite every page of it, the first too, took 75 ms (2 to 6.5 ms now). This
        list's own conditions (published()) still hold over the page's articles: a wrong
        copy on a link could leave an article out, but never show a draft.
        """
        links = TagLink.objects.filter(public(), tag=tag).order_by("-published_at", "-article_id")
        return self.filter(pk__in=links.values("article_id")[start:stop])

    def for_list(self):
        """What article cards need, in one query: no body, no per-row lookups."""
        return self.select_related("section", "author").defer("body", "body_html")

    def for_display(self):
        """An article with its section and author, for its own page.

        The view reads its tags with one plain query: prefetch_related's machinery for one
        article cost more than the query itself.
        """
        return self.select_related("section", "author")

    def before(self, article):
        """Articles published just before this one, nearest first (ties broken by id).

        A range on the date plus a residual filter, rather than an OR, so that the
        publication index serves the query on both databases.
        """
        when = article.published_at
        return (
            self.filter(published_at__lte=when)
            .exclude(published_at=when, id__gte=article.pk)
            .order_by("-published_at", "-id")
        )

    def after(self, article):
        """Articles published just after this one, nearest first."""
        when = article.published_at
        return (
            self.filter(published_at__gte=when)
            .exclude(published_at=when, id__lte=article.pk)
            .order_by("published_at", "id")
        )

    def search(self, reading):
        """Titles, standfirsts and bodies matching a reader's search, best first: the
        SearchReading of its text (read_search), which the results page also reads.

        Both databases read the same search_terms(). PostgreSQL ranks with full-text search
        over the stored document (see SearchDocument), which its GIN index serves. Only the
        newest SEARCH_RANKED_MATCHES matches are ranked, so a word found in half of a large
        archive costs a bounded amount of work, and a news reader sees recent stories.
        The document leaves out common words ("the", "it", "who"): a search whose words to
        find are all common ones would find nothing there, so it looks for them as whole
        words in headlines and summaries instead (HeadlineWords), ranked the same way, as
        it does for a common word offered as an alternative ("WHO or vaccine"); its other
        words, after minus signs, are left out as always, stemmed, from the article's text
        (SearchReading.place). A common word typed in capitals is found in capitals
        (capital_words). What the index cannot check (capitals, word order, words left
        out) is checked in the newest SEARCH_CHECKED_MATCHES it finds (FullTextSearch.indexed).
        Elsewhere (SQLite) every word must appear somewhere, newest first.
        """
        if not reading.groups:
            return self.none()
        if reading.vendor == "postgresql":
            search = full_text_search(reading)
            if search is None:
                return self.none()
            newest_first = ("-published_at", "-id")
            if search.indexed is None:
                newest_matches = (
                    self.filter(search.condition)
                    .order_by(*newest_first)
                    .values("pk")[:SEARCH_RANKED_MATCHES]
                )
            else:
                newest_matches = newest_checked(self.filter(search.indexed), search.condition)
            return (
                self.filter(pk__in=newest_matches)
                .annotate(rank=search.rank)
                .order_by("-rank", *newest_first)
            )
        return self.filter(substring_condition(reading.groups))


def newest_checked(candidates, condition):
    """The newest SEARCH_RANKED_MATCHES of `candidates` (their ids) that meet `condition`,
    looked for in the newest SEARCH_CHECKED_MATCHES candidates alone. One read, newest
    first, that stops at whichever limit comes first: a search finding its matches at
    once reads no more articles than before, and a search finding none reads a bounded
    number. Django cannot filter a sliced query, so the candidates are a subquery in
    FROM, written around the ORM's own SQL for them."""
    checked = (
        candidates.annotate(matches=ExpressionWrapper(condition, output_field=BooleanField()))
        .order_by("-published_at", "-id")
        .values("pk", "published_at", "matches")[:SEARCH_CHECKED_MATCHES]
    )
    sql, params = checked.query.get_compiler(using=candidates.db).as_sql()
    # The ORM's SQL, the reader's words in its parameters.
    return RawSQL(  # noqa: S611
        f"SELECT checked.pk FROM ({sql}) checked WHERE checked.matches"  # noqa: S608
        " ORDER BY checked.published_at DESC, checked.pk DESC LIMIT %s",
        (*params, SEARCH_RANKED_MATCHES),
    )


class SearchReading(NamedTuple):
    """What a search looks for, and what the results page tells the reader about it."""

    vendor: str
    groups: list  # search_terms()
    # The words or phrases, as typed, made only of words too common for PostgreSQL's
    # full-text search (STOP_WORDS); none on SQLite, which looks for every word.
    common: tuple
    # Those are all the words to find: all are looked for in headlines and summaries.
    headlines_only: bool
    # The text after the first SEARCH_MAX_TERMS words or phrases, as typed: not looked for.
    unsearched: str
    # Every letter of a text of several words ("or" included) is a capital: caps lock.
    typed_in_capitals: bool

    def place(self, alternative, either):
        """Where PostgreSQL looks for `alternative`, one of the group `either`: the article's
        text, or, for common words, headlines and summaries. Those are where common words
        are looked for when they are all the words to find, or one of several alternatives
        ("WHO or vaccine"), which left out would narrow the search instead of widening
        it; other common words are left out (None): "IT harbour" looks for "harbour"."""
        _, terms = alternative
        if not all(term in self.common for term in terms):
            return ARTICLE_TEXT
        return HEADLINES if self.headlines_only or len(either) > 1 else None

    def alternatives_in_headlines(self):
        """Each alternative (of each group) that place() looks for in headlines and summaries."""
        for either in self.groups:
            for alternative in either:
                if self.place(alternative, either) is HEADLINES:
                    yield alternative

    @property
    def in_headlines(self):
        """The common words or phrases, as typed, looked for in headlines and summaries."""
        return tuple(
            dict.fromkeys(term for _, terms in self.alternatives_in_headlines() for term in terms)
        )

    @property
    def left_out(self):
        """The common words or phrases, as typed, looked for nowhere."""
        return tuple(term for term in self.common if term not in self.in_headlines)

    def capital_words(self, alternative):
        """The words of `alternative` that headlines and summaries must write in capitals
        to match: common words of two letters or more typed in capitals. A reader typing
        "WHO" means the organisation, not "Who won the cup?"; "who" or "Who" may be any.
        Not in a search typed all in capitals ("THE WHO"): caps lock says nothing."""
        if self.typed_in_capitals:
            return []
        _, terms = alternative
        return [
            word
            for term in terms
            if term in self.common
            for word in PARSER_PIECE.findall(term)
            if len(word) > 1 and word.isalpha() and word.isupper()
        ]

    @property
    def in_capitals(self):
        """The words looked for in capitals (capital_words), for the page to say."""
        return tuple(
            dict.fromkeys(
                word
                for alternative in self.alternatives_in_headlines()
                for word in self.capital_words(alternative)
            )
        )


def read_search(query, *, using=DEFAULT_DB_ALIAS):
    """A search box's text as the database `using` will search it (ArticleQuerySet.search)."""
    vendor = connections[using].vendor
    groups, unsearched = search_terms(query)
    alternatives = [alternative for either in groups for alternative in either]
    common = ()
    if vendor == "postgresql":
        common = tuple(
            dict.fromkeys(term for _, terms in alternatives for term in terms if too_common(term))
        )
    wanted = [term for left_out, terms in alternatives if not left_out for term in terms]
    headlines_only = bool(wanted) and all(term in common for term in wanted)
    typed_in_capitals = query.isupper() and len(SEARCH_WORD.findall(query)) > 1
    return SearchReading(vendor, groups, common, headlines_only, unsearched, typed_in_capitals)


def too_common(term):
    """Whether every word of `term` is one PostgreSQL's search leaves out (STOP_WORDS), as
    its parser splits them ("it's" is "it" and "s") and SEARCH_CONFIG folds their accents."""
    folded = "".join(map(base_letter, term)).lower()
    pieces = PARSER_PIECE.findall(folded)
    return bool(pieces) and all(piece in STOP_WORDS for piece in pieces)


def search_terms(query):
    """What a search box's text asks for, as websearch_to_tsquery reads one, but with our
    own reading of minus signs and quotes, and none of PostgreSQL's own syntax (`'`, `:*`,
    `!`, `<->`), which it half reads in a search box's text.

    A list of groups, every one of which must match; a group lists its alternatives,
    joined by "or", any of which will do; an alternative is `(left_out, terms)`: its words
    or phrases all found or, left out, not all found. At most SEARCH_MAX_TERMS words or
    phrases in all, alternatives included: on SQLite each one is a scan of every article,
    and a bot's "a or b or c ..." must not make one search cost dozens. The groups are
    empty when the text holds no word at all; with them, the text beyond that limit."""
    groups = []
    joined = False
    taken = 0
    for match in WEBSEARCH_TOKEN.finditer(query):
        minus, phrase, run = match.groups()
        if run and not minus and run.lower() == "or":
            joined = bool(groups)
            continue
        text = run if phrase is None else phrase
        words = list(SEARCH_WORD.finditer(text))
        # As written, from its first word to its last: a pasted headline keeps its colons
        # and commas, which PostgreSQL's parser skips too, and a run its dots and slashes,
        # which that parser keeps inside one word of the stored document ("U.S.", "9/11",
        # "3.5%", "e.coli"): split into "u" and "s", such a word was never found there.
        terms = [text[words[0].start() : words[-1].end()]] if words else []
        if not terms:
            continue
        if taken == SEARCH_MAX_TERMS:
            return groups, query[match.start() :].strip()
        taken += 1
        alternative = (bool(minus), tuple(terms))
        if joined:
            groups[-1].append(alternative)
        else:
            groups.append([alternative])
        joined = False
    return groups, ""


class FullTextSearch(NamedTuple):
    """A search as PostgreSQL runs it (full_text_search)."""

    condition: Q
    rank: Expression
    # If the GIN indexes cannot check the condition by themselves (else None), what they
    # find of it, whose size the planner can tell: its words to find, in any case and any
    # order, without the groups that leave words out. The planner reckons a word left out
    # independent of the others: "solar -roof" was to match thousands, where solar is
    # nearly always on a roof, and matched none.
    indexed: Q | None


def full_text_search(reading):
    """A search's FullTextSearch, each word or phrase looked for where reading.place() says;
    None when it looks for nothing. The groups found in one place make one tsquery there
    (a search without common words makes one query of the article's text, as it always
    has); a group with alternatives in both places finds either, and one with words typed
    in capitals (reading.capital_words) finds them so. The rank adds up each place's."""
    alone = defaultdict(list)  # place: the groups all of whose alternatives are found there
    ranked = defaultdict(list)  # place: each group's alternatives found there
    as_typed = []  # the other groups' conditions
    indexed = []  # each group's words to find (FullTextSearch.indexed), if it leaves none out
    index_checks_all = True
    for either in reading.groups:
        placed = defaultdict(list)
        for alternative in either:
            if place := reading.place(alternative, either):
                placed[place].append(alternative)
        for place, alternatives in placed.items():
            ranked[place].append(alternatives)
        found = [
            (place, alternative, reading.capital_words(alternative))
            for place, alternatives in placed.items()
            for alternative in alternatives
        ]
        case_matters = any(capitals for *_, capitals in found)
        leaves_out = any(left_out for _, (left_out, _), _ in found)
        index_checks_all &= not (
            case_matters or leaves_out or any(has_phrase(a) for _, a, _ in found)
        )
        if found and not leaves_out:
            indexed.append(
                functools.reduce(
                    operator.or_,
                    (place.matches([alts], in_any_order=True) for place, alts in placed.items()),
                )
            )
        if len(placed) == 1 and not case_matters:
            ((place, alternatives),) = placed.items()
            alone[place].append(alternatives)
        elif found:
            as_typed.append(functools.reduce(operator.or_, (found_as_typed(*f) for f in found)))
    if not ranked:
        return None
    conditions = [place.matches(groups) for place, groups in alone.items()]
    return FullTextSearch(
        condition=functools.reduce(operator.and_, conditions + as_typed),
        rank=functools.reduce(
            operator.add, (place.rank(groups) for place, groups in ranked.items())
        ),
        indexed=None if index_checks_all else functools.reduce(operator.and_, indexed, Q()),
    )


def has_phrase(alternative):
    """Whether `alternative` has a term of several words, whose order the index cannot
    check: a phrase, or a word the parser reads as several ("well-known", "U.S.")."""
    _, terms = alternative
    return not all(term.isalnum() for term in terms)


def found_as_typed(place, alternative, capitals):
    """One alternative of a search found at `place`, its words in `capitals` written in
    capitals in the headline or summary. The capitals come first: where the condition is
    read as a value (newest_checked), an article whose capitals do not match is not split
    into words."""
    left_out, terms = alternative
    condition = Q()
    for word in capitals:
        written = rf"\m{word}\M"  # a whole word, in PostgreSQL's regular expressions
        condition &= Q(title__regex=written) | Q(standfirst__regex=written)
    condition &= place.matches([[(False, terms)]])
    return ~condition if left_out else condition


def full_text_query(groups, *, config=SEARCH_CONFIG, in_any_order=False):
    """search_terms() as one tsquery: each word or phrase through phraseto_tsquery, which
    reads it as the stored document was read (no operators), joined by &&, || and !!.
    With `in_any_order`, through plainto_tsquery: a phrase's words anywhere."""

    def found(term, *, left_out=False):
        spellings = [term]
        if term.isascii() and term.isdigit():
            # The parser reads "COVID-19" as "covid" and the number -19; readers type 19.
            spellings.append(f"-{term}")
        queries = (
            SearchQuery(
                spelling,
                config=config,
                search_type="plain" if in_any_order else "phrase",
                invert=left_out,
            )
            for spelling in spellings
        )
        return functools.reduce(operator.and_ if left_out else operator.or_, queries)

    def alternative(left_out, terms):
        if left_out:  # not (a and b): not a, or not b
            return functools.reduce(operator.or_, (found(term, left_out=True) for term in terms))
        return functools.reduce(operator.and_, map(found, terms))

    return functools.reduce(
        operator.and_,
        (functools.reduce(operator.or_, (alternative(*a) for a in either)) for either in groups),
    )


def substring_condition(groups):
    """search_terms() as conditions for a database without full-text search: each word or
    phrase found as it is spelt, in any field, in any case, with or without accents."""

    def alternative(left_out, terms):
        condition = functools.reduce(operator.and_, map(_contains, terms))
        return ~condition if left_out else condition

    return functools.reduce(
        operator.and_,
        (functools.reduce(operator.or_, (alternative(*a) for a in either)) for either in groups),
    )


def _contains(term):
    """The term in any field, in any case, with or without accents ("zurich" finds "ZÜRICH",
    "résumé" finds "resume"), with either apostrophe (straight or curly). A phrase is also
    looked for as its words with single spaces between them."""
    spellings = {unicodedata.normalize("NFC", term)}
    if not SEARCH_WORD.fullmatch(term):
        spellings.add(" ".join(SEARCH_WORD.findall(term)))
    return functools.reduce(
        operator.or_,
        (
            _spelled_in(field, spelling)
            for spelling in sorted(spellings)
            for field in ("title", "standfirst", "body")
        ),
    )


def _spelled_in(field, term):
    """The term in `field`, each of its characters standing for all it matches
    (matching_characters), through GLOB: SQLite's LIKE knows the case of English letters
    only, and nothing of accents.

    GLOB finds a pattern that starts with a plain character by scanning the text for it;
    one that starts with a character class is tried at every position of every text, some
    25 times slower over a large archive. So each pattern starts with one spelling of the
    term's first character: unaccented ("z", then "Z"), or as the reader typed it. A word
    written with another accent there ("Émile" for "emile") is found by a spelling of its
    second character instead, then checked whole. A word accented on both ("Łódź") is found
    by a search that spells one of them as it is written ("Łodz", "lódz", "łódź").
    """
    characters = [matching_characters(character) for character in term]
    elements = [glob_element(matches) for matches in characters]

    def found(*pattern):
        return Q(Glob(F(field), f"*{''.join(pattern)}*"))

    condition = Q()
    for position, matches in enumerate(characters[:GLOB_STARTS]):
        starts = {
            character
            for character in matches
            if character.isascii() or character.lower() == term[position].lower()
        }
        starting_here = functools.reduce(
            operator.or_,
            (found(glob_element({start}), *elements[position + 1 :]) for start in sorted(starts)),
        )
        condition |= starting_here & found(*elements) if position else starting_here
        if starts == matches:
            break
    return condition


def base_letter(character):
    """The letter without its accents ("É" gives "E", "ø" gives "o"), or the character."""
    if character in STROKED_LETTERS:
        return STROKED_LETTERS[character]
    decomposed = unicodedata.normalize("NFKD", character)
    letters = [part for part in decomposed if not unicodedata.combining(part)]
    return letters[0] if len(letters) == 1 and letters[0].isascii() else character


def _accented_letters():
    letters = defaultdict(set)
    for code in ACCENTED_LATIN:
        letter = chr(code)
        if (base := base_letter(letter)) != letter and base.isalpha():
            letters[base.lower()].add(letter)
    return letters


# Each unaccented lowercase letter with its accented forms in both cases: "e": {"é", "É", ...}.
ACCENTED_LETTERS = _accented_letters()


def matching_characters(character):
    """What `character` of a search term matches in a text: itself in either case, and for
    a Latin letter the same letter with any accent or none ("e" and "é" both match "e",
    "E", "é", "É", "è"...); an apostrophe matches either apostrophe."""
    if character in APOSTROPHES:
        return set(APOSTROPHES)
    letter = base_letter(character).lower()
    forms = {character, letter, *ACCENTED_LETTERS.get(letter, ())}
    return {
        cased for form in forms for cased in (form, form.lower(), form.upper()) if len(cased) == 1
    }


def glob_element(characters):
    """A GLOB pattern's element matching any one of `characters`: a character alone (in
    brackets if GLOB would read it as a wildcard), or a class of them, with neighbouring
    code points as ranges: SQLite reads a class in full at each try. A "^" goes last: first,
    it would make the class one of every other character (the fullwidth one stands for "^")."""
    if len(characters) == 1:
        (character,) = characters
        return f"[{character}]" if character in GLOB_SPECIAL else character
    runs = []
    for code in sorted(map(ord, characters - {"^"})):
        if runs and code == runs[-1][-1] + 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    return "[{}{}]".format(
        "".join(
            f"{chr(run[0])}-{chr(run[-1])}" if len(run) > 2 else "".join(map(chr, run))
            for run in runs
        ),
        "^" if "^" in characters else "",
    )


class Glob(Lookup):
    """SQLite's GLOB: a pattern with `*`, `?` and character classes, case-sensitive."""

    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} GLOB {rhs}", (*lhs_params, *rhs_params)


def lead_image_name(article, filename):
    """A name nobody can guess, keeping only the file's extension.

    Uploaded files are served to whoever asks for their address (nginx serves /media/ as
    it is), a draft's image too: named after the upload, it was at
    /media/lead-images/2026/11/minister-resigns.jpg, or the camera's IMG_0412.jpg, for
    anyone to try before the article was out.
    """
    extension = PurePath(filename).suffix.lower()
    return f"lead-images/{timezone.now():%Y/%m}/{secrets.token_urlsafe(16)}{extension}"


def delete_lead_image_on_commit(name):
    """The file of a lead image replaced, cleared or deleted with its article goes once that
    change commits, unless another article shows it too (the demo articles share a few).

    Kept, it stayed public at its address for good: an image withdrawn for a reason (the
    wrong person, a photo the paper may not use) was still served to anyone who had seen
    the page. Deleted before the commit, a rollback would leave the row naming a file that
    is gone; after it, the pages that showed it are stale too (the same commit bumps the
    content version), and they are revalidated at every view (no-cache).
    """
    transaction.on_commit(functools.partial(_delete_lead_image_if_unused, name), robust=True)


def _delete_lead_image_if_unused(name):
    if not Article.objects.filter(lead_image=name).exists():
        Article._meta.get_field("lead_image").storage.delete(name)


class Article(SlugAddressed):
    url_name = "articles:detail"
    former_fields = ("slug", "lead_image")

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200, validators=[no_control_characters])
    slug = models.SlugField(
        max_length=200, unique=True, help_text="Changing it keeps old links working: they redirect."
    )
    standfirst = models.TextField(
        max_length=500,
        help_text="The summary under the headline.",
        validators=[no_control_characters],
    )
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(editable=False, default="")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="articles")
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="A future time schedules the article."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    lead_image = models.ImageField(upload_to=lead_image_name, blank=True)
    lead_image_alt = models.CharField(
        "lead image description", max_length=250, blank=True, help_text="Required with an image."
    )
    comments_enabled = models.BooleanField(default=True)
    comment_count = models.PositiveIntegerField(
        default=0, editable=False, help_text="Approved comments readers can see."
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="article_published_has_date",
                condition=~Q(status="published") | Q(published_at__isnull=False),
            ),
            models.CheckConstraint(
                name="article_lead_image_has_alt",
                condition=Q(lead_image="") | ~Q(lead_image_alt=""),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at", "-id"], name="article_public_idx"),
            # The editors' list in the admin: every status, newest first.
            models.Index(fields=["-published_at", "-id"], name="article_newest_idx"),
            models.Index(
                fields=["section", "status", "-published_at", "-id"], name="article_section_idx"
            ),
            models.Index(
                fields=["author", "status", "-published_at", "-id"], name="article_author_idx"
            ),
            # Where an address typed in other capitals finds its slug (the views' lookup).
            models.Index(Lower("slug"), name="article_slug_lower_idx"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        update_fields = kwargs.get("update_fields")
        # The count is the comments' decisions' to write (under the article's lock): a whole
        # save wrote back the one read with the article, undoing a decision taken since.
        whole_update = update_fields is None and not self._state.adding and not args
        if whole_update and not {"force_insert", "force_update"} & kwargs.keys():
            kwargs["update_fields"] = update_fields = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "comment_count"
            ]
            try:
                return self._save_rendered(*args, **kwargs)
            except self.NotUpdated:
                # Deleted since it was read: saved whole, as before.
                kwargs["update_fields"] = None
        return self._save_rendered(*args, **kwargs)

    def _save_rendered(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        # The HTML follows the text, and only then: a save of other fields (publishing from
        # the list, which leaves the text out) would otherwise read it back to render it.
        if update_fields is None or "body" in update_fields:
            self.body_html = render_markdown(self.body)
            if update_fields is not None:
                kwargs["update_fields"] = update_fields = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    def saved_over(self, former, *, watched):
        super().saved_over(former, watched=watched)
        former_image = former.get("lead_image")
        if former_image and former_image != self.lead_image.name:
            delete_lead_image_on_commit(former_image)

    def clean(self):
        errors = {}
        if self.status == self.Status.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        if self.published_at and self.published_at.year not in PUBLICATION_YEARS:
            errors["published_at"] = (
                f"Give a year between {PUBLICATION_YEARS[0]} and {PUBLICATION_YEARS[-1]}."
            )
        if len(self.body) > BODY_MAX_CHARACTERS:  # not rendered: seconds for megabytes
            errors["body"] = BODY_TOO_LONG.format(length=len(self.body), limit=BODY_MAX_CHARACTERS)
        elif deepest_indent(self.body) > BODY_MAX_INDENT:
            errors["body"] = NESTED_TOO_DEEPLY
        else:
            try:
                html = render_markdown(self.body)  # the library recurses once per nesting level
            except RecursionError:
                errors["body"] = NESTED_TOO_DEEPLY
            else:
                if not all(image_descriptions(html)):
                    errors["body"] = IMAGE_NOT_DESCRIBED
        if self.lead_image and not self.lead_image_alt.strip():
            errors["lead_image_alt"] = "Describe the image for readers who cannot see it."
        if errors:
            raise ValidationError(errors)

    @property
    def is_public(self):
        """`published()` for an article already in hand, without a query."""
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def last_changed(self):
        """When readers last saw it change: a scheduled article written days before it went
        live is new from its publication, not from its last save (feeds, sitemap)."""
        if self.published_at is None:
            return self.updated_at
        return max(self.updated_at, self.published_at)

    @property
    def was_updated(self):
        """Edited after publication: worth telling the reader (saves within a minute are not)."""
        return bool(self.published_at) and self.updated_at - self.published_at > UPDATE_GRACE

    @property
    def reading_minutes(self):
        return max(1, math.ceil(len(self.body.split()) / WORDS_PER_MINUTE))


class TagLink(models.Model):
    """A row of Article.tags' own table, read with the copy of its article's `status` and
    `published_at` that the database keeps there (migration 0014's triggers), under the same
    names, so that public() reads the same on both. Its index (tag, status, published_at,
    article) gives a tag's public articles newest first (ArticleQuerySet.tagged).

    For reading only: tags are written through Article.tags, and the copy by the database
    alone, whichever way an article is published, withdrawn, dated or tagged (the admin's
    form and bulk actions, `QuerySet.update`, `bulk_create`, the demo's COPY). Not a
    `through` model: with one the admin leaves the tags out of the article's form.
    """

    article = models.ForeignKey(
        Article, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    tag = models.ForeignKey(Tag, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    status = models.CharField(max_length=10)
    published_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "articles_article_tags"

    def __str__(self):
        return f"Article {self.article_id} tagged {self.tag_id}"


class FormerSlug(FormerSlugBase):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="former_slugs")

    class Meta:
        # Where an old address typed in other capitals finds its slug (the views' lookup).
        indexes = [models.Index(Lower("slug"), name="article_former_slug_lower_idx")]


class SectionFormerSlug(FormerSlugBase):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="former_slugs")

    class Meta:
        # Where an old address typed in other capitals finds its slug (the views' lookup).
        indexes = [models.Index(Lower("slug"), name="section_former_slug_lower_idx")]


class TagFormerSlug(FormerSlugBase):
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="former_slugs")

    class Meta:
        # Where an old address typed in other capitals finds its slug (the views' lookup).
        indexes = [models.Index(Lower("slug"), name="tag_former_slug_lower_idx")]


class AuthorFormerSlug(FormerSlugBase):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="former_slugs")

    class Meta:
        # Where an old address typed in other capitals finds its slug (the views' lookup).
        indexes = [models.Index(Lower("slug"), name="author_former_slug_lower_idx")]
