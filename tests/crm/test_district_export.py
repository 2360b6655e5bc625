"""Exporting a district: the files of import-format.md, which import back unchanged."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from crm.constants import LeadStage, UnitStatus
from crm.district_io import FILES, district_export, district_import
from crm.models import (
    Activity,
    Building,
    BusinessCircle,
    Enterprise,
    Lead,
    Promoter,
    Reservation,
    Signing,
    Street,
    TaxRecord,
    Tenancy,
    TenancyUnit,
    Unit,
)
from crm.services.activities import activity_log
from crm.services.leads import lead_create, lead_transition
from crm.services.signings import signing_complete
from tests.crm.test_district_import import SAMPLE, history_counts, nothing_written, table_counts
from tests.factories import (
    BuildingFactory,
    PromoterFactory,
    StreetFactory,
    TaxRecordFactory,
    UnitFactory,
    make_credit_code,
)

# The columns of import-format.md's table, copied from it by hand.
COLUMNS = {
    "streets.csv": "name,kind",
    "buildings.csv": "code,name,street,business_circle,address,gross_area_m2,leasable_area_m2,floors,"
    "in_service_since,star_rating,star_since,featured_type,featured_since,main_industry,party_org_since,"
    "intermediary_since,smart_platform_since,rent_min,rent_max,lat,lng",
    "units.csv": "building,floor,number,area_m2,status,asking_rent,available_from",
    "enterprises.csv": "credit_code,name,industry,registered_in_district,settles_in_district,"
    "is_headquarters,employees,business_scope",
    "tenancies.csv": "credit_code,building,units,area_m2,start,end",
    "tax.csv": "credit_code,year,month,amount_yuan",
    "users.csv": "username,first_name,last_name,email,role,street,building,active",
    "promoters.csv": "username,name,team,is_team_lead,street",
    "promoter_targets.csv": "promoter,period_kind,period_start,leads_logged,valid_leads,activities,"
    "site_tours,signings,signed_area_m2,expected_tax_yuan,actual_tax_yuan,conversion_rate,median_days_to_sign,"
    "followup_timeliness",
    "street_targets.csv": "street,year,key,value",
    "leads.csv": "ref,company_name,credit_code,industry,business_scope,contact_name,contact_phone,"
    "lawful_basis,lawful_basis_recorded_at,area_min_m2,area_max_m2,budget_rent,expected_annual_tax,employees,is_headquarters,preferred_streets,"
    "desired_move_in,registers_in_district,settles_in_district,pays_tax_in_district,channel,owner,agency,referred_by,case_by_case,stage,"
    "lost_reason,created_at",
    "agencies.csv": "name,kind,contact_name,contact_phone,active",
    "stage_changes.csv": "lead,changed_at,from_stage,to_stage,reason,changed_by",
    "activities.csv": "lead,kind,occurred_at,building,unit,promoter,notes,next_follow_up_at",
    "holds.csv": "building,unit,created_at,lead,promoter,expires_on,released_at",
    "signings.csv": "lead,building,units,area_m2,rent,signed_on,signed_by,settled_at,settled_by,"
    "settle_override_reason,cancelled_at,cancelled_by,cancel_reason",
    "policies.csv": "name,valid_from,valid_to,description,scope,street,business_circle,building,active,"
    "priority,stacking_group,condition,calendar_years,needs_approval,approval_status,lead,proposed_by,"
    "proposed_at,reviewed_by,reviewed_at,review_note",
    "policy_benefits.csv": "policy,policy_valid_from,kind,percent,months,years,yuan_per_m2,amount_yuan,"
    "cap_yuan,yearly_cap_yuan",
    "commitments.csv": "lead,building,evaluated_on,total_yuan,tax_retained_share,snapshot",
    "commitment_lines.csv": "lead,building,policy_name,benefit_kind,beneficiary,year_index,policy,"
    "policy_valid_from,year,period_start,period_end,amount_yuan,withheld_at,withheld_by,withheld_reason,referrer",
    "commitment_payments.csv": "lead,building,policy_name,benefit_kind,beneficiary,year_index,paid_on,"
    "amount_yuan,note,recorded_by,recorded_at",
}


def build_through_services() -> None:
    """A second district part made the way the product makes it, not by import.

    Its lead is signed on 2020-03-01 for a tenancy starting 2020-04-01 that ended 2021-03-31, after
    which its unit went back on the market; times carry microseconds; a lost lead has a real reason.
    """
    street = StreetFactory(name="城北街道")
    building = BuildingFactory(code="C001", name="城北大厦", street=street)
    unit = UnitFactory(building=building, number="501", area_m2=Decimal("180"))
    UnitFactory(building=building, number="502")
    owner = PromoterFactory(user__username="wangwu", name="王五", street=street)
    lead = lead_create(
        company_name="绍兴城北科技有限公司",
        channel="department",
        owner=owner,
        credit_code=make_credit_code(777),
        industry="65",
        preferred_streets=[street],
        area_min_m2=Decimal("150"),
        area_max_m2=Decimal("200"),
        created_at=timezone.now() - dt.timedelta(days=3),
    )
    activity_log(
        lead=lead, kind="site_tour", occurred_at=timezone.now() - dt.timedelta(days=2), building=building
    )
    lead_transition(lead=lead, to_stage=LeadStage.CONTACTED)
    lead_transition(lead=lead, to_stage=LeadStage.NEGOTIATING)
    signing = signing_complete(
        lead=lead,
        building=building,
        units=[unit],
        signed_on=dt.date(2020, 3, 1),
        start=dt.date(2020, 4, 1),
        rent=Decimal("2.80"),
    )
    Tenancy.objects.filter(pk=signing.tenancy_id).update(end=dt.date(2021, 3, 31))
    TenancyUnit.objects.filter(tenancy_id=signing.tenancy_id).update(end=dt.date(2021, 3, 31))
    Unit.objects.filter(pk=unit.pk).update(status=UnitStatus.VACANT)
    TaxRecordFactory(enterprise=signing.enterprise, year=2020, month=None, amount_yuan=Decimal("350000.25"))
    lost = lead_create(company_name="绍兴城北贸易有限公司", channel="individual", owner=owner)
    lead_transition(lead=lost, to_stage=LeadStage.LOST, reason="选择了其他城市")


def wipe() -> None:
    """Empty every table the files fill, children first."""
    for model in (Signing, Activity, Reservation, Lead, Promoter, TaxRecord, TenancyUnit, Tenancy):
        model.objects.all().delete()
    get_user_model().objects.all().delete()
    for model in (Enterprise, Unit, Building, BusinessCircle, Street):
        model.objects.all().delete()


@pytest.mark.django_db
def test_export_writes_every_file_with_the_columns_of_the_format(tmp_path):
    # given
    district_import(source=SAMPLE)

    # when
    district_export(directory=tmp_path)

    # then each file's header is its column list in import-format.md, in that order
    headers = {
        spec.name: (tmp_path / spec.name).read_text(encoding="utf-8").splitlines()[0] for spec in FILES
    }
    assert headers == COLUMNS


@pytest.mark.django_db
def test_export_writes_values_as_the_import_reads_them(tmp_path):
    # given the sample district and a whole-year total beside 91330602MA2BXK002U's monthly tax
    district_import(source=SAMPLE)
    TaxRecordFactory(
        enterprise=Enterprise.objects.get(credit_code="91330602MA2BXK002U"), year=2021, amount_yuan=110000.5
    )

    # when
    district_export(directory=tmp_path)

    # then tax rows are in credit code, year, month order with the year's total (blank month) first,
    # amounts with their two decimal places
    assert (tmp_path / "tax.csv").read_text(encoding="utf-8").splitlines() == [
        "credit_code,year,month,amount_yuan",
        "91330602MA2BXK001Q,2021,,12000000.00",
        "91330602MA2BXK002U,2021,,110000.50",
        "91330602MA2BXK002U,2021,1,50000.00",
        "91330602MA2BXK002U,2021,2,60000.50",
        "91330602MA2BXK003Y,2019,,800000.00",
    ]
    # a blank boolean became false, a date-only created_at became midnight Shanghai time, and the
    # preferred streets are sorted: 东 (U+4E1C) before 城 (U+57CE)
    leads = (tmp_path / "leads.csv").read_text(encoding="utf-8").splitlines()
    assert leads[2] == (
        "L002,宁波海曙贸易有限公司,91330200MA2H3Q005X,51,,陈女士,,consent,2024-02-01 00:00:00,"
        "300.00,500.00,2.50,,,false,"
        "东湖镇;城南街道,,true,true,true,tenant_referral,zhangsan,,,false,negotiating,,2024-02-01 00:00:00"
    )
    # the enterprise made from the signed lead L001 is exported like any other
    enterprises = (tmp_path / "enterprises.csv").read_text(encoding="utf-8").splitlines()
    # registered and settling here as its lead intended (all three by default)
    assert enterprises[1] == "91330100MA27Y5K04F,杭州云帆科技有限公司,65,true,true,false,30,云计算服务"
    # the lost lead's reason is written, so that it imports back
    assert leads[3].endswith(",agency,lisi,,,false,lost,客户选择外区园区,2024-03-10 14:00:00")


@pytest.mark.django_db
def test_export_import_into_an_empty_database_and_export_again_is_byte_identical(tmp_path):
    # given the sample district and a part built through the services, exported
    district_import(source=SAMPLE)
    build_through_services()
    first, second = tmp_path / "first", tmp_path / "second"
    district_export(directory=first)
    wipe()
    assert nothing_written()

    # when
    district_import(source=first)
    district_export(directory=second)

    # then
    for spec in FILES:
        assert (second / spec.name).read_bytes() == (first / spec.name).read_bytes(), spec.name


@pytest.mark.django_db
def test_importing_an_export_into_the_same_database_changes_nothing(tmp_path):
    # given
    district_import(source=SAMPLE)
    build_through_services()
    tables, history = table_counts(), history_counts()
    district_export(directory=tmp_path)

    # when
    report = district_import(source=tmp_path)

    # then not a row is created or updated, not even the vacated unit of the ended signing
    assert {(c.created, c.updated) for c in report.counts.values()} == {(0, 0)}
    assert set(report.alongside.values()) == {0}
    assert table_counts() == tables
    assert history_counts() == history
    assert Unit.objects.get(building__code="C001", number="501").status == UnitStatus.VACANT
    assert Lead.objects.get(company_name="绍兴城北贸易有限公司").lost_reason == "选择了其他城市"


@pytest.mark.django_db
def test_signing_whose_tenancy_starts_after_signed_on_links_that_tenancy_on_reimport(tmp_path):
    # given a lead signed on 2020-03-01 for a tenancy from 2020-04-01, exported, and the database emptied
    build_through_services()
    district_export(directory=tmp_path)
    wipe()

    # when
    district_import(source=tmp_path)

    # then the signing holds that tenancy, and no second tenancy was made from signed_on
    signing = Signing.objects.get()
    assert (signing.signed_on, signing.tenancy.start) == (dt.date(2020, 3, 1), dt.date(2020, 4, 1))
    assert Tenancy.objects.count() == 1


@pytest.mark.django_db
def test_bom_option_writes_a_byte_order_mark_that_imports_back(tmp_path):
    # given
    district_import(source=SAMPLE)
    history = history_counts()

    # when
    district_export(directory=tmp_path, bom=True)
    report = district_import(source=tmp_path)

    # then
    assert (tmp_path / "streets.csv").read_bytes().startswith(b"\xef\xbb\xbfname,kind\n")
    assert {(c.created, c.updated) for c in report.counts.values()} == {(0, 0)}
    assert history_counts() == history


@pytest.mark.django_db
def test_export_command_prints_rows_per_file(tmp_path):
    # given
    district_import(source=SAMPLE)
    out = io.StringIO()

    # when
    call_command("export_district", str(tmp_path / "new" / "dir"), stdout=out)

    # then the directory is made, and the counts are the sample's rows plus what the signing made
    assert out.getvalue().splitlines() == [
        "streets.csv: 2",
        "buildings.csv: 3",
        "units.csv: 6",
        "enterprises.csv: 4",
        "tenancies.csv: 4",
        "tax.csv: 4",
        # the two promoters' logins
        "users.csv: 2",
        "promoters.csv: 2",
        "promoter_targets.csv: 0",
        "street_targets.csv: 0",
        "agencies.csv: 0",
        "leads.csv: 4",
        "stage_changes.csv: 0",
        "activities.csv: 4",
        "holds.csv: 0",
        "signings.csv: 1",
        "policies.csv: 0",
        "policy_benefits.csv: 0",
        "commitments.csv: 0",
        "commitment_lines.csv: 0",
        "commitment_payments.csv: 0",
    ]
    assert Path(tmp_path / "new" / "dir" / "signings.csv").exists()
