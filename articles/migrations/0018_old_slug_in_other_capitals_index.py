"""The index an old address typed in other capitals is looked for in (views.py,
one_in_other_capitals), once no slug now matches it: as 0016 and 0017 for the slugs now.
The former-slug tables hold one row per slug change, so the build is short."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0017_article_slug_in_other_capitals_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="authorformerslug",
            index=models.Index(
                django.db.models.functions.text.Lower("slug"), name="author_former_slug_lower_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="formerslug",
            index=models.Index(
                django.db.models.functions.text.Lower("slug"), name="article_former_slug_lower_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="sectionformerslug",
            index=models.Index(
                django.db.models.functions.text.Lower("slug"), name="section_former_slug_lower_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="tagformerslug",
            index=models.Index(
                django.db.models.functions.text.Lower("slug"), name="tag_former_slug_lower_idx"
            ),
        ),
    ]
