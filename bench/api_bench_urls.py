"""The project's URLs plus bare views (no DRF, no auth, no scope) returning the API's rows with .values().

They exist only in the benchmark, as the floor the API is measured against.
"""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from crm.models import Lead
from matching.adapter import match_buildings

# The lead columns of the API's lead (its related names as ids: owner, agency, industry).
LEAD_COLUMNS = (
    "id",
    "ref",
    "company_name",
    "credit_code",
    "industry_id",
    "business_scope",
    "contact_name",
    "contact_phone",
    "area_min_m2",
    "area_max_m2",
    "budget_rent",
    "expected_annual_tax",
    "employees",
    "is_headquarters",
    "desired_move_in",
    "channel",
    "owner_id",
    "agency_id",
    "stage",
    "lost_reason",
    "case_by_case",
    "created_at",
    "updated_at",
    "version",
)


def bare_leads(request):
    """Page 1 of 50 leads in the API's order, with the count (an agency's when ?agency= is given)."""
    leads = Lead.objects.order_by("-created_at", "-id")
    if request.GET.get("agency"):
        leads = leads.filter(agency_id=request.GET["agency"])
    rows = list(leads.values(*LEAD_COLUMNS)[:50])
    return JsonResponse({"count": leads.count(), "results": rows})


def bare_lead(request, pk: int):
    return JsonResponse(Lead.objects.values(*LEAD_COLUMNS).get(pk=pk))


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
