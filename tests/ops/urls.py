"""A test-only page that queues the heartbeat task on a given queue, behind the project's whole URL map."""

import logging

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from workers.tasks import worker_heartbeat

logger = logging.getLogger("tests.ops")


def queue_heartbeat(request):
    logger.info("queueing a heartbeat")
    worker_heartbeat.apply_async(queue=request.GET["queue"])
    logger.info("queued a heartbeat")
    return HttpResponse("queued")


urlpatterns = [path("test-queue-heartbeat/", queue_heartbeat), *project_urlpatterns]
