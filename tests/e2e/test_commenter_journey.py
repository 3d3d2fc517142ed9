"""A new commenter leaves a reply in a real browser, the way a first-time reader would."""

import json
import re

import pytest
from captcha.models import CaptchaStore
from django.http import HttpResponse
from django.test import override_settings
from playwright.sync_api import expect

from articles import page_cache
from comments import services
from comments.captcha import WRONG_ANSWER
from comments.models import Comment
from comments.thread import PENDING_COOKIE
from comments.views import REMEMBER_COOKIE, SIGNED_REMEMBER_SALT, set_author_cookie
from tests.factories import (
    captcha_answer,
    captcha_answer_on,
    make_article,
    make_comment,
    make_moderator,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("commenting")]


def sent_comment(page, name):
    """The comment just sent, read once the browser has landed on it.

    A click returns before a held send (comments.js waits for its token) reaches the server,
    so the database is read only after the page shows the comment's permalink.
    """
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    comment = Comment.objects.get(name=name)
    assert page.url.endswith(f"#comment-{comment.pk}")
    return comment


def test_new_commenter_posts_and_only_they_see_it_awaiting_moderation(
    page, browser, live_server, screenshot_dir
):
    article = make_article(title="New footbridge opens")
    make_comment(article, name="Ada Lovelace", body="Finally a way across.")
    url = f"{live_server.url}{article.get_absolute_url()}"

    page.goto(url)
    form = page.locator("#respond")
    expect(form.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    form.get_by_role("textbox", name="Comment", exact=True).fill(
        "Walked over it this morning. <b>Lovely</b>!"
    )
    form.get_by_role("textbox", name="Name", exact=True).fill("Grace Hopper")
    form.get_by_role("textbox", name="Email", exact=True).fill("grace@example.com")
    answer = form.get_by_role("textbox", name="Answer the math question")
    answer.fill(str(int(captcha_answer_on(page)) + 1))  # a slip of the finger first
    form.get_by_role("button", name="Post Comment").click()

    summary = page.locator("#comment-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(WRONG_ANSWER)
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Walked over it this morning. <b>Lovely</b>!"
    )
    expect(form.get_by_role("textbox", name="Name", exact=True)).to_have_value("Grace Hopper")
    expect(form.get_by_role("textbox", name="Email", exact=True)).to_have_value("grace@example.com")
    expect(answer).to_have_value("")
    page.screenshot(path=screenshot_dir / "commenter-wrong-answer.png", full_page=True)
    assert Comment.objects.filter(name="Grace Hopper").count() == 0

    answer.fill(captcha_answer_on(page))
    form.get_by_role("button", name="Post Comment").click()

    comment = sent_comment(page, "Grace Hopper")
    mine = page.locator(f"#comment-{comment.pk}")
    expect(mine).to_contain_text("Your comment is awaiting moderation.")
    expect(mine).to_contain_text("Walked over it this morning. <b>Lovely</b>!")  # as text
    expect(page.get_by_role("status")).to_contain_text("Your comment is awaiting moderation.")
    page.screenshot(path=screenshot_dir / "commenter-awaiting-moderation.png", full_page=True)
    assert comment.status == Comment.Status.PENDING

    other_reader = browser.new_context().new_page()
    other_reader.goto(url)
    expect(other_reader.get_by_text("Finally a way across.")).to_be_visible()
    expect(other_reader.get_by_text("Walked over it this morning.")).to_have_count(0)
    other_reader.context.close()


def test_a_website_typed_without_https_is_taken_as_typed(page, live_server):
    """People type "example.com", not "https://example.com": the browser must not refuse
    what the server accepts (it adds the https:// itself)."""
    article = make_article(title="Allotments for rent")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "Plots by the river.")
    form.get_by_role("textbox", name="Website").fill("grace.example")
    form.get_by_role("button", name="Post Comment").click()

    assert sent_comment(page, "Nellie Bly").url == "https://grace.example"


def test_a_comment_pasted_over_the_limit_is_kept_whole_and_the_reader_told(page, live_server):
    """A box with maxlength cuts a longer pasted text at the limit without a word: the end
    of the comment would be lost, sent cut off mid-sentence."""
    article = make_article(title="Letters page returns")
    letter = "A long letter to the editor. " * 180 + "Yours sincerely, Nellie."
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "")
    form.get_by_role("textbox", name="Comment", exact=True).focus()
    page.keyboard.insert_text(letter)
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(letter)

    form.get_by_role("button", name="Post Comment").click()

    expect(page.locator("#comment-errors")).to_contain_text(f"(it has {len(letter)})")
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(letter)
    assert not Comment.objects.exists()


def test_a_paste_too_long_for_the_site_to_read_stays_in_the_form_and_the_reader_told(
    page, live_server
):
    """The site reads at most PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE (256 KB) from a reader, and
    answers a longer form with a short 413 page, unread. 30,000 Chinese characters, nine
    bytes each as the browser sends them, are over it: the reader was taken to that page,
    away from the form and their text."""
    letter = "這是一封寫給編輯的長信。" * 2500
    form, box = paste_into_a_new_comment(page, live_server, letter)

    form.get_by_role("button", name="Post Comment").click()

    expect(form.get_by_role("alert")).to_contain_text(
        "30,000 characters long, far more than a comment may be (5,000 characters)"
    )
    expect(box).to_have_value(letter)
    expect(box).to_be_focused()
    # What a screen reader says of the box it lands in: the alert may be cut short by the move.
    expect(box).to_have_accessible_description(re.compile("far more than a comment may be"))
    assert not Comment.objects.exists()


def test_a_paste_with_line_breaks_just_over_the_limit_as_sent_stays_in_the_form(page, live_server):
    """The browser sends each line break as two characters (CR LF, "%0D%0A"), where the
    form's script counted one ("%0A"): a paste of many lines a little over the limit as sent
    was let go, and the reader taken to the 413 page, away from the form."""
    letter = "這是一封寫給編輯的長信。\n" * 2200  # 2,200 line breaks: 6,600 bytes uncounted
    form, box = paste_into_a_new_comment(page, live_server, letter)
    # The limit just above what the form measured with one character per line break.
    counted_as_one = page.evaluate(
        """() => {
          const form = document.querySelector("#comment-form");
          const button = form.querySelector(".form-submit button");
          return new URLSearchParams(new FormData(form, button)).toString().length;
        }"""
    )
    limit = counted_as_one + 1000
    page.locator("textarea[data-max-form-bytes]").evaluate(
        "(box, limit) => { box.dataset.maxFormBytes = limit; }", limit
    )
    with override_settings(PUBLIC_DATA_UPLOAD_MAX_MEMORY_SIZE=limit):
        form.get_by_role("button", name="Post Comment").click()

        expect(form.get_by_role("alert")).to_contain_text("far more than a comment may be")
    expect(box).to_have_value(letter)
    assert not Comment.objects.exists()


def test_a_comment_too_long_for_the_site_is_still_in_the_form_back_from_the_413_page(
    page_without_javascript, live_server
):
    """Without JavaScript nothing checks the form's size before it is sent: the site answers
    with its 413 page, unread, and the reader's text is where they left it, one Back away.
    The page said "256.0 KB", and only that the browser "may" still show the text."""
    page = page_without_javascript
    article = make_article(title="Letters page returns")
    letter = "這是一封寫給編輯的長信。" * 2500
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, letter)

    form.get_by_role("button", name="Post Comment").click()

    expect(page.get_by_role("main")).to_contain_text("This site takes up to 256\xa0KB from a form")
    expect(page.get_by_role("main")).to_contain_text("go back with its Back button to find it")
    page.go_back()
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(letter)
    assert not Comment.objects.exists()


def test_a_paste_too_long_to_send_is_told_where_the_sites_own_errors_are_on_a_phone(
    page, live_server, screenshot_dir
):
    """The site's own errors show between a box's label and the box, with the field's red
    label: the browser's own came under the box, under the phone's keyboard once the box
    was focused, and out of step with every other error of the form."""
    page.set_viewport_size({"width": 360, "height": 800})
    form, box = paste_into_a_new_comment(page, live_server, "這是一封寫給編輯的長信。" * 2500)

    form.get_by_role("button", name="Post Comment").click()

    told = form.get_by_role("alert")
    expect(told).to_contain_text("far more than a comment may be")
    page.screenshot(path=screenshot_dir / "comment-too-long-to-send-360px.png")
    assert told.bounding_box()["y"] + told.bounding_box()["height"] <= box.bounding_box()["y"]
    expect(form.locator(".field--body")).to_have_class(re.compile("field--error"))


def test_words_typed_in_arabic_read_right_to_left_while_they_are_typed(page, live_server):
    """As the comment and its author's name will read once published (dir=auto): in a
    left-to-right box the question mark ended up at the start of the reader's sentence."""
    article = make_article(title="Station plans published")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    for box in ("Comment", "Name"):
        form.get_by_role("textbox", name=box, exact=True).fill("هل تُبنى المحطة قبل الشتاء؟")
        expect(form.get_by_role("textbox", name=box, exact=True)).to_have_css("direction", "rtl")
    form.get_by_role("textbox", name="Email", exact=True).fill("laila@example.com")
    expect(form.get_by_role("textbox", name="Email", exact=True)).to_have_css("direction", "ltr")


def test_the_spam_trap_is_beyond_the_reach_of_autofill(page, live_server):
    """A browser's autofill fills fields that are merely off screen, and a saved phone
    number in the trap would send the reader's comment to spam."""
    article = make_article()

    page.goto(f"{live_server.url}{article.get_absolute_url()}")

    expect(page.locator('input[name="phone"]')).to_be_hidden()
    expect(page.locator('input[name="phone"]')).to_have_value("")


def test_reply_link_moves_the_form_under_the_comment(page, live_server):
    article = make_article(title="Library hours extended")
    parent = make_comment(article, name="Ada Lovelace", body="Great news for students.")

    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    page.locator(f"#comment-{parent.pk}").get_by_role(
        "button", name="Reply to Ada Lovelace"
    ).click()

    form = page.locator(f"#comment-{parent.pk} #respond")
    expect(form.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_be_focused()
    form.get_by_role("textbox", name="Comment", exact=True).fill("Agreed, and weekends too.")
    form.get_by_role("textbox", name="Name", exact=True).fill("Grace Hopper")
    form.get_by_role("textbox", name="Email", exact=True).fill("grace@example.com")
    form.get_by_role("textbox", name="Answer the math question").fill(captcha_answer_on(page))
    form.get_by_role("button", name="Post Comment").click()

    reply = sent_comment(page, "Grace Hopper")
    expect(page.locator(f"#comment-{parent.pk} #comment-{reply.pk}")).to_contain_text(
        "Your comment is awaiting moderation."
    )
    assert reply.parent == parent


def test_going_back_after_sending_a_reply_shows_it_as_a_reply_again(page, live_server):
    """The browser puts the typed text back in the page it shows again; the form must still
    answer the comment it answered, or sending it again would post it on its own."""
    article = make_article(title="Market moves indoors")
    parent = make_comment(article, name="Ada Lovelace", body="Out of the rain at last.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    page.locator(f"#comment-{parent.pk}").get_by_role(
        "button", name="Reply to Ada Lovelace"
    ).click()
    fill_in(page.locator(f"#comment-{parent.pk} #respond"), page, "And warmer too.")
    page.get_by_role("button", name="Post Comment").click()
    sent_comment(page, "Nellie Bly")

    page.go_back()

    form = page.locator(f"#comment-{parent.pk} #respond")
    expect(form.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value("And warmer too.")
    expect(form.locator('input[name="parent"]')).to_have_value(str(parent.pk))


def test_choosing_another_comment_to_answer_clears_the_word_about_the_one_gone(page, live_server):
    article = make_article(title="Lido opens early")
    gone = make_comment(article, name="Ada Lovelace", status=Comment.Status.REJECTED)
    other = make_comment(article, name="Alan Turing", body="Seven sharp.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}?replyto={gone.pk}#respond")
    notice = page.get_by_text("The comment you chose to reply to is no longer shown")
    expect(notice).to_be_visible()

    page.locator(f"#comment-{other.pk}").get_by_role("button", name="Reply to Alan Turing").click()

    expect(page.get_by_role("heading", name="Reply to Alan Turing")).to_be_visible()
    expect(notice).to_be_hidden()


def test_a_reply_opened_in_a_new_tab_opens_there_with_the_text(page, live_server):
    """Ctrl+click (or Ctrl+Enter) asks for a new tab: the script must not take it over, and
    the Reply button sends the text typed so far there."""
    article = make_article(title="Night buses return")
    parent = make_comment(article, name="Ada Lovelace", body="At last.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    page.get_by_role("textbox", name="Comment", exact=True).fill("Started here.")

    with page.context.expect_page() as new_tab:
        page.get_by_role("button", name="Reply to Ada Lovelace").click(modifiers=["ControlOrMeta"])

    there = new_tab.value
    expect(there.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    expect(there.get_by_role("textbox", name="Comment", exact=True)).to_have_value("Started here.")
    expect(page.locator(f"#comment-{parent.pk} #respond")).to_have_count(0)


def test_new_question_without_reload_keeps_the_text(page, live_server):
    article = make_article(title="Market moves indoors")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    page.get_by_role("textbox", name="Comment", exact=True).fill("Half a thought")
    old_key = page.locator('input[name="captcha_0"]').input_value()

    for _ in range(5):  # the pool is random: a refresh may draw the same question again
        page.get_by_role("button", name="Show a new question").click()
        page.wait_for_load_state("networkidle")
        if page.locator('input[name="captcha_0"]').input_value() != old_key:
            break

    assert page.locator('input[name="captcha_0"]').input_value() != old_key
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_have_value("Half a thought")
    expect(page.get_by_role("textbox", name="Answer the math question")).to_be_focused()


def test_a_question_answered_since_the_page_was_shown_is_replaced_when_the_reader_writes(
    page, live_server
):
    """A second tab, a page shown again from the browser's cache, or a question another
    reader drew: the question on the page is gone by the time this reader writes."""
    article = make_article(title="Tram line extended")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    key = page.locator('input[name="captcha_0"]')
    shown = key.input_value()
    CaptchaStore.objects.filter(hashkey=shown).delete()  # answered in another tab

    page.get_by_role("textbox", name="Comment", exact=True).fill("Two stops further.")

    expect(key).not_to_have_value(shown)
    assert CaptchaStore.objects.filter(hashkey=key.input_value()).exists()
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_be_focused()


def test_two_readers_given_the_same_question_both_send_their_comments(page, live_server):
    """Cached pages share a sample of questions, and here the pool holds one: both readers
    are shown it. The first to answer uses it up; the second, who started writing before
    that, answers a question of their own and is not sent back."""
    CaptchaStore.objects.exclude(pk=CaptchaStore.objects.order_by("pk").first().pk).delete()
    article = make_article(title="Harbour wall repaired")
    url = f"{live_server.url}{article.get_absolute_url()}"
    other_reader = page.context.new_page()
    other_reader.goto(url)
    page.goto(url)
    shared = page.locator('input[name="captcha_0"]').input_value()
    assert other_reader.locator('input[name="captcha_0"]').input_value() == shared
    form = page.locator("#respond")
    form.get_by_role("textbox", name="Comment", exact=True).fill("Second to send, first to write.")
    form.get_by_role("textbox", name="Name", exact=True).fill("Nellie Bly")
    form.get_by_role("textbox", name="Email", exact=True).fill("nellie@example.com")
    form.get_by_role("textbox", name="Answer the math question").fill(captcha_answer_on(page))

    first = other_reader.locator("#respond")
    first.get_by_role("textbox", name="Comment", exact=True).fill("First to send.")
    first.get_by_role("textbox", name="Name", exact=True).fill("Ada Lovelace")
    first.get_by_role("textbox", name="Email", exact=True).fill("ada@example.com")
    first.get_by_role("textbox", name="Answer the math question").fill(
        captcha_answer_on(other_reader)
    )
    first.get_by_role("button", name="Post Comment").click()
    assert sent_comment(other_reader, "Ada Lovelace").body == "First to send."
    form.get_by_role("button", name="Post Comment").click()

    assert sent_comment(page, "Nellie Bly").body == "Second to send, first to write."


def test_an_answer_typed_before_the_readers_own_question_came_stays_with_its_question(
    page, live_server
):
    article = make_article(title="Library hours longer")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    key = page.locator('input[name="captcha_0"]')
    shown = key.input_value()
    answer = page.get_by_role("textbox", name="Answer the math question")

    with page.expect_response(lambda response: "/comments/token/" in response.url):
        answer.fill("12")

    expect(key).to_have_value(shown)
    expect(answer).to_have_value("12")


def test_a_question_listened_to_before_writing_stays_when_the_reader_writes(
    page, live_server, settings
):
    """Safari, and a screen reader in its browse mode, follow a link without focusing it: a
    reader who listened to the question first, then wrote, had the question they heard
    replaced by one of their own, and their answer to it called wrong."""
    settings.CAPTCHA_FLITE_PATH = settings.CAPTCHA_FLITE_PATH or "/usr/bin/flite"
    article = make_article(title="Swimming pool reopens")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    key = page.locator('input[name="captcha_0"]')
    heard = key.input_value()

    page.get_by_role("link", name="Listen to the question").dispatch_event("click")
    with page.expect_response(lambda response: "/comments/token/" in response.url):
        page.get_by_role("textbox", name="Comment", exact=True).fill("Heard it first.")

    expect(page.locator(".captcha[aria-busy=true]")).to_have_count(0)
    expect(key).to_have_value(heard)


def test_new_questions_past_the_budget_say_why_the_question_stays(page, live_server, settings):
    """With JavaScript as without: "Show a new question" spends the budget of the forms
    sent back (starting to write, which brings a question of one's own, spends one)."""
    settings.COMMENTS_REDISPLAY_LIMIT = 2
    article = make_article(title="Ferry timetable changes")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    form.get_by_role("textbox", name="Comment", exact=True).fill("Kept while I wait.")
    new_question = form.get_by_role("button", name="Show a new question")
    key = page.locator('input[name="captcha_0"]')
    expect(page.locator(".captcha[aria-busy=true]")).to_have_count(0)
    question = key.input_value()
    new_question.click()
    expect(key).not_to_have_value(question)
    question = key.input_value()

    new_question.click()

    expect(page.locator(".captcha__new + [aria-live]")).to_contain_text(
        "We cannot show you a new question just now"
    )
    expect(key).to_have_value(question)
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Kept while I wait."
    )


def test_listening_to_the_question_leaves_the_form_where_it_is(page, live_server, settings):
    """A form sent back with an error is the answer to a POST, which the browser does not
    keep: left for the audio, Back could not show it again (nor the question just heard)."""
    settings.CAPTCHA_FLITE_PATH = settings.CAPTCHA_FLITE_PATH or "/usr/bin/flite"
    article = make_article(title="Swimming pool reopens")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    form.get_by_role("textbox", name="Comment", exact=True).fill("Heard, not seen.")
    form.get_by_role("textbox", name="Name", exact=True).fill("Grace Hopper")
    form.get_by_role("textbox", name="Email", exact=True).fill("grace@example.com")
    answer = form.get_by_role("textbox", name="Answer the math question")
    answer.fill(str(int(captcha_answer_on(page)) + 1))
    form.get_by_role("button", name="Post Comment").click()
    expect(page.locator("#comment-errors")).to_be_focused()
    captcha_answer_on(page)  # the reader's own question has come
    question = page.locator('input[name="captcha_0"]').input_value()

    with page.context.expect_page() as player:
        form.get_by_role("link", name="Listen to the question").click()
    player.value.close()

    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Heard, not seen."
    )
    assert page.locator('input[name="captcha_0"]').input_value() == question


def test_a_form_sent_back_keeps_its_question_while_the_reader_corrects_it(page, live_server):
    """The question of a form sent back is the reader's own already: the script asked for
    another over it as the reader corrected their comment (one more from their budget),
    and the question they may have read was gone."""
    article = make_article(title="Lido reopens")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "Open at noon.", answer="wrong")
    form.get_by_role("button", name="Post Comment").click()
    expect(page.locator("#comment-errors")).to_contain_text(WRONG_ANSWER)
    key = page.locator('input[name="captcha_0"]')
    given = key.input_value()
    asked = []
    page.on("request", lambda request: asked.append(request.url))

    form.get_by_role("textbox", name="Comment", exact=True).fill("Open at noon, not ten.")
    form.get_by_role("textbox", name="Answer the math question").fill(captcha_answer(given))
    form.get_by_role("button", name="Post Comment").click()

    assert sent_comment(page, "Nellie Bly").body == "Open at noon, not ten."
    assert not [url for url in asked if "/comments/token/" in url]


def test_a_reply_with_an_error_comes_back_under_its_comment(page, live_server):
    article = make_article(title="Bus route restored")
    parent = make_comment(article, name="Ada Lovelace", body="About time.")

    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    page.locator(f"#comment-{parent.pk}").get_by_role(
        "button", name="Reply to Ada Lovelace"
    ).click()
    form = page.locator(f"#comment-{parent.pk} #respond")
    form.get_by_role("textbox", name="Comment", exact=True).fill("It runs hourly now.")
    form.get_by_role("textbox", name="Name", exact=True).fill("Grace Hopper")
    form.get_by_role("textbox", name="Email", exact=True).fill("not-an-email")
    form.get_by_role("textbox", name="Answer the math question").fill(captcha_answer_on(page))
    form.evaluate("respond => respond.querySelector('form').noValidate = true")
    form.get_by_role("button", name="Post Comment").click()

    # The summary first: until the answer is in, the form under the comment is the sent one.
    expect(page.locator("#comment-errors")).to_be_focused()
    form = page.locator(f"#comment-{parent.pk} #respond")
    expect(form.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "It runs hourly now."
    )


@pytest.fixture
def shared_copy(reader_cache, browser, live_server):
    """The page cache on, and the article page already stored by an earlier reader."""

    def store(article):
        earlier_reader = browser.new_context()
        assert earlier_reader.request.get(f"{live_server.url}{article.get_absolute_url()}").ok
        earlier_reader.close()

    return store


def paste_into_a_new_comment(page, live_server, letter):
    """A new article's form filled in, `letter` pasted as its comment: (the form, the box)."""
    article = make_article(title="Letters page returns")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "")
    box = form.get_by_role("textbox", name="Comment", exact=True)
    box.focus()
    page.keyboard.insert_text(letter)
    return form, box


def fill_in(form, page, text, *, answer=None):
    form.get_by_role("textbox", name="Comment", exact=True).fill(text)
    form.get_by_role("textbox", name="Name", exact=True).fill("Nellie Bly")
    form.get_by_role("textbox", name="Email", exact=True).fill("nellie@example.com")
    form.get_by_role("textbox", name="Answer the math question").fill(
        answer or captcha_answer_on(page)
    )


def test_a_comment_from_a_shared_cached_page_is_sent_in_one_go(page, live_server, shared_copy):
    article = make_article(title="Harbour wall repaired")
    shared_copy(article)

    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    assert page.locator('input[name="csrfmiddlewaretoken"]').input_value() == ""
    form = page.locator("#respond")
    fill_in(form, page, "Sent from the shared copy.")
    form.get_by_role("button", name="Post Comment").click()

    comment = sent_comment(page, "Nellie Bly")
    expect(page.locator(f"#comment-{comment.pk}")).to_contain_text("Sent from the shared copy.")


def test_once_the_comment_is_approved_the_browser_forgets_it_was_waiting(
    page, live_server, shared_copy
):
    """The page that shows it approved ends the pending cookie (written with the attributes
    it was set with): the article then comes to this browser from the cache, as to others."""
    article = make_article(title="Ferry timetable changes")
    shared_copy(article)
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "Will the early boat stay?")
    form.get_by_role("button", name="Post Comment").click()
    comment = sent_comment(page, "Nellie Bly")
    assert PENDING_COOKIE in {cookie["name"] for cookie in page.context.cookies()}

    services.approve(comment, by=make_moderator())
    page.reload()

    mine = page.locator(f"#comment-{comment.pk}")
    expect(mine).to_contain_text("Will the early boat stay?")
    expect(mine).not_to_contain_text("Your comment is awaiting moderation.")
    assert PENDING_COOKIE not in {cookie["name"] for cookie in page.context.cookies()}


def test_a_commenter_reloading_their_article_is_answered_304_until_a_moderator_decides(
    page, live_server, shared_copy, monkeypatch
):
    """Their browser keeps their own page and asks again with its ETag: nothing changed, the
    answer is a 304, no render, and the page still shows their comment waiting; once a
    moderator has rejected it, the reload gets the page without it. (Chromium tells a
    revalidated page's status as the kept copy's 200: the server's renders are counted.)"""
    renders = []
    render_for_reader = page_cache.ReaderPageCacheMiddleware.render_for_reader

    def counted(middleware, request):
        renders.append(request.path)
        return render_for_reader(middleware, request)

    monkeypatch.setattr(page_cache.ReaderPageCacheMiddleware, "render_for_reader", counted)
    article = make_article(title="Lighthouse to reopen")
    shared_copy(article)
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "Can we climb it?")
    form.get_by_role("button", name="Post Comment").click()
    comment = sent_comment(page, "Nellie Bly")
    mine = page.locator(f"#comment-{comment.pk}")
    page.reload()  # their own page, without the message the landing had: it gets its ETag
    expect(mine).to_contain_text("Your comment is awaiting moderation.")
    renders.clear()

    with page.expect_response(lambda r: r.url.endswith(article.get_absolute_url())) as asked:
        page.reload()

    etag = asked.value.header_value("etag")
    assert etag
    assert asked.value.request.header_value("if-none-match") == etag
    assert article.get_absolute_url() not in renders
    expect(mine).to_contain_text("Can we climb it?")
    expect(mine).to_contain_text("Your comment is awaiting moderation.")

    services.reject(comment, by=make_moderator())
    page.reload()

    assert article.get_absolute_url() in renders
    expect(page.get_by_text("Can we climb it?")).to_have_count(0)


def test_a_double_click_while_the_token_is_on_its_way_sends_the_comment(
    page, live_server, shared_copy
):
    """On a slow connection the token can still be coming when the reader sends: the send
    is held for it, and a second click must not go out without it ("One more step")."""
    article = make_article(title="Pier reopens")
    shared_copy(article)
    held = []
    page.route("**/comments/token/", lambda route: held.append(route))  # a slow network
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    # The page's question, answered before the token (and the reader's own question) came.
    fill_in(
        form,
        page,
        "Sent with a double click.",
        answer=captcha_answer(page.locator('input[name="captcha_0"]').input_value()),
    )

    sends = []
    page.on("request", lambda request: request.method == "POST" and sends.append(request))

    form.get_by_role("button", name="Post Comment").dblclick()
    held[0].continue_()

    comment = sent_comment(page, "Nellie Bly")
    expect(page.locator(f"#comment-{comment.pk}")).to_contain_text("Sent with a double click.")
    assert len(sends) == 1  # the second click went with the first, not on its own before it


def remembered_boxes(form):
    return [
        form.get_by_role("textbox", name="Name", exact=True),
        form.get_by_role("textbox", name="Email", exact=True),
        form.get_by_role("textbox", name="Website"),
    ]


def test_remember_me_fills_the_next_form_from_the_browser_alone_until_unticked(
    page, live_server, shared_copy
):
    """The details are the browser's: the shared copy every reader gets, as served, holds
    none, and the form's script fills them in as the page shows, before the reader starts
    writing. Posting with the box unticked forgets them."""
    first = make_article(title="Harbour wall repaired")
    second = make_article(title="Pier reopens")
    third = make_article(title="Ferry timetable changes")
    for article in (first, second, third):
        shared_copy(article)
    page.goto(f"{live_server.url}{first.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "Remember me, please.")
    form.get_by_role("textbox", name="Website").fill("nellie.example")
    form.get_by_role("checkbox", name=re.compile("Save my name")).check()
    form.get_by_role("button", name="Post Comment").click()
    sent_comment(page, "Nellie Bly")

    served = page.goto(f"{live_server.url}{second.get_absolute_url()}")
    form = page.locator("#respond")
    name, email, website = remembered_boxes(form)
    remember = form.get_by_role("checkbox", name=re.compile("Save my name"))

    assert "nellie" not in served.text().lower()  # the shared copy, as stored
    expect(name).to_have_value("Nellie Bly")
    expect(email).to_have_value("nellie@example.com")
    expect(website).to_have_value("https://nellie.example")
    expect(remember).to_be_checked()

    form.get_by_role("textbox", name="Comment", exact=True).fill("Back again, forget me now.")
    remember.uncheck()
    form.get_by_role("textbox", name="Answer the math question").fill(captcha_answer_on(page))
    form.get_by_role("button", name="Post Comment").click()
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    assert Comment.objects.get(article=second).url == "https://nellie.example"

    page.goto(f"{live_server.url}{third.get_absolute_url()}")
    form = page.locator("#respond")
    form.get_by_role("textbox", name="Comment", exact=True).fill("Who am I?")
    expect(form.locator(".captcha")).not_to_have_attribute("aria-busy", "true")  # token came

    for box in remembered_boxes(form):
        expect(box).to_have_value("")
    expect(form.get_by_role("checkbox", name=re.compile("Save my name"))).not_to_be_checked()


def test_remember_me_keeps_the_longest_name_and_email_the_boxes_take(page, live_server):
    """Percent-encoded, so many characters of three bytes would make a cookie over the 4 KB
    a browser keeps, and it would keep none: the website gives way, the rest is remembered.
    Firefox and Safari send an email's internationalised domain as typed; Chromium's email
    box takes it only typed by hand (and sends it in punycode), so its check is off here."""
    first = make_article(title="Harbour wall repaired")
    second = make_article(title="Pier reopens")
    name, email = "漢" * 100, "a@" + ".".join(["漢" * 19] * 12) + ".jp"
    website = "https://漢.jp/" + "漢" * 190
    page.goto(f"{live_server.url}{first.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "Remember me, all of me.")
    for box, value in zip(remembered_boxes(form), [name, email, website], strict=True):
        box.fill(value)
    form.get_by_role("checkbox", name=re.compile("Save my name")).check()
    page.locator("#comment-form").evaluate("form => { form.noValidate = true; }")
    form.get_by_role("button", name="Post Comment").click()
    assert sent_comment(page, name).url == website

    page.goto(f"{live_server.url}{second.get_absolute_url()}")
    boxes = remembered_boxes(page.locator("#respond"))

    for box, value in zip(boxes, [name, email, ""], strict=True):
        expect(box).to_have_value(value)


def test_a_form_sent_back_shows_what_the_remembered_reader_sent(page, live_server):
    """Sent without their website and with the box unticked, a form that comes back (a
    wrong answer) shows just that: the script does not put the remembered details back."""
    article = make_article(title="Pier reopens")
    remembered = HttpResponse()
    set_author_cookie(
        remembered,
        {"name": "Nellie Bly", "email": "nellie@example.com", "url": "https://n.example"},
    )
    page.context.add_cookies(
        [
            {
                "name": REMEMBER_COOKIE,
                "value": remembered.cookies[REMEMBER_COOKIE].coded_value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    name, email, website = remembered_boxes(form)
    remember = form.get_by_role("checkbox", name=re.compile("Save my name"))
    expect(website).to_have_value("https://n.example")

    website.fill("")
    remember.uncheck()
    fill_in(form, page, "Without my website.", answer="wrong")
    form.get_by_role("button", name="Post Comment").click()

    expect(page.locator("#comment-errors")).to_contain_text(WRONG_ANSWER)
    expect(name).to_have_value("Nellie Bly")
    expect(email).to_have_value("nellie@example.com")
    expect(website).to_have_value("")
    expect(remember).not_to_be_checked()


def test_a_commenter_remembered_before_the_script_read_the_cookie_is_remembered_still(
    page, live_server, shared_copy
):
    """Their details were in a signed cookie the script cannot read: the answer that brings
    the token puts them in the one it reads, and they fill the form from then on."""
    article = make_article(title="Pier reopens")
    shared_copy(article)
    signed = HttpResponse()
    signed.set_signed_cookie(
        REMEMBER_COOKIE,
        json.dumps({"name": "Nellie Bly", "email": "nellie@example.com", "url": ""}),
        salt=SIGNED_REMEMBER_SALT,
    )
    page.context.add_cookies(
        [
            {
                "name": REMEMBER_COOKIE,
                "value": signed.cookies[REMEMBER_COOKIE].coded_value,
                "url": live_server.url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    name, email, website = remembered_boxes(form)
    expect(name).to_have_value("")  # out of the script's reach until the token comes

    form.get_by_role("textbox", name="Comment", exact=True).fill("Back again.")

    expect(name).to_have_value("Nellie Bly")
    expect(email).to_have_value("nellie@example.com")
    expect(website).to_have_value("")
    expect(form.get_by_role("checkbox", name=re.compile("Save my name"))).to_be_checked()
    page.reload()
    expect(name).to_have_value("Nellie Bly")  # on load now


def test_without_javascript_a_shared_page_takes_one_more_step(
    page_without_javascript, browser, live_server, shared_copy
):
    article = make_article(title="Ferry timetable changes")
    shared_copy(article)
    page = page_without_javascript

    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    fill_in(form, page, "Sent without JavaScript.")
    form.get_by_role("button", name="Post Comment").click()

    expect(page.get_by_role("heading", name="One more step to send your comment")).to_be_visible()
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Sent without JavaScript."
    )
    # The question was not checked yet: it is still the reader's, answered, not a new one.
    answer = form.get_by_role("textbox", name="Answer the math question")
    expect(answer).to_have_value(captcha_answer_on(page))
    form.get_by_role("button", name="Post Comment").click()

    comment = sent_comment(page, "Nellie Bly")
    assert comment.body == "Sent without JavaScript."
    expect(page.locator(f"#comment-{comment.pk}")).to_contain_text(
        "Your comment is awaiting moderation."
    )
    # The shared copy other readers get still shows nothing of it.
    other_reader = browser.new_context(java_script_enabled=False)
    shared = other_reader.request.get(f"{live_server.url}{article.get_absolute_url()}")
    assert "Ferry timetable changes" in shared.text()
    assert "Sent without JavaScript." not in shared.text()
    other_reader.close()


def test_without_javascript_choosing_a_comment_to_answer_keeps_what_was_typed(
    page_without_javascript, live_server
):
    """The reader writes first and then decides whom to answer: Reply (and Cancel reply)
    bring the form back with every word, and the reply goes under the comment."""
    page = page_without_javascript
    article = make_article(title="Tram line extended")
    ada = make_comment(article, name="Ada Lovelace", body="To the harbour, at last.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    comment_box = form.get_by_role("textbox", name="Comment", exact=True)
    comment_box.fill("Typed before choosing whom to answer.")
    form.get_by_role("textbox", name="Name", exact=True).fill("Nellie Bly")
    form.get_by_role("textbox", name="Email", exact=True).fill("nellie@example.com")
    form.get_by_role("checkbox", name="Email me when my comment is published").check()
    answer = form.get_by_role("textbox", name="Answer the math question")
    answer.fill(captcha_answer_on(page))
    answered = answer.input_value()

    page.get_by_label("Reply to Ada Lovelace").click()

    expect(form.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    expect(comment_box).to_have_value("Typed before choosing whom to answer.")
    form.get_by_role("button", name="Cancel reply").click()

    expect(form.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    expect(comment_box).to_have_value("Typed before choosing whom to answer.")
    page.get_by_label("Reply to Ada Lovelace").click()

    expect(form.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    expect(form.get_by_role("textbox", name="Name", exact=True)).to_have_value("Nellie Bly")
    expect(form.get_by_role("textbox", name="Email", exact=True)).to_have_value(
        "nellie@example.com"
    )
    expect(answer).to_have_value(answered)
    form.get_by_role("button", name="Post Comment").click()

    reply = sent_comment(page, "Nellie Bly")
    assert reply.body == "Typed before choosing whom to answer."
    assert reply.parent == ada
    assert reply.notify_on_publish


def test_without_javascript_a_reply_chosen_on_a_shared_page_keeps_what_was_typed(
    page_without_javascript, live_server, shared_copy
):
    """A shared cached page carries no CSRF token: the Reply button's send takes the one
    more step, and brings the reader's text with it."""
    article = make_article(title="Lighthouse repainted")
    ada = make_comment(article, name="Ada Lovelace", body="Red and white again.")
    shared_copy(article)
    page = page_without_javascript

    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    form.get_by_role("textbox", name="Comment", exact=True).fill("Typed on the shared copy.")
    page.get_by_label("Reply to Ada Lovelace").click()

    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Typed on the shared copy."
    )
    expect(page.get_by_role("heading", name="Your reply", exact=True)).to_be_visible()
    expect(form.get_by_role("heading", name="Reply to Ada Lovelace")).to_be_visible()
    fill_in(form, page, "Typed on the shared copy.")
    form.get_by_role("button", name="Post Comment").click()

    reply = sent_comment(page, "Nellie Bly")
    assert reply.parent == ada


def test_without_javascript_new_questions_past_the_budget_say_why_the_question_stays(
    page_without_javascript, live_server, settings
):
    """Past the budget for forms sent back (each renders the article page), "Show a new
    question" brings back the same question: the reader is told why, next to the button
    too, and can still answer it and send what they wrote."""
    settings.COMMENTS_REDISPLAY_LIMIT = 1
    page = page_without_javascript
    article = make_article(title="Ferry timetable changes")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    form = page.locator("#respond")
    form.get_by_role("textbox", name="Comment", exact=True).fill("Kept while I wait.")
    form.get_by_role("textbox", name="Name", exact=True).fill("Nellie Bly")
    form.get_by_role("textbox", name="Email", exact=True).fill("nellie@example.com")
    new_question = form.get_by_role("button", name="Show a new question")
    new_question.click()  # within the budget: another question
    question = page.locator("input[name=captcha_0]").input_value()

    new_question.click()

    expect(page.get_by_role("heading", name="Please wait a little")).to_be_visible()
    expect(page.locator("#new-question-refused")).to_contain_text(
        "We cannot show you a new question just now"
    )
    expect(page.locator("#new-question-refused")).to_contain_text(
        "The question below is the one you had"
    )
    expect(new_question).to_have_accessible_description(re.compile("shows the same question"))
    assert page.locator("input[name=captcha_0]").input_value() == question
    expect(form.get_by_role("textbox", name="Comment", exact=True)).to_have_value(
        "Kept while I wait."
    )
    form.get_by_role("textbox", name="Answer the math question").fill(captcha_answer_on(page))
    form.get_by_role("button", name="Post Comment").click()

    assert sent_comment(page, "Nellie Bly").body == "Kept while I wait."
