import errno

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path
from django.views.static import serve

from comments.urls import captcha_urlpatterns
from newsroom import admin as newsroom_admin
from newsroom.methods import require_safe


@require_safe
def media(request, path):
    """Uploaded lead images (staff uploads, so trusted files); a front proxy may serve
    MEDIA_ROOT itself, but without one `make serve` still shows them."""
    try:
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    except OSError as error:
        # A name longer than the file system takes (a bot's, anyone's): no such file. Other
        # errors (a folder the server may not read) stay 500s, for the operator to see.
        if error.errno == errno.ENAMETOOLONG:
            raise Http404("No such file.") from None
        raise


urlpatterns = [
    path(
        "admin/r/<path:content_type_id>/<path:object_id>/",
        admin.site.admin_view(newsroom_admin.view_on_site),
    ),
    # Before the admin's own, which keeps its name (admin:autocomplete) for the widgets.
    path("admin/autocomplete/", admin.site.admin_view(newsroom_admin.autocomplete)),
    path("admin/", admin.site.urls),
    path("captcha/", include(captcha_urlpatterns)),
    path("comments/", include("comments.urls")),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media),
    path("", include("articles.urls")),
]

# A comment post that fails gives the commenter their text back.
handler500 = "comments.views.server_error"
handler404 = "newsroom.middleware.page_not_found"
