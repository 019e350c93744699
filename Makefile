# keysmith.accounts developer / CI entry points.  The logic lives in
# tests/scripts/run-tests.sh; see its header for steps and knobs.
SHELL := /bin/bash
RUN := bash tests/scripts/run-tests.sh
VENV_STAMP := .venv/.keysmith-requirements.sha256

.PHONY: test venv deps build release docs sanity units cores parity integration reliability examples e2e changelog demo clean bench mutants

test:
	$(RUN) test

# Re-created only when a requirement file changes (the script compares hashes too).
venv: $(VENV_STAMP)

$(VENV_STAMP): requirements.txt requirements-test.txt tests/constraints.txt tests/unit/requirements.txt
	$(RUN) venv
	@touch $(VENV_STAMP)

deps:
	$(RUN) deps

build: $(VENV_STAMP)
	$(RUN) build

# build, then the release checks on the fresh tarball (tests/scripts/release.sh)
release: $(VENV_STAMP)
	$(RUN) build release

# rewrite docs/modules/*.md from the modules' documentation (the release step checks them)
docs: $(VENV_STAMP)
	$(RUN) build
	RELEASE_WRITE_DOCS=1 RELEASE_ONLY=docgen bash tests/scripts/release.sh tests/output/build/keysmith-accounts-*.tar.gz

changelog: $(VENV_STAMP)
	$(RUN) changelog

sanity: $(VENV_STAMP)
	$(RUN) sanity

units: $(VENV_STAMP)
	$(RUN) units

# sanity, units and a smoke playbook on the lowest and newest ansible-core of the range (CORE_VERSIONS)
cores: $(VENV_STAMP)
	$(RUN) cores

# ssh_authkey's authorized_keys reading against a real sshd (root; ~90 s)
parity: $(VENV_STAMP)
	$(RUN) parity

integration: $(VENV_STAMP)
	$(RUN) integration

reliability: $(VENV_STAMP)
	$(RUN) reliability

# every module's EXAMPLES and the docs' YAML blocks, in check mode and for real (root; ~2.5 min)
examples: $(VENV_STAMP)
	$(RUN) examples

e2e: $(VENV_STAMP)
	$(RUN) e2e

# ansible-core and requirements.txt only (.venv-demo), unless .venv is already there
demo:
	$(RUN) demo

# Benchmark against community.crypto / ansible.posix (root: creates kbench* users);
# not part of `test`.  BENCH_ARGS="--accounts 20 --reruns 1" for a shorter run.
bench: $(VENV_STAMP)
	.venv/bin/python bench/run_bench.py $(BENCH_ARGS)

# The curated mutation run over the core (tests/mutants/; ~5 min on 2 cores); not part of `test`.
# MUTANTS_ARGS="-k _fs.py" for one file. Report: tests/output/mutants.md.
mutants: $(VENV_STAMP)
	.venv/bin/python tests/mutants/run_mutants.py $(MUTANTS_ARGS)

clean:
	$(RUN) clean
