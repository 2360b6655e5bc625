from django.apps import AppConfig, apps
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "楼宇招商 · CRM"

    def ready(self) -> None:
        from crm.roles import roles_sync_permissions

        # Permissions exist only after post_migrate, so the role groups are filled in then.
        post_migrate.connect(roles_sync_permissions, sender=self)

        # Scheduling only (no domain logic): a write to what stored results are computed from
        # queues their recomputation after it commits (crm.data_versions).
        from crm.data_versions import WATCHED, note_input_write

        for label in WATCHED:
            model = apps.get_model(label)
            uid = f"stored-results-{model._meta.label_lower}"
            post_save.connect(note_input_write, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(note_input_write, sender=model, dispatch_uid=f"{uid}-delete")
            m2m_changed.connect(note_input_write, sender=model, dispatch_uid=f"{uid}-m2m")
