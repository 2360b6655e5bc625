"""Seed the six roles as groups and the plan's target table (2021–2023) as editable rows."""

from django.db import migrations

ROLES = ["district_admin", "street_officer", "promoter", "building_manager", "agency", "auditor"]
TARGETS = {
    "gross_area": (230, 240, 250),
    "leasable_area": (175, 185, 200),
    "occupancy_rate": (82, 86, 90),
    "registration_rate": (96, 97, 98),
    "industry_concentration": (62, 63.5, 65),
    "tax_source_rate": (60, 65, 70),
    "billion_buildings": (7, 8, 10),
    "building_tax": (9, 12, 15),
    "tax_per_m2": (2600, 3000, 3500),
    "party_coverage": (40, 60, 80),
    "intermediary_coverage": (40, 50, 60),
    "smart_platform_coverage": (40, 45, 50),
    "star_buildings": (14, 17, 20),
    "featured_buildings": (5, 7, 10),
}
FIRST_YEAR = 2021


def seed(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    PlanTarget = apps.get_model("crm", "PlanTarget")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    for key, values in TARGETS.items():
        for milestone, value in enumerate(values, start=1):
            PlanTarget.objects.get_or_create(
                key=key,
                year=FIRST_YEAR + milestone - 1,
                defaults={"milestone": milestone, "value": value},
            )


class Migration(migrations.Migration):
    # A frozen copy of crm.constants.PLAN_TARGETS: migrations must not change when constants do.
    dependencies = [
        ("crm", "0002_postgres_unit_overlap_exclusion"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
