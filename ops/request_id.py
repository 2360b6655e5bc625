"""Request ids in tasks: the base class of every Celery task of the project.

django-guid gives each request an id (X-Request-ID) and its Celery integration sends it along with
every task message, so a worker logs the task under the id of the request that queued it. In eager
mode (no REDIS_URL) the task runs inside the request instead, where the integration would give it a
fresh id before it runs and clear the request's id after it; this class keeps the request's id for both.
"""

from contextvars import ContextVar

from celery import Task
from django_guid import get_guid, set_guid
from django_guid.context import guid as guid_var

# The id of the request (or task) that is running an eager task, for the duration of that task.
_sender_id: ContextVar[str | None] = ContextVar("ops_eager_sender_id", default=None)


class RequestIdTask(Task):
    """A task that runs eagerly under the id of whoever ran it, and gives that id back afterwards."""

    def apply(self, *args, **kwargs):
        sender_id = get_guid()
        token = _sender_id.set(sender_id)
        try:
            return super().apply(*args, **kwargs)
        finally:
            _sender_id.reset(token)
            # django-guid's task_postrun handler cleared the id; the request goes on under it.
            guid_var.set(sender_id)

    def __call__(self, *args, **kwargs):
        # Runs after every task_prerun handler, django-guid's included, which set a new id.
        sender_id = _sender_id.get()
        if sender_id and self.request.is_eager:
            set_guid(sender_id)
        return super().__call__(*args, **kwargs)
