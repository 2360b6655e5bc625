"""The CRM's tables; each module holds one part of the domain."""

from crm.models.api_keys import AgencyAPIKey
from crm.models.appraisal import (
    AppraisalSnapshot,
    AppraisalWeight,
    IndicatorSnapshot,
    PromoterTarget,
    StreetAssessmentSnapshot,
    StreetTarget,
    WhitePaper,
)
from crm.models.buildings import Building, Unit
from crm.models.channels import ChannelMessage, ChannelMessageItem, NotificationChannel
from crm.models.enterprises import Enterprise, TaxRecord, Tenancy, TenancyUnit
from crm.models.followups import EarlyWarning, Notification, Reminder, ReminderDigest, StageLimit
from crm.models.geography import BusinessCircle, Street
from crm.models.industry import Industry
from crm.models.leads import Activity, Lead, Reservation, Signing, StageChange
from crm.models.people import Agency, Promoter, UserScope
from crm.models.plan import PlanTarget
from crm.models.privacy import ContactAccess, ContactErasure
from crm.models.stored import DataVersion, InputGroup, StoredResult
from crm.models.webhooks import AgencyWebhook, WebhookDelivery

__all__ = [
    "Activity",
    "Agency",
    "AgencyAPIKey",
    "AgencyWebhook",
    "AppraisalSnapshot",
    "AppraisalWeight",
    "Building",
    "BusinessCircle",
    "ChannelMessage",
    "ChannelMessageItem",
    "ContactAccess",
    "ContactErasure",
    "DataVersion",
    "EarlyWarning",
    "Enterprise",
    "IndicatorSnapshot",
    "Industry",
    "InputGroup",
    "Lead",
    "Notification",
    "NotificationChannel",
    "PlanTarget",
    "Promoter",
    "PromoterTarget",
    "Reminder",
    "ReminderDigest",
    "Reservation",
    "Signing",
    "StageChange",
    "StageLimit",
    "StoredResult",
    "Street",
    "StreetAssessmentSnapshot",
    "StreetTarget",
    "TaxRecord",
    "Tenancy",
    "TenancyUnit",
    "Unit",
    "UserScope",
    "WebhookDelivery",
    "WhitePaper",
]
