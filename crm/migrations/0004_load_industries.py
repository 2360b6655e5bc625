"""Load the 20 sections and 97 divisions of GB/T 4754-2017 that the project ships as data."""

from django.db import migrations

# crm.data.industries is pure data with no model import, so importing it here is safe; the standard is
# fixed, so the data module is not expected to change under this migration.
from crm.data.industries import DIVISIONS, SECTIONS

FINER_LEVELS = ("class", "group")  # deleted first on reverse: they hang on divisions with PROTECT


def load(apps, schema_editor):
    Industry = apps.get_model("crm", "Industry")
    for letter, name_zh, name_en in SECTIONS:
        Industry.objects.update_or_create(
            code=letter,
            defaults={
                "level": "section",
                "parent": None,
                "section": letter,
                "name_zh": name_zh,
                "name_en": name_en,
            },
        )
    for code, letter, name_zh, name_en in DIVISIONS:
        Industry.objects.update_or_create(
            code=code,
            defaults={
                "level": "division",
                "parent_id": letter,
                "section": letter,
                "name_zh": name_zh,
                "name_en": name_en,
            },
        )


def unload(apps, schema_editor):
    Industry = apps.get_model("crm", "Industry")
    for level in FINER_LEVELS:
        Industry.objects.filter(level=level).delete()
    Industry.objects.filter(code__in=[code for code, *_ in DIVISIONS]).delete()
    Industry.objects.filter(code__in=[letter for letter, *_ in SECTIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_roles_and_plan_targets")]
    operations = [migrations.RunPython(load, unload)]
