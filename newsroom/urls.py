import errno

from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import PermissionDenied
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


def view_on_site(request, content_type_id, object_id):
    """The admin's "View on site" redirect, where the object's admin page offers it to this
    user: Django's answers any staff member, and would tell a moderator the address (the
    headline) of a draft, or of the article withdrawn since that a comment is on."""
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except (ContentType.DoesNotExist, ValueError):
        model = None  # the shortcut answers 404 itself
    if model is not None:
        if not admin.site.is_registered(model):
            raise Http404("No admin page offers this.")
        model_admin = admin.site.get_model_admin(model)
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        obj = model_admin.get_object(request, object_id)
        if obj is None:
            raise Http404("No admin page offers this.")  # or one this user cannot open
        if model_admin.get_view_on_site_url(obj) is None:
            raise PermissionDenied
    return shortcut(request, content_type_id, object_id)


urlpatterns = [
    path("admin/r/<path:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site)),
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
