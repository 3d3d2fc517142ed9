"""A moderator clears the queue in a real browser; readers then see the outcome."""

import contextlib
import re

import pytest
from django.test import Client
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from comments import services
from comments.models import Comment, isolated
from tests.factories import PASSWORD, make_article, make_comment, make_moderator, make_superuser

pytestmark = pytest.mark.django_db(transaction=True)


def test_moderator_approves_two_in_bulk_and_marks_one_as_spam(page, live_server, screenshot_dir):
    article = make_article(title="Harbour wall repaired")
    first = make_comment(article, status=Comment.Status.PENDING, body="Good to see it fixed.")
    second = make_comment(article, status=Comment.Status.PENDING, body="About time, too.")
    spam = make_comment(
        article, status=Comment.Status.PENDING, body="Cheap watches at example dot com."
    )
    make_moderator("moira")

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("moira")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    notice = page.get_by_role("link", name="3 comments awaiting moderation")
    expect(notice).to_be_visible()
    page.screenshot(path=screenshot_dir / "moderation-index.png", full_page=True)
    notice.click()
    page.screenshot(path=screenshot_dir / "moderation-queue.png", full_page=True)

    for comment in (first, second):
        page.locator(f'input[name="_selected_action"][value="{comment.pk}"]').check()
    page.locator('select[name="action"]').select_option("approve_selected")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("2 comments approved.")).to_be_visible()
    expect(page.get_by_role("link", name="1 comment awaiting moderation")).to_be_visible()

    spam_row = page.locator("#result_list tbody tr").filter(has_text="Cheap watches")
    spam_row.get_by_role("button", name="Spam").click()
    expect(page.get_by_text(f"Comment by {isolated(spam.name)} marked as spam.")).to_be_visible()
    expect(page.get_by_role("link", name="No comments awaiting moderation")).to_be_visible()
    page.screenshot(path=screenshot_dir / "moderation-queue-cleared.png", full_page=True)

    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    comments = page.locator("#comments")
    expect(comments.get_by_text("Good to see it fixed.")).to_be_visible()
    expect(comments.get_by_text("About time, too.")).to_be_visible()
    expect(page.get_by_text("Cheap watches")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "moderation-article-after.png", full_page=True)


def test_a_long_name_without_spaces_keeps_moderation_within_a_phone_screen(browser, live_server):
    """The name is the commenter's to choose; on a 360 px phone it wraps in the page's title
    and breadcrumbs, and in the "marked as spam" message, instead of widening the page."""
    article = make_article(title="Harbour wall repaired")
    comment = make_comment(article, status=Comment.Status.PENDING, name="X" * 100)
    make_moderator("moira")
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/comments/comment/{comment.pk}/change/")
    page.get_by_label("Username").fill("moira")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name=str(comment))).to_be_visible()
    assert_no_sideways_scroll(page)
    page.get_by_role("button", name="Spam").click()
    expect(page.get_by_text(f"Comment by {isolated(comment.name)} marked as spam.")).to_be_visible()
    assert_no_sideways_scroll(page)
    context.close()


def assert_no_sideways_scroll(page):
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide on a {widths[1]} px screen"


def test_a_long_word_in_a_comment_leaves_the_quick_decisions_in_sight(page, live_server):
    """Spam often is one long link: its excerpt must not push every row's buttons off screen."""
    article = make_article(title="Harbour wall repaired")
    make_comment(article, status=Comment.Status.PENDING, body="Good to see it fixed.")
    make_comment(article, status=Comment.Status.PENDING, body="https://example.org/" + "a" * 280)
    make_moderator("moira")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/login/?next=/admin/comments/comment/")
    page.get_by_label("Username").fill("moira")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    row = page.locator("#result_list tbody tr").filter(has_text="Good to see it fixed.")
    expect(row.get_by_role("button", name="Approve")).to_be_in_viewport()
    expect(row.get_by_role("button", name="Spam")).to_be_in_viewport()


def test_a_moderator_finds_who_deleted_a_comment_in_the_action_log(page, live_server):
    """A deleted comment's history page is gone with it: the action log still says who."""
    article = make_article(title="Harbour wall repaired")
    kept = make_comment(article, status=Comment.Status.PENDING, name="Ann")
    gone = make_comment(article, name="Bob")
    services.approve(kept, by=make_moderator("moira"))
    superuser = Client()  # deleting comments is a superuser's
    superuser.force_login(make_superuser("eddie"))
    superuser.post(f"/admin/comments/comment/{gone.pk}/delete/", {"post": "yes"})

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("moira")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Log entries").click()

    expect(page.get_by_role("heading", name="Action log")).to_be_visible()
    deletion = page.locator("#result_list tbody tr").filter(
        has_text=f"Comment by {isolated('Bob')}"
    )
    expect(deletion).to_contain_text("eddie")
    expect(deletion).to_contain_text("Deletion")
    expect(deletion.get_by_role("link")).to_have_count(0)  # nothing left to open
    decision = page.locator("#result_list tbody tr").filter(
        has_text=f"Comment by {isolated('Ann')}"
    )
    expect(decision).to_contain_text("Approved.")
    decision.get_by_role("link", name=f"Comment by {isolated('Ann')}").click()
    expect(page.get_by_role("heading", name=f"Comment by {isolated('Ann')}")).to_be_visible()


def test_a_superuser_asked_to_delete_a_moderator_deactivates_them_and_the_log_keeps_who_decided(
    browser, live_server
):
    """Deleting the account would delete the entries that say who decided what: the delete
    page says so and leads to the account's page, where unticking Active ends the sign-in."""
    comment = make_comment(make_article(), status=Comment.Status.PENDING, name="Ann")
    services.approve(comment, by=make_moderator("moira"))
    make_superuser("eddie")
    page = browser.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/auth/user/")
    page.get_by_label("Username").fill("eddie")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="moira").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Cannot delete user")).to_be_visible()
    expect(page.get_by_text("1 entry in the action log records what moira did")).to_be_visible()
    expect(page.locator('input[name="post"]')).to_have_count(0)  # no form to confirm
    page.get_by_role("link", name="its page").click()
    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()

    moira = browser.new_page()
    sign_in(moira, live_server, "moira")
    expect(moira.get_by_text("Please enter the correct username and password")).to_be_visible()
    page.goto(f"{live_server.url}/admin/admin/logentry/")
    decision = page.locator("#result_list tbody tr").filter(
        has_text=f"Comment by {isolated('Ann')}"
    )
    expect(decision).to_contain_text("moira")
    expect(decision).to_contain_text("Approved.")
    page.close()
    moira.close()


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/comments/comment/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_fix_to_the_text_made_before_approving_on_the_comment_s_page_is_published(
    page, live_server
):
    """The decision buttons above the text sent a form of their own: a moderator who took
    an address out of a comment, then clicked Approve, published it with the address, and
    read only "approved"."""
    article = make_article(title="Harbour wall repaired")
    comment = make_comment(
        article, status=Comment.Status.PENDING, body="Call me on 555 0100 about the wall."
    )
    make_moderator("moira")
    sign_in(page, live_server, "moira")
    page.goto(f"{live_server.url}/admin/comments/comment/{comment.pk}/change/")

    page.get_by_label("Body").fill("Call me about the wall.")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_text(f"Comment by {isolated(comment.name)} approved.")).to_be_visible()
    expect(page.get_by_label("Body")).to_have_value("Call me about the wall.")
    page.goto(f"{live_server.url}{article.get_absolute_url()}")
    expect(page.locator("#comments").get_by_text("Call me about the wall.")).to_be_visible()
    expect(page.get_by_text("555 0100")).to_have_count(0)


def test_two_moderators_on_one_queue_never_overturn_each_other_unknowingly(browser, live_server):
    """Moira marks a comment as spam while Max has the queue open: his Approve on that row,
    from the page shown before, published the spam."""
    article = make_article(title="Harbour wall repaired")
    comment = make_comment(
        article, status=Comment.Status.PENDING, body="Cheap watches at example dot com."
    )
    make_moderator("moira")
    make_moderator("max")
    moira, max_ = browser.new_page(), browser.new_page()
    sign_in(moira, live_server, "moira")
    sign_in(max_, live_server, "max")
    row = "#result_list tbody tr"

    moira.locator(row).filter(has_text="Cheap watches").get_by_role("button", name="Spam").click()
    spam_message = f"Comment by {isolated(comment.name)} marked as spam."
    expect(moira.get_by_text(spam_message)).to_be_visible()
    max_.locator(row).filter(has_text="Cheap watches").get_by_role("button", name="Approve").click()

    expect(
        max_.get_by_text(
            f"Comment by {isolated(comment.name)} was marked as spam by moira while you"
        )
    ).to_be_visible()
    expect(max_.locator(row).filter(has_text="Cheap watches")).to_have_count(0)
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.SPAM
    max_.goto(f"{live_server.url}{article.get_absolute_url()}")
    expect(max_.get_by_text("Cheap watches")).to_have_count(0)


def test_a_bulk_approval_on_all_never_overturns_another_moderators_spam(browser, live_server):
    """On "All" the action keeps no status filter: Max ticked a comment shown as pending,
    Moira marked it as spam, and Max's "Approve selected" published the spam."""
    article = make_article(title="Harbour wall repaired")
    spam = make_comment(
        article, status=Comment.Status.PENDING, body="Cheap watches at example dot com."
    )
    fine = make_comment(article, status=Comment.Status.PENDING, body="Good to see it fixed.")
    make_moderator("moira")
    make_moderator("max")
    moira, max_ = browser.new_page(), browser.new_page()
    sign_in(moira, live_server, "moira")
    sign_in(max_, live_server, "max")
    max_.get_by_role("link", name="All (2)").click()
    row = "#result_list tbody tr"
    for comment in (spam, fine):
        max_.locator(f'input[name="_selected_action"][value="{comment.pk}"]').check()

    moira.locator(row).filter(has_text="Cheap watches").get_by_role("button", name="Spam").click()
    expect(moira.get_by_text(f"Comment by {isolated(spam.name)} marked as spam.")).to_be_visible()
    max_.locator('select[name="action"]').select_option("approve_selected")
    max_.get_by_role("button", name="Run").click()

    expect(max_.get_by_text("1 comment approved.")).to_be_visible()
    expect(max_.get_by_text("1 selected comment was left as it is")).to_be_visible()
    spam_row = max_.locator(row).filter(has_text="Cheap watches")
    expect(spam_row.locator(".comment-status")).to_have_text("Spam")
    assert Comment.objects.get(pk=spam.pk).status == Comment.Status.SPAM
    assert Comment.objects.get(pk=fine.pk).status == Comment.Status.APPROVED


def ann_bob_and_cy_waiting_for_moira():
    """Three pending comments, in the queue's order, and Moira to moderate them."""
    article = make_article(title="Harbour wall repaired")
    make_moderator("moira")
    return [
        make_comment(article, status=Comment.Status.PENDING, name=name)
        for name in ("Ann", "Bob", "Cy")
    ]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_keyboard_moderator_goes_on_from_the_next_row_after_each_decision(
    browser, live_server, javascript
):
    """After a row's Approve or Spam the list came back with the focus at the top: at the
    keyboard, or with a screen reader, the whole header was tabbed through again for each
    comment. The button the focus lands on is described by what was decided: a screen
    reader read out that button alone, and the moderator never heard the outcome."""
    ann, bob, cy = ann_bob_and_cy_waiting_for_moira()
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/comments/comment/")
    # The sign-in page puts the focus in the username box (typed into before that, under
    # load, the name lost its first letter).
    expect(page.get_by_role("textbox", name="Username:")).to_be_focused()
    page.keyboard.type("moira")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Select comment to change")).to_be_visible()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == (
            f"Approve: comment by {isolated('Ann')}"
        ):
            break

    page.keyboard.press("Enter")

    expect(page.get_by_text(f"Comment by {isolated(ann.name)} approved.")).to_be_visible()
    next_row = page.get_by_role("button", name=f"Approve: comment by {isolated('Bob')}")
    expect(next_row).to_be_focused()
    expect(next_row).to_be_in_viewport()
    expect(next_row).to_have_accessible_description(f"Comment by {isolated(ann.name)} approved.")
    page.keyboard.press("Tab")
    spam_bob = page.get_by_role("button", name=f"Spam: comment by {isolated('Bob')}")
    expect(spam_bob).to_be_focused()
    expect(spam_bob).to_have_accessible_description("")  # said once, not at every button
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Comment by {isolated(bob.name)} marked as spam.")).to_be_visible()
    expect(page.get_by_role("button", name=f"Approve: comment by {isolated('Cy')}")).to_be_focused()
    expect(
        page.get_by_role("button", name=f"Approve: comment by {isolated('Cy')}")
    ).to_have_accessible_description(f"Comment by {isolated(bob.name)} marked as spam.")
    # The message is a status, in the accessibility tree as such.
    expect(page.get_by_role("status")).to_have_text(
        f"Comment by {isolated(bob.name)} marked as spam."
    )
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Comment by {isolated(cy.name)} approved.")).to_be_visible()
    statuses = [Comment.objects.get(pk=c.pk).status for c in (ann, bob, cy)]
    assert statuses == ["approved", "spam", "approved"]
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_after_a_bulk_decision_the_focus_is_on_what_was_decided(browser, live_server, javascript):
    """After a row's decision the address ended in that row's #decide-<next row>, which the
    action form's request kept: after "Approve selected" the browser looked for that row,
    gone from the queue, and left the focus on the page's body (a keyboard moderator tabbed
    through the header again, and a screen reader read nothing of the outcome), or on a row
    the moderator had not chosen. The outcome is what the moderator needs next: it may warn
    of rows left as they were, and no row stands for rows chosen all over the list."""
    _, bob, cy = ann_bob_and_cy_waiting_for_moira()
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    sign_in(page, live_server, "moira")
    page.get_by_role("button", name=f"Approve: comment by {isolated('Ann')}").click()
    expect(page).to_have_url(re.compile(f"#decide-{bob.pk}$"))

    for comment in (bob, cy):
        page.locator(f'input[name="_selected_action"][value="{comment.pk}"]').check()
    page.locator('select[name="action"]').select_option("approve_selected")
    page.get_by_role("button", name="Run").click()

    outcome = page.get_by_role("status")
    expect(outcome).to_have_text("2 comments approved.")
    expect(outcome).to_be_focused()
    assert "#decide-" not in page.url
    assert Comment.objects.filter(status=Comment.Status.APPROVED).count() == 3
    context.close()


def test_a_double_click_on_log_in_sends_one_sign_in_one_failure_short_of_the_limit(
    page, live_server, settings
):
    """The second of two sign-ins sent at once waited for the first's password check and
    was counted over the limit: "Sign-in paused" for the right password. The page sends the
    form once."""
    make_moderator("moira")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        Client().post("/admin/login/", {"username": "moira", "password": "not it"})
    sign_ins = []
    page.on("request", lambda request: request.method == "POST" and sign_ins.append(request))
    checking_the_password = []  # the first sign-in, held as if its password were being checked

    def first_held(route):
        if checking_the_password:
            route.continue_()
        else:
            checking_the_password.append(route)

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.route("**/admin/login/**", first_held)
    page.get_by_label("Username").fill("moira")
    page.get_by_label("Password").fill(PASSWORD)
    log_in = page.get_by_role("button", name="Log in").bounding_box()
    centre = (log_in["x"] + log_in["width"] / 2, log_in["y"] + log_in["height"] / 2)
    page.mouse.click(*centre)
    for _ in range(1_500):  # up to 15 s for the first click's sign-in to be on its way
        if checking_the_password:
            break
        page.wait_for_timeout(10)
    page.mouse.click(*centre, click_count=2)  # the second click of a double click
    with contextlib.suppress(PlaywrightError):  # the browser may have dropped it for the second
        checking_the_password[0].continue_()

    expect(page.get_by_role("link", name="No comments awaiting moderation")).to_be_visible()
    assert len(sign_ins) == 1
