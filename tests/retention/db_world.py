"""The synthetic world of retention.core.synthetic written into the database, for the adapter's tests."""

import datetime as dt
from decimal import Decimal

from crm.models import Building, Enterprise, TaxRecord, Tenancy
from retention.core.history import NO_END
from retention.core.synthetic import World
from tests.factories import StreetFactory, make_credit_code


def write_world(world: World) -> None:
    h = world.history
    street = StreetFactory(name="稳商测试街道")
    buildings = Building.objects.bulk_create(
        Building(
            code=f"R{b:03d}",
            name=f"测试楼{b}",
            street=street,
            gross_area_m2=Decimal(round(area * 1.2, 2)),
            leasable_area_m2=Decimal(round(area, 2)),
        )
        for b, area in enumerate(h.buildings.leasable_area)
    )
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(
            credit_code=make_credit_code(500000 + e),
            name=f"稳商测试企业{e}",
            normalised_name=f"稳商测试企业{e}",
            is_headquarters=bool(h.enterprises.headquarters[e]),
            registered_in_district=bool(h.enterprises.registered[e]),
        )
        for e in range(len(h.enterprises.headquarters))
    )
    t = h.tenancies
    Tenancy.objects.bulk_create(
        Tenancy(
            enterprise=enterprises[int(t.enterprise[i])],
            building=buildings[int(t.building[i])],
            area_m2=Decimal(round(float(t.area[i]), 2)),
            start=dt.date.fromordinal(int(t.start[i])),
            end=None if t.end[i] >= NO_END else dt.date.fromordinal(int(t.end[i])),
        )
        for i in range(len(t.start))
    )
    records = []
    for e, row in enumerate(h.tax.amount):
        for m in row.nonzero()[0]:
            year, month = h.tax.first_year + int(m) // 12, int(m) % 12 + 1
            records.append(
                TaxRecord(
                    enterprise=enterprises[e],
                    year=year,
                    month=month,
                    amount_yuan=Decimal(round(float(row[m]), 2)),
                )
            )
    TaxRecord.objects.bulk_create(records, batch_size=5000)
