"""A tag link being stored reads its article's publication with a share lock (PostgreSQL).

Migration 0014's trigger read it as its transaction saw it: an article published by
another transaction meanwhile, committed first, had its links copied before this one's were
there to see (READ COMMITTED), and the link stored then kept "draft" for good: a public
article missing from its tag's page (`article.tags.add(tag)` while another editor
published it). Locked, the one that publishes waits for the tagging to commit, and copies
its publication to the new link; a link stored after a publication waits for it and reads
it. The admin's form locked the article already (it saves the article before its tags).

SQLite has one writer at a time: nothing to do there.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION articles_tag_link_publication() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT status, published_at INTO NEW.status, NEW.published_at
    FROM articles_article WHERE id = NEW.article_id{lock};
    IF NOT FOUND THEN  -- its article comes later in the transaction: not public yet
        NEW.status := 'draft';
        NEW.published_at := NULL;
    END IF;
    RETURN NEW;
END
$$
"""


def replace_function(lock):
    def replace(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(FUNCTION.format(lock=lock))

    return replace


class Migration(migrations.Migration):
    dependencies = [("articles", "0014_tag_links_copy_publication")]

    operations = [
        migrations.RunPython(
            replace_function(" FOR SHARE"), replace_function(""), elidable=False
        ),
    ]
