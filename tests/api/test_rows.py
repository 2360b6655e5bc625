"""Lead rows (crm.api.lead_rows) read as DRF would read the lead itself, column for column."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework import serializers

from crm.api.lead_rows import lead_row
from crm.api.serializers import LeadSerializer
from crm.models import Lead

pytestmark = pytest.mark.django_db


class _PlainLead(serializers.ModelSerializer):
    """DRF's own reading of a lead instance, field by field, for comparison."""

    industry = serializers.CharField(source="industry_id", allow_null=True)
    owner = serializers.CharField(source="owner.user.username", default=None, allow_null=True)
    agency = serializers.CharField(source="agency.name", default=None, allow_null=True)
    preferred_streets = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    referred_by = serializers.CharField(source="referred_by.credit_code", default=None, allow_null=True)
    referred_by_name = serializers.CharField(source="referred_by.name", default=None, allow_null=True)

    class Meta:
        model = Lead
        fields = LeadSerializer.Meta.fields


def test_a_lead_row_reads_like_the_lead_instance(world):
    # given the promoter's lead with areas, a budget, a move-in date and two preferred streets
    lead = world.lead
    lead.area_min_m2, lead.area_max_m2, lead.budget_rent = Decimal("150"), Decimal("300.5"), Decimal("3")
    lead.desired_move_in = dt.date(2027, 3, 1)
    lead.save()
    lead.preferred_streets.set([world.street, world.other_street])
    # when
    data = LeadSerializer(lead_row(Lead.objects.all(), lead.pk)).data
    # then: the same fields and values as DRF's reading of the instance...
    assert data == _PlainLead(Lead.objects.get(pk=lead.pk)).data
    # ...and these, worked out by hand: two decimals, an ISO date, streets by name
    assert (data["area_min_m2"], data["area_max_m2"], data["budget_rent"]) == ("150.00", "300.50", "3.00")
    assert data["desired_move_in"] == "2027-03-01"
    assert data["preferred_streets"] == ["北海街道", "府山街道"]
    assert (data["owner"], data["agency"]) == ("promoter", None)


def test_an_agency_lead_row_names_its_agency_and_no_owner(world):
    # when
    data = LeadSerializer(lead_row(Lead.objects.all(), world.agency_lead.pk)).data
    # then
    assert (data["owner"], data["agency"], data["preferred_streets"]) == (None, "越城中介", [])


def test_a_lead_outside_the_queryset_has_no_row(world):
    # when the queryset is narrowed to other leads
    row = lead_row(Lead.objects.exclude(pk=world.lead.pk), world.lead.pk)
    # then
    assert row is None
