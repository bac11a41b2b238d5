# The two commands of the contract: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: run test lint unit package bench fuzz clean

$(STAMP): requirements.txt requirements-language.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"' 2>/dev/null \
	  || (command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null)
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/leadline local $(if $(filter 0,$(DEMO)),--no-demo,)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	@# The functions run on Lambda's python3.13 (leadline/chalice_runtime.py): check against its stdlib too.
	$(VENV)/bin/mypy --python-version 3.13

unit: $(STAMP)
	$(VENV)/bin/pytest -n 2 tests

test: lint unit

package: $(STAMP)
	$(VENV)/bin/leadline package --stage $${STAGE:-prod} --out $${OUT:-dist}

bench: $(STAMP)
	$(PY) bench/run_all.py

fuzz: $(STAMP)
	$(PY) -m pytest tests/fuzz --fuzz-stack --fuzz-examples=$${FUZZ_EXAMPLES:-3000}

clean:
	rm -rf $(VENV) .local dist
