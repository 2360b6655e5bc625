"""The CRM's tables; each module holds one part of the domain."""

from crm.models.buildings import Building, Unit
from crm.models.enterprises import Enterprise, TaxRecord, Tenancy, TenancyUnit
from crm.models.geography import BusinessCircle, Street
from crm.models.industry import Industry
from crm.models.leads import Activity, Lead, Reservation, Signing, StageChange
from crm.models.people import Agency, Promoter, UserScope
from crm.models.plan import PlanTarget

__all__ = [
    "Activity",
    "Agency",
    "Building",
    "BusinessCircle",
    "Enterprise",
    "Industry",
    "Lead",
    "PlanTarget",
    "Promoter",
    "Reservation",
    "Signing",
    "StageChange",
    "Street",
    "TaxRecord",
    "Tenancy",
    "TenancyUnit",
    "Unit",
    "UserScope",
]
