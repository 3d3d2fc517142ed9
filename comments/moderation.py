"""Submission rules beyond the captcha.

Each rule returns a reason (a short sentence for the moderator, stored in
`Comment.held_reason` or shown to the commenter when the comment is refused) or "" when the
rule has nothing to say.
"""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import ratelimit
from .models import Comment

LINK_PATTERN = re.compile(r"https?://|www\.", re.IGNORECASE)

PRE_MODERATION = "New comments wait for a moderator (pre-moderation)."
HONEYPOT_FILLED = "Spam trap: the hidden field was filled in."
DUPLICATE = "You have already said that."
PREVIOUSLY_APPROVED = "Auto-approved: this address already has an approved comment."
FLOODED = (
    "You have sent several comments in a short time. Please wait about {wait}, then send "
    "this one again."
)
EMAIL_FLOODED = (
    "Flood: more than {limit} comments under this email address within {minutes} minutes, "
    "from several IP addresses."
)


def flooded(wait_minutes):
    """FLOODED, with the wait said as people say it: "about a minute", "about 7 minutes",
    "about 24 hours"."""
    return FLOODED.format(wait=ratelimit.wait_in_words(wait_minutes))


def comments_open(article):
    """Readers may comment on a public article unless comments are off or it is too old."""
    if not (article.is_public and article.comments_enabled):
        return False
    closes_at = comments_close_at(article)
    return closes_at is None or timezone.now() < closes_at


def comments_close_at(article):
    """When a public article stops taking comments by age (COMMENTS_CLOSE_AFTER_DAYS), if it
    ever does."""
    days = settings.COMMENTS_CLOSE_AFTER_DAYS
    return article.published_at + datetime.timedelta(days=days) if days else None


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str


def honeypot_reason(value):
    return HONEYPOT_FILLED if value else ""


def blocklist_reason(*fields):
    """Blocklisted words (COMMENTS_BLOCKLIST) anywhere in what the commenter typed."""
    text = " ".join(fields).casefold()
    for word in settings.COMMENTS_BLOCKLIST:
        if word.casefold() in text:
            return f"Blocklisted word: {word}"
    return ""


def links_reason(body):
    """More than COMMENTS_MAX_LINKS links in the text is a common spam shape."""
    count = len(LINK_PATTERN.findall(body))
    if count > settings.COMMENTS_MAX_LINKS:
        return f"{count} links (more than {settings.COMMENTS_MAX_LINKS})"
    return ""


def sent_before(*, article, email, body, ip_address, own_comment_ids):
    """What the address's earlier comments say of a new one, in one query: the duplicate
    check's reason (or ""), the unsubscribe key the new comment joins (models.Comment.
    unsubscribe_key), and the commenter's key, which flood control counts them under.

    A duplicate is the same words under the same address on the same article, from the
    sender of the first: a second click, a form sent again. The sender is known by the IP
    address that sent the first, or by the browser that did (`own_comment_ids`: the signed
    cookie that lists the comments it sent for moderation), which still holds without an IP
    address (a proxy that sends none). Told to anyone else, it would confirm whose email
    address wrote a published comment, its words being public; and two readers' identical
    "Thanks!" are under two addresses. A copy from elsewhere waits for a moderator like any
    comment."""
    same_sender = Q(pk__in=own_comment_ids)
    if ip_address:
        same_sender |= Q(ip_address=ip_address)
    copies, unsubscribe_key, commenter = Comment.objects.sent_before(
        email, matching=Q(same_sender, article=article, body=body)
    )
    return (DUPLICATE if copies else ""), unsubscribe_key, commenter


def email_flood_reason(email_flooded):
    """Over the email's flood limit, from an IP address within its own (ratelimit.py): taken
    as spam, out of the queue, and answered as any comment, so that nobody learns from the
    answer that an address they typed commented recently. A moderator may still approve it."""
    if not email_flooded:
        return ""
    return EMAIL_FLOODED.format(
        limit=settings.COMMENTS_FLOOD_LIMIT,
        minutes=ratelimit.window_minutes(),
    )


def assess(*, name, email, url, body, honeypot, email_flooded=False):
    """The status and reason a new, otherwise valid comment is stored with."""
    if reason := (
        honeypot_reason(honeypot)
        or blocklist_reason(name, email, url, body)
        or email_flood_reason(email_flooded)
    ):
        return Verdict(Comment.Status.SPAM, reason)
    if reason := links_reason(body):
        return Verdict(Comment.Status.PENDING, reason)
    if previously_approved(email):
        return Verdict(Comment.Status.APPROVED, PREVIOUSLY_APPROVED)
    return Verdict(Comment.Status.PENDING, PRE_MODERATION)


def previously_approved(email):
    """WordPress's "previously approved" rule, when COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED
    is on: an address with an approved comment skips the queue. Anyone who knows a regular's
    address could use it, which is why it is off by default."""
    if not settings.COMMENTS_AUTO_APPROVE_PREVIOUSLY_APPROVED:
        return False
    return Comment.objects.approved().by_email(email).exists()
