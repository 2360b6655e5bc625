"""Every input table's trigger also advances the counter of its part of the matching arrays
("matching_<part>", crm.data_versions.MATCHING_PARTS), which the adapter's per-process cache is
keyed on."""

from django.db import migrations

from crm.data_versions import install_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0002_industry_accuracy_optional"),
        ("policies", "0002_district_policy_settings_row"),
        ("crm", "0015_notification_channels"),
    ]

    # Reversing leaves the counters' triggers in place: a counter nobody reads costs one upsert a
    # transaction, and 0011's reverse removes every trigger.
    operations = [migrations.RunPython(install_triggers, migrations.RunPython.noop)]
