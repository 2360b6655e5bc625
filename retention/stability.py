"""Tax-source stability of a year (税源稳定性), for the white paper: of the tenants settled on 1 January,
how many left the district within the year (the retention label rule), how many moved inside it,
and how much of the previous year's tax the leavers had paid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from retention.adapter import load_history, tier_thresholds
from retention.core.features import feature_rows
from retention.core.history import GAP_DAYS, LEAVE, RELOCATE, outcomes


def tax_source_stability(*, year: int, today: dt.date) -> dict | None:
    """The year's figures (None when nobody was settled on its 1 January); `final` is False while
    the 60-day gap after the year's end has not passed (a leaver may still come back)."""
    loaded = load_history(tax_from_year=year - 2)
    day = dt.date(year, 1, 1).toordinal()
    horizon = dt.date(year, 12, 31).toordinal() - day
    rows = feature_rows(loaded.history, day, tier_thresholds())
    if len(rows.rows) == 0:
        return None
    labels = outcomes(loaded.history.tenancies, rows.rows, day, horizon=horizon)
    left, moved = labels == LEAVE, labels == RELOCATE
    tax = rows.tax_last_year
    total = float(tax.sum())
    enterprises = loaded.history.tenancies.enterprise[rows.rows]
    return {
        "year": year,
        "final": today.toordinal() > day + horizon + GAP_DAYS,
        "tenancies": int(len(rows.rows)),
        "enterprises": int(len(np.unique(enterprises))),
        "left": int(left.sum()),
        "relocated": int(moved.sum()),
        "kept_share": Decimal(repr(1 - float(left.mean()))),
        "tax": Decimal(repr(round(total, 2))),
        "tax_left": Decimal(repr(round(float(tax[left].sum()), 2))),
        "tax_kept_share": Decimal(repr(1 - float(tax[left].sum()) / total)) if total > 0 else None,
    }
