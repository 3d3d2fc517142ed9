"""axe-core in a real browser: no serious or critical accessibility violation on reader pages,
nor on the admin pages editors and moderators work in.

axe is injected with Playwright's `page.evaluate`, which runs through the DevTools protocol
and is not subject to the page's Content Security Policy, so the site's strict CSP stays on
while axe runs (the test below proves the policy is really there).
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from comments.captcha import refill_pool
from tests.factories import (
    PASSWORD,
    make_article,
    make_comment,
    make_editor,
    make_section,
    make_tag,
)

pytestmark = pytest.mark.django_db(transaction=True)

BLOCKING_IMPACTS = {"serious", "critical"}

axe = Axe()


@pytest.fixture
def newsroom(settings):
    """A small front page: one section, a tagged article with an approved threaded discussion."""
    settings.COMMENTS_MIN_SUBMIT_SECONDS = 0
    refill_pool(5)
    section = make_section(name="City", slug="city")
    tag = make_tag(name="Transport", slug="transport")
    article = make_article(
        title="New footbridge opens over the river",
        standfirst="Walkers and cyclists get a direct route to the station.",
        section=section,
        tags=[tag],
    )
    make_article(title="Library hours extended", section=section)
    make_article(title="Market moves indoors for the winter", section=section)
    first = make_comment(article, name="Ada Lovelace", body="Finally a way across.")
    reply = make_comment(article, parent=first, name="Grace Hopper", body="And it is lit at night.")
    make_comment(article, parent=reply, name="Alan Turing", body="Tried it: https://example.org")
    make_comment(article, name="Katherine Johnson", body="Counted 212 steps.")
    return article


def serious_violations(page, options=None):
    """axe's serious and critical findings, with enough detail to find the element."""
    results = axe.run(page, options={"resultTypes": ["violations"], **(options or {})})
    assert results.response["passes"], "axe checked nothing: was it blocked?"
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> "
        + "; ".join(node["html"][:160] for node in violation["nodes"])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def in_color_scheme(page, scheme):
    """The page in `scheme`, once its colours have settled: Django's admin fades its links'
    colour (0.15 s), and axe measuring contrast mid-fade on a busy machine saw a colour
    between the two schemes."""
    page.emulate_media(color_scheme=scheme)
    page.evaluate(
        "() => Promise.all(document.getAnimations().map(each => each.finished.catch(() => {})))"
    )


def serious_violations_in_both_schemes(page):
    """Every rule in the light scheme; in the dark one only contrast, the one thing it changes."""
    found = {}
    in_color_scheme(page, "light")
    if serious := serious_violations(page):
        found["light"] = serious
    in_color_scheme(page, "dark")
    if serious := serious_violations(page, {"runOnly": ["color-contrast"]}):
        found["dark"] = serious
    return found


def test_reader_pages_have_no_serious_violations(page, live_server, newsroom):
    found = {}
    for name, path in [
        ("home", "/"),
        ("article with comments", newsroom.get_absolute_url()),
        ("section", newsroom.section.get_absolute_url()),
        ("tag", "/tag/transport/"),
        ("author", newsroom.author.get_absolute_url()),
        ("follow a section", f"{newsroom.section.get_absolute_url()}follow/"),
        ("search results", "/search/?q=footbridge"),
        ("search without results", "/search/?q=zeppelin"),
        # On PostgreSQL, with a note on the words too common to look for in the text.
        ("search of common words alone", "/search/?q=whom"),
    ]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.ok, name
        # The strict policy stays on while axe runs: evaluate() is not bound by it.
        assert "script-src 'self'" in response.headers["content-security-policy"]
        if serious := serious_violations_in_both_schemes(page):
            found[name] = serious
    assert found == {}


def test_comment_form_showing_errors_has_no_serious_violations(
    page, live_server, newsroom, screenshot_dir
):
    page.goto(f"{live_server.url}{newsroom.get_absolute_url()}")
    form = page.locator("#respond form")
    form.get_by_role("textbox", name="Email", exact=True).fill("not an email")
    form.get_by_role("textbox", name="Answer the math question").fill("999")
    # The browser's own validation would stop a reader here; the server's errors are the point.
    form.evaluate("form => form.noValidate = true")
    form.get_by_role("button", name="Post Comment").click()
    expect(page.locator("#comment-errors")).to_be_focused()
    expect(page.locator(".field--error")).to_have_count(4)  # comment, name, email, answer
    found = serious_violations_in_both_schemes(page)
    page.screenshot(path=screenshot_dir / "axe-form-errors.png", full_page=True)
    assert found == {}

    # The same form, errors and all, moved under a reply.
    page.get_by_role("button", name="Reply to Grace Hopper").click()
    expect(page.get_by_role("heading", name="Reply to Grace Hopper")).to_be_visible()
    assert serious_violations_in_both_schemes(page) == {}


def test_a_field_in_error_is_outlined_in_the_colour_of_its_message(page, live_server, newsroom):
    """Its red border lost to the grey one every box has (a more specific rule): a field in
    error looked like the others, its message above it the only sign."""
    page.goto(f"{live_server.url}{newsroom.get_absolute_url()}")
    form = page.locator("#respond form")
    form.get_by_role("textbox", name="Email", exact=True).fill("not an email")
    form.evaluate("form => form.noValidate = true")
    form.get_by_role("button", name="Post Comment").click()
    expect(page.locator("#comment-errors")).to_be_focused()

    message_colour = page.locator("#id_email_error").evaluate("p => getComputedStyle(p).color")
    email = form.get_by_role("textbox", name="Email", exact=True)
    expect(email).to_have_css("border-top-color", message_colour)
    expect(email).to_have_css("border-top-width", "2px")
    expect(form.get_by_role("textbox", name="Website")).to_have_css("border-top-width", "1px")


def test_admin_lists_with_a_search_box_have_no_serious_violations(page, live_server, newsroom):
    """Django's search box is labelled by a magnifying glass alone (its alt text), and
    described by the list's help text: axe found no visible label (label-title-only) on
    the comment queue and the action log."""
    make_editor("edna")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("edna")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    found = {}
    for path in ["/admin/comments/comment/", "/admin/admin/logentry/", "/admin/articles/article/"]:
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("textbox", name="Search", exact=True)).to_be_visible()
        if serious := serious_violations_in_both_schemes(page):
            found[path] = serious
    assert found == {}


def test_admin_sign_in_page_is_headed_by_what_it_is_for(page, live_server):
    """Django's sign-in page had no heading at all: a screen reader's list of headings was
    empty, and its "next heading" key found nothing (axe: page-has-heading-one)."""
    page.goto(f"{live_server.url}/admin/login/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    results = axe.run(page, options={"runOnly": ["page-has-heading-one"]})
    assert results.response["passes"]
    assert results.response["violations"] == []
