"""Service calls made from a separate process (a web process, as it were), for the reliability tests.

`python -m tests.workers.service_calls COMMAND JSON` runs with the environment it is given (its own
DATABASE_URL and REDIS_URL) and prints one JSON line with what it did.
"""

import datetime as dt
import json
import sys
import time


class Rollback(Exception):
    """Raised inside a transaction to roll it back."""


def log_due_work(owner_id: int, count: int) -> dict:
    """Register `count` leads and log a call on each whose next follow-up was yesterday."""
    from django.utils import timezone

    from crm.constants import ActivityKind, LeadChannel
    from crm.models import Promoter
    from crm.services.activities import activity_log
    from crm.services.leads import lead_create

    owner = Promoter.objects.get(pk=owner_id)
    now = timezone.now()
    started = time.monotonic()
    ids = []
    for n in range(count):
        lead = lead_create(
            company_name=f"断网登记企业{n}有限公司",
            channel=LeadChannel.DEPARTMENT,
            owner=owner,
            created_at=now - dt.timedelta(days=5),
        )
        activity_log(
            lead=lead,
            kind=ActivityKind.CALL,
            occurred_at=now - dt.timedelta(days=4),
            next_follow_up_at=now - dt.timedelta(days=1),
        )
        ids.append(lead.pk)
    return {"leads": ids, "seconds": round(time.monotonic() - started, 3)}


def rollback_then_commit(lead_id: int, other_lead_id: int) -> dict:
    """Log an activity in a transaction that rolls back, then one that commits."""
    from django.db import transaction
    from django.utils import timezone

    from crm.constants import ActivityKind
    from crm.models import Activity, Lead
    from crm.services.activities import activity_log

    now = timezone.now()
    try:
        with transaction.atomic():
            activity_log(lead=Lead.objects.get(pk=lead_id), kind=ActivityKind.CALL, occurred_at=now)
            raise Rollback
    except Rollback:
        pass
    activity_log(lead=Lead.objects.get(pk=other_lead_id), kind=ActivityKind.CALL, occurred_at=now)
    return {"activities": Activity.objects.count()}


COMMANDS = {"log_due_work": log_due_work, "rollback_then_commit": rollback_then_commit}

if __name__ == "__main__":
    import django

    django.setup()
    command, arguments = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(COMMANDS[command](**arguments)), flush=True)
