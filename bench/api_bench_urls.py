"""The project's URLs plus bare views (no DRF, no auth, no scope) returning the API's rows with .values().

They exist only in the benchmark, as the floor the API is measured against.
"""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from crm.api.serializers import LeadSerializer
from crm.models import Lead
from matching.adapter import match_buildings

# The columns of the API's lead (crm.api.serializers.LeadSerializer: the owner's username and the
# agency's name joined), read once at import so that both sides always return the same fields; the
# views below use nothing of DRF, the API's auth, scope, masking or contact-view log.
LEAD_COLUMNS = tuple(LeadSerializer.row_columns())


def _with_streets(rows: list[dict]) -> list[dict]:
    """Each row's preferred streets by name, as the API lists them: one query for all the rows."""
    names = {row["id"]: [] for row in rows}
    through = Lead.preferred_streets.through.objects.filter(lead_id__in=names).order_by("street__name")
    for lead_id, street in through.values_list("lead_id", "street__name"):
        names[lead_id].append(street)
    for row in rows:
        row["preferred_streets"] = names[row["id"]]
    return rows


def bare_leads(request):
    """Page 1 of 50 leads in the API's order, with the count (an agency's when ?agency= is given)."""
    leads = Lead.objects.order_by("-created_at", "-id")
    if request.GET.get("agency"):
        leads = leads.filter(agency_id=request.GET["agency"])
    rows = _with_streets(list(leads.values(*LEAD_COLUMNS)[:50]))
    return JsonResponse({"count": leads.count(), "results": rows})


def bare_lead(request, pk: int):
    return JsonResponse(_with_streets([Lead.objects.values(*LEAD_COLUMNS).get(pk=pk)])[0])


def bare_matches(request, pk: int):
    """The same ranking the API calls, returned as plain dicts."""
    lead = Lead.objects.get(pk=pk)
    data = match_buildings(lead, limit=int(request.GET.get("limit", 10))).to_dict()
    data.pop("excluded", None)
    return JsonResponse(data)


urlpatterns = [
    path("bare/leads/", bare_leads),
    path("bare/leads/<int:pk>/", bare_lead),
    path("bare/leads/<int:pk>/matches/", bare_matches),
    *project_urlpatterns,
]
