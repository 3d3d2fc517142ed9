"""Search runs on whichever database the suite uses: CI runs it on SQLite and PostgreSQL."""

import re
from datetime import timedelta

import pytest
from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from articles import demo, models
from articles.models import (
    SEARCH_CONFIG,
    STOP_WORDS,
    Article,
    SearchDocument,
    read_search,
    too_common,
)
from tests.factories import make_article, make_draft, make_scheduled, make_user

pytestmark = pytest.mark.django_db


def search(client, query, **params):
    response = client.get("/search/", {"q": query, **params})
    assert response.status_code == 200
    return response.content.decode()


def searched(query):
    """The articles a search box's `query` finds, as the results page reads it."""
    return Article.objects.search(read_search(query))


def test_search_finds_words_in_title_standfirst_and_body(client):
    make_article(title="Lighthouse keeper retires")
    make_article(title="Ferry news", standfirst="The lighthouse will be automated.")
    make_article(title="Coastal walks", body="Walk past the old lighthouse at dawn.")
    make_article(title="Unrelated market report")
    html = search(client, "lighthouse")
    assert "Lighthouse keeper retires" in html
    assert "Ferry news" in html
    assert "Coastal walks" in html
    assert "Unrelated market report" not in html


def test_search_needs_every_word(client):
    make_article(title="Harbour budget approved")
    make_article(title="Harbour festival returns")
    html = search(client, "harbour budget")
    assert "Harbour budget approved" in html
    assert "Harbour festival returns" not in html


# The search box reads what readers type into search boxes elsewhere, one reading
# (search_terms) for both databases: each test below runs on SQLite and PostgreSQL.
def test_words_in_quotes_are_found_together(client):
    make_article(title="Harbour board approves budget")
    make_article(title="Board games night at the harbour")
    html = search(client, '"harbour board"')
    assert "Harbour board approves budget" in html
    assert "Board games night" not in html


def test_a_word_after_a_minus_leaves_out_the_articles_with_it(client):
    make_article(title="Harbour budget approved")
    make_article(title="Harbour festival returns")
    html = search(client, "harbour -festival")
    assert "Harbour budget approved" in html
    assert "Harbour festival returns" not in html


@pytest.mark.parametrize(
    "query",
    [
        'harbour -"-festival"',
        'harbour "-" -festival',
        "harbour -.-festival",
        "harbour -'-festival'",
        "harbour -:-festival",
    ],
)
def test_a_minus_sign_inside_quotes_or_after_punctuation_is_no_second_not(client, query):
    """Each of these is one "not": a minus sign inside quotes is no "not", and punctuation
    between two minus signs ends the run, on both databases."""
    make_article(title="Harbour budget approved")
    make_article(title="Harbour festival returns")
    html = search(client, query)
    assert "Harbour budget approved" in html
    assert "Harbour festival returns" not in html


@pytest.mark.parametrize(
    "query",
    [
        "harbour --festival",
        "--festival harbour",
        'harbour --"festival returns"',
        "harbour -(-festival)",
    ],
)
def test_minus_signs_before_a_word_leave_it_out_however_many(client, query):
    """A reader who types two minus signs means "not" as surely as one: a run of them is one
    "not" on both databases (PostgreSQL's two "not"s cancelled out and found the word)."""
    make_article(title="Harbour budget approved")
    make_article(title="Harbour festival returns")
    html = search(client, query)
    assert "Harbour budget approved" in html
    assert "Harbour festival returns" not in html


@pytest.mark.parametrize("query", ["harbour - festival", "harbour -- festival"])
def test_a_minus_sign_standing_alone_is_a_dash_not_a_not(client, query):
    """A dash between spaces separates words, as in a pasted headline ("Harbour - festival
    returns"): the word after it is looked for like the others."""
    make_article(title="Harbour budget approved")
    make_article(title="Harbour festival returns")
    html = search(client, query)
    assert "Harbour festival returns" in html
    assert "Harbour budget approved" not in html


@pytest.mark.parametrize("query", ["O'Brien", "O\u2019Brien", "o'brien"])
def test_a_name_with_an_apostrophe_is_found_however_the_apostrophe_is_typed(client, query):
    """Keyboards type a straight apostrophe, phones and pasted text often a curly one."""
    make_article(title="O'Brien wins the by-election")
    make_article(title="O\u2019Brien\u2019s bakery opens")
    make_article(title="Brienne of the harbour")
    html = search(client, query)
    assert "O&#x27;Brien wins the by-election" in html
    assert "O\u2019Brien\u2019s bakery opens" in html
    assert "Brienne of the harbour" not in html


@pytest.mark.parametrize("query", ['"Covid: the numbers"', '"covid: the numbers'])
def test_a_phrase_copied_with_its_punctuation_is_found(client, query):
    make_article(title="Covid: the numbers this week")
    make_article(title="The numbers behind the covid ward")
    html = search(client, query)
    assert "Covid: the numbers this week" in html
    assert "The numbers behind the covid ward" not in html


@pytest.mark.parametrize("query", ["covid 19", "COVID-19", "f 35"])
def test_a_number_after_a_hyphen_is_found_by_the_number(client, query):
    """PostgreSQL reads the "-19" of "COVID-19" as a negative number; readers type "covid 19"."""
    make_article(title="COVID-19 vaccine arrives")
    make_article(title="Covid ward reopens", body="The F-35 flew over at 9.")
    make_article(title="Ferry timetable changes", body="Sailing at 19:00 daily.")
    html = search(client, query)
    expected = "Covid ward reopens" if query == "f 35" else "COVID-19 vaccine arrives"
    assert expected in html
    assert "Ferry timetable changes" not in html


def test_a_number_left_out_is_left_out_after_a_hyphen_too(client):
    make_article(title="COVID-19 vaccine arrives")
    make_article(title="Covid ward reopens")
    html = search(client, "covid -19")
    assert "Covid ward reopens" in html
    assert "COVID-19 vaccine arrives" not in html


@pytest.mark.parametrize("query", ["U.S. economy", "9/11", "3.5%", "e.coli", "example.com"])
def test_a_word_with_dots_or_slashes_inside_is_found_as_written(client, query):
    """PostgreSQL's parser keeps "U.S.", "9/11", "3.5" or "e.coli" as one word of the stored
    document: looked for as the pieces between the dots ("u", "s"), none was ever found."""
    make_article(
        title="U.S. economy grew 3.5% in the year after 9/11",
        body="An e.coli outbreak, says example.com.",
    )
    make_article(title="Ferry timetable changes", body="Sailing at 9, 11 and 19 daily.")
    html = search(client, query)
    assert "U.S. economy grew 3.5% in the year after 9/11" in html
    assert "Ferry timetable changes" not in html


@pytest.mark.parametrize("query", ["“harbour board”", "„harbour board“", "«harbour board»"])
def test_words_in_typographic_quotes_are_found_together_too(client, query):
    """Phones turn the quotes a reader types into curly ones."""
    make_article(title="Harbour board approves budget")
    make_article(title="Board games night at the harbour")
    html = search(client, query)
    assert "Harbour board approves budget" in html
    assert "Board games night" not in html


def test_or_finds_articles_with_either_word(client):
    make_article(title="Lighthouse keeper retires")
    make_article(title="Ferry timetable changes")
    make_article(title="Market report")
    html = search(client, "lighthouse or ferry")
    assert "Lighthouse keeper retires" in html
    assert "Ferry timetable changes" in html
    assert "Market report" not in html


@pytest.mark.parametrize(
    "query",
    ["lighthouse,", "lighthouse:", "(lighthouse)", "lighthouse?", "“lighthouse”", "!lighthouse"],
)
def test_punctuation_around_a_word_is_not_looked_for(client, query):
    make_article(title="Lighthouse keeper retires")
    assert "Lighthouse keeper retires" in search(client, query)


@pytest.mark.parametrize("query", ["ørsted", "émile", "zoë"])
def test_letters_beyond_english_are_found_whatever_their_case(client, query):
    make_article(title="Ørsted at Émile Street hall", standfirst="ZOË MARTIN, LIVE.")
    assert "Ørsted at Émile Street hall" in search(client, query)


@pytest.mark.parametrize(
    ("query", "article"),
    [
        ("Zurich", {"title": "Zürich trams run all night"}),
        ("cafe", {"title": "A café opens on the quay"}),
        ("Sao Paulo", {"title": "Delegation arrives", "standfirst": "São Paulo sends one."}),
        ('"sao paulo"', {"title": "Delegation arrives", "standfirst": "São Paulo sends one."}),
        ("dvorak", {"title": "Concert review", "body": "The orchestra played Dvořák."}),
        ("emile", {"title": "Émile Street reopens"}),
        ("orsted", {"title": "ØRSTED builds a wind farm"}),
        ("resume", {"title": "Résumé writing workshop"}),
    ],
)
def test_a_word_typed_without_its_accents_finds_it_written_with_them(client, query, article):
    """Readers type foreign names as their keyboard lets them."""
    make_article(**article)
    make_article(title="Ferry timetable changes")
    html = search(client, query)
    assert article["title"] in html
    assert "Ferry timetable changes" not in html


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("résumé", "Send your resume by Friday"),
        ("Zürich", "Zurich trams run all night"),
        ("São Paulo", "Sao Paulo sends a delegation"),
        ("café", "Cafe owners meet the council"),
        ("naïve", "A NAIVE plan for the harbour"),
    ],
)
def test_a_word_typed_with_accents_finds_it_written_without_them(client, query, title):
    make_article(title=title)
    make_article(title="Ferry timetable changes")
    html = search(client, query)
    assert title in html
    assert "Ferry timetable changes" not in html


@pytest.mark.parametrize("query", ["Łódź", "łódź", "ŁÓDŹ"])
def test_a_word_accented_from_its_first_letter_is_found_as_written(client, query):
    make_article(title="Łódź twins with the harbour town")
    make_article(title="Ferry timetable changes")
    html = search(client, query)
    assert "Łódź twins with the harbour town" in html
    assert "Ferry timetable changes" not in html


@pytest.mark.skipif(connection.vendor != "sqlite", reason="GLOB's wildcards are SQLite's")
@pytest.mark.parametrize(
    ("query", "title"),
    [
        ('"5 * 3"', "Why 5 * 3 is 15"),
        ('"why? because"', "Why? Because"),
        ("x[1]y", "Array x[1]y explained"),
    ],
)
def test_wildcards_of_sqlite_are_looked_for_as_written(client, query, title):
    make_article(title=title)
    make_article(title="Why 5 + 3 is 8, why! because x1y")
    html = search(client, query)
    assert title in html
    assert "Why 5 + 3 is 8" not in html


def test_a_fullwidth_circumflex_finds_a_circumflex_not_any_character(client):
    """Japanese keyboards type a fullwidth circumflex, which stands for "^" too: written
    first in a GLOB class, "^" made it a class of every character but those two, so
    "a\uff3eb" found "ANB"."""
    make_article(title="Exponents: a^b explained")
    make_article(title="ANB bank results")
    html = search(client, "a\uff3eb")
    assert "Exponents: a^b explained" in html
    assert "ANB bank results" not in html


def test_a_phrase_typed_without_accents_is_still_found_only_in_order(client):
    make_article(title="São Paulo sends a delegation")
    make_article(title="Paulo leaves São Tomé")
    html = search(client, '"sao paulo"')
    assert "São Paulo sends a delegation" in html
    assert "Paulo leaves São Tomé" not in html


def test_a_word_left_out_is_left_out_with_its_accents_too(client):
    make_article(title="Zürich trams run all night")
    make_article(title="Night trams in Basel")
    html = search(client, "trams -zurich")
    assert "Night trams in Basel" in html
    assert "Zürich trams run all night" not in html


def test_a_search_reads_its_first_eight_words_or_phrases_alternatives_included(client):
    """Each alternative after "or" counts: on SQLite each is a scan of every article, and a
    bot's "a or b or c ..." must not make one search cost dozens of them."""
    words = [f"word{n:02}" for n in range(1, 21)]
    make_article(title=f"Tide tables with {words[7]}")
    make_article(title=f"Ferry notes with {words[8]}")
    html = search(client, " or ".join(words))
    assert f"Tide tables with {words[7]}" in html
    assert f"Ferry notes with {words[8]}" not in html


def test_a_search_beyond_eight_words_or_phrases_says_which_it_did_not_look_for(client):
    """The rest was dropped without a word: a reader pasting a long sentence could not tell
    why an article with its last words was not found."""
    make_article(title="Tide tables for the whole coast")
    html = search(client, 'one two three four five six seven eight "nine ten" <eleven>')
    not_looked_for = "“&quot;nine ten&quot; &lt;eleven&gt;”"
    assert f"Only the first 8 words or phrases were looked for, not {not_looked_for}" in html
    html = search(client, "tide tables")
    assert "Only the first 8" not in html


def test_a_search_reads_its_text_once(client, monkeypatch):
    """What the results page says of a search (words left out, words not looked for) and
    what it looks for come from one reading of the text."""
    readings, read = [], models.search_terms

    def search_terms(query):
        readings.append(query)
        return read(query)

    monkeypatch.setattr(models, "search_terms", search_terms)
    make_article(title="Lighthouse keeper retires")
    assert "Lighthouse keeper retires" in search(client, "lighthouse or the")
    assert readings == ["lighthouse or the"]


@pytest.mark.parametrize("query", [". - &", "-", '""', "'", "or"])
def test_a_search_without_a_word_says_so_instead_of_to_try_fewer_words(client, query):
    make_article(title="Lighthouse keeper retires")
    html = search(client, query)
    assert "Lighthouse keeper retires" not in html
    assert "has no word to look for" in html
    assert "Try fewer" not in html


# PostgreSQL's documents leave out the words too common to tell articles apart ("the",
# "it", "who"...): a search of those alone looks for them in headlines and summaries.
@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("WHO", "WHO declares measles emergency"),
        ("who", "WHO declares measles emergency"),
        ("It", "It: the remake opens"),
        ("The Who", "The Who announce farewell tour"),
        ('"the who"', "The Who announce farewell tour"),
        ("it's", "It's over for the night bus"),
    ],
)
def test_a_search_of_common_words_alone_finds_headlines_with_them(client, query, title):
    make_article(title=title)
    make_article(title="Harbour festival returns")
    html = search(client, query)
    assert title.replace("'", "&#x27;") in html
    assert "Harbour festival returns" not in html


def test_a_search_of_common_words_alone_finds_summaries_with_them(client):
    make_article(title="Measles emergency declared", standfirst="The WHO calls for vaccines.")
    make_article(title="Harbour festival returns")
    html = search(client, "WHO")
    assert "Measles emergency declared" in html
    assert "Harbour festival returns" not in html


def test_a_search_of_common_words_alone_keeps_minus_and_or(client):
    make_article(title="The Who announce farewell tour")
    make_article(title="The Who play Hyde Park")
    make_article(title="Where it all began")
    make_article(title="When the lights went out")
    html = search(client, '"the who" -tour')
    assert "The Who play Hyde Park" in html
    assert "farewell tour" not in html
    assert "Where it all began" not in html
    html = search(client, "where or when")
    assert "Where it all began" in html
    assert "When the lights went out" in html
    assert "The Who" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stemming is PostgreSQL's")
@pytest.mark.parametrize("query", ['"the who" -tours', '"the who" -touring'])
def test_postgresql_leaves_out_other_forms_of_a_word_beside_common_words_alone(client, query):
    """A word after a minus sign leaves out the articles with any form of it, anywhere in
    them, as it does beside other words ("harbour -festivals"): beside common words alone,
    "-tours" left out only headlines that said "tours"."""
    make_article(title="The Who announce farewell tour")
    make_article(title="The Who at Wembley", body="The last night of their world tour.")
    make_article(title="The Who play Hyde Park")
    html = search(client, query)
    assert "The Who play Hyde Park" in html
    assert "farewell tour" not in html
    assert "The Who at Wembley" not in html


@pytest.mark.parametrize("query", ["WHO or vaccine", "vaccine or WHO", "vaccine or who harbour"])
def test_a_common_word_offered_as_an_alternative_is_looked_for(client, query):
    """Left out, a common word would narrow a search with "or" instead of widening it:
    "WHO or vaccine" found the vaccine stories only."""
    make_article(title="WHO declares measles emergency", standfirst="At the harbour.")
    make_article(title="Vaccine arrives at the harbour")
    make_article(title="Harbour festival returns")
    html = search(client, query)
    assert "WHO declares measles emergency" in html
    assert "Vaccine arrives at the harbour" in html
    assert "Harbour festival returns" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
def test_postgresql_says_where_it_looked_for_a_common_word_offered_as_an_alternative(client):
    make_article(title="WHO declares measles emergency")
    html = search(client, "the WHO or <vaccine>")
    assert (
        "“WHO” was looked for in headlines and summaries only: too common a word to look "
        "for in the text of articles." in html
    )
    assert "“the” was left out: too common a word to look for." in html
    assert "“WHO” was looked for in capitals only" in html
    assert "Only headlines and summaries were searched" not in html
    assert "<vaccine>" not in html
    html = search(client, '"it <the" or vaccine')
    assert "“it &lt;the” was looked for in headlines and summaries only" in html
    assert "<the" not in html


@pytest.mark.parametrize("query", ["US election", "IT harbour"])
def test_common_words_beside_other_words_still_find_articles(client, query):
    make_article(title="Harbour election results: US city votes")
    make_article(title="Ferry timetable changes")
    html = search(client, query)
    assert "Harbour election results: US city votes" in html
    assert "Ferry timetable changes" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
def test_postgresql_finds_common_words_alone_as_whole_words_in_headlines_and_summaries(client):
    make_article(title="WHO declares measles emergency")
    make_article(title="Whole grain bakery opens")
    make_article(title="Italy wins", body="Who saw it coming?")
    html = search(client, "who")
    assert "WHO declares measles emergency" in html
    assert "Whole grain bakery" not in html
    assert "Italy wins" not in html
    assert "Only headlines and summaries were searched" in html
    assert "“who” is too common a word to look for in the text of articles" in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
@pytest.mark.parametrize(
    ("query", "found", "not_found", "said"),
    [
        ("WHO", ["WHO declares", "The WHO is"], ["Who won", "The Who announce"], "“WHO” was"),
        ("The WHO", ["The WHO is"], ["The Who announce", "WHO declares"], "“WHO” was"),
        ('"the WHO"', ["The WHO is"], ["The Who announce"], "“WHO” was"),
        ("who", ["WHO declares", "The WHO is", "Who won", "The Who announce"], [], None),
        ("Who", ["WHO declares", "The WHO is", "Who won", "The Who announce"], [], None),
        ("THE WHO", ["The WHO is", "The Who announce"], [], None),
        ("THE OR WHO", ["The WHO is", "The Who announce", "Who won"], [], None),
        (
            "WHO or IT",
            ["WHO declares", "The WHO is"],
            ["Who won", "The Who"],
            "“WHO” and “IT” were",
        ),
    ],
)
def test_postgresql_finds_common_words_typed_in_capitals_in_capitals_alone(
    client, query, found, not_found, said
):
    """A reader who types "WHO" means the organisation, not "Who won the cup?": a common
    word of two letters or more typed in capitals is found in capitals, and the page says
    so. Typed in small letters, or with a capital first letter, it is found in any case;
    in a search typed all in capitals (caps lock: "THE WHO", "THE OR WHO") too."""
    make_article(title="WHO declares measles emergency")
    make_article(title="Measles cases rise", standfirst="The WHO is worried.")
    make_article(title="Who won the cup?")
    make_article(title="The Who announce farewell tour")
    html = search(client, query)
    for words in found:
        assert words in html
    for words in not_found:
        assert words not in html
    if said:
        assert f"{said} looked for in capitals only, as typed" in html
    else:
        assert "in capitals" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking is PostgreSQL's")
def test_postgresql_ranks_headlines_with_common_words_before_summaries(client):
    make_article(
        title="WHO declares measles emergency", published_at=timezone.now() - timedelta(days=3)
    )
    make_article(title="Measles cases rise", standfirst="The WHO is worried.")
    html = search(client, "WHO")
    assert html.index("WHO declares measles") < html.index("Measles cases rise")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
def test_postgresql_says_why_a_search_of_common_words_finds_nothing(client):
    make_article(title="Harbour festival returns", body="It was the best of times.")
    html = search(client, "it <was>")
    assert "No articles match “it &lt;was&gt;”" in html
    assert "Only headlines and summaries were searched" in html
    assert "“it” and “was” are words too common to look for in the text of articles" in html
    assert "<was>" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
def test_postgresql_names_the_words_it_left_out_as_a_sentence_lists_them(client):
    """They read as a list of commas ("“more”, “here”, “a” were left out")."""
    make_article(title="Harbour election results")
    html = search(client, "harbour more here a")
    assert "“more”, “here” and “a” were left out: words too common to look for." in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
def test_postgresql_says_which_common_words_it_left_out_beside_others(client):
    make_article(title="Harbour election results")
    html = search(client, "IT harbour")
    assert "Harbour election results" in html
    assert "“IT” was left out: too common a word to look for" in html
    html = search(client, "the ferry")
    assert "No articles match “the ferry”" in html
    assert "“the” was left out: too common a word to look for" in html


@pytest.mark.parametrize("query", ["harbour", "ferry"])
def test_a_search_without_common_words_says_nothing_of_them(client, query):
    make_article(title="Harbour election results")
    html = search(client, query)
    assert "too common" not in html
    assert "Only headlines and summaries" not in html


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite looks for every word")
@pytest.mark.parametrize("query", ["the who", "it", "it harbour"])
def test_sqlite_looks_for_common_words_everywhere_and_says_nothing_of_them(client, query):
    make_article(title="Harbour report", body="It was the doctor who saw it.")
    html = search(client, query)
    assert "Harbour report" in html
    assert "too common" not in html
    assert "Only headlines and summaries" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
def test_postgresql_common_words_are_the_ones_its_configuration_leaves_out():
    """The list search reads in Python (to say what it left out, without asking the
    database) is the one SEARCH_CONFIG leaves out of documents."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word FROM unnest(%s::text[]) AS word"
            " WHERE to_tsvector(%s::regconfig, word) != ''",
            [sorted(STOP_WORDS), SEARCH_CONFIG],
        )
        assert cursor.fetchall() == []
        cursor.execute(
            "SELECT word FROM unnest(%s::text[]) AS word"
            " WHERE to_tsvector(%s::regconfig, word) = ''",
            [["us", "news", "world", "whose", "cannot", "none", "would"], SEARCH_CONFIG],
        )
        assert cursor.fetchall() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
@pytest.mark.parametrize(
    "term",
    ["IT", "The Who", "it's", "it\u2019s", "don't", "thé", "the_who", "A.I", "U.S", "so-so",
     "o'clock", "9/11", "who2", "whoever", "Ørsted"],
)  # fmt: skip
def test_postgresql_reads_a_term_as_common_words_alone_as_its_parser_does(term):
    """too_common() splits a term as PostgreSQL's parser does, without asking it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT numnode(phraseto_tsquery(%s::regconfig, %s)) = 0", [SEARCH_CONFIG, term]
        )
        assert too_common(term) == cursor.fetchone()[0]


def test_search_never_finds_drafts_or_scheduled_articles(client):
    make_draft(title="Secret lighthouse plan")
    make_scheduled(title="Future lighthouse plan")
    html = search(client, "lighthouse")
    assert "lighthouse plan" not in html
    assert "No articles match" in html


def test_an_edited_article_is_found_by_its_new_words_only(client):
    article = make_article(title="Harbour dredging delayed")
    article.title = "Ferry timetable changes"
    article.save()
    assert "Ferry timetable changes" in search(client, "ferry")
    assert "No articles match" in search(client, "dredging")


def test_an_article_edited_in_the_admin_is_found_by_its_new_words(client):
    article = make_article(title="Harbour dredging delayed", body="The dredger broke down.")
    client.force_login(make_user(superuser=True))
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    inlines = client.get(change_url).context["inline_admin_formsets"]
    response = client.post(
        change_url,
        {
            **{
                f"{inline.formset.prefix}-{name}": value
                for inline in inlines
                for name, value in inline.formset.management_form.initial.items()
            },
            "title": article.title,
            "slug": article.slug,
            "standfirst": article.standfirst,
            "body": "The lighthouse keeper lent them a boat.",
            "section": article.section_id,
            "author": article.author_id,
            "status": article.status,
            "published_at_0": article.published_at.date().isoformat(),
            "published_at_1": article.published_at.time().isoformat("seconds"),
            "comments_enabled": "on",
            "lead_image_alt": "",
        },
    )
    assert response.status_code == 302
    assert "Harbour dredging delayed" in search(client, "lighthouse")
    assert "No articles match" in search(client, "dredger")


def test_an_update_of_the_text_alone_is_found_too(client):
    article = make_article(title="Harbour dredging delayed")
    Article.objects.filter(pk=article.pk).update(body="A lighthouse on the breakwater.")
    assert "Harbour dredging delayed" in search(client, "lighthouse")


def test_bulk_loaded_demo_articles_are_found(client):
    demo.create_articles(3)  # COPY on PostgreSQL
    title = Article.objects.order_by("pk").first().title
    assert title in search(client, title.split()[0])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored document is PostgreSQL's")
def test_postgresql_stores_the_document_search_expects():
    make_article(title="Orchard", standfirst="Apple trees", body="Planted by volunteers.")
    make_article(title="", standfirst="", body="")
    expected = (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("standfirst", weight="B", config=SEARCH_CONFIG)
        + SearchVector("body", weight="C", config=SEARCH_CONFIG)
    )
    documents = Article.objects.annotate(stored=SearchDocument(), expected=expected)
    for stored, computed in documents.values_list("stored", "expected"):
        assert stored == computed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the stored document is PostgreSQL's")
def test_postgresql_recomputes_a_document_written_directly(client):
    make_article(title="Orchard planted")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_article SET search_document = to_tsvector('harbour')")
    assert "No articles match" in search(client, "harbour")
    assert "Orchard planted" in search(client, "orchard")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stemming is PostgreSQL's")
@pytest.mark.parametrize("query", ["cafes", "Cafés", "CAFÉ"])
def test_postgresql_finds_other_forms_of_a_word_whatever_their_accents(client, query):
    make_article(title="Café owners meet the council")
    make_article(title="Ferry timetable changes")
    html = search(client, query)
    assert "Café owners meet the council" in html
    assert "Ferry timetable changes" not in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking is PostgreSQL's")
def test_postgresql_ranks_headline_matches_first(client):
    make_article(title="Budget talks", body="Mentions the orchard once.")
    make_article(title="Orchard planted by volunteers", body="Apple trees.")
    html = search(client, "orchard")
    assert html.index("Orchard planted") < html.index("Budget talks")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking is PostgreSQL's")
def test_postgresql_ranks_only_the_newest_matches(client, monkeypatch):
    monkeypatch.setattr("articles.models.SEARCH_RANKED_MATCHES", 2)
    days_ago = lambda days: timezone.now() - timedelta(days=days)  # noqa: E731
    make_article(title="Orchard, orchard, orchard", published_at=days_ago(30))
    make_article(title="Budget talks", body="Mentions the orchard once.", published_at=days_ago(2))
    make_article(title="Road works", body="An orchard by the road.", published_at=days_ago(1))

    html = search(client, "orchard")

    assert "Budget talks" in html and "Road works" in html
    assert "Orchard, orchard, orchard" not in html  # the best match, but the oldest


@pytest.mark.skipif(connection.vendor != "postgresql", reason="stop words are PostgreSQL's")
def test_postgresql_checks_the_case_of_the_newest_matches_only(client, monkeypatch):
    """The index knows no case: "THE" must not read every article with "the" for the few
    that write it in capitals."""
    monkeypatch.setattr("articles.models.SEARCH_CHECKED_MATCHES", 2)
    days_ago = lambda days: timezone.now() - timedelta(days=days)  # noqa: E731
    make_article(title="WHO declares measles emergency", published_at=days_ago(30))
    make_article(title="WHO names a new chief", published_at=days_ago(3))
    make_article(title="Who won the cup?", published_at=days_ago(2))

    html = search(client, "WHO")

    assert "WHO names a new chief" in html
    assert "Who won the cup?" not in html
    assert "WHO declares measles emergency" not in html  # beyond the newest two "who"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN index is PostgreSQL's")
@pytest.mark.parametrize(
    ("query", "oldest"),
    [
        ("solar -roof", "Solar farm opens"),
        ("solar -roof or ferry", "Solar farm opens"),
        ('"roof solar"', "Roof solar panels stay"),
    ],
)
def test_postgresql_checks_words_left_out_and_word_order_in_the_newest_matches_only(
    client, monkeypatch, query, oldest
):
    """The index finds articles with the words; whether one also lacks a word left out, or
    has the words in the phrase's order, is read in its text. Where the words always come
    together, "solar -roof" matched none of the articles the planner expected it to, and
    it read every article's text, newest first, looking for them (1.5 s at 50,000)."""
    monkeypatch.setattr("articles.models.SEARCH_CHECKED_MATCHES", 2)
    days_ago = lambda days: timezone.now() - timedelta(days=days)  # noqa: E731
    make_article(title=oldest, published_at=days_ago(30))
    make_article(title="Solar roof approved", published_at=days_ago(3))
    make_article(title="Solar roof delayed", published_at=days_ago(2))

    html = search(client, query)

    assert oldest not in html  # beyond the newest two with the words to find


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN index is PostgreSQL's")
def test_postgresql_stops_reading_articles_once_it_has_the_matches_it_ranks(monkeypatch):
    """A phrase of common words finds its matches among the newest articles: it reads each
    once, and no further than they are, not the whole of the newest SEARCH_CHECKED_MATCHES
    and then those again (some 3,600 articles where "solar roof" in quotes needs 560, at
    50,000 articles)."""
    monkeypatch.setattr("articles.models.SEARCH_RANKED_MATCHES", 1)
    monkeypatch.setattr("articles.models.SEARCH_CHECKED_MATCHES", 3)
    for days in (3, 2, 1):
        make_article(
            title=f"Solar roof news {days}", published_at=timezone.now() - timedelta(days=days)
        )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the newest first, as at scale
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = searched('"solar roof"').explain(analyze=True)

    read_newest_first = re.findall(r"Index Scan using article_\w+_idx .*rows=(\d+) loops", plan)
    assert sum(map(int, read_newest_first)) == 1  # the newest article, once


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN index is PostgreSQL's")
def test_postgresql_finds_words_the_index_checks_alone_in_every_match(client, monkeypatch):
    monkeypatch.setattr("articles.models.SEARCH_CHECKED_MATCHES", 2)
    for days in (30, 3, 2):
        make_article(
            title=f"Solar roof news {days}", published_at=timezone.now() - timedelta(days=days)
        )

    html = search(client, "solar roof")

    assert "Solar roof news 30" in html


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN index is PostgreSQL's")
@pytest.mark.parametrize(
    "query", ["orchard", "Zürich", "zurich", '"são paulo"', "WHO or vaccine", "who or vaccine"]
)
def test_postgresql_search_uses_the_full_text_index(query):
    """The match is one the GIN index answers. On a table this small the planner would
    rather read it all, or walk the newest-first index, so both are ruled out: what is
    left is the GIN index, if the match can use it, or nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = searched(query).explain()
    assert "article_search_document_idx" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN index is PostgreSQL's")
@pytest.mark.parametrize(
    "query",
    ["who", "The Who", '"it is" -was', "WHO", "The WHO -tour", "WHO or vaccine", "who or it"],
)
def test_postgresql_search_of_common_words_uses_the_headline_index(query):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = searched(query).explain()
    assert "article_headline_words_idx" in plan


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "a" * 5000,
        "\x00\x01nul bytes",
        "'; DROP TABLE articles_article; --",
        '"unclosed quote',
        "-minus or OR & | ! ( ) :* <-> \\",
        "<script>alert(1)</script>",
        "日本語 ünïcödé 🚀",
        # More than 32 "not"s nested: PostgreSQL's "tsquery stack too small" was a 500.
        "-" * 40 + "festival",
        "harbour " + "- " * 40 + "festival",
        "-(" * 40 + '"festival"',
        '-"' * 40 + "festival",
        "-" * 200,
        "x," * 100,
        "x or " * 40,
        "-x " * 66,
        "-" + "-x" * 99,
        "“" * 200,
        "x'" * 100,
        '"' + "x " * 99,
        "-" * 199 + '"',
        "x or -" * 33,
        "- " * 100,
        ":* " * 66,
        "!" * 200,
        "(" * 100 + ")" * 100,
        "<->" * 66,
        "🚀" * 200,
    ],
)
def test_odd_queries_never_break_search(client, query):
    make_article(title="Something to find")
    html = search(client, query)
    assert "<script>alert(1)</script>" not in html


def test_empty_query_shows_the_form_without_results(client, django_assert_max_num_queries):
    make_article(title="Something to find")
    search(client, "")  # the header's sections, cached from then on
    with django_assert_max_num_queries(0):
        html = search(client, "")
    assert 'name="q"' in html
    assert "Something to find" not in html


def test_query_is_echoed_escaped_and_kept_in_the_box(client):
    html = search(client, "<b>bold</b>")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>bold</b>" not in html


@override_settings(ARTICLES_PER_PAGE=1)
def test_search_results_paginate_keeping_the_query(client):
    make_article(title="Tide report one")
    make_article(title="Tide report two")
    html = search(client, "tide")
    assert "q=tide&amp;page=2" in html
    assert client.get("/search/", {"q": "tide", "page": 3}).status_code == 404


def test_search_results_page_on_as_results_not_by_date(client, settings):
    """PostgreSQL ranks results by relevance, so a later page may hold newer stories than
    the first: its links say "More results", never "Older" or "Newer" as the lists do."""
    settings.ARTICLES_PER_PAGE = 1
    make_article(title="Tide tables", published_at=timezone.now() - timedelta(days=9))
    make_article(title="Tide tables tide tide", published_at=timezone.now() - timedelta(days=1))

    first, second = search(client, "tide"), search(client, "tide", page=2)

    assert (
        '<a class="pagination__older" rel="next" href="?q=tide&amp;page=2">More results →</a>'
        in first
    )
    assert '<a class="pagination__newer" rel="prev" href="?q=tide">← Previous results</a>' in second
    assert "Older" not in first
    assert "Newer" not in second


@pytest.mark.parametrize("path", ["/search/", "/no-such-page/"])
def test_every_search_box_takes_the_direction_of_what_is_typed_in_it(client, path):
    """A query in Arabic or Hebrew typed left to right reads backwards, its punctuation
    on the wrong side: the 404 page's box lacked what the others had."""
    html = client.get(path).content.decode()

    boxes = re.findall(r'<input [^>]*type="search"[^>]*>', html)
    assert boxes
    assert all('dir="auto"' in box for box in boxes)
