"""Search finds words whatever their accents on PostgreSQL: "Zurich" finds "Zürich", and
"résumé" finds "resume".

The stored document (migration 0003) and the queries read text in a configuration of our
own, `english_unaccent`: PostgreSQL's `english`, except that a word with letters beyond
ASCII goes through the `unaccent` dictionary before the English stemmer. Stemming, ranking,
phrases and the GIN index work as before. A text all in ASCII is read exactly as before, so
only the articles with other characters need a new document: the trigger's function is
replaced, and those rows are written again through it, REWRITE_BATCH articles at a time,
each lot committed: a rewrite of 100,000 articles takes minutes, and moderators' decisions
(which update the articles' comment counts) and editors' saves would wait for it all.
Readers search meanwhile, finding accented words in the articles rewritten so far. The
migration can be run again if interrupted.

`unaccent` is an extension: creating it takes the database's owner (it is trusted since
PostgreSQL 13) or a superuser, and a managed service may have to allow it first. Where it
cannot be created, this migration stops with PostgreSQL's error and changes nothing (the
README says what to do). Reversed, the old function comes back, those documents are written
again, and the extension stays, as pg_trgm does (comments 0005): other tables may use it.

Written out in full rather than imported, so this migration stays frozen if the model
changes; tests check that the stored document is the one `search` expects.
"""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations, transaction

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


REWRITE_BATCH = 1000
REWRITE = (
    f"UPDATE {TABLE} SET search_document = NULL"  # the trigger fills it in
    f" WHERE id >= %s AND id < %s AND {NOT_ASCII}"
)

FORWARD = [
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}",  # left by an interrupted run
    f"CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english)",
    f"ALTER TEXT SEARCH CONFIGURATION {CONFIG}"
    " ALTER MAPPING FOR word, hword, hword_part WITH unaccent, english_stem",
    document_function(CONFIG),
]

BACKWARD = [document_function("english")]


def rewrite_documents(schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {TABLE}")
        last = cursor.fetchone()[0]
        for start in range(0, last + 1, REWRITE_BATCH):
            with transaction.atomic(using=connection.alias):
                cursor.execute(REWRITE, [start, start + REWRITE_BATCH])
        # Without fresh statistics the planner misjudges how many articles match a word.
        cursor.execute(f"ANALYZE {TABLE}")


def fold_accents(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with transaction.atomic(using=schema_editor.connection.alias):
            for statement in FORWARD:
                schema_editor.execute(statement)
        rewrite_documents(schema_editor)


def keep_accents(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with transaction.atomic(using=schema_editor.connection.alias):
            for statement in BACKWARD:
                schema_editor.execute(statement)
        rewrite_documents(schema_editor)
        schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION {CONFIG}")


class InstallUnaccentExtension(UnaccentExtension):
    """unaccent, installed if missing and never dropped (see above)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Migration(migrations.Migration):
    atomic = False  # the rewrite commits lot by lot (see above)

    dependencies = [("articles", "0010_tag_and_author_feeds_without_control_characters")]

    operations = [
        InstallUnaccentExtension(),
        migrations.RunPython(fold_accents, keep_accents, elidable=False),
    ]
