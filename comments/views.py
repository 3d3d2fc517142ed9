"""Taking comments from readers.

Whatever goes wrong, the reader gets their text back: errors re-render the real article page
with the form filled in (status 400, 429 when flooding, 503 when the database cannot store
the comment), never an empty form. Where rendering that page again is what must be spared or
cannot be done (past the redisplay budget, 429; a CSRF failure, 403; a bug, 500), a small page
of its own holds the form, or at least the text.
"""

import json
import logging
import re
import subprocess
from urllib.parse import quote

from captcha.models import CaptchaStore
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import OuterRef
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE, get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import patch_cache_control
from django.utils.decorators import decorator_from_middleware
from django.views import defaults
from django.views.decorators.cache import never_cache

from articles.models import Article
from articles.views import ArticleDetailView
from newsroom.client_ip import client_ip
from newsroom.methods import options_answer, require_safe, takes_methods
from newsroom.middleware import DATABASE_RETRY_SECONDS, DatabaseUnavailableMiddleware

from . import moderation, ratelimit
from .captcha import discard_question, is_valid_key, question_of_ones_own, spoken_audio
from .forms import CommentForm
from .models import Comment
from .services import submit_comment, wait_for_the_same_words
from .thread import (
    VisibleComments,
    ancestors,
    comment_url,
    count_of_top_level,
    is_shown,
    own_pending_ids,
    page_number,
    page_url,
    remember_pending,
)

logger = logging.getLogger(__name__)

REQUEST_FORM_ATTRIBUTE = "comment_form"
REMEMBER_COOKIE = "comment_author"  # static/js/comments.js reads it by this name
REMEMBER_MAX_AGE = 60 * 60 * 24 * 365
REMEMBERED_FIELDS = ("name", "email", "url")
# The most bytes of a cookie, name, value and attributes together, that every browser keeps
# (RFC 6265's minimum): a larger one is dropped without a word.
COOKIE_MAX_BYTES = 4096
# Before the form's script read it, the cookie was signed for the server alone (form_token).
SIGNED_REMEMBER_SALT = "comments.remember"
AWAITING_MODERATION = "Your comment is awaiting moderation."
PUBLISHED = "Thank you: your comment is published."
NEW_QUESTIONS_PAUSED = (
    "We cannot show you a new question just now: new questions and forms sent back have been "
    "asked for many times from your address, and are paused for {paused_for}. "
    "Please answer the question shown."
)
# One byte range, as media players ask for them ("bytes=0-1", "bytes=2-", "bytes=-500").
BYTE_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})", re.ASCII)
NOT_STORED = "Sorry, we could not save your comment just now: please send it again in a minute."
# What the comment form's address takes (post_comment).
COMMENT_ADDRESS_METHODS = ["POST", "OPTIONS"]


@takes_methods(*COMMENT_ADDRESS_METHODS)
def post_comment(request, article_pk):
    if request.method == "OPTIONS":  # as every other address answers it
        return options_answer(COMMENT_ADDRESS_METHODS)
    if request.method != "POST":
        return send_only(request, article_pk)
    # Counted with the article, not after the commit, the page the redirect names costs no
    # query of its own: a comment held for moderation adds nothing to the count.
    article = (
        Article.objects.published()
        .filter(pk=article_pk)
        .annotate(top_level_count=count_of_top_level(OuterRef("pk")))
        .first()
    )
    if article is None:
        # Withdrawn or deleted while the reader wrote: their text comes back, and an article
        # that is not public stays unnamed.
        return typed_text_page(
            request,
            "comments/unavailable.html",
            {"body": request.POST.get("body", "")},
            status=404,
        )
    if not moderation.comments_open(article):
        return typed_text_page(
            request,
            "comments/closed.html",
            {"article": article, "body": request.POST.get("body", "")},
            status=403,
        )
    visible = VisibleComments(article)
    redisplay = "new_question" in request.POST or "replyto" in request.POST
    if redisplay and not ratelimit.claim_redisplay(ip_address=client_ip(request)):
        return redisplay_refused(request, article, visible)
    if "new_question" in request.POST:
        # The no-JavaScript "new question" button: same text, another question, no errors.
        # The old question is retired so it cannot come back; a database that refuses the
        # write leaves it to expire instead, and the reader still gets a new one.
        try:
            discard_question(request.POST.get("captcha_0"))
        except DatabaseError:
            logger.warning("A replaced captcha question could not be retired.", exc_info=True)
        form = CommentForm.with_typed_values(request.POST, article=article, visible_parents=visible)
        return render_article_page(request, article, form, status=200)
    if "replyto" in request.POST:
        # A comment's Reply button (or Cancel reply) without JavaScript: the text typed so
        # far comes back, now answering that comment (or none), on the page that shows it.
        form = CommentForm.with_typed_values(request.POST, article=article, visible_parents=visible)
        return render_article_page(request, article, form, status=200)
    form = CommentForm(request.POST, article=article, visible_parents=visible)
    ip_address = client_ip(request)
    try:
        with transaction.atomic():
            # The same words sent twice at once (a double click, two tabs) take turns from
            # here to the commit, so that the second finds the first stored.
            wait_for_the_same_words(
                article=article,
                email=request.POST.get("email", ""),
                body=request.POST.get("body", ""),
            )
            comment, refused_status = take_comment(request, form, ip_address=ip_address)
    except DatabaseError:
        return not_stored(request, article, form)
    if comment is None:
        response = send_back(request, article, form, visible, status=refused_status)
        if refused_status == 429:
            response["Retry-After"] = str(settings.COMMENTS_FLOOD_WINDOW_SECONDS)  # at the latest
        return response
    data = form.cleaned_data
    response = redirect(
        comment_url(comment, article.get_absolute_url(), top_level_count=article.top_level_count)
    )
    response.status_code = 303
    if comment.status == Comment.Status.APPROVED:  # the "previously approved" rule
        messages.success(request, PUBLISHED)
    else:
        # Spam is answered exactly like a held comment (its author alone sees it "awaiting
        # moderation"): a bot learns nothing from the reply.
        remember_pending(request, response, comment)
        messages.success(request, AWAITING_MODERATION)
    remember_author(response, data)
    return response


def take_comment(request, form, *, ip_address):
    """Check the form and store its comment: (the comment, None), or (None, the status the
    form goes back with, its errors added). Inside the view's transaction: an answer checked
    uses its question up even when the comment is refused."""
    valid = form.is_valid()  # a write: checking the captcha answer uses the question up
    data = form.cleaned_data
    if not {"email", "body"} <= data.keys():
        return None, 400
    duplicate, unsubscribe_key, commenter = moderation.sent_before(
        article=form.article,
        email=data["email"],
        body=data["body"],
        ip_address=ip_address,
        own_comment_ids=own_pending_ids(request),
    )
    if duplicate:
        # These words are stored already: that alone is said, not what else is wrong with
        # this copy (a double click's second send finds its question used up by the first).
        form.errors.clear()
        form.add_error("body", duplicate)
        return None, 400
    if not valid:
        return None, 400
    claimed = ratelimit.claim(ip_address=ip_address, commenter=commenter)
    if claimed is ratelimit.Claim.SENDER_FLOODED:
        form.add_error(None, moderation.flooded(ratelimit.sender_wait_minutes(ip_address)))
        return None, 429
    verdict = moderation.assess(
        name=data["name"],
        email=data["email"],
        url=data["url"],
        body=data["body"],
        honeypot=data["phone"],
        email_flooded=claimed is ratelimit.Claim.EMAIL_FLOODED,
    )
    try:
        comment = submit_comment(
            article=form.article,
            parent=form.parent_comment,
            name=data["name"],
            email=data["email"],
            url=data["url"],
            body=data["body"],
            ip_address=ip_address,
            user_agent=request.headers.get("user-agent", ""),
            notify_on_publish=data["notify_on_publish"],
            status=verdict.status,
            held_reason=verdict.reason,
            unsubscribe_key=unsubscribe_key,
        )
    except ValidationError as error:  # a model rule the form does not know about
        ratelimit.release(ip_address=ip_address, commenter=commenter)
        form.add_error(None, error.messages)
        return None, 400
    except DatabaseError:
        ratelimit.release(ip_address=ip_address, commenter=commenter)
        raise
    return comment, None


@require_safe
def permalink(request, pk):
    """A comment's lasting address (emails link to it): a redirect to the page that shows
    the comment now, however many comments have been withheld or COMMENTS_PER_PAGE changed
    since the link was made. A comment readers cannot see (not approved, under a withheld
    one, on an article that is not public) is a 404, which says no more than a wrong id."""
    comment = get_object_or_404(
        Comment.objects.approved()
        .filter(article__in=Article.objects.published())
        .select_related("article")
        .only("parent_id", "status", "created_at", "article__slug"),
        pk=pk,
    )
    above = ancestors(comment)
    if not is_shown(comment, above):
        raise Http404("No such comment.")
    return redirect(comment_url(comment, comment.article.get_absolute_url(), above=above))


def send_only(request, article_pk):
    """This address takes comments, yet a form sent back with errors is shown at it: opened
    from the address bar, a bookmark or a shared link, it leads the reader on (a 405 all the
    same, not Django's blank one)."""
    article = Article.objects.published().filter(pk=article_pk).first()
    response = render(request, "comments/send_only.html", {"article": article}, status=405)
    response["Allow"] = ", ".join(COMMENT_ADDRESS_METHODS)
    return response


def send_back(request, article, form, visible, *, status):
    """The article page again with the form as sent and what is wrong with it. Like the
    Reply and new question buttons, it renders the whole page and stores nothing, so it
    spends the same budget per sender; beyond it, the small page keeps the form."""
    if not ratelimit.claim_redisplay(ip_address=client_ip(request)):
        return redisplay_refused(request, article, visible)
    return render_article_page(request, article, form, status=status)


def redisplay_refused(request, article, visible):
    """Over the budget for forms sent back to be shown again: a small page with the form as
    typed (the reply chosen, the question with its answer), not the article page, whose
    rendering is what the limit protects. Sending the comment from it still works."""
    form = CommentForm.with_typed_values(request.POST, article=article, visible_parents=visible)
    form.keep_question(request.POST.get("captcha_0"), request.POST.get("captcha_1", ""))
    context = {
        "article": article,
        "form": form,
        "post_url": sent_to(request, article),
        # "Show a new question" answered with the same question: say so where it is asked.
        "new_question_refused": "new_question" in request.POST,
        "paused_for": ratelimit.redisplay_pause_in_words(client_ip(request)),
    }
    response = typed_text_page(request, "comments/redisplay_refused.html", context, status=429)
    response["Retry-After"] = str(settings.COMMENTS_FLOOD_WINDOW_SECONDS)  # at the latest
    return response


def sent_to(request, article):
    """Where a form shown away from the article's page (a page of its own: the first send
    from a shared copy without a token, the redisplay budget spent) sends the reader's text:
    the address it was sent to, with the page of comments it was on, so that what comes back
    shows that page again (comments_section)."""
    try:
        page = page_number(request)
    except Http404:
        page = 1
    return page_url(reverse("comments:post", args=[article.pk]), page)


def not_stored(request, article, form):
    """The database refused a write (read-only after a failover, a full disk...).

    The comment's transaction rolled back whole, so nothing is half-written; the reader gets
    the page back with their text, to send again in a moment.
    """
    logger.exception("A comment on article %s could not be stored.", article.pk)
    form.give_back_unchecked(NOT_STORED)
    response = render_article_page(request, article, form, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    return response


def typed_text_page(request, template_name, context, *, status):
    """A page that gives the reader what they typed: no cache may keep it."""
    response = render(request, template_name, context, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


def render_article_page(request, article, form, *, status):
    """The real article page, with this bound form in place of an empty one, asking a
    question of the reader's own. Its callers have counted the request in the sender's
    budget for forms sent back (ratelimit.claim_redisplay), for the page and its question
    alike; all but a 503, which no sender brings about at will."""
    form.prepare_redisplay()
    give_own_question(form)
    setattr(request, REQUEST_FORM_ATTRIBUTE, form)
    view = ArticleDetailView()
    view.setup(request, slug=article.slug)
    response = view.get(request, slug=article.slug)
    response.status_code = status
    patch_cache_control(response, private=True, no_store=True)
    return response


def give_own_question(form):
    """A form sent back is the reader's alone (never cached), and so is its new question:
    one of the pool's, which other readers are shown too, could be answered by one of them
    first, and this reader, sent back once already, be told on the next try that it had
    expired. A database that refuses the write leaves the pool's question."""
    try:
        form.ask_own_question()
    except DatabaseError:
        logger.warning("A reader's own question could not be stored.", exc_info=True)


def remember_author(response, data):
    """Only with the reader's consent does a cookie keep their details; unticked, the box
    ends the cookie of an earlier comment."""
    if data["remember"]:
        set_author_cookie(response, {field: data[field] for field in REMEMBERED_FIELDS})
    else:
        response.delete_cookie(REMEMBER_COOKIE, samesite="Lax")


def set_author_cookie(response, details):
    """The details "remember me" keeps, for comments.js to fill the next form with.

    Readable by the page's script, and never read by the server: no page, fragment or JSON
    carries a commenter's email, so none can reach a shared copy, a proxy's or a browser's
    cache, or whoever reads the answers a browser gets. Percent-encoded JSON, as the
    script's decodeURIComponent reads it, holds no character a cookie must quote.

    Percent-encoding takes up to twelve characters for one (an emoji), so the longest name,
    email and website the form takes, in such characters, would make a cookie that browsers
    drop, and "remember me" would silently remember nothing. The website then gives way:
    the next form gets the name and email it asks for, and only the box the reader may leave
    empty is empty. (The form's limits leave room for the longest name and email; should
    even they not fit, an earlier cookie goes rather than fill the form with other details.)
    """
    for kept in (details, {**details, "url": ""}):
        value = quote(json.dumps(kept, ensure_ascii=False, separators=(",", ":")), safe="")
        response.set_cookie(
            REMEMBER_COOKIE,
            value,
            max_age=REMEMBER_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=False,
            samesite="Lax",
        )
        if len(response.cookies[REMEMBER_COOKIE].OutputString().encode()) <= COOKIE_MAX_BYTES:
            return
    response.delete_cookie(REMEMBER_COOKIE, samesite="Lax")


def convert_signed_author_cookie(request, response):
    """A reader remembered before the script read the cookie holds it signed and HttpOnly,
    out of the script's reach: the answer that brings their token replaces it, in its
    headers, with the one the script reads, kept for a year as a comment sent today would
    be. A value the site did not sign (the script's own among them) is left alone."""
    value = request.get_signed_cookie(
        REMEMBER_COOKIE, default=None, salt=SIGNED_REMEMBER_SALT, max_age=REMEMBER_MAX_AGE
    )
    try:
        stored = json.loads(value) if value else None
    except ValueError:
        return
    if isinstance(stored, dict):
        details = {field: stored.get(field, "") for field in REMEMBERED_FIELDS}
        if all(isinstance(detail, str) for detail in details.values()):
            set_author_cookie(response, details)


@require_safe
@never_cache
def captcha_audio(request, key):
    """The question spoken in words ("five times one equals") for readers who cannot see it."""
    if not settings.CAPTCHA_FLITE_PATH or not is_valid_key(key):
        raise Http404("No audio question.")
    store = CaptchaStore.objects.filter(hashkey=key).only("challenge").first()
    if store is None:
        return HttpResponse("This question has expired.", status=410, content_type="text/plain")
    try:
        audio = spoken_audio(store.challenge)
    except (OSError, subprocess.SubprocessError):
        logger.exception("flite could not speak the captcha question")
        return HttpResponse("Audio is unavailable.", status=503, content_type="text/plain")
    # If-Range asks for the part only if the file is still the version it names: the audio
    # gives no ETag or date to name one by, so none can be vouched for (RFC 9110 13.1.5).
    asked_range = "" if "if-range" in request.headers else request.headers.get("range", "")
    return audio_response(audio, asked_range)


def audio_response(audio, asked_range):
    """The audio, or the one byte range asked for: Safari plays media only from a server that
    answers ranges (it asks for bytes 0-1 first). A range it cannot give, or several, gets
    the whole file, as a server may always answer."""
    response = HttpResponse(audio, content_type="audio/wav")
    response["Accept-Ranges"] = "bytes"
    if (part := byte_range(asked_range, len(audio))) is not None:
        start, end = part
        response.content = audio[start : end + 1]
        response.status_code = 206
        response["Content-Range"] = f"bytes {start}-{end}/{len(audio)}"
    return response


def byte_range(asked, size):
    """(first, last) byte of a single range header within `size` bytes, or None."""
    match = BYTE_RANGE.fullmatch(asked.strip())
    if match is None or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:  # the last `last` bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end else None


@require_safe
@never_cache
def form_token(request):
    """What a reader who starts writing needs (comments.js): the CSRF token a shared cached
    page carries none of, and a question of their own in place of the page's, which other
    readers may have been given too. Past the budget for new questions, or with a database
    that refuses the write, the page's question stays. The details they asked to be
    remembered are never in it: the script reads them from their cookie."""
    data = {"token": get_token(request)}
    try:
        if question := question_of_ones_own_for(request):
            data["question"] = question
    except DatabaseError:
        logger.warning("A reader's own question could not be stored.", exc_info=True)
    response = JsonResponse(data)
    convert_signed_author_cookie(request, response)
    return response


@require_safe
@never_cache
def new_question(request):
    """ "Show a new question" with JavaScript, at django-simple-captcha's refresh address and
    answering as its view did: a question of the reader's own, from the budget of the forms
    sent back, as the button spends it without JavaScript. Past it, a 429 that says why."""
    if request.headers.get("x-requested-with") != "XMLHttpRequest":
        raise Http404("Asked for by the page's script only.")
    question = question_of_ones_own_for(request)
    if question is None:
        paused_for = ratelimit.redisplay_pause_in_words(client_ip(request))
        response = JsonResponse(
            {"message": NEW_QUESTIONS_PAUSED.format(paused_for=paused_for)}, status=429
        )
        response["Retry-After"] = str(settings.COMMENTS_FLOOD_WINDOW_SECONDS)  # at the latest
        return response
    return JsonResponse(question)


def question_of_ones_own_for(request):
    """A new question's key and addresses, counted in the sender's budget for forms shown
    again (each costs an insert); None past it."""
    if not ratelimit.claim_redisplay(ip_address=client_ip(request)):
        return None
    key = question_of_ones_own()
    return {
        "key": key,
        "image_url": reverse("captcha-image", kwargs={"key": key}),
        "audio_url": (
            reverse("captcha-audio", kwargs={"key": key}) if settings.CAPTCHA_FLITE_PATH else None
        ),
    }


@decorator_from_middleware(DatabaseUnavailableMiddleware)
def csrf_failure(request, reason=""):
    """A form without a valid token: give the reader their text back, and a form to send again.

    Sent from a shared cached page without JavaScript, the form had no token yet (the page
    carries none): that is one more step, not an error. Otherwise the form is stale (an
    expired cookie, say). This is the whole site's CSRF failure page: another form (an
    admin sign-in or action, say) is told so without being called a comment.

    It runs inside the CSRF check, outside DatabaseUnavailableMiddleware: the decorator gives
    it the same 503 page, with the reader's text, when the database cannot be reached.
    """
    comment_post = _is_comment_post(request)
    article = _article_for_comment_post(request) if comment_post else None
    first_send = not request.POST.get("csrfmiddlewaretoken")
    new_question = "new_question" in request.POST
    form = None
    if article is not None and moderation.comments_open(article):
        form = CommentForm.with_typed_values(
            request.POST, article=article, visible_parents=VisibleComments(article)
        )
        if not new_question:
            # Refused before anything was checked: the question is not used up, and the
            # reader who answered it need not answer another.
            form.keep_question(request.POST.get("captcha_0"), request.POST.get("captcha_1", ""))
        # A new question of their own is an insert, counted as the article page counts it;
        # past the sender's budget, the pool's.
        if form.kept_answer is None and ratelimit.claim_redisplay(ip_address=client_ip(request)):
            give_own_question(form)
    return typed_text_page(
        request,
        "comments/csrf_failure.html",
        {
            "comment_post": comment_post,
            "article": article,
            "form": form,
            "post_url": sent_to(request, article) if form else "",
            "body": request.POST.get("body", ""),
            "first_send": first_send,
            # The no-JavaScript "new question" button of a shared page, which had no token:
            # the reader asked for a question, not to send, and this page gives them one.
            "new_question": new_question and first_send,
            # Likewise a comment's Reply button, or Cancel reply: the reader chose whom to
            # answer, and this page gives them the form doing so, their text in it.
            "reply_chosen": "replyto" in request.POST and first_send,
            "kept_answer": form.kept_answer if form is not None else None,
            # The form had a token but the browser sent no cookie back: cookies are blocked
            # (or were cleared), and sending again as it is would fail again.
            "cookie_not_kept": reason == REASON_NO_CSRF_COOKIE,
        },
        status=403,
    )


def server_error(request):
    """The site's 500 page, which gives a comment post's text back to copy: whatever went
    wrong, a commenter's words are not lost. Like Django's own, it asks nothing of the
    database, which may be what failed."""
    body = request.POST.get("body", "") if _is_comment_post(request) else ""
    if not body:
        return defaults.server_error(request)
    response = HttpResponseServerError(
        render_to_string("comments/server_error.html", {"body": body})
    )
    patch_cache_control(response, private=True, no_store=True)
    return response


def _is_comment_post(request):
    try:
        return resolve(request.path_info).view_name == "comments:post"
    except Resolver404:
        return False


def _article_for_comment_post(request):
    article_pk = resolve(request.path_info).kwargs["article_pk"]
    return Article.objects.published().filter(pk=article_pk).first()
