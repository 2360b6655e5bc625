"""Rankings as the caller may see them: the one serialisation behind the API's match endpoints and
the pages' match fragments, so that a page can never show more of a ranking than the API does.

The ranking itself (matching.adapter) knows nothing of who asks; this module narrows its output by
crm.selectors.scope: only buildings the caller may see, only leads the caller may see by name (the
others are demand without a name), and no reason that quotes tenants' tax to a role that may not read
tax. Both callers render what `BuildingMatchesSerializer` / `LeadMatchesSerializer` give back.
"""

from crm.api import serializers as s
from crm.api.exceptions import in_language
from crm.api.permissions import reaches, scoped
from crm.models import Building, Lead, TaxRecord, Unit
from matching.adapter import match_buildings, match_leads

# The reason component that quotes a building's tax per m² (its tenants' tax).
TAX_COMPONENT = "district"


def visible_reasons(request, reasons: list[dict], *, shows_tax: bool | None = None) -> list[dict]:
    """`reasons` in the request's language, without those quoting tax the caller may not read."""
    shows_tax = reaches(request, TaxRecord) if shows_tax is None else shows_tax
    return [
        {**r, "text": in_language(r["text"])} for r in reasons if shows_tax or r["component"] != TAX_COMPONENT
    ]


def _visible_building_ids(request, ids) -> set[int]:
    return set(scoped(request, Building.objects.filter(pk__in=ids)).values_list("pk", flat=True))


def building_matches_seen(request, lead: Lead, *, limit: int) -> dict:
    """The buildings that fit `lead`, as BuildingMatchesSerializer data, narrowed to the caller.

    Raises MatchingInputError for a lead that cannot be ranked (no industry, say).
    """
    data = match_buildings(lead, limit=limit).to_dict()
    data.pop("excluded", None)
    # Only buildings the caller may see (a street officer: the street's).
    visible = _visible_building_ids(request, [r["building_id"] for r in data["results"]])
    data["results"] = [
        {**r, "reasons": visible_reasons(request, r["reasons"])}
        for r in data["results"]
        if r["building_id"] in visible
    ]
    return s.BuildingMatchesSerializer(data).data


def building_exclusions_seen(request, lead: Lead) -> list[dict]:
    """The buildings filtered out for `lead` with their reasons, among those the caller may see."""
    found = match_buildings(lead, limit=0, include_excluded=True, details=False)
    excluded = [e.to_dict() for e in found.excluded]
    visible = _visible_building_ids(request, [e["building_id"] for e in excluded])
    return [e for e in excluded if e["building_id"] in visible]


def lead_matches_seen(request, building: Building, *, unit: Unit | None = None, limit: int) -> dict:
    """The open leads that fit `building` (or its `unit`), as LeadMatchesSerializer data.

    A lead the caller may not see is demand only: `"lead": None`, no id, no reference, no name (a
    building manager learns what kind of company would fit, not who it is), and no reason quoting its
    expected tax per m² (a figure of that lead's, not of the building).
    """
    data = match_leads(building, unit=unit, limit=limit).to_dict()
    ids = [r["lead_id"] for r in data["results"]]
    rows = scoped(request, Lead.objects.filter(pk__in=ids)).values_list("pk", "ref", "company_name")
    known = {pk: {"id": pk, "ref": ref, "company_name": name} for pk, ref, name in rows}
    shows_tax = reaches(request, TaxRecord)
    results = []
    for r in data["results"]:
        lead = known.get(r.pop("lead_id"))
        reasons = visible_reasons(request, r["reasons"], shows_tax=shows_tax and lead is not None)
        results.append({**r, "lead": lead, "reasons": reasons})
    data["results"] = results
    return s.LeadMatchesSerializer(data).data
