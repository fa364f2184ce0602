# One command per developer task; see CONTRIBUTING.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000
SIM_PORT ?= 9100

.PHONY: help install run simulator test lint format typecheck test-sqlite test-postgres test-calendar browser redis-server xmlsec1 bench bench-retrieval bench-retention clean

help:
	@echo "make run        start ChatGrid on SQLite at http://$(HOST):$(PORT)"
	@echo "make test       lint, types, and the whole suite on SQLite and PostgreSQL"
	@echo "make simulator  start the local OpenAI simulator on :$(SIM_PORT)"
	@echo "make bench      gateway overhead, retrieval, ingestion and rendering speed"
	@echo "make bench-anchors  LiteLLM measured beside ChatGrid (installs it into .venv-anchors)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The server reads CHATGRID_* from the environment make runs in, so
# `CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true make run` lets it call the simulator on 127.0.0.1.
run: $(STAMP)
	@$(BIN)/chatgrid migrate > /dev/null
	@echo ""
	@echo "ChatGrid is starting at http://$(HOST):$(PORT) (SQLite in $${CHATGRID_DATA_DIR:-./data})."
	@echo "Open http://$(HOST):$(PORT)/signup to create your organization in the browser,"
	@if [ "$${CHATGRID_ALLOW_PRIVATE_UPSTREAMS:-false}" = "true" ]; then \
		echo "or use the command line. Start the simulator (it stands in for OpenAI) in another terminal:"; \
		echo "  make simulator"; \
		echo "and in a third one:"; \
		echo "  export CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true"; \
		echo "  $(BIN)/chatgrid org create acme --mode byok"; \
		echo "  $(BIN)/chatgrid member add acme you@example.com --role owner"; \
		echo "  echo sk-demo-0123456789 | $(BIN)/chatgrid credential set acme --base-url http://127.0.0.1:$(SIM_PORT)/v1"; \
		echo "  $(BIN)/chatgrid token create acme you@example.com"; \
		echo "then point any OpenAI SDK at base_url=http://$(HOST):$(PORT)/v1 with that token."; \
	else \
		echo "or use the command line in another terminal (with a real OpenAI key):"; \
		echo "  $(BIN)/chatgrid org create acme --mode byok"; \
		echo "  $(BIN)/chatgrid member add acme you@example.com --role owner"; \
		echo "  echo sk-your-openai-key | $(BIN)/chatgrid credential set acme"; \
		echo "  $(BIN)/chatgrid token create acme you@example.com"; \
		echo "then point any OpenAI SDK at base_url=http://$(HOST):$(PORT)/v1 with that token."; \
		echo "To try it with the local simulator instead of OpenAI, stop this and start it as"; \
		echo "  CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true make run"; \
	fi
	@echo ""
	$(BIN)/chatgrid serve --host $(HOST) --port $(PORT)

simulator: $(STAMP)
	$(BIN)/chatgrid simulator --port $(SIM_PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test-sqlite: $(STAMP) browser redis-server xmlsec1 | node_modules
	CHATGRID_TEST_BACKEND=sqlite $(BIN)/python -m pytest -q --durations=15

test-postgres: $(STAMP) browser redis-server xmlsec1 | node_modules
	CHATGRID_TEST_BACKEND=postgresql CHATGRID_TEST_POSTGRES_URL=$(PG_TEST_URL) \
		$(BIN)/python -m pytest -q --durations=15

# axe-core for the browser accessibility test and oidc-provider for the single sign-on tests;
# installed when missing, and again when package-lock.json changes (npm ci makes the folder anew).
node_modules: package-lock.json
	npm ci --no-audit --no-fund

# The browser tests drive Debian's Chromium (Playwright's own download cannot work here).
browser:
	@command -v chromium > /dev/null || (apt-get update -qq && apt-get install -y -qq chromium > /dev/null)

# The SAML tests' identity provider (pysaml2) signs with the xmlsec1 program.
xmlsec1:
	@command -v xmlsec1 > /dev/null || (apt-get update -qq && apt-get install -y -qq xmlsec1 > /dev/null)

# The Redis fault tests start, kill and restart a redis-server of their own.
redis-server:
	@command -v redis-server > /dev/null || (apt-get update -qq && apt-get install -y -qq redis-server > /dev/null)

# The money tests (billing, trials, budgets, invoices, overview) with the clock frozen at
# awkward instants: the last second of a month, 1 March, the last second of the year, a leap day.
# faketime hosts no child processes, so tests that run the CLI as one are left to the main runs.
CALENDAR_TESTS := tests/billing tests/ledger tests/web/test_overview_budget.py \
	tests/web/test_invoices_page.py
AWKWARD_INSTANTS := "2027-01-31 23:59:59" "2027-03-01 00:00:00" "2026-12-31 23:59:59" \
	"2028-02-29 12:00:00"

test-calendar: $(STAMP)
	@command -v faketime > /dev/null || (apt-get update -qq && apt-get install -y -qq faketime > /dev/null)
	@for instant in $(AWKWARD_INSTANTS); do \
		echo "clock frozen at $$instant UTC"; \
		TZ=UTC FAKETIME_DONT_FAKE_MONOTONIC=1 CHATGRID_TEST_BACKEND=sqlite \
			faketime -f "$$instant" $(BIN)/python -m pytest -q -p no:cacheprovider \
			-m "not child_processes" $(CALENDAR_TESTS) || exit 1; \
	done

test: lint typecheck test-sqlite test-postgres test-calendar

# bench/scale.py's soak, in seconds: `make bench` runs the whole 10 minutes unless told otherwise.
BENCH_SOAK_SECONDS ?= 600

bench: $(STAMP)
	@command -v wrk > /dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/workers.py
	$(BIN)/python bench/tracing.py
	$(BIN)/python bench/retrieval.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/page.py
	$(BIN)/python bench/translation.py
	$(BIN)/python bench/retention.py
	BENCH_SOAK_SECONDS=$(BENCH_SOAK_SECONDS) $(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

bench-retrieval: $(STAMP)
	$(BIN)/python bench/retrieval.py

bench-retention: $(STAMP)
	@command -v wrk > /dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/retention.py

# LiteLLM in a venv of its own, never ChatGrid's; never part of `make test`. Pinned to an exact
# release: 1.82.7 and 1.82.8 on PyPI were an attacker's uploads (bench/anchors.py refuses them).
LITELLM_VERSION ?= 1.82.6
ANCHORS_VENV := .venv-anchors
ANCHORS_STAMP := $(ANCHORS_VENV)/.installed-litellm-$(LITELLM_VERSION)

$(ANCHORS_STAMP):
	$(PYTHON) -m venv $(ANCHORS_VENV)
	$(ANCHORS_VENV)/bin/pip install --quiet --upgrade pip
	$(ANCHORS_VENV)/bin/pip install --quiet --only-binary=:all: 'litellm[proxy]==$(LITELLM_VERSION)'
	@touch $@

.PHONY: bench-anchors
bench-anchors: $(STAMP) $(ANCHORS_STAMP)
	@command -v wrk > /dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/anchors.py --litellm $(ANCHORS_VENV)/bin/litellm
