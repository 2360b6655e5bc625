"""Warm a fresh web process before its first users reach it: the URL map (which imports every view,
and with them numpy and scikit-learn) and the matching arrays of the whole district.

Without this the first request each gunicorn process serves pays for both: about 2 s for the imports
and 7 s for the arrays at city scale, while other users queue behind it.
"""

import logging
import threading

log = logging.getLogger(__name__)


def warm() -> None:
    """Load what the first requests would; a failure is logged, never raised (the process still serves)."""
    from django.db import connections
    from django.urls import get_resolver

    try:
        get_resolver().url_patterns  # noqa: B018 — reading it imports every view module
        from matching.adapter import loaded

        loaded()
    except Exception:
        log.exception("warm-up failed; the first requests will load what they need")
    finally:
        # This runs in its own thread; its connection would otherwise stay open until the process ends.
        connections.close_all()


def warm_in_background() -> threading.Thread:
    """Start warming in a daemon thread, so the process answers (health probes, light pages) meanwhile."""
    thread = threading.Thread(target=warm, name="warm-up", daemon=True)
    thread.start()
    return thread
