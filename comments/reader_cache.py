"""What the comments app adds to the cached pages of `articles.page_cache`.

The article page's form holds two values that must not be one for all readers: the captcha
question's key (each question can be answered once) and the signed time the form was shown
(the "too fast for a person" rule). Both are holes, refilled here for every reader, without a query
in the common case: pool keys are sampled into the cache for a minute at a time (read with
the page, in the same round trip), and the sample is dropped whenever a question leaves the
pool. Readers may draw the same key; one who starts writing gets a question of their own
(views.form_token), as does a form sent back (views.render_article_page), so another
reader's answer does not use theirs up. A saved or deleted approved comment ends every
cached page. A commenter's pending comments make the pages of
the articles they are under their own, and no other page. The "remember me" cookie is no
personal cookie here: the server renders nothing from it (the form's script reads it,
views.set_author_cookie), so its bearer gets every page from the cache, and a shared copy
rendered for them is every reader's. The settings the discussion shows are part of the
release that pages are kept for.
"""

import functools
import random

from captcha.models import CaptchaStore
from django.core import signing
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models.signals import post_delete, post_save

from articles import page_cache
from newsroom.cache import delete_after_outage, mirror_keys
from newsroom.middleware import database_unavailable

from . import cache as comments_cache
from .captcha import KEY_PATTERN, pool_keys
from .forms import STARTED_SALT, sign_started
from .models import Comment
from .thread import PENDING_COOKIE, address_digest, pending_entries

# A key of its own for the sample as one string: a list cached by an older release under
# another key is never read as one (nor the other way round during a rolling deploy).
POOL_SAMPLE_KEY = "comments:captcha-pool-sample-string"
POOL_SAMPLE_SIZE = 100
POOL_SAMPLE_SECONDS = 60
CAPTCHA_KEY_LENGTH = 40  # KEY_PATTERN's width: the sample is one string of such keys


def draw_pool_sample():
    """Keys of questions that still have CAPTCHA_GET_FROM_POOL_TIMEOUT minutes to live.

    Kept as one string of fixed-width keys: read at every cached article page, it unpickles
    in a microsecond, where a list of a hundred strings takes several.
    """
    sample = "".join(pool_keys(POOL_SAMPLE_SIZE))
    cache.set(POOL_SAMPLE_KEY, sample, POOL_SAMPLE_SECONDS)
    return sample


def forget_pool_sample(**kwargs):
    """An answered (or expired) question leaves the pool: stop handing its key out."""
    cache.delete(POOL_SAMPLE_KEY)


def approved_comment_saved(sender, instance, **kwargs):
    """Readers see approved comments only: saving one changes their pages.

    Moderation goes through `comments.services`, which invalidates on its own; this covers
    every other write (an edit in the admin, a script, the demo data). A deletion is
    comments/signals.py's: it reads the status stored, where a script's instance may hold
    the one it was loaded with.
    """
    if instance.status == Comment.Status.APPROVED:
        page_cache.bump_content_version_on_commit()


def fresh_captcha_key(request, old_key, *, shared):
    """A key picked from the pool sample, which the page cache read with the page.

    With the database out of reach the page keeps the key it was stored with: readers still
    read it, and no form can be sent until the database is back anyway.
    """
    sample = shared
    if sample is None:
        try:
            sample = draw_pool_sample()
        except DatabaseError as error:
            if not database_unavailable(error):
                raise
            return old_key
    if not sample:
        return old_key
    picked = random.randrange(len(sample) // CAPTCHA_KEY_LENGTH)  # noqa: S311 (a pool pick)
    return sample[picked * CAPTCHA_KEY_LENGTH : (picked + 1) * CAPTCHA_KEY_LENGTH]


def fresh_started(request, old_value):
    """The same article, stamped now: the reader's clock starts when they get the page."""
    return sign_started(article_of_started(old_value))


@functools.lru_cache(maxsize=256)
def article_of_started(value):
    """The article of a cached page's form: checked once per stored page, not per reader."""
    article_pk, _ = signing.loads(value, salt=STARTED_SALT)
    return article_pk


def held_comment_saved(sender, instance, created, **kwargs):
    """A stored comment edited or decided otherwise than through `comments.services` (the
    admin's form, a script): its author's page may show it (a new one changes their cookie)."""
    if not created:
        comments_cache.held_comments_changed()


def held_comment_deleted(sender, instance, **kwargs):
    comments_cache.held_comments_changed()


def shows_own_pending(request, article_id):
    """Whether the page asked for shows an article this browser's pending comments are
    under, which it gets rendered for it (`page_cache.register_personal_cookie`). An article
    page not stored yet may be one: it is rendered for the commenter, as it must be rendered
    anyway. An entry from before the cookie named articles by id names the article's address
    then, or, from before that, nothing: it may be under any article."""
    if article_id is None:
        return False
    here = address_digest(request.path)
    return any(
        entry.under(article_id, here) is not False
        or (entry.article_id is not None and article_id is page_cache.NOT_STORED)
        for entry in pending_entries(request)
    )


def register():
    page_cache.register_hole(
        "captcha",
        rf'name="captcha_0" value="({KEY_PATTERN.pattern})"',
        fresh_captcha_key,
        shared_key=POOL_SAMPLE_KEY,
    )
    page_cache.register_hole("started", r'name="started" value="([^"]+)"', fresh_started)
    page_cache.register_personal_cookie(
        PENDING_COOKIE, own_page=shows_own_pending, version_key=comments_cache.HELD_VERSION_KEY
    )
    # What the discussion and its form show: a restart with another value renders afresh.
    page_cache.register_page_settings(
        "COMMENTS_PER_PAGE",
        "COMMENTS_MAX_DEPTH",
        "COMMENTS_CLOSE_AFTER_DAYS",
        "CAPTCHA_FLITE_PATH",  # the link to the question read aloud
        "CAPTCHA_IMAGE_SIZE",
        "PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE",  # on the comment box, for its script
    )
    # Read with every cached article page: with Redis, each process keeps a copy.
    mirror_keys(POOL_SAMPLE_KEY)
    post_delete.connect(forget_pool_sample, sender=CaptchaStore, dispatch_uid="comments.pool")
    post_save.connect(approved_comment_saved, sender=Comment, dispatch_uid="comments.saved")
    post_save.connect(held_comment_saved, sender=Comment, dispatch_uid="comments.held-saved")
    post_delete.connect(held_comment_deleted, sender=Comment, dispatch_uid="comments.held-deleted")
    # Read at each revalidation of a commenter's own page, written at every decision.
    delete_after_outage(comments_cache.HELD_VERSION_KEY)
