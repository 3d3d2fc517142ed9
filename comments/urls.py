from captcha import views as captcha_views
from django.urls import path, re_path

from comments import views
from comments.unsubscribe import unsubscribe
from newsroom.methods import require_safe

app_name = "comments"

urlpatterns = [
    path("post/<int:article_pk>/", views.post_comment, name="post"),
    path("c/<int:pk>/", views.permalink, name="permalink"),
    path("token/", views.form_token, name="token"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
]

# django-simple-captcha's picture (under /captcha/, names unchanged: the library reverses
# them), for reading only. Its audio address is ours: its own view ran flite at every request
# and spelt our questions letter by letter; so is its "new question", which handed out pool
# questions other readers are given too, as often as anyone asked. Not its @2x picture: drawn
# at twice the font size in the same CAPTCHA_IMAGE_SIZE box, it cuts the question off.
captcha_urlpatterns = [
    re_path(r"^audio/(?P<key>\w+)\.wav$", views.captcha_audio, name="captcha-audio"),
    re_path(
        r"^image/(?P<key>\w+)/$",
        require_safe(captcha_views.captcha_image),
        name="captcha-image",
        kwargs={"scale": 1},
    ),
    re_path(r"^refresh/$", views.new_question, name="captcha-refresh"),
]
