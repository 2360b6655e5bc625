# The README's commands. Everything installs into .venv from pyproject.toml's pinned versions.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install browser run test lint check check-deploy bench migrate demo clean

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
	ALLOWED_HOSTS=crm.example.org \
	DATABASE_URL=postgres://check:check@127.0.0.1:5432/check \
	REDIS_URL=redis://127.0.0.1:6379/0 \
	$(PY) manage.py check --deploy --fail-level WARNING

# Every benchmark (seeding the city database first if it is missing), then docs/benchmarks.md's table.
bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	DJANGO_ENV=test $(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
