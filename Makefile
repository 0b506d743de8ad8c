# BizValue: `make run` starts the whole product on its embedded default; `make test` runs every test.
# The virtualenv's interpreter: the distribution's CPython 3.11 where it has venv support
# (Debian builds it with PGO and LTO: our Python runs about a fifth faster than on a default
# source build such as pyenv's; bench/README.md), else python3. `make PYTHON=...` overrides.
PYTHON ?= $(shell /usr/bin/python3.11 -c 'import ensurepip' 2>/dev/null && echo /usr/bin/python3.11 || echo python3)
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint install install-dev browser clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	bin/run-embedded

# The browser tests drive Debian's Chromium (Playwright's own download cannot run here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	  || { echo "Could not install chromium: run 'apt-get install chromium' as root" >&2; exit 1; }; }

test: install-dev lint browser
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	env -u DATABASE_URL $(VENV)/bin/mypy
	env -u DATABASE_URL $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles
