"""The pure policy evaluator: plain dataclasses in, yuan amounts out; no Django, no database."""

from policies.engine.evaluate import PolicyBook, evaluate, evaluate_many
from policies.engine.results import (
    APPLIED,
    AWAITING_APPROVAL,
    INELIGIBLE,
    OUTRANKED,
    BatchEvaluation,
    BenefitAmount,
    Evaluation,
    PolicyOutcome,
)
from policies.engine.terms import (
    HORIZON_YEARS,
    KINDS,
    SHOWN_YEARS,
    BenefitKind,
    BenefitTerms,
    BuildingFacts,
    Offer,
    PolicyTerms,
    Profile,
    Scope,
    benefit_problems,
)

__all__ = [
    "APPLIED",
    "AWAITING_APPROVAL",
    "HORIZON_YEARS",
    "INELIGIBLE",
    "KINDS",
    "OUTRANKED",
    "SHOWN_YEARS",
    "BatchEvaluation",
    "BenefitAmount",
    "BenefitKind",
    "BenefitTerms",
    "BuildingFacts",
    "Evaluation",
    "Offer",
    "PolicyBook",
    "PolicyOutcome",
    "PolicyTerms",
    "Profile",
    "Scope",
    "benefit_problems",
    "evaluate",
    "evaluate_many",
]
