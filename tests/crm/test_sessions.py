"""Sessions read by compiled SQL (crm.sessions) behave as Django's database sessions do."""

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from crm.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_stored_session_is_read_back_by_its_key():
    # given a session saved with a value
    stored = SessionStore()
    stored["seen"] = "楼宇"
    stored.create()

    # when another request reads it by the key in its cookie
    read = SessionStore(session_key=stored.session_key)

    # then it holds the value and keeps its key
    assert read["seen"] == "楼宇"
    assert read.session_key == stored.session_key


def test_an_expired_or_unknown_session_reads_as_empty_and_gets_a_new_key():
    # given a session that expired a second ago
    stored = SessionStore()
    stored["seen"] = "楼宇"
    stored.create()
    Session.objects.filter(pk=stored.session_key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))

    # when it, and a key never issued, are read
    expired = SessionStore(session_key=stored.session_key)
    unknown = SessionStore(session_key="x" * 32)

    # then both are empty and give up the key they were asked for, as Django's sessions do
    assert dict(expired.items()) == {} and expired.session_key is None
    assert dict(unknown.items()) == {} and unknown.session_key is None
