# Threshold: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers for make test: one per core (TEST_WORKERS=0 runs in one process).
TEST_WORKERS ?= auto
DEMO_PASSWORD ?= threshold-demo

.PHONY: install run test lint migrate clean loadtest loadtest-two bench bench-report messages

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the declared dependencies change.
$(STAMP): pyproject.toml build-constraints.txt | $(PY)
	$(PIP) install --quiet --upgrade "pip>=25.3"
	$(PIP) install --quiet --build-constraint build-constraints.txt -e ".[dev]"
	touch $(STAMP)

# The French catalogue, compiled from its .po (pure Python: no GNU gettext needed).
CATALOGUE := locale/fr_CA/LC_MESSAGES/django
$(CATALOGUE).mo: $(CATALOGUE).po $(STAMP)
	DEBUG=1 $(PY) manage.py translations compile

install: $(STAMP) $(CATALOGUE).mo

migrate: install
	DEBUG=1 $(PY) manage.py migrate --no-input

# The demo: embedded SQLite unless DATABASE_URL says otherwise, development settings.
run: migrate
	DEBUG=1 $(PY) manage.py seed_demo --password "$(DEMO_PASSWORD)"
	# Before any worker starts: finish document writes a crash cut off (docs/reliability.md).
	DEBUG=1 $(PY) manage.py recover_documents --grace-minutes 0
	# And queue again the e-mail a killed worker left mid-attempt (no worker runs yet).
	DEBUG=1 $(PY) manage.py recover_deliveries --grace-minutes 0
	@echo ""
	@echo "  Threshold is at http://$(HOST):$(PORT)/"
	@echo "  Log in as inspector (or clerk, viewer, chief, inspector2; townadmin or sampleadmin"
	@echo "  for a municipality's administration, admin for the whole platform) with password: $(DEMO_PASSWORD)"
	@echo ""
	# The job worker (e-mail, documents after a close) beside the web server, stopped with it.
	DEBUG=1 $(PY) manage.py db_worker --queue-name '*' & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DEBUG=1 $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# 20 inspectors closing visits for 60 s against gunicorn and PostgreSQL (docs/reliability.md).
loadtest: install
	$(PY) bench/loadtest.py

# Two gunicorn servers sharing PostgreSQL, the job queue and an S3 bucket (moto): issue 19.
loadtest-two: install
	LOADTEST_SERVERS=2 LOADTEST_STORAGE=s3 $(PY) bench/loadtest.py

# A large city's database (BENCH_APPLICATIONS, default 200000) served by gunicorn, timed
# operation by operation: bench/results.json and docs/performance.md. Not part of make test.
# BENCH_APPLICATIONS (200000), BENCH_SEARCH_SCALE (unset; 1000000 to measure search at a
# million too): docs/performance.md. bench-report rewrites its figures from bench/results.json.
bench: install
	$(PY) -m bench

bench-report:
	$(PY) -m bench --report

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]): the layers and
# "views read other apps only through their queries.py".
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache --no-logo

# After marking strings: add them to locale/fr_CA/LC_MESSAGES/django.po (then translate them
# there) and compile; `make test` fails while one is untranslated (docs/translation.md).
messages: install
	DEBUG=1 $(PY) manage.py translations update
	DEBUG=1 $(PY) manage.py translations compile

clean:
	rm -rf $(VENV) .pytest_cache
