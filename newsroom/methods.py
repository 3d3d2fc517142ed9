"""The HTTP methods each view takes, known before the view runs.

The CSRF check runs before the view: a PUT, DELETE or PATCH sent to a page that only reads
was refused as a forged form (403, "send the form again"), not as a method the page does not
take (405). MethodNotAllowedInWordsMiddleware reads what is declared here, ahead of that
check, and answers the 405 itself, without running the view.
"""

import functools

from django.http import HttpResponse
from django.views.decorators import http

# Set on a function view; a class-based view says it through its methods (get, post...).
ALLOWED_METHODS_ATTRIBUTE = "allowed_methods"


def takes_methods(*methods):
    """Declares the methods a view takes, for a view that answers the others itself with a
    page of its own (the comment form's address, opened from the address bar)."""

    def decorator(view):
        setattr(view, ALLOWED_METHODS_ATTRIBUTE, methods)
        return view

    return decorator


def require_http_methods(methods):
    """Django's decorator, which refuses the other methods with a 405, declaring them too;
    OPTIONS is answered as Django's class-based views answer it (View.options): a 200 whose
    Allow header lists the methods, without running the view. Refused, a feed or the sitemap
    answered it with a 405 where an article or a list page answered."""
    allowed = [*methods, "OPTIONS"]

    def decorator(view):
        @functools.wraps(view)
        def answering_options(request, *args, **kwargs):
            if request.method == "OPTIONS":
                return options_answer(allowed)
            return view(request, *args, **kwargs)

        return takes_methods(*allowed)(http.require_http_methods(allowed)(answering_options))

    return decorator


def options_answer(allowed):
    """The answer to OPTIONS, as Django's class-based views give it (View.options): a 200
    whose Allow header lists the `allowed` methods, with no body."""
    response = HttpResponse(headers={"Allow": ", ".join(allowed)})
    response["Content-Length"] = "0"
    return response


require_safe = require_http_methods(["GET", "HEAD"])


def allowed_methods(view, request, args, kwargs):
    """The methods `view` takes, as its own 405 would list them; None when it does not say.

    A declaration comes first: a class-based view wrapped in require_safe takes only its
    methods, where its class alone would list every one it has."""
    declared = getattr(view, ALLOWED_METHODS_ATTRIBUTE, None)
    view_class = getattr(view, "view_class", None)
    if declared is None and view_class is not None:
        instance = view_class(**view.view_initkwargs)
        instance.setup(request, *args, **kwargs)  # which adds HEAD where there is GET
        return instance._allowed_methods()
    return declared
