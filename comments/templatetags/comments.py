"""The comment section under an article: the thread and the "Leave a Reply" form.

The article page asks for it with `{% load comments %}{% comments_section article %}`.
Two partials make it up: `comments/thread.html` (the same for every reader of an article
version, so it can be cached) and `comments/form.html` (per reader: CSRF token, captcha
question, reply target, errors). The details a reader asked to be remembered are never in
it: comments.js fills them in from the reader's cookie (comments.views.set_author_cookie).
"""

from django import template
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse

from articles import page_cache
from articles.views import ShownElsewhere
from comments.forms import CommentForm
from comments.models import is_id
from comments.moderation import comments_close_at, comments_open
from comments.rendering import render_comments
from comments.thread import (
    PastTheLastPage,
    VisibleComments,
    build_thread,
    comment_page,
    forget_decided,
    own_pending_ids,
    page_number,
    page_url,
)
from comments.views import REQUEST_FORM_ATTRIBUTE
from comments.widgets import field_html

register = template.Library()


@register.simple_tag(takes_context=True)
def comments_section(context, article):
    """The comment thread and the "Leave a Reply" form under an article."""
    request = context.get("request")
    sent_back = getattr(request, REQUEST_FORM_ATTRIBUTE, None)
    if sent_back is not None and sent_back.article.pk != article.pk:
        sent_back = None
    try:
        page = page_number(request)
    except Http404:
        if sent_back is None:
            raise
        page = 1  # a form sent to a made-up page number: a 404 would lose the text
    is_open = comments_open(article)
    form = reply_to = None
    # Links to other pages of the thread are relative to the article's address, except on
    # a form sent back (errors, a reply chosen), which is shown at the form's.
    links_base = ""
    if is_open:
        if request and (closes_at := comments_close_at(article)):
            page_cache.page_changes_at(request, closes_at)  # a cached form must close too
        form = sent_back
        if form is None:
            form = CommentForm(article=article, visible_parents=VisibleComments(article))
            form.ask_to_reply_to(request.GET.get("replyto", "") if request else "")
            if form.parent_comment and (shown_on := comment_page(form.parent_comment)) != page:
                # A reply link (?replyto=) to a comment on another page: a page read before
                # moderators withheld comments above it, or the link without its ?cpage=.
                raise ShownElsewhere(moved_page_url(request, article, form, shown_on))
        else:
            links_base = article.get_absolute_url()
            if form.parent_comment:  # the comment being answered, wherever the reader found it
                page = comment_page(form.parent_comment)
        reply_to = form.parent_comment
    pending = own_pending_ids(request, article) if request else ()
    try:
        thread = build_thread(article, pending, page=page)
    except PastTheLastPage as past:
        if links_base:  # a form sent back with its text, which a redirect would lose
            thread = build_thread(article, pending, page=past.last)
        else:
            # A stale link lands on the discussion (the browser keeps its #comment-…).
            raise ShownElsewhere(moved_page_url(request, article, form, past.last)) from None
    if pending:
        forget_decided(request, article, thread)
    return render_to_string(
        "comments/section.html",
        {
            "article": article,
            "thread": thread,
            "comments_open": is_open,
            "form": form,
            "reply_to": reply_to,
            "links_base": links_base,
            # A new form, which comments.js may fill with the reader's remembered details;
            # one sent back shows what the reader sent, and stays so.
            "fill_remembered": sent_back is None,
            # Every button of the form sends the page of comments it is on: what comes back
            # (errors, a new question, a reply chosen or cancelled) shows that page again.
            "post_url": page_url(reverse("comments:post", args=[article.pk]), thread.page)
            if is_open
            else "",
        },
        request=request,
    )


def moved_page_url(request, article, form, page):
    """Where a link to a page that does not show what it asked for lands: `page` (the last
    page, for a page past it; for a reply link, ?replyto=, the page that shows the comment
    answered), with the reply kept; a reply target withheld since is named by the form's
    note, on the last page, rather than forgotten. The link's campaign tags (utm_*) go
    along, so that a newsletter's stale link still counts for it in the analytics."""
    campaign = page_cache.campaign_tags(request) if request else []
    raw_parent = request.GET.get("replyto", "") if request else ""
    if form is None or not is_id(raw_parent):
        return page_url(article.get_absolute_url(), page, campaign)
    return page_url(article.get_absolute_url(), page, [("replyto", raw_parent), *campaign])


@register.simple_tag
def comment_list(thread, *, reply_action, permalinks=True):
    """The page's comments, nested, each with its Reply button sending the form to
    `reply_action` while comments are open (it is empty once they close), and its time
    linked to its permalink while `permalinks`."""
    return render_comments(thread.roots, reply_action=reply_action, permalinks=permalinks)


@register.simple_tag
def form_field(field):
    """A field of the comment form with its label, help, errors and input (comments/widgets.py)."""
    return field_html(field)
