"""A district with a known departure process, for the CI test world and the scoring benchmark.

Each enterprise rents from lease to lease (three or five years). At each lease end it leaves the
district with probability sigmoid(BASE + DECLINE·declining + LOW_YIELD·(tax per m² below the
median) + HQ·headquarters + its industry's effect + noise), relocates to another building with
RELOCATE_SHARE, and renews in place otherwise. A declining enterprise's monthly tax falls 4 % a month
from its decline onwards. Every departure is replaced by a newcomer within 90 days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from retention.core.history import NO_END, Buildings, Enterprises, History, TaxMonths, Tenancies

BASE, DECLINE, LOW_YIELD, HQ = -2.2, 2.6, 1.0, -1.2
INDUSTRY_SPREAD, NOISE = 0.8, 0.5
DECLINING_SHARE = 0.3
MONTHLY_FALL = 0.96
RELOCATE_SHARE = 0.08
OPEN_ENDED_SHARE = 0.05
INDUSTRIES = 12


@dataclass(frozen=True)
class World:
    history: History
    first: dt.date
    last: dt.date


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-z)))


def synthetic_world(
    *,
    enterprises: int = 1500,
    buildings: int = 30,
    first: dt.date = dt.date(2016, 1, 1),
    years: int = 9,
    seed: int = 0,
) -> World:
    rng = np.random.default_rng(seed)
    last = dt.date(first.year + years, 1, 1) - dt.timedelta(days=1)
    day0, day_end = first.toordinal(), last.toordinal()
    first_year = first.year - 2
    months = (last.year - first_year + 1) * 12
    industry_effect = rng.normal(0.0, INDUSTRY_SPREAD, INDUSTRIES)

    ent_industry: list[int] = []
    ent_hq: list[bool] = []
    ent_registered: list[bool] = []
    ent_base: list[float] = []
    ent_decline: list[int] = []  # month index of the decline, -1 never
    rows: list[tuple[int, int, float, int, int]] = []
    median_yield = 0.0

    def new_enterprise() -> int:
        ent_industry.append(int(rng.integers(0, INDUSTRIES)))
        ent_hq.append(bool(rng.random() < 0.1))
        ent_registered.append(bool(rng.random() < 0.9))
        ent_base.append(float(rng.lognormal(10.0, 1.0)))
        ent_decline.append(int(rng.integers(0, months)) if rng.random() < DECLINING_SHARE else -1)
        return len(ent_base) - 1

    def month_of(day: int) -> int:
        date = dt.date.fromordinal(day)
        return (date.year - first_year) * 12 + date.month - 1

    def run(enterprise: int, building: int, area: float, start: int) -> None:
        nonlocal median_yield
        while start <= day_end:
            term = int(rng.choice([3, 5])) * 365
            end = start + term
            if rng.random() < OPEN_ENDED_SHARE:
                rows.append((enterprise, building, area, start, NO_END))
                return
            rows.append((enterprise, building, area, start, end))
            if end > day_end:
                return
            decline = ent_decline[enterprise]
            declining = decline >= 0 and decline <= month_of(end) - 6
            low_yield = ent_base[enterprise] * 12 / area < median_yield
            z = (
                BASE
                + DECLINE * declining
                + LOW_YIELD * low_yield
                + HQ * ent_hq[enterprise]
                + industry_effect[ent_industry[enterprise]]
                + rng.normal(0.0, NOISE)
            )
            u = rng.random()
            if u < _sigmoid(z):
                newcomer = new_enterprise()
                run_queue.append((newcomer, building, area, end + int(rng.integers(1, 90))))
                return
            if u < _sigmoid(z) + RELOCATE_SHARE:
                building = int((building + rng.integers(1, buildings)) % buildings)
                start = end + int(rng.integers(1, 30))
            else:
                start = end + 1

    run_queue: list[tuple[int, int, float, int]] = []
    initial = []
    for _ in range(enterprises):
        e = new_enterprise()
        area = float(rng.lognormal(6.0, 0.6))
        initial.append((e, int(rng.integers(0, buildings)), area, day0 - int(rng.integers(0, 5 * 365))))
    median_yield = float(np.median([ent_base[e] * 12 / a for e, _, a, _ in initial]))
    run_queue.extend(initial)
    while run_queue:
        run(*run_queue.pop())

    table = np.array(rows, dtype=float)
    tenancies = Tenancies(
        table[:, 0].astype(int),
        table[:, 1].astype(int),
        table[:, 2],
        table[:, 3].astype(int),
        table[:, 4].astype(int),
    )
    n = len(ent_base)
    amount = np.zeros((n, months))
    month_starts = np.array([dt.date(first_year + m // 12, m % 12 + 1, 1).toordinal() for m in range(months)])
    for e, _, _, start, end in rows:
        present = (month_starts >= start - 27) & (month_starts <= end)
        amount[e, present] = ent_base[e]
    decline = np.array(ent_decline)
    month_index = np.arange(months)
    falling = (decline[:, None] >= 0) & (month_index[None, :] >= decline[:, None])
    factor = np.where(falling, MONTHLY_FALL ** np.maximum(month_index[None, :] - decline[:, None], 0), 1.0)
    amount = amount * factor * rng.lognormal(0.0, 0.1, amount.shape)
    leasable = np.zeros(buildings)
    np.add.at(leasable, tenancies.building, tenancies.area)
    history = History(
        tenancies,
        Enterprises(np.array(ent_industry), np.array(ent_hq), np.array(ent_registered)),
        Buildings(np.maximum(leasable / years * 1.5, 1000.0)),
        TaxMonths(first_year, amount, np.ones_like(amount, dtype=bool)),
    )
    return World(history, first, last)
