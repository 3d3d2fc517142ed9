# Two commands: `make run` sets everything up and serves the site; `make test` runs the suite.
PORT ?= 8000
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MANAGE := $(PYTHON) manage.py
PYTEST_ARGS ?=

.PHONY: run install setup test lint pytest serve lock clean

run: setup
	$(MANAGE) runserver 127.0.0.1:$(PORT)

$(PYTHON):
	@interpreter=$$(sh scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$interpreter"; \
	"$$interpreter" -m venv $(VENV)

$(INSTALLED): $(PYTHON) requirements.lock pyproject.toml
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

pytest: install
	$(VENV)/bin/pytest --create-db $(PYTEST_ARGS)

test: lint pytest

serve: install
	DJANGO_DEBUG=0 $(MANAGE) collectstatic --no-input --clear -v 0
	DJANGO_DEBUG=0 $(MANAGE) migrate --no-input
	DJANGO_DEBUG=0 $(VENV)/bin/gunicorn newsroom.wsgi --bind 127.0.0.1:$(PORT) \
		--workers $${WEB_CONCURRENCY:-$$(( $$(nproc) * 2 + 1 ))} --access-logfile -

# Regenerate requirements.lock from pyproject.toml in a throwaway virtualenv.
lock:
	rm -rf .lock-venv
	$$(sh scripts/find-python) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet ".[dev]"
	.lock-venv/bin/pip freeze --exclude newsroom > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) staticfiles
