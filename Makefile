# The README's commands. Everything installs into .venv from pyproject.toml's pinned versions.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install browser run test lint check check-deploy check-proxy bench migrate demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

# Serve the demo district; the first run generates it, later runs reuse it.
run: migrate
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py demo_login --url http://$(HOST):$(PORT)/
	$(PY) manage.py runserver $(HOST):$(PORT)

# Browser tests drive Debian's Chromium (Playwright's own browser download is not reachable here);
# the white paper's PDF (WeasyPrint) needs Pango; CJK fonts make Chinese render in both.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
		libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null; } || \
		echo "chromium is missing and could not be installed: browser tests will skip (or fail under REQUIRE_SERVICES=1)"

test: install browser
	DJANGO_ENV=test $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_ENV=test $(VENV)/bin/mypy

check: install
	DJANGO_ENV=test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_ENV=test $(PY) manage.py check

# Production settings under Django's deployment checklist, with throw-away values for the variables
# production requires (a fresh random SECRET_KEY each run; nothing here is a real secret).
check-deploy: install
	DJANGO_ENV=prod LOG_LEVEL=WARNING \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	ALLOWED_HOSTS=crm.example.org TRUSTED_PROXY_COUNT=1 \
	DATABASE_URL=postgres://check:check@127.0.0.1:5432/check \
	REDIS_URL=redis://127.0.0.1:6379/0 \
	$(PY) manage.py check --deploy --fail-level WARNING

# The proxy's config under nginx's own validator. nginx comes from Debian's packages, unpacked under
# var/ (no service is installed or started on this machine); an nginx already on PATH is used as is.
NGINX_ROOT := var/tools/nginx
check-proxy:
	@if command -v nginx >/dev/null 2>&1; then deploy/nginx/check.sh nginx /etc/nginx/mime.types; else \
		test -x $(NGINX_ROOT)/usr/sbin/nginx || { mkdir -p $(NGINX_ROOT)/debs && \
			(cd $(NGINX_ROOT)/debs && apt-get download -q nginx nginx-common) && \
			for deb in $(NGINX_ROOT)/debs/*.deb; do dpkg-deb -x "$$deb" $(NGINX_ROOT); done; }; \
		deploy/nginx/check.sh $(NGINX_ROOT)/usr/sbin/nginx $(NGINX_ROOT)/etc/nginx/mime.types; fi

# Every benchmark (seeding the city database first if it is missing), then docs/benchmarks.md's table.
bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	DJANGO_ENV=test $(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
