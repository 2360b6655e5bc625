"""The pipeline's own records in the district format: agencies.csv, leads.csv's agency,
stage_changes.csv and holds.csv, each checked row by row and written back by the export."""

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from crm.constants import UnitStatus
from crm.district_io import DistrictImportError, district_export, district_import
from crm.models import Activity, Agency, Lead, PromoterTarget, Reservation, StageChange, Unit
from tests.factories import AgencyFactory, BuildingFactory, LeadFactory, PromoterFactory, UnitFactory

pytestmark = pytest.mark.django_db

LEADS = "ref,company_name,channel,stage,agency,created_at\n"
STAGES = "lead,changed_at,from_stage,to_stage,reason,changed_by\n"


def _files(tmp_path: Path, **files: str) -> Path:
    directory = tmp_path / "in"
    directory.mkdir()
    for name, text in files.items():
        (directory / f"{name}.csv").write_text(text, encoding="utf-8")
    return directory


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_an_agency_and_its_lead_import_and_export_back(tmp_path):
    # given an agency of agencies.csv (kind and active left blank) and the lead it submitted
    source = _files(
        tmp_path,
        agencies="name,kind,contact_name,contact_phone,active\n越城招商服务中心,,周先生,0575-8800,\n",
        leads=LEADS + "L1,甲科技有限公司,agency,new,越城招商服务中心,2024-01-01\n",
    )

    # when it is imported and the district exported
    district_import(source=source)
    district_export(directory=tmp_path / "out")

    # then the agency is an intermediary in partnership, the lead names it, and both files say so
    agency = Agency.objects.get()
    assert (agency.name, agency.kind, agency.contact_name, agency.active) == (
        "越城招商服务中心",
        "intermediary",
        "周先生",
        True,
    )
    assert Lead.objects.get(ref="L1").agency == agency
    assert _rows(tmp_path / "out" / "agencies.csv") == [
        {
            "name": "越城招商服务中心",
            "kind": "intermediary",
            "contact_name": "周先生",
            "contact_phone": "0575-8800",
            "active": "true",
        }
    ]
    assert _rows(tmp_path / "out" / "leads.csv")[0]["agency"] == "越城招商服务中心"


def test_an_unknown_agency_is_a_row_error(tmp_path):
    # given a lead naming an agency neither in the database nor in agencies.csv
    AgencyFactory(name="已有机构")
    source = _files(tmp_path, leads=LEADS + "L1,甲有限公司,agency,new,未登记机构,2024-01-01\n")

    # when
    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    # then the agency cell of line 2 is wrong, and no lead is written
    assert [(e.file, e.line, e.column) for e in raised.value.row_errors] == [("leads.csv", 2, "agency")]
    assert "unknown agency 未登记机构" in raised.value.row_errors[0].message
    assert not Lead.objects.exists()


def test_stage_changes_import_with_their_time_reason_and_user_and_export_back(tmp_path):
    # given a promoter and a lead that was contacted, lost and contacted again
    PromoterFactory(user__username="zhangsan")
    source = _files(
        tmp_path,
        leads=LEADS + "L1,甲有限公司,department,contacted,,2024-01-01\n",
        stage_changes=STAGES
        + "L1,2024-01-02 09:30:00,new,contacted,,zhangsan\n"
        + "L1,2024-02-01 10:00:00,contacted,lost,客户暂缓,zhangsan\n"
        + "L1,2024-03-01 11:00:00,lost,contacted,客户重启,\n",
    )

    # when
    district_import(source=source)
    district_export(directory=tmp_path / "out")

    # then the three moves are logged as given (local time, Asia/Shanghai), the last by nobody known
    changes = list(StageChange.objects.order_by("changed_at"))
    assert [(c.from_stage, c.to_stage, c.reason) for c in changes] == [
        ("new", "contacted", ""),
        ("contacted", "lost", "客户暂缓"),
        ("lost", "contacted", "客户重启"),
    ]
    assert timezone.localtime(changes[0].changed_at).replace(tzinfo=None) == dt.datetime(2024, 1, 2, 9, 30)
    assert [c.changed_by.username if c.changed_by else None for c in changes] == [
        "zhangsan",
        "zhangsan",
        None,
    ]
    exported = (tmp_path / "out" / "stage_changes.csv").read_text(encoding="utf-8").splitlines()
    assert exported == [
        "lead,changed_at,from_stage,to_stage,reason,changed_by",
        "L1,2024-01-02 09:30:00,new,contacted,,zhangsan",
        "L1,2024-02-01 10:00:00,contacted,lost,客户暂缓,zhangsan",
        "L1,2024-03-01 11:00:00,lost,contacted,客户重启,",
    ]


def test_a_second_import_of_the_stage_changes_writes_nothing(tmp_path):
    # given stage changes imported once
    source = _files(
        tmp_path,
        leads=LEADS + "L1,甲有限公司,department,contacted,,2024-01-01\n",
        stage_changes=STAGES + "L1,2024-01-02 09:30:00,new,contacted,首次联系,\n",
    )
    district_import(source=source)

    # when the same files are imported again
    report = district_import(source=source)

    # then the change is matched on its key and left as it is
    counts = report.counts["stage_changes.csv"]
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, 1)
    assert StageChange.objects.count() == 1


def test_a_wrong_stage_change_is_a_row_error_and_nothing_is_written(tmp_path):
    # given a move the product never makes (new → signed), an unknown lead, an unknown user and a
    # repeated key
    source = _files(
        tmp_path,
        leads=LEADS + "L1,甲有限公司,department,contacted,,2024-01-01\n",
        stage_changes=STAGES
        + "L1,2024-01-02 09:30:00,new,signed,,\n"
        + "L9,2024-01-02 09:30:00,new,contacted,,\n"
        + "L1,2024-01-03 09:30:00,new,contacted,,nobody\n"
        + "L1,2024-01-03 09:30:00,new,contacted,,\n",
    )

    # when
    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    # then each wrong row names its cell, and neither the lead nor a change is written
    errors = [(e.file, e.line, e.column) for e in raised.value.row_errors]
    assert errors == [
        ("stage_changes.csv", 2, "to_stage"),
        ("stage_changes.csv", 3, "lead"),
        ("stage_changes.csv", 4, "changed_by"),
        ("stage_changes.csv", 5, "lead"),
    ]
    assert "cannot move from new to signed" in raised.value.row_errors[0].message
    assert not Lead.objects.exists()
    assert not StageChange.objects.exists()


HOLDS = "building,unit,created_at,lead,promoter,expires_on,released_at\n"


@pytest.fixture
def units():
    """Building H1 with units 101 and 102, both marked reserved, and lead L1 of promoter zhangsan."""
    building = BuildingFactory(code="H1")
    UnitFactory(building=building, number="101", status=UnitStatus.RESERVED)
    UnitFactory(building=building, number="102", status=UnitStatus.RESERVED)
    LeadFactory(ref="L1", owner=PromoterFactory(user__username="zhangsan"))
    return building


def test_holds_import_and_export_back_and_a_reserved_unit_without_one_is_made_vacant(tmp_path, units):
    # given a live hold on 101 and a hold on 102 released on 10 March
    source = _files(
        tmp_path,
        holds=HOLDS
        + "H1,101,2024-03-01 09:00:00,L1,zhangsan,2024-03-31,\n"
        + "H1,102,2024-03-01 09:00:00,L1,,2024-03-31,2024-03-10 18:00:00\n",
    )

    # when
    report = district_import(source=source)
    district_export(directory=tmp_path / "out")

    # then 101 stays reserved behind its hold; 102, reserved with nothing to release it, is vacant
    statuses = dict(Unit.objects.values_list("number", "status"))
    assert statuses == {"101": UnitStatus.RESERVED, "102": UnitStatus.VACANT}
    assert report.alongside["无预留的预留房源改为空置 / reserved units without a hold made vacant"] == 1
    live = Reservation.objects.get(released_at__isnull=True)
    assert (live.unit.number, live.lead.ref, live.promoter.user.username, live.expires_on) == (
        "101",
        "L1",
        "zhangsan",
        dt.date(2024, 3, 31),
    )
    assert (tmp_path / "out" / "holds.csv").read_text(encoding="utf-8").splitlines() == [
        "building,unit,created_at,lead,promoter,expires_on,released_at",
        "H1,101,2024-03-01 09:00:00,L1,zhangsan,2024-03-31,",
        "H1,102,2024-03-01 09:00:00,L1,,2024-03-31,2024-03-10 18:00:00",
    ]


def test_a_second_live_hold_on_a_unit_and_other_wrong_holds_are_row_errors(tmp_path, units):
    # given a live hold on 101 in the database, another in the file, one expiring before it was
    # taken, one released before it was taken, and an unknown unit
    Reservation.objects.create(
        unit=Unit.objects.get(number="101"),
        lead=Lead.objects.get(ref="L1"),
        created_at=timezone.make_aware(dt.datetime(2024, 2, 1, 9)),
        expires_on=dt.date(2024, 4, 30),
    )
    source = _files(
        tmp_path,
        holds=HOLDS
        + "H1,101,2024-03-01 09:00:00,L1,,2024-03-31,\n"
        + "H1,102,2024-03-01 09:00:00,L1,,2024-02-28,2024-03-02 09:00:00\n"
        + "H1,102,2024-03-05 09:00:00,L1,,2024-03-31,2024-03-04 09:00:00\n"
        + "H1,999,2024-03-01 09:00:00,L1,,2024-03-31,\n",
    )

    # when
    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    # then each names its cell, and only the database's hold is left
    errors = [(e.line, e.column) for e in raised.value.row_errors]
    assert errors == [(2, "released_at"), (3, "expires_on"), (4, "released_at"), (5, "unit")]
    assert "already has a live hold in the database" in raised.value.row_errors[0].message
    assert Reservation.objects.count() == 1


ACTIVITIES = "lead,kind,occurred_at,building,unit,promoter,notes,next_follow_up_at\n"


def test_a_site_tour_keeps_the_unit_it_showed_and_exports_it_back(tmp_path, units):
    # given a site tour of unit 101 in building H1
    source = _files(
        tmp_path, activities=ACTIVITIES + "L1,site_tour,2024-03-02 10:00:00,H1,101,zhangsan,看房,\n"
    )

    # when
    district_import(source=source)
    district_export(directory=tmp_path / "out")

    # then the activity names the unit, and activities.csv writes its number back
    assert Activity.objects.get().unit == Unit.objects.get(number="101")
    row = _rows(tmp_path / "out" / "activities.csv")[0]
    assert (row["building"], row["unit"]) == ("H1", "101")


def test_a_unit_without_its_building_or_not_in_it_is_a_row_error(tmp_path, units):
    # given a call naming a unit but no building, and a tour of a unit H1 does not have
    source = _files(
        tmp_path,
        activities=ACTIVITIES
        + "L1,call,2024-03-01 10:00:00,,101,,,\n"
        + "L1,site_tour,2024-03-02 10:00:00,H1,999,,,\n",
    )

    # when
    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    # then both rows are wrong in their unit cell, and no activity is written
    assert [(e.line, e.column) for e in raised.value.row_errors] == [(2, "unit"), (3, "unit")]
    assert "a unit needs its building" in raised.value.row_errors[0].message
    assert not Activity.objects.exists()


def test_targets_and_team_leads_import_and_export_back(tmp_path):
    # given a team lead, a quarter's targets for them, and a street's occupancy target for 2026
    source = _files(
        tmp_path,
        streets="name,kind\n府山街道,subdistrict\n",
        promoters="username,name,team,is_team_lead,street\nzhangsan,张三,招商一组,true,府山街道\n",
        promoter_targets="promoter,period_kind,period_start,signings,activities,site_tours,conversion_rate\n"
        "zhangsan,quarter,2026-04-01,3,40,12,25.5\n",
        street_targets="street,year,key,value\n府山街道,2026,occupancy_rate,88.50\n",
    )

    # when
    district_import(source=source)
    district_export(directory=tmp_path / "out")

    # then each is stored as given, the metrics left out of the file blank, and written back
    assert PromoterTarget.objects.get().promoter.is_team_lead is True
    target = PromoterTarget.objects.get()
    assert (
        target.signings,
        target.activities,
        target.site_tours,
        target.conversion_rate,
        target.leads_logged,
    ) == (
        Decimal("3"),
        Decimal("40"),
        Decimal("12"),
        Decimal("25.5"),
        None,
    )
    assert _rows(tmp_path / "out" / "promoters.csv")[0]["is_team_lead"] == "true"
    row = _rows(tmp_path / "out" / "promoter_targets.csv")[0]
    assert (row["period_start"], row["signings"], row["conversion_rate"], row["leads_logged"]) == (
        "2026-04-01",
        "3.00",
        "25.50",
        "",
    )
    assert (tmp_path / "out" / "street_targets.csv").read_text(encoding="utf-8").splitlines() == [
        "street,year,key,value",
        "府山街道,2026,occupancy_rate,88.50",
    ]


def test_wrong_targets_are_row_errors_by_the_models_own_rules(tmp_path):
    # given a quarter starting in May, more site tours than activities, a rate over 100 %, an unknown
    # promoter, and a street target of an unknown street
    PromoterFactory(user__username="zhangsan")
    source = _files(
        tmp_path,
        promoter_targets="promoter,period_kind,period_start,activities,site_tours,conversion_rate\n"
        "zhangsan,quarter,2026-05-01,,,\n"
        "zhangsan,month,2026-05-01,10,12,\n"
        "zhangsan,year,2026-01-01,,,101\n"
        "lisi,month,2026-05-01,,,\n",
        street_targets="street,year,key,value\n无名街道,2026,occupancy_rate,88\n",
    )

    # when
    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    # then each wrong cell is named, and no target is written
    assert [(e.file, e.line, e.column) for e in raised.value.row_errors] == [
        ("promoter_targets.csv", 2, "period_start"),
        ("promoter_targets.csv", 3, "site_tours"),
        ("promoter_targets.csv", 4, "conversion_rate"),
        ("promoter_targets.csv", 5, "promoter"),
        ("street_targets.csv", 2, "street"),
    ]
    assert "a quarter starts in Jan, Apr, Jul or Oct" in raised.value.row_errors[0].message
    assert not PromoterTarget.objects.exists()
