"""Leads' contact persons under PIPL: recording who saw them, erasing them on request or when expired.

docs/privacy.md says what is stored and why; this module is the only writer of ContactAccess and
ContactErasure, and the only code that removes contact data once it is stored.
"""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.constants import LeadStage
from crm.models import Activity, ContactAccess, ContactErasure, Lead, StageChange
from crm.models.privacy import AccessWay, ErasureReason
from crm.services.common import invalid, lock_rows

# A lead "has contact data" when either field is filled; an empty contact shows nothing personal.
HAS_CONTACT = ~Q(contact_name="") | ~Q(contact_phone="")
ERASED = "[已删除/erased]"
# A one-character name would match too much free text to be replaced safely; phones need 7 digits.
MIN_NAME_CHARS = 2
MIN_PHONE_DIGITS = 7
RETENTION_BATCH = 500
RETENTION_MAX_BATCHES = 200


def _history_model():
    return Lead.history.model


# ---------------------------------------------------------------------------- access log


def contact_access_record(
    *, user, how: AccessWay | str, leads: QuerySet | Iterable[Lead | Mapping], note: str = "", at=None
) -> int:
    """Record that `user` saw (or exported) the contact data of `leads`; leads without any are skipped.

    `leads` is a queryset, recorded with one INSERT ... SELECT (an export of every lead costs one
    query), or loaded leads or rows (mappings with id, contact_name, contact_phone), recorded with one
    multi-row INSERT. Returns how many rows were written.
    """
    at = at or timezone.now()
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    if isinstance(leads, QuerySet):
        return _record_queryset(user_id=user_id, how=str(how), leads=leads, note=note, at=at)
    ids = [lead_id for lead_id in map(_shown_contact, leads) if lead_id is not None]
    if ids:
        _record_ids(user_id=user_id, how=str(how), lead_ids=ids, note=note, at=at)
    return len(ids)


def _shown_contact(lead: Lead | Mapping) -> int | None:
    """The id of a lead (loaded, or a row) whose contact person is filled in, else None."""
    if isinstance(lead, Mapping):
        return lead["id"] if lead["contact_name"] or lead["contact_phone"] else None
    return lead.pk if lead.contact_name or lead.contact_phone else None


def _insert_access() -> str:
    """INSERT INTO the access log's table and columns: the head of both ways of recording below."""
    quote = connection.ops.quote_name
    columns = ("lead_id", "user_id", "how", "at", "note")
    return f"INSERT INTO {quote(ContactAccess._meta.db_table)} ({', '.join(map(quote, columns))})"


def _record_ids(*, user_id: int | None, how: str, lead_ids: list[int], note: str, at) -> None:
    # Written as SQL: on the API's reads this INSERT comes with every answer, and bulk_create's
    # building of it cost as much as the database's running it.
    shared = [user_id, how, connection.ops.adapt_datetimefield_value(at), note]
    if connection.vendor == "postgresql":
        # The ids as one array: a page of 50 is parsed and bound in half the time of 250 values.
        sql = f"{_insert_access()} SELECT unnest(%s::bigint[]), %s, %s, %s, %s"
        params = [lead_ids, *shared]
    else:
        sql = f"{_insert_access()} VALUES " + ", ".join(["(%s, %s, %s, %s, %s)"] * len(lead_ids))
        params = [value for lead_id in lead_ids for value in (lead_id, *shared)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _record_queryset(*, user_id: int | None, how: str, leads: QuerySet, note: str, at) -> int:
    # values_list("id"): the subquery's column is then named "id", which the outer SELECT reads.
    chosen = (
        Lead.objects.filter(HAS_CONTACT, pk__in=leads.values("pk")).order_by().values_list("id", flat=True)
    )
    select_sql, select_params = chosen.query.sql_with_params()
    sql = f"{_insert_access()} SELECT chosen.id, %s, %s, %s, %s FROM ({select_sql}) chosen"
    params = [user_id, how, connection.ops.adapt_datetimefield_value(at), note, *select_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


# ---------------------------------------------------------------------------- erasure


@dataclass
class ErasureOutcome:
    """What one erasure did: the leads whose contact data was removed, and those that had none left."""

    erased: list[int] = field(default_factory=list)
    already_clear: list[int] = field(default_factory=list)
    history_rows: int = 0
    texts_scrubbed: int = 0


def _phone_pattern(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    # The same digits however they were typed into a note: 138-1234-5678, 138 1234 5678.
    return r"(?<!\d)" + r"[\s\-()]*".join(digits) + r"(?!\d)"


def _patterns(values: Iterable[tuple[str, str]]) -> tuple[re.Pattern | None, list[str]]:
    """A regex matching any of these (name, phone) pairs in free text, and plain strings to pre-filter by."""
    parts, needles = set(), set()
    for name, phone in values:
        name = (name or "").strip()
        if len(name) >= MIN_NAME_CHARS:
            parts.add(re.escape(name))
            needles.add(name)
        pattern = _phone_pattern(phone or "")
        if pattern:
            parts.add(pattern)
            needles.add(re.sub(r"\D", "", phone)[-4:])
    if not parts:
        return None, []
    return re.compile("|".join(sorted(parts, key=len, reverse=True))), sorted(needles)


def _scrub_texts(model, lead_field: str, text_field: str, patterns: dict[int, tuple]) -> dict[int, int]:
    """Replace the contact's name and phone in one free-text column; the rows changed, by lead."""
    changed: dict[int, int] = defaultdict(int)
    needles = {needle for _pattern, lead_needles in patterns.values() for needle in lead_needles}
    if not needles:
        return changed
    maybe = Q()
    for needle in needles:
        maybe |= Q(**{f"{text_field}__contains": needle})
    rows = list(model.objects.filter(maybe, **{f"{lead_field}__in": list(patterns)}))
    dirty = []
    for row in rows:
        lead_id = getattr(row, lead_field)
        pattern = patterns[lead_id][0]
        text = getattr(row, text_field)
        scrubbed = pattern.sub(ERASED, text) if pattern else text
        if scrubbed != text:
            setattr(row, text_field, scrubbed)
            dirty.append(row)
            changed[lead_id] += 1
    if dirty:
        model.objects.bulk_update(dirty, [text_field], batch_size=500)
    return changed


@transaction.atomic
def contact_erase(
    *,
    lead_ids: Iterable[int],
    by=None,
    reason: ErasureReason | str = ErasureReason.REQUEST,
    note: str = "",
    at: dt.datetime | None = None,
) -> ErasureOutcome:
    """Remove the contact person of these leads everywhere it is stored, keeping the business facts.

    The lead's name, phone and lawful basis; the same columns in its audit history (the basis stays
    there as the record of why it was held); the name and phone wherever they were typed into an
    activity's notes, a stage change's reason or the lost reason. One ContactErasure row per lead that
    had anything to remove says who and when. Running it again changes and records nothing.
    """
    ids = sorted({int(pk) for pk in lead_ids})
    if not ids:
        raise invalid("lead", "请指定线索 / name at least one lead")
    leads = lock_rows(Lead, ids)
    missing = sorted(set(ids) - {lead.pk for lead in leads})
    if missing:
        listed = ", ".join(str(pk) for pk in missing)
        raise invalid("lead", f"没有编号为 {listed} 的线索 / no lead with id {listed}")
    at = at or timezone.now()
    history = _history_model()

    # Every value the contact ever had, from the lead and its history: notes may quote an old one.
    known: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for lead in leads:
        known[lead.pk].add((lead.contact_name, lead.contact_phone))
    for lead_id, name, phone in (
        history.objects.filter(HAS_CONTACT, id__in=ids)
        .values_list("id", "contact_name", "contact_phone")
        .distinct()
    ):
        known[lead_id].add((name, phone))
    patterns = {lead_id: _patterns(values) for lead_id, values in known.items()}

    live = {lead.pk for lead in leads if lead.contact_name or lead.contact_phone or lead.lawful_basis}
    Lead.objects.filter(pk__in=live).update(
        contact_name="",
        contact_phone="",
        lawful_basis="",
        lawful_basis_recorded_at=None,
        # A form or API client still holding the old version cannot write the contact back.
        version=F("version") + 1,
        updated_at=at,
    )
    history_counts: dict[int, int] = defaultdict(int)
    for lead_id in history.objects.filter(HAS_CONTACT, id__in=ids).values_list("id", flat=True):
        history_counts[lead_id] += 1
    history.objects.filter(HAS_CONTACT, id__in=ids).update(contact_name="", contact_phone="")

    texts: dict[int, int] = defaultdict(int)
    for model, lead_field, text_field in (
        (Activity, "lead_id", "notes"),
        (StageChange, "lead_id", "reason"),
        (Lead, "id", "lost_reason"),
        (history, "id", "lost_reason"),
    ):
        for lead_id, count in _scrub_texts(model, lead_field, text_field, patterns).items():
            texts[lead_id] += count

    outcome = ErasureOutcome()
    records = []
    for lead_id in ids:
        if lead_id in live or history_counts[lead_id] or texts[lead_id]:
            outcome.erased.append(lead_id)
            records.append(
                ContactErasure(
                    lead_id=lead_id,
                    erased_by=by if getattr(by, "is_authenticated", False) else None,
                    erased_at=at,
                    reason=reason,
                    note=note,
                    history_rows=history_counts[lead_id],
                    texts_scrubbed=texts[lead_id],
                )
            )
        else:
            outcome.already_clear.append(lead_id)
    ContactErasure.objects.bulk_create(records)
    outcome.history_rows = sum(history_counts.values())
    outcome.texts_scrubbed = sum(texts.values())
    return outcome


# ---------------------------------------------------------------------------- retention


def retention_days() -> int:
    days = settings.CONTACT_RETENTION_DAYS_AFTER_LOST
    if not isinstance(days, int) or days < 1:
        raise ImproperlyConfigured(
            f"CONTACT_RETENTION_DAYS_AFTER_LOST must be a positive integer, not {days!r}"
        )
    return days


def leads_with_expired_contacts(*, now: dt.datetime | None = None) -> QuerySet:
    """Lost leads whose loss is older than the retention period and that still hold contact data.

    A lead was lost at its latest stage change to "lost"; one imported as lost (no such change) at
    its last activity.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    in_history = _history_model().objects.filter(HAS_CONTACT, id=OuterRef("pk"))
    return (
        Lead.objects.filter(stage=LeadStage.LOST)
        .annotate(
            lost_at=Coalesce(
                Max("stage_changes__changed_at", filter=Q(stage_changes__to_stage=LeadStage.LOST)),
                "last_activity_at",
            )
        )
        .filter(lost_at__lt=cutoff)
        .filter(HAS_CONTACT | ~Q(lawful_basis="") | Exists(in_history))
    )


def contacts_expired_erase(*, now: dt.datetime | None = None, batch: int = RETENTION_BATCH) -> int:
    """The nightly retention rule: erase the contacts of leads lost longer ago than the setting allows.

    Works in batches, each its own transaction, so that a large first run neither holds locks long
    nor loses what it did if stopped; erased leads leave the candidate set, so a rerun resumes.
    Returns how many leads were erased.
    """
    now = now or timezone.now()
    erased = 0
    for _ in range(RETENTION_MAX_BATCHES):
        ids = list(leads_with_expired_contacts(now=now).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        outcome = contact_erase(lead_ids=ids, reason=ErasureReason.RETENTION, at=now)
        erased += len(outcome.erased)
        if len(ids) < batch:
            break
    return erased
