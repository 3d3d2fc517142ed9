from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import PermissionDenied
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.static import serve

from comments.urls import captcha_urlpatterns


@require_safe
def media(request, path):
    """Uploaded lead images (staff uploads, so trusted files); a front proxy may serve
    MEDIA_ROOT itself, but without one `make serve` still shows them."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


def view_on_site(request, content_type_id, object_id):
    """The admin's "View on site" redirect, for staff who may view that kind of object:
    Django's answers any staff member, and would tell a moderator a draft's address (its
    headline)."""
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except (ContentType.DoesNotExist, ValueError):
        model = None  # the shortcut answers 404 itself
    if model is not None:
        permission = get_permission_codename("view", model._meta)
        if not request.user.has_perm(f"{model._meta.app_label}.{permission}"):
            raise PermissionDenied
    return shortcut(request, content_type_id, object_id)


urlpatterns = [
    path("admin/r/<path:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site)),
    path("admin/", admin.site.urls),
    path("captcha/", include(captcha_urlpatterns)),
    path("comments/", include("comments.urls")),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media),
    path("", include("articles.urls")),
]
