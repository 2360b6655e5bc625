"""The matching app: its cache listens for writes to the tables its arrays are built from."""

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = "楼宇匹配 · Matching"

    def ready(self) -> None:
        # Cache bookkeeping only (no domain logic): a write seen here invalidates the ranking cache.
        from matching.adapter import PARTS, note_write

        for models in PARTS.values():
            for model in models:
                uid = f"matching-cache-{model._meta.label_lower}"
                post_save.connect(note_write, sender=model, dispatch_uid=f"{uid}-save")
                post_delete.connect(note_write, sender=model, dispatch_uid=f"{uid}-delete")
                m2m_changed.connect(note_write, sender=model, dispatch_uid=f"{uid}-m2m")
