# OrderDeck — `make run` starts the dashboard with demo data, `make test` runs every test.
# Both work on a fresh clone: they install what is missing first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export FLASK_APP := wsgi
# Two workers: the machine has two cores; each worker gets its own PostgreSQL database.
PYTEST_ARGS ?= -n 2 --dist loadfile

DEBIAN_RUNTIME := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
DEBIAN_TEST := chromium poppler-utils postgresql-client

.PHONY: setup run test lint bench clean system-runtime system-test

setup: $(VENV)/.installed static/vendor/.installed system-runtime

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static/vendor/.installed: node_modules/.installed scripts/vendor.sh
	scripts/vendor.sh
	touch $@

system-runtime:
	@scripts/ensure-system-packages.sh $(DEBIAN_RUNTIME)

system-test:
	@scripts/ensure-system-packages.sh $(DEBIAN_TEST)

run: setup
	scripts/run-dev.sh

test: setup system-test
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .


bench: setup
	$(PY) bench/run.py --quick

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
