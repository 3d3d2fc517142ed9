"""Replace the control characters XML cannot hold in text saved before 0006 refused them.

0006 stops new edits from bringing them, but a title pasted with a vertical tab before the
upgrade stayed in the row, and every feed that lists it was still a 500. Each one becomes
a space (it stood between words, like the line break it usually was), in the fields that
0006 guards. Nothing to undo: going back leaves the spaces, which any version can show.

Written out rather than imported, so this migration stays frozen if the model changes.
"""

import re

from django.db import migrations

XML_REFUSED_CHARACTER = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
FIELDS = {
    "article": ("title", "standfirst"),
    "author": ("display_name",),
    "section": ("name", "description"),
}


def replace_with_spaces(apps, schema_editor):
    refused = re.compile(XML_REFUSED_CHARACTER)
    for model_name, fields in FIELDS.items():
        model = apps.get_model("articles", model_name)
        for field in fields:
            rows = model.objects.filter(**{f"{field}__regex": XML_REFUSED_CHARACTER})
            for pk, text in rows.values_list("pk", field):
                model.objects.filter(pk=pk).update(**{field: refused.sub(" ", text)})


class Migration(migrations.Migration):
    dependencies = [("articles", "0007_lead_image_random_name")]

    operations = [
        migrations.RunPython(replace_with_spaces, migrations.RunPython.noop, elidable=False)
    ]
