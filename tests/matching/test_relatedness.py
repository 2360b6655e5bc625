"""Industry relatedness from co-location, worked by hand on three buildings."""

import numpy as np
import pytest

from matching.core.relatedness import relatedness, section_relatedness, specialised
from tests.matching.districts import INDUSTRIES

I65, I64, L72, I63 = (INDUSTRIES.division(c) for c in ("65", "64", "72", "63"))


def counts() -> np.ndarray:
    # b0: 65 ×2, 64 ×2;  b1: 65 ×2, 72 ×2;  b2: 72 ×4
    matrix = np.zeros((3, len(INDUSTRIES.divisions)))
    matrix[0, [I65, I64]] = 2
    matrix[1, [I65, L72]] = 2
    matrix[2, L72] = 4
    return matrix


def test_a_building_is_specialised_where_its_share_reaches_the_districts():
    # district shares: 65 4/12, 64 2/12, 72 6/12. RCA: b0 65 1.5, 64 3; b1 65 1.5, 72 1.0; b2 72 2.0
    spec = specialised(counts())
    assert spec[0, I65] and spec[0, I64] and not spec[0, L72]
    assert spec[1, I65] and spec[1, L72]
    assert spec[2, L72] and not spec[2, I65]


def test_proximity_is_shrunk_toward_the_section_prior_where_evidence_is_thin():
    # given: N_65 = 2, N_64 = 1, N_72 = 2; N_65,64 = 1, N_65,72 = 1, N_64,72 = 0; k = 5
    related = relatedness(counts(), INDUSTRIES.division_section)
    # then: φ(65,64) = 1/2, evidence 1, same section (prior 0.5): (1 × 0.5 + 5 × 0.5) / 6 = 0.5
    assert related[I65, I64] == pytest.approx(0.5)
    # φ(65,72) = 1/2, evidence 2, other sections (prior 0): 2 × 0.5 / 7
    assert related[I65, L72] == pytest.approx(1 / 7)
    # φ(64,72) = 0, evidence 1: 0
    assert related[I64, L72] == pytest.approx(0.0)
    # 63 never occurs: the prior alone, 0.5 within section I
    assert related[I65, I63] == pytest.approx(0.5)
    assert np.allclose(np.diag(related), 1.0)
    assert np.allclose(related, related.T)


def test_a_divisions_relatedness_to_a_section_is_to_its_closest_division():
    related = relatedness(counts(), INDUSTRIES.division_section)
    by_section = section_relatedness(related, INDUSTRIES.division_section, len(INDUSTRIES.sections))
    assert by_section[L72, INDUSTRIES.section("I")] == pytest.approx(1 / 7)
    assert by_section[I65, INDUSTRIES.section("I")] == pytest.approx(1.0)


def test_an_empty_district_falls_back_to_the_prior():
    related = relatedness(np.zeros((2, len(INDUSTRIES.divisions))), INDUSTRIES.division_section)
    assert related[I65, I64] == pytest.approx(0.5)
    assert related[I65, L72] == pytest.approx(0.0)
