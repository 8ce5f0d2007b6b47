# Two commands for a newcomer: `make demo` and `make test`. Both set up what they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo test test-fast tools services lint clean help

help:
	@echo "make demo       set everything up, start Instep (embedded mode) and run the sample app's pipeline"
	@echo "make test       set everything up and run the whole test suite"
	@echo "make test-fast  only the tests that need no outside service (seconds)"
	@echo "make tools      install fastlane, Chromium and Appium for development (into ./tools, ignored)"
	@echo "make services   start Redis and PostgreSQL if they are installed but stopped"

$(STAMP): pyproject.toml
	@bash scripts/venv.sh "$(VENV)"
	@touch $(STAMP)

tools: $(STAMP)
	@bash scripts/install-fastlane.sh
	@bash scripts/install-chromium.sh
	@bash scripts/install-appium.sh
	@bash scripts/install-dashboard-assets.sh
	@bash scripts/install-sandbox.sh
	@bash scripts/install-store-schemas.sh

services:
	@bash scripts/services.sh

test: $(STAMP) tools services
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(VENV)/bin/pytest -m "not integration and not e2e" $(PYTEST_ARGS)

demo: $(STAMP) tools
	@bash scripts/demo.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf .instep .pytest_cache .ruff_cache .mypy_cache
