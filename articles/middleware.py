"""Django's CommonMiddleware, whose added slash leads where the reader is going."""

from django.middleware import common
from django.urls import resolve

from .views import moved_permanently


class CommonMiddleware(common.CommonMiddleware):
    """Django's, whose redirect to an address with the slash it lacks goes straight to where
    that address would redirect: a slug typed in other capitals or changed since
    (/articles/Some-Story took two hops, /articles/Some-Story/ and then /articles/some-story/).
    Views say where through their `address_now()`; for any other, Django's redirect."""

    def process_response(self, request, response):
        if (
            response.status_code == 404
            and request.method in ("GET", "HEAD")
            and self.should_redirect_with_slash(request)
        ):
            address = address_now(request, f"{request.path_info}/")
            if address is not None:
                response = moved_permanently(request, address)
        return super().process_response(request, response)


def address_now(request, path):
    """The address the page at `path` has now, by its class-based view's `address_now()`;
    None when its view has none, or it names nothing."""
    match = resolve(path, getattr(request, "urlconf", None))
    view_class = getattr(match.func, "view_class", None)
    if not hasattr(view_class, "address_now"):
        return None
    view = view_class(**match.func.view_initkwargs)
    view.setup(request, *match.args, **match.kwargs)
    return view.address_now()
