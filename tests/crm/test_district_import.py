"""Importing a district's files: every row lands, twice changes nothing, a wrong row writes nothing."""

import csv
import datetime as dt
import io
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.constants import LeadStage, Role, UnitStatus
from crm.district_io import DistrictImportError, district_import
from crm.models import (
    Activity,
    Building,
    BusinessCircle,
    Enterprise,
    Lead,
    Promoter,
    Signing,
    Street,
    TaxRecord,
    Tenancy,
    TenancyUnit,
    Unit,
)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "district"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TABLES = [
    Street,
    BusinessCircle,
    Building,
    Unit,
    Enterprise,
    Tenancy,
    TenancyUnit,
    TaxRecord,
    Promoter,
    Lead,
    Activity,
    Signing,
]
HISTORIED = [Building, Unit, Enterprise, Tenancy, Lead, Signing]


def table_counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in TABLES}
    counts["User"] = get_user_model().objects.count()
    return counts


def history_counts() -> dict[str, int]:
    return {model.__name__: model.history.count() for model in HISTORIED}


def nothing_written() -> bool:
    return set(table_counts().values()) == {0}


def sample_copy(tmp_path: Path) -> Path:
    """The sample district in a directory the test may change."""
    return Path(shutil.copytree(SAMPLE, tmp_path / "district"))


def replace_line(directory: Path, name: str, line: int, text: str) -> None:
    lines = (directory / name).read_text(encoding="utf-8").splitlines()
    lines[line - 1] = text
    (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def append_line(directory: Path, name: str, text: str) -> None:
    with open(directory / name, "a", encoding="utf-8") as file:
        file.write(text + "\n")


def only(tmp_path: Path, **files: str) -> Path:
    """A directory holding just these files (name without .csv → content)."""
    directory = tmp_path / "only"
    directory.mkdir(exist_ok=True)
    for stem, text in files.items():
        (directory / f"{stem}.csv").write_text(text, encoding="utf-8")
    return directory


def import_errors(source) -> list[str]:
    with pytest.raises(DistrictImportError) as caught:
        district_import(source=source)
    return [str(error) for error in caught.value.row_errors]


def typed(text: str):
    """A cell as Excel would type it: dates, whole numbers without a leading zero, decimals."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text):
        return dt.datetime.fromisoformat(text)
    if re.fullmatch(r"-?(0|[1-9]\d*)", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def sample_workbook(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for csv_path in sorted(SAMPLE.glob("*.csv")):
        sheet = workbook.create_sheet(csv_path.stem)
        with open(csv_path, encoding="utf-8", newline="") as file:
            for number, row in enumerate(csv.reader(file)):
                sheet.append(row if number == 0 else [typed(cell) if cell else None for cell in row])
    workbook.save(path)
    return path


# ---------------------------------------------------------------- the sample district


@pytest.mark.django_db
def test_sample_district_creates_every_row():
    # when
    report = district_import(source=SAMPLE)

    # then every data row of the ten files is a row, plus what the files imply:
    # one business circle (城南商圈, named twice), the signed lead's enterprise and tenancy
    # (3 + 1 each), tenancy links for units 1001, 0801 and the signed 0802, a login per promoter
    assert table_counts() == {
        "Street": 2,
        "BusinessCircle": 1,
        "Building": 3,
        "Unit": 6,
        "Enterprise": 4,
        "Tenancy": 4,
        "TenancyUnit": 3,
        "TaxRecord": 4,
        "Promoter": 2,
        "Lead": 4,
        "Activity": 4,
        "Signing": 1,
        "User": 2,
    }
    assert {name: c.created for name, c in report.counts.items()} == {
        "streets.csv": 2,
        "buildings.csv": 3,
        "units.csv": 6,
        "enterprises.csv": 3,
        "tenancies.csv": 3,
        "tax.csv": 4,
        "promoters.csv": 2,
        "leads.csv": 4,
        "activities.csv": 4,
        "signings.csv": 1,
    }


@pytest.mark.django_db
def test_sample_district_building_fields():
    # when
    district_import(source=SAMPLE)

    # then B001 carries buildings.csv line 2 exactly; blank since-dates are "does not hold"
    b001 = Building.objects.get(code="B001")
    assert (b001.name, b001.street.name, b001.business_circle.name) == (
        "越城金融中心",
        "城南街道",
        "城南商圈",
    )
    assert (b001.gross_area_m2, b001.leasable_area_m2, b001.floors) == (
        Decimal("50000"),
        Decimal("40000"),
        30,
    )
    assert (b001.star_rating, b001.featured_type, b001.main_industry_id) == (5, "finance", "J")
    assert (b001.party_org_since, b001.intermediary_since) == (dt.date(2018, 7, 1), None)
    assert (b001.rent_min, b001.rent_max, b001.lat) == (Decimal("3.50"), Decimal("5.00"), Decimal("29.99"))
    b003 = Building.objects.get(code="B003")
    assert (b003.business_circle, b003.street.kind, b003.main_industry) == (None, "town", None)


@pytest.mark.django_db
def test_sample_district_reads_every_spelling_of_a_boolean():
    # when
    district_import(source=SAMPLE)

    # then true/是/yes, 1/0/no and 否/false/0 (enterprises.csv lines 2–4)
    flags = {
        e.credit_code: (e.registered_in_district, e.settles_in_district, e.is_headquarters)
        for e in Enterprise.objects.all()
    }
    assert flags["91330602MA2BXK001Q"] == (True, True, True)
    assert flags["91330602MA2BXK002U"] == (True, False, False)
    assert flags["91330602MA2BXK003Y"] == (False, False, False)


@pytest.mark.django_db
def test_sample_district_tax_tenancies_and_units():
    # when
    district_import(source=SAMPLE)

    # then a blank month is a whole-year total, and decimals keep their cents
    yearly = TaxRecord.objects.get(enterprise__credit_code="91330602MA2BXK001Q")
    assert (yearly.year, yearly.month, yearly.amount_yuan) == (2021, None, Decimal("12000000"))
    february = TaxRecord.objects.get(enterprise__credit_code="91330602MA2BXK002U", month=2)
    assert february.amount_yuan == Decimal("60000.50")
    # the links of a tenancy carry its period; a tenancy without units has no link
    link = TenancyUnit.objects.get(unit__number="0801")
    assert (link.tenancy.enterprise.name, link.start, link.end) == (
        "绍兴镜湖软件有限公司",
        dt.date(2021, 3, 1),
        dt.date(2030, 12, 31),
    )
    assert not Tenancy.objects.get(enterprise__credit_code="91330602MA2BXK003Y").units.exists()
    # column order is free: units.csv starts with `number`
    assert Unit.objects.get(building__code="B002", number="0801").floor == 8


@pytest.mark.django_db
def test_sample_district_leads_and_their_last_activity():
    # when
    district_import(source=SAMPLE)

    # then
    leads = {lead.ref: lead for lead in Lead.objects.all()}
    assert leads["L001"].normalised_name == "杭州云帆科技有限公司"
    assert leads["L001"].owner.user.username == "zhangsan"
    assert set(leads["L002"].preferred_streets.values_list("name", flat=True)) == {"城南街道", "东湖镇"}
    assert leads["L004"].owner is None
    # a lost lead comes with its reason as the file gives it
    assert (leads["L003"].stage, leads["L003"].lost_reason) == (LeadStage.LOST, "客户选择外区园区")
    # intentions left out of the file are the plan's threshold, all three
    assert leads["L004"].meets_entry_threshold
    # L001's latest activity is the meeting of 2024-04-20 15:00 (Shanghai time);
    # L004 has none, so its last activity is its creation, 2024-04-01 08:00
    assert leads["L001"].last_activity_at == dt.datetime(2024, 4, 20, 15, 0, tzinfo=SHANGHAI)
    assert leads["L004"].last_activity_at == dt.datetime(2024, 4, 1, 8, 0, tzinfo=SHANGHAI)
    tour = Activity.objects.get(kind="site_tour")
    assert (tour.lead.ref, tour.building.code, tour.promoter.name) == ("L001", "B002", "张三")


@pytest.mark.django_db
def test_sample_district_signing_makes_the_enterprise_and_tenancy_and_leases_its_unit():
    # when
    district_import(source=SAMPLE)

    # then L001's company is not in enterprises.csv: it is made from the lead
    signing = Signing.objects.get()
    enterprise = signing.enterprise
    assert (enterprise.credit_code, enterprise.name, enterprise.industry_id) == (
        "91330100MA27Y5K04F",
        "杭州云帆科技有限公司",
        "65",
    )
    # and tenancies.csv has no tenancy for it, so one starts on signed_on with the signing's units
    tenancy = signing.tenancy
    assert (tenancy.building.code, tenancy.start, tenancy.end, tenancy.area_m2) == (
        "B002",
        dt.date(2024, 5, 1),
        None,
        Decimal("150"),
    )
    assert list(tenancy.units.values_list("number", flat=True)) == ["0802"]
    assert list(signing.units.values_list("number", flat=True)) == ["0802"]
    assert signing.signed_by.name == "张三"  # the lead's owner, as signing_complete does
    # units.csv says 0802 is reserved; the signing leases it
    assert Unit.objects.get(number="0802").status == UnitStatus.LEASED


@pytest.mark.django_db
def test_sample_district_promoters_get_a_login_without_password_in_the_promoter_group():
    # when
    district_import(source=SAMPLE)

    # then
    promoter = Promoter.objects.get(user__username="zhangsan")
    assert (promoter.name, promoter.team, promoter.street.name) == ("张三", "一组", "城南街道")
    assert not promoter.user.has_usable_password()
    assert list(promoter.user.groups.values_list("name", flat=True)) == [Role.PROMOTER]
    assert Promoter.objects.get(user__username="lisi").street is None


@pytest.mark.django_db
def test_second_import_of_the_same_files_changes_nothing():
    # given
    district_import(source=SAMPLE)
    tables, history = table_counts(), history_counts()
    lead = Lead.objects.get(ref="L001")

    # when
    report = district_import(source=SAMPLE)

    # then no row is created or updated, and the audit history has no new row
    assert {(c.created, c.updated) for c in report.counts.values()} == {(0, 0)}
    assert table_counts() == tables
    assert history_counts() == history
    assert Lead.objects.get(ref="L001").updated_at == lead.updated_at


@pytest.mark.django_db
def test_a_changed_value_updates_that_row_only(tmp_path):
    # given
    district = sample_copy(tmp_path)
    district_import(source=district)
    history = history_counts()
    replace_line(district, "units.csv", 3, "1002,B001,10,300,vacant,3.80,2024-01-01")

    # when
    report = district_import(source=district)

    # then one unit's asking rent moved from 4.20 to 3.80, with one history row
    assert (report.counts["units.csv"].updated, report.counts["units.csv"].unchanged) == (1, 5)
    assert Unit.objects.get(number="1002").asking_rent == Decimal("3.80")
    assert history_counts() == {**history, "Unit": history["Unit"] + 1}


@pytest.mark.django_db
def test_a_file_without_a_column_leaves_that_field_alone(tmp_path):
    # given the sample district, then a units.csv without asking_rent
    district_import(source=SAMPLE)
    directory = only(tmp_path, units="building,number,floor,area_m2\nB001,1002,11,300\n")

    # when
    district_import(source=directory)

    # then the floor changed and the asking rent kept its 4.20
    unit = Unit.objects.get(number="1002")
    assert (unit.floor, unit.asking_rent) == (11, Decimal("4.20"))


@pytest.mark.django_db
def test_xlsx_workbook_gives_the_same_result_as_the_csv_files(tmp_path):
    # given the sample district as a workbook with typed cells (numbers, dates)
    workbook = sample_workbook(tmp_path / "district.xlsx")

    # when
    call_command("import_district", str(workbook), stdout=io.StringIO())
    report = district_import(source=SAMPLE)

    # then the CSV files find every row already as they say
    assert {(c.created, c.updated) for c in report.counts.values()} == {(0, 0)}
    assert sum(c.unchanged for c in report.counts.values()) == 2 + 3 + 6 + 3 + 3 + 4 + 2 + 4 + 4 + 1


@pytest.mark.django_db
def test_an_uploaded_workbook_imports_like_a_path(tmp_path):
    # given the workbook as the web page receives it: a file object with a name
    upload = SimpleUploadedFile("越城区.xlsx", sample_workbook(tmp_path / "district.xlsx").read_bytes())

    # when
    report = district_import(source=upload)

    # then
    assert report.counts["signings.csv"].created == 1
    assert Unit.objects.count() == 6


@pytest.mark.django_db
def test_errors_in_a_workbook_name_the_sheet_and_its_row(tmp_path):
    # given a workbook whose units sheet has a negative area on row 3
    workbook = openpyxl.Workbook()
    workbook.active.title = "streets"
    workbook.active.append(["name", "kind"])
    workbook.active.append(["城南街道", "subdistrict"])
    buildings = workbook.create_sheet("buildings")
    buildings.append(["code", "name", "street", "gross_area_m2", "leasable_area_m2"])
    buildings.append(["B001", "越城金融中心", "城南街道", 50000, 40000])
    units = workbook.create_sheet("units")
    units.append(["building", "floor", "number", "area_m2"])
    units.append(["B001", 10, 1001, 500])
    units.append(["B001", 10, 1002, -300])
    workbook.save(tmp_path / "district.xlsx")

    # when
    errors = import_errors(tmp_path / "district.xlsx")

    # then
    assert errors == ["units:3: area_m2: 必须大于0: -300 / must be greater than 0: -300"]
    assert nothing_written()


@pytest.mark.django_db
def test_a_byte_order_mark_is_accepted(tmp_path):
    # given
    directory = tmp_path / "bom"
    directory.mkdir()
    (directory / "streets.csv").write_bytes("name,kind\n城南街道,subdistrict\n".encode("utf-8-sig"))

    # when
    district_import(source=directory)

    # then the header's first column is `name`, not "\ufeffname"
    assert list(Street.objects.values_list("name", "kind")) == [("城南街道", "subdistrict")]


@pytest.mark.django_db
def test_command_imports_a_zip_and_prints_counts(tmp_path):
    # given the sample's CSVs zipped inside a folder, as a zipped directory is
    archive = tmp_path / "district.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in SAMPLE.glob("*.csv"):
            zipped.write(path, f"district/{path.name}")
    out = io.StringIO()

    # when
    call_command("import_district", str(archive), stdout=out)

    # then
    assert (
        "streets.csv: 新建 2,更新 0,未变 0 / created 2, updated 0, unchanged 0" in out.getvalue().splitlines()
    )
    assert Signing.objects.count() == 1


# ---------------------------------------------------------------- bad input


@pytest.mark.django_db
def test_unknown_column_is_an_error_and_nothing_is_written(tmp_path):
    # given
    district = sample_copy(tmp_path)
    replace_line(district, "streets.csv", 1, "name,kind,region")

    # when
    errors = import_errors(district)

    # then
    assert errors == ["streets.csv:1: region: 未知的列 / unknown column"]
    assert nothing_written()


@pytest.mark.django_db
def test_missing_required_column_is_an_error(tmp_path):
    # given
    directory = only(tmp_path, streets="name\n城南街道\n")

    # when
    errors = import_errors(directory)

    # then
    assert errors == ["streets.csv:1: kind: 缺少必需的列 / missing required column"]
    assert nothing_written()


@pytest.mark.django_db
def test_wrong_types_are_errors(tmp_path):
    # given a non-number area (units.csv line 3) and a slashed date (tenancies.csv line 2)
    district = sample_copy(tmp_path)
    replace_line(district, "units.csv", 3, "1002,B001,10,三百,vacant,4.20,2024-01-01")
    replace_line(district, "tenancies.csv", 2, "91330602MA2BXK001Q,B001,1001,500,2020/01/01,")

    # when
    errors = import_errors(district)

    # then
    assert errors == [
        "units.csv:3: area_m2: 不是数字: 三百 / not a number: 三百",
        "tenancies.csv:2: start: 日期应为 YYYY-MM-DD: 2020/01/01 / not an ISO date YYYY-MM-DD: 2020/01/01",
    ]
    assert nothing_written()


@pytest.mark.django_db
def test_unknown_building_in_units_is_an_error(tmp_path):
    # given
    district = sample_copy(tmp_path)
    replace_line(district, "units.csv", 3, "1002,B999,10,300,vacant,4.20,2024-01-01")

    # when
    errors = import_errors(district)

    # then
    assert errors == ["units.csv:3: building: 未知的楼宇 B999 / unknown building B999"]
    assert nothing_written()


@pytest.mark.django_db
def test_invalid_credit_code_is_an_error(tmp_path):
    # given 91330602MA2BXK001 followed by A. Its check character, by hand: the values
    # 9 1 3 3 0 6 0 2 M=21 A=10 2 B=11 X=29 K=19 0 0 1 times the weights 3^(i-1) mod 31
    # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28 sum to 9+3+27+81+0+156+0+34+420+290+50+143
    # +232+456+0+0+28 = 1929 = 62·31 + 7, so the check character is the (31 − 7) = 24th: Q
    district = sample_copy(tmp_path)
    replace_line(
        district, "enterprises.csv", 2, "91330602MA2BXK001A,浙江越城金融服务有限公司,66,true,是,yes,120,"
    )

    # when
    errors = import_errors(district)

    # then the enterprise's own row is wrong; the rows naming 91330602MA2BXK001Q no longer find it
    assert errors == [
        "enterprises.csv:2: credit_code: 校验位应为 Q 而不是 A / check character should be Q, not A",
        "tenancies.csv:2: credit_code: 未知的企业 91330602MA2BXK001Q / unknown enterprise 91330602MA2BXK001Q",
        "tax.csv:2: credit_code: 未知的企业 91330602MA2BXK001Q / unknown enterprise 91330602MA2BXK001Q",
    ]
    assert nothing_written()


@pytest.mark.django_db
def test_unknown_industry_code_is_an_error(tmp_path):
    # given division 99, which GB/T 4754-2017 does not have (its divisions end at 97)
    district = sample_copy(tmp_path)
    replace_line(
        district, "enterprises.csv", 4, "91330602MA2BXK003Y,绍兴东湖商务咨询有限公司,99,否,false,0,,"
    )

    # when
    errors = import_errors(district)

    # then
    assert errors == ["enterprises.csv:4: industry: 未知的行业代码 99 / unknown industry code 99"]
    assert nothing_written()


@pytest.mark.django_db
def test_a_section_is_not_an_enterprise_industry(tmp_path):
    # given
    directory = only(
        tmp_path, enterprises="credit_code,name,industry\n91330602MA2BXK001Q,浙江越城金融服务有限公司,J\n"
    )

    # when
    errors = import_errors(directory)

    # then
    assert errors == [
        "enterprises.csv:2: industry: 行业应为两位数的大类代码: J / industry must be a two-digit division: J"
    ]


@pytest.mark.django_db
def test_negative_and_inverted_areas_are_errors(tmp_path):
    # given a negative unit area, leasable 60000 > gross 50000, and a lead wanting 500 to 200 m²
    district = sample_copy(tmp_path)
    replace_line(district, "units.csv", 2, "1001,B001,10,-50,leased,,")
    lines = (district / "buildings.csv").read_text(encoding="utf-8").splitlines()
    replace_line(district, "buildings.csv", 2, lines[1].replace(",50000,40000,", ",50000,60000,"))
    lines = (district / "leads.csv").read_text(encoding="utf-8").splitlines()
    replace_line(district, "leads.csv", 2, lines[1].replace(",100,200,", ",500,200,"))

    # when
    errors = import_errors(district)

    # then
    assert errors == [
        "buildings.csv:2: leasable_area_m2: 可租售面积 60000 大于总建筑面积 50000 / "
        "leasable area 60000 exceeds gross area 50000",
        "units.csv:2: area_m2: 必须大于0: -50 / must be greater than 0: -50",
        "leads.csv:2: area_min_m2: 最小面积 500 大于最大面积 200 / "
        "area_min_m2 500 is greater than area_max_m2 200",
    ]
    assert nothing_written()


@pytest.mark.django_db
def test_overlapping_tenancies_in_the_file_are_an_error(tmp_path):
    # given a second tenancy on unit 1001 from 2021-06-01, while line 2's runs from 2020-01-01 open-ended
    district = sample_copy(tmp_path)
    append_line(district, "tenancies.csv", "91330602MA2BXK003Y,B001,1001,500,2021-06-01,2022-05-31")

    # when
    errors = import_errors(district)

    # then
    assert errors == [
        "tenancies.csv:5: units: 房源 1001 的租期与 tenancies.csv:2 重叠 / unit 1001 overlaps tenancies.csv:2"
    ]
    assert nothing_written()


@pytest.mark.django_db
def test_tenancy_overlapping_one_in_the_database_is_an_error(tmp_path):
    # given the sample district, whose 1001 of B001 is let from 2020-01-01 open-ended
    district_import(source=SAMPLE)
    tables = table_counts()
    directory = only(
        tmp_path,
        tenancies="credit_code,building,units,area_m2,start,end\n"
        "91330602MA2BXK002U,B001,1001;1002,800,2022-01-01,\n",
    )

    # when
    errors = import_errors(directory)

    # then
    assert errors == [
        "tenancies.csv:2: units: 房源 1001 的租期与已有租约(91330602MA2BXK001Q 自 2020-01-01 起)重叠 / "
        "unit 1001 overlaps the existing tenancy of 91330602MA2BXK001Q from 2020-01-01"
    ]
    assert table_counts() == tables


@pytest.mark.django_db
def test_a_tenancy_ending_the_day_before_the_next_starts_is_fine(tmp_path):
    # given 1001 let from 2020-01-01; end that tenancy on 2021-12-31 and let it again from 2022-01-01
    district_import(source=SAMPLE)
    directory = only(
        tmp_path,
        tenancies="credit_code,building,units,area_m2,start,end\n"
        "91330602MA2BXK001Q,B001,1001,500,2020-01-01,2021-12-31\n"
        "91330602MA2BXK002U,B001,1001,500,2022-01-01,\n",
    )

    # when
    report = district_import(source=directory)

    # then
    assert (report.counts["tenancies.csv"].created, report.counts["tenancies.csv"].updated) == (1, 1)
    assert sorted(TenancyUnit.objects.filter(unit__number="1001").values_list("start", "end")) == [
        (dt.date(2020, 1, 1), dt.date(2021, 12, 31)),
        (dt.date(2022, 1, 1), None),
    ]


@pytest.mark.django_db
def test_star_rating_month_and_choices_out_of_range_are_errors(tmp_path):
    # given
    directory = only(
        tmp_path,
        streets="name,kind\n城南街道,county\n",
        buildings="code,name,street,gross_area_m2,leasable_area_m2,star_rating\nB001,大厦,城南街道,100,80,6\n",
        enterprises="credit_code,name\n91330602MA2BXK001Q,企业\n",
        tax="credit_code,year,month,amount_yuan\n91330602MA2BXK001Q,2021,13,100\n",
    )

    # when
    errors = import_errors(directory)

    # then
    assert errors == [
        "streets.csv:2: kind: 未知的取值 county,应为 town / subdistrict / "
        "unknown value county, expected town / subdistrict",
        "buildings.csv:2: star_rating: 应在 0 到 5 之间: 6 / must be between 0 and 5: 6",
        "tax.csv:2: month: 应在 1 到 12 之间: 13 / must be between 1 and 12: 13",
    ]
    assert nothing_written()


@pytest.mark.django_db
def test_repeated_key_site_tour_without_building_and_unknown_promoter_are_errors(tmp_path):
    # given
    district = sample_copy(tmp_path)
    append_line(district, "streets.csv", "城南街道,town")
    append_line(district, "activities.csv", "L002,site_tour,2024-02-06 10:00:00,,wangwu,,")

    # when
    errors = import_errors(district)

    # then
    assert errors == [
        "streets.csv:4: name: 与第 2 行重复 / repeats line 2",
        "activities.csv:6: promoter: 未知的招商人员 wangwu / unknown promoter wangwu",
        "activities.csv:6: building: 实地看房须填写楼宇 / a site tour needs a building",
    ]
    assert nothing_written()


@pytest.mark.django_db
def test_signing_of_a_lead_still_negotiating_is_an_error(tmp_path):
    # given L001 (signed in signings.csv) set back to negotiating
    district = sample_copy(tmp_path)
    lines = (district / "leads.csv").read_text(encoding="utf-8").splitlines()
    replace_line(district, "leads.csv", 2, lines[1].replace(",signed,", ",negotiating,"))

    # when
    errors = import_errors(district)

    # then
    assert errors == [
        "signings.csv:2: lead: 线索 L001 处于 negotiating 阶段,已签约的线索应为 signed 或 settled / "
        "lead L001 is negotiating; a signed lead must be signed or settled"
    ]


@pytest.mark.django_db
def test_unknown_file_is_an_error(tmp_path):
    # given a misspelt file name that would otherwise be skipped silently
    directory = only(tmp_path, building="code\n")

    # when
    errors = import_errors(directory)

    # then
    assert len(errors) == 1
    assert errors[0].startswith("building.csv:1: -: 未知的文件,应为 streets.csv, buildings.csv")


@pytest.mark.django_db
def test_a_directory_without_any_of_the_files_is_an_error(tmp_path):
    # given an empty directory (the path of the wrong folder, say)
    (tmp_path / "empty").mkdir()

    # when
    errors = import_errors(tmp_path / "empty")

    # then
    assert len(errors) == 1
    assert errors[0].startswith("empty:1: -: 没有可导入的文件,应为 streets.csv, buildings.csv")


@pytest.mark.django_db
def test_several_errors_in_several_files_are_all_reported_in_one_run(tmp_path):
    # given five wrong rows in four files
    district = sample_copy(tmp_path)
    replace_line(district, "units.csv", 6, "101,B003,一楼,1000,self_used,,")
    replace_line(district, "tax.csv", 5, "91330602MA2BXK003Y,2019,,八十万")
    replace_line(district, "promoters.csv", 3, "lisi,李四,二组,西湖街道")
    append_line(district, "signings.csv", "L009,B002,0801,200,3.00,2024-05-01")
    append_line(district, "units.csv", "103,B003,1,-5,vacant,,")
    err = io.StringIO()

    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_district", str(district), stderr=err)

    # then every one is printed, in file order, and the command fails having written nothing
    assert err.getvalue().splitlines() == [
        "units.csv:6: floor: 不是整数: 一楼 / not a whole number: 一楼",
        "units.csv:8: area_m2: 必须大于0: -5 / must be greater than 0: -5",
        "tax.csv:5: amount_yuan: 不是数字: 八十万 / not a number: 八十万",
        "promoters.csv:3: street: 未知的镇街 西湖街道 / unknown street 西湖街道",
        "signings.csv:3: lead: 未知的线索 L009 / unknown lead L009",
    ]
    assert str(caught.value) == "5 处错误,未写入任何数据 / 5 errors, nothing was written"
    assert nothing_written()


LEADS_HEADER = (
    "ref,company_name,channel,stage,lost_reason,registers_in_district,settles_in_district,"
    "pays_tax_in_district,created_at"
)


def leads_only(tmp_path: Path, *rows: str) -> Path:
    directory = tmp_path / "leads"
    directory.mkdir()
    (directory / "leads.csv").write_text("\n".join([LEADS_HEADER, *rows]) + "\n", encoding="utf-8")
    return directory


@pytest.mark.django_db
def test_a_lost_lead_without_a_lost_reason_is_a_row_error(tmp_path):
    # given
    source = leads_only(tmp_path, "L1,甲公司,department,lost,,,,,2024-01-01")

    # when
    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    # then
    assert [(e.file, e.line, e.column) for e in raised.value.row_errors] == [("leads.csv", 2, "lost_reason")]
    assert nothing_written()


@pytest.mark.django_db
def test_a_lost_reason_on_an_open_lead_is_a_row_error(tmp_path):
    # given
    source = leads_only(tmp_path, "L1,甲公司,department,contacted,价格太高,,,,2024-01-01")

    # when
    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    # then
    assert [(e.line, e.column) for e in raised.value.row_errors] == [(2, "lost_reason")]


@pytest.mark.django_db
def test_leads_carry_their_entry_intentions_from_the_file(tmp_path):
    # given: L1 will pay its tax elsewhere; L2 says nothing, so it intends all three
    source = leads_only(
        tmp_path,
        "L1,甲公司,department,new,,yes,是,否,2024-01-01",
        "L2,乙公司,department,lost,客户迁往外省,,,,2024-01-02",
    )

    # when
    district_import(source=source)

    # then
    l1, l2 = Lead.objects.get(ref="L1"), Lead.objects.get(ref="L2")
    assert (l1.registers_in_district, l1.settles_in_district, l1.pays_tax_in_district) == (True, True, False)
    assert not l1.meets_entry_threshold
    assert (l2.registers_in_district, l2.settles_in_district, l2.pays_tax_in_district) == (True, True, True)
    assert l2.lost_reason == "客户迁往外省"


@pytest.mark.django_db
def test_imported_activities_keep_their_dates_as_given():
    # when
    district_import(source=SAMPLE)

    # then: the call of 2024-01-16 10:00 with its follow-up on 2024-01-20 10:00, Shanghai time
    call = Activity.objects.get(lead__ref="L001", kind="call")
    assert call.occurred_at == dt.datetime(2024, 1, 16, 10, 0, tzinfo=SHANGHAI)
    assert call.next_follow_up_at == dt.datetime(2024, 1, 20, 10, 0, tzinfo=SHANGHAI)
