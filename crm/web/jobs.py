"""District imports uploaded from the web page and run by a Celery worker, with their progress.

The upload and the job's state live in Redis when REDIS_URL is set, where the web processes and the
workers all reach them (they share no disk in docker-compose), and in this process's memory when
Celery runs eagerly (no Redis: the task runs inside the upload request). Both expire after a day:
a job is a transient thing; what it imported is in the database, and the report is shown to the
user who started it.
"""

import io
import json
import logging
import threading
import time
import uuid
from dataclasses import asdict

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError

from crm.district_io import FILES, DistrictImportError, district_import
from crm.district_io.reading import read_source
from workers.celery import app
from workers.enqueue import publish

logger = logging.getLogger(__name__)

TTL_SECONDS = 24 * 3600
KEY = "crm:import:{job}:{part}"

QUEUED, RUNNING, DONE, REJECTED, FAILED = "queued", "running", "done", "rejected", "failed"
FINISHED = frozenset({DONE, REJECTED, FAILED})


class _MemoryStore:
    """One process's jobs, for eager Celery (development and tests without Redis)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, bytes]] = {}

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._data.get(key)
            if found is None or found[0] < time.monotonic():
                self._data.pop(key, None)
                return None
            return found[1]

    def set(self, key: str, value: bytes, *, only_new: bool = False) -> bool:
        with self._lock:
            current = self._data.get(key)
            if only_new and current is not None and current[0] >= time.monotonic():
                return False
            self._data[key] = (time.monotonic() + TTL_SECONDS, value)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class _RedisStore:
    def __init__(self, url: str):
        import redis

        self._redis = redis.Redis.from_url(url)

    def get(self, key: str) -> bytes | None:
        return self._redis.get(key)

    def set(self, key: str, value: bytes, *, only_new: bool = False) -> bool:
        return bool(self._redis.set(key, value, ex=TTL_SECONDS, nx=only_new))

    def delete(self, key: str) -> None:
        self._redis.delete(key)


_memory = _MemoryStore()
_stores: dict[str, _RedisStore] = {}


def job_store():
    url = settings.REDIS_URL
    if not url:
        return _memory
    if url not in _stores:
        _stores[url] = _RedisStore(url)
    return _stores[url]


def _key(job_id: str, part: str) -> str:
    return KEY.format(job=job_id, part=part)


def job_state(job_id: str) -> dict | None:
    """The job's state: {state, progress (0-100), step, file, user_id, errors | counts | message}."""
    raw = job_store().get(_key(job_id, "state"))
    return json.loads(raw) if raw else None


def _save(job_id: str, state: dict) -> None:
    job_store().set(_key(job_id, "state"), json.dumps(state, ensure_ascii=False).encode())


def import_job_start(*, name: str, content: bytes, user_id: int) -> str:
    """Keep the upload, mark the job queued and send it to a worker; returns the job id."""
    job_id = uuid.uuid4().hex
    store = job_store()
    store.set(_key(job_id, "file"), content)
    state = {"state": QUEUED, "progress": 0, "step": "queued", "file": name, "user_id": user_id}
    _save(job_id, state)
    if not publish(district_import_job, job_id):
        message = "任务队列不可用,请稍后重试 / the job queue is down, try again later"
        state.update(state=FAILED, progress=100, step="failed", message=message)
        _save(job_id, state)
    return job_id


def import_job_run(*, job_id: str) -> str:
    """Run one uploaded import once: claim it, count its rows, import all or nothing, record the outcome.

    A redelivered message finds the claim taken and returns; the import itself is idempotent too.
    """
    store = job_store()
    state = job_state(job_id)
    if state is None or state["state"] != QUEUED:
        return state["state"] if state else "missing"
    if not store.set(_key(job_id, "claim"), b"1", only_new=True):
        return "claimed"
    content = store.get(_key(job_id, "file"))
    if content is None:
        message = "上传的文件已过期,请重新上传 / the upload expired, upload it again"
        state.update(state=FAILED, progress=100, step="failed", message=message)
        _save(job_id, state)
        return FAILED
    name = state["file"]
    state.update(state=RUNNING, progress=10, step="reading")
    _save(job_id, state)

    tables, _errors = read_source(_named(content, name), [spec.name for spec in FILES])
    rows = {table.file: sum(1 for _row in table.rows) for table in tables.values()}
    state.update(progress=40, step="checking", files=len(rows), rows=sum(rows.values()))
    _save(job_id, state)
    try:
        report = district_import(source=_named(content, name))
    except DistrictImportError as error:
        state.update(
            state=REJECTED,
            progress=100,
            step="rejected",
            errors=[asdict(e) for e in error.row_errors],
        )
    except (OperationalError, InterfaceError):
        # The database went away: let the task's retry run the job again from the top.
        store.delete(_key(job_id, "claim"))
        state.update(state=QUEUED, progress=0, step="queued")
        _save(job_id, state)
        raise
    except DatabaseError as error:
        logger.exception("district import job %s failed", job_id)
        state.update(state=FAILED, progress=100, step="failed", message=str(error)[:500])
    else:
        state.update(
            state=DONE,
            progress=100,
            step="done",
            counts=[
                {"file": file, "created": c.created, "updated": c.updated, "unchanged": c.unchanged}
                for file, c in report.counts.items()
            ],
            alongside=report.alongside,
        )
    _save(job_id, state)
    store.delete(_key(job_id, "file"))
    return state["state"]


def _named(content: bytes, name: str) -> io.BytesIO:
    # The reader tells a workbook from a zip by the name's suffix.
    source = io.BytesIO(content)
    source.name = name
    return source


@app.task(
    name="crm.web.jobs.district_import_job",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def district_import_job(job_id: str) -> str:
    """Thin task: run the uploaded import `job_id`."""
    return import_job_run(job_id=job_id)
