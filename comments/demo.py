"""Demo comments: threaded approved ones and a few awaiting moderation.

Built for volume as well as for the demo (the benchmark asks for a million comments), from
a seeded random generator so two runs give the same threads.
"""

import random
from collections import Counter, defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from articles.demo import insert_rows, reset_id_sequences
from articles.models import Article

from .captcha import refill_pool
from .models import Comment
from .moderation import PRE_MODERATION

SEED = 20261128
MAX_LEVEL = 4  # one past COMMENTS_MAX_DEPTH's default, so the demo shows deep replies attach
TOP_LEVEL_SHARE = 0.45
CHUNK_SIZE = 20_000
BATCH_SIZE = 2_000
DEMO_PENDING = 3
DEMO_USER_AGENT = "Mozilla/5.0 (demo)"
DEMO_ADDRESSES = [f"192.0.2.{host}" for host in range(1, 255)]  # TEST-NET-1, for documentation
INSERT_COLUMNS = (
    "id", "article_id", "parent_id", "name", "email", "url", "body", "status", "held_reason",
    "notify_on_publish", "created_at", "ip_address", "user_agent",
)  # fmt: skip
FIRST_NAMES = [
    "Amara", "Ben", "Chloé", "Dmitri", "Eilidh", "Farid", "Grace", "Hiroshi", "Ines", "Jonas",
    "Kavya", "Liam", "Mei", "Nuno", "Olu", "Priya", "Quinn", "Rosa", "Sami", "Tomás",
]  # fmt: skip
LAST_NAMES = ["Okafor", "Lindqvist", "Moreau", "Petrov", "Ng", "Haddad", "Silva", "Byrne"]
OPENINGS = [
    "I was at the meeting and",
    "Thanks for reporting this:",
    "Interesting piece, but",
    "As someone who lives on that street,",
    "Good to see this covered.",
    "I disagree with the council here:",
    "Does anyone know whether",
    "My neighbours and I have noticed that",
]
ENDINGS = [
    "the details matter more than the headline suggests.",
    "we need more of this kind of local reporting.",
    "the numbers in the third paragraph deserve a closer look.",
    "it will take years before anyone sees a difference.",
    "the consultation closes sooner than most people think.",
    "there is more at https://example.org/minutes for anyone curious.",
    "nobody asked the people who actually use the library.",
    "it is the same story every winter.",
]


def seed(*, article_ids, per_article=(2, 12), pending=DEMO_PENDING, now=None):
    """Comments for the given (new) articles, a few pending ones, and a full captcha pool."""
    rng = random.Random(SEED)  # noqa: S311 (repeatable demo text, not secrets)
    counts = {pk: rng.randint(*per_article) for pk in article_ids}
    created = create_comments(counts, now=now)
    if article_ids and pending:
        create_pending(article_ids[:pending])
    refill_pool()
    return created


def create_comments(counts, *, now=None, seed=SEED, progress=None):
    """Create approved threaded comments: `counts` maps article id -> how many.

    Returns how many were created. Each article's thread is dated after its publication,
    oldest first; about half the comments are replies, up to MAX_LEVEL deep.
    """
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 (repeatable demo text, not secrets)
    published = dict(Article.objects.filter(pk__in=list(counts)).values_list("pk", "published_at"))
    total, done, chunk, in_chunk = sum(counts.values()), 0, [], 0
    for article_id, count in counts.items():
        chunk.append((article_id, count))
        in_chunk += count  # a running total: summing the chunk each time was quadratic
        if in_chunk >= CHUNK_SIZE:
            done += _create_chunk(chunk, published, now, rng)
            chunk, in_chunk = [], 0
            if progress:
                progress(done, total)
    if chunk:
        done += _create_chunk(chunk, published, now, rng)
        if progress:
            progress(done, total)
    return done


def _create_chunk(chunk, published, now, rng):
    """Plan the chunk's threads with ids of our own, then insert them in id order.

    Choosing the ids up front lets a reply name its parent before either exists, so the
    rows go straight to the table (see `insert_rows`) instead of through one model per row.
    """
    ops, approved_status = connection.ops, Comment.Status.APPROVED.value
    addresses = [ops.adapt_ipaddressfield_value(address) for address in DEMO_ADDRESSES]
    next_id = (Comment.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    rows, approved = [], Counter()
    for article_id, count in chunk:
        start = published.get(article_id) or now
        span = max((now - start).total_seconds(), 60)
        times = sorted(start + timedelta(seconds=rng.uniform(0, span)) for _ in range(count))
        can_have_replies = []  # (id, level) of this article's comments so far
        for created_at in times:
            parent_id, level = None, 1
            if can_have_replies and rng.random() > TOP_LEVEL_SHARE:
                parent_id, parent_level = rng.choice(can_have_replies)
                level = parent_level + 1
            name, email, url, body = _demo_author_and_text(rng)
            rows.append(
                (
                    next_id, article_id, parent_id, name, email, url, body,
                    approved_status, "", False, ops.adapt_datetimefield_value(created_at),
                    rng.choice(addresses), DEMO_USER_AGENT,
                )
            )  # fmt: skip
            if level < MAX_LEVEL:
                can_have_replies.append((next_id, level))
            next_id += 1
        approved[article_id] += count
    with transaction.atomic():
        insert_rows(Comment, INSERT_COLUMNS, rows)
        reset_id_sequences(Comment)
        _add_to_counts(approved)
    return len(rows)


def _demo_author_and_text(rng):
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    body = f"{rng.choice(OPENINGS)} {rng.choice(ENDINGS)}"
    if rng.random() < 0.3:
        body += f"\n\n{rng.choice(OPENINGS)} {rng.choice(ENDINGS)}"
    url = "https://example.org/" if rng.random() < 0.2 else ""
    return f"{first} {last}", f"{first.lower()}.{last.lower()}@example.com", url, body


def create_pending(article_ids):
    """One comment awaiting moderation on each of these articles, for the moderation queue.

    Inserted as the approved ones are (insert_rows), naming only the columns it fills:
    bulk_create names every column of the model as it is now, which a database migrated
    to an earlier state (tests/test_migrations.py seeds one) does not have yet."""
    rng = random.Random(SEED + 1)  # noqa: S311 (repeatable demo text, not secrets)
    ops = connection.ops
    created_at = ops.adapt_datetimefield_value(timezone.now())
    address = ops.adapt_ipaddressfield_value(DEMO_ADDRESSES[0])
    rows = []
    for article_id in article_ids:
        name, email, url, body = _demo_author_and_text(rng)
        rows.append(
            (
                article_id, None, name, email, url, body, Comment.Status.PENDING.value,
                PRE_MODERATION, False, created_at, address, DEMO_USER_AGENT,
            )
        )  # fmt: skip
    insert_rows(Comment, INSERT_COLUMNS[1:], rows)  # the ids are the database's


def _add_to_counts(approved):
    """Every demo comment hangs under approved parents, so all count as visible."""
    by_count = defaultdict(list)
    for article_id, count in approved.items():
        by_count[count].append(article_id)
    for count, ids in by_count.items():
        for start in range(0, len(ids), BATCH_SIZE):
            Article.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).update(
                comment_count=F("comment_count") + count
            )
