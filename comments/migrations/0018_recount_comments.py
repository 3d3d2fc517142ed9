"""Each article's count of the comments readers can see (Article.comment_count), recounted
once: since 0016's release the heading over the comments reads it, where it counted them
itself before, and a count left wrong by an earlier release (races since fixed: an editor's
save writing back the count it had read, a deletion missing an approval committed
meanwhile) would be shown there too, and stay. Nothing to undo backwards.

Counted as comments.services.visible_comment_counts counts (approved, under approved
comments only) in the database, a lot of articles at a time: replies are followed only under
an approved comment, and the withheld ones left out at the end, as PAGE_OF_COMMENTS does
(a filter on the replies' status inside the recursion makes SQLite scan the whole table at
each level); the top-level ones through COALESCE, or SQLite reads every article's from the
parent index for each lot, as thread.top_level once explained. Not atomic: each lot locks its own articles, as a decision does, while it is
recounted and written (only the counts that change), and commits before the next.
"""

from django.db import migrations, transaction

ARTICLES_PER_LOT = 1_000

RECOUNT = """
    WITH RECURSIVE tree (id, article_id, status) AS (
        SELECT id, article_id, status FROM comments_comment
        WHERE COALESCE(parent_id, 0) = 0 AND article_id >= %s AND article_id < %s
        UNION ALL
        SELECT reply.id, reply.article_id, reply.status
        FROM tree JOIN comments_comment reply ON reply.parent_id = tree.id
        WHERE tree.status = 'approved'
    ),
    counted (article_id, visible) AS (
        SELECT article.id, COUNT(tree.id)
        FROM articles_article article
        LEFT JOIN tree ON tree.article_id = article.id AND tree.status = 'approved'
        WHERE article.id >= %s AND article.id < %s
        GROUP BY article.id
    )
    UPDATE articles_article SET comment_count = counted.visible
    FROM counted
    WHERE articles_article.id = counted.article_id
        AND articles_article.comment_count <> counted.visible
"""


def recount(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM articles_article")
        first, last = cursor.fetchone()
        for start in range(first or 0, (last or 0) + 1, ARTICLES_PER_LOT):
            lot = [start, start + ARTICLES_PER_LOT]
            with transaction.atomic(using=connection.alias):
                if connection.features.has_select_for_update:
                    # As services.lock_articles: a decision on one of them waits, then
                    # recounts what this lot wrote.
                    cursor.execute(
                        "SELECT id FROM articles_article WHERE id >= %s AND id < %s"
                        " ORDER BY id FOR UPDATE",
                        lot,
                    )
                cursor.execute(RECOUNT, [*lot, *lot])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("comments", "0017_deleted_comment_key_default"),
    ]

    operations = [
        migrations.RunPython(recount, migrations.RunPython.noop, elidable=False),
    ]
