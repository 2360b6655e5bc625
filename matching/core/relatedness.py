"""How related two industries are, learned from which industries share buildings across the district.

The product-space proximity (Hidalgo et al. 2007) with buildings in the place of countries: a
building is specialised in division i when i's share of its tenants is at least i's share of the
district's (revealed comparative advantage ≥ 1). With N_i buildings specialised in i and N_ij in
both i and j, φ_ij = min(P(i|j), P(j|i)) = N_ij / max(N_i, N_j). Where evidence is thin the
proximity is shrunk toward a prior that says divisions of one section are alike:

    R_ij = (n_ij · φ_ij + k · π_ij) / (n_ij + k),   n_ij = min(N_i, N_j),
    π_ij = SAME_SECTION_PRIOR when i and j share a section, else 0;   R_ii = 1.
"""

from __future__ import annotations

import numpy as np

SAME_SECTION_PRIOR = 0.5
SHRINK_BUILDINGS = 5.0  # k: pseudo-buildings of prior evidence


def specialised(counts: np.ndarray) -> np.ndarray:
    """(buildings, divisions) bool: revealed comparative advantage ≥ 1 (and at least one tenant)."""
    counts = np.asarray(counts, dtype=float)
    per_building = counts.sum(axis=1, keepdims=True)
    per_division = counts.sum(axis=0, keepdims=True)
    total = counts.sum()
    if total == 0:
        return np.zeros(counts.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        rca = (counts / per_building) / (per_division / total)
    return (counts > 0) & (np.nan_to_num(rca) >= 1.0)


def relatedness(
    counts: np.ndarray,
    division_section: np.ndarray,
    *,
    prior: float = SAME_SECTION_PRIOR,
    shrink: float = SHRINK_BUILDINGS,
) -> np.ndarray:
    """(divisions, divisions) relatedness in [0, 1] from tenant counts per (building, division)."""
    spec = specialised(counts).astype(float)
    both = spec.T @ spec  # N_ij; the diagonal is N_i
    n = np.diag(both)
    larger = np.maximum.outer(n, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(larger > 0, both / larger, 0.0)
    evidence = np.minimum.outer(n, n)
    same_section = division_section[:, None] == division_section[None, :]
    pi = np.where(same_section, prior, 0.0)
    result = (evidence * phi + shrink * pi) / (evidence + shrink)
    np.fill_diagonal(result, 1.0)
    return np.clip(result, 0.0, 1.0)


def section_relatedness(related: np.ndarray, division_section: np.ndarray, n_sections: int) -> np.ndarray:
    """(divisions, sections): a division's relatedness to the closest division of each section."""
    result = np.zeros((related.shape[0], n_sections))
    for section in range(n_sections):
        members = np.flatnonzero(division_section == section)
        if members.size:
            result[:, section] = related[:, members].max(axis=1)
    return result
