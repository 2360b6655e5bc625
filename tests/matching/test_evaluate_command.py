"""`manage.py evaluate_matching`: it prints the stored model's weights and stores only with --store."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from matching.models import RankingModel

pytestmark = pytest.mark.django_db


def _stored_model() -> RankingModel:
    return RankingModel.objects.create(
        version=3,
        created_at=timezone.now(),
        learned_weights={"industry": 0.5, "space": 0.5},
        weights={"industry": 0.625, "space": 0.375},
        blend_share=0.25,
        leads=10,
        pairs=40,
    )


def test_evaluating_prints_the_stored_models_weights_and_stores_nothing():
    # given a stored model v3 whose weights are 0.625 / 0.375
    _stored_model()
    out = StringIO()

    # when evaluating without --store
    call_command("evaluate_matching", stdout=out)

    # then the weights that rank are v3's as stored, and no version was added
    text = out.getvalue()
    assert "ranking model v3 weights: industry 0.625, space 0.375" in text
    assert "nothing stored" in text
    assert list(RankingModel.objects.values_list("version", flat=True)) == [3]


def test_the_json_report_names_the_model_that_ranks_and_that_nothing_was_stored():
    # given
    _stored_model()
    out = StringIO()

    # when
    call_command("evaluate_matching", "--format", "json", stdout=out)

    # then
    payload = json.loads(out.getvalue())
    assert (payload["model_version"], payload["stored_version"]) == (3, None)
    assert payload["model_weights"] == {"industry": 0.625, "space": 0.375}
    assert RankingModel.objects.count() == 1


def test_without_a_stored_model_the_defaults_are_printed():
    # given no model at all
    out = StringIO()

    # when
    call_command("evaluate_matching", stdout=out)

    # then the defaults of matching.core.types rank, by name: district 0.15, incentive 0.10, industry 0.30, …
    assert (
        "ranking with the default weights (no stored model): district 0.150, incentive 0.100, industry 0.300"
        in out.getvalue()
    )
    assert RankingModel.objects.count() == 0
