from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("captcha/", include("captcha.urls")),
    path("comments/", include("comments.urls")),
    path("", include("articles.urls")),
]
