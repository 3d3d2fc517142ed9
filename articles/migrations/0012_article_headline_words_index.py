"""A search of common words alone finds headlines and summaries with them on PostgreSQL.

The search document leaves out the words too common to tell articles apart ("the", "it",
"who": PostgreSQL's English stop words), so a search for "WHO" or "The Who" found nothing.
Such a search now looks for its words in the headline and summary, read in the `simple`
configuration, which keeps every word. This is the GIN index it reads them from, built on
the expression `HeadlineWords` writes (see articles/models.py): nothing is stored in the
table. Measured at 100,000 articles on a busy two-core machine: 7 MB, built in 8 s; a search
reads it in 0.5 to 90 ms. A stored copy of those words (a column kept by the trigger) would
read in 1 to 15 ms, but writing it into every article took 80 s and 40 MB, plus a vacuum,
for a kind of search readers rarely make; matching the words with a regular expression
instead needed no index and read every article for a rare one (0.4 to 1.1 s).

Built CONCURRENTLY, so editors' saves and moderators' decisions (which update articles'
comment counts) never wait for it, hence a migration that is not atomic. Each step may run
again: an index already there (a migration run again by hand) is kept, and one left invalid
by an interrupted build, which writes keep updating and no search reads, is built again.
ANALYZE then gives the planner the expression's word counts: without them it guesses how
many articles hold a word.

Written out in full rather than imported, so this migration stays frozen if the model
changes; a test checks that searches of common words read this index.
"""

from django.db import migrations

TABLE = "articles_article"
INDEX = "article_headline_words_idx"
HEADLINE_WORDS = (
    "(setweight(to_tsvector('simple'::regconfig, title), 'A')"
    " || setweight(to_tsvector('simple'::regconfig, standfirst), 'B'))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [INDEX]
        )
        invalid = cursor.fetchone()
    if invalid and invalid[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {TABLE} USING gin ({HEADLINE_WORDS})"
    )
    schema_editor.execute(f"ANALYZE {TABLE}")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [("articles", "0011_search_folds_accents")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
