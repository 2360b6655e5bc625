"""The district's one policy-settings row, with the default retained share, so that it always exists.

While it was missing, the admin offered an add page to anyone (issue #21, 2); now the row is data and
the admin only changes it, for those with the model permission.
"""

from decimal import Decimal

from django.db import migrations

DEFAULT_TAX_RETAINED_SHARE = Decimal("0.40")  # policies.models.DEFAULT_TAX_RETAINED_SHARE when written


def create_settings_row(apps, schema_editor):
    settings = apps.get_model("policies", "DistrictPolicySettings")
    settings.objects.get_or_create(pk=1, defaults={"tax_retained_share": DEFAULT_TAX_RETAINED_SHARE})


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [migrations.RunPython(create_settings_row, migrations.RunPython.noop)]
