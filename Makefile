# The two commands of the contract: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: run test lint unit package bench load fuzz clean console console-check console-api-types chromium screenshots

$(STAMP): requirements.txt requirements-language.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"' 2>/dev/null \
	  || (command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null)
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# The console (console/): Node 20.19+ and npm; `npm ci` from the committed package-lock.json.
CONSOLE_STAMP := console/node_modules/.installed-stamp
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) console/index.html console/vite.config.ts console/tsconfig.json

$(CONSOLE_STAMP): console/package.json console/package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null)
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
	  || (echo "the console needs Node 20.19 or newer (found $$(node --version))" >&2; exit 1)
	cd console && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

console/dist/index.html: $(CONSOLE_STAMP) $(CONSOLE_SOURCES)
	cd console && npx vite build --logLevel warn

console: console/dist/index.html

# The API types the console is written against, regenerated from the app's /openapi.json.
console-api-types: $(STAMP) $(CONSOLE_STAMP)
	@mkdir -p .local
	$(PY) -m leadline.local.console openapi .local/openapi.json >/dev/null
	cd console && npx openapi-typescript ../.local/openapi.json -o src/api/schema.d.ts

# The console cannot drift from the API: the committed types must be what the app produces now.
console-check: $(STAMP) $(CONSOLE_STAMP)
	@mkdir -p .local
	@$(PY) -m leadline.local.console openapi .local/openapi.json >/dev/null
	@cd console && npx openapi-typescript ../.local/openapi.json -o ../.local/schema.check.d.ts >/dev/null
	@diff -u console/src/api/schema.d.ts .local/schema.check.d.ts >/dev/null \
	  || (diff -u console/src/api/schema.d.ts .local/schema.check.d.ts | head -40; \
	      echo "console/src/api/schema.d.ts is not what the app's /openapi.json gives: run make console-api-types" >&2; exit 1)
	cd console && npx tsc --noEmit

# The browser tests drive Debian's chromium (never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

run: $(STAMP) console
	$(VENV)/bin/leadline local $(if $(filter 0,$(DEMO)),--no-demo,)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	@# The functions run on Lambda's python3.13 (leadline/chalice_runtime.py): check against its stdlib too.
	$(VENV)/bin/mypy --python-version 3.13

unit: $(STAMP)
	$(VENV)/bin/pytest -n 2 --dist loadgroup tests

test: lint console-check console chromium unit

# Screenshots of every main screen (desktop and phone) into docs/console/, from a fresh local stack.
screenshots: $(STAMP) console chromium
	$(PY) -m tests.browser.screenshots docs/console

package: $(STAMP)
	$(VENV)/bin/leadline package --stage $${STAGE:-prod} --out $${OUT:-dist}

bench: $(STAMP)
	$(PY) bench/run_all.py

# The load test (bench/load.py): 2,000 leads over 10 minutes by default, moto and the counting proxy in processes of
# their own; exits non-zero on a lost lead, a double owner, a send to opted-out or a DLQ message.
# LOAD_ARGS="--leads 60 --minutes 1" to try it small.
load: $(STAMP)
	$(PY) bench/load.py $(LOAD_ARGS)

fuzz: $(STAMP)
	$(PY) -m pytest tests/fuzz --fuzz-stack --fuzz-examples=$${FUZZ_EXAMPLES:-3000}

clean:
	rm -rf $(VENV) .local dist console/node_modules console/dist
