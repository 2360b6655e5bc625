"""The GB/T 4754-2017 standard's own text as training documents for the industry classifier, and the
clean-up every business scope gets before it is turned into features.

A fresh install has no enterprises to learn from, and a district's enterprises cover only some of the
97 divisions. The standard names every group and class and says what each division covers, so its
text alone lets the classifier suggest any division; a district's own scopes then teach it how its
companies write. The text ships as package data (crm/data/gbt4754-2017-text.csv): every row of the
standard (code, level, parent, Chinese name) and, for each division, a note of what it covers, written
after the standard's explanatory notes (说明) in the words licences use.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

STANDARD_TEXT = ("crm.data", "gbt4754-2017-text.csv")
COLUMNS = ("code", "level", "parent", "name_zh", "covers")

# The legal formulas of a licence (经营范围规范表述) say whether an item needs a permit, not what the
# company does; they are the same for every industry, so they are cut before features are built.
LICENCE_FORMULA = re.compile(
    r"（[^（）]*(?:依法须经批准|许可证件|审批结果|营业执照)[^（）]*）"
    r"|\([^()]*(?:依法须经批准|许可证件|审批结果|营业执照)[^()]*\)"
    r"|(?:一般|许可)(?:经营)?项目[:：]"
)


@dataclass(frozen=True)
class StandardRow:
    code: str
    level: str  # section, division, group or class
    parent: str
    name_zh: str
    covers: str


def scope_text(text: str) -> str:
    """A business scope without the licence's legal formulas, for the classifier to read."""
    cut = LICENCE_FORMULA.sub("；", text or "")
    return re.sub(r"[；;]{2,}", "；", cut).strip("；; ")


@cache
def standard_rows() -> tuple[StandardRow, ...]:
    """Every row of the shipped standard's text, in the file's order (a parent before its children)."""
    raw = resources.files(STANDARD_TEXT[0]).joinpath(STANDARD_TEXT[1]).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(raw, newline=""))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"{STANDARD_TEXT[1]}: expected the columns {', '.join(COLUMNS)}")
    return tuple(StandardRow(**{column: row[column] for column in COLUMNS}) for row in reader)


@cache
def standard_documents() -> tuple[tuple[str, str], ...]:
    """(text, division code) documents from the standard: one per division and one per group.

    A division's document is its name and what it covers; a group's is its name followed by the names
    of its classes ("软件开发：基础软件开发；支撑软件开发；应用软件开发…"), so that a class's words count
    together with the group they belong to. Every one of the 97 divisions has at least two documents.
    """
    rows = standard_rows()
    division_of: dict[str, str] = {}
    classes: dict[str, list[str]] = {}
    for row in rows:
        if row.level == "division":
            division_of[row.code] = row.code
        elif row.level in ("group", "class"):
            division_of[row.code] = division_of[row.parent]
        if row.level == "class":
            classes.setdefault(row.parent, []).append(row.name_zh)
    documents: list[tuple[str, str]] = []
    for row in rows:
        if row.level == "division":
            documents.append((f"{row.name_zh}：{row.covers}" if row.covers else row.name_zh, row.code))
        elif row.level == "group":
            text = "：".join([row.name_zh, "；".join(classes.get(row.code, []))]).rstrip("：")
            documents.append((text, division_of[row.code]))
    return tuple(documents)
