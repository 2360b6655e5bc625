"""The district import refuses bombs, oversized uploads and cells no column can hold, writing nothing;
every export escapes cells a spreadsheet would run as formulas, and an exported file imports back."""

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.constants import LeadStage
from crm.district_io import DistrictImportError, district_export, district_import
from crm.district_io.cells import formula_escape, formula_unescape
from crm.models import Lead, Street
from tests.security.probe import attempt
from workers.celery import app

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

STREETS = "name,kind\n丙街道,subdistrict\n"
HOSTILE_NAMES = {
    "formula": '=HYPERLINK("http://evil.example","点我")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "full-width equals": "＝1+1",
    "apostrophe then formula": "'=1+1",
}


def zipped(files: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def eager_worker():
    """Run the import job in the request: the test has no worker process."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def upload(client, content: bytes, name: str):
    return client.post(reverse("web:import"), {"file": SimpleUploadedFile(name, content)})


def refused_on_the_file_field(result) -> bool:
    form = result.response.context["form"]
    return result.response.status_code == 200 and "file" in form.errors and result.changed == []


# ------------------------------------------------------------------ uploads


@pytest.mark.parametrize("name", ["district.zip", "district.xlsx"])
def test_a_zip_bomb_is_refused_on_the_form_before_it_is_unpacked(district, eager_worker, name):
    # given 8 MB of one byte repeated, which deflates about a thousand times (an .xlsx is a zip too)
    member = "streets.csv" if name.endswith(".zip") else "xl/sharedStrings.xml"
    bomb = zipped({member: b"a" * (8 * 1024 * 1024)})
    assert len(bomb) < 50_000

    # when
    client = district.client("district_admin")
    result = attempt(name, lambda: upload(client, bomb, name))

    # then
    assert refused_on_the_file_field(result), result.response.context["form"].errors
    assert "zip bomb" in str(result.response.context["form"].errors["file"])


def test_an_archive_of_too_many_files_is_refused(district, eager_worker):
    # given 201 tiny files, one over the limit
    archive = zipped({f"f{n}.csv": b"x" for n in range(201)}, method=zipfile.ZIP_STORED)

    # when
    client = district.client("district_admin")
    result = attempt("members", lambda: upload(client, archive, "district.zip"))

    # then
    assert refused_on_the_file_field(result)


def test_an_archive_that_unpacks_past_the_limit_is_refused(district, eager_worker, settings):
    # given a limit of 1 MB unpacked, and 1.5 MB of plain CSV (not a bomb: it compresses little)
    settings.IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    rows = "".join(f"街道{n:07d},subdistrict\n" for n in range(60_000))
    archive = zipped({"streets.csv": ("name,kind\n" + rows).encode()})

    # when
    client = district.client("district_admin")
    result = attempt("unpacked", lambda: upload(client, archive, "district.zip"))

    # then
    assert refused_on_the_file_field(result)


def test_an_upload_over_the_limit_is_refused_on_the_form(district, eager_worker, settings):
    # given a limit of 1,000 bytes
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    archive = zipped({"streets.csv": (STREETS * 200).encode()}, method=zipfile.ZIP_STORED)
    assert len(archive) > 1000

    # when
    client = district.client("district_admin")
    result = attempt("size", lambda: upload(client, archive, "district.zip"))

    # then
    assert refused_on_the_file_field(result)
    assert "0.000953674 MB" in str(result.response.context["form"].errors["file"])


def test_a_bomb_given_to_the_reader_directly_is_a_row_error(tmp_path):
    # given the command line's way in, which has no form
    path = tmp_path / "district.zip"
    path.write_bytes(zipped({"streets.csv": b"a" * (8 * 1024 * 1024)}))

    # when
    with pytest.raises(DistrictImportError) as refused:
        district_import(source=path)

    # then
    assert [(e.file, e.line, e.column) for e in refused.value.row_errors] == [("district.zip", 1, "-")]


# ------------------------------------------------------------------ cells


@pytest.mark.parametrize(
    ("label", "cell", "column"),
    [
        ("nul", "丙\x00街道", "name"),
        ("escape sequence", "\x1b[2J丙街道", "name"),
        ("right-to-left override", "丙\u202e街道", "name"),
        # past the csv module's field limit (128 kB): the row as a whole cannot be read
        ("one megabyte", "丙" * 1_048_576, "-"),
    ],
)
def test_a_cell_no_column_can_hold_is_a_row_error_and_nothing_is_written(tmp_path, label, cell, column):
    # given streets.csv whose second street's name is hostile (a NUL would fail PostgreSQL's insert)
    with open(tmp_path / "streets.csv", "w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([["name", "kind"], ["丁街道", "subdistrict"], [cell, "subdistrict"]])

    # when
    with pytest.raises(DistrictImportError) as refused:
        district_import(source=tmp_path)

    # then: line 3; and the good first street was not written either
    assert [(e.file, e.line, e.column) for e in refused.value.row_errors] == [("streets.csv", 3, column)]
    assert not Street.objects.filter(name="丁街道").exists()


def test_hostile_cells_in_a_workbook_are_row_errors(tmp_path):
    # given a workbook whose streets sheet holds a NUL, written as an inline string openpyxl allows
    path = tmp_path / "district.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "streets"
    sheet.append(["name", "kind"])
    sheet.append(["丙街道", "subdistrict"])
    sheet.append(["丁\u202e街道", "subdistrict"])
    book.save(path)

    # when
    with pytest.raises(DistrictImportError) as refused:
        district_import(source=path)

    # then
    assert [(e.line, e.column) for e in refused.value.row_errors] == [(3, "name")]
    assert not Street.objects.filter(name="丙街道").exists()


# ------------------------------------------------------------------ workbook XML

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)
    )
    + "]>"
)


def _workbook_with_sheet_xml(path: Path, rewrite) -> Path:
    """A streets workbook whose sheet XML is passed through `rewrite` (bytes to bytes)."""
    plain = path.with_suffix(".plain.xlsx")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "streets"
    sheet.append(["name", "kind"])
    sheet.append(["丙街道", "subdistrict"])
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, rewrite(data) if info.filename == "xl/worksheets/sheet1.xml" else data)
    return path


def _billion_laughs(xml: bytes) -> bytes:
    # A thousand million "lol"s in the street's name, if an XML parser expanded them.
    body = xml.split(b"?>", 1)[-1]
    return LAUGHS.encode() + body.replace("丙".encode(), b"&lol9;", 1)


def _malformed(xml: bytes) -> bytes:
    return xml.replace(b"</sheetData>", b"<row r=")


WORKBOOK_PROBLEMS = {"entity expansion": _billion_laughs, "malformed xml": _malformed}


@pytest.mark.parametrize("label", list(WORKBOOK_PROBLEMS))
def test_a_hostile_workbook_is_a_clear_error_on_the_command_line(tmp_path, label):
    # given
    path = _workbook_with_sheet_xml(tmp_path / "district.xlsx", WORKBOOK_PROBLEMS[label])
    # when
    with pytest.raises(CommandError) as refused:
        call_command("import_district", str(path), stderr=io.StringIO())
    # then a refusal that counts the errors, no traceback, nothing written
    assert "nothing was written" in str(refused.value)
    with pytest.raises(DistrictImportError) as errors:
        district_import(source=path)
    messages = " ".join(e.message for e in errors.value.row_errors)
    assert "cannot read" in messages, messages
    assert not Street.objects.filter(name="丙街道").exists()


@pytest.mark.parametrize("label", list(WORKBOOK_PROBLEMS))
def test_a_hostile_workbook_uploaded_is_rejected_with_its_errors(district, eager_worker, tmp_path, label):
    # given
    content = _workbook_with_sheet_xml(tmp_path / "district.xlsx", WORKBOOK_PROBLEMS[label]).read_bytes()
    client = district.client("district_admin")
    # when
    response = upload(client, content, "district.xlsx")
    # then the job is rejected with the reader's message, not reported as the job queue being down
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "cannot read" in page and "job queue" not in page
    assert not Street.objects.filter(name="丙街道").exists()


def test_a_sheets_declared_dimension_is_ignored(tmp_path):
    # given a sheet that declares 16,384 columns by 100,001 rows around its two rows
    def huge(xml: bytes) -> bytes:
        return xml.replace(b'<dimension ref="A1:B2" />', b'<dimension ref="A1:XFD100001" />')

    path = _workbook_with_sheet_xml(tmp_path / "district.xlsx", huge)
    assert b"XFD100001" in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    # when
    from crm.district_io.reading import read_source

    tables, errors = read_source(path, ["streets.csv"])
    rows = list(tables["streets.csv"].rows)
    # then the rows are the cells that are there, not padded out to the declared width
    assert errors == []
    assert rows == [(2, ["丙街道", "subdistrict"])]
    assert tables["streets.csv"].header == ["name", "kind"]


# ------------------------------------------------------------------ exports


def test_formula_escaping_round_trips_every_text():
    # given texts that start like formulas, a plain negative number, and texts that start with '
    texts = [*HOSTILE_NAMES.values(), "-5", "+86", "-0.5", "'a", "''=b", "普通名称", ""]

    # when
    escaped = {text: formula_escape(text) for text in texts}

    # then: formulas get an apostrophe; numbers and plain text do not; unescaping gives the text back
    assert escaped['=HYPERLINK("http://evil.example","点我")'] == '\'=HYPERLINK("http://evil.example","点我")'
    assert escaped["-2+3+cmd|' /C calc'!A0"] == "'-2+3+cmd|' /C calc'!A0"
    assert escaped["\t=1+1"] == "'\t=1+1"
    assert escaped["＝1+1"] == "'＝1+1"
    assert (escaped["-5"], escaped["+86"], escaped["'a"], escaped["普通名称"]) == (
        "-5",
        "+86",
        "'a",
        "普通名称",
    )
    assert escaped["'=1+1"] == "''=1+1"
    assert all(formula_unescape(escaped[text]) == text for text in texts)


def _leads_named_like_formulas(district, *, closed: bool = False) -> list[Lead]:
    leads = []
    for n, name in enumerate(HOSTILE_NAMES.values()):
        lead = Lead.objects.get(pk=district.lead.pk)
        lead.pk = None
        lead.ref, lead.company_name, lead.credit_code = f"LX-{n:04d}", name, ""
        lead.contact_name, lead.contact_phone = "@张三", "+86 138 0000 0000"
        if closed:  # two hostile names that normalise alike must not be one company open twice
            lead.stage, lead.lost_reason = LeadStage.LOST, "=不再考虑"
        lead.save()
        leads.append(lead)
    return leads


def test_the_district_export_escapes_formulas_and_imports_back_unchanged(district, tmp_path):
    # given leads whose names, contacts and phones start like formulas
    leads = _leads_named_like_formulas(district, closed=True)

    # when the district is exported, then imported back
    district_export(directory=tmp_path)
    report = district_import(source=tmp_path)

    # then: no cell of any file starts a formula, and the import found every lead unchanged
    for path in Path(tmp_path).glob("*.csv"):
        with open(path, encoding="utf-8", newline="") as file:
            for row in csv.reader(file):
                assert not [cell for cell in row if formula_escape(cell) != cell and cell[:1] != "'"], path
    with open(tmp_path / "leads.csv", encoding="utf-8", newline="") as file:
        names = {row["ref"]: row["company_name"] for row in csv.DictReader(file)}
    assert names["LX-0000"] == "'" + HOSTILE_NAMES["formula"]
    assert names["LX-0006"] == "''=1+1"
    assert report.counts["leads.csv"].unchanged == Lead.objects.count()
    assert report.counts["leads.csv"].updated == 0
    assert [Lead.objects.get(pk=lead.pk).company_name for lead in leads] == list(HOSTILE_NAMES.values())


def test_the_lead_list_exports_escape_formulas_in_csv_and_xlsx(district):
    # given
    _leads_named_like_formulas(district)
    client = district.client("district_admin")

    # when
    as_csv = b"".join(client.get(reverse("web:leads"), {"export": "csv"}).streaming_content).decode(
        "utf-8-sig"
    )
    as_xlsx = client.get(reverse("web:leads"), {"export": "xlsx"}).content

    # then: every hostile name is escaped in the CSV, and in the workbook no cell is a formula
    rows = list(csv.reader(io.StringIO(as_csv)))
    names = {row[1] for row in rows[1:]}
    assert {formula_escape(name) for name in HOSTILE_NAMES.values()} <= names
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    assert "'" + HOSTILE_NAMES["formula"] in {cell.value for cell in cells}
