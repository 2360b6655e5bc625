"""Notification channels: each person's choice (e-mail or a group robot) and street offices' robots;
the robots' outbox, from due notifications to one message per robot, claimed, sent once and marked.

The rules are the reminders' (crm/services/followups.py, docs/workers.md): everything due is found in
the database by the follow-up scan, a message is rendered once and claimed by a conditional UPDATE
before it is posted, a worker that dies leaves a claim that ages and is taken over, and a retry after
a timeout, a 5xx or the platform's "too frequent" answer waits a growing backoff. Each robot is held
to its platform's rate by a limiter shared in Redis. Robot URLs pass the agency webhooks' address
checks (crm/services/webhook_hosts.py) and must name a host in settings.NOTIFY_ALLOWED_HOSTS.
"""

import datetime as dt
import hashlib
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from crm.models import ChannelMessage, ChannelMessageItem, EarlyWarning, Notification, NotificationChannel
from crm.notifications import platforms
from crm.services.common import attribute_to, commit_without_waiting_for_disk, invalid
from crm.services.webhook_hosts import HostRefused, checked_opener, webhook_url_problem

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
# A message claimed longer ago than this belongs to a dead worker (one post takes at most the timeout;
# the task's hard time limit is 600 s): as for reminder digests.
CLAIM_LEASE = dt.timedelta(minutes=15)
REQUEUE_AFTER = dt.timedelta(minutes=10)
# One try and up to seven retries, the last about 30 minutes after the first.
MAX_ATTEMPTS = 8
CHANNEL_BATCH = 1000  # robots prepared per pass
PREPARE_BATCH = 2000  # notifications a robot's pass takes
DUE_BATCH = 5000
MAX_LINES = 30  # notifications in one message: a digest, not a wall of text
USER_AGENT = "district-crm-robots/1"

_opener = checked_opener()


class ChannelRetry(Exception):
    """Not sent now (the robot's rate, a timeout, a 5xx, "too frequent"): try again `seconds` from now."""

    def __init__(self, message_id: int, seconds: float, why: str):
        super().__init__(f"robot message {message_id}: {why}; again in {seconds:.0f} s")
        self.seconds = seconds


# ------------------------------------------------------------------ setting a channel up


def channel_url_problem(url: str) -> str | None:
    """Why a robot may not post to `url` ("中文 / English"), or None when it may."""
    problem = webhook_url_problem(url)
    if problem:
        return problem.replace("回调地址", "机器人地址")
    host = (urlsplit(url).hostname or "").lower()
    if host not in settings.NOTIFY_ALLOWED_HOSTS:
        return (
            f"机器人地址须为钉钉、企业微信或飞书的地址({host} 不在 NOTIFY_ALLOWED_HOSTS 中)/ the robot's "
            f"host must be DingTalk's, WeCom's or Feishu's ({host} is not in NOTIFY_ALLOWED_HOSTS)"
        )
    return None


@transaction.atomic
def channel_set(
    *,
    kind: str,
    url: str = "",
    secret: str | None = None,
    language: str = NotificationChannel.Language.CHINESE,
    active: bool = True,
    user=None,
    street=None,
    by=None,
) -> NotificationChannel:
    """Choose a person's channel (`user`) or set a street office's robot (`street`).

    `secret` None keeps the stored one (the forms never show it back); "" clears it. A robot's URL
    is checked as agencies' webhooks are, and must name a platform's host. A robot switched on again
    starts from now: it is not sent what came in while it was off.
    """
    if (user is None) == (street is None):
        raise invalid("user", "须指定账号或镇街之一 / give a user or a street, not both")
    now = timezone.now()
    existing = (
        NotificationChannel.objects.select_for_update()
        .filter(**({"user": user} if user is not None else {"street": street}))
        .order_by("pk")  # the model's ordering joins the nullable owners, which FOR UPDATE refuses
    )
    channel = existing.first() or NotificationChannel(user=user, street=street, since=now)
    url = url.strip()
    if kind == NotificationChannel.Kind.EMAIL:
        if street is not None:
            raise invalid("kind", "镇街的渠道须为群机器人 / a street's channel must be a group robot")
        url, secret = "", ""
    elif kind in platforms.ROBOTS:
        if not url:
            raise invalid("url", "请填写机器人的 Webhook 地址 / give the robot's webhook URL")
        problem = channel_url_problem(url)
        if problem:
            raise invalid("url", problem)
    else:
        raise invalid("kind", "未知的渠道 / not a known channel")
    if active and (not channel.active or channel.url != url or channel.kind != kind):
        channel.since = now
    channel.kind, channel.url, channel.language, channel.active = kind, url, language, active
    if secret is not None:
        channel.secret = secret.strip()
    channel.full_clean()
    attribute_to(channel, by)
    channel.save()
    return channel


@transaction.atomic
def channel_delete(*, channel: NotificationChannel, by=None) -> None:
    """Remove a channel with its outbox; its owner goes back to e-mail (a person) or to nothing (a street)."""
    attribute_to(channel, by)
    channel.delete()


def robot_user_ids(user_ids) -> set[int]:
    """Which of these users chose an active robot over e-mail (their reminders skip the mail)."""
    return set(
        NotificationChannel.objects.filter(user_id__in=list(user_ids), active=True)
        .exclude(kind=NotificationChannel.Kind.EMAIL)
        .values_list("user_id", flat=True)
    )


# ------------------------------------------------------------------ rendering


KIND_LABELS = {
    "zh-hans": {
        "reminder": "跟进提醒",
        "escalation": "逾期升级",
        "warning": "预警",
        "reservation": "预留到期",
    },
    "en": {
        "reminder": "Follow-up",
        "escalation": "Overdue",
        "warning": "Warning",
        "reservation": "Hold expiring",
    },
}
OPEN_LABEL = {"zh-hans": "查看", "en": "open"}


def _title(language: str, count: int, part: int, parts: int) -> str:
    suffix = f"({part}/{parts})" if parts > 1 else ""
    if language == "en":
        return f"District CRM: {count} notification{'s' if count != 1 else ''}{suffix}"
    return f"楼宇招商:{count} 条通知{suffix}"


def _escape(text: str) -> str:
    """Keep a company's name from being read as a link or emphasis by the platforms' markdown."""
    for character in "\\[]*_`":
        text = text.replace(character, "\\" + character)
    return text


def _line(note: dict, language: str, building_id: int | None) -> str:
    zh, en = platforms.split_bilingual(note["title"])
    text = _escape(en if language == "en" else zh)
    label = KIND_LABELS[language].get(note["kind"], note["kind"])
    line = f"- **{label}** {text}"
    if note["lead_id"]:
        line += f" [{OPEN_LABEL[language]}]({settings.SITE_URL}{reverse('web:lead', args=[note['lead_id']])})"
    elif building_id:
        line += f" [{OPEN_LABEL[language]}]({settings.SITE_URL}{reverse('web:building', args=[building_id])})"
    return line


def _recipients(channel: NotificationChannel) -> Q:
    """Whose notifications a robot carries: its person's, or everyone's who works in its street."""
    if channel.user_id is not None:
        return Q(user_id=channel.user_id)
    return Q(user__scope__street_id=channel.street_id) | Q(user__promoter__street_id=channel.street_id)


def _warning_buildings(notes: list[dict]) -> dict[tuple[int, str], int]:
    keys = [n["dedupe_key"].removeprefix("warning:") for n in notes if n["kind"] == Notification.Kind.WARNING]
    if not keys:
        return {}
    return {
        (assignee, key): building
        for assignee, key, building in EarlyWarning.objects.filter(dedupe_key__in=keys).values_list(
            "assignee_id", "dedupe_key", "building_id"
        )
    }


# ------------------------------------------------------------------ the outbox


def channel_messages_prepare(*, now: dt.datetime | None = None, limit: int = PREPARE_BATCH) -> list[int]:
    """Put each active robot's new notifications into messages (as few as its platform's size allows),
    rendered once; returns the new messages' ids.

    Each robot is prepared under its row lock (skipped if another preparation holds it), and a
    channel carries each notification's subject once (a unique constraint), however many run.
    """
    now = now or timezone.now()
    made: list[int] = []
    robots = list(
        NotificationChannel.objects.filter(active=True)
        .exclude(kind=NotificationChannel.Kind.EMAIL)
        .order_by("pk")
        .values_list("pk", flat=True)[:CHANNEL_BATCH]
    )
    for channel_id in robots:
        with transaction.atomic():
            channel = (
                NotificationChannel.objects.select_for_update(skip_locked=True)
                .filter(pk=channel_id, active=True)
                .order_by("pk")
                .first()
            )
            if channel is None:
                continue
            carried = ChannelMessageItem.objects.filter(
                channel_id=channel.pk, dedupe_key=OuterRef("dedupe_key")
            )
            notes = list(
                Notification.objects.filter(_recipients(channel), created_at__gte=channel.since)
                .filter(~Exists(carried))
                .order_by("created_at", "pk")
                .values("pk", "user_id", "kind", "title", "lead_id", "dedupe_key")[:limit]
            )
            unique: dict[str, dict] = {}
            for note in notes:
                unique.setdefault(note["dedupe_key"], note)
            if not unique:
                continue
            buildings = _warning_buildings(list(unique.values()))
            lines = [
                (
                    note,
                    _line(
                        note,
                        channel.language,
                        buildings.get((note["user_id"], note["dedupe_key"].removeprefix("warning:"))),
                    ),
                )
                for note in unique.values()
            ]
            text_chunks = platforms.pack_lines(
                [line for _, line in lines],
                max_bytes=platforms.MAX_MARKDOWN_BYTES[channel.kind],
                max_lines=MAX_LINES,
            )
            start = 0
            for part, chunk in enumerate(text_chunks, start=1):
                carried_notes = [note for note, _ in lines[start : start + len(chunk)]]
                start += len(chunk)
                message = ChannelMessage.objects.create(
                    channel=channel,
                    title=_title(channel.language, len(chunk), part, len(text_chunks)),
                    markdown="\n".join(chunk),
                    created_at=now,
                )
                ChannelMessageItem.objects.bulk_create(
                    ChannelMessageItem(
                        message=message,
                        channel=channel,
                        notification_id=note["pk"],
                        dedupe_key=note["dedupe_key"],
                    )
                    for note in carried_notes
                )
                made.append(message.pk)
    return made


def channel_messages_due(
    *,
    now: dt.datetime | None = None,
    lease: dt.timedelta = CLAIM_LEASE,
    requeue_after: dt.timedelta = REQUEUE_AFTER,
    limit: int = DUE_BATCH,
) -> list[int]:
    """Messages to (re-)enqueue: ready, due, and never enqueued or not consumed for a while, or claimed
    by a worker silent for longer than the lease. Stamps them enqueued now; returns their ids."""
    now = now or timezone.now()
    due_now = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    unconsumed = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - requeue_after)
    with transaction.atomic():
        ids = list(
            ChannelMessage.objects.filter(
                (Q(state=ChannelMessage.State.READY) & due_now & unconsumed)
                | Q(state=ChannelMessage.State.SENDING, claimed_at__lt=now - lease)
            )
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        ChannelMessage.objects.filter(pk__in=ids).update(enqueued_at=now)
    return ids


def robot_key(url: str) -> str:
    """The limiter's name for one robot: a hash of its URL (which holds its token; never stored plain)."""
    return "district_crm:robot-rate:" + hashlib.sha256(url.encode()).hexdigest()[:32]


# Sliding-window log in one sorted set per robot, atomic in Redis. ARGV: member, then (count, window
# ms) pairs. Returns 0 and records the send, or the milliseconds to wait (recording nothing).
_LIMIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local longest = 0
for i = 2, #ARGV, 2 do
  local count = tonumber(ARGV[i])
  local window = tonumber(ARGV[i + 1])
  if window > longest then longest = window end
  local inside = redis.call('ZCOUNT', KEYS[1], '(' .. (now - window), '+inf')
  if inside >= count then
    local row = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - window), '+inf',
                           'WITHSCORES', 'LIMIT', inside - count, 1)
    local w = tonumber(row[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
redis.call('ZADD', KEYS[1], now, ARGV[1] .. ':' .. now)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
redis.call('PEXPIRE', KEYS[1], longest)
return 0
"""

_local_sends: dict[str, list[int]] = {}
_local_lock = threading.Lock()


def robot_slot_take(url: str, kind: str) -> float:
    """Take one send from the robot's rate: 0 when it may post now, else the seconds to wait.

    Shared by every worker through Redis; without REDIS_URL (eager, in-process) a per-process log
    keeps the same rule (crm.notifications.platforms.wait_ms).
    """
    limits = platforms.RATE_LIMITS[kind]
    key = robot_key(url)
    if settings.REDIS_URL:
        from ops.heartbeat import redis_client

        args = [f"{time.monotonic_ns()}-{threading.get_ident()}"]
        for count, window in limits:
            args += [count, window]
        wait = int(redis_client(settings.REDIS_URL).eval(_LIMIT_SCRIPT, 1, key, *args))
        return wait / 1000
    with _local_lock:
        now = int(time.time() * 1000)
        sent = _local_sends.setdefault(key, [])
        wait = platforms.wait_ms(sent, now, limits)
        if wait:
            return wait / 1000
        sent.append(now)
        longest = max(window for _, window in limits)
        sent[:] = [t for t in sent if t > now - longest]
        return 0.0


@dataclass(frozen=True)
class Delivery:
    """One post's outcome: the platform's judgement and its raw answer (for the test command)."""

    answer: platforms.Answer
    status: int | None
    body: str


def robot_post(kind: str, request: platforms.Request) -> Delivery:
    """POST one built request; never raises for the network (HostRefused aside, before any byte)."""
    problem = channel_url_problem(request.url)  # DNS may answer differently now than at setting up
    if problem:
        raise HostRefused(problem)
    http_request = urllib.request.Request(
        request.url,
        data=request.body,
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
        method="POST",
    )
    try:
        with _opener.open(http_request, timeout=TIMEOUT_SECONDS) as response:
            status, body = response.status, response.read(64 * 1024)
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read(64 * 1024)
    except urllib.error.URLError as error:
        if isinstance(error.reason, HostRefused):
            raise error.reason from error
        text = f"{type(error.reason).__name__}: {error.reason}"
        return Delivery(platforms.read_answer(kind, None, b"", error=text), None, "")
    except (OSError, ValueError) as error:
        text = f"{type(error).__name__}: {error}"
        return Delivery(platforms.read_answer(kind, None, b"", error=text), None, "")
    return Delivery(platforms.read_answer(kind, status, body), status, body.decode("utf-8", "replace"))


def robot_send(*, kind: str, url: str, secret: str, title: str, markdown: str) -> Delivery:
    """Sign and post one message as its platform wants it: the workers' and the test command's path."""
    request = platforms.build_request(
        kind, url=url, secret=secret, title=title, markdown=markdown, now_ms=int(time.time() * 1000)
    )
    return robot_post(kind, request)


def channel_message_send(*, message_id: int, lease: dt.timedelta = CLAIM_LEASE) -> str | None:
    """Post one message unless another worker has it, it is not due, or it went out; its new state.

    Run outside any transaction: the claim is committed before the post. ChannelRetry when it must
    wait (the robot's rate, or a retryable failure: the claim is given back with the error and a
    backoff); a final failure (a wrong secret, a refused host) is recorded with the platform's code.
    """
    now = timezone.now()
    due_now = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimable = (Q(state=ChannelMessage.State.READY) & due_now) | Q(
        state=ChannelMessage.State.SENDING, claimed_at__lt=now - lease
    )
    message = ChannelMessage.objects.filter(claimable, pk=message_id).select_related("channel").first()
    if message is None:
        return None
    channel = message.channel
    if not channel.is_robot or not channel.active:
        # Switched off (or back to e-mail) after the message was prepared: it is not sent, and says why.
        ChannelMessage.objects.filter(claimable, pk=message_id).update(
            state=ChannelMessage.State.FAILED, last_error="渠道已停用 / the channel was switched off"
        )
        return ChannelMessage.State.FAILED
    wait = robot_slot_take(channel.url, channel.kind)
    if wait > 0:
        ChannelMessage.objects.filter(pk=message_id, state=ChannelMessage.State.READY).update(
            next_attempt_at=now + dt.timedelta(seconds=wait)
        )
        raise ChannelRetry(message_id, wait, "the robot's rate limit")
    with transaction.atomic():
        commit_without_waiting_for_disk()
        claimed = ChannelMessage.objects.filter(claimable, pk=message_id).update(
            state=ChannelMessage.State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    if not claimed:
        return None
    attempt = message.attempts + 1
    try:
        delivery = robot_send(
            kind=channel.kind,
            url=channel.url,
            secret=channel.secret,
            title=message.title,
            markdown=message.markdown,
        )
        answer = delivery.answer
    except HostRefused as refused:
        answer = platforms.Answer(False, None, str(refused), False)
    ours = ChannelMessage.objects.filter(pk=message_id, state=ChannelMessage.State.SENDING, claimed_at=now)
    if answer.ok:
        # As for mail: a death between the platform's acceptance and this commit resends the same text.
        with transaction.atomic():
            commit_without_waiting_for_disk()
            ours.update(
                state=ChannelMessage.State.SENT, sent_at=timezone.now(), error_code=None, last_error=""
            )
        return ChannelMessage.State.SENT
    error = answer.message[:500]
    if answer.retry and attempt < MAX_ATTEMPTS:
        seconds = platforms.backoff_seconds(attempt)
        if answer.code in platforms.RATE_LIMITED_CODES[channel.kind]:
            seconds = max(seconds, 60)  # DingTalk holds a robot back for minutes after 130101
        ours.update(
            state=ChannelMessage.State.READY,
            next_attempt_at=now + dt.timedelta(seconds=seconds),
            error_code=answer.code,
            last_error=error,
        )
        raise ChannelRetry(message_id, seconds, f"attempt {attempt}: {answer.code} {error}")
    ours.update(state=ChannelMessage.State.FAILED, error_code=answer.code, last_error=error)
    # The URL is a credential (its token): the log names the channel, never the address.
    logger.warning("robot message %s of channel %s failed: %s %s", message_id, channel.pk, answer.code, error)
    return ChannelMessage.State.FAILED


@dataclass(frozen=True)
class ChannelRun:
    """The robot messages one pass left to send."""

    message_ids: list[int]


def channel_messages_run(
    *,
    now: dt.datetime | None = None,
    lease: dt.timedelta = CLAIM_LEASE,
    requeue_after: dt.timedelta = REQUEUE_AFTER,
) -> ChannelRun:
    """After the follow-up scan: the robots' messages for what it (and the nightly jobs) notified."""
    now = now or timezone.now()
    channel_messages_prepare(now=now)
    return ChannelRun(channel_messages_due(now=now, lease=lease, requeue_after=requeue_after))
