"""Tag names and author bios now go into feeds of their own (a tag's title, an author's
description): like the text 0006 guards, they refuse the control characters XML cannot hold,
and those saved before become spaces, as 0008 did for the others.

Written out rather than imported, so this migration stays frozen if the model changes.
"""

import re

import django.core.validators
from django.db import migrations, models

XML_REFUSED_CHARACTER = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
CONTROL_CHARACTERS = (
    "Remove the invisible control characters (pasted text can bring them): feeds cannot carry them."
)
FIELDS = {"tag": ("name",), "author": ("bio",)}


def replace_with_spaces(apps, schema_editor):
    refused = re.compile(XML_REFUSED_CHARACTER)
    for model_name, fields in FIELDS.items():
        model = apps.get_model("articles", model_name)
        for field in fields:
            rows = model.objects.filter(**{f"{field}__regex": XML_REFUSED_CHARACTER})
            for pk, text in rows.values_list("pk", field):
                model.objects.filter(pk=pk).update(**{field: refused.sub(" ", text)})


class Migration(migrations.Migration):
    dependencies = [("articles", "0009_former_slugs_of_sections_tags_authors")]

    operations = [
        migrations.RunPython(replace_with_spaces, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="author",
            name="bio",
            field=models.TextField(
                blank=True,
                max_length=1000,
                validators=[
                    django.core.validators.RegexValidator(
                        XML_REFUSED_CHARACTER, CONTROL_CHARACTERS, inverse_match=True
                    )
                ],
            ),
        ),
        migrations.AlterField(
            model_name="tag",
            name="name",
            field=models.CharField(
                max_length=100,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        XML_REFUSED_CHARACTER, CONTROL_CHARACTERS, inverse_match=True
                    )
                ],
            ),
        ),
    ]
