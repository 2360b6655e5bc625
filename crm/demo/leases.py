"""The demo's tenancies as lease terms: a stay in a building is written as consecutive leases of three
or five years, each renewal a new tenancy from the day after the last one ended, as a district's
records keep them. A departure falls on a lease's end; a stay going on past the as-of date holds a
lease to at least the end of the as-of year (so this year's figures are the plan's)."""

import datetime as dt

LEASE_YEARS = (3, 5)


def lease_years(index: int) -> int:
    # From the tenancy's index, not the planner's random stream: the rest of the demo stays as it was.
    return LEASE_YEARS[(index * 2654435761) % 7 < 3]


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def lease_terms(
    index: int, start: dt.date, end: dt.date | None, *, as_of: dt.date
) -> list[tuple[dt.date, dt.date | None]]:
    """The (start, end) of each lease of one stay, in order; they cover exactly start–end."""
    years = lease_years(index)
    if end is not None:
        # Back from the departure: the last lease ends on the day the tenant leaves.
        terms, term_end = [], end
        while True:
            term_start = _years_later(term_end, -years) + dt.timedelta(days=1)
            if term_start <= start:
                terms.append((start, term_end))
                return terms[::-1]
            terms.append((term_start, term_end))
            term_end = term_start - dt.timedelta(days=1)
    terms = []
    term_start = start
    year_end = dt.date(as_of.year, 12, 31)
    while True:
        term_end = _years_later(term_start, years) - dt.timedelta(days=1)
        if term_end >= as_of:
            terms.append((term_start, max(term_end, year_end)))
            return terms
        terms.append((term_start, term_end))
        term_start = term_end + dt.timedelta(days=1)
