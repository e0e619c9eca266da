# ChatOps Provider. `make demo` and `make test` do all the set-up on a fresh machine.
# Everything builds in the debug profile except `make package` (the Lambda zip).

SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
CARGO ?= cargo
# Stamp of the installed requirements: reinstall when the pins change.
VENV_STAMP := $(VENV)/.installed-$(shell sha1sum localcloud/requirements.txt | cut -c1-12)

.PHONY: setup build demo test test-rust test-localcloud lint lint-templates schemas \
        bench bench-lambda bench-localcloud bench-plan bench-smoke fuzz package clean

setup: $(VENV_STAMP)

$(VENV_STAMP): localcloud/requirements.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r localcloud/requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

build:
	$(CARGO) build --locked --bin chatops

## The main job on the local cloud: plan, deploy into several accounts, no-change plan, drift, destroy.
demo: setup build
	$(PYTHON) -u scripts/demo.py --binary target/debug/chatops

## Every test: formatting, lints, Rust unit and end-to-end tests, the local cloud's suite, cfn-lint and its rules,
## and every benchmark at a small size. Tests build with the `failpoints` feature, so that they can provoke what
## no input can (a panic).
test: setup lint test-rust test-localcloud lint-templates bench-smoke

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets --features failpoints -- -D warnings

test-rust:
	$(CARGO) test --locked --features failpoints

test-localcloud: setup
	$(PYTHON) -m pytest -q localcloud/tests

## cfn-lint with the provider's rules (cfn-lint-rules/), and the tests of those rules.
lint-templates: setup
	$(VENV)/bin/cfn-lint --append-rules cfn-lint-rules -- cfn-templates/*.yaml examples/*.yaml
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/cfnlint

## The fuzzed request path at length (make test runs it briefly).
fuzz:
	PROPTEST_CASES=20000 $(CARGO) test --locked --features failpoints --lib fuzz::

## Regenerates schemas/ from the Rust property types.
schemas:
	$(CARGO) run --quiet --bin chatops -- schema --write schemas

bench: bench-lambda bench-localcloud bench-plan

## The Lambda's cold start, warm overhead and peak memory against a Python + boto3 reference (release build).
bench-lambda: setup
	$(CARGO) bench --locked --bench lambda

bench-localcloud: setup
	$(PYTHON) localcloud/bench.py

## `chatops plan --org` over 1,000 and 10,000 accounts of an in-process fake with the services' rates (50 ms a
## call), against the ideal, with calls, throttles and peak memory; then 100 accounts of the local cloud (release build).
bench-plan: setup
	$(CARGO) bench --locked --bench plan

## Every benchmark at a small size in the debug profile (`make test`): each runs and prints all its figures.
bench-smoke: setup
	CARGO=$(CARGO) $(PYTHON) scripts/bench_smoke.py

## The Lambda deployment package: dist/chatops-lambda.zip with the `bootstrap` binary.
package:
	$(CARGO) build --locked --release --bin chatops
	mkdir -p dist
	cp target/release/chatops dist/bootstrap
	cd dist && rm -f chatops-lambda.zip && python3 -c "import zipfile; z = zipfile.ZipFile('chatops-lambda.zip', 'w', zipfile.ZIP_DEFLATED); z.write('bootstrap'); z.close()"
	@echo "dist/chatops-lambda.zip ($$(uname -m)): upload it and set CodeS3Key in cfn-templates/provider.yaml"

clean:
	$(CARGO) clean
	rm -rf $(VENV) dist
