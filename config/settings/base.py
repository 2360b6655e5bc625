"""Settings shared by every environment; everything variable comes from the environment."""

import datetime as dt
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django_guid.integrations import CeleryIntegration

from config.notify import PLATFORM_HOSTS, allowed_hosts, site_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="dev")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_celery_beat",
    "django_guid",
    "csp",
    "axes",
    "crm",
    "policies",
    "matching",
    "retention",
    "workers",
    "ops",
]

MIDDLEWARE = [
    # Load-balancer probes are answered first: no host check, HTTPS redirect, session or CSP (ops/probes.py).
    "ops.probes.HealthProbeMiddleware",
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "libraries": {"web": "crm.web.templatetags.web"},
        },
    },
]

# SQLite under var/ is the newcomer's default; every other environment sets DATABASE_URL.
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
else:
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# A connection reused across requests is tested first, so a restarted database costs no failed request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's database sessions, read by SQL compiled once per process (crm.sessions).
SESSION_ENGINE = "crm.sessions"
# django-axes watches every login (the pages' and the admin's) before the model backend checks it.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend's rules; a session's user is loaded with its role and scope in one query.
    "crm.auth_backends.ScopedUserBackend",
]
# Five wrong passwords for one username from one address lock that pair out for 15 minutes; a success
# clears the count. Locking by the pair, not the username alone, keeps a stranger from locking staff out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "ops.client_ip.client_ip"
# How many reverse proxies in front of the web process append to X-Forwarded-For (0: none, trust REMOTE_ADDR).
# The lockout, every API throttle and the logs read the client address by this (ops.client_ip).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Celery runs tasks in-process when no Redis is configured, so a newcomer needs no broker.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
# API throttle counters and import progress must be shared by every web and worker process. With
# Redis down the cache fails open (config/cache.py): pages and the API keep answering, unthrottled.
CACHES = {
    "default": (
        {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "crm"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# A page that finds a stored result never computed yet (crm.web.stored) computes it itself only
# where tasks run in-process; with workers it says "being computed" and queues it.
STORED_RESULTS_COMPUTE_MISSING = env.bool("STORED_RESULTS_COMPUTE_MISSING", default=CELERY_TASK_ALWAYS_EAGER)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TIMEZONE = TIME_ZONE
# The database schedule, sent only by the beat holding a Redis lock (workers/beat.py): a second beat
# waits, and takes over BEAT_LOCK_TTL seconds after the first died.
CELERY_BEAT_SCHEDULER = "workers.beat:LockedDatabaseScheduler"
BEAT_LOCK_TTL = env.int("BEAT_LOCK_TTL", default=30)
# With Redis down, a publish fails within a second (and is logged) instead of holding a request ~6 s.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_connect_timeout": 2,
}

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

REST_FRAMEWORK = {
    # The API key comes first: its challenge makes a request without credentials a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.AgencyAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "EXCEPTION_HANDLER": "crm.api.exceptions.api_exception_handler",
    # DRF's three, with a JSON body nested too deeply for Python answered as a 400 rather than a 500.
    "DEFAULT_PARSER_CLASSES": [
        "crm.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Our throttles read the address with ops.client_ip; DRF's own would agree through this.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env.str("API_KEY_RATE", default="600/min"),
        "api_user": env.str("API_USER_RATE", default="600/min"),
        "api_key_failure": env.str("API_KEY_FAILURE_RATE", default="10/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "District building-economy CRM API / 楼宇经济招商 API",
    "DESCRIPTION": "Agencies submit and follow leads; promoters and officers work through the same API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's Swagger UI is served from this app, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Content-Security-Policy (django-csp): scripts only from this site (htmx, Chart.js and app.js are
# vendored under static/), or inline with the request's nonce. Styles may be inline: meter widths are
# style="" attributes, and the white paper and Swagger UI carry their own <style>; none of that runs code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [SELF],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Every request gets an id (taken from a proxy's X-Request-ID if it is a valid one), returned in the
# X-Request-ID header, written on each log line and carried into the tasks the request queues.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "EXPOSE_HEADER": False,
    # use_django_logging: a worker logs with LOGGING below instead of Celery's own format.
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True)],
}

# JSON lines (one object per record) for a log collector in production, or when LOG_FORMAT=json;
# readable text on a developer's terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if DJANGO_ENV == "prod" else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId"},
        # A record's request is logged as method, path with secrets blanked, and client address.
        "redact_request": {"()": "ops.log_filters.RedactRequest"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(correlation_id)s %(message)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "correlation_id": "request_id",
            },
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "redact_request"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-guid logs each id it sets or passes on at INFO: noise next to the id on every line.
    "loggers": {"django_guid": {"level": "WARNING"}},
}

# Input limits (docs/api.md, docs/import-format.md). An API body over DATA_UPLOAD_MAX_MEMORY_SIZE (Django's
# 2.5 MB default) is a 413; a district import upload over IMPORT_MAX_UPLOAD_BYTES is refused on the form,
# and its archive (a .zip, or an .xlsx, which is one) is checked before it is unpacked.
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=500 * 1024 * 1024)
IMPORT_MAX_ARCHIVE_MEMBERS = env.int("IMPORT_MAX_ARCHIVE_MEMBERS", default=200)
IMPORT_MAX_COMPRESSION_RATIO = env.int("IMPORT_MAX_COMPRESSION_RATIO", default=100)

# /readyz fails when no worker has run the heartbeat task (sent every minute) for this many seconds.
READINESS_HEARTBEAT_MAX_AGE = env.int("READINESS_HEARTBEAT_MAX_AGE", default=180)

# District rules that an office may tune without a code change.
LEAD_PROTECTION_DAYS = env.int("LEAD_PROTECTION_DAYS", default=90)
# Contacts of a lead lost this many days ago are erased nightly (docs/privacy.md).
CONTACT_RETENTION_DAYS_AFTER_LOST = env.int("CONTACT_RETENTION_DAYS_AFTER_LOST", default=730)
NEAR_TIER_RATIO = env.float("NEAR_TIER_RATIO", default=0.2)

# Webhooks reach public addresses only (crm/services/webhook_hosts.py: SSRF); dev and test settings
# allow a receiver on this machine.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)

# Group robots (crm/services/channels.py) post only to these hosts, and pass the webhooks' address
# checks besides; dev and test settings add this machine for a local receiver.
NOTIFY_ALLOWED_HOSTS = allowed_hosts(env.list("NOTIFY_ALLOWED_HOSTS", default=list(PLATFORM_HOSTS)))
# The address the robots' messages link to (a lead's, a building's page).
SITE_URL = site_url(env.str("SITE_URL", default="http://127.0.0.1:8000"))
