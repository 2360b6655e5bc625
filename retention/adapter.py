"""Between the database and the retention core: the district's tenancy history as arrays.

Rows are mapped to array indices here and back again; nothing else of the core knows an id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from crm.constants import BILLION_TIER_YUAN, TEN_MILLION_TIER_YUAN
from crm.models import Building, Enterprise, TaxRecord, Tenancy
from retention.core.features import TierThresholds
from retention.core.history import NO_END, Buildings, Enterprises, History, TaxMonths, Tenancies


@dataclass(frozen=True)
class LoadedHistory:
    history: History
    tenancy_ids: np.ndarray
    enterprise_ids: np.ndarray
    building_ids: np.ndarray
    first_day: dt.date  # the first tenancy's start
    last_tax_year: int | None


def tier_thresholds() -> TierThresholds:
    return TierThresholds(
        float(TEN_MILLION_TIER_YUAN), float(BILLION_TIER_YUAN), float(settings.NEAR_TIER_RATIO)
    )


def load_history(*, tax_from_year: int | None = None) -> LoadedHistory:
    """Every tenancy, enterprise and building, and the tax from `tax_from_year` on (default: all)."""
    buildings = np.array(Building.objects.order_by("pk").values_list("pk", "leasable_area_m2"), dtype=object)
    building_ids = (
        np.array([b for b, _ in buildings], dtype=np.int64) if len(buildings) else np.zeros(0, np.int64)
    )
    leasable = np.array([float(a) for _, a in buildings]) if len(buildings) else np.zeros(0)

    enterprises = list(
        Enterprise.objects.order_by("pk").values_list(
            "pk", "industry_id", "is_headquarters", "registered_in_district"
        )
    )
    enterprise_ids = np.array([e[0] for e in enterprises], dtype=np.int64)
    industry_codes = sorted({e[1] for e in enterprises if e[1]})
    industry_index = {code: i for i, code in enumerate(industry_codes)}

    tenancies = list(
        Tenancy.objects.order_by("pk").values_list(
            "pk", "enterprise_id", "building_id", "area_m2", "start", "end"
        )
    )
    tenancy_ids = np.array([t[0] for t in tenancies], dtype=np.int64)
    e_index = np.searchsorted(enterprise_ids, np.array([t[1] for t in tenancies], dtype=np.int64))
    b_index = np.searchsorted(building_ids, np.array([t[2] for t in tenancies], dtype=np.int64))
    starts = np.array([t[4].toordinal() for t in tenancies], dtype=np.int64)
    ends = np.array([t[5].toordinal() if t[5] else NO_END for t in tenancies], dtype=np.int64)

    tax = TaxRecord.objects.all()
    if tax_from_year is not None:
        tax = tax.filter(year__gte=tax_from_year)
    records = list(tax.values_list("enterprise_id", "year", "month", "amount_yuan"))
    years = [r[1] for r in records]
    first_year = min(years) if years else (tax_from_year or dt.date.today().year)
    last_year = max(years) if years else first_year
    months = (last_year - first_year + 1) * 12
    amount = np.zeros((len(enterprise_ids), months))
    monthly = np.zeros((len(enterprise_ids), months), dtype=bool)
    yearly = []
    for enterprise_id, year, month, value in records:
        row = int(np.searchsorted(enterprise_ids, enterprise_id))
        if month is None:
            yearly.append((row, year, float(value)))
            continue
        column = (year - first_year) * 12 + month - 1
        amount[row, column] = float(value)
        monthly[row, column] = True
    for row, year, value in yearly:
        # A year recorded month by month keeps its months; a yearly total alone is spread over twelve.
        columns = slice((year - first_year) * 12, (year - first_year + 1) * 12)
        if not monthly[row, columns].any():
            amount[row, columns] = value / 12
    history = History(
        Tenancies(e_index, b_index, np.array([float(t[3]) for t in tenancies]), starts, ends),
        Enterprises(
            np.array([industry_index.get(e[1], -1) if e[1] else -1 for e in enterprises], dtype=np.int64),
            np.array([bool(e[2]) for e in enterprises]),
            np.array([bool(e[3]) for e in enterprises]),
        ),
        Buildings(np.maximum(leasable, 1.0)),
        TaxMonths(first_year, amount, monthly),
    )
    first_day = dt.date.fromordinal(int(starts.min())) if len(starts) else dt.date.today()
    return LoadedHistory(
        history, tenancy_ids, enterprise_ids, building_ids, first_day, last_year if years else None
    )
