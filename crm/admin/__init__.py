"""The district office's admin: every CRM table, rows scoped by crm.selectors.scope, writes via services."""

from crm.admin import buildings, enterprises, leads, people, privacy, reference  # noqa: F401 - registers the admins
from crm.admin import channels as channel_admins  # noqa: F401 - notification channels, robot outbox
from crm.admin import webhooks as webhook_admins  # noqa: F401 - agencies' webhooks, delivery log
from crm.api import admin as api_keys  # noqa: F401 - the agencies' API keys
