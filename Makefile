# keysmith.accounts developer / CI entry points.  The logic lives in
# tests/scripts/run-tests.sh; see its header for steps and knobs.
SHELL := /bin/bash
RUN := bash tests/scripts/run-tests.sh
VENV_STAMP := .venv/.keysmith-requirements.sha256

.PHONY: test venv deps build sanity units integration e2e changelog demo clean

test:
	$(RUN) test

# Re-created only when a requirement file changes (the script compares hashes too).
venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-test.txt tests/unit/requirements.txt
	$(RUN) venv
	@touch $(VENV_STAMP)

deps:
	$(RUN) deps

build: $(VENV_STAMP)
	$(RUN) build

changelog: $(VENV_STAMP)
	$(RUN) changelog

sanity: $(VENV_STAMP)
	$(RUN) sanity

units: $(VENV_STAMP)
	$(RUN) units

integration: $(VENV_STAMP)
	$(RUN) integration

e2e: $(VENV_STAMP)
	$(RUN) e2e

demo: $(VENV_STAMP)
	$(RUN) demo

clean:
	$(RUN) clean
