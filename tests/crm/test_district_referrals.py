"""以商招商 in the district format: leads.csv's referred_by names the referring tenant by credit code,
checked as the pages and the API check it, and written back by the export."""

import csv
from pathlib import Path

import pytest
from django.utils import timezone

from crm.district_io import DistrictImportError, district_export, district_import
from crm.models import Lead
from tests.factories import EnterpriseFactory, TenancyFactory, make_credit_code

pytestmark = pytest.mark.django_db

HEADER = "ref,company_name,credit_code,channel,referred_by,created_at"


def _leads(tmp_path: Path, *rows: str) -> Path:
    directory = tmp_path / "leads"
    directory.mkdir()
    (directory / "leads.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return directory


def test_a_referral_lead_names_its_referrer_and_the_export_writes_it_back(tmp_path):
    # given a tenant of the district's buildings
    referrer = TenancyFactory().enterprise
    source = _leads(
        tmp_path,
        f"L1,乙贸易有限公司,{make_credit_code(9101)},tenant_referral,{referrer.credit_code},2024-01-01",
    )

    # when the lead is imported and the district exported
    district_import(source=source)
    district_export(directory=tmp_path / "out")

    # then the lead names the tenant, and leads.csv carries its credit code
    assert Lead.objects.get(ref="L1").referred_by == referrer
    with open(tmp_path / "out" / "leads.csv", encoding="utf-8") as file:
        row = next(csv.DictReader(file))
    assert (row["ref"], row["referred_by"]) == ("L1", referrer.credit_code)


def test_a_referrer_in_the_same_import_is_known(tmp_path):
    # given an enterprise and its tenancy in the same import as the lead it referred (tenancies.csv
    # without its optional end column: an open tenancy)
    code = make_credit_code(9102)
    source = _leads(tmp_path, f"L1,丙有限公司,,tenant_referral,{code},2024-01-01")
    (source / "streets.csv").write_text("name,kind\n城南街道,subdistrict\n", encoding="utf-8")
    (source / "buildings.csv").write_text(
        "code,name,street,gross_area_m2,leasable_area_m2\nB1,一号楼,城南街道,1000,800\n", encoding="utf-8"
    )
    (source / "enterprises.csv").write_text(f"credit_code,name\n{code},推荐企业有限公司\n", encoding="utf-8")
    (source / "tenancies.csv").write_text(
        f"credit_code,building,area_m2,start\n{code},B1,100,2023-01-01\n", encoding="utf-8"
    )

    district_import(source=source)

    assert Lead.objects.get(ref="L1").referred_by.credit_code == code


def test_a_wrong_referrer_is_a_row_error_and_nothing_is_written(tmp_path):
    # given an unknown code, a referrer on a lead of another channel, a company referring itself,
    # and an enterprise that rents nothing in the district
    tenant = TenancyFactory().enterprise
    idle = EnterpriseFactory()
    source = _leads(
        tmp_path,
        f"L1,甲有限公司,,tenant_referral,{make_credit_code(9199)},2024-01-01",
        f"L2,乙有限公司,,department,{tenant.credit_code},2024-01-01",
        f"L3,{tenant.name},{tenant.credit_code},tenant_referral,{tenant.credit_code},2024-01-01",
        f"L4,丁有限公司,,tenant_referral,{idle.credit_code},2024-01-01",
    )

    # when
    with pytest.raises(DistrictImportError) as raised:
        district_import(source=source)

    # then each row is an error of its referred_by cell, and no lead is written
    errors = [(e.line, e.column, e.message) for e in raised.value.row_errors]
    assert [(line, column) for line, column, _ in errors] == [(n, "referred_by") for n in (2, 3, 4, 5)]
    assert "unknown referring enterprise" in errors[0][2]
    assert "only a tenant-referral lead" in errors[1][2]
    assert "cannot refer itself" in errors[2][2]
    assert "is no tenant" in errors[3][2]
    assert not Lead.objects.exists()


def test_the_lawful_basis_and_case_by_case_flag_round_trip_and_a_basis_without_time_is_stamped(tmp_path):
    # given a case-by-case lead whose contact is held on consent since 1 March 2024 10:00, and a
    # lead with a basis but no time
    header = (
        "ref,company_name,channel,contact_name,lawful_basis,lawful_basis_recorded_at,case_by_case,created_at"
    )
    source = tmp_path / "in"
    source.mkdir()
    (source / "leads.csv").write_text(
        f"{header}\nL1,甲有限公司,department,王先生,consent,2024-03-01 10:00:00,true,2024-01-01\n"
        "L2,乙有限公司,department,李女士,consent,,false,2024-01-01\n",
        encoding="utf-8",
    )

    # when it is imported and the district exported
    before = timezone.now()
    district_import(source=source)
    district_export(directory=tmp_path / "out")

    # then the first keeps basis, time and flag, and writes them back; the second's basis is
    # recorded at the import
    lead = Lead.objects.get(ref="L1")
    assert (lead.lawful_basis, lead.case_by_case) == ("consent", True)
    with open(tmp_path / "out" / "leads.csv", encoding="utf-8") as file:
        row = next(csv.DictReader(file))
    assert (row["lawful_basis"], row["lawful_basis_recorded_at"], row["case_by_case"]) == (
        "consent",
        "2024-03-01 10:00:00",
        "true",
    )
    assert Lead.objects.get(ref="L2").lawful_basis_recorded_at >= before
