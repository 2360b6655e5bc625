"""Logins' sessions, stored in the database exactly as django.contrib.sessions.backends.db stores them."""

import functools

from django.contrib.sessions.backends import db
from django.utils import timezone

from crm.selectors.compiled import SLOT, Compiled


@functools.cache
def _session_query(model) -> Compiled:
    return Compiled.of(model.objects.filter(session_key=SLOT))


class SessionStore(db.SessionStore):
    """Django's database sessions, except that reading one by its key runs SQL compiled once per
    process (crm.selectors.compiled): every page and API call of a logged-in user reads one."""

    def _get_session_from_db(self):
        found = _session_query(self.model).instances(self.model, self.session_key)
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None  # as Django's: an unknown or expired key starts a new session
        return None
