"""What the comments app adds to the responses of pages rendered for a reader."""

from .thread import PENDING_COOKIE, PENDING_LEFT_ATTRIBUTE, set_pending_cookie


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
