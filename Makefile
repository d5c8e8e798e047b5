# The commands users type (shared/ARCHITECTURE.md, "Commands users type").
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY := .venv/bin/python
PYTEST_ARGS ?=
# Toxiproxy (a Go module) for the fault suite's network faults: `go install` puts its
# binary, named `server`, in GOPATH/bin. Pinned: v2.5.0 is what @latest resolves to today.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
TOXIPROXY_VERSION ?= v2.5.0
TOXIPROXY_SERVER = $(shell $(GO) env GOPATH)/bin/server
# stripe-mock (Stripe's API emulator, a Go module) for the reconciliation tests, installed the
# same way. Pinned: v0.203.0 is what @latest resolves to today. The tests find it in GOPATH/bin
# (or at STRIPE_MOCK_BIN).
STRIPE_MOCK_VERSION ?= v0.203.0
STRIPE_MOCK = $(shell $(GO) env GOPATH)/bin/stripe-mock

export DAGSTER_HOME ?= $(CURDIR)/.stack/dagster
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: help venv up down status migrate toxiproxy stripe-mock test test-unit test-faults test-faults-batched demo bench lint clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

venv: .venv/.synced ## Create the virtual environment from uv.lock

.venv/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

up: venv ## Start Kafka, Temporal and PostgreSQL (idempotent) and print their addresses
	$(PY) -m infra.stack up

down: venv ## Stop exactly what `make up` started
	$(PY) -m infra.stack down

status: venv ## Show each server's state
	$(PY) -m infra.stack status

migrate: venv ## Apply the database migrations (`make up` applies them too)
	$(PY) -m infra.migrate

toxiproxy: ## Install the Toxiproxy server the fault suite drives (go install)
	@$(GO) version -m $(TOXIPROXY_SERVER) 2>/dev/null | grep -q "toxiproxy/v2.*$(TOXIPROXY_VERSION)" || \
	  $(GO) install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION)

stripe-mock: ## Install stripe-mock, the Stripe API emulator reconciliation is tested against
	@$(GO) version -m $(STRIPE_MOCK) 2>/dev/null | grep -q "stripe/stripe-mock.*$(STRIPE_MOCK_VERSION)" || \
	  $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

# The batched mode (issue 19): the starter hands a worker up to this many payments per workflow.
BATCH_SIZE ?= 25
BATCHED_E2E = tests/e2e/test_pipeline_end_to_end.py::test_every_accepted_webhook_lands_exactly_once

test: up toxiproxy stripe-mock ## The whole suite, against the real servers
	@# pytest's exit 5 means "no tests ran": a broken suite, never a pass.
	$(PY) -m pytest -m "not faults and not scale" $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; \
	  [ $$rc -ne 0 ] && exit $$rc; \
	  echo "make test: the pipeline's end-to-end check again, in the batched mode"; \
	  STREAMS_STARTER_BATCH_SIZE=$(BATCH_SIZE) $(PY) -m pytest $(BATCHED_E2E) $(PYTEST_ARGS)

test-unit: venv ## Only the tests that need no server
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-faults: up toxiproxy ## The long fault-injection runs
	$(PY) -m pytest -m "faults and not scale" $(PYTEST_ARGS)

test-faults-batched: up toxiproxy ## The same fault runs with the starter in the batched mode
	STREAMS_STARTER_BATCH_SIZE=$(BATCH_SIZE) $(PY) -m pytest -m "faults and not scale" $(PYTEST_ARGS)

# Three brokers and two of each worker, in a state folder of their own (the default stack
# must be down: the same ports).
SCALE_ENV = STACK_DIR=$(CURDIR)/.stack-scale STACK_KAFKA_BROKERS=3 \
	DEMO_WORKERS=normalizer=2,starter=2,orchestration=2 DAGSTER_HOME=$(CURDIR)/.stack-scale/dagster
test-scale: venv toxiproxy ## Rebalances and elections: three brokers, two of each worker
	$(SCALE_ENV) $(PY) -m infra.stack up
	$(SCALE_ENV) KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094 \
	  $(PY) -m pytest -m scale tests/e2e/test_scale_faults.py $(PYTEST_ARGS); rc=$$?; \
	  $(SCALE_ENV) $(PY) -m infra.stack down; exit $$rc

.PHONY: test-compose
test-compose: venv ## docker-compose.yml under podman: build, run, simulate, reconcile, down
	infra/compose/test.sh

.PHONY: codec-server
codec-server: venv ## The Temporal UI's codec endpoint (127.0.0.1:8089) with the stack's key
	$(PY) -m infra.codec_server

# Workflow histories for the replay test (tests/histories): records only the missing ones, on a
# throwaway in-memory dev server on a private port (never the stack's 7233). HISTORIES_ARGS
# passes --only NAME... or --overwrite (read the rule in orchestration/README.md first).
HISTORIES_PORT ?= 19733
.PHONY: histories
histories: venv ## Record missing workflow histories (tests/histories) on a throwaway dev server
	$(PY) -m tests.histories.record --dev-server $(HISTORIES_PORT) $(HISTORIES_ARGS)

.PHONY: erase
erase: venv ## Erase one customer everywhere: make erase CUSTOMER=<id> [DRY_RUN=1] (stack's .stack/env)
	@test -n "$$ERASE_CUSTOMER" || { echo "make erase: set CUSTOMER=<customer_id>" >&2; exit 2; }
	@set -a; . ./.stack/env; set +a; $(PY) -m batch.erase --customer "$$ERASE_CUSTOMER" $(if $(DRY_RUN),--dry-run)

erase: export ERASE_CUSTOMER = $(CUSTOMER)

.PHONY: chromium asset-screenshots
chromium: ## Debian's Chromium, for the asset-page screenshots (apt-get, as root)
	command -v chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

asset-screenshots: venv chromium ## Screenshot each gold asset's chart in Dagster's UI (.stack/screenshots/)
	$(PY) -m infra.asset_screenshots $(SCREENSHOT_ARGS)

demo: up ## The main job: the stack, every service, the simulator, a reconciliation
	$(PY) -m infra.demo $(DEMO_ARGS)

bench: up ## Every benchmark against its same-run baseline
	$(PY) -m bench

lint: venv ## ruff
	$(PY) -m ruff check .

clean: down ## Stop the stack and delete its state
	rm -rf .stack
