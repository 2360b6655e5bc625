"""Scoring every active tenancy with the model in use: the retention lists' rows and the forecast's
expected move-outs, stored under the data version of the indicator inputs they were computed from."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction

from crm.data_versions import INDICATORS, current_versions
from retention.adapter import load_history, tier_thresholds
from retention.core.features import FEATURES, feature_rows
from retention.models import RetentionScore
from retention.training import current_model

BATCH = 5000
CENT = Decimal("0.01")
# Years of tax the features read: this one, and the two before for the trend and last year's tax.
TAX_YEARS = 3


def _yuan(value: float) -> Decimal:
    return Decimal(repr(round(float(value), 2))).quantize(CENT)


def retention_scores_compute(*, on: dt.date) -> dict[str, Any]:
    """Score every tenancy active on `on`, replace the stored scores, and return the summary the
    forecast reads: per building the expected area and tax moving out (probability-weighted)."""
    version = current_versions()[INDICATORS]
    row, model = current_model()
    if model is None:
        with transaction.atomic():
            RetentionScore.objects.all().delete()
        return {"on": on.isoformat(), "model_version": None, "tenancies": 0, "buildings": {}}
    started = time.perf_counter()
    loaded = load_history(tax_from_year=on.year - TAX_YEARS)
    rows = feature_rows(loaded.history, on.toordinal(), tier_thresholds())
    probability = model.probability(rows.x)
    reasons = model.reasons(rows.x)
    seconds = time.perf_counter() - started
    t = loaded.history.tenancies
    building_index = t.building[rows.rows]
    area = t.area[rows.rows]
    scores = [
        RetentionScore(
            tenancy_id=int(loaded.tenancy_ids[r]),
            enterprise_id=int(loaded.enterprise_ids[t.enterprise[r]]),
            building_id=int(loaded.building_ids[building_index[i]]),
            probability=float(probability[i]),
            tax_last_year_yuan=_yuan(rows.tax_last_year[i]),
            expected_tax_at_risk_yuan=_yuan(probability[i] * rows.tax_last_year[i]),
            area_m2=_yuan(area[i]),
            reasons=[FEATURES[k] for k in reasons[i]],
            model_version=row.version,
            data_version=version,
            scored_on=on,
        )
        for i, r in enumerate(rows.rows)
    ]
    with transaction.atomic():
        RetentionScore.objects.all().delete()
        RetentionScore.objects.bulk_create(scores, batch_size=BATCH)
    expected_area = np.zeros(len(loaded.building_ids))
    expected_tax = np.zeros(len(loaded.building_ids))
    np.add.at(expected_area, building_index, probability * area)
    np.add.at(expected_tax, building_index, probability * rows.tax_last_year)
    buildings = {
        str(int(loaded.building_ids[b])): {
            "expected_area_m2": str(_yuan(expected_area[b])),
            "expected_tax_yuan": str(_yuan(expected_tax[b])),
        }
        for b in np.flatnonzero(expected_area > 0)
    }
    return {
        "on": on.isoformat(),
        "model_version": row.version,
        "tenancies": len(scores),
        "scoring_seconds": seconds,
        "expected_area_m2": str(_yuan(expected_area.sum())),
        "expected_tax_yuan": str(_yuan(expected_tax.sum())),
        "buildings": buildings,
    }
