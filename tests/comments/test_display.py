"""Showing comments under an article: threading, links, escaping, and the cost of a page."""

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article
from comments.demo import create_comments
from comments.models import Comment
from comments.thread import PENDING_COOKIE, build_thread
from tests.factories import (
    button,
    id_cookie,
    make_article,
    make_comment,
    make_thread_numbered_backwards,
    post_url,
)

pytestmark = pytest.mark.django_db


class CommentNesting(HTMLParser):
    """For each comment element (id="comment-N"), the comment elements around it."""

    def __init__(self):
        super().__init__()
        self.stack, self.ancestors, self.order = [], {}, []

    def handle_starttag(self, tag, attrs):
        comment_id = dict(attrs).get("id", "") or ""
        is_comment = comment_id.startswith("comment-") and comment_id[8:].isdigit()
        if is_comment:
            pk = int(comment_id[8:])
            self.ancestors[pk] = [item for item in self.stack if item]
            self.order.append(pk)
        if tag not in {"br", "img", "input", "meta", "link", "hr"}:
            self.stack.append(int(comment_id[8:]) if is_comment else None)

    def handle_endtag(self, tag):
        if tag not in {"br", "img", "input", "meta", "link", "hr"} and self.stack:
            self.stack.pop()


def nesting(client, article, path=None):
    parser = CommentNesting()
    parser.feed(client.get(path or article.get_absolute_url()).content.decode())
    return parser


def test_approved_comments_show_oldest_first(client, article):
    first, second = make_comment(article), make_comment(article)

    assert nesting(client, article).order == [first.pk, second.pk]


def test_reply_sits_inside_its_parents_element(client, article):
    parent = make_comment(article)
    reply = make_comment(article, parent=parent)

    assert nesting(client, article).ancestors[reply.pk] == [parent.pk]


def test_replies_deeper_than_the_limit_attach_at_the_deepest_level(client, article, settings):
    settings.COMMENTS_MAX_DEPTH = 2
    top = make_comment(article)
    second = make_comment(article, parent=top)
    third = make_comment(article, parent=second)

    ancestors = nesting(client, article).ancestors

    assert ancestors[second.pk] == [top.pk]
    assert ancestors[third.pk] == [top.pk]  # beside its parent, not below it


def test_a_reply_past_the_deepest_level_says_whom_it_answers(
    client, article, captcha_pool, settings, django_assert_max_num_queries
):
    """Listed beside the comment it answers, a reply read as if it answered that comment's
    own parent: it names, and links to, the one it answers, as the moderators' thread does.
    From the page's one read of the thread: a long exchange costs no query more."""
    settings.COMMENTS_MAX_DEPTH = 2
    top = make_comment(article, name="Ada")
    second = make_comment(article, parent=top, name="Grace <grace@example.com>")
    third = make_comment(article, parent=second, name="Ada")
    fourth = make_comment(article, parent=third, name="Grace")
    count_page_queries(client, article)  # warm up per-process caches
    shallow = count_page_queries(client, make_article())

    with django_assert_max_num_queries(shallow):
        page = client.get(article.get_absolute_url()).content.decode()

    answers = 'in reply to <a href="#comment-{}"><bdi>{}</bdi></a>'
    assert answers.format(second.pk, "Grace &lt;grace&gt;") in page
    assert answers.format(third.pk, "Ada") in page
    assert page.count("in reply to") == 2  # not said of the nested ones
    assert "grace@example.com" not in page
    assert f'id="comment-{fourth.pk}"' in page


def dated(comment, created_at):
    """The comment as if written at `created_at` (an app server's clock, imported data)."""
    Comment.objects.filter(pk=comment.pk).update(created_at=created_at)
    return comment


def test_a_reply_dated_before_its_parent_shows_under_it(client, article, captcha_pool, settings):
    """An app server whose clock runs behind another's, or an import, can date a reply
    before the comment it answers: the page showed it at the head of a thread of its own,
    answering nothing. It shows under its parent, as soon after it as its date allows:
    before the parent's later replies, and so do the replies to it."""
    settings.COMMENTS_MAX_DEPTH = 2
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    parent = dated(make_comment(article), start)
    later = dated(make_comment(article, parent=parent), start + timedelta(seconds=1))
    early = dated(make_comment(article, parent=parent), start - timedelta(seconds=5))
    answer = dated(make_comment(article, parent=early), start - timedelta(seconds=9))
    own = dated(make_comment(article, parent=early, status=Comment.Status.PENDING), start)
    next_thread = dated(make_comment(article), start + timedelta(seconds=2))
    client.cookies[PENDING_COOKIE] = id_cookie(own)

    page = nesting(client, article)

    assert page.order == [parent.pk, early.pk, answer.pk, own.pk, later.pk, next_thread.pk]
    assert page.ancestors[early.pk] == page.ancestors[later.pk] == [parent.pk]
    assert page.ancestors[answer.pk] == page.ancestors[own.pk] == [parent.pk]  # deepest level
    assert page.ancestors[next_thread.pk] == []


def test_replies_written_in_the_same_second_keep_the_order_they_were_written_in(
    client, article, settings
):
    """An import dated to the second (or the minute) gives a whole exchange one date. Past the
    deepest level, a reply to a reply sits beside it, saying whom it answers: it still
    comes before the comments written after it, not after those at a shallower level."""
    settings.COMMENTS_MAX_DEPTH = 2
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    top = dated(make_comment(article), start)
    second = dated(make_comment(article, parent=top), start)
    third = dated(make_comment(article, parent=second), start)
    fourth = dated(make_comment(article, parent=top), start)
    next_thread = dated(make_comment(article), start)

    page = nesting(client, article)

    assert page.order == [top.pk, second.pk, third.pk, fourth.pk, next_thread.pk]
    assert page.ancestors[third.pk] == page.ancestors[fourth.pk] == [top.pk]


def test_a_thread_whose_ids_run_backwards_shows_each_reply_under_the_one_it_answers(
    client, article
):
    """Imported comments, dated to the second and numbered by another site, put a reply's id
    before its parent's: ordered by id among comments of one date, the reply came first and
    started a thread of its own, answering nothing."""
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    top, middle, reply = make_thread_numbered_backwards(article)
    for comment in (top, middle, reply):
        dated(comment, start)
    later = dated(make_comment(article, parent=top), start + timedelta(seconds=1))

    page = nesting(client, article)

    assert page.order == [top.pk, middle.pk, reply.pk, later.pk]
    assert page.ancestors[reply.pk] == [top.pk, middle.pk]
    assert page.ancestors[later.pk] == [top.pk]


def test_past_the_deepest_level_replies_keep_their_dates_order_whatever_their_ids(
    client, article, settings
):
    """Listed beside the comment it answers, a reply still reads in the order it was
    written: an answer to the first reply, written after the second, comes after the second,
    as it would were the ids in order (a walk of the tree branch by branch would list it
    straight after the first)."""
    settings.COMMENTS_MAX_DEPTH = 2
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    top, first = make_thread_numbered_backwards(article, length=2)
    second = make_comment(article, parent=top, pk=first.pk - 1)
    answer = make_comment(article, parent=first, pk=first.pk - 2)
    for minutes, comment in enumerate((top, first, second, answer)):
        dated(comment, start + timedelta(minutes=minutes))

    page = nesting(client, article)

    assert page.order == [top.pk, first.pk, second.pk, answer.pk]
    assert page.ancestors[answer.pk] == [top.pk]


def test_comments_whose_ids_run_backwards_down_their_thread_are_all_counted(client, article):
    """The count over the comments (Article.comment_count) took a reply whose parent had a
    larger id for one under a withheld comment."""
    make_thread_numbered_backwards(article)

    page = client.get(article.get_absolute_url()).content.decode()

    assert '<a href="#comments">3 comments</a>' in page


@pytest.mark.parametrize("status", ["pending", "rejected", "spam"])
def test_replies_to_a_withheld_comment_are_not_shown(client, article, status):
    withheld = make_comment(article, status=status, body="Withheld text.")
    reply = make_comment(article, parent=withheld, body="Approved reply to it.")

    page = client.get(article.get_absolute_url()).content.decode()

    assert "Withheld text." not in page
    assert "Approved reply to it." not in page
    assert f'id="comment-{reply.pk}"' not in page


def test_comment_shows_name_link_date_permalink_and_reply_link(client, article):
    comment = make_comment(article, name="Ada Lovelace", url="https://ada.example/")

    page = client.get(article.get_absolute_url()).content.decode()

    link = '<a href="https://ada.example/" rel="nofollow ugc noopener"><bdi>Ada Lovelace</bdi></a>'
    assert link in page
    assert f'href="{comment.get_permalink()}" rel="bookmark nofollow"><time' in page
    reply = button(page, "Reply to Ada Lovelace")
    assert (reply["form"], reply["formaction"]) == ("comment-form", f"{post_url(article)}#respond")
    assert (reply["name"], reply["value"]) == ("replyto", str(comment.pk))
    assert '<span class="avatar avatar--' in page and ">AL</span>" in page
    assert "gravatar" not in page.lower()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("E\u0301mile Zola", "ÉZ"),  # typed or pasted decomposed: the accent stays on the É
        ("Øystein Ørsted", "ØØ"),
        ("ßeta Ölund", "ßÖ"),  # one letter, not "SS"
        ("🎉 party", "P"),
    ],
)
def test_avatar_initials_keep_each_letter_whole(client, article, name, shown):
    make_comment(article, name=name)

    page = client.get(article.get_absolute_url()).content.decode()

    assert f">{shown}</span>" in page


def test_a_name_saved_with_an_email_address_in_it_shows_the_name_without_it(client, article):
    """A name like "Ada <ada@example.com>" saved before the form refused it would publish
    the address the Email box promises to keep: readers see the part before the @ alone,
    on the comment and on the reply form."""
    comment = make_comment(article, name="Ada Lovelace <ada.lovelace@example.com>")

    page = client.get(article.get_absolute_url()).content.decode()
    reply_form = client.post(post_url(article), {"replyto": comment.pk}).content.decode()

    assert "example.com" not in page and "example.com" not in reply_form
    assert "<bdi>Ada Lovelace &lt;ada.lovelace&gt;</bdi>" in page
    assert "Reply to <bdi>Ada Lovelace &lt;ada.lovelace&gt;</bdi>" in reply_form


def test_a_name_saved_with_a_full_width_email_address_shows_the_name_without_it(client, article):
    """Written with the full-width @ and dot of an East Asian keyboard, an address reads as
    one all the same."""
    make_comment(article, name="Ada \uff1cada\uff20example\uff0ecom\uff1e")

    page = client.get(article.get_absolute_url()).content.decode()

    assert "example\uff0ecom" not in page
    assert "<bdi>Ada &lt;ada&gt;</bdi>" in page


@pytest.mark.parametrize(
    ("saved", "shown"),
    [
        ('Ada <"ada"@example.com>', "Ada &lt;&quot;ada&quot;&gt;"),
        ('"ada lovelace"@example.com', "&quot;ada lovelace&quot;"),
        ("Ädä (ädä@example.com)", "Ädä (ädä)"),
        ("用户@例子.cn", "用户"),
        ("用户@例子\u3002cn", "用户"),
        ("Ada <ada@[192.0.2.1]>", "Ada &lt;ada&gt;"),
        ("Ada <mailto:ada%40example.com>", "Ada &lt;mailto:ada&gt;"),
    ],
)
def test_a_name_saved_with_an_address_in_any_form_shows_the_name_without_it(
    client, article, saved, shown
):
    """Quoted before the @, or in letters beyond ASCII there (as mail servers now deliver
    to), an address is one all the same, and was shown whole."""
    make_comment(article, name=saved)

    page = client.get(article.get_absolute_url()).content.decode()

    assert f"<bdi>{shown}</bdi>" in page
    assert "example.com" not in page and "例子" not in page and "192.0.2.1" not in page


@pytest.mark.parametrize(
    ("saved", "shown"),
    [
        ("Ada%0ALovelace <ada%40example.com>", "Ada Lovelace &lt;ada&gt;"),
        ("Ada%00%1B[31m <ada%40example.com>", "Ada  [31m &lt;ada&gt;"),
    ],
)
def test_a_name_saved_with_a_percent_encoded_address_shows_no_control_characters(
    client, article, saved, shown
):
    """Read with its percent-escapes decoded to find the address, a name saved before the
    form refused it showed what it had encoded too: a line break, a NUL, a terminal's
    escape, which the form refuses in a name typed as such."""
    make_comment(article, name=saved)

    page = client.get(article.get_absolute_url()).content.decode()

    assert f"<bdi>{shown}</bdi>" in page
    assert "\x00" not in page and "\x1b" not in page


def test_a_website_saved_with_an_email_address_in_it_is_not_shown(client, article):
    """A comment sent before the form refused an email address typed as the website
    (https://ada.lovelace@example.com) keeps its name, unlinked: the link showed the
    address to every reader."""
    make_comment(article, name="Ada Lovelace", url="https://ada.lovelace@example.com")

    page = client.get(article.get_absolute_url()).content.decode()

    assert "<bdi>Ada Lovelace</bdi>" in page
    assert "ada.lovelace" not in page


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "data:text/html,hi",
        "ftp://ada.example/",
    ],
)
def test_a_website_that_is_no_web_address_is_not_linked(client, article, website):
    """The form takes http and https only; a row it did not write (an import, a script)
    must not turn the commenter's name into a link that runs code in the reader's page."""
    make_comment(article, name="Ada Lovelace", url=website)

    page = client.get(article.get_absolute_url()).content.decode()

    assert "<bdi>Ada Lovelace</bdi>" in page
    assert website.split(":")[0] + ":" not in page


def test_body_is_escaped_with_paragraphs_and_safe_links(client, article):
    make_comment(
        article,
        name="<script>alert('name')</script>",
        body="<b>bold?</b> <script>alert(1)</script>\n\nSee https://example.org/a?b=1&c=2.",
    )

    page = client.get(article.get_absolute_url()).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in page
    assert "<p>&lt;b&gt;bold?&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>" in page
    assert (
        '<p>See <a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc">'
        "https://example.org/a?b=1&amp;c=2</a>.</p>"
    ) in page


def test_a_link_keeps_its_own_brackets_and_leaves_the_sentences_out(client, article):
    make_comment(
        article,
        body=(
            "Background: https://en.wikipedia.org/wiki/Mercury_(planet)\n"
            "(see https://en.wikipedia.org/wiki/Lifeboat_(shipboard)), "
            "or the council's page (https://example.org/lifeboats)."
        ),
    )

    page = client.get(article.get_absolute_url()).content.decode()

    for address in (
        "https://en.wikipedia.org/wiki/Mercury_(planet)",
        "https://en.wikipedia.org/wiki/Lifeboat_(shipboard)",
        "https://example.org/lifeboats",
    ):
        assert f'<a href="{address}" rel="nofollow ugc">{address}</a>' in page
    assert "</a>), or the council" in page and "</a>).</p>" in page


def test_a_link_in_the_quotes_phones_type_leaves_them_out(client, article):
    """Phones turn "..." into “...” as the reader types; French writes «...», German „...“,
    Chinese and Japanese end a sentence with 。 and write brackets full width."""
    make_comment(
        article,
        body=(
            "The plan: “https://example.org/plan”. "
            "Le plan : « https://example.org/fr » et \u2018https://example.org/uk\u2019… "
            "Der Plan: „https://example.org/de“ "
            "计划\uff08https://example.org/zh\uff09。https://example.org/ja。"
        ),
    )

    page = client.get(article.get_absolute_url()).content.decode()

    for address in ("plan", "fr", "uk", "de", "zh", "ja"):
        link = f"https://example.org/{address}"
        assert f'<a href="{link}" rel="nofollow ugc">{link}</a>' in page


@pytest.mark.parametrize("control", ["\u202e", "\u202b", "\u2067", "\u2068", "\u200f"])
def test_a_link_ends_where_a_direction_control_begins(client, article, control):
    """A right-to-left override inside an address showed its end reversed: the link to
    https://example.com/\u202efdp.exe read ".../exe.pdf", the oldest trick for passing off
    a program as a document. No address holds one unencoded: the link stops before it."""
    make_comment(article, body=f"The minutes: https://example.com/{control}fdp.exe today")

    page = client.get(article.get_absolute_url()).content.decode()

    link = "https://example.com/"
    assert f'<a href="{link}" rel="nofollow ugc">{link}</a>{control}fdp.exe today' in page


def test_names_and_websites_are_escaped_wherever_they_appear(client, article):
    make_comment(
        article, name='Ada "Countess" <b>O\'Brien</b> & co', url='https://ada.example/?a=1&b="2"<x>'
    )

    page = client.get(article.get_absolute_url()).content.decode()

    name = "Ada &quot;Countess&quot; &lt;b&gt;O&#x27;Brien&lt;/b&gt; &amp; co"
    assert "<b>O'Brien" not in page
    assert f"<bdi>{name}</bdi>" in page
    assert f'aria-label="Reply to {name}"' in page
    assert 'href="https://ada.example/?a=1&amp;b=&quot;2&quot;&lt;x&gt;"' in page


def test_comment_time_is_shown_in_the_sites_time_zone(client, article, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    comment = make_comment(article)
    written = datetime(2026, 3, 1, 20, 5, 7, 123, tzinfo=UTC)
    Comment.objects.filter(pk=comment.pk).update(created_at=written)

    page = client.get(article.get_absolute_url()).content.decode()

    assert '<time datetime="2026-03-02T01:35:07+05:30">2 March 2026 at 01:35</time>' in page


def test_javascript_urls_in_a_body_stay_text(client, article):
    make_comment(article, body="click javascript:alert(1) now")

    page = client.get(article.get_absolute_url()).content.decode()

    assert 'href="javascript' not in page


def test_approved_count_is_shown(client, article):
    make_comment(article)
    make_comment(article)
    make_comment(article, status=Comment.Status.PENDING)

    assert "2 comments" in client.get(article.get_absolute_url()).content.decode()


def test_a_reply_address_prepares_the_form(client, article):
    """?replyto= (the reply links of pages before the Reply buttons, a bookmark of one)."""
    parent = make_comment(article, name="Ada Lovelace")

    page = client.get(f"{article.get_absolute_url()}?replyto={parent.pk}").content.decode()

    assert "Reply to <bdi>Ada Lovelace</bdi>" in page
    assert f'name="parent" value="{parent.pk}"' in page
    assert button(page, "Cancel reply")["formaction"] == f"{post_url(article)}#respond"


def test_a_reply_link_to_a_comment_withdrawn_since_says_the_reply_will_stand_alone(client, article):
    withdrawn = make_comment(article, name="Ada Lovelace", status=Comment.Status.REJECTED)

    page = client.get(f"{article.get_absolute_url()}?replyto={withdrawn.pk}").content.decode()

    assert "The comment you chose to reply to is no longer shown" in page
    assert "Leave a Reply" in page
    assert "Ada Lovelace" not in page


@pytest.mark.parametrize("replyto", ["abc", "-1", "99999999999999999999999", "1e3", "²", "\u0661"])
def test_bad_replyto_values_are_ignored(client, article, replyto):
    response = client.get(f"{article.get_absolute_url()}?replyto={replyto}")

    assert response.status_code == 200
    assert "Leave a Reply" in response.content.decode()
    assert "no longer shown" not in response.content.decode()  # not a comment's id at all


def test_reply_to_a_pending_comment_is_not_offered(client, article):
    pending = make_comment(article, status=Comment.Status.PENDING)

    page = client.get(f"{article.get_absolute_url()}?replyto={pending.pk}").content.decode()

    assert "Leave a Reply" in page
    assert f'name="parent" value="{pending.pk}"' not in page
    assert "The comment you chose to reply to is no longer shown" in page


@pytest.mark.parametrize("gone", ["deleted", "never existed"])
def test_a_reply_link_to_a_comment_that_is_not_there_says_the_reply_will_stand_alone(
    client, article, gone
):
    comment = make_comment(article)
    missing = comment.pk if gone == "deleted" else comment.pk + 1000
    comment.delete()

    page = client.get(f"{article.get_absolute_url()}?replyto={missing}").content.decode()

    assert "The comment you chose to reply to is no longer shown" in page
    assert "Leave a Reply" in page


def test_thread_is_built_from_one_query(article, django_assert_num_queries):
    create_comments({article.pk: 50})

    with django_assert_num_queries(1):
        thread = build_thread(article)

    assert thread.approved_count == 50


def test_an_article_deleted_while_its_page_is_built_shows_no_comments(article):
    """An editor may delete the article between the view's read of it and its comments'
    (a reader's page mid-render): the page shows what is left, as before, not an error."""
    make_comment(article)
    Article.objects.filter(pk=article.pk).delete()

    thread = build_thread(article)

    assert (thread.roots, thread.approved_count, thread.pages) == ([], 0, 1)


def count_page_queries(client, article):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(article.get_absolute_url()).status_code == 200
    return len(queries)


def test_article_page_makes_the_same_queries_at_0_10_and_500_comments(client, captcha_pool):
    empty, some, many = make_article(), make_article(), make_article()
    create_comments({some.pk: 10, many.pk: 500})
    count_page_queries(client, empty)  # warm up per-process caches

    counts = [count_page_queries(client, article) for article in (empty, some, many)]

    assert counts[0] == counts[1] == counts[2], counts


def test_reading_an_article_writes_nothing(client, article, captcha_pool, fill_form):
    make_comment(article)
    client.post(post_url(article), fill_form(article))  # now with a session and a cookie

    for reader in (client, client.__class__()):
        with CaptureQueriesContext(connection) as queries:
            reader.get(article.get_absolute_url())
            reader.get(f"{article.get_absolute_url()}?replyto={Comment.objects.first().pk}")
        writes = [
            query["sql"]
            for query in queries
            if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        ]
        assert writes == []


def test_the_form_is_in_the_page_without_javascript(client, article, captcha_pool):
    page = client.get(article.get_absolute_url()).content.decode()

    for name in ("name", "email", "url", "body", "captcha_0", "captcha_1", "parent"):
        assert f'name="{name}"' in page
    assert f'action="{post_url(article)}#comment-errors" method="post"' in page
    assert "js/comments.js" in page and "defer" in page
