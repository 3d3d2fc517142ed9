from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.static import serve

from comments.urls import captcha_urlpatterns


@require_safe
def media(request, path):
    """Uploaded lead images (staff uploads, so trusted files); a front proxy may serve
    MEDIA_ROOT itself, but without one `make serve` still shows them."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("captcha/", include(captcha_urlpatterns)),
    path("comments/", include("comments.urls")),
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media),
    path("", include("articles.urls")),
]
