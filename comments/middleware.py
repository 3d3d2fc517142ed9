"""What the comments app adds to the requests: the emails a scheduled publication owes, and
the pending cookie of the pages rendered for a reader."""

from . import notifications
from .thread import PENDING_COOKIE, PENDING_LEFT_ATTRIBUTE, set_pending_cookie


class AnnounceDuePublicationsMiddleware:
    """With a task backend that cannot run a task at a given time (the default), the first
    request after a scheduled article's publication time queues the emails its comments are
    owed (notifications.announce_due_publications), sent once the response is: the article
    went live by itself, with no save to send them. Before the page cache, whose hits count
    too; every other request only compares two numbers (notifications.publications_may_be_due).

    The database queue runs them at that time itself, with no request needed (a quiet night
    sends them on time), in its worker rather than a web worker: there the requests look for
    nothing. Were they to look as well, the claim would still send each email once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        at_publication = notifications.notify_commenters_at_scheduled_publication
        # The clock first: asking for the backend costs more than the rest of the check.
        if (
            notifications.publications_may_be_due()
            and not at_publication.get_backend().supports_defer
        ):
            notifications.announce_due_publications.enqueue()
        return self.get_response(request)


class ForgetDecidedCommentsMiddleware:
    """Writes this browser's pending cookie again without the comments its article's page
    found decided (thread.forget_decided): until then that page is rendered for them, and
    not served from the cache, for as long as the cookie lasts (two weeks). Older entries
    the page found waiting under it name it by id from then on.

    Inside the page cache: a page it serves renders nothing, and one it renders to store
    never sees the cookie. A response that sets the cookie itself keeps its own.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        left = getattr(request, PENDING_LEFT_ATTRIBUTE, None)
        if left is not None and PENDING_COOKIE not in response.cookies:
            set_pending_cookie(response, left)
        return response
