# The two commands of the README are `make run` and `make test`; everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# What the platform admin applies in the walkthroughs (tests/e2e/test_examples.py applies the same).
EXAMPLES := examples/mto-eks-tenants examples/mto-on-eks examples/kiosk-on-eks/platform

.PHONY: run down test lint unit bench bench-quick crds clean system-deps

CONSOLE_ASSETS := src/kubetenancy/console/assets

$(INSTALLED): pyproject.toml $(CONSOLE_ASSETS)/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	npm ci --prefix $(CONSOLE_ASSETS) --no-audit --no-fund --loglevel=error
	touch $@

## system-deps: Debian packages the tests need (Chromium for the console's browser tests; Maven for Keycloak)
system-deps:
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q $$missing; \
	  else echo "install these Debian packages first:$$missing" >&2; exit 1; fi; \
	fi

## run: local control plane (built on first use) + operator + the examples applied
run: $(INSTALLED)
	$(BIN)/kubetenancy dev up $(addprefix --apply ,$(EXAMPLES))
	@# The kubectl matching the cluster (built when the one on PATH is too far away) beside kubetenancy.
	@ln -sf "$$($(BIN)/python -c 'from kubetenancy.localcluster.gobuild import ensure_binaries; print(ensure_binaries().kubectl)')" $(BIN)/kubectl
	@echo '  source .venv/bin/activate      # kubetenancy, kubectl tenancy and a matching kubectl on your PATH'

## down: stop the local control plane started by `make run`
down: $(INSTALLED)
	$(BIN)/kubetenancy dev down

## test: lint, types, layering, then every test against a real local control plane
test: lint system-deps
	$(BIN)/kubetenancy dev build
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(INSTALLED)
	$(BIN)/pytest tests/unit

## bench: every benchmark, results in bench/results/; bench-quick: a short smoke run
bench: $(INSTALLED)
	$(BIN)/python -m bench

bench-quick: $(INSTALLED)
	$(BIN)/python -m bench --quick

## crds: regenerate deploy/crds and the Helm chart's crds/ from the typed API models
crds: $(INSTALLED)
	$(BIN)/kubetenancy manifests crds --out deploy/crds
	$(BIN)/kubetenancy manifests crds --out deploy/chart/kubetenancy/crds

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
