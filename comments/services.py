"""Write-side operations on comments: storing a new one and every moderation decision.

`approve`, `unapprove`, `reject` and `mark_spam`, and `moderate_many` for the admin's bulk
actions (`moderate_later` for the largest), are the only code that changes a stored comment's
status. Each records who decided and when and writes an admin LogEntry; when a comment is
published or withdrawn it also recounts the article's visible comments and, after the
commit, makes cached pages stale.
Acting on a comment already in the requested state changes and logs nothing; so does a
decision taken on a page that showed the comment in a state another moderator has since
changed (`seen`).
"""

import logging
from collections import defaultdict
from datetime import timedelta
from functools import partial
from itertools import batched
from operator import attrgetter

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.tasks import task
from django.tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch
from django.utils import timezone

from articles.models import Article
from articles.services import IDS_PER_QUERY
from comments import cache as comments_cache
from comments import notifications
from comments.models import BackgroundDecision, Comment
from comments.thread import hidden_count, parents_first
from newsroom.advisory_locks import lock_texts_until_the_transaction_ends
from newsroom.control_characters import CONTROL_CHARACTER

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Moderation
# ---------------------------------------------------------------------------------------

# Comments decided in one transaction (moderate_many): a page of the list is one; each holds
# its articles' locks for a fraction of a second.
DECISION_CHUNK = 500
# A decision on more comments than this is taken in the background (moderate_later): "select
# all" over 40,000 takes 3 to 8 s on an idle server and over a minute on a busy one, past
# gunicorn's 30 s timeout: the moderator got an error page while the lots decided so far
# stayed decided. 2,000 take a fifth of a second here.
DECIDED_IN_THE_REQUEST = 2_000
# A BackgroundDecision is deleted once its moderator has been told how it ended
# (admin.CommentAdmin.tell_background_decisions), in the session that took it or one they
# signed in to since; one they are never told of (they did not look again, or were told it
# stopped) is deleted this long after it was queued, by the next one queued (moderate_later);
# a sign-in no longer tells it meanwhile. Longer than a session lasts (SESSION_COOKIE_AGE, two
# weeks): a moderator away for that long is still told when they come back.
BACKGROUND_DECISIONS_KEPT = timedelta(days=30)
# What a decision reads of each comment (the admin's "select all" reads tens of thousands):
# its article, to lock and recount, its parent, for what readers see, and its name, which
# the log entry shows.
DECISION_FIELDS = ["id", "article_id", "parent_id", "status", "name"]

# Why a decision taken in the background failed, when its moderator may no longer moderate
# (deactivated, or out of the Moderators group) before all its lots were decided: noted on
# its task's failure, which the task's line in the log and its result in the admin show.
MODERATOR_WITHDRAWN = (
    "Moderator %s's decision (%s) stopped after %s comments changed: they may no longer "
    "moderate. The rest are as they were."
)

LOG_MESSAGES = {
    Comment.Status.APPROVED: "Approved.",
    Comment.Status.PENDING: "Moved back to the moderation queue.",
    Comment.Status.REJECTED: "Rejected.",
    Comment.Status.SPAM: "Marked as spam.",
}


def approve(comment, *, by, seen=None):
    """Publish the comment, and with it any approved replies it was withholding."""
    return _moderate(comment, Comment.Status.APPROVED, by=by, seen=seen)


def unapprove(comment, *, by, seen=None):
    """Back to the queue: hidden, with its replies, until someone decides again."""
    return _moderate(comment, Comment.Status.PENDING, by=by, seen=seen)


def reject(comment, *, by, seen=None):
    return _moderate(comment, Comment.Status.REJECTED, by=by, seen=seen)


def mark_spam(comment, *, by, seen=None):
    return _moderate(comment, Comment.Status.SPAM, by=by, seen=seen)


def _moderate(comment, status, *, by, seen=None):
    """Move the comment to `status`; True if it changed, False if it was already there (or
    no longer `seen`)."""
    return moderate_many([comment], status, by=by, seen=seen) == 1


class ModeratorWithdrawn(Exception):
    """The moderator a decision is taken as may no longer moderate: `changed` comments were
    decided before that was found."""

    def __init__(self, changed):
        super().__init__(changed)
        self.changed = changed


def may_still_moderate(user):
    """Whether `user`, read again now, may still take decisions on comments: the copy a task
    holds (and its permission cache) dates from when it started."""
    fresh = get_user_model().objects.filter(pk=user.pk).first()
    return (
        fresh is not None
        and fresh.is_active
        and fresh.is_staff
        and fresh.has_perm("comments.moderate_comment")
    )


def moderate_many(comments, status, *, by, seen=None, while_allowed=False):
    """Move the comments to `status`, DECISION_CHUNK at a time; how many changed.

    `seen`, if given, is the status the moderator saw the comments in, or for a list that
    showed them in several, a mapping of each comment's id to its status there (a comment
    missing from it is decided as if it were not given): one another moderator has moved
    since is left as they decided. Two moderators work one queue: an Approve clicked on a
    page shown before the other marked the comment as spam published the spam. Each
    comment passed in is left with the status it has after the decision, changed or not,
    so that the caller can tell the moderator which ones were left and why.

    Each chunk is a transaction of its own, which locks its comments' articles until it
    commits: "select all" over 40,000 comments in one held them for over a minute, and the
    comment counts, readers' comments and other moderators' decisions on those articles
    waited that long. Within a chunk each article is locked and recounted once, and the log
    entries are written together, rather than all of it once per comment.

    `while_allowed` checks before each chunk that `by` may still moderate, and raises
    ModeratorWithdrawn when not: a decision taken in the background outlives the request
    that checked it, and deactivating a departing (or compromised) moderator must stop the
    "select all" they queued, not let it go on publishing as theirs. The request's own
    decision was checked a moment ago.
    """
    # An article's comments together, so that a chunk locks and recounts few articles; in
    # id order within it, which mostly puts parents before their replies (imported ids, or a
    # reset id sequence, can run backwards: a reply approved before its parent is announced
    # when the parent is, owed_approval_emails).
    comments = sorted(comments, key=attrgetter("article_id", "pk"))
    changed = 0
    for chunk in batched(comments, DECISION_CHUNK):
        if while_allowed and not may_still_moderate(by):
            raise ModeratorWithdrawn(changed)
        changed += moderate_chunk(chunk, status, by=by, seen=seen)
    return changed


def moderate_later(comments, status, *, by, seen):
    """Queue moderate_many's decision on these comments, to be taken as `by` (who is logged as
    taking it) with the statuses `by` saw them in: `seen` maps ids to them, and a comment
    missing from it was seen as it is in `comments`, which the caller has just read.

    Returns the BackgroundDecision that says, until `by` is told, how it goes; with a queue
    that keeps its tasks' results (the database queue), it names the task, whose state
    there the list reads while the decision has not recorded its end. Those queued
    more than BACKGROUND_DECISIONS_KEPT ago go, in one statement: nobody will be told of them,
    and a task still queued for one of them (a worker stopped for weeks) decides nothing."""
    ids_by_status_seen = defaultdict(list)
    for comment in comments:
        ids_by_status_seen[seen.get(comment.pk, comment.status)].append(comment.pk)
    BackgroundDecision.objects.filter(
        queued_at__lt=timezone.now() - BACKGROUND_DECISIONS_KEPT
    ).delete()
    decision = BackgroundDecision.objects.create(
        moderator=by, target=status, comment_count=len(comments)
    )
    queued = moderate_in_background.enqueue(decision.pk, ids_by_status_seen)
    if moderate_in_background.get_backend().supports_get_result:
        decision.task_id = queued.id
        BackgroundDecision.objects.filter(pk=decision.pk).update(task_id=queued.id)
    return decision


def queued_task(decision):
    """The queue's record of the task taking `decision` (its status, when a worker started
    it), or None where there is none to read: the default backend keeps none, and
    `prune_db_task_results` may have deleted it."""
    if not decision.task_id:
        return None
    try:
        return moderate_in_background.get_result(decision.task_id)
    except (NotImplementedError, TaskResultDoesNotExist, TaskResultMismatch, ImportError):
        # NotImplementedError: TASKS_BACKEND changed since, to one that keeps no results.
        return None


@task
def moderate_in_background(*arguments):
    """moderate_later's decision, taken: the comments are read again, IDS_PER_QUERY at a
    time, and one decided on since they were seen, or deleted, is left as it is, as in the
    request. What became of them is stored on the BackgroundDecision, for the moderator's
    next look at the list, and logged.

    A decision that fails is stored as failed before the task fails: one left "running"
    would let the moderator wait for it. So is one that the worker cuts short when it is
    stopped (SystemExit: a second Ctrl-C, or the stop's time limit). Its moderator deleted
    meanwhile, the decision went with them: nobody is logged as taking it, so nothing is
    decided, and the task fails. Its moderator deactivated, or no longer allowed to
    moderate, it decides no further lot, is stored as failed, and the task fails too
    (ModeratorWithdrawn, noted with why): the queue's record agrees with the decision's,
    and the task's one line in the log says so (newsroom/task_log.py).

    `arguments` are the BackgroundDecision's id and the comments' ids under the status each
    was seen in. Before decisions were stored, the task was queued with the status, the
    moderator's id and those ids: one of those still queued when a release that stores them
    is deployed is taken as it was meant (its moderator was told it would be), and logged."""
    if len(arguments) == 3:
        return moderate_as_queued_before_decisions_were_stored(*arguments)
    decision_id, ids_by_status_seen = arguments
    decision = BackgroundDecision.objects.select_related("moderator").get(pk=decision_id)
    try:
        outcome = decide_in_background(ids_by_status_seen, decision.target, by=decision.moderator)
    except ModeratorWithdrawn as withdrawn:
        BackgroundDecision.objects.filter(pk=decision_id).update(
            state=BackgroundDecision.State.FAILED
        )
        withdrawn.add_note(
            MODERATOR_WITHDRAWN % (decision.moderator_id, decision.target, withdrawn.changed)
        )
        raise
    except BaseException:
        BackgroundDecision.objects.filter(pk=decision_id).update(
            state=BackgroundDecision.State.FAILED
        )
        raise
    BackgroundDecision.objects.filter(pk=decision_id).update(
        state=BackgroundDecision.State.ENDED, **outcome
    )
    log_background_decision(decision.moderator_id, decision.target, outcome)
    return outcome


def moderate_as_queued_before_decisions_were_stored(status, moderator_id, ids_by_status_seen):
    """No BackgroundDecision tells its moderator how it ended: they were not to be told."""
    moderator = get_user_model().objects.get(pk=moderator_id)
    try:
        outcome = decide_in_background(ids_by_status_seen, status, by=moderator)
    except ModeratorWithdrawn as withdrawn:
        withdrawn.add_note(MODERATOR_WITHDRAWN % (moderator_id, status, withdrawn.changed))
        raise
    log_background_decision(moderator_id, status, outcome)
    return outcome


def log_background_decision(moderator_id, status, outcome):
    logger.info(
        "Moderator %s's decision (%s) on %s comments: %s changed, %s already were, %s left as "
        "they are (decided on or deleted since), %s approved but not shown to readers.",
        moderator_id,
        status,
        outcome["changed"] + outcome["already"] + outcome["left"],
        *outcome.values(),
    )


def decide_in_background(ids_by_status_seen, status, *, by):
    """The comments moderate_in_background decides, read again, decided; what became of
    them, counted as the request counts a decision it takes itself."""
    seen = {pk: shown for shown, ids in ids_by_status_seen.items() for pk in ids}
    comments = [
        comment
        for ids in batched(seen, IDS_PER_QUERY)
        for comment in Comment.objects.filter(pk__in=ids).only(*DECISION_FIELDS)
    ]
    changed = moderate_many(comments, status, by=by, seen=seen, while_allowed=True)
    decided = sum(comment.status == status for comment in comments)
    hidden = hidden_count(comments) if status == Comment.Status.APPROVED else 0
    return {
        "changed": changed,
        "already": decided - changed,
        "left": len(seen) - decided,
        "hidden": hidden,
    }


def moderate_chunk(comments, status, *, by, seen=None):
    """moderate_many's decision on a few hundred comments at most, in one transaction."""
    with transaction.atomic():
        # Decisions on one article's comments queue up behind this lock, so each recount
        # sees the outcome of the others (PostgreSQL; SQLite serialises writers anyway).
        article_ids = sorted({comment.article_id for comment in comments})
        lock_articles(article_ids)
        # Under the locks no other decision can move these comments: an identical decision
        # taken at the same moment finds them already there, changes and logs nothing.
        found = dict(
            Comment.objects.filter(pk__in=[comment.pk for comment in comments]).values_list(
                "pk", "status"
            )
        )
        if isinstance(seen, str):
            seen = dict.fromkeys(found, seen)
        previous_status = {
            pk: now
            for pk, now in found.items()
            if now != status and (seen is None or seen.get(pk, now) == now)
        }
        for comment in comments:
            comment.status = found.get(comment.pk, comment.status)
        changed = [comment for comment in comments if comment.pk in previous_status]
        if not changed:
            return 0
        now = timezone.now()
        Comment.objects.filter(pk__in=list(previous_status)).update(
            status=status, moderated_by=by, moderated_at=now
        )
        for comment in changed:
            comment.status, comment.moderated_by, comment.moderated_at = status, by, now
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=changed,
            action_flag=CHANGE,
            change_message=LOG_MESSAGES[status],
        )
        comments_cache.held_comments_changed()
        published_or_withdrawn = status == Comment.Status.APPROVED or (
            Comment.Status.APPROVED in previous_status.values()
        )
        if published_or_withdrawn:
            recount_comments(sorted({comment.article_id for comment in changed}))
            comments_cache.comments_changed()
        else:
            # Held comments rejected or marked spam: readers never saw them and still don't,
            # so their cached pages stay (a spam wave cleared from the queue ends none).
            transaction.on_commit(comments_cache.forget_moderation_counts)
        if status == Comment.Status.APPROVED:
            notifications.send_approval_emails_after_commit(
                owed_approval_emails(article_ids, previous_status)
            )
    return len(changed)


def owed_approval_emails(article_ids, approved_ids):
    """The comments whose "published" email these approvals may release: the approved
    ones, and replies approved under them while they were withheld. The task sends only to
    those readers can now see (notifications.notify_commenter_of_approval).

    Not every comment still owed one on the article: an email that failed before would be
    tried again at each decision, in the worker that served the moderator (the default task
    backend, after the response).
    One query, each parent then settled before its replies (parents_first).
    """
    rows = (
        Comment.objects.approved()
        .filter(article_id__in=article_ids)
        .values_list("id", "parent_id", "notify_on_publish")
    )
    released, owed = set(approved_ids), []
    for comment_id, parent_id, notify_on_publish in parents_first(rows):
        if comment_id in released or parent_id in released:
            released.add(comment_id)
            if notify_on_publish:
                owed.append(comment_id)
    return owed


def comment_stored(comment):
    """What follows a new comment; the submission calls it inside its transaction.

    Mail goes out only after the commit, and a failure to send it is logged, never raised:
    the comment is already safe in the database.
    """
    if comment.status == Comment.Status.APPROVED:
        refresh_comment_count(comment.article_id)
        comments_cache.comments_changed()
    else:
        # Readers cannot see it: their cached pages stay; only the moderators' count moves.
        transaction.on_commit(comments_cache.forget_moderation_counts)
    if comment.status == Comment.Status.PENDING:
        transaction.on_commit(
            partial(notifications.notify_moderators_of_held_comment.enqueue, comment.pk),
            robust=True,
        )


def visible_comment_counts(article_ids):
    """Approved comments readers can see on each article: every ancestor must be approved
    too.

    One query for them all (a bulk approval spans as many articles as it has rows), each
    comment then settled after its parent (parents_first).
    """
    counts = dict.fromkeys(article_ids, 0)
    rows = Comment.objects.filter(article_id__in=list(counts)).values_list(
        "id", "parent_id", "status", "article_id"
    )
    visible = set()
    for comment_id, parent_id, status, article_id in parents_first(rows):
        if status == Comment.Status.APPROVED and (parent_id is None or parent_id in visible):
            visible.add(comment_id)
            counts[article_id] += 1
    return counts


def refresh_comment_count(article_id):
    refresh_comment_counts([article_id])


def refresh_comment_counts(article_ids):
    """Store each article's visible comment count, under the articles' locks.

    A transaction changing their comments (a decision, a deletion) holds the locks until it
    commits: counted without them, a deletion missed an approval committed meanwhile, and
    its later write lost it. IDS_PER_QUERY articles at a time: an editor's "select all" can
    delete comments on more articles than SQLite takes parameters in a statement."""
    with transaction.atomic():
        for ids in batched(article_ids, IDS_PER_QUERY):
            lock_articles(ids)
            recount_comments(ids)


def recount_comments(article_ids):
    """Store each article's visible comment count: one read and one write however many.

    For a caller that already holds the articles' locks (lock_articles), as a decision
    does: taking them again cost a savepoint and a read per decision."""
    counts = visible_comment_counts(article_ids)
    Article.objects.bulk_update(
        [Article(pk=pk, comment_count=count) for pk, count in counts.items()],
        ["comment_count"],
    )


def lock_articles(article_ids):
    """Row locks (PostgreSQL) on the articles whose comments change, taken in id order so
    that two transactions never hold one each and wait for the other's. Only their ids are
    read: the lock needs no title or text."""
    list(
        Article.objects.select_for_update()
        .filter(pk__in=article_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def edit_body(comment, *, body):
    """A moderator's fix to the text (the admin logs the change); only an approved comment's
    text was on readers' pages."""
    comment.body = body
    with transaction.atomic():
        comment.save(update_fields=["body"])
        if comment.status == Comment.Status.APPROVED:
            comments_cache.comments_changed()


# ---------------------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------------------


def submit_comment(
    *,
    article,
    parent,
    name,
    email,
    url,
    body,
    ip_address,
    user_agent,
    notify_on_publish,
    status,
    held_reason,
    unsubscribe_key=None,
):
    """Store a new comment from the public form, checked against the model's own rules.

    The database enforces the foreign keys and the status constraint on insert;
    `full_clean` would ask it first, a query each, about an article and a reply target this
    request has just read and a status our own rules chose. It still checks every field.
    The transaction holds the insert and what must commit with it, nothing slower.
    `unsubscribe_key` is the address's, when the caller has read it already (the form's
    duplicate check, moderation.sent_before); without it, saving looks it up.
    """
    comment = Comment(
        article=article,
        parent=parent,
        name=name,
        email=email,
        url=url,
        body=body,
        ip_address=ip_address,
        # A header a bot may write, kept for moderators: PostgreSQL refuses NUL in text,
        # and no browser sends control characters there.
        user_agent=CONTROL_CHARACTER.sub("", user_agent or "")[
            : Comment._meta.get_field("user_agent").max_length
        ],
        # Published at once, the comment's own page tells its author so: the request is
        # fulfilled, as a sent email fulfils it. Left set, it would be owed an email the
        # next time a comment above it is approved (owed_approval_emails).
        notify_on_publish=notify_on_publish and status != Comment.Status.APPROVED,
        status=status,
        held_reason=held_reason[: Comment._meta.get_field("held_reason").max_length],
    )
    if unsubscribe_key:
        comment.unsubscribe_key = unsubscribe_key
    comment.full_clean(exclude=["article", "parent"], validate_constraints=False)
    # Without a savepoint of its own: inside the post's transaction (wait_for_the_same_words)
    # a failed insert fails the whole post anyway, and two statements fewer in every post.
    with transaction.atomic(savepoint=False):
        comment.save()
        comment_stored(comment)
    return comment


# Names this app's advisory locks apart from any other's (newsroom's migrate takes one of
# the one-number kind, which never meets the two-number kind).
SAME_WORDS_LOCK_CLASS = 0x636F6D6D  # "comm"


def wait_for_the_same_words(*, article, email, body):
    """Wait, until the current transaction ends, for any other one sending these words
    under this address on this article: the duplicate check reads, then the insert writes,
    and two sends in between both read no comment and both store theirs.

    A PostgreSQL advisory lock named by a hash of the words as sent, so only copies wait for
    each other; two readers' identical "Thanks!" (two addresses) go side by side. SQLite
    needs none: its transactions begin IMMEDIATE (settings), one writer at a time, so the
    second send's check already reads after the first's commit.
    """
    if connection.vendor != "postgresql":
        return
    words = "\n".join([str(article.pk), email.strip().upper(), body.strip()])
    lock_texts_until_the_transaction_ends(connection, SAME_WORDS_LOCK_CLASS, [words])
