"""docker-compose.yml, run without Docker: each Django service's own command, with the environment
compose would give it (.env through env_file, then `environment:`), against this machine's PostgreSQL
and Redis standing in for the `postgres` and `redis` services.

migrate migrates a fresh database and collects the static files; the web answers /healthz and
/readyz; a task sent to the broker is run by the worker; beat takes its Redis lock. A change to the
compose file that breaks one of these commands, or their environment, fails here.
"""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
import redis
import yaml
from celery import Celery

from ops.heartbeat import HEARTBEAT_KEY
from tests.processes import ProcessGroup
from workers.beat import LOCK_KEY

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
DJANGO_SERVICES = {"migrate", "web", "worker", "beat"}

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def operators_env_file() -> dict[str, str]:
    """.env as an installer writes it: .env.example with its required lines filled in."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line):
            values[match.group(1)] = match.group(2)
    required = {"SECRET_KEY": "compose-test-" + "k" * 50, "POSTGRES_PASSWORD": "compose-test-password"}
    assert {name for name, value in values.items() if not value} == set(required), "new required line?"
    return values | required


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, from the .env file."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if dotenv.get(name):
            return dotenv[name]
        if op == ":?":
            raise AssertionError(f"compose would stop: {name}: {arg}")
        return arg or ""

    return re.sub(r"\$\{([A-Z_]+)(?:(:[-?])([^}]*))?\}", one, value)


def service_env(
    service: dict, dotenv: dict[str, str], *, database_url: str, redis_url: str
) -> dict[str, str]:
    # env_file first, `environment:` over it, as compose does; then this machine's services for theirs.
    assert service["env_file"] == ".env"
    env = {
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    env |= dotenv
    env |= {name: interpolate(str(value), dotenv) for name, value in service["environment"].items()}
    assert urlparse(env["DATABASE_URL"]).hostname == "postgres"
    assert urlparse(env["REDIS_URL"]).hostname == "redis"
    return env | {"DATABASE_URL": database_url, "REDIS_URL": redis_url}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def nginx_binary() -> tuple[str, Path] | None:
    """nginx and its mime.types: installed, or unpacked under var/tools by `make check-proxy`."""
    if shutil.which("nginx") and Path("/etc/nginx/mime.types").exists():
        return "nginx", Path("/etc/nginx/mime.types")
    unpacked = ROOT / "var" / "tools" / "nginx"
    if (unpacked / "usr" / "sbin" / "nginx").exists():
        return str(unpacked / "usr" / "sbin" / "nginx"), unpacked / "etc" / "nginx" / "mime.types"
    return None


def start_proxy(tmp_path: Path, *, web_port: int, static_volume: Path) -> tuple[ProcessGroup, int, int, Path]:
    """deploy/nginx/nginx.conf as the proxy container runs it, with this machine's addresses for the
    compose network's: free local ports for 80 and 443, the web's port for web:8000, the volume's path."""
    found = nginx_binary()
    if found is None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("nginx is missing: run `make check-proxy` first (it unpacks Debian's nginx)")
        pytest.skip("nginx is missing: `make check-proxy` unpacks Debian's nginx")
    nginx, mime_types = found
    prefix = tmp_path / "nginx"
    (prefix / "certs").mkdir(parents=True)
    shutil.copy(mime_types, prefix / "mime.types")
    key, certificate = prefix / "certs" / "privkey.pem", prefix / "certs" / "fullchain.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=crm.example.org", "-keyout", key, "-out", certificate],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    http_port, https_port = free_port(), free_port()
    config = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    for container, here in {
        "listen 80 default_server;": f"listen 127.0.0.1:{http_port} default_server;",
        "listen 443 ssl default_server;": f"listen 127.0.0.1:{https_port} ssl default_server;",
        "set $gunicorn http://web:8000;": f"set $gunicorn http://127.0.0.1:{web_port};",
        "alias /srv/static/;": f"alias {static_volume}/;",
        "pid /tmp/nginx.pid;": f"pid {prefix}/nginx.pid;",
    }.items():
        assert container in config, f"the proxy config changed shape: {container!r} is gone"
        config = config.replace(container, here)
    (prefix / "nginx.conf").write_text(config)
    command = [
        nginx,
        "-p",
        f"{prefix}/",
        "-c",
        str(prefix / "nginx.conf"),
        "-e",
        "stderr",
        "-g",
        "daemon off;",
    ]
    proxy = ProcessGroup(command, env=dict(os.environ), log=tmp_path / "nginx.log")

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            return True
        except OSError:
            return False

    proxy.wait_ready(listening, timeout=20, what="nginx")
    return proxy, http_port, https_port, prefix / "certs" / "fullchain.pem"


def https_get(port: int, path: str, cafile: Path, headers: dict[str, str]) -> http.client.HTTPResponse:
    context = ssl.create_default_context(cafile=str(cafile))
    context.check_hostname = False  # the certificate names crm.example.org; we connect to 127.0.0.1
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_the_compose_file_has_one_published_service_the_proxy_and_every_django_service_reads_env():
    services = compose()["services"]
    django = {name for name, s in services.items() if s.get("image") == "district-crm:latest"}
    assert django == DJANGO_SERVICES
    assert {name for name, s in services.items() if s.get("ports")} == {"proxy"}
    for name in DJANGO_SERVICES:
        assert services[name]["env_file"] == ".env"
        assert services[name]["environment"]["TRUSTED_PROXY_COUNT"] == "1"
    assert services["backup"]["env_file"] == ".env"
    assert "./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]


@pytest.fixture
def fresh_services(tmp_path):
    """A new database beside this run's, and this run's Redis database without heartbeat or beat lock."""
    base = urlparse(os.environ["DATABASE_URL"])
    name = f"{base.path.lstrip('/')}_compose"
    admin = base._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    redis_url = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(redis_url)
    client.delete(HEARTBEAT_KEY, LOCK_KEY)
    yield base._replace(path=f"/{name}").geturl(), redis_url, client
    client.delete(HEARTBEAT_KEY, LOCK_KEY)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def static_volume():
    path = Path(tempfile.mkdtemp(prefix="crm-static-volume-"))
    path.chmod(0o755)  # pytest's own tmp_path is private to this user; nginx's workers run as another
    yield path
    shutil.rmtree(path)


def test_migrate_web_worker_and_beat_run_from_the_compose_file(fresh_services, static_volume, tmp_path):
    database_url, redis_url, client = fresh_services
    services, dotenv = compose()["services"], operators_env_file()

    def env(name: str) -> dict[str, str]:
        return service_env(services[name], dotenv, database_url=database_url, redis_url=redis_url)

    # given the image's static files (the Dockerfile collects them; uncompressed here, which is quicker)
    if not (ROOT / "staticfiles" / "web" / "app.js").exists():
        subprocess.run(
            [VENV_BIN / "python", "manage.py", "collectstatic", "--noinput", "--no-post-process"],
            cwd=ROOT,
            env=env("migrate"),
            check=True,
            capture_output=True,
            timeout=300,
        )
    # and the `static` volume as a directory of its own, readable by nginx's unprivileged workers
    volume_path = next(v.split(":")[1] for v in services["migrate"]["volumes"] if v.startswith("static:"))
    volume = static_volume
    command = [part.replace(volume_path, str(volume)) for part in services["migrate"]["command"]]

    # when migrate runs its command
    migrate = subprocess.run(
        command, cwd=ROOT, env=env("migrate"), capture_output=True, text=True, timeout=300
    )
    # then the schema is there, and the proxy's volume has the static files at the path nginx serves
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert "Applying crm.0001" in migrate.stdout
    assert (volume / "web" / "app.js").read_bytes() == (
        ROOT / "crm" / "static" / "web" / "app.js"
    ).read_bytes()
    assert "alias /srv/static/;" in (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    assert "static:/srv/static:ro" in services["proxy"]["volumes"]

    # when web, worker and beat start with theirs (the web on a free local port, one process)
    port = free_port()
    web_command = list(services["web"]["command"])
    web_command[web_command.index("--bind") + 1] = f"127.0.0.1:{port}"
    web_command[web_command.index("--workers") + 1] = "1"
    processes = {
        "web": ProcessGroup(web_command, env=env("web"), log=tmp_path / "web.log"),
        "worker": ProcessGroup(services["worker"]["command"], env=env("worker"), log=tmp_path / "worker.log"),
        "beat": ProcessGroup(services["beat"]["command"], env=env("beat"), log=tmp_path / "beat.log"),
    }
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return get(f"{base}/healthz")[0] == 200
            except OSError:
                return False

        processes["web"].wait_ready(answers, timeout=60, what="the web's /healthz")
        # then beat takes its lock
        processes["beat"].wait_ready(lambda: client.exists(LOCK_KEY), timeout=60, what="beat's lock")
        assert "beat took the lock" in processes["beat"].text()
        # and a heartbeat task sent through the broker is run by the worker
        sent_at = time.time()
        Celery(broker=redis_url).send_task("workers.tasks.worker_heartbeat")
        processes["worker"].wait_ready(
            lambda: (raw := client.get(HEARTBEAT_KEY)) is not None and float(raw) >= sent_at,
            timeout=60,
            what="the worker's heartbeat",
        )
        # so the web is ready: database, Redis and a worker; mail reported as not configured
        status, _, body = get(f"{base}/readyz")
        checks = json.loads(body)["checks"]
        assert status == 200, body
        assert {name: check["status"] for name, check in checks.items()} == {
            "database": "ok",
            "redis": "ok",
            "worker": "ok",
            "mail": "skipped",
        }
        # and HTTPS is what the proxy's X-Forwarded-Proto says: plain is redirected, proxied is served
        host = {"Host": dotenv["ALLOWED_HOSTS"].split(",")[0]}
        status, headers, _ = get(f"{base}/login/", host)
        assert (status, headers["Location"]) == (301, "https://crm.example.org/login/")
        status, headers, _ = get(f"{base}/login/", host | {"X-Forwarded-Proto": "https"})
        assert status == 200
        assert "Secure" in headers["Set-Cookie"]

        # when the proxy runs its config in front of this web, serving the `static` volume
        proxy, http_port, https_port, cafile = start_proxy(tmp_path, web_port=port, static_volume=volume)
        processes["proxy"] = proxy
        # then plain HTTP is only redirected to HTTPS, whatever the client claims
        status, headers, _ = get(
            f"http://127.0.0.1:{http_port}/login/", host | {"X-Forwarded-Proto": "https"}
        )
        assert (status, headers["Location"]) == (301, "https://crm.example.org/login/")
        # and over HTTPS a client's own X-Forwarded-Proto is replaced: the web sees https and serves
        page = https_get(https_port, "/login/", cafile, host | {"X-Forwarded-Proto": "http"})
        assert page.status == 200, page.body[:300]
        assert "Secure" in page.getheader("Set-Cookie")
        # and static files come from the volume, by nginx itself (its one-day cache, not whitenoise's)
        script = https_get(https_port, "/static/web/app.js", cafile, host)
        assert script.status == 200
        assert script.body == (ROOT / "crm" / "static" / "web" / "app.js").read_bytes()
        assert script.getheader("Cache-Control") == "max-age=86400"
        # and readiness answers through it
        assert https_get(https_port, "/readyz", cafile, host).status == 200
    finally:
        for process in processes.values():
            process.stop()
