"""Forms that say everything at once: every error in one answer, under its field with its label, in the
chosen language; the lawful basis asked for wherever a contact person is entered; a short quick add."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.constants import LeadChannel
from crm.district_io.errors import DistrictImportError
from crm.district_io.importing import district_import
from crm.models import Lead
from crm.services.leads import lead_create
from tests.factories import make_credit_code

pytestmark = pytest.mark.django_db

BAD_CODE = "91330100MA27Y5K04X"  # 18 characters, wrong check digit


def test_the_service_reports_the_area_range_and_the_credit_code_together(district):
    # when
    with pytest.raises(ValidationError) as exc:
        lead_create(
            company_name="双错有限公司",
            channel=LeadChannel.DEPARTMENT,
            owner=district.promoter,
            credit_code=BAD_CODE,
            area_min_m2=Decimal("500"),
            area_max_m2=Decimal("300"),
        )

    # then: both, each under its own field; the range names no column
    errors = exc.value.message_dict
    assert set(errors) == {"credit_code", "area_max_m2"}
    assert errors["area_max_m2"] == [
        "最大面积 300㎡ 小于最小面积 500㎡ / the largest area, 300 m², is below the smallest, 500 m²"
    ]
    assert not Lead.objects.filter(company_name="双错有限公司").exists()


def test_a_contact_without_its_lawful_basis_is_refused_by_the_service(district):
    # when: a promoter's lead this time (before, only agencies were asked)
    with pytest.raises(ValidationError) as exc:
        lead_create(
            company_name="无依据有限公司",
            channel=LeadChannel.DEPARTMENT,
            owner=district.promoter,
            contact_phone="13900000000",
        )

    # then
    assert list(exc.value.message_dict) == ["lawful_basis"]


def test_quick_add_answers_every_error_at_once_under_its_field_in_chinese(district):
    # when: a wrong credit code and a contact without its basis, in one submit
    response = district.client("promoter").post(
        reverse("web:lead_add"),
        {
            "company_name": "双错有限公司",
            "credit_code": BAD_CODE,
            "contact_name": "周七",
            "channel": "department",
        },
    )

    # then: both errors, each under its field's label, listed at the top too, Chinese only
    html = response.content.decode()
    form = response.context["form"]
    assert set(form.errors) == {"credit_code", "lawful_basis"}
    assert form.errors["lawful_basis"] == ["填写联系人信息须注明个人信息处理依据"]
    assert '<a href="#id_lawful_basis">个人信息处理依据</a>: 填写联系人信息须注明个人信息处理依据' in html
    assert '<a href="#id_credit_code">统一社会信用代码</a>' in html
    assert "lawful basis" not in html
    assert not Lead.objects.filter(company_name="双错有限公司").exists()


def test_quick_add_answers_in_english_when_english_is_chosen(district):
    # given
    client = district.client("promoter")
    client.cookies["django_language"] = "en"

    # when
    response = client.post(
        reverse("web:lead_add"),
        {"company_name": "英文有限公司", "contact_phone": "13900000000", "channel": "department"},
    )

    # then
    assert response.context["form"].errors["lawful_basis"] == [
        "a contact person's data needs its lawful basis"
    ]
    assert "须注明个人信息处理依据" not in response.content.decode()


def test_quick_add_asks_only_company_industry_contact_and_source(district):
    # when
    form = district.client("promoter").get(reverse("web:lead_add")).context["form"]

    # then
    assert list(form.fields) == [
        "company_name",
        "credit_code",
        "business_scope",
        "industry",
        "contact_name",
        "contact_phone",
        "lawful_basis",
        "channel",
        "referred_by",
    ]


def test_a_quick_added_lead_goes_to_its_page_with_the_entry_intentions_assumed(district):
    # when
    response = district.client("promoter").post(
        reverse("web:lead_add"),
        {
            "company_name": "快速登记有限公司",
            "credit_code": make_credit_code(800123),
            "contact_name": "周七",
            "lawful_basis": "consent",
            "channel": "department",
        },
    )

    # then
    lead = Lead.objects.get(company_name="快速登记有限公司")
    assert response["Location"] == reverse("web:lead", args=[lead.pk])
    assert (lead.registers_in_district, lead.settles_in_district, lead.pays_tax_in_district) == (True,) * 3
    assert lead.lawful_basis == "consent"


def test_the_api_refuses_a_contact_without_its_lawful_basis_beside_the_area_error(district):
    # when
    response = district.client("promoter").post(
        "/api/v1/leads/",
        {
            "company_name": "接口双错有限公司",
            "channel": "department",
            "contact_name": "周七",
            "area_min_m2": "500",
            "area_max_m2": "300",
        },
        content_type="application/json",
    )

    # then
    assert response.status_code == 400
    assert set(response.json()) == {"lawful_basis", "area_max_m2"}


LEADS_HEADER = "ref,company_name,contact_name,contact_phone,lawful_basis,channel,stage,created_at"


def import_leads(tmp_path: Path, *rows: str) -> list[str]:
    directory = tmp_path / "leads-only"
    directory.mkdir()
    (directory / "leads.csv").write_text("\n".join([LEADS_HEADER, *rows]) + "\n", encoding="utf-8")
    with pytest.raises(DistrictImportError) as caught:
        district_import(source=directory)
    return [str(error) for error in caught.value.row_errors]


def test_the_import_refuses_a_contact_without_its_lawful_basis(db, tmp_path):
    # when: line 2 has a contact and no basis, line 3 has its basis
    errors = import_leads(
        tmp_path,
        "I001,导入甲有限公司,王五,13800000009,,department,new,2024-04-01 08:00:00",
        "I002,导入乙有限公司,赵六,,consent,department,new,2024-04-01 08:00:00",
    )

    # then
    assert errors == [
        "leads.csv:2: lawful_basis: 填写联系人信息须注明个人信息处理依据 / "
        "a contact person's data needs its lawful basis"
    ]
    assert not Lead.objects.exists()
