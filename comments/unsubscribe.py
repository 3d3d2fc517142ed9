"""The signed one-click unsubscribe link in a commenter's "published" email.

GET and HEAD show a single button and change nothing, because mail scanners and link
checkers follow links; POST unsubscribes. The POST is exempt from CSRF: the signed token is
the authority, the only effect is fewer emails, and mail clients send it themselves
(RFC 8058 List-Unsubscribe-Post).
"""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from comments.models import Comment
from comments.notifications import comment_for_token


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    comment = comment_for_token(token)
    if comment is None:
        return render(request, "comments/unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        # Every comment from this address: "stop these emails" means all of them.
        Comment.objects.by_email(comment.email).update(notify_on_publish=False)
    return render(request, "comments/unsubscribe.html", {"done": done})
