"""Emails about comments, sent through Django's tasks framework after the commit.

Moderators hear about each comment held for moderation; a commenter who ticked "Email me
when my comment is published" hears once, when it is approved. A commenter's address is only
ever used to write to that commenter: it appears in no other email.

The tasks take ids, not objects, so they run the same on a real worker, and they re-read the
comment: by the time a worker gets to it, a moderator may already have decided.

A failed send fails the task: django.tasks records it (the task result's errors, with the
traceback), and newsroom.task_log logs it in one line with the task, the ids it was given and
the stack, but not the error's message, which may name the address a mail server refused. The
tasks add to the exception a note of which email failed, for which comment, which both the log
and the result show, rather than log a second traceback of their own.
"""

import email.policy
import logging
import math
import re
import textwrap
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from articles import page_cache
from articles.models import Article
from comments.models import UNSUBSCRIBE_KEY_MAX_LENGTH, Comment, PublicationAnnouncement
from comments.thread import ancestors, is_shown

logger = logging.getLogger(__name__)

# What links emailed before the unsubscribe keys were signed with (comment_for_token).
UNSUBSCRIBE_SALT = "comments.unsubscribe"
# A key as secrets.token_urlsafe writes it (URL-safe base64), within the column.
UNSUBSCRIBE_KEY_SHAPE = re.compile(rf"[A-Za-z0-9_-]{{1,{UNSUBSCRIBE_KEY_MAX_LENGTH}}}")
EXCERPT_LENGTH = 300
# With "> ", the 78 columns every mail reader shows on one line (RFC 5322's advice).
QUOTE_WIDTH = 76
SPACES = re.compile(r"\s+")
# What the moderators' email about a held comment shows, and its links need.
HELD_EMAIL_FIELDS = ("status", "name", "held_reason", "body", "article__title", "article__slug")


def quoted_excerpt(body):
    """The start of a comment as a mail quote, "> " before each line: a commenter's text
    written to look like the email's own lines ("Review it: <their link>") reads as theirs.
    Wrapped to fit a mail reader's window, which would otherwise wrap a long line after a
    run of spaces of the commenter's making, and start a line of theirs without the mark. A
    phone's narrower window still may: the email puts it after the site's own links."""
    excerpt = body[:EXCERPT_LENGTH] + ("…" if len(body) > EXCERPT_LENGTH else "")
    lines = (
        wrapped
        for line in excerpt.splitlines()
        # Each run of spaces (em spaces too, which textwrap takes for letters) as one: a
        # narrower window, a phone's, still wraps a line, but not where a run of them chose.
        for wrapped in textwrap.wrap(SPACES.sub(" ", line), QUOTE_WIDTH, break_on_hyphens=False)
        or [""]
    )
    return "\n".join(f"> {line}".rstrip() for line in lines)


def moderator_emails():
    """COMMENTS_MODERATOR_EMAILS, or else every active staff member who may moderate
    comments: a Moderator, an Editor, or one given the permission itself. Not a superuser
    for being one: administering the site is not moderating it, and a superuser who does
    joins a group. The permission is the ModelBackend's (axes' backend grants none)."""
    if settings.COMMENTS_MODERATOR_EMAILS:
        return list(settings.COMMENTS_MODERATOR_EMAILS)
    users = get_user_model().objects.with_perm(
        "comments.moderate_comment",
        is_active=True,
        include_superusers=False,
        backend="django.contrib.auth.backends.ModelBackend",
    )
    emails = users.filter(is_staff=True).exclude(email="").values_list("email", flat=True)
    return sorted(set(emails))


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def unsubscribe_token(comment):
    """The commenter's unsubscribe key (models.Comment.unsubscribe_key): one for all their
    comments, random, so the link reveals no address and survives the comment's deletion.
    Comments inserted around save() (demo rows) get it now, this one and its address's
    others alike: the link then outlives this one while any of theirs remains. Looked for
    first, so that an address with none writes nothing (a read-only database after a
    failover still sends)."""
    if not comment.has_unsubscribe_key():
        comment.unsubscribe_key = Comment.objects.unsubscribe_key_for(comment.email)
    keyless = Comment.objects.by_email(comment.email).filter(unsubscribe_key="")
    if keyless.exists():
        keyless.update(unsubscribe_key=comment.unsubscribe_key)
    return comment.unsubscribe_key


def comment_for_token(token):
    """A comment from the commenter an unsubscribe token stands for, or None: a forged or
    mangled token, or no comment of theirs left (all deleted, or their data erased).

    Links emailed before the keys named one comment, signed (`id:timestamp:signature`, the
    only form with a colon): they work while that comment is there and keeps its address,
    and need the key that signed them in DJANGO_SECRET_KEY_FALLBACKS."""
    if ":" not in token:
        if not UNSUBSCRIBE_KEY_SHAPE.fullmatch(token):  # a NUL would be a 500 on PostgreSQL
            return None
        # Any of the address's comments will do (the page needs its email): unordered, the
        # key's index gives one, where .first() sorted all the address ever sent.
        commenter = Comment.objects.filter(unsubscribe_key=token).exclude(email="").order_by()
        return next(iter(commenter[:1]), None)
    try:
        comment_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if type(comment_id) is not int:  # signed by the site, but not as unsubscribe_token signs
        return None
    return Comment.objects.filter(pk=comment_id).exclude(email="").first()


class OneClickUnsubscribeEmail(EmailMessage):
    """An email whose List-Unsubscribe header mail clients can read.

    Python's email package folds headers at 78 characters. The unsubscribe URL is longer and
    has no space to fold at, so it would go out as RFC 2047 encoded words, which a
    List-Unsubscribe URL may not be: Gmail, among others, then ignores the header and offers
    no unsubscribe button. It is set raw and goes out on one line, as given (RFC 5322 allows
    998 characters); the policy leaves raw headers alone, and only this one is set raw.
    """

    def message(self, *, policy=email.policy.default):
        message = super().message(policy=policy.clone(refold_source="none"))
        del message["List-Unsubscribe"]
        message.set_raw("List-Unsubscribe", self.extra_headers["List-Unsubscribe"])
        return message


def _render(name, context):
    subject = render_to_string(f"comments/email/{name}_subject.txt", context)
    body = render_to_string(f"comments/email/{name}_body.txt", context)
    return on_one_line(subject), body


def on_one_line(text):
    """`text` within a line of an email, each run of spaces and line breaks as one space: a
    commenter's name may hold runs of them, and the line and paragraph separators (U+2028,
    U+2029) the form takes, which mail clients break the line at; with them a name could
    write a line of its own into the email. What is stored stays as typed."""
    return " ".join(text.split())


@task
def notify_moderators_of_held_comment(comment_id):
    """Tell the moderators a comment waits for them, with links straight to it."""
    comment = (
        Comment.objects.select_related("article")
        .only(*HELD_EMAIL_FIELDS)  # not the article's body, twice over (Markdown and HTML)
        .filter(pk=comment_id)
        .first()
    )
    if comment is None or comment.status != Comment.Status.PENDING:
        return 0
    recipients = moderator_emails()
    if not recipients:
        logger.warning("Comment %s is held but no moderator address is configured.", comment_id)
        return 0
    context = {
        "comment": comment,
        "commenter_name": on_one_line(comment.name),
        "site_name": settings.SITE_NAME,
        "excerpt": quoted_excerpt(comment.body),
        "article_url": absolute(comment.article.get_absolute_url()),
        "change_url": absolute(reverse("admin:comments_comment_change", args=[comment.pk])),
        "queue_url": absolute(reverse("admin:comments_comment_changelist")),
    }
    subject, body = _render("held", context)
    # Bcc: moderators need not see one another's addresses either. To: names the site
    # itself, the sender, in the header only: the envelope (recipients()) is the Bcc list,
    # so no server is asked to deliver to it. Without a To: SpamAssassin adds
    # MISSING_HEADERS; "undisclosed-recipients:;" would feed its __TO_UNDISCLOSED rules.
    message = EmailMessage(
        subject=subject,
        body=body,
        bcc=recipients,
        headers={"To": settings.DEFAULT_FROM_EMAIL},
    )
    try:
        return message.send()
    except Exception as error:
        error.add_note(f"Could not email moderators about held comment {comment_id}.")
        raise


@task
def notify_commenter_of_approval(comment_id):
    """The one email a commenter asked for; afterwards the request counts as fulfilled.

    It says the comment is on the site, so it waits until readers can see it: approved
    under a withheld comment (or on an article not public), the comment is on no page and
    its link is a 404. The request stays open: approving the comment above sends it
    (services.moderate_many), and so does the article's publication (signals.py).
    """
    comment = Comment.objects.select_related("article").filter(pk=comment_id).first()
    if (
        comment is None
        or comment.status != Comment.Status.APPROVED
        or not comment.notify_on_publish
        or not comment.email
        or not comment.article.is_public
        or not is_shown(comment, ancestors(comment))
    ):
        return 0
    unsubscribe_url = absolute(
        reverse("comments:unsubscribe", kwargs={"token": unsubscribe_token(comment)})
    )
    context = {
        "comment": comment,
        "commenter_name": on_one_line(comment.name),
        "site_name": settings.SITE_NAME,
        "comment_url": absolute(comment.get_permalink()),
        "unsubscribe_url": unsubscribe_url,
    }
    subject, body = _render("approved", context)
    message = OneClickUnsubscribeEmail(
        subject=subject,
        body=body,
        to=[comment.email],
        headers={
            # RFC 8058: mail clients offer their own one-click unsubscribe button.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    try:
        sent = message.send()
    except Exception as error:
        error.add_note(f"Could not email the commenter about approved comment {comment_id}.")
        raise
    Comment.objects.filter(pk=comment.pk).update(notify_on_publish=False)
    return sent


def emails_owed_on(*article_ids):
    """The approved comments of the articles whose "published" email has not gone yet."""
    return list(
        Comment.objects.approved()
        .filter(article_id__in=article_ids, notify_on_publish=True)
        .values_list("pk", flat=True)
    )


def send_approval_emails_after_commit(comment_ids):
    """Queue each comment's "published" email once the decision is stored (at once outside
    a transaction); one that cannot be queued holds back none of the others."""
    for comment_id in comment_ids:
        transaction.on_commit(
            partial(notify_commenter_of_approval.enqueue, comment_id), robust=True
        )


@task
def notify_commenters_at_publication(*article_ids):
    """The "published" emails the articles' comments were approved into while readers could
    not see them, queued after the save that makes one public (signals.py), or once for all
    the drafts the list's "Publish" put live together. One rescheduled or unpublished since
    is not public yet, and sends nothing; the save that changed it has queued what is
    needed. Public now, it has no scheduled publication left to announce: a time it was
    scheduled for before would send again what failed today."""
    articles = Article.objects.filter(pk__in=article_ids).only("status", "published_at")
    public = [article.pk for article in articles if article.is_public]
    if not public:
        return 0
    PublicationAnnouncement.objects.filter(article_id__in=public).delete()
    owed = emails_owed_on(*public)
    send_approval_emails_after_commit(owed)
    return len(owed)


def claim_announcement(article_id):
    """Whether this caller is the one to announce the article's scheduled publication, now
    due: the database lets one DELETE take the row (PostgreSQL makes a second wait for the
    first to commit, then finds nothing; SQLite takes one writer at a time)."""
    due = PublicationAnnouncement.objects.filter(article_id=article_id, due_at__lte=timezone.now())
    deleted, _ = due.delete()
    return deleted == 1


@task
def notify_commenters_at_scheduled_publication(article_id):
    """The emails owed at an article's scheduled publication, by whoever claims it first: the
    database queue runs this at the publication time (signals.py), the default backend after
    the first request that comes after it (announce_due_publications). Unpublished since,
    the article is not public, and its claimed publication sends nothing."""
    if not claim_announcement(article_id):
        return 0
    return notify_commenters_at_publication.call(article_id)


# -- Publications due, with a backend that cannot run a task later ------------------------

# What this process knows of the next scheduled publication: the articles version it was
# read at, its time (infinity when there is none) and when it was read, as timestamps.
NOT_LOOKED = (None, 0.0, -math.inf)
_next_due = NOT_LOOKED
# The longest a process waits to look again after an article was saved (at most one look
# a minute, even while Redis is down and each read of the version gives a new one), and
# before it looks again after a look that did not finish (a task that failed, the database
# out of reach): one look at every request would log one failure each.
LOOK_AGAIN_SECONDS = 60


def publications_may_be_due():
    """Whether the request should look for publications due: without a query, as the page
    cache knows when its pages end (articles/page_cache.py). The time of the next one is
    kept in the process, with the articles version it was read at: any article saved or
    deleted since (scheduled, rescheduled, unpublished) bumps the version, in every
    process (a file or Redis, mirrored), and the process looks again, at most a minute
    later. The version itself is read at most once a minute too: every request, cached
    pages' included, passes here, and reading it (a file's date without Redis) cost a
    tenth of the floor's request. Until the look (announce_due_publications) sets the real
    time, it holds off for LOOK_AGAIN_SECONDS."""
    global _next_due
    seen_at, due, looked_at = _next_due
    now = timezone.now().timestamp()
    if now < due and now < looked_at + LOOK_AGAIN_SECONDS:
        return False
    version = page_cache.content_version(page_cache.ARTICLES_VERSION_KEY)
    if now < due and seen_at == version:
        _next_due = (seen_at, due, now)  # what it knows still holds: sure of it until now
        return False
    _next_due = (version, now + LOOK_AGAIN_SECONDS, now)
    return True


@task
def announce_due_publications():
    """WordPress's wp-cron, for the default backend, which cannot run a task at a given
    time: queued by the first request after a scheduled publication (middleware.py), it
    runs once the response is sent, claims each publication due and sends what it owes, and
    notes in the process when the next one is due. Several workers or servers may do so at
    once: only one claim of each publication is taken (claim_announcement)."""
    global _next_due
    version = page_cache.content_version(page_cache.ARTICLES_VERSION_KEY)
    now = timezone.now()
    looked_at = now.timestamp()
    announcements = PublicationAnnouncement.objects.order_by("due_at")
    due = list(announcements.filter(due_at__lte=now).values_list("article_id", flat=True))
    # Outside the request by now: each runs at once, and one that fails stops no other.
    results = [notify_commenters_at_scheduled_publication.enqueue(pk) for pk in due]
    following = announcements.filter(due_at__gt=now).values_list("due_at", flat=True).first()
    next_due = following.timestamp() if following else math.inf
    if any(result.status == TaskResultStatus.FAILED for result in results):
        # Its claim failed (the database went away): its row is still there, due.
        next_due = min(next_due, looked_at + LOOK_AGAIN_SECONDS)
    _next_due = (version, next_due, looked_at)
    return len(due)
