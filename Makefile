# Driftline — every target installs what it needs into .venv first.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Lambda code directories and layers, as the Lambda runtime sees them (layers under /opt/python).
export PYTHONPATH := layers/metrics:layers/common:layers/plotting:functions/report:functions/metric_evaluator:functions/drift_checker:functions/retrain_launcher:functions/deployer:functions/api:functions/trigger_router:offline:examples:cli:.

.DEFAULT_GOAL := help
.PHONY: help venv test coverage test-slow unit lint typecheck cfn-lint scan build demo scenarios up invoke bench clean

help: ## List the targets (colours only on a terminal, and not with NO_COLOR set)
	@if [ -t 1 ] && [ -z "$$NO_COLOR" ]; then on='\033[36m'; off='\033[0m'; else on=''; off=''; fi; \
	grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*?## "}; {printf "  %s%-12s%s %s\n", on, $$1, off, $$2}'

$(STAMP): requirements-dev.txt requirements-dev.lock
	@command -v $(PY) >/dev/null || { echo "error: $(PY) not found (Driftline targets the Lambda python3.11 runtime)"; exit 1; }
	@echo "Installing the pinned development requirements into $(VENV) (first run only: about 3 minutes)..."
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .  # the `driftline` command
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv with the pinned development requirements

# checkov pins boto3/botocore versions that conflict with the dev set: it gets a virtualenv of its own
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
$(SCAN_STAMP): requirements-scan.txt requirements-scan.lock
	@command -v $(PY) >/dev/null || { echo "error: $(PY) not found"; exit 1; }
	$(PY) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt -c requirements-scan.lock
	@touch $(SCAN_STAMP)

# the clients tests/clients drives `make up` with (SageMaker SDK v2 + AWS CLI v1, SDK v3): a virtual environment
# each, apart from .venv (the project must not lean on them), cached under build/clients
CLIENTS := build/clients
$(CLIENTS)/%/.installed: requirements-clients-%.txt requirements-clients-%.lock
	@command -v $(PY) >/dev/null || { echo "error: $(PY) not found"; exit 1; }
	@echo "Installing requirements-clients-$*.txt into $(CLIENTS)/$* (first run only: 5-15 minutes)..."
	rm -rf $(CLIENTS)/$* && $(PY) -m venv $(CLIENTS)/$*
	$(CLIENTS)/$*/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-clients-$*.txt \
		-c requirements-clients-$*.lock
	@touch $@

.PHONY: clients test-clients
clients: $(CLIENTS)/v2/.installed $(CLIENTS)/v3/.installed ## Client venvs for tests/clients (SageMaker SDK v2 + AWS CLI v1, SDK v3) under build/clients

test-clients: $(STAMP) clients ## Drive `make up` with the SageMaker SDKs and the AWS CLI from their own venvs (tests/clients)
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider tests/clients

# pytest-xdist: one worker per core; `worksteal` lets an idle worker take tests queued on a busy one (the suite
# mixes 10 ms unit tests with multi-second offline pipelines, so a fixed split leaves one core idle at the end);
# a module fixture such as the `make up` server starts once per worker that needs it; pytest-cov combines the
# workers' coverage
XDIST ?= -n auto --dist worksteal

# the lint steps are single-threaded and pytest keeps both cores busy only once its workers have collected: they
# run side by side (make -j), each step's output kept in whole lines; any failing step fails `make test`.
# Cost (README "Tests"): the pytest step without coverage 292 CPU-s (`pytest -n 2 -m "not slow"`, load 3.6-5; 552
# under coverage), ruff + cfn-lint + checkov + mypy ~25; idle machine: 2 min 25 s wall, 276 CPU-s; per test: PYTEST_ADDOPTS="-p tools.cpu_per_test" make test,
# then python -m tools.cpu_per_test
test: $(STAMP) ## Lint, cfn-lint, checkov, type-check and every test but the slow ones, side by side
	@$(MAKE) --no-print-directory -j5 --output-sync=line lint cfn-lint scan typecheck unit

.PHONY: test-slow
# Python 3.11 has no low-overhead tracing (sys.monitoring is 3.12+): under coverage every line of every module runs
# through the tracer, which doubles the suite's CPU (measured 292 -> 552 CPU-s), so the coverage gate is a target
# of its own, which CI runs after `make test`
coverage: $(STAMP) ## The same tests as `make test` under branch coverage, failing below the floor (85 %); CI runs it
	$(BIN)/python -m pytest -q $(XDIST) -m "not slow" --cov --cov-report=term

# `slow`: the tests that start `make up` or the CLI in a subprocess, the scikit-learn/SciPy peer subset, and the
# rest of the failure-injection matrix of tests/workflow/test_pipeline_numbers.py (each a retrain-and-deploy
# pipeline twice), the in-process cfn-lint test (`make test` runs cfn-lint as a step of its own); then tests/fuzz
# again with the deep example count (DRIFTLINE_FUZZ=deep: 80 per test, `make test` runs 25); the client tests run in
# `make test-clients`
test-slow: $(STAMP) ## The tests marked slow (server and CLI subprocesses, the whole failure-injection matrix) and the deep fuzz; CI runs them too
	$(BIN)/python -m pytest -q $(XDIST) -m slow --ignore=tests/clients
	DRIFTLINE_FUZZ=deep $(BIN)/python -m pytest -q $(XDIST) tests/fuzz

unit: $(STAMP) ## Run the tests without the lint steps and without the slow ones (XDIST= runs them in one process)
	$(BIN)/python -m pytest -q $(XDIST) -m "not slow"

lint: $(STAMP) ## ruff over the whole tree
	$(BIN)/ruff check .

typecheck: $(STAMP) ## mypy over the layers and functions
	$(BIN)/mypy

cfn-lint: $(STAMP) ## cfn-lint the SAM template (with the serverless rules)
	$(BIN)/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml

scan: $(STAMP) $(SCAN_STAMP) ## checkov (pinned) over template.yaml and the SAM-translated template; fails on any finding
	$(BIN)/python -m tools.sam_translate template.yaml build/scan/template.sam.json
	CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE $(SCAN_VENV)/bin/checkov --quiet --compact \
		--skip-download --framework cloudformation -f template.yaml -f build/scan/template.sam.json

build: $(STAMP) ## sam build (no containers)
	$(BIN)/sam build --parallel --cached

demo: $(STAMP) ## Run the offline demo (drift and stable scenarios), writes build/demo/
	$(BIN)/python -m driftline_offline.demo

scenarios: $(STAMP) ## Decision quality on drift scenarios, end to end offline (ARGS="--only NAME --seed N"), writes build/scenarios/
	$(BIN)/python -m driftline_examples.scenarios $(ARGS)

up: $(STAMP) ## Serve the offline stack: AWS endpoint :4566, HTTP API :3000 (ARGS="--scenario drift --day-seconds 30")
	$(BIN)/python -m driftline_offline.server $(ARGS)

invoke: $(STAMP) ## `sam local invoke` without Docker, example model seeded: make invoke FN=ApiFunction EVENT=events/api_list_models.json
	$(BIN)/python -m driftline_offline.invoke $(FN) -e $(EVENT) $(ARGS)

bench: $(STAMP) ## Benchmarks against scikit-learn / SciPy (prints ratios)
	OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= $(BIN)/python benchmarks/run.py

.PHONY: peer
peer: $(STAMP) ## scikit-learn's and SciPy's own test suites against the metrics layer (tests/peer; summary in build/peer/)
	$(BIN)/python tests/peer/run_peer.py --json build/peer/summary.json

clean: ## Remove build outputs and the virtual environment
	rm -rf $(VENV) $(SCAN_VENV) .aws-sam build .pytest_cache .mypy_cache .ruff_cache
