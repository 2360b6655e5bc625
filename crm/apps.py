from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "楼宇招商 · CRM"

    def ready(self) -> None:
        from crm.roles import roles_sync_permissions

        # Permissions exist only after post_migrate, so the role groups are filled in then.
        post_migrate.connect(roles_sync_permissions, sender=self)
