"""Importing a district's files from the web page: a worker runs it; a bad row means a report and
nothing imported; a good file gives the counts; the whole district exports as one .zip."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import Building, Street
from crm.web import jobs
from workers.celery import app

pytestmark = pytest.mark.django_db

STREETS = "name,kind\n丙街道,subdistrict\n"
BUILDINGS_HEADER = (
    "code,name,street,business_circle,address,gross_area_m2,leasable_area_m2,floors,in_service_since,"
    "star_rating,star_since,featured_type,featured_since,main_industry,party_org_since,intermediary_since,"
    "smart_platform_since,rent_min,rent_max,lat,lng\n"
)
GOOD_BUILDING = "C001,丙大厦,丙街道,,,5000,4000,10,2019-01-01,0,,,,,,,,2.00,3.00,,\n"
# Line 3: a negative gross area.
BAD_BUILDING = "C002,丁大厦,丙街道,,,-10,4000,10,2019-01-01,0,,,,,,,,2.00,3.00,,\n"


def zipped(**files: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name.replace("_", "."), text.encode("utf-8"))
    return buffer.getvalue()


@pytest.fixture
def eager_worker():
    """Run the job in the request, whatever the broker: the test has no worker process."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def upload(client, content: bytes, name: str = "district.zip"):
    return client.post(reverse("web:import"), {"file": SimpleUploadedFile(name, content)}, follow=True)


def test_an_import_with_one_bad_row_reports_it_and_imports_nothing(district, eager_worker):
    # given
    content = zipped(streets_csv=STREETS, buildings_csv=BUILDINGS_HEADER + GOOD_BUILDING + BAD_BUILDING)

    # when
    response = upload(district.client("district_admin"), content)

    # then: buildings.csv line 3, and neither the street nor the good building was written
    job = response.context["job"]
    assert job["state"] == "rejected"
    assert [(e["file"], e["line"], e["column"]) for e in job["errors"]] == [
        ("buildings.csv", 3, "gross_area_m2")
    ]
    assert not Street.objects.filter(name="丙街道").exists()
    assert not Building.objects.filter(code="C001").exists()


def test_a_good_import_shows_the_counts(district, eager_worker):
    # given
    content = zipped(streets_csv=STREETS, buildings_csv=BUILDINGS_HEADER + GOOD_BUILDING)

    # when
    response = upload(district.client("district_admin"), content)

    # then
    job = response.context["job"]
    assert job["state"] == "done"
    counts = {c["file"]: (c["created"], c["updated"], c["unchanged"]) for c in job["counts"]}
    assert counts["streets.csv"] == (1, 0, 0)
    assert counts["buildings.csv"] == (1, 0, 0)
    assert Building.objects.get(code="C001").street.name == "丙街道"


def test_the_progress_fragment_polls_until_the_job_has_finished(district):
    # given: a job still waiting for a worker
    job_id = "f" * 32
    starter = district.users["district_admin"].pk
    jobs._save(
        job_id, {"state": jobs.QUEUED, "progress": 0, "step": "queued", "file": "x.zip", "user_id": starter}
    )

    # when
    response = district.client("district_admin").get(
        reverse("web:import_progress", args=[job_id]), HTTP_HX_REQUEST="true"
    )

    # then: it asks to be fetched again in a second
    body = response.content.decode()
    assert 'hx-trigger="every 1s"' in body
    assert 'aria-valuenow="0"' in body


def test_a_job_is_only_its_starters(district, eager_worker):
    # given
    other_admin = district.users["district_admin"].__class__.objects.create_user("office2", password="x")
    other_admin.groups.add(*district.users["district_admin"].groups.all())
    response = upload(district.client("district_admin"), zipped(streets_csv=STREETS))
    job_id = response.context["job"]["id"]

    # when
    client = district.client("district_admin")
    client.force_login(other_admin)
    other = client.get(reverse("web:import_job", args=[job_id]))

    # then
    assert other.status_code == 404


def test_a_file_that_is_neither_xlsx_nor_zip_is_refused(district):
    # when
    response = upload(district.client("district_admin"), b"name,kind\n", name="streets.csv")

    # then
    assert "请上传 .xlsx 或 .zip 文件" in response.content.decode()


def test_a_redelivered_job_runs_once(district, eager_worker):
    # given
    response = upload(district.client("district_admin"), zipped(streets_csv=STREETS))
    job_id = response.context["job"]["id"]

    # when: the same message arrives again
    outcome = jobs.import_job_run(job_id=job_id)

    # then: the job is already done and nothing runs twice
    assert outcome == "done"


def test_the_district_exports_as_a_zip_of_the_format_files(district):
    # when
    response = district.client("district_admin").get(reverse("web:export_district"))

    # then
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = (
        "streets buildings units enterprises tenancies tax promoters agencies leads stage_changes activities"
    )
    names += " holds signings promoter_targets street_targets users policies policy_benefits commitments"
    names += " commitment_lines commitment_payments"
    assert sorted(archive.namelist()) == sorted(f"{name}.csv" for name in names.split())
    buildings = archive.read("buildings.csv").decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in buildings[1:]] == ["A001", "B001"]


@pytest.mark.redis
def test_jobs_live_in_redis_where_the_worker_reaches_them(settings):
    # given
    store = jobs.job_store()

    # when
    store.set("crm:import:test:state", b"{}")

    # then
    assert isinstance(store, jobs._RedisStore)
    assert store.get("crm:import:test:state") == b"{}"
    store.delete("crm:import:test:state")
