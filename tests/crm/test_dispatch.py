"""Services ask for background work through crm.services.dispatch and never import workers."""

import ast
from pathlib import Path

import pytest

import crm.services
from crm.services import dispatch
from workers import enqueue

SERVICES = Path(crm.services.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_service_imports_the_workers_package():
    # given every module of crm.services
    files = sorted(SERVICES.rglob("*.py"))
    assert len(files) > 10

    # then none imports workers, however lazily
    offenders = {
        str(path.relative_to(SERVICES)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "workers"
        )
        for path in files
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_workers_registers_a_handler_for_every_event():
    # the app registered its handler at start, and it knows each event the services name
    assert set(enqueue.HANDLERS) == dispatch.EVENTS
    previous = dispatch.dispatcher_register(None)
    try:
        assert previous is enqueue.handle
    finally:
        dispatch.dispatcher_register(previous)


def test_an_event_reaches_the_registered_handler_with_its_payload():
    # given
    seen = []
    previous = dispatch.dispatcher_register(lambda event, **payload: seen.append((event, payload)))
    try:
        # when
        dispatch.dispatch(dispatch.SIGNING_COMPLETED, signing_id=7)
    finally:
        dispatch.dispatcher_register(previous)

    # then
    assert seen == [("signing_completed", {"signing_id": 7})]


def test_an_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown event"):
        dispatch.dispatch("lead_teleported", lead_id=1)


def test_without_a_handler_the_event_is_logged_and_dropped(caplog):
    previous = dispatch.dispatcher_register(None)
    try:
        dispatch.dispatch(dispatch.ACTIVITY_LOGGED, lead_id=3)
    finally:
        dispatch.dispatcher_register(previous)
    assert "left to the scheduled scans" in caplog.text
