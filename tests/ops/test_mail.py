"""Mail settings from the environment: parsed strictly, refused at start when wrong, reported by
/readyz, and proven by `send_test_email` against a real SMTP conversation."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings

from config.mail import SMTP_BACKEND, mail_settings
from tests.ops.smtp_receiver import SMTPReceiver

ROOT = Path(__file__).resolve().parents[2]


def parsed(**environ: str) -> dict:
    return mail_settings(environ, default_backend=SMTP_BACKEND)


def prod_env(**extra: str) -> dict[str, str]:
    """Production's required variables with throw-away values; the host's EMAIL_* left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env.update(
        DJANGO_ENV="prod",
        SECRET_KEY="mail-test-secret-" + "x" * 40,
        ALLOWED_HOSTS="crm.example.org",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://u:p@127.0.0.1:5432/none"),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_an_office_smtp_server_with_starttls_and_a_login_is_read_from_the_environment():
    settings = parsed(
        EMAIL_HOST="smtp.example.org",
        EMAIL_USE_TLS="true",
        EMAIL_HOST_USER="crm@example.org",
        EMAIL_HOST_PASSWORD="s3cret",
        DEFAULT_FROM_EMAIL="区楼宇办 <crm@example.org>",
    )
    # then: 587 is STARTTLS's port when none is given; errors come from the same sender
    assert settings["EMAIL_HOST"] == "smtp.example.org"
    assert settings["EMAIL_PORT"] == 587
    assert (settings["EMAIL_USE_TLS"], settings["EMAIL_USE_SSL"]) == (True, False)
    assert (settings["EMAIL_HOST_USER"], settings["EMAIL_HOST_PASSWORD"]) == ("crm@example.org", "s3cret")
    assert settings["DEFAULT_FROM_EMAIL"] == "区楼宇办 <crm@example.org>"
    assert settings["SERVER_EMAIL"] == "区楼宇办 <crm@example.org>"
    assert settings["EMAIL_TIMEOUT"] == 10
    assert settings["MAIL_CONFIGURED"] is True


def test_ssl_defaults_to_port_465_and_an_explicit_port_wins():
    assert parsed(EMAIL_HOST="mail.gov.example", EMAIL_USE_SSL="1")["EMAIL_PORT"] == 465
    assert parsed(EMAIL_HOST="mail.gov.example", EMAIL_PORT="2525")["EMAIL_PORT"] == 2525
    assert parsed(EMAIL_HOST="10.1.2.3")["EMAIL_PORT"] == 25


def test_no_host_means_mail_is_not_configured_rather_than_localhost():
    settings = parsed()
    assert settings["EMAIL_HOST"] == ""
    assert settings["MAIL_CONFIGURED"] is False


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"EMAIL_PORT": "587/tcp"}, "EMAIL_PORT must be a whole number"),
        ({"EMAIL_PORT": "70000"}, "EMAIL_PORT must be between 1 and 65535"),
        ({"EMAIL_USE_TLS": "ture"}, "EMAIL_USE_TLS must be true or false"),
        ({"EMAIL_USE_TLS": "true", "EMAIL_USE_SSL": "true"}, "exclude each other"),
        ({"EMAIL_HOST": "smtp://smtp.example.org"}, "EMAIL_HOST must be a host name"),
        ({"EMAIL_HOST": "smtp.example.org:587"}, "EMAIL_HOST must be a host name"),
        ({"EMAIL_HOST_USER": "crm"}, "EMAIL_HOST_PASSWORD is missing"),
        ({"EMAIL_HOST_PASSWORD": "pw"}, "EMAIL_HOST_USER is missing"),
        ({"DEFAULT_FROM_EMAIL": "crm at example.org"}, "DEFAULT_FROM_EMAIL must be an e-mail address"),
        ({"SERVER_EMAIL": "root@"}, "SERVER_EMAIL must be an e-mail address"),
        ({"EMAIL_TIMEOUT": "0"}, "EMAIL_TIMEOUT must be between 1 and 600"),
    ],
)
def test_a_malformed_or_contradictory_value_is_refused_naming_the_variable(environ, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        parsed(**{"EMAIL_HOST": "smtp.example.org", **environ})


def test_production_refuses_to_start_with_tls_and_ssl_both_on():
    # when the production settings load with both on
    result = manage(
        "check", env=prod_env(EMAIL_HOST="smtp.example.org", EMAIL_USE_TLS="1", EMAIL_USE_SSL="1")
    )
    # then nothing starts, and the error says which variables
    assert result.returncode != 0
    assert "EMAIL_USE_TLS" in result.stderr and "exclude each other" in result.stderr


def test_production_names_every_missing_required_variable_at_once():
    env = prod_env()
    for name in ("SECRET_KEY", "REDIS_URL"):
        del env[name]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Production needs SECRET_KEY, REDIS_URL" in result.stderr


@override_settings(EMAIL_BACKEND=SMTP_BACKEND, EMAIL_HOST="", MAIL_CONFIGURED=False)
def test_readiness_reports_mail_not_configured_without_failing(client, monkeypatch):
    from ops import probes

    # given the other checks pass (they have their own tests)
    for name in ("database", "redis", "worker"):
        monkeypatch.setitem(probes.READINESS_CHECKS, name, lambda: probes.Check(probes.OK))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert json.loads(response.content)["checks"]["mail"] == {
        "status": "skipped",
        "detail": "EMAIL_HOST is not set: no mail is sent (reminders stay in-app, digests wait)",
    }


@override_settings(
    EMAIL_BACKEND=SMTP_BACKEND,
    EMAIL_HOST="smtp.example.org",
    EMAIL_PORT=465,
    EMAIL_USE_SSL=True,
    EMAIL_HOST_USER="crm@example.org",
    DEFAULT_FROM_EMAIL="crm@example.org",
    MAIL_CONFIGURED=True,
)
def test_readiness_says_where_mail_goes_without_the_password(client, monkeypatch):
    from ops import probes

    for name in ("database", "redis", "worker"):
        monkeypatch.setitem(probes.READINESS_CHECKS, name, lambda: probes.Check(probes.OK))
    check = json.loads(client.get("/readyz").content)["checks"]["mail"]
    assert check == {
        "status": "ok",
        "detail": "smtp.example.org:465, SSL, as crm@example.org, from crm@example.org",
    }


def test_send_test_email_sends_one_message_to_the_address():
    call_command("send_test_email", "officer@example.org")
    assert [m.to for m in mail.outbox] == [["officer@example.org"]]
    assert "test message" in mail.outbox[0].subject


def test_send_test_email_refuses_something_that_is_not_an_address():
    with pytest.raises(CommandError, match="not an e-mail address"):
        call_command("send_test_email", "officer")
    assert mail.outbox == []


def test_send_test_email_under_production_settings_reaches_the_smtp_server_named_in_the_environment():
    with SMTPReceiver() as receiver:
        # when the production settings point at the receiver
        env = prod_env(
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(receiver.port), DEFAULT_FROM_EMAIL="crm@district.example"
        )
        result = manage("send_test_email", "officer@example.org", env=env)
    # then the SMTP conversation carried the sender and recipient from the environment
    assert result.returncode == 0, result.stderr
    assert f"127.0.0.1:{receiver.port}, no TLS, no login, from crm@district.example" in result.stdout
    assert [(m.sender, m.recipients) for m in receiver.received] == [
        ("crm@district.example", ["officer@example.org"])
    ]


@override_settings(
    EMAIL_BACKEND=SMTP_BACKEND, EMAIL_HOST="127.0.0.1", EMAIL_PORT=9, EMAIL_TIMEOUT=2, MAIL_CONFIGURED=True
)
def test_send_test_email_reports_a_server_that_does_not_answer():
    # given nothing listens on port 9 (discard) of this machine
    with pytest.raises(CommandError, match="not sent: ConnectionRefusedError"):
        call_command("send_test_email", "officer@example.org", stdout=io.StringIO())
