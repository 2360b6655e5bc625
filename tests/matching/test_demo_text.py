"""Business-scope text for the demo: realistic, varied, deterministic per seed, for every office division."""

import random
import re

import pytest

from matching.demo_text import DIVISION_CLAUSES, GENERAL_TAIL, business_scope_for

OFFICE_DIVISIONS = [
    "63", "64", "65", "66", "67", "68", "69", "70", "71", "72", "73", "74", "75",
    "51", "52", "86", "87", "88", "47", "48", "49", "50", "54", "58", "59", "17", "18", "28",
]  # fmt: skip


def clauses(text: str) -> list[str]:
    body = re.sub(r"（[^）]*须经批准[^）]*）", "", text)
    body = body.replace("一般项目：", "；").replace("许可项目：", "；").rstrip("。")
    return [c for c in re.split(r"[；;、。]", body) if c]


@pytest.mark.parametrize("division", OFFICE_DIVISIONS)
def test_every_office_division_gets_several_clauses_of_its_own(division):
    # when
    text = business_scope_for(division, random.Random(5))
    # then
    assert len(clauses(text)) >= 3
    assert any(clause in text for clause in DIVISION_CLAUSES[division])
    assert re.search(r"[\u4e00-\u9fff]", text)


def test_the_same_seed_writes_the_same_text():
    assert business_scope_for("65", random.Random(9)) == business_scope_for("65", random.Random(9))


def test_one_generator_writes_varied_texts():
    rng = random.Random(1)
    texts = {business_scope_for("72", rng) for _ in range(30)}
    assert len(texts) >= 25


def test_the_2021_standard_wording_appears_with_its_closing_formula():
    rng = random.Random(3)
    texts = [business_scope_for("67", rng) for _ in range(40)]
    assert any(t.startswith("一般项目：") and GENERAL_TAIL in t for t in texts)
    assert any(t.startswith("许可项目：") for t in texts)


def test_a_division_without_its_own_list_writes_what_its_section_writes():
    # 91 is section S (public administration), which has no division list here
    text = business_scope_for("91", random.Random(2))
    assert len(clauses(text)) >= 1
