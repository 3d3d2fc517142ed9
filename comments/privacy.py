"""Privacy requests and data retention: export, erase, and forget old IPs and user agents."""

import re
from collections import defaultdict
from datetime import timedelta
from itertools import batched

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles.services import IDS_PER_QUERY
from comments import cache as comments_cache
from comments.models import (
    Comment,
    DeletedComment,
    commenter_digest,
    commenter_keys,
    deleted_comment_key_digests,
)

ERASED_NAME = "Anonymous"
ERASED_REPR = "Anonymised comment"
ERASED_BODY = "This comment was removed at the commenter's request."
# What a failed task's traceback says where it named their address.
ERASED_ADDRESS = "<erased address>"
ERASE_LOG_MESSAGE = "Erased the commenter's personal data at their request."
# On each of their comments, as the erasure's entry is: the log names the commenter only as
# their comments do, never by address.
EXPORT_LOG_MESSAGE = "Exported the commenter's data, with all their comments."
# Three parameters a commenter: their key's digests (deleted_comment_key_digests) and their
# address's old one.
DELETED_COMMENTERS_PER_QUERY = IDS_PER_QUERY // 3


def comments_by(email):
    return Comment.objects.by_email(email).select_related("article")


def export_commenter_data(email):
    """Everything stored about the commenter of this address, in any letter case, as
    JSON-ready data."""
    # Their comments, if any, share this key: by_email() matches them on it.
    [data] = export_commenters_data({commenter_keys([email])[email]: email})
    return data


def export_commenters_data(commenters, *, by=None):
    """Everything stored about each commenter ({key: address}, as commenters() gives them),
    as JSON-ready data, in that order; exported `by` a moderator, an entry in the action
    log on each of their comments (EXPORT_LOG_MESSAGE), as every other decision leaves.

    Read in two queries, and one more for each lot of deleted comments' commenters past the
    first (two for each took 2.5 to 3.7 ms a commenter): their comments are told apart by
    the key the database gives each one, their deleted comments by its digests
    (DeletedComment.objects.of_commenters, three parameters a commenter). A deleted
    comment from before that digest is in the file of each commenter its address's old
    digest matches: "ß" and "ss" share theirs."""
    exported_at = timezone.now().isoformat()
    comments = list(
        Comment.objects.by_commenters(list(commenters))
        .select_related("article")
        .order_by("created_at", "id")
    )
    if by is not None and comments:
        LogEntry.objects.log_actions(
            user_id=by.pk, queryset=comments, action_flag=CHANGE, change_message=EXPORT_LOG_MESSAGE
        )
    comments_of = defaultdict(list)
    for comment in comments:
        comments_of[comment.email_upper].append(
            {
                "id": comment.pk,
                "article": comment.article.title,
                "article_url": f"{settings.SITE_URL}{comment.article.get_absolute_url()}",
                "in_reply_to": comment.parent_id,
                "name": comment.name,
                "email": comment.email,
                "website": comment.url,
                "body": comment.body,
                "status": comment.status,
                "why_held": comment.held_reason,
                "email_when_published": comment.notify_on_publish,
                "created_at": comment.created_at.isoformat(),
                "ip_address": comment.ip_address,
                "user_agent": comment.user_agent,
            }
        )
    commenter_of_key = {
        digest: key
        for key, email in commenters.items()
        for digest in deleted_comment_key_digests(key, email)
    }
    commenters_of_old_digest = defaultdict(list)
    for key, email in commenters.items():
        commenters_of_old_digest[commenter_digest(email)].append(key)
    # A set: a note from before the key is found by each lot with a commenter of its old
    # digest, and a comment deleted before migration 0015, restored with its id and deleted
    # again has a note from before its key and one with it.
    deleted_of = defaultdict(set)
    for lot in batched(commenters.items(), DELETED_COMMENTERS_PER_QUERY):
        for key_digest, old_digest, comment_id in DeletedComment.objects.of_commenters(
            dict(lot)
        ).values_list("commenter_key", "commenter", "comment_id"):
            keys = (
                [commenter_of_key[key_digest]]
                if key_digest
                else commenters_of_old_digest[old_digest]
            )
            for key in keys:
                deleted_of[key].add(comment_id)
    return [
        {
            "email": email,
            "exported_at": exported_at,
            "comments": comments_of[key],
            # Gone from the site, but the action log's entries about them still name the
            # commenter (DeletedComment): data about them, until an erasure takes it out.
            "deleted_comments": sorted(deleted_of[key]),
        }
        for key, email in commenters.items()
    ]


def erase_commenter_data(email, *, by=None, keep_text=None):
    """Anonymise every comment from this address; returns how many.

    The comments stay (replies from others hang on them); the text goes too unless
    COMMENTS_ERASE_KEEPS_TEXT says to keep it. The admin log's entries about them, and
    about their comments deleted since, no longer name them (those deleted before
    DeletedComment kept their key's digest are found by the address's old digest: "ß" and
    "ss" find each other's); nor do failed emails' tasks. `by` records the decision in the
    admin log.
    """
    if keep_text is None:
        keep_text = settings.COMMENTS_ERASE_KEEPS_TEXT
    changes = {
        "name": ERASED_NAME,
        "email": "",
        "url": "",
        "ip_address": None,
        "user_agent": "",
        "notify_on_publish": False,
        # Nothing left to email: their unsubscribe links find nothing, and nothing ties the
        # anonymised comments to one another any more.
        "unsubscribe_key": "",
    }
    if not keep_text:
        changes["body"] = ERASED_BODY
    # Written by the address, not with a parameter for each comment: a bot's one address
    # can be on more comments than SQLite takes parameters in a statement.
    theirs = Comment.objects.by_email(email)
    deleted = DeletedComment.objects.of_commenters({commenter_keys([email])[email]: email})
    with transaction.atomic():
        comments = list(comments_by(email).select_for_update(of=("self",)))
        # Earlier log entries name the commenter in their description: scrub those too,
        # while the address still finds the comments, and those of their deleted comments,
        # which only the digest still ties to it.
        LogEntry.objects.filter(
            Q(object_id__in=theirs.values(text_id=Cast("pk", output_field=CharField())))
            | Q(object_id__in=deleted.values(text_id=Cast("comment_id", output_field=CharField()))),
            content_type=ContentType.objects.get_for_model(Comment),
        ).update(object_repr=ERASED_REPR)
        deleted.delete()
        forget_address_in_failed_tasks(email)
        if not comments:
            return 0
        theirs.update(**changes)
        comments_cache.held_comments_changed()
        if by is not None:
            for comment in comments:
                comment.name = ERASED_NAME  # the new entries' description must not name them
            LogEntry.objects.log_actions(
                user_id=by.pk,
                queryset=comments,
                action_flag=CHANGE,
                change_message=ERASE_LOG_MESSAGE,
            )
        # Only an approved comment was on readers' pages: erasing someone whose comments
        # all wait, or were rejected or marked spam, ends no cached page.
        if any(comment.status == Comment.Status.APPROVED for comment in comments):
            comments_cache.comments_changed()
    return len(comments)


def forget_address_in_failed_tasks(email):
    """The database queue keeps a failed task's whole traceback for superusers, and a mail
    server's refusal names the address it refused (notifications.py): written over there.
    Few rows (one per email that failed to them), read through the address itself."""
    failed = list(DBTaskResult.objects.filter(traceback__icontains=email).only("traceback"))
    # The whole address, not the end of another's ("nada@example.com" holds "ada@...") nor
    # the start ("ada@example.com.au"), wherever the refusal quotes it ('', <>, "").
    address = re.compile(rf"(?<![\w.+-]){re.escape(email)}(?![\w-]|\.\w)", re.IGNORECASE)
    for result in failed:
        result.traceback = address.sub(ERASED_ADDRESS, result.traceback)
    DBTaskResult.objects.bulk_update(failed, ["traceback"])


def clear_old_connection_data(days=None):
    """Forget the IP address and user agent of comments older than `days`; returns how many."""
    if days is None:
        days = settings.COMMENTS_IP_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    return (
        Comment.objects.filter(created_at__lt=cutoff)
        .exclude(ip_address__isnull=True, user_agent="")
        .update(ip_address=None, user_agent="")
    )
