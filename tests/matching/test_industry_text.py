"""The standard's text the industry classifier learns from: the shipped file agrees with the reference."""

import csv
from collections import Counter
from pathlib import Path

from crm.data.industries import DIVISIONS
from matching.industry_text import scope_text, standard_documents, standard_rows

REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "gbt4754-2017.csv"


def reference_rows() -> list[tuple[str, str, str, str]]:
    with REFERENCE_CSV.open(encoding="utf-8-sig", newline="") as handle:
        return [(r["code"], r["level"], r["parent"], r["name_zh"]) for r in csv.DictReader(handle)]


def test_the_shipped_text_has_every_row_of_the_reference_in_its_order():
    shipped = [(r.code, r.level, r.parent, r.name_zh) for r in standard_rows()]
    assert shipped == reference_rows()


def test_every_division_says_what_it_covers_and_no_other_level_does():
    covers = {r.code: r.covers for r in standard_rows() if r.covers}
    assert sorted(covers) == [code for code, _, _, _ in DIVISIONS]
    assert all(text.startswith("指") for text in covers.values())


def test_every_division_has_its_own_documents():
    # 97 division documents and 473 group documents (counts of the reference's README)
    documents = standard_documents()
    per_division = Counter(code for _, code in documents)
    assert len(documents) == 97 + 473
    assert sorted(per_division) == [f"{n:02d}" for n in range(1, 98)]
    assert min(per_division.values()) >= 2


def test_a_group_document_lists_its_classes():
    # from the reference: group 651 软件开发 has classes 6511 基础软件开发 … 6519 其他软件开发
    documents = dict((text.split("：")[0], (text, code)) for text, code in standard_documents())
    text, code = documents["软件开发"]
    assert code == "65"
    assert text.startswith("软件开发：基础软件开发；支撑软件开发；应用软件开发")


def test_the_licence_formulas_are_cut_and_the_activities_kept():
    text = (
        "许可项目：代理记账（依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以审批结果为准）"
        "一般项目：财务咨询；税务服务（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
    )
    assert scope_text(text) == "代理记账；财务咨询；税务服务"


def test_text_without_formulas_is_left_as_it_is():
    assert (
        scope_text("软件开发；信息系统集成服务（不含许可类业务）")
        == "软件开发；信息系统集成服务（不含许可类业务）"
    )
