"""Search finds words whatever their accents on PostgreSQL: "Zurich" finds "Zürich", and
"résumé" finds "resume".

The stored document (migration 0003) and the queries read text in a configuration of our
own, `english_unaccent`: PostgreSQL's `english`, except that a word with letters beyond
ASCII goes through the `unaccent` dictionary before the English stemmer. Stemming, ranking,
phrases and the GIN index work as before. A text all in ASCII is read exactly as before, so
only the articles with other characters need a new document: the trigger's function is
replaced, and those rows are written again through it.

`unaccent` is an extension: creating it takes the database's owner (it is trusted since
PostgreSQL 13) or a superuser, and a managed service may have to allow it first. Where it
cannot be created, this migration stops with PostgreSQL's error and changes nothing (the
README says what to do). Reversed, the old function comes back, those documents are written
again, and the extension stays, as pg_trgm does (comments 0005): other tables may use it.

Written out in full rather than imported, so this migration stays frozen if the model
changes; tests check that the stored document is the one `search` expects.
"""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

TABLE = "articles_article"
FUNCTION = "articles_article_search_document"
CONFIG = "english_unaccent"
# Rows whose text has a character beyond ASCII: only their documents change.
NOT_ASCII = r"concat(title, standfirst, body) ~ '[^\x01-\x7f]'"


def document_function(config):
    return f"""
    CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_document :=
            setweight(to_tsvector('{config}'::regconfig, COALESCE(NEW.title, '')), 'A')
            || setweight(to_tsvector('{config}'::regconfig, COALESCE(NEW.standfirst, '')), 'B')
            || setweight(to_tsvector('{config}'::regconfig, COALESCE(NEW.body, '')), 'C');
        RETURN NEW;
    END
    $$
    """


REWRITE = f"UPDATE {TABLE} SET search_document = NULL WHERE {NOT_ASCII}"  # the trigger fills it

FORWARD = [
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG}"
    " ALTER MAPPING FOR word, hword, hword_part WITH unaccent, english_stem",
    document_function(CONFIG),
    REWRITE,
    f"ANALYZE {TABLE}",
]

BACKWARD = [
    document_function("english"),
    REWRITE,
    f"DROP TEXT SEARCH CONFIGURATION {CONFIG}",
    f"ANALYZE {TABLE}",
]


def run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class InstallUnaccentExtension(UnaccentExtension):
    """unaccent, installed if missing and never dropped (see above)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Migration(migrations.Migration):
    dependencies = [("articles", "0010_tag_and_author_feeds_without_control_characters")]

    operations = [
        InstallUnaccentExtension(),
        migrations.RunPython(
            run_on_postgresql(FORWARD), run_on_postgresql(BACKWARD), elidable=False
        ),
    ]
