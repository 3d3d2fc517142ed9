# Two commands: `make run` sets everything up and serves the site; `make test` runs the suite.
# Everything else (lint, serve, lock, audit, backup) is listed by `make help`.
PORT ?= 8000
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MANAGE := $(PYTHON) manage.py
GUNICORN := $(VENV)/bin/gunicorn
# Test processes: pytest-xdist spreads the suite over the CPU cores (0 = no xdist).
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
# `make serve` without DJANGO_SECRET_KEY uses a secret generated once and kept here (untracked).
SECRET_FILE := .secret_key
# Emails (moderators' notices, unsubscribe links) link to SITE_URL: by default, where this serves.
SITE_URL_HERE := SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}"
SERVE_ENV := DJANGO_DEBUG=0 \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(SECRET_FILE))}" \
	DJANGO_ALLOWED_HOSTS="$${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}" \
	$(SITE_URL_HERE)

.PHONY: help run install setup test lint audit pytest serve bench lock backup clean

help:
	@echo "make run      set up (virtualenv, install, migrate, demo content and logins) and serve"
	@echo "              on http://127.0.0.1:\$$PORT (default 8000), e.g. make run PORT=8123"
	@echo "make setup    the set-up of make run, without serving"
	@echo "make install  the virtualenv and the pinned dependencies only"
	@echo "make test     lint + the whole test suite, browser tests included"
	@echo "make pytest   the test suite without lint (PYTEST_WORKERS, PYTEST_ARGS)"
	@echo "make lint     ruff, ruff format --check, manage.py check, makemigrations --check, audit"
	@echo "make audit    known vulnerabilities in requirements.lock (pip-audit, PyPI's advisories)"
	@echo "make serve    production server: gunicorn, DEBUG off, WhiteNoise compressed static files"
	@echo "make lock     regenerate requirements.lock from pyproject.toml"
	@echo "make backup   online backup of the SQLite database into backups/"
	@echo "make bench    the benchmark of docs/benchmarks.md (BENCH_ARGS)"
	@echo "make clean    remove the virtualenv and collected static files"

run: setup
	$(SITE_URL_HERE) $(MANAGE) runserver 127.0.0.1:$(PORT)

$(PYTHON):
	@interpreter=$$(sh scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$interpreter"; \
	"$$interpreter" -m venv $(VENV)

$(INSTALLED): $(PYTHON) requirements.lock
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.lock
	@touch $@

install: $(INSTALLED)

setup: install
	$(MANAGE) migrate --no-input
	$(MANAGE) seed_demo
	$(MANAGE) demo_accounts
	@echo
	@echo "Site: http://127.0.0.1:$(PORT)/   Admin: http://127.0.0.1:$(PORT)/admin/"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MANAGE) check --fail-level WARNING
	$(MANAGE) makemigrations --check --dry-run
	$(PYTHON) scripts/audit_deps.py

# AUDIT_INCOMPLETE=fail (CI) also fails on what could not be audited: see scripts/audit_deps.py.
audit: install
	$(PYTHON) scripts/audit_deps.py

pytest: install
	$(VENV)/bin/pytest --create-db $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS)) $(PYTEST_ARGS)

test: lint pytest

$(SECRET_FILE): | $(PYTHON)
	@umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@echo "Generated a secret key for make serve in $@ (not committed)."

# The production server on this machine. In a real deployment set DJANGO_SECRET_KEY,
# DJANGO_ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, DJANGO_SECURE_SSL (see the README).
# No control socket: gunicorn's default is one path per user, which a second gunicorn of
# that user takes over, and which stopping either of them deletes.
# With TASKS_BACKEND=django_tasks_db.DatabaseBackend the task worker runs beside gunicorn:
# it exits with an error when the database cannot be reached (a restart, a failover) and is
# started again 5 s later; stopped on purpose (exit status 0), it stays stopped. gunicorn
# and the worker's loop run in the background, and this shell stops both when it ends,
# however it ends (Ctrl-C, a TERM signal, gunicorn exiting), and waits for them: a process
# a non-interactive shell starts in the background ignores Ctrl-C, and the worker catches
# it only once Django has started. Once stopping, this shell and the loop ignore further stop
# signals (make passes its TERM on after systemd's): one arriving then cut their wait short,
# and they ended before the task worker. The worker lets its running task finish, whether it is
# told once or again by the loop's TERM (newsroom/management/commands/db_worker.py); a
# second Ctrl-C cuts the task short, and this shell keeps waiting for them meanwhile.
# Static files are collected over the previous ones, never cleared first: another app server
# started from this folder serves them meanwhile, and pages readers still have link them.
serve: install $(if $(DJANGO_SECRET_KEY),,$(SECRET_FILE))
	$(SERVE_ENV) $(MANAGE) collectstatic --no-input -v 0
	$(SERVE_ENV) $(MANAGE) migrate --no-input
	$(SERVE_ENV) $(MANAGE) refill_captcha_pool
	trap 'trap "" INT TERM; kill $$serving 2>/dev/null; until wait; do :; done' EXIT; \
	trap 'trap "" INT TERM; exit 130' INT; trap 'trap "" INT TERM; exit 143' TERM; \
	case "$${TASKS_BACKEND-}" in django_tasks_db.*) \
		( trap 'trap "" TERM; kill $$! 2>/dev/null; until wait; do :; done; exit' TERM; while :; do \
			$(SERVE_ENV) $(MANAGE) db_worker --no-reload & wait $$!; status=$$?; \
			[ $$status -eq 0 ] && break; \
			echo "The task worker stopped (exit status $$status); starting it again in 5 s." >&2; \
			sleep 5 & wait $$!; \
		done ) & serving=$$!;; \
	esac; \
	$(SERVE_ENV) $(GUNICORN) newsroom.wsgi --bind $${BIND:-127.0.0.1:$(PORT)} \
		--workers $${WEB_CONCURRENCY:-$$(( $$(nproc 2>/dev/null || echo 1) * 2 + 1 ))} \
		--max-requests 2000 --max-requests-jitter 200 --access-logfile - \
		--no-control-socket & serving="$$serving $$!"; wait $$!

# Benchmark (docs/benchmarks.md): its own database, gunicorn, wrk. E.g. BENCH_ARGS="--scale large".
BENCH_ARGS ?=
bench: install
	$(PYTHON) -m bench $(BENCH_ARGS)

# Regenerate requirements.lock from pyproject.toml in a throwaway virtualenv.
lock:
	rm -rf .lock-venv
	$$(sh scripts/find-python) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet ".[dev]"
	.lock-venv/bin/pip freeze --exclude newsroom > requirements.lock
	rm -rf .lock-venv

backup: install
	$(MANAGE) backup_sqlite

clean:
	rm -rf $(VENV) staticfiles
