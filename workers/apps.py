from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    verbose_name = "后台任务 · Workers"

    def ready(self) -> None:
        # The services ask for background work through this one seam and never import workers.
        from crm.services.dispatch import dispatcher_register
        from workers.enqueue import handle

        dispatcher_register(handle)
