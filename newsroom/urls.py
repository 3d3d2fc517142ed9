from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

urlpatterns = [
    path("admin/", admin.site.urls),
    path("captcha/", include("captcha.urls")),
    path("comments/", include("comments.urls")),
    # Lead images uploaded by editors (staff only, so trusted files). A front proxy may
    # serve MEDIA_ROOT itself; without one, this keeps `make serve` showing them.
    path(
        f"{settings.MEDIA_URL.strip('/')}/<path:path>",
        serve,
        {"document_root": settings.MEDIA_ROOT},
    ),
    path("", include("articles.urls")),
]
