# Ledgerline: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 3000

CHROMIUM := /usr/bin/chromium

.PHONY: run sweep demo docs test test-fast lint bench clean api-docs

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

## run: the local stack (moto server + API on 127.0.0.1:$(PORT)); Ctrl-C stops it
run: $(STAMP)
	PORT=$(PORT) $(PY) -m local

## sweep: the worker's daily sweep against the running local stack (DATE=YYYY-MM-DD pretends another day)
sweep: $(STAMP)
	PORT=$(PORT) $(PY) -m local.stream_pump sweep $(if $(DATE),--date $(DATE))

## demo: a realistic lending book and a distributions asset (holders, cash-flow event) seeded into the running local stack, idempotently (KEY=the ingest+read+distribute key make run printed)
demo: $(STAMP)
	PORT=$(PORT) KEY=$(KEY) $(PY) -m tools.demo

## docs: regenerate the payload pages' field summaries and the validator page's examples
docs: $(STAMP)
	PYTHONPATH=layers/core/python $(PY) -m tools.payload_docs

# The validator page's browser test drives Debian's chromium (Playwright cannot download its own here).
$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

## test: the whole suite (unit, integration, infra, e2e over HTTP and in a browser), two workers
test: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest -n 2 -q

## test-fast: everything but the infra and e2e tests
test-fast: $(STAMP)
	$(PY) -m pytest -q tests/unit tests/integration

## api-docs: rewrite docs/openapi.json and schemas/ingest/*.json from the code (tests check they match)
api-docs: $(STAMP)
	# The handlers' modules read settings on import; writing the document touches no table.
	LEDGERLINE_TABLE=unused PYTHONPATH=layers/core/python $(PY) -m ledgerline.api.openapi docs/openapi.json schemas/ingest

lint: $(STAMP)
	$(PY) -m ruff check .

## bench: calls, time and cost per event, per read and per derived row; handler import ratios (docs/performance.md)
bench: $(STAMP)
	$(PY) -m bench.ingest
	$(PY) -m bench.reads
	$(PY) -m bench.cost
	$(PY) -m bench.worker
	$(PY) -m bench.reports
	$(PY) -m bench.reports --check
	$(PY) -m bench.cold_start
	$(PY) -m bench.distributions 100 1000

clean:
	rm -rf $(VENV) cdk.out .pytest_cache .hypothesis

-include infra/make.mk
