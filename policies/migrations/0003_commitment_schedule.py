"""Commitments as a schedule: each line a period of the agreement (from the signing's start, by
month-anniversary years, or calendar years where the policy says so), with payments and withholding.

The lines recorded so far booked year k as the calendar year signing year + k - 1; they are turned
into the periods of their agreement here, and their `year` becomes the year the period starts in.
"""

import calendar
import datetime
import datetime as dt

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def _add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _period(start, index, calendar_years):
    # A copy of policies.engine.schedule.agreement_period as it was written with this migration.
    if calendar_years:
        year = start.year + index - 1
        return (start if index == 1 else dt.date(year, 1, 1)), dt.date(year, 12, 31)
    return _add_months(start, 12 * (index - 1)), _add_months(start, 12 * index) - dt.timedelta(days=1)


def lines_into_periods(apps, schema_editor):
    line_model = apps.get_model("policies", "CommitmentLine")
    lines = line_model.objects.select_related("commitment__signing__tenancy", "policy")
    changed = []
    for line in lines.iterator(chunk_size=2000):
        signing = line.commitment.signing
        start = signing.tenancy.start if signing.tenancy_id else signing.signed_on
        calendar_years = bool(line.policy and line.policy.calendar_years)
        line.period_start, line.period_end = _period(start, line.year_index, calendar_years)
        line.year = line.period_start.year
        changed.append(line)
    line_model.objects.bulk_update(changed, ["period_start", "period_end", "year"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0002_district_policy_settings_row"),
        ("crm", "0014_verified_signings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CommitmentPayment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("paid_on", models.DateField(verbose_name="支付日期")),
                (
                    "amount_yuan",
                    models.DecimalField(decimal_places=2, max_digits=16, verbose_name="金额(元)"),
                ),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="备注")),
                ("recorded_at", models.DateTimeField(verbose_name="登记时间")),
            ],
            options={
                "verbose_name": "承诺兑现",
                "verbose_name_plural": "承诺兑现",
                "ordering": ["line", "paid_on", "id"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalCommitmentLine",
            fields=[
                (
                    "id",
                    models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID"),
                ),
                ("policy_name", models.CharField(max_length=200, verbose_name="政策名称")),
                (
                    "benefit_kind",
                    models.CharField(
                        choices=[
                            ("rent_subsidy", "房租补贴 · rent subsidy"),
                            ("rent_free", "免租期 · rent-free months"),
                            ("settlement_subsidy", "入驻补贴 · settlement subsidy"),
                            ("tax_reward", "税收奖励 · tax reward"),
                            ("one_off_award", "一次性奖励 · one-off award"),
                            ("renovation_subsidy", "装修补贴(业主) · renovation subsidy (owner)"),
                        ],
                        max_length=30,
                        verbose_name="福利类型",
                    ),
                ),
                ("beneficiary", models.CharField(max_length=20, verbose_name="受益方")),
                ("year_index", models.PositiveSmallIntegerField(verbose_name="第几年")),
                ("year", models.PositiveSmallIntegerField(db_index=True, verbose_name="年度")),
                ("period_start", models.DateField(db_index=True, verbose_name="期间开始")),
                ("period_end", models.DateField(verbose_name="期间结束")),
                (
                    "amount_yuan",
                    models.DecimalField(decimal_places=2, max_digits=16, verbose_name="金额(元)"),
                ),
                ("withheld_at", models.DateTimeField(blank=True, null=True, verbose_name="暂缓兑现时间")),
                ("withheld_reason", models.CharField(blank=True, max_length=300, verbose_name="暂缓原因")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical 承诺明细",
                "verbose_name_plural": "historical 承诺明细",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalCommitmentPayment",
            fields=[
                (
                    "id",
                    models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID"),
                ),
                ("paid_on", models.DateField(verbose_name="支付日期")),
                (
                    "amount_yuan",
                    models.DecimalField(decimal_places=2, max_digits=16, verbose_name="金额(元)"),
                ),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="备注")),
                ("recorded_at", models.DateTimeField(verbose_name="登记时间")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical 承诺兑现",
                "verbose_name_plural": "historical 承诺兑现",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AlterModelOptions(
            name="commitmentline",
            options={
                "ordering": ["commitment", "period_start", "id"],
                "verbose_name": "承诺明细",
                "verbose_name_plural": "承诺明细",
            },
        ),
        migrations.AddField(
            model_name="commitmentline",
            name="period_end",
            field=models.DateField(null=True, verbose_name="期间结束"),
        ),
        migrations.AddField(
            model_name="commitmentline",
            name="period_start",
            field=models.DateField(db_index=True, null=True, verbose_name="期间开始"),
        ),
        migrations.AddField(
            model_name="commitmentline",
            name="withheld_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="暂缓兑现时间"),
        ),
        migrations.AddField(
            model_name="commitmentline",
            name="withheld_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="暂缓人",
            ),
        ),
        migrations.AddField(
            model_name="commitmentline",
            name="withheld_reason",
            field=models.CharField(blank=True, max_length=300, verbose_name="暂缓原因"),
        ),
        migrations.AddField(
            model_name="historicalpolicy",
            name="calendar_years",
            field=models.BooleanField(
                default=False,
                help_text="按自然年分期兑现(否则按协议年)/ pay by calendar year, not agreement year",
                verbose_name="按自然年兑现",
            ),
        ),
        migrations.AddField(
            model_name="policy",
            name="calendar_years",
            field=models.BooleanField(
                default=False,
                help_text="按自然年分期兑现(否则按协议年)/ pay by calendar year, not agreement year",
                verbose_name="按自然年兑现",
            ),
        ),
        migrations.AddConstraint(
            model_name="commitmentline",
            constraint=models.CheckConstraint(
                condition=models.Q(("period_start__lte", models.F("period_end"))),
                name="commitment_line_period_ordered",
            ),
        ),
        migrations.AddConstraint(
            model_name="commitmentline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("withheld_at__isnull", True),
                    models.Q(("withheld_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="commitment_line_withheld_has_reason",
            ),
        ),
        migrations.AddField(
            model_name="commitmentpayment",
            name="line",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="payments",
                to="policies.commitmentline",
                verbose_name="承诺期间",
            ),
        ),
        migrations.AddField(
            model_name="commitmentpayment",
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="登记人",
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitmentline",
            name="commitment",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="policies.commitment",
                verbose_name="承诺",
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitmentline",
            name="history_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitmentline",
            name="policy",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="policies.policy",
                verbose_name="政策",
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitmentline",
            name="withheld_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="暂缓人",
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitmentpayment",
            name="history_user",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitmentpayment",
            name="line",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="policies.commitmentline",
                verbose_name="承诺期间",
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitmentpayment",
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="登记人",
            ),
        ),
        migrations.AddConstraint(
            model_name="commitmentpayment",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount_yuan__gt", 0)), name="commitment_payment_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="commitmentpayment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("paid_on__gte", datetime.date(1900, 1, 1)),
                    ("paid_on__lte", datetime.date(2100, 12, 31)),
                    ("recorded_at__gte", datetime.datetime(1899, 12, 31, 0, 0, tzinfo=dt.UTC)),
                    ("recorded_at__lt", datetime.datetime(2101, 1, 2, 0, 0, tzinfo=dt.UTC)),
                ),
                name="commitment_payment_dates_within_years",
                violation_error_message="日期应在 1900 年至 2100 年之间 / the date must lie between the years 1900 and 2100",
            ),
        ),
        migrations.RunPython(lines_into_periods, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="commitmentline",
            name="period_start",
            field=models.DateField(db_index=True, verbose_name="期间开始"),
        ),
        migrations.AlterField(
            model_name="commitmentline",
            name="period_end",
            field=models.DateField(verbose_name="期间结束"),
        ),
    ]
