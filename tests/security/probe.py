"""Send one hostile request, undo whatever it did, and say what went wrong with the answer if anything."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction

from tests.security.state import changed_tables, database_state


@dataclass
class Attempt:
    """What one request did: its response (None if the view raised), and the tables it changed."""

    label: str
    response: object | None
    changed: list[str] = field(default_factory=list)
    raised: BaseException | None = None


def attempt(label: str, send: Callable[[], object]) -> Attempt:
    """Run `send()` inside a savepoint rolled back afterwards, so that each attempt starts alike."""
    cache.clear()  # no throttle counts across hundreds of attempts
    with transaction.atomic():
        before = database_state()
        try:
            response, raised = send(), None
        except Exception as exc:  # a view that raised: the catalogue reports it with the others
            response, raised = None, exc
        after = database_state()
        transaction.set_rollback(True)
    return Attempt(label, response, changed_tables(before, after), raised)


def send_json(client, method: str, url: str, payload, **extra):
    """The payload as a client would send it: JSON with every non-ASCII character escaped, so that
    even a lone surrogate ("\\ud800") travels as valid UTF-8 and only the server meets it."""
    body = json.dumps(payload, ensure_ascii=True)
    return client.generic(method.upper(), url, body, content_type="application/json", **extra)


def _error_at(body, path: str):
    for part in path.split("."):
        if not isinstance(body, dict) or part not in body:
            return None
        body = body[part]
    return body


def api_problem(result: Attempt, field_path: str) -> str | None:
    """Why this is not a clean API refusal: a 400 with {"field": ["message"]} that wrote nothing."""
    if result.raised is not None:
        return f"{result.label}: raised {result.raised!r}"
    response = result.response
    if response.status_code != 400:
        return f"{result.label}: status {response.status_code} {response.content[:300]!r}"
    # The policy engine names an offer's field by itself ({"area_m2": [...]}), not under "offer".
    messages = _error_at(response.json(), field_path) or _error_at(response.json(), field_path.split(".")[-1])
    if not (isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)):
        return f"{result.label}: no message list at {field_path!r}: {response.json()}"
    if result.changed:
        return f"{result.label}: refused but wrote to {result.changed}"
    return None


def page_problem(result: Attempt, field_name: str, *, form_key: str = "form") -> str | None:
    """Why this is not a clean page refusal: the form shown again with an error on the field, no write."""
    if result.raised is not None:
        return f"{result.label}: raised {result.raised!r}"
    response = result.response
    if response.status_code not in (200, 400):
        return f"{result.label}: status {response.status_code}"
    form = (response.context or {}).get(form_key)
    if form is None or field_name not in form.errors:
        errors = None if form is None else dict(form.errors)
        return f"{result.label}: no error on {field_name!r}: {errors}"
    if result.changed:
        return f"{result.label}: refused but wrote to {result.changed}"
    return None


def report(problems: list[str | None]) -> str:
    found = [p for p in problems if p]
    return f"{len(found)} hostile inputs not refused cleanly:\n" + "\n".join(found[:40])
