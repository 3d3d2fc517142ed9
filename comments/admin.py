"""The moderation queue: the Comment admin, and the comments side of the Article admin.

Every status change goes through `comments.services`; the admin only asks for decisions.
"""

import hashlib
import ipaddress
import operator
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from functools import reduce
from itertools import batched
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.options import EMPTY_VALUE_STRING
from django.contrib.admin.utils import NestedObjects, display_for_value, quote, unquote
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, PAGE_VAR, SEARCH_VAR
from django.contrib.auth.signals import user_logged_in
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connections, models, router
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.dispatch import receiver
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.tasks import TaskResultStatus
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator, capfirst, smart_split
from django.utils.timesince import timesince

from articles.admin import DELETE_PAGE_ITEMS, ArticleAdmin
from articles.models import Article
from articles.services import IDS_PER_QUERY
from comments import cache as comments_cache
from comments import services
from comments.forms import BodyField
from comments.models import (
    ISOLATES,
    BackgroundDecision,
    Comment,
    in_bdi,
    isolated,
    website_is_linkable,
)
from comments.privacy import erase_commenter_data, export_commenters_data
from comments.thread import (
    ancestors,
    hidden_count,
    nest,
    under_withheld,
    whole_thread,
)
from newsroom.admin import (
    HandMadeRequestsMixin,
    StalePageAdminMixin,
    StalePageGuard,
    counted,
    unquote_search_word,
)

EXCERPT_WORDS = 16
# The levels of replies a comment's page nests its thread to (CommentAdmin.thread).
THREAD_LEVELS_NESTED = 10
LATEST_COMMENTS_ON_ARTICLE_PAGE = 20
WHOLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# The trigram index (comments 0005) serves a search word only through three letters or
# digits in a row; without one, every comment is read (a million: seconds).
INDEXED_WORD = re.compile(r"[^\W_]{3}")
SHORT_SEARCH = (
    "“{term}” is too short to search comments for: commenters named exactly “{term}” are "
    "shown. Search for three letters or more to look through names, emails and comments."
)
# The start of an address: IPv4 with two dots or one at the end ("192.168.", "10.", "10.0.1"),
# each number one an address has (0 to 255, as stored: without leading zeros); IPv6 with a
# colon and a digit, and "::", a letter, or a colon at the end ("2001:db8:", "fe80::").
# "3.5", "1.000.000" (a million, in much of Europe), "10:30" or "dead:beef", more likely
# words of a comment, are searched as such.
OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_START = re.compile(rf"(?:{OCTET}\.){{2,3}}{OCTET}?|{OCTET}\.")
IPV6_START = re.compile(r"[0-9a-f]{1,4}(?::{1,2}[0-9a-f]{0,4})+", re.IGNORECASE)
# Logs write IPv6 groups with their leading zeros ("2001:0db8:"); they are stored without.
LEADING_ZEROS = re.compile(r"(?<![0-9a-f])0+(?=[0-9a-f])", re.IGNORECASE)
HEXTET = re.compile(r"[0-9a-f]{1,4}")
HIDDEN_ARTICLE = "An article readers cannot see"
NO_LONGER_THERE = (
    "That comment no longer exists: it was deleted, or its article was, after the page was "
    "shown. Nothing was decided."
)
DECISION_NOT_TAKEN = "Nothing was decided: decide on the comment here."
# The name of the decision buttons on a comment's page, which send the page's form
# (CommentAdmin.changeform_view), and what a decision taken with a fix to the text says of it.
DECIDE_ON_ITS_PAGE = "_decide"
TEXT_SAVED = "Your change to the text was saved."
# A comment's text changed since the moderator's page was shown, which saving theirs would
# undo (CommentForm): the page comes back with their text kept, not saved yet.
EDITED_MEANWHILE = (
    "This comment's text was changed after you opened this page, by another moderator or in "
    "another window: saving yours now would undo that change. Nothing was saved. Reload the "
    "page to see the text as it is now, or save again to replace it with yours."
)
# "Delete selected comments" over more than a request can take (services.DECIDED_IN_THE_REQUEST).
# The selection's replies go with it, and count.
TOO_MANY_TO_DELETE = (
    "Deleting the {count} comments selected, with the replies that go with them, at once "
    "would outlast the server's time limit, and delete none of them: at most {most} are "
    "deleted at a time. Select fewer (a search or a filter narrows the list). To take them "
    "all from readers at once, mark them as spam or reject them: any number is decided, in "
    "the background."
)
# "Delete selected" on articles: the articles and their comments it takes in a request. Each
# comment is read and deleted on its own (its signals), each article too: 2,000 articles with
# 10,000 comments took 5 to 6 s on a busy machine (SQLite and PostgreSQL alike), and "select
# all" over a larger archive passed gunicorn's 30 s, the deletion rolled back and the editor
# got an error page. At the limit, on the same machine (a load of 8 on 2 cores): 10,000
# articles 10 to 12 s (and 3.7 s to confirm), 2 articles with 9,998 comments 4 to 5 s.
DELETED_WITH_ARTICLES_IN_THE_REQUEST = 10_000
TOO_MANY_ARTICLES_TO_DELETE = (
    "Deleting {articles} with {comments} at once would outlast the server's time limit, and "
    "delete none of them: at most {most} articles and comments together are deleted at a "
    "time. Select fewer (a search or a filter narrows the list). An article with more "
    "comments than that can be deleted once some of them are, in the comments' list."
)
# The commenters an erasure takes in a request: each is erased in a transaction of their own,
# 10 to 25 ms, and "Select all" over a spam wave's 1,900 addresses took 46 s.
ERASED_IN_THE_REQUEST = 500
TOO_MANY_TO_ERASE = (
    "Erasing the data of the {count} commenters selected at once could outlast the server's "
    "time limit, which would stop it with some erased and the others not: at most {most} are "
    "erased at a time. Nothing was erased. Select fewer (a search or a filter narrows the "
    "list)."
)
# The commenters an export takes in a request: "Select all" over 10,000 addresses passed
# gunicorn's 30 s when each one's data was read on its own (two queries a commenter), and the
# editor got an error page, not the file. Read together since, 500 commenters with 2,500
# comments take 0.2 to 0.5 s (a 2 MB file); as many as an erasure takes, with room for
# prolific commenters.
EXPORTED_IN_THE_REQUEST = 500
TOO_MANY_TO_EXPORT = (
    "Exporting the data of the {count} commenters selected at once could outlast the "
    "server's time limit, and give an error page instead of the file: at most {most} are "
    "exported at a time. Nothing was exported. Select fewer (a search or a filter narrows the "
    "list)."
)
# What an erasure's confirmation sends back of the commenters it listed (erasure_listing):
# with "Select all" the selection is read again on the click, and takes in whoever has
# commented since. Only the commenters listed are erased.
LISTED_FOR_ERASURE = "listed"
SELECTION_CHANGED = (
    "The selection has changed since its confirmation was shown: comments joined it or left "
    "it. Nothing was erased: check the commenters listed now."
)
# The action log's entry for a reply deleted with the comment it answers, and for an article
# deleted with its comments.
REPLY_DELETED = "Deleted with the comment it answered."
ARTICLE_DELETED_WITH = "Deleted with its {}."


class Decision(NamedTuple):
    operation: Callable  # the service that carries it out
    target: str  # the status it leads to
    done: str  # past tense, for messages
    label: str  # on its button
    doing: str  # in progress, of "{}" comments


# Keyed by the name used in the decision URL.
DECISIONS = {
    "approve": Decision(
        services.approve, Comment.Status.APPROVED, "approved", "Approve", "Approving {}"
    ),
    "unapprove": Decision(
        services.unapprove,
        Comment.Status.PENDING,
        "moved back to the queue",
        "Unapprove",
        "Moving {} back to the queue",
    ),
    "reject": Decision(
        services.reject, Comment.Status.REJECTED, "rejected", "Reject", "Rejecting {}"
    ),
    "spam": Decision(
        services.mark_spam, Comment.Status.SPAM, "marked as spam", "Spam", "Marking {} as spam"
    ),
}
# A decision on more comments than a request can take (services.DECIDED_IN_THE_REQUEST).
IN_THE_BACKGROUND = (
    "{doing} in the background: the list will show them as they are decided, "
    f"{services.DECISION_CHUNK} at a time. Any that someone else decides on meanwhile "
    "stay as they decided."
)
# Which of a moderator's BackgroundDecisions they have yet to hear the end of, in their
# session: the list looks for them only when there are some, with no query on every page.
# Signing in fills it from the rows (decisions_to_tell_at_sign_in).
BACKGROUND_DECISIONS = "comments_background_decisions"
# The message that announces one, which names it: the list that follows says nothing more of
# it until it has news.
BACKGROUND_DECISION_TAG = "background-decision-"
BACKGROUND_RUNNING = (
    "{doing} in the background, {since}, has not ended yet: the list shows the "
    "comments decided so far."
)
# A decision still running this long after it started was stopped: its process was killed
# (SIGKILL, a crash), which nothing records. One cut short by gunicorn's timeout or a worker's
# stop is recorded as failed (services.moderate_in_background). 40,000 comments take minutes
# at most. With the database queue the hour counts from when a worker took its task up, and
# one still waiting for a worker this long after it was queued is told so instead.
BACKGROUND_STOPPED_AFTER = timedelta(hours=1)
# A worker that took a decision's task up sooner than this after it was queued took it at
# once: the moderator is told since when it started, not since when it waited as well.
TAKEN_UP_AT_ONCE = timedelta(minutes=1)
BACKGROUND_WAITING = (
    "{doing} in the background, queued {ago} ago, has not started: no task worker has taken "
    "it up yet, and whoever runs the site may need to start one. It will be decided once one "
    "does: there is no need to select the comments again."
)
BACKGROUND_STOPPED = (
    "{doing} in the background, {since}, has not ended: it was probably stopped by "
    "a restart or a time limit of the server. Those decided before it stopped stay decided, "
    "the others are as they were: the list shows which. Select them again to decide the rest."
)
BACKGROUND_ENDED = "{doing} in the background has ended: {changed} {done}."
BACKGROUND_FAILED = (
    "{doing} in the background, {since}, failed before it ended. Those decided "
    "before it stopped stay decided, the others are as they were: the list shows which. "
    "Select them again to decide the rest."
)
QUICK_DECISIONS = ["approve", "spam"]
STATUSES = set(Comment.Status.values)
NOT_SHOWN_YET = {
    False: " 1 of them is not shown to readers yet: a comment above it is withheld, or its "
    "article is not published.",
    True: " {} of them are not shown to readers yet: a comment above each is withheld, or its "
    "article is not published.",
}
# Ticked rows a bulk decision left alone because they were no longer as the page showed
# them (decided on since, or deleted), by whether there are several.
LEFT_AS_THEY_ARE = {
    False: "1 selected comment was left as it is: it was decided on or deleted after the page "
    "was shown, by another moderator or in another window. Decide again if you still mean to.",
    True: "{} selected comments were left as they are: they were decided on or deleted after "
    "the page was shown, by another moderator or in another window. Decide again if you "
    "still mean to.",
}
# Each row of the list sends the status it showed, as "<id>:<status>", with the actions' form.
STATUS_SHOWN = "status_shown"
# How a comment came to be in each status, for a decision that found it changed.
DONE = {decision.target: decision.done for decision in DECISIONS.values()}
DOING = {decision.target: decision.doing for decision in DECISIONS.values()}
DECIDED_MEANWHILE = (
    "{comment} was {done} by {by} while you were looking: nothing was decided. "
    "Decide again if you still mean to."
)
YOU_DECIDED_MEANWHILE = (
    "{comment} was {done} by you, on another page or in another window, while this "
    "one was open: nothing was decided here. Decide again if you still mean to."
)


def row_decisions_id(comment_id):
    """The id of the first decision button of a comment's row in the moderators' list."""
    return f"decide-{comment_id}"


# The list's messages (change_list.html), which describe the button a row's decision leads
# back to; the decision's message names that row in its extra tags, from the decision to
# the page it redirects to: the browser keeps the address's #fragment to itself.
DECISION_OUTCOME_ID = "decision-outcome"
FOCUSED_ROW_TAG = "focused-row-"


# Where a decision not told of yet stands, beyond its own states (BackgroundDecision.State).
WAITING, STOPPED = "waiting", "stopped"


def background_state(decision, task):
    """Where the decision stands: ended or failed as it recorded itself, or for one still
    running, as the queue knows its task, `task`, where it keeps one (services.queued_task,
    None otherwise): still waiting for a worker, or failed before the decision could record
    it (the database lost, or the worker's stop cutting the task short, as it read the
    decision). Neither the queue nor anything with the default backend knows whether the
    process running it is still alive: one running for an hour is taken as stopped."""
    if decision.state != BackgroundDecision.State.RUNNING:
        return decision.state
    an_hour_ago = timezone.now() - BACKGROUND_STOPPED_AFTER
    if task is None:
        started = decision.queued_at
    elif task.status == TaskResultStatus.FAILED:
        return BackgroundDecision.State.FAILED
    elif task.status == TaskResultStatus.READY:
        return WAITING if decision.queued_at < an_hour_ago else decision.state
    else:
        started = task.started_at or decision.queued_at
    return STOPPED if started < an_hour_ago else decision.state


def started_since(decision, task):
    """Since when the decision has been taken, for the moderator: from when a worker took its
    task up, where the queue says (`task`, as for background_state), and from when it was
    queued too if a worker took it up later than that; from when it was queued where that
    is all there is to go by (the default backend takes it right after the request)."""
    queued = timesince(decision.queued_at, depth=1)
    started_at = task.started_at if task is not None else None
    if started_at is None:
        return f"started {queued} ago"
    started = timesince(started_at, depth=1)
    if started_at - decision.queued_at < TAKEN_UP_AT_ONCE:
        return f"started {started} ago"
    return f"queued {queued} ago, started {started} ago"


def background_outcome(decision, state, task):
    """What the moderator is told of their BackgroundDecision, in `state`
    (background_state, with the same `task`), and at which level: the request's own outcome
    message (CommentAdmin._decide), when it has ended."""
    doing = DOING[decision.target].format(counted("comment", decision.comment_count))
    if state == WAITING:
        ago = timesince(decision.queued_at, depth=1)
        return BACKGROUND_WAITING.format(doing=doing, ago=ago), messages.WARNING
    since = started_since(decision, task)
    if state == STOPPED:
        return BACKGROUND_STOPPED.format(doing=doing, since=since), messages.ERROR
    if state == BackgroundDecision.State.RUNNING:
        return BACKGROUND_RUNNING.format(doing=doing, since=since), messages.INFO
    if state == BackgroundDecision.State.FAILED:
        return BACKGROUND_FAILED.format(doing=doing, since=since), messages.ERROR
    message = BACKGROUND_ENDED.format(
        doing=doing, changed=counted("comment", decision.changed), done=DONE[decision.target]
    )
    if decision.already:
        verb = "was" if decision.already == 1 else "were"
        message += f" {counted('comment', decision.already)} already {verb}."
    if decision.hidden:
        message += NOT_SHOWN_YET[decision.hidden > 1].format(f"{decision.hidden:,}")
    if decision.left:
        message += " " + LEFT_AS_THEY_ARE[decision.left > 1].format(f"{decision.left:,}")
        return message, messages.WARNING
    return message, messages.SUCCESS


@receiver(user_logged_in, dispatch_uid="comments.background_decisions_at_sign_in")
def decisions_to_tell_at_sign_in(sender, request, user, **kwargs):
    """The moderator's decisions taken in the background that they have not been told the
    end of, in the session they sign in to, for its first look at the list: the session that
    took one may have ended, been signed out of, or be in another browser. One query per
    sign-in, none on the lists.

    Told once, by the first list to tell it, in whichever browser: the row goes then, and
    a session still listing it drops it quietly. One told as stopped is not told again; one
    older than services.BACKGROUND_DECISIONS_KEPT is as good as deleted (the next decision
    queued deletes it). Told on the list, which someone no longer allowed to see comments
    does not get to: theirs waits, until they may again or the row is deleted."""
    waiting = list(
        BackgroundDecision.objects.filter(
            moderator=user,
            told_as_stopped=False,
            queued_at__gte=timezone.now() - services.BACKGROUND_DECISIONS_KEPT,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if waiting:
        request.session[BACKGROUND_DECISIONS] = waiting


def status_badge(comment):
    return format_html(
        '<span class="comment-status comment-status-{}">{}</span>',
        comment.status,
        comment.get_status_display(),
    )


def not_shown_because(comment):
    """Why an approved comment is not on readers' pages, or None when it is (or when it is
    not approved: no reader sees those). Needs `comment.under_withheld`, read for a whole
    list of comments at once (thread.under_withheld); without it, None."""
    if comment.status != Comment.Status.APPROVED or not hasattr(comment, "under_withheld"):
        return None
    if comment.under_withheld:
        return "a comment above it is withheld"
    if not comment.article.is_public:
        return "the article is not published"
    return None


def status_with_note(comment):
    """The status badge, and for an approved comment readers cannot see, why not: the
    status alone told staff it was on the page."""
    badge = status_badge(comment)
    if reason := not_shown_because(comment):
        return format_html(
            '{} <span class="comment-status-note">Not shown to readers: {}.</span>', badge, reason
        )
    return badge


def hidden_because(comment):
    """Why readers cannot see this approved comment, or None: its own page's reason."""
    if not comment.article.is_public:
        return "the article is not published"
    if above := withheld_above(comment):
        return f"a comment above it is {above.get_status_display().lower()}"
    return None


def comment_counts(articles):
    """Each article's number of comments, whatever their status, by its id (none if it has
    none): one GROUP BY per IDS_PER_QUERY articles, not a count per article."""
    counts = {}
    for lot in batched([article.pk for article in articles], IDS_PER_QUERY):
        counts.update(
            Comment.objects.filter(article__in=lot)
            .order_by()
            .values_list("article")
            .annotate(count=Count("pk"))
        )
    return counts


def replies_below(comment_ids, *fields):
    """What deleting these comments takes with them (their replies, and theirs:
    on_delete=CASCADE), a level at a time: each level a list of comments read with `fields`,
    IDS_PER_QUERY parents per query, none of those given."""
    seen = set(comment_ids)
    above = sorted(seen)
    while above:
        level = [
            reply
            for ids in batched(above, IDS_PER_QUERY)
            for reply in Comment.objects.filter(parent__in=ids).only("id", *fields).order_by("pk")
            if reply.pk not in seen
        ]
        if not level:
            return
        yield level
        above = [reply.pk for reply in level]
        seen.update(above)


def with_replies_up_to(comments, most):
    """How many comments deleting these takes, their replies and theirs included, counted
    a level at a time (replies_below), and no further once past `most`."""
    count = comments.count()
    if count <= most:
        for level in replies_below(comments.values_list("pk", flat=True)):
            count += len(level)
            if count > most:
                break
    return count


def withheld_above(comment):
    """The nearest comment above this one that readers cannot see, or None; read once per
    comment (the change page asks twice)."""
    if not hasattr(comment, "_withheld_above"):
        comment._withheld_above = next(
            (c for c in ancestors(comment) if c.status != Comment.Status.APPROVED), None
        )
    return comment._withheld_above


def status_counts(request):
    """Comments per status, read once for the page: the status filter shows them, and the
    list of one status is as long as they say (CommentAdmin.get_paginator)."""
    if not hasattr(request, "_comment_status_counts"):
        request._comment_status_counts = comments_cache.status_counts()
    return request._comment_status_counts


class StatusFilter(admin.SimpleListFilter):
    """Opens on the pending queue; "All" shows everything. Each choice shows its count.

    A search looks through every status unless a status is picked: a moderator who looks
    up a commenter's address wants all their comments, not "0 comments" because none of
    them waits in the queue."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def __init__(self, request, params, model, model_admin):
        self.unpicked = self.opens_on(request)
        super().__init__(request, params, model, model_admin)

    @classmethod
    def opens_on(cls, request):
        """The status shown when none is picked: the list's order follows it too."""
        return cls.ALL if request.GET.get(SEARCH_VAR, "").strip() else Comment.Status.PENDING

    def lookups(self, request, model_admin):
        counts = status_counts(request)
        self.total = sum(counts.values())
        return [
            (value, f"{label} ({counts.get(value, 0)})") for value, label in Comment.Status.choices
        ]

    def value(self):
        return super().value() or self.unpicked

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ALL:
            return queryset
        if value in Comment.Status.values:
            return queryset.filter(status=value)
        return queryset.none()

    def choices(self, changelist):
        value = self.value()
        yield {
            "selected": value == self.ALL,
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": f"All ({self.total})",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class ArticleFilter(admin.SimpleListFilter):
    """The article a list is narrowed to by the links on the article admin (its pending
    column, its comments' counts): named among the filters, with "All" to widen the list
    again. It offers no list of every article, of which a site may have a hundred thousand:
    without an article picked, it is not shown. The list said nothing of it before, and a
    moderator took it for the whole queue."""

    title = "article"
    parameter_name = "article__id__exact"  # the links' own, as Django's field lookup

    def lookups(self, request, model_admin):
        value = self.value()
        if not (value and value.isdecimal()):
            return []
        titles = Article.objects.filter(pk=value).values_list("title", flat=True)
        return [(value, in_bdi(title)) for title in titles]

    def queryset(self, request, queryset):
        if self.value() is not None:
            return queryset.filter(article__id__exact=self.value())
        return queryset


def looks_like_address_start(term):
    if IPV4_START.fullmatch(term):
        return True
    return (
        bool(IPV6_START.fullmatch(term))
        and any(character.isdigit() for character in term)
        and (term.endswith(":") or "::" in term or not term.replace(":", "").isdecimal())
    )


def ipv6_starts(term):
    """The groups an IPv6 address must start with to start as `term` does: one list for each
    number of zero groups its "::" may stand for ("fe80::5:" is fe80:0:5:, fe80:0:0:5:, ...),
    the last group cut short unless a colon follows it; "::" at the end is a zero group."""
    head, double_colon, tail = term.lower().partition("::")
    if "::" in tail:
        return []
    before = head.split(":")
    after = tail.split(":") if tail else []
    if double_colon:
        after = ["0", *after[:-1]] if term.endswith(":") and after else ["0", *after]
    elif term.endswith(":"):
        before = before[:-1]
    # Eight groups in all, and one more after a colon at the end.
    most = 7 if term.endswith(":") and not term.endswith("::") else 8
    runs = range(most) if double_colon and tail else [0]
    starts = [[*before, *["0"] * zeros, *after] for zeros in runs]
    return [
        start
        for start in starts
        if len(start) <= most and all(HEXTET.fullmatch(group) for group in start)
    ]


def ipv6_ranges(term):
    """The first and last address of each block of addresses that start as `term` does,
    as integers: a group cut short ("2001:db8:a") is any group written so ("a", "a0" to
    "af", ... "a000" to "afff")."""
    ranges = []
    whole = term.endswith(":")
    for groups in ipv6_starts(term):
        *complete, last = groups
        cut_short = [] if whole or last == "0" else range(1, 5 - len(last))
        for spare_digits in [0, *cut_short]:
            first = int(last, 16) << 4 * spare_digits
            values = [int(group, 16) for group in complete]
            free_bits = 16 * (8 - len(groups))
            low = sum(v << 16 * (7 - i) for i, v in enumerate(values)) | first << free_bits
            span = (1 << 4 * spare_digits + free_bits) - 1
            ranges.append((low, low | span))
    return ranges


def ipv6_pattern(term):
    """A regular expression matching each way an address that starts as `term` does can be
    written (a run of two zero groups or more as "::", as Python writes them to store)."""
    whole = term.endswith(":")
    alternatives = []
    for groups in ipv6_starts(term):
        patterns = [*groups, *["[0-9a-f]{1,4}"] * (8 - len(groups))]
        if not whole and groups[-1] != "0":
            patterns[len(groups) - 1] += f"[0-9a-f]{{0,{4 - len(groups[-1])}}}"
        zero = [p == "0" or p.startswith("[") for p in patterns]
        alternatives.append(":".join(patterns))
        for start in range(8):
            for end in range(start + 2, 9):
                if all(zero[start:end]):
                    alternatives.append(f"{':'.join(patterns[:start])}::{':'.join(patterns[end:])}")
    return f"^(?:{'|'.join(alternatives)})$" if alternatives else None


class CommentForm(StalePageGuard, forms.ModelForm):
    """A moderator's edit of the text, guarded against a stale page (StalePageGuard): a text
    changed since (another moderator's fix, an erasure) is not written over unseen. Its
    version is a digest of the text; the same text sent twice undoes nothing."""

    version_field = "text_shown"
    text_shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def version(self, stored):
        return hashlib.sha256(stored.body.encode()).hexdigest()

    def would_undo(self, stored):
        return stored.body != self.cleaned_data.get("body")

    def stale_message(self, stored):
        return EDITED_MEANWHILE


class WrittenByTheCommenter:
    """The columns and fields a commenter wrote, each in <bdi>, with the writing direction of
    its own text: an Arabic or Hebrew name or comment was laid out left to right, its
    punctuation at the wrong end, and one ending in a right-to-left override turned around
    what followed it (the excerpt's "…")."""

    @admin.display(description="comment")
    def excerpt(self, comment):
        return in_bdi(Truncator(comment.body).words(EXCERPT_WORDS))

    @admin.display(description="name", ordering="name")
    def commenter_name(self, comment):
        return in_bdi(comment.name)

    @admin.display(description="email", ordering="email")
    def commenter_email(self, comment):
        return in_bdi(comment.email)


@admin.register(Comment)
class CommentAdmin(
    WrittenByTheCommenter, StalePageAdminMixin, HandMadeRequestsMixin, admin.ModelAdmin
):
    form = CommentForm
    delete_confirmation_max_display = DELETE_PAGE_ITEMS  # a comment's replies go with it
    # What decides a row comes first: on a phone the rest scrolls off to the right.
    list_display = [
        "excerpt",
        "quick_actions",
        "status_badge",
        "held_reason",
        "article_link",
        "commenter_name",
        "commenter_email",
        "website",
        "ip_address",
        "created_at",
    ]
    list_display_links = ["excerpt"]
    list_select_related = ["article"]
    list_filter = [StatusFilter, ArticleFilter, "article__section", "created_at"]
    search_fields = ["name", "email", "body", "ip_address"]
    search_help_text = (
        "Name, text or part of an email address; a whole email or IP address finds that "
        "commenter's comments at once, and the start of an IP address (192.168.) those "
        "sent from the addresses that start so."
    )
    date_hierarchy = "created_at"
    list_per_page = 100
    # "All (n)" in the status filter already says it; counting a million rows again costs
    # 50 to 140 ms on every filtered page.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # the status filter always shows its counts
    actions = [
        "delete_selected",
        "approve_selected",
        "unapprove_selected",
        "reject_selected",
        "mark_selected_as_spam",
        "export_commenter_data",
        "erase_commenter_data",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "article_link",
                    "in_reply_to",
                    "commenter_name",
                    "commenter_email",
                    "website",
                    "body",
                    "text_shown",  # hidden: CommentForm
                ]
            },
        ),
        (
            "Moderation",
            {
                "fields": [
                    "status_badge",
                    "shown_to_readers",
                    "held_reason",
                    "created_at",
                    "moderator",
                    "moderated_at",
                    "moderation_history",
                ]
            },
        ),
        ("Thread", {"fields": ["thread"]}),
        ("Connection", {"fields": ["ip_address", "user_agent", "notify_on_publish"]}),
    ]
    # A moderator's edit is held to the rules the reader's text met (comments/forms.py): the
    # same limit, counted as the browser counts it.
    formfield_overrides = {models.TextField: {"form_class": BodyField}}
    readonly_fields = [
        "article_link",
        "in_reply_to",
        "commenter_name",
        "commenter_email",
        "website",
        "status_badge",
        "shown_to_readers",
        "held_reason",
        "created_at",
        "moderator",
        "moderated_at",
        "moderation_history",
        "thread",
        "ip_address",
        "user_agent",
        "notify_on_publish",
    ]

    # Permissions ------------------------------------------------------------------------

    def has_add_permission(self, request):
        return False  # comments come from readers, through the form under each article

    def has_moderate_permission(self, request):
        return request.user.has_perm("comments.moderate_comment")

    def get_queryset(self, request):
        """Each comment knows whether this user may see its article (an article withdrawn
        since keeps its comments, and they still await decisions): a moderator decides on
        them without learning the article's headline, from its title or its address."""
        article = Article.objects.visible_to(request.user).filter(pk=OuterRef("article_id"))
        return super().get_queryset(request).annotate(article_visible=Exists(article))

    def get_view_on_site_url(self, obj=None):
        if obj is not None and (not obj.article_visible or withheld_above(obj)):
            return None
        return super().get_view_on_site_url(obj)

    def get_list_display(self, request):
        if self.has_moderate_permission(request):
            return self.list_display
        return [column for column in self.list_display if column != "quick_actions"]

    def get_ordering(self, request):
        """The queue is worked oldest first; every other list opens on the newest comments,
        the ones a moderator looks for there (at a million comments, a last page reached
        through OFFSET takes seconds)."""
        status = request.GET.get(StatusFilter.parameter_name) or StatusFilter.opens_on(request)
        if status == Comment.Status.PENDING:
            return ["created_at", "id"]
        return ["-created_at", "-id"]

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        """A list of every comment, or of one status but pending, is as long as the status
        filter says, from the counts it has just read: Django counted it again on every
        page (all or nearly all of a million comments, for "All" or "Approved").

        The queue itself is still counted, from its index: it is short, and it is the
        list that must never miss a comment. The others list the newest first, so a count
        that lags behind a write the counts did not hear of (they are cached for a minute
        with Redis, and cleared when comments are sent, decided, edited or deleted, or an
        article deleted with its comments) could only cut the oldest comment off their
        last page, or leave it short, for that minute."""
        paginator = super().get_paginator(
            request,
            queryset,
            per_page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )
        filtered_by = set(request.GET).difference(IGNORED_PARAMS, [PAGE_VAR, ERROR_FLAG])
        status = request.GET.get(StatusFilter.parameter_name) or StatusFilter.opens_on(request)
        if (
            filtered_by <= {StatusFilter.parameter_name}
            and not request.GET.get(SEARCH_VAR, "").strip()
            and status != Comment.Status.PENDING
        ):
            counts = status_counts(request)
            paginator.count = (
                sum(counts.values()) if status == StatusFilter.ALL else counts.get(status, 0)
            )
        return paginator

    def changelist_view(self, request, extra_context=None):
        """Each approved reply listed learns whether a comment above it is withheld, from
        one query for the page (status_badge), and a short search says what it looked for.
        Only a page that shows the list does either: an action's request, which does not
        (it redirects to the list), never reads the page's rows nor queues the notice."""
        response = super().changelist_view(request, extra_context)
        if request.method == "POST" and response.get("Location") == request.get_full_path():
            # An action's outcome (Django's redirect back to the list): the focus goes to
            # the messages, and the address loses a row decision's #decide-<row>, which the
            # browser kept, and which left the focus on the page's body, or on a row the
            # moderator had not chosen. The outcome may warn of rows left as they were.
            response["Location"] += f"#{DECISION_OUTCOME_ID}"
            return response
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is None:
            return response
        if name := getattr(request, "short_search_name", None):
            messages.info(request, SHORT_SEARCH.format(term=isolated(name)))  # once, with the list
        self.tell_background_decisions(request)
        comments = list(changelist.result_list)
        hidden = under_withheld(
            [c.pk for c in comments if c.status == Comment.Status.APPROVED and c.parent_id]
        )
        for comment in comments:
            comment.under_withheld = comment.pk in hidden
        # Where the work goes on after a row's decision (quick_actions): the next row, and
        # after the last one the row above it (a row alone has none: strict=False).
        for comment, row_after in zip(comments, [*comments[1:], *comments[-2:-1]], strict=False):
            comment.row_after = row_after.pk
        # The row a decision has just led back to, whose first button the messages describe.
        focused = {
            message.extra_tags.removeprefix(FOCUSED_ROW_TAG)
            for message in messages.get_messages(request)
            if message.extra_tags.startswith(FOCUSED_ROW_TAG)
        }
        for comment in comments:
            comment.decision_outcome_shown = str(comment.pk) in focused
        return response

    def tell_background_decisions(self, request):
        """How the moderator's decisions taken in the background went, once each has ended
        (or failed); one still running says so, unless the page announcing it already does.
        Nothing to read on a page but theirs, and only while they have one to hear of."""
        waiting = request.session.get(BACKGROUND_DECISIONS)
        if not waiting:
            return
        announced = {
            message.extra_tags.removeprefix(BACKGROUND_DECISION_TAG)
            for message in messages.get_messages(request)
            if message.extra_tags.startswith(BACKGROUND_DECISION_TAG)
        }
        decisions = BackgroundDecision.objects.filter(
            pk__in=waiting, moderator=request.user, told_as_stopped=False
        ).order_by("pk")
        running, ended, stopped = [], [], []
        for decision in decisions:
            # Where the queue keeps its task: for where one still running stands, and since
            # when it has been taken, which one ended needs no more.
            task = (
                None
                if decision.state == BackgroundDecision.State.ENDED
                else services.queued_task(decision)
            )
            state = background_state(decision, task)
            if state in (BackgroundDecision.State.ENDED, BackgroundDecision.State.FAILED):
                ended.append(decision.pk)
            elif state == STOPPED:
                stopped.append(decision.pk)
            else:
                running.append(decision.pk)
                if str(decision.pk) in announced:
                    continue
            self.message_user(request, *background_outcome(decision, state, task))
        # One told it was stopped keeps its row: a worker that was only late still takes it
        # (until services.moderate_later deletes the row, weeks later). It is marked, so that
        # neither signing in again nor another browser tells it again. One no longer there
        # (deleted so, or told in another browser) is only dropped from this session.
        if ended:
            BackgroundDecision.objects.filter(pk__in=ended).delete()
        if stopped:
            BackgroundDecision.objects.filter(pk__in=stopped).update(told_as_stopped=True)
        if running != waiting:  # a session left as it was is not written again
            request.session[BACKGROUND_DECISIONS] = running

    # Search -----------------------------------------------------------------------------

    def get_search_results(self, request, queryset, search_term):
        """A whole email or IP address is looked up through its index, the start of an
        address ("192.168.") among the addresses that start so, from the trigram index
        (which reads them as Django's istartswith writes them); a search without a word
        the trigram index can serve as a commenter's whole name (see SHORT_SEARCH);
        anything else is searched for in every field, from the trigram index."""
        # Without the isolates a name copied from a heading or a message brings (a double
        # click on it selects the one after it): pasted, they found no one.
        term = search_term.strip().strip(ISOLATES).strip()
        if WHOLE_EMAIL.fullmatch(term):
            return queryset.by_email(term), False
        try:
            address = ipaddress.ip_address(term)
        except ValueError:
            pass
        else:
            # "2001:db8::" is an address, and the start of the network it opens: the start.
            if not (term.endswith("::") and looks_like_address_start(term)):
                return queryset.filter(ip_address=str(address)), False
        if looks_like_address_start(term):
            # Not as a name ("10.0." has no three digits in a row) nor anywhere in the text.
            start = LEADING_ZEROS.sub("", term)
            if ":" in start:
                return self.ipv6_start_results(queryset, start), False
            return queryset.filter(ip_address__istartswith=start), False
        words = [unquote_search_word(word) for word in smart_split(term)]
        if words and not any(INDEXED_WORD.search(word) for word in words):
            # "Al", "AI", "J K": a name, as whole, is read from the same index.
            name = " ".join(words)
            longest = Comment._meta.get_field("name").max_length
            # Told by the page that shows the list (changelist_view): an action's request
            # reads the list twice, then redirects to it.
            request.short_search_name = Truncator(name).chars(longest)
            if len(name) > longest:  # a hand-made search ("a b a b ..."): nobody's name
                return queryset.none(), False
            return queryset.filter(name__iexact=name), False
        return super().get_search_results(request, queryset, term)

    @staticmethod
    def ipv6_start_results(queryset, start):
        """The comments from the IPv6 addresses that start as `start` does, compared as
        addresses: an address is stored as Python writes it ("2001:db8::1"), which the same
        start written otherwise ("2001:db8:0:") did not begin.

        PostgreSQL stores the address itself (inet), and reads each block of addresses from
        their index (comment_ip_idx); SQLite stores its text, and reads every comment."""
        if connections[queryset.db].vendor == "postgresql":
            blocks = [
                Q(ip_address__gte=str(ipaddress.IPv6Address(first)))
                & Q(ip_address__lte=str(ipaddress.IPv6Address(last)))
                for first, last in ipv6_ranges(start)
            ]
            return queryset.filter(reduce(operator.or_, blocks)) if blocks else queryset.none()
        pattern = ipv6_pattern(start)
        return queryset.filter(ip_address__regex=pattern) if pattern else queryset.none()

    # Columns and fields -----------------------------------------------------------------

    @admin.display(description="article", ordering="article__title")
    def article_link(self, comment):
        if not comment.article_visible:
            return HIDDEN_ARTICLE
        return format_html(
            '<a href="{}">{}</a>', comment.article.get_absolute_url(), in_bdi(comment.article.title)
        )

    @admin.display(description="website")
    def website(self, comment):
        if not comment.url:
            return ""
        if not website_is_linkable(comment.url):
            return in_bdi(comment.url)  # for the moderator to read, not to follow
        return format_html(
            '<a href="{}" rel="nofollow noopener">{}</a>', comment.url, in_bdi(comment.url)
        )

    @admin.display(description="status", ordering="status")
    def status_badge(self, comment):
        """In the list (changelist_view), an approved comment readers cannot see says so:
        its status alone told a moderator it was on the page. Its own page says why, with
        the comment above that hides it (shown_to_readers)."""
        return status_with_note(comment)

    @admin.display(description="on the site")
    def shown_to_readers(self, comment):
        """Approved is not always shown: build_thread leaves out a comment under a withheld
        one, and the status alone told a moderator it was on the page."""
        if comment.status != Comment.Status.APPROVED:
            return "Not shown to readers."
        if not comment.article.is_public:
            return "Not shown to readers: the article is not published."
        if above := withheld_above(comment):
            return format_html(
                'Not shown to readers: <a href="{}">a comment above it</a> is {}. Approving '
                "that one shows this one again.",
                reverse("admin:comments_comment_change", args=[above.pk]),
                above.get_status_display().lower(),
            )
        return "Shown to readers."

    def action_checkbox(self, comment):
        """The row's checkbox, and the status the row shows, sent with it (statuses_shown).

        Django's checkbox sends only the id: on "All" or a search, a moderator's "Approve
        selected" published a comment another moderator had marked as spam since the page
        was shown."""
        return format_html(
            '{}<input type="hidden" name="{}" value="{}:{}">',
            super().action_checkbox(comment),
            STATUS_SHOWN,
            comment.pk,
            comment.status,
        )

    @admin.display(description="quick decision")
    def quick_actions(self, comment):
        """Buttons that submit the page's one decision form (see change_list.html), each
        naming its comment for screen readers: a row's buttons are read without the row.

        The first has an id, the address a decision on the row before it leads back to
        (decide_view's `then`): the list came back with the focus at the top of the page,
        and a moderator at the keyboard tabbed through the whole header for each comment.
        There, the messages describe it: a screen reader read the button alone, never what
        had just been decided."""
        then = getattr(comment, "row_after", None)
        names = [name for name in QUICK_DECISIONS if comment.status != DECISIONS[name].target]
        first_button = format_html(' id="{}"', row_decisions_id(comment.pk))
        if getattr(comment, "decision_outcome_shown", False):
            first_button += format_html(' aria-describedby="{}"', DECISION_OUTCOME_ID)
        buttons = [
            format_html(
                '<button{} type="submit" form="comment-decision" formaction="{}{}" name="seen" '
                'value="{}" class="button comment-decision-{}" aria-label="{}: comment by {}">'
                "{}</button>",
                first_button if index == 0 else "",
                reverse("admin:comments_comment_decide", args=[comment.pk, name]),
                "" if then is None else f"?then={then}",
                comment.status,
                name,
                DECISIONS[name].label,
                isolated(comment.name),
                DECISIONS[name].label,
            )
            for index, name in enumerate(names)
        ]
        return format_html(
            '<span class="comment-decisions">{}</span>',
            format_html_join("", "{}", ((button,) for button in buttons)),
        )

    @admin.display(description="moderated by")
    def moderator(self, comment):
        """Who decided, by name, as in the history: Django links a foreign key to its admin
        page, which is the users' admin here, and moderators may not open it."""
        if comment.moderated_by is None:
            return self.get_empty_value_display()  # a read-only field shows None as "None"
        return comment.moderated_by.get_username()

    @admin.display(description="in reply to")
    def in_reply_to(self, comment):
        if comment.parent_id is None:
            return "—"
        parent = comment.parent
        # Isolated, as in the thread: a name ending in a right-to-left override turned the
        # quote after it backwards.
        return format_html(
            '<a href="{}">{}</a>: {}',
            reverse("admin:comments_comment_change", args=[parent.pk]),
            in_bdi(parent.name),
            Truncator(parent.body).words(EXCERPT_WORDS * 2),
        )

    @admin.display(description="history")
    def moderation_history(self, comment):
        entries = (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Comment),
                object_id=str(comment.pk),
            )
            .select_related("user")
            .order_by("action_time")
        )
        return render_to_string(
            "admin/comments/comment/history.html", {"entries": entries, "comment": comment}
        )

    @admin.display(description="thread")
    def thread(self, comment):
        """The whole conversation this comment belongs to (whole_thread), nested up to
        THREAD_LEVELS_NESTED: a reply deeper than that is listed at the deepest level, in
        order, naming whom it answers. Each level nested is the template including itself
        again: two readers answering each other for weeks made a chain of replies as deep
        as their exchange, and at about 85 the page of any comment in it was a server
        error (Python's recursion limit)."""
        rows = whole_thread(comment)
        if not rows:  # deleted as the page was read
            return self.get_empty_value_display()
        # The first row starts the thread, and each reply follows the one it answers.
        first = nest(rows, max_depth=THREAD_LEVELS_NESTED)[0]
        return render_to_string(
            "admin/comments/comment/thread.html", {"comment": first, "current_id": comment.pk}
        )

    # Decisions --------------------------------------------------------------------------

    def selects_across(self, request):
        """Whether the action runs on "select all" across the pages, read as Django reads it
        (a hand-made "true" acts across the pages too)."""
        return self.action_form.base_fields["select_across"].to_python(
            request.POST.get("select_across")
        )

    def statuses_shown(self, request, comments):
        """The status each row of the list showed, by comment id, as the actions' form sent
        them (action_checkbox). For "select all" across the pages, which acts on what the
        list's filter and search select when it is run (it showed most of those comments
        to nobody), the status each had then: decided a chunk at a time, over seconds, a
        comment another moderator decides on meanwhile is left as they decided."""
        if self.selects_across(request):
            return {comment.pk: comment.status for comment in comments}
        shown = {}
        for value in request.POST.getlist(STATUS_SHOWN):
            comment_id, _, status = value.partition(":")
            if comment_id.isdecimal() and status in STATUSES:
                shown[int(comment_id)] = status
        return shown

    def _decide(self, request, queryset, name):
        decision = DECISIONS[name]
        # The list joins each comment's article to show its title; a decision does without,
        # and reads only what it needs, of each comment "select all" took (tens of
        # thousands, in a spam wave).
        comments = list(queryset.select_related(None).only(*services.DECISION_FIELDS))
        seen = self.statuses_shown(request, comments)
        if len(comments) > services.DECIDED_IN_THE_REQUEST:
            later = services.moderate_later(comments, decision.target, by=request.user, seen=seen)
            # Told at the moderator's next look at the list (tell_background_decisions).
            request.session[BACKGROUND_DECISIONS] = [
                *request.session.get(BACKGROUND_DECISIONS, []),
                later.pk,
            ]
            doing = decision.doing.format(counted("comment", len(comments)))
            self.message_user(
                request,
                IN_THE_BACKGROUND.format(doing=doing),
                messages.INFO,
                extra_tags=f"{BACKGROUND_DECISION_TAG}{later.pk}",
            )
            return
        changed = services.moderate_many(comments, decision.target, by=request.user, seen=seen)
        decided = sum(comment.status == decision.target for comment in comments)
        if self.selects_across(request):
            selected = len(comments)
        else:
            ticked = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
            selected = len(ticked)
            # Ticked rows that have left a list of one status for the one asked for (the
            # action sent again, from Back or another tab; another moderator's same
            # decision) already are as the moderator meant, as they are told on "All".
            gone = ticked.difference(str(comment.pk) for comment in comments)
            if gone:
                decided += Comment.objects.filter(pk__in=gone, status=decision.target).count()
        if decided:
            already = decided - changed
            verb = "was" if already == 1 else "were"
            if changed:
                message = f"{counted('comment', changed)} {decision.done}."
                if already:
                    message += f" {counted('comment', already)} already {verb}."
            else:  # not "0 comments approved. 2 comments already were."
                message = f"{counted('comment', already)} already {verb} {decision.done}."
            if decision.target == Comment.Status.APPROVED and (hidden := hidden_count(comments)):
                message += NOT_SHOWN_YET[hidden > 1].format(f"{hidden:,}")
            self.message_user(request, message, messages.SUCCESS if changed else messages.INFO)
        # A ticked row no longer as the page showed it is left as it is: one that has left a
        # list of one status for another, or, on "All" or a search, one decided on since;
        # after "select all", one decided on while the decision went through the others. A
        # moderator who ticked two and read "1 comment approved", or "0", was not told why.
        if left := selected - decided:
            self.message_user(
                request, LEFT_AS_THEY_ARE[left > 1].format(f"{left:,}"), messages.WARNING
            )

    @admin.action(description="Approve selected comments", permissions=["moderate"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, "approve")

    @admin.action(description="Unapprove (back to the queue)", permissions=["moderate"])
    def unapprove_selected(self, request, queryset):
        self._decide(request, queryset, "unapprove")

    @admin.action(description="Reject selected comments", permissions=["moderate"])
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, "reject")

    @admin.action(description="Mark selected comments as spam", permissions=["moderate"])
    def mark_selected_as_spam(self, request, queryset):
        self._decide(request, queryset, "spam")

    def get_urls(self):
        decide = self.admin_site.admin_view(self.decide_view)
        return [
            path(
                "<path:object_id>/decide/<slug:name>/",
                decide,
                name="comments_comment_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request, object_id, name):
        """One comment, one decision, then back to the page the moderator came from.

        Opened by its address, it decides nothing and leads to the comment's page: the
        sign-in page sends a moderator whose session ended there after their click, and
        an empty 405 page left them stranded."""
        if request.method == "GET":
            self.message_user(request, DECISION_NOT_TAKEN, messages.WARNING)
            return HttpResponseRedirect(reverse("admin:comments_comment_change", args=[object_id]))
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        if name not in DECISIONS:
            raise Http404("No such decision.")
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:comments_comment_changelist")
        comment = self.get_object(request, unquote(object_id))
        if comment is None:
            # Deleted since the page was shown (with its article, by an editor): a bare 404
            # page left the moderator with no way back to the queue.
            self.message_user(request, NO_LONGER_THERE, messages.WARNING)
            # Not redirect(): it reads a value without "/" or "." as a URL's name, and a
            # made-up one was a 500 after the decision was taken.
            return HttpResponseRedirect(next_url)
        taken, message, level = self.take_decision(request, comment, name)
        # Back to the work: the row the decided one's buttons named (quick_actions); when
        # nothing was decided, to this row, to decide again where it still shows.
        row = request.GET.get("then", "") if taken else str(comment.pk)
        if not row.isdecimal():
            self.message_user(request, message, level)
            return HttpResponseRedirect(next_url)
        # The browser puts the focus on the row's first button, with or without JavaScript,
        # and a screen reader reads that button: described by the message, it says what
        # was decided too (changelist_view).
        self.message_user(request, message, level, extra_tags=f"{FOCUSED_ROW_TAG}{row}")
        return HttpResponseRedirect(f"{next_url}#{row_decisions_id(row)}")

    def take_decision(self, request, comment, name):
        """The decision `name` on `comment`, against the status the moderator's page showed
        (its buttons send it): another moderator may have decided since, and their decision
        stands until this one is taken knowingly. Whether it was taken, and the message and
        its level that say what became of the comment."""
        decision = DECISIONS[name]
        seen = request.POST.get("seen")
        if decision.operation(comment, by=request.user, seen=seen if seen in STATUSES else None):
            message = f"{comment} {decision.done}."
            if decision.target == Comment.Status.APPROVED and (reason := hidden_because(comment)):
                # "Approved" alone read as "on the page"; the queue no longer lists it.
                message += f" Readers do not see it yet: {reason}."
            return True, message, messages.SUCCESS
        return False, *self.not_decided(comment, decision, request.user)

    @staticmethod
    def not_decided(comment, decision, user):
        """Why a decision changed nothing, for its message and level: the comment already
        was so, or someone decided (or deleted it) after the page was shown: another
        moderator, named, or this one in another window, who read their own name as if it
        were someone else's."""
        now = Comment.objects.select_related("moderated_by").filter(pk=comment.pk).first()
        if now is not None and now.status == decision.target:
            return (
                f"{comment} already was {decision.done}.",
                messages.INFO,
            )
        if now is None:
            done, by = "deleted", "someone else"
        elif now.moderated_by_id == user.pk:
            message = YOU_DECIDED_MEANWHILE.format(comment=comment, done=DONE[now.status])
            return message, messages.WARNING
        else:
            done = DONE[now.status]
            by = now.moderated_by.get_username() if now.moderated_by else "someone else"
        return DECIDED_MEANWHILE.format(comment=comment, done=done, by=by), messages.WARNING

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        if self.has_moderate_permission(request):
            extra_context["decisions"] = [
                (name, reverse("admin:comments_comment_decide", args=[object_id, name]), decision)
                for name, decision in DECISIONS.items()
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The comment's page, whose decision buttons send its form (change_form.html): a
        fix to the text typed above them is saved as Save saves it, then the decision is
        taken. A text the form refuses, or one changed by someone else since the page was
        shown, comes back as it does on Save, nothing decided. The buttons sent a form of
        their own: a moderator who took an address out of a comment, then clicked Approve,
        published it with the address, and read "approved".

        The decision is taken once the edit is committed, in transactions of its own, as
        on the list: the edit's lock on the comment, held until its commit, would otherwise
        come before the decision's lock on its article, the other way round from every
        other decision's, and two at once could wait for each other."""
        name = request.POST.get(DECIDE_ON_ITS_PAGE) if request.method == "POST" else None
        if name is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        if name not in DECISIONS:
            raise Http404("No such decision.")
        response = super().changeform_view(request, object_id, form_url, extra_context)
        comment = getattr(response, "comment_to_decide", None)
        if comment is not None:  # saved (response_change), not sent back to correct
            self.message_user(request, *self.take_decision(request, comment, name)[1:])
        return response

    def response_change(self, request, obj):
        if DECIDE_ON_ITS_PAGE not in request.POST:
            return super().response_change(request, obj)
        if obj.text_edited:
            self.message_user(request, TEXT_SAVED, messages.SUCCESS)
        response = HttpResponseRedirect(request.get_full_path())
        response.comment_to_decide = obj  # changeform_view takes the decision
        return response

    def log_change(self, request, obj, message):
        """Not for a decision taken on the comment's page without an edit, which logs
        itself: its form, sent with it, logged "No fields changed." beside it."""
        if not message and DECIDE_ON_ITS_PAGE in request.POST:
            return None
        return super().log_change(request, obj, message)

    # Edits keep caches right (deletions too: comments/signals.py) -----------------------

    def log_deletions(self, request, queryset):
        """Django's entry for each comment deleted, and one for each reply that goes with it
        (on_delete=CASCADE), which Django did not write: the log had their approvals, then
        nothing, as if they were still on the page. Read with the fields the entry shows."""
        entries = super().log_deletions(request, queryset)
        # Those selected too are left out: Django logged them.
        selected = [comment.pk for comment in queryset]
        replies = [reply for level in replies_below(selected, "name") for reply in level]
        if replies:
            LogEntry.objects.log_actions(
                user_id=request.user.pk,
                queryset=replies,
                action_flag=DELETION,
                change_message=REPLY_DELETED,
            )
        return entries

    def save_model(self, request, obj, form, change):
        obj.text_edited = "body" in form.changed_data
        if obj.text_edited:
            services.edit_body(obj, body=form.cleaned_data["body"])

    # Deletion ---------------------------------------------------------------------------

    def get_deleted_objects(self, objs, request):
        """What deleting these comments takes: each one, then every reply below it (and
        theirs) in one list under it, read a level at a time (replies_below). Django nests
        the list as deep as the replies go, a call within the last for each level (and its
        template as many again): under the first comment of a chain of 400 replies, two
        readers answering each other, the confirmation page was a server error. Nothing but
        its replies goes with a comment."""
        comments = list(objs)
        first_of = {comment.pk: comment.pk for comment in comments}
        below = defaultdict(list)
        for level in replies_below(list(first_of), "parent", "name"):
            for reply in level:
                first_of[reply.pk] = first_of[reply.parent_id]
                below[first_of[reply.pk]].append(reply)
        to_delete = []
        for comment in comments:
            to_delete.append(self.deleted_line(comment))
            if replies := below[comment.pk]:
                to_delete.append([self.deleted_line(reply) for reply in replies])
        may_delete = self.has_delete_permission(request)
        perms_needed = set() if may_delete else {self.opts.verbose_name}
        return to_delete, {self.opts.verbose_name_plural: len(first_of)}, perms_needed, []

    def deleted_line(self, comment):
        """A comment as Django lists it among what a deletion takes."""
        url = reverse(f"{self.admin_site.name}:comments_comment_change", args=[quote(comment.pk)])
        return format_html(
            '{}: <a href="{}">{}</a>', capfirst(self.opts.verbose_name), url, comment
        )

    @admin.action(permissions=["delete"], description=delete_selected.short_description)
    def delete_selected(self, request, queryset):
        """Django's, for as many comments as a request can take: its confirmation page read
        each comment one by one, and the deletion too (each sends its signals), 20,000 in
        9 s and 11 s on an idle server; past gunicorn's timeout the worker was killed in
        the middle, the deletion rolled back and the editor got an error page. The
        selection is counted first, on the confirmation and on the deletion alike, with the
        replies that go with it (a level at a time, until past the limit)."""
        most = services.DECIDED_IN_THE_REQUEST
        if with_replies_up_to(queryset, most) > most:
            self.message_user(
                request,
                TOO_MANY_TO_DELETE.format(count=f"{queryset.count():,}", most=f"{most:,}"),
                messages.ERROR,
            )
            return None
        return delete_selected(self, request, queryset)

    # Privacy requests -------------------------------------------------------------------

    def selected_commenters(self, request, queryset, *, most, too_many):
        """The selected comments' authors (commenters()); None, the moderator told why
        (`too_many`), when there are more than `most`, what one request can take."""
        commenters = queryset.commenters()
        if len(commenters) > most:
            message = too_many.format(count=f"{len(commenters):,}", most=f"{most:,}")
            self.message_user(request, message, messages.ERROR)
            return None
        return commenters

    @admin.action(
        description="Export all data of the selected comments' authors (JSON)",
        permissions=["delete"],
    )
    def export_commenter_data(self, request, queryset):
        """As many commenters as a request can take, as the erasure does (a stream would
        not help: a sync worker that takes longer than its timeout is killed all the same)."""
        commenters = self.selected_commenters(
            request, queryset, most=EXPORTED_IN_THE_REQUEST, too_many=TOO_MANY_TO_EXPORT
        )
        if commenters is None:
            return None
        response = JsonResponse(
            export_commenters_data(commenters, by=request.user),
            safe=False,
            json_dumps_params={"indent": 2, "ensure_ascii": False},
        )
        response["Content-Disposition"] = 'attachment; filename="commenter-data.json"'
        return response

    @admin.action(
        description="Erase all data of the selected comments' authors…", permissions=["delete"]
    )
    def erase_commenter_data(self, request, queryset):
        commenters = self.selected_commenters(
            request, queryset, most=ERASED_IN_THE_REQUEST, too_many=TOO_MANY_TO_ERASE
        )
        if commenters is None:
            return None
        emails = list(commenters.values())
        confirmed = request.POST.get("confirmed") == "yes"
        if confirmed and request.POST.get(LISTED_FOR_ERASURE) != erasure_listing(emails):
            self.message_user(request, SELECTION_CHANGED, messages.WARNING)
            confirmed = False
        if not confirmed:
            context = {
                "listed_name": LISTED_FOR_ERASURE,
                "listing": erasure_listing(emails),
                **self.admin_site.each_context(request),
                "title": "Erase commenter data?",
                "opts": self.opts,
                "emails": emails,
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                # "Select all" across the pages: the confirmation acts on what it listed.
                "select_across": request.POST.get("select_across", "0"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "keeps_text": settings.COMMENTS_ERASE_KEEPS_TEXT,
            }
            return TemplateResponse(
                request, "admin/comments/comment/erase_confirmation.html", context
            )
        erased = sum(erase_commenter_data(email, by=request.user) for email in emails)
        self.message_user(
            request,
            f"Anonymised {counted('comment', erased)} from {counted('commenter', len(emails))}.",
            messages.SUCCESS,
        )
        return None


def erasure_listing(emails):
    """The commenters an erasure's confirmation listed, in one field: a thousand addresses,
    one field each, would be past the number of fields a form may send."""
    return hashlib.sha256("\n".join(emails).encode()).hexdigest()


# The Article admin, with its comments ---------------------------------------------------
# `articles` knows nothing of comments, so the comments app extends the Article admin here.


class LatestCommentsFormSet(BaseInlineFormSet):
    """The newest comments only: an article with thousands would make its page unusable."""

    def get_queryset(self):
        """Read once: the formset indexes its queryset per form, and a slice not yet read
        would ask the database again for every comment (LIMIT 1 OFFSET n). Each approved
        reply learns whether a comment above it is withheld, in one query for them all, so
        that its status says what the moderators' list says (status_with_note)."""
        if not hasattr(self, "_latest"):
            latest = super().get_queryset().order_by("-created_at", "-pk")
            self._latest = latest[:LATEST_COMMENTS_ON_ARTICLE_PAGE]
            hidden = under_withheld(
                [c.pk for c in self._latest if c.status == Comment.Status.APPROVED and c.parent_id]
            )
            for comment in self._latest:
                comment.article = self.instance  # each row's title names it, from memory
                comment.under_withheld = comment.pk in hidden
        return self._latest

    def status_links(self):
        """How many of the article's comments are in each status, each linking to them in
        the moderators' list: one GROUP BY, read from `comment_thread_idx`."""
        if self.instance.pk is None:
            return []
        counts = dict(
            Comment.objects.filter(article=self.instance)
            .order_by()
            .values_list("status")
            .annotate(count=Count("pk"))
        )
        queue = reverse("admin:comments_comment_changelist")
        return [
            {
                "url": f"{queue}?article__id__exact={self.instance.pk}&status={value}",
                "count": counts[value],
                "label": label.lower(),
            }
            for value, label in Comment.Status.choices
            if counts.get(value)
        ]


class ArticleCommentInline(WrittenByTheCommenter, admin.TabularInline):
    """The article's latest comments, read-only: decisions are made in the comment admin,
    where the link under the table lists them all."""

    model = Comment
    formset = LatestCommentsFormSet
    template = "admin/comments/comment/article_inline.html"
    fields = ["excerpt", "commenter_name", "status_badge", "created_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    extra = 0
    verbose_name_plural = "latest comments"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_view_on_site_url(self, obj=None):
        """Only for a comment readers see: Django offered "View on site" on every row, held
        and spam comments included, which led to a page without them."""
        if obj is not None and (obj.status != Comment.Status.APPROVED or not_shown_because(obj)):
            return None
        return super().get_view_on_site_url(obj)

    @admin.display(description="status")
    def status_badge(self, comment):
        """As the moderators' list shows it, and for a held comment the rule that held it:
        a bare "Approved" told an editor the comment was on the page when it was not."""
        shown = status_with_note(comment)
        if comment.status == Comment.Status.PENDING and comment.held_reason:
            return format_html(
                '{} <span class="comment-status-note">Held: {}</span>', shown, comment.held_reason
            )
        return shown


class ArticlesWithoutTheirComments(NestedObjects):
    """Django's collector of what goes with the articles, stopping at their comments: those
    (with their replies, which are on the same article) are counted, not read one by one."""

    def related_objects(self, related_model, related_fields, objs):
        if related_model is Comment:
            return Comment.objects.none()
        return super().related_objects(related_model, related_fields, objs)


class CommentsGoing(NamedTuple):
    """An article's comments, as one line in the list of what its deletion takes."""

    article_id: int
    count: int


def comments_going_line(comments):
    return f"{capfirst(Comment._meta.verbose_name_plural)}: {comments.count:,}"


admin.site.unregister(Article)


@admin.register(Article)
class ArticleWithCommentsAdmin(ArticleAdmin):
    list_display = [*ArticleAdmin.list_display, "pending_comments"]
    inlines = [*ArticleAdmin.inlines, ArticleCommentInline]
    actions = [*ArticleAdmin.actions, "delete_selected"]

    @admin.action(permissions=["delete"], description=delete_selected.short_description)
    def delete_selected(self, request, queryset):
        """Django's, for as many articles and comments as a request can take, counted first
        on the confirmation and on the deletion alike, as the comments' own is."""
        articles = queryset.count()
        comments = Comment.objects.filter(article__in=queryset.values("pk")).count()
        most = DELETED_WITH_ARTICLES_IN_THE_REQUEST
        if articles + comments > most:
            message = TOO_MANY_ARTICLES_TO_DELETE.format(
                articles=counted("article", articles),
                comments=counted("comment", comments),
                most=f"{most:,}",
            )
            self.message_user(request, message, messages.ERROR)
            return None
        return delete_selected(self, request, queryset)

    def get_inlines(self, request, obj):
        """A new article has no comments: its form showed an empty table of them."""
        inlines = super().get_inlines(request, obj)
        if obj is None:
            return [inline for inline in inlines if inline is not ArticleCommentInline]
        return inlines

    def log_deletions(self, request, queryset):
        """Django's entry for each article, saying how many comments go with it: Django's
        said nothing of them. Counted in one GROUP BY per IDS_PER_QUERY articles; an entry
        per comment cost half a millisecond each, 10 s more for an article with 20,000."""
        articles = list(queryset)
        counts = comment_counts(articles)
        content_type = ContentType.objects.get_for_model(Article, for_concrete_model=False)
        return LogEntry.objects.bulk_create(
            LogEntry(
                user_id=request.user.pk,
                content_type_id=content_type.pk,
                object_id=article.pk,
                object_repr=str(article)[:200],
                action_flag=DELETION,
                change_message=ARTICLE_DELETED_WITH.format(counted("comment", counts[article.pk]))
                if counts.get(article.pk)
                else "",
            )
            for article in articles
        )

    def get_deleted_objects(self, objs, request):
        """What deleting the articles takes, as Django finds it, but with each article's
        comments as one line ("Comments: 5,000") and one figure in the summary.

        Django read every comment, and every reply again, and listed each: an article with
        5,000 comments took half a second and a page of 5,000 lines. Here they are counted
        in one GROUP BY (one more for each further IDS_PER_QUERY articles), whatever their
        number and depth. The permission check still holds: Django asks the comments' admin
        about each comment it lists, and that admin answers per model (it has no rule for
        one comment), so it is asked once.
        """
        collector = ArticlesWithoutTheirComments(using=router.db_for_write(Article), origin=objs)
        collector.collect(objs)
        articles = collector.edges.get(None, [])
        counts = comment_counts(articles)
        for article in articles:
            if counts.get(article.pk):
                collector.add_edge(article, CommentsGoing(article.pk, counts[article.pk]))
        perms_needed = set()
        if counts and not self.admin_site.get_model_admin(Comment).has_delete_permission(request):
            perms_needed.add(Comment._meta.verbose_name)

        def format_callback(obj):
            """As Django's (admin.utils.get_deleted_objects), and the comments' line."""
            if isinstance(obj, CommentsGoing):
                return comments_going_line(obj)
            opts = obj._meta
            no_edit_link = f"{capfirst(opts.verbose_name)}: {obj}"
            if not self.admin_site.is_registered(obj.__class__):
                return no_edit_link
            if not self.admin_site.get_model_admin(obj.__class__).has_delete_permission(
                request, obj
            ):
                perms_needed.add(opts.verbose_name)
            try:
                url = reverse(
                    f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                    args=[quote(obj.pk)],
                )
            except NoReverseMatch:
                return no_edit_link
            return format_html(
                '{}: <a href="{}">{}</a>',
                capfirst(opts.verbose_name),
                url,
                display_for_value(str(obj), EMPTY_VALUE_STRING),
            )

        to_delete = collector.nested(format_callback)
        protected = [format_callback(obj) for obj in collector.protected]
        model_count = {
            model._meta.verbose_name_plural: len(found)
            for model, found in collector.model_objs.items()
        }
        if counts:
            model_count[Comment._meta.verbose_name_plural] = f"{sum(counts.values()):,}"
        return to_delete, model_count, perms_needed, protected

    def get_queryset(self, request):
        """Each listed article's pending comments, counted in a subquery per row shown.

        A join with GROUP BY would count the comments of every article on each page, and the
        paginator's count and the date hierarchy would carry the join too (5 s for 100,000
        articles and a million comments); the subquery reads `comment_thread_idx` for the
        page's rows and leaves the other queries alone.
        """
        pending = (
            Comment.objects.pending()
            .filter(article=OuterRef("pk"))
            .order_by()
            .values("article")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(pending_comment_count=Coalesce(Subquery(pending), 0))
        )

    @admin.display(description="pending comments", ordering="pending_comment_count")
    def pending_comments(self, article):
        if not article.pending_comment_count:
            return 0
        queue = reverse("admin:comments_comment_changelist")
        return format_html(
            '<a href="{}?article__id__exact={}&amp;status=pending">{}</a>',
            queue,
            article.pk,
            article.pending_comment_count,
        )
