"""With the default task backend, emails go out once the response is sent (newsroom/tasks.py):
the commenter, the moderator or the editor does not wait for the mail server, however many
emails one change releases. Real commits, so that the emails are queued inside the request."""

import pytest
from django.core import mail
from django.test import Client

from articles.models import Article
from comments.models import Comment
from tests.factories import make_article, make_comment, make_editor, make_moderator

pytestmark = pytest.mark.django_db(transaction=True)


class CountEmailsAtResponse:
    """Outermost middleware: how many emails had gone when the response was complete."""

    counts = []

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        self.counts.append(len(mail.outbox))
        return response


@pytest.fixture
def emails_at_response(settings):
    settings.MIDDLEWARE = [f"{__name__}.CountEmailsAtResponse", *settings.MIDDLEWARE]
    CountEmailsAtResponse.counts = []
    return CountEmailsAtResponse.counts


def test_republishing_sends_the_emails_it_releases_after_the_editors_response(
    emails_at_response,
):
    article = make_article(status=Article.Status.DRAFT)
    waiting = [make_comment(article, notify_on_publish=True) for _ in range(3)]
    editor = Client()
    editor.force_login(make_editor())

    editor.post("/admin/articles/article/", {"action": "publish", "_selected_action": [article.pk]})

    assert emails_at_response == [0]
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        comment.email for comment in waiting
    )


def test_a_held_comment_reaches_the_moderators_after_the_commenters_response(
    client, fill_form, emails_at_response
):
    article = make_article()
    make_moderator("moira", email="moira@newsroom.test")

    response = client.post(f"/comments/post/{article.pk}/", fill_form(article))

    assert response.status_code == 303
    assert Comment.objects.get().status == Comment.Status.PENDING
    assert emails_at_response[-1] == 0
    [message] = mail.outbox
    assert message.bcc == ["moira@newsroom.test"]
