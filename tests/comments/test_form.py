"""The "Leave a Reply" form as readers and assistive technology meet it, and its limits."""

import re
from html import unescape

import pytest
from django import forms
from django.forms.renderers import get_default_renderer
from django.test import Client

from comments.forms import (
    CONTROL_CHARACTERS,
    NAME_WITH_AN_EMAIL,
    NOTHING_VISIBLE,
    PILED_UP_MARKS,
    WEBSITE_WITH_AN_EMAIL,
    CommentForm,
)
from comments.models import Comment
from tests.factories import (
    comment_form_data,
    form_values,
    make_article,
    make_comment,
    post_url,
    press,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def html(client, article, captcha_pool):
    return client.get(article.get_absolute_url()).content.decode()


def tag(html, name):
    match = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


def test_heading_and_privacy_note(html):
    assert "Leave a Reply</h2>" in html
    assert (
        "Your email address will not be published. Required fields are marked "
        '<span class="required-mark">*</span>'
    ) in html


@pytest.mark.parametrize(
    ("name", "label_for", "label"),
    [
        ("name", "id_name", "Name"),
        ("email", "id_email", "Email"),
        ("body", "id_body", "Comment"),
        ("captcha_1", "id_captcha_1", "Answer the math question"),
    ],
)
def test_required_fields_have_a_real_label_a_star_and_required(html, name, label_for, label):
    star = '<span class="required-mark" aria-hidden="true">*</span>'
    assert f'<label for="{label_for}">{label} {star}</label>' in html
    field = tag(html, name)
    assert " required" in field
    assert f'id="{label_for}"' in field
    assert "_helptext" in field  # aria-describedby points at the explanation


def test_no_hidden_input_claims_to_be_required_or_described(html):
    """The question's key, a hidden input, carried the answer's `required` and
    `aria-describedby`: HTML allows neither on a hidden input, and a validator flagged
    every article page."""
    hidden = re.findall(r'<input type="hidden"[^>]*>', html)

    assert any('name="captcha_0"' in field for field in hidden)
    assert [field for field in hidden if re.search(r" required|aria-", field)] == []


def test_the_email_help_text_names_every_email_the_reader_may_get(html):
    """Ticking "Email me when my comment is published" writes to the address too."""
    help_text = re.search(r'id="id_email_helptext">([^<]*)</p>', html).group(1)

    assert help_text.startswith("Never published.")
    assert "moderator" in help_text
    assert "if you ask" in help_text


def test_optional_website_has_a_label_and_no_star(html):
    assert '<label for="id_url">Website</label>' in html
    assert " required" not in tag(html, "url")


def test_input_types_and_autocomplete_hints(html):
    assert 'type="email"' in tag(html, "email")
    assert 'autocomplete="email"' in tag(html, "email")
    assert 'autocomplete="name"' in tag(html, "name")
    assert 'inputmode="url"' in tag(html, "url") and 'autocomplete="url"' in tag(html, "url")


def test_captcha_answer_is_not_inside_a_fieldset(html):
    form = html[html.index('<form id="comment-form"') :]
    assert "<fieldset" not in form[: form.index("</form>")]


def test_honeypot_is_hidden_from_people_and_screen_readers(html):
    assert '<div class="field field--trap" aria-hidden="true">' in html
    assert 'tabindex="-1"' in tag(html, "phone")


def test_opt_in_checkboxes_are_unticked(html):
    assert "Email me when my comment is published" in html
    assert "Save my name, email, and website in this browser for the next time I comment." in html
    assert "checked" not in tag(html, "remember")
    assert "checked" not in tag(html, "notify_on_publish")


def test_errors_are_described_next_to_their_fields(client, article, fill_form):
    page = client.post(post_url(article), fill_form(article, email="nope")).content.decode()

    assert 'aria-describedby="id_email_helptext id_email_error"' in tag(page, "email")
    assert 'aria-invalid="true"' in tag(page, "email")
    assert '<p class="field__error" id="id_email_error">Enter a valid email address.' in page
    assert '<a href="#id_email">Email: Enter a valid email address.</a>' in page


def test_only_a_question_of_the_readers_own_is_marked_so_for_the_script(client, article, fill_form):
    """comments.js asks for no other question over one marked as the reader's own (a form
    sent back with a new question). The article page's is not: other readers may share it.
    Nor is one kept (a reply chosen without JavaScript): it came from such a page."""
    make_comment(article, name="Ada Lovelace")
    mistake = client.post(post_url(article), fill_form(article, captcha_1="-1")).content.decode()
    page = client.get(article.get_absolute_url()).content.decode()
    data = comment_form_data(page)
    reply = press(client, page, "Reply to Ada Lovelace", data).content.decode()

    assert re.search(r'<form id="comment-form"[^>]* data-own-question>', mistake)
    assert "data-own-question" not in page
    assert form_values(reply, "captcha_0") == data["captcha_0"]
    assert "data-own-question" not in reply


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"name": 'Ada "<b>" & co', "email": "nope", "body": "<script>\n</script>", "url": "x"},
        {"name": "Ada", "notify_on_publish": "on", "remember": "on", "parent": "12"},
    ],
)
def test_inputs_are_written_as_djangos_own_widget_templates_would(article, data):
    """comments/widgets.py writes the inputs without templates; Django's are the reference."""
    ours = CommentForm(data, article=article, visible_parents={})
    django = CommentForm(data, article=article, visible_parents={}, renderer=get_default_renderer())
    for name in ours.fields.keys() - {"captcha", "started"}:  # a new question, a new time
        assert str(ours[name]) == str(django[name]), name


def form(article, **values):
    data = {"name": "Ada", "email": "ada@example.com", "body": "Hello there", "url": ""}
    data.update(values)
    bound = CommentForm(data, article=article, visible_parents={})
    bound.is_valid()
    return bound


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "x" * 101),
        ("email", "a" * 250 + "@example.com"),
        ("url", "https://example.com/" + "a" * 200),
        ("body", "x" * 5001),
        ("body", "x"),
        ("body", "   \n  "),
        ("url", "ftp://example.com/"),
    ],
)
def test_limits(article, field, value):
    assert field in form(article, **{field: value}).errors


def test_surrounding_space_is_trimmed(article):
    bound = form(article, name="  Ada  ", body="\n  Hello there  \n")

    assert bound.cleaned_data["name"] == "Ada"
    assert bound.cleaned_data["body"] == "Hello there"


def test_website_without_scheme_becomes_https(article):
    assert form(article, url="ada.example").cleaned_data["url"] == "https://ada.example"


@pytest.mark.parametrize(
    "typed",
    [
        "ada.lovelace@example.com",
        "https://ada.lovelace@example.com",
        "https://ada.lovelace@example.com/blog",
    ],
)
def test_an_email_address_typed_as_the_website_is_sent_back_not_published(
    client, article, fill_form, typed
):
    """The website is published as the link on the commenter's name: an email address typed
    in its box (a slip, or autofill) went out as https://ada.lovelace@example.com, the
    address that the form promises is never published, in every reader's page."""
    data = fill_form(article, url=typed, body="A thought on the harbour plan.")

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert WEBSITE_WITH_AN_EMAIL in unescape(page)
    assert "A thought on the harbour plan." in page
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "typed",
    [
        "ada.lovelace@example.com",
        "Ada Lovelace <ada.lovelace@example.com>",
        "Ada (ADA@EXAMPLE.COM)",
        "Write to ada@example.com.",
        "ada\uff20example.com",  # the full-width @ of a Japanese or Chinese keyboard
        # All full width, as typed with the keyboard's full-width mode on.
        "\uff41\uff44\uff41\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
        "Ada \uff08ada\ufe6bexample.com\uff09",  # the small @, in full-width brackets
        '"ada"@example.com',  # a quoted local part
        'Ada <"ada lovelace"@example.com>',  # quoted, with a space (RFC 5321)
        "ädä@example.com",  # letters beyond ASCII before the @ (RFC 6531)
        "用户@例子.cn",
        "用户@例子\u3002cn",  # the full stop a Chinese keyboard types for "."
        "Write to ada@例子\u3002cn\u3002",
        # As Japanese mobile carriers gave them out until 2009, and still deliver to them.
        "taro..yamada@docomo.ne.jp",
        "Taro <taro.@ezweb.ne.jp>",
        "Ada \u2026ada@example.com",  # after an ellipsis, as a phone writes "..."
        # A mail server's address in brackets (an address literal), IPv4 or IPv6.
        "ada@[192.168.0.1]",
        "Ada <ada@[2001:db8::1]>",
        "Ada <ada@[IPv6:2001:db8::1]>",  # as RFC 5321 writes an IPv6 one
        # Percent-encoded, as a mailto: link writes the @ (and a harvester reads it).
        "mailto:ada%40example.com",
        "Ada %3Cada%40example.com%3E",
        "%61da%40example%2Ecom",
        # Followed by an invisible character, as text pasted from a page or a chat brings
        # along (a zero-width space, a direction mark, a word joiner, a soft hyphen, a byte
        # order mark, the end of an isolate): the page still shows the address whole.
        "ada@example.com\u200b",
        "Ada (ada@example.com\u200e)",
        "ada@example.com\u2060",
        "ada@example.com\u00ad",
        "\ufeffada@example.com\ufeff",
        "\u2066ada@example.com\u2069",
    ],
)
def test_an_email_address_typed_as_the_name_is_sent_back_not_published(
    client, article, fill_form, typed
):
    """The name is shown with the comment: an email address typed in its box (the boxes
    swapped, or autofill) was published on the page the form promises it never reaches,
    at once for a commenter the "previously approved" rule lets past the queue."""
    data = fill_form(article, name=typed, body="A thought on the harbour plan.")

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert NAME_WITH_AN_EMAIL in unescape(page)
    assert "A thought on the harbour plan." in page
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "typed",
    [
        "Ada @ the harbour",
        "ada@home",
        "@ada_lovelace",
        "@ada@mastodon.social",
        "ädä@home",
        '"Ada" @ the harbour',
        "用户@例子",
        # Japanese nicknames with a status after a full-width @ ("Mika, rarely around"): no
        # address, though each reads as one in a top-level domain of Japanese script.
        "みか\uff20低浮上\u3002たまに浮上",
        "ゆき\uff20育休中\uff0e復帰は春",
        "ada@[home]",
        "Ada [ada@home]",
        "Ada 100%",
        "Ada 100%40",
        "Ada%40home",
    ],
)
def test_a_name_with_an_at_sign_but_no_email_address_is_taken(article, typed):
    assert form(article, name=typed).cleaned_data["name"] == typed


def test_a_bots_long_name_is_refused_for_its_length_alone(client, article, fill_form):
    """The search for an email address in the name ran before the length check: it tried
    each letter of a long word in turn (20,000 letters took seconds, the 200,000 a post may
    carry held a worker for minutes), and checked each of tens of thousands of words with an
    @. A name longer than the box is refused for its length, unsearched."""
    name = " ".join(["ada@example.com"] * 12_000)
    data = fill_form(article, name=name, body="Keep this.")

    response = client.post(post_url(article), data)

    page = response.content.decode()
    assert response.status_code == 400
    assert f"Ensure this value has at most 100 characters (it has {len(name)})." in page
    assert NAME_WITH_AN_EMAIL not in unescape(page)
    assert "Keep this.</textarea>" in page


def test_a_website_with_an_at_sign_in_its_path_or_query_is_taken(article):
    typed = "https://example.com/@ada?ref=ada@example.com"

    assert form(article, url=typed).cleaned_data["url"] == typed


@pytest.mark.parametrize("typed", ["[ada.example]", "https://[ada.example/", "http://[::1::]/"])
def test_a_website_in_square_brackets_is_called_an_invalid_address_not_an_email(article, typed):
    """Brackets a host cannot have made the address unreadable, and the reader was told it
    looked like an email address: advice that did not fit what they typed."""
    errors = form(article, url=typed).errors["url"]

    assert errors == [forms.URLField.default_error_messages["invalid"]]


def test_the_website_box_takes_the_longest_address_with_its_scheme(article):
    """200 characters of address, and a pasted https:// in front of them."""
    box = str(CommentForm(article=article, visible_parents={})["url"])

    assert 'maxlength="208"' in box


@pytest.mark.parametrize("field", ["name", "email", "body", "url"])
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_are_refused_with_a_message(article, field, char):
    value = {"name": "Ada", "email": "ada@example.com", "body": "Hello", "url": "https://a.example"}
    value = value[field][:2] + char + value[field][2:]

    errors = form(article, **{field: value}).errors[field]

    assert CONTROL_CHARACTERS in errors or "Enter a valid" in errors[0]


@pytest.mark.parametrize("field", ["name", "body"])
@pytest.mark.parametrize("invisible", ["\u200b\u200b", "\u200d\ufeff\u2060", "\u0301\u0301"])
def test_a_name_or_comment_of_only_invisible_characters_is_refused(article, field, invisible):
    assert form(article, **{field: invisible}).errors[field] == [NOTHING_VISIBLE]


@pytest.mark.parametrize("field", ["name", "body"])
def test_marks_piled_on_one_letter_are_sent_back_with_the_text(client, article, fill_form, field):
    """A letter under dozens of combining marks ("Zalgo" text) is one character to the
    browser, which no line break splits: 480 of them pushed the page 3,000 pixels sideways
    on a phone, or piled over the comments around it, for every reader of the page."""
    zalgo = "Z" + "\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358" * 4 + " is coming"
    data = fill_form(article, **{field: zalgo, "body" if field == "name" else "name": "Ada said"})

    response = client.post(post_url(article), data)

    assert response.status_code == 400
    page = unescape(response.content.decode())
    assert PILED_UP_MARKS in page
    assert zalgo in page
    assert not Comment.objects.exists()


@pytest.mark.parametrize("joiner", ["\u200d", "\u200c"])
def test_marks_piled_on_one_letter_between_invisible_joiners_are_sent_back(
    client, article, fill_form, joiner
):
    """A zero-width joiner or non-joiner between the marks leaves them on the same letter
    (the browser's one character, UAX #29): the page was as wide as without them."""
    zalgo = "Z" + ("\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358" * 3 + joiner) * 16
    data = fill_form(article, body=zalgo + " is coming")

    response = client.post(post_url(article), data)

    assert response.status_code == 400
    assert PILED_UP_MARKS in unescape(response.content.decode())
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "value",
    [
        "Tiếng Việt có dấu",
        "हिन्दी में लिखा",
        "བོད་ཡིག་བསྒྲིགས",
        "Ω\u0301\u0308\u0323 ok",
        "👩\u200d👩\u200d👧\u200d👦",
    ],
)
def test_letters_with_their_few_marks_are_taken(article, value):
    bound = form(article, name=value, body=value)

    assert "name" not in bound.errors
    assert "body" not in bound.errors


@pytest.mark.parametrize("value", ["李", "١٢", "🙂 Hi", "Zoë\u200d", ":-)"])
def test_any_script_digit_emoji_or_punctuation_is_visible(article, value):
    bound = form(article, name=value, body=value * 2)

    assert "name" not in bound.errors
    assert "body" not in bound.errors


def test_line_breaks_and_tabs_are_fine_in_the_body(article):
    assert "body" not in form(article, body="One\r\n\tTwo").errors


def test_a_line_break_counts_as_one_character_as_the_browser_counts_it(article):
    """The textarea's maxlength counts a line break as one character, and the browser sends
    it as two (CR LF): a comment the browser let through must not come back as too long."""
    typed = "\n".join(["x" * 99] * 50) + "x"  # 5,000 characters in the textarea
    sent = typed.replace("\n", "\r\n")

    assert "body" not in form(article, body=sent).errors
    assert form(article, body=sent + "x").errors["body"] == [
        "Ensure this value has at most 5000 characters (it has 5001)."
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"body": "x" * 200_000},
        {"body": "nul \x00 byte", "name": "\x00"},
        {"body": "bidi \u202e txet", "name": "\u202eevil"},
        {"captcha_0": "' OR 1=1 --", "captcha_1": "5"},
        {"captcha_0": "\x00", "captcha_1": "\x00"},
        {"captcha_0": "a" * 5000},
        {"parent": "\x00"},
        {"parent": "9" * 40},
        {"started": "\x00"},
        {},
    ],
)
def test_hostile_input_never_causes_a_server_error(article, captcha_pool, data):
    reader = Client(raise_request_exception=False)

    response = reader.post(post_url(article), data)

    assert response.status_code == 400
    assert Comment.objects.count() == 0


def test_bidi_characters_are_stored_and_shown_isolated(client, article, fill_form):
    name = "\u202eevil name"
    client.post(post_url(article), fill_form(article, name=name, body="right\u202eleft text"))

    page = client.get(make_article().get_absolute_url()).content.decode()  # other article
    own = client.get(article.get_absolute_url()).content.decode()

    assert Comment.objects.get().name == name
    assert f"<bdi>{name}</bdi>" in own
    assert 'dir="auto"' in own
    assert name not in page
