"""The text the feeds carry refuses U+FFFE and U+FFFF too: XML cannot hold them, and Django's
feed writes them out, so one pasted into a headline made every feed that lists it one that
feed readers reject whole. Those saved before are taken out (they are no characters at all,
and stood for nothing between the words); going back leaves the text without them.

Written out rather than imported, so this migration stays frozen if the model changes.
"""

import re

import django.core.validators
from django.db import migrations, models

XML_REFUSED_CHARACTER = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
NONCHARACTER = r"[\ufffe\uffff]"
CONTROL_CHARACTERS = (
    "Remove the invisible control characters (pasted text can bring them): feeds cannot carry them."
)
FIELDS = {
    "article": ("title", "standfirst"),
    "author": ("display_name", "bio"),
    "section": ("name", "description"),
    "tag": ("name",),
}


def remove_noncharacters(apps, schema_editor):
    refused = re.compile(NONCHARACTER)
    for model_name, fields in FIELDS.items():
        model = apps.get_model("articles", model_name)
        for field in fields:
            rows = model.objects.filter(**{f"{field}__regex": NONCHARACTER})
            for pk, text in rows.values_list("pk", field):
                model.objects.filter(pk=pk).update(**{field: refused.sub("", text)})


def without_xml_refused_characters():
    return [
        django.core.validators.RegexValidator(
            XML_REFUSED_CHARACTER, CONTROL_CHARACTERS, inverse_match=True
        )
    ]


class Migration(migrations.Migration):
    dependencies = [("articles", "0012_article_headline_words_index")]

    operations = [
        migrations.RunPython(remove_noncharacters, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="article",
            name="standfirst",
            field=models.TextField(
                help_text="The summary under the headline.",
                max_length=500,
                validators=without_xml_refused_characters(),
            ),
        ),
        migrations.AlterField(
            model_name="article",
            name="title",
            field=models.CharField(max_length=200, validators=without_xml_refused_characters()),
        ),
        migrations.AlterField(
            model_name="author",
            name="bio",
            field=models.TextField(
                blank=True, max_length=1000, validators=without_xml_refused_characters()
            ),
        ),
        migrations.AlterField(
            model_name="author",
            name="display_name",
            field=models.CharField(max_length=120, validators=without_xml_refused_characters()),
        ),
        migrations.AlterField(
            model_name="section",
            name="description",
            field=models.TextField(blank=True, validators=without_xml_refused_characters()),
        ),
        migrations.AlterField(
            model_name="section",
            name="name",
            field=models.CharField(
                max_length=100, unique=True, validators=without_xml_refused_characters()
            ),
        ),
        migrations.AlterField(
            model_name="tag",
            name="name",
            field=models.CharField(
                max_length=100, unique=True, validators=without_xml_refused_characters()
            ),
        ),
    ]
