from django.urls import path

from comments import views
from comments.unsubscribe import unsubscribe

app_name = "comments"

urlpatterns = [
    path("post/<int:article_pk>/", views.post_comment, name="post"),
    path("token/", views.form_token, name="token"),
    path("captcha/<str:key>/audio.wav", views.captcha_audio, name="captcha-audio"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]
