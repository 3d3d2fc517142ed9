"""The one-click unsubscribe link in a commenter's "published" email.

GET and HEAD show a single button and change nothing, because mail scanners and link
checkers follow links; POST unsubscribes. The POST is exempt from CSRF: the token (the
commenter's random key, notifications.comment_for_token) is the authority, the only effect
is fewer emails, and mail clients send it themselves (RFC 8058 List-Unsubscribe-Post).
"""

import logging

from django.db import DatabaseError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from comments.models import Comment
from comments.notifications import comment_for_token
from newsroom.methods import require_http_methods
from newsroom.middleware import DATABASE_RETRY_SECONDS

logger = logging.getLogger(__name__)

NOT_SAVED = "Sorry, we could not save this just now. Please try again in a minute."


@never_cache  # the URL is the commenter's key: no copy in a shared cache
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    comment = comment_for_token(token)
    if comment is None:
        return render(request, "comments/unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        # Every comment from this address: "stop these emails" means all of them.
        try:
            Comment.objects.by_email(comment.email).update(notify_on_publish=False)
        except DatabaseError:  # read-only after a failover, a full disk...
            logger.exception("Could not unsubscribe the commenter of comment %s.", comment.pk)
            return not_saved(request)
    return render(request, "comments/unsubscribe.html", {"done": done})


def not_saved(request):
    """The button again, with a word of why, to press once the database takes writes."""
    response = render(request, "comments/unsubscribe.html", {"error": NOT_SAVED}, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    return response
