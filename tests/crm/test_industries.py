"""The shipped GB/T 4754-2017 table, the import of its finer levels, and the code lookup."""

import csv
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from crm.industries import division_or_section
from crm.models import Industry

# The GB/T 4754-2017 reference, every level, kept in the repository (tests/data/README.md says where it
# comes from): the shipped sections and divisions are checked against it, and it is a real file to import.
REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "gbt4754-2017.csv"
HEADER = "code,level,parent,name_zh\n"


def write_csv(tmp_path: Path, body: str, name: str = "industries.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def import_errors(path: Path) -> list[str]:
    with pytest.raises(CommandError) as caught:
        call_command("import_industries", str(path))
    return str(caught.value).splitlines()


def finer_count() -> int:
    return Industry.objects.filter(level__in=["group", "class"]).count()


# --- the shipped sections and divisions -------------------------------------------------------------


@pytest.mark.django_db
def test_migrations_ship_twenty_sections():
    # A to T is 20 letters
    assert Industry.objects.filter(level="section").count() == 20


@pytest.mark.django_db
def test_migrations_ship_ninety_seven_divisions():
    # 01 to 97 without a gap
    assert sorted(Industry.objects.filter(level="division").values_list("code", flat=True)) == [
        f"{n:02d}" for n in range(1, 98)
    ]


@pytest.mark.django_db
def test_every_division_hangs_on_a_section_and_carries_its_letter():
    for division in Industry.objects.filter(level="division").select_related("parent"):
        assert division.parent.level == "section", division.code
        assert division.section == division.parent.code, division.code


@pytest.mark.django_db
def test_sections_are_their_own_section_and_have_no_parent():
    for section in Industry.objects.filter(level="section"):
        assert section.parent_id is None
        assert section.section == section.code


@pytest.mark.django_db
def test_every_shipped_row_has_chinese_and_english_names():
    assert not Industry.objects.filter(name_zh="").exists()
    assert not Industry.objects.filter(name_en="").exists()


@pytest.mark.django_db
def test_known_rows_by_hand():
    # from the printed standard: 65 软件和信息技术服务业 in section I; 72 商务服务业 in section L
    software = Industry.objects.get(code="65")
    business = Industry.objects.get(code="72")
    assert (software.section, software.name_zh) == ("I", "软件和信息技术服务业")
    assert (business.section, business.name_zh) == ("L", "商务服务业")


@pytest.mark.django_db
def test_shipped_table_matches_reference_file():
    # given the reference's sections and divisions
    with REFERENCE_CSV.open(encoding="utf-8-sig", newline="") as handle:
        reference = {
            (row["code"], row["level"], row["parent"], row["name_zh"])
            for row in csv.DictReader(handle)
            if row["level"] in ("section", "division")
        }
    # when the shipped table is read the same way
    shipped = {
        (code, level, parent or "", name_zh)
        for code, level, parent, name_zh in Industry.objects.filter(
            level__in=["section", "division"]
        ).values_list("code", "level", "parent", "name_zh")
    }
    # then codes, levels, parents and Chinese names are identical
    assert shipped == reference


# --- importing groups and classes --------------------------------------------------------------------


@pytest.mark.django_db
def test_import_of_reference_loads_473_groups_and_1381_classes():
    # when
    call_command("import_industries", str(REFERENCE_CSV), stdout=io.StringIO())
    # then the official counts (README of the reference)
    assert Industry.objects.filter(level="group").count() == 473
    assert Industry.objects.filter(level="class").count() == 1381


@pytest.mark.django_db
def test_second_import_of_reference_changes_nothing(capsys):
    # given
    call_command("import_industries", str(REFERENCE_CSV))
    before = list(Industry.objects.values_list("code", "level", "parent", "section", "name_zh", "name_en"))
    capsys.readouterr()
    # when
    call_command("import_industries", str(REFERENCE_CSV))
    # then
    out = capsys.readouterr().out
    assert "中类 group: 新增 / created 0, 更新 / updated 0, 未变 / unchanged 473" in out
    assert "小类 class: 新增 / created 0, 更新 / updated 0, 未变 / unchanged 1381" in out
    after = list(Industry.objects.values_list("code", "level", "parent", "section", "name_zh", "name_en"))
    assert after == before


@pytest.mark.django_db
def test_import_creates_group_and_classes_under_a_shipped_division(tmp_path, capsys):
    # given a group under division 65 (section I) and two of its classes
    path = write_csv(
        tmp_path, "651,group,65,软件开发\n6511,class,651,基础软件开发\n6512,class,651,支撑软件开发\n"
    )
    # when
    call_command("import_industries", str(path))
    # then
    out = capsys.readouterr().out
    assert "中类 group: 新增 / created 1, 更新 / updated 0, 未变 / unchanged 0" in out
    assert "小类 class: 新增 / created 2, 更新 / updated 0, 未变 / unchanged 0" in out
    basic = Industry.objects.get(code="6511")
    assert (basic.level, basic.parent_id, basic.section, basic.name_zh) == (
        "class",
        "651",
        "I",
        "基础软件开发",
    )


@pytest.mark.django_db
def test_reimport_updates_names_and_creates_nothing(tmp_path, capsys):
    # given an imported group
    call_command("import_industries", str(write_csv(tmp_path, "651,group,65,软件开发\n", "a.csv")))
    capsys.readouterr()
    # when the same code comes again with another name and an English name
    path = tmp_path / "b.csv"
    path.write_text(
        "code,level,parent,name_zh,name_en\n651,group,65,软件开发服务,Software development\n",
        encoding="utf-8",
    )
    call_command("import_industries", str(path))
    # then
    assert "中类 group: 新增 / created 0, 更新 / updated 1, 未变 / unchanged 0" in capsys.readouterr().out
    group = Industry.objects.get(code="651")
    assert (group.name_zh, group.name_en) == ("软件开发服务", "Software development")
    assert finer_count() == 1


@pytest.mark.django_db
def test_blank_english_name_keeps_the_one_already_there(tmp_path):
    # given a group with an English name
    path = tmp_path / "en.csv"
    path.write_text(
        "code,level,parent,name_zh,name_en\n651,group,65,软件开发,Software development\n", encoding="utf-8"
    )
    call_command("import_industries", str(path))
    # when a file without English names is imported
    call_command("import_industries", str(write_csv(tmp_path, "651,group,65,软件开发\n")))
    # then
    assert Industry.objects.get(code="651").name_en == "Software development"


@pytest.mark.django_db
def test_bom_and_repeated_shipped_rows_are_accepted(tmp_path):
    # given a UTF-8 file with a BOM that repeats section I and division 65 exactly as shipped
    path = tmp_path / "bom.csv"
    path.write_bytes(
        "\ufeffcode,level,parent,name_zh\nI,section,,信息传输、软件和信息技术服务业\n"
        "65,division,I,软件和信息技术服务业\n651,group,65,软件开发\n".encode()
    )
    # when
    call_command("import_industries", str(path))
    # then
    assert Industry.objects.get(code="651").section == "I"


@pytest.mark.django_db
def test_unknown_parent_is_reported_and_nothing_written(tmp_path):
    # given a good group on line 2 and a group under a division that does not exist on line 3
    path = write_csv(tmp_path, "651,group,65,软件开发\n991,group,99,不存在的中类\n")
    # when
    errors = import_errors(path)
    # then
    assert errors[0] == "industries.csv:3: parent: 未知上级代码 99 / unknown parent code 99"
    assert finer_count() == 0


@pytest.mark.django_db
def test_unknown_level_is_reported_and_nothing_written(tmp_path):
    # given
    path = write_csv(tmp_path, "651,group,65,软件开发\n6511,subclass,651,基础软件开发\n")
    # when
    errors = import_errors(path)
    # then
    assert errors[0].startswith("industries.csv:3: level: 未知层级 subclass")
    assert "unknown level subclass" in errors[0]
    assert finer_count() == 0


@pytest.mark.django_db
def test_level_that_does_not_fit_the_code_is_reported(tmp_path):
    # given a three-digit code declared as a class
    path = write_csv(tmp_path, "651,class,65,软件开发\n")
    # when
    errors = import_errors(path)
    # then
    assert errors[0].startswith("industries.csv:2: code: 小类代码应为4位数字,而不是 651")
    assert finer_count() == 0


@pytest.mark.django_db
def test_malformed_code_is_reported_and_nothing_written(tmp_path):
    # given
    path = write_csv(tmp_path, "651,group,65,软件开发\n65A,group,65,坏代码\n")
    # when
    errors = import_errors(path)
    # then
    assert errors[0] == (
        "industries.csv:3: code: 中类代码应为3位数字,而不是 65A / a group code is 3 digits, not 65A"
    )
    assert finer_count() == 0


@pytest.mark.django_db
def test_code_that_does_not_extend_its_parent_is_reported(tmp_path):
    # given class 6611 placed under group 651
    path = write_csv(tmp_path, "651,group,65,软件开发\n6611,class,651,错位的小类\n")
    # when
    errors = import_errors(path)
    # then
    assert errors[0] == (
        "industries.csv:3: code: 小类代码应为上级中类代码 651 加一位数字 / "
        "a class code is its parent group 651 plus one digit"
    )


@pytest.mark.django_db
def test_parent_of_the_wrong_level_is_reported(tmp_path):
    # given a class directly under division 65
    path = write_csv(tmp_path, "6511,class,65,基础软件开发\n")
    # when
    errors = import_errors(path)
    # then
    assert errors[0].startswith("industries.csv:2: parent: 小类的上级应为中类,65 是大类")


@pytest.mark.django_db
def test_every_wrong_row_is_reported(tmp_path):
    # given three wrong rows among good ones
    path = write_csv(
        tmp_path,
        "651,group,65,软件开发\n991,group,99,x\n6511,subclass,651,x\n65A,group,65,x\n6512,class,651,支撑软件开发\n",
    )
    # when
    errors = import_errors(path)
    # then lines 3, 4 and 5 are reported, then the count
    assert [error.split(": ")[0] for error in errors[:3]] == [
        "industries.csv:3",
        "industries.csv:4",
        "industries.csv:5",
    ]
    assert errors[3] == "3 处错误,未写入任何数据 / 3 errors, nothing written"
    assert finer_count() == 0


@pytest.mark.django_db
def test_division_renamed_from_the_standard_is_refused(tmp_path):
    # given division 01 under another name, as a file of another edition might carry it
    path = write_csv(tmp_path, "01,division,A,种植业\n")
    # when
    errors = import_errors(path)
    # then
    assert errors[0].startswith("industries.csv:2: name_zh: 与 GB/T 4754-2017 的名称“农业”不符")
    assert Industry.objects.get(code="01").name_zh == "农业"


@pytest.mark.django_db
def test_unknown_column_is_reported_on_the_header(tmp_path):
    # given
    path = tmp_path / "extra.csv"
    path.write_text("code,level,parent,name_zh,remark\n651,group,65,软件开发,x\n", encoding="utf-8")
    # when
    errors = import_errors(path)
    # then
    assert errors[0].startswith("extra.csv:1: remark: 未知列")
    assert finer_count() == 0


@pytest.mark.django_db
def test_missing_column_is_reported_on_the_header(tmp_path):
    # given
    path = tmp_path / "short.csv"
    path.write_text("code,level,name_zh\n651,group,软件开发\n", encoding="utf-8")
    # when
    errors = import_errors(path)
    # then
    assert errors[0] == "short.csv:1: parent: 缺少列 / missing column"


# --- looking a code up ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_division_or_section_finds_a_division():
    assert division_or_section("65").name_zh == "软件和信息技术服务业"


@pytest.mark.django_db
def test_division_or_section_finds_a_section_in_either_case():
    assert division_or_section(" j ").code == "J"


@pytest.mark.django_db
def test_division_or_section_is_none_for_blank():
    assert division_or_section("  ") is None


@pytest.mark.django_db
def test_division_or_section_refuses_an_unknown_code():
    with pytest.raises(ValidationError) as caught:
        division_or_section("98")
    assert caught.value.messages == ["未知行业代码 98 / unknown industry code 98"]


@pytest.mark.django_db
def test_division_or_section_refuses_a_group(tmp_path):
    # given group 651 loaded
    call_command("import_industries", str(write_csv(tmp_path, "651,group,65,软件开发\n")))
    # when / then
    with pytest.raises(ValidationError, match="industry code 651 is a group"):
        division_or_section("651")
