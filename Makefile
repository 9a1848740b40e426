# ComplaintDesk: `make run` sets up everything and serves http://127.0.0.1:8000; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CD := $(BIN)/complaintdesk
PG_URL ?= postgres://postgres@127.0.0.1:5432/complaintdesk
BIND ?= 127.0.0.1:8000
WORKERS ?= 3
# Test processes (pytest-xdist; each has its own test database). TEST_WORKERS=0 runs in one process.
# `load` (not worksteal) keeps each process's tests in collection order (see conftest.py).
TEST_WORKERS ?= 2
XDIST = -n $(TEST_WORKERS) --dist load

.PHONY: install chromium dovecot ldap fonts screenshots run test test-sqlite test-postgres bench soak lint messages clean

$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# python-ldap (django-auth-ldap, the LDAP sign-in option) builds against OpenLDAP's headers.
	@dpkg -s libldap-dev libsasl2-dev >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q libldap-dev libsasl2-dev; }
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Translations: compiled from the committed .po catalogues (Babel, no system gettext needed).
messages: $(BIN)/.installed
	@for po in locale/*/LC_MESSAGES/django.po; do \
	  if [ -f "$$po" ]; then $(BIN)/pybabel -q compile -i "$$po" -o "$${po%.po}.mo" || exit 1; fi; done

# Debian's Chromium (and CJK fonts) for the browser tests; Playwright drives it (no browser download).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk; }

# Debian's Dovecot IMAP server: the IMAP mail-intake test runs a private instance of it on loopback.
dovecot:
	@test -x /usr/sbin/dovecot || { apt-get update -q && apt-get install -y -q dovecot-imapd; }

# Debian's OpenLDAP server: the LDAP sign-in test runs a private slapd on loopback.
ldap:
	@test -x /usr/sbin/slapd || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slapd ldap-utils; }

# A TrueType CJK font for the PDFs (settlement agreements, dossiers): reportlab embeds TrueType
# subsets, so the Chinese text renders everywhere and can be extracted again.
fonts:
	@test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || { apt-get update -q && apt-get install -y -q fonts-wqy-zenhei; }

install: $(BIN)/.installed node_modules/.installed messages static/vendor/.copied fonts

# Front-end assets from the npm registry, served locally by whitenoise (no CDN).
static/vendor/.copied: node_modules/.installed
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/
	# --- issue 8 (analytics): more vendor files here ---
	cp node_modules/echarts/dist/echarts.min.js static/vendor/
	touch $@

run: install
	$(CD) migrate --no-input
	$(CD) load_regions
	$(CD) seed_demo --if-empty
	$(CD) collectstatic --no-input -v0
	@echo "Serving on http://$(BIND) (worker and scheduler alongside; Ctrl-C stops both)"
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(CD) worker & worker=$$!; \
	  $(CD) serve --bind $(BIND) --workers $(WORKERS)

test: install chromium dovecot ldap
	$(MAKE) --no-print-directory test-sqlite
	@if [ "$$CI" = "true" ] || pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  $(MAKE) --no-print-directory test-postgres; \
	else echo "PostgreSQL not reachable on 127.0.0.1:5432: PostgreSQL run skipped (CI=true makes this a failure)"; fi

test-sqlite: install
	@echo "== test suite on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest -q $(XDIST) $(PYTEST_ARGS)

test-postgres: install
	@echo "== test suite on PostgreSQL =="
	DATABASE_URL=$(PG_URL) COMPLAINTDESK_TESTS_DB_ONLY=1 $(BIN)/pytest -q $(XDIST) $(PYTEST_ARGS)

screenshots: install chromium
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -q -k browser $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/queue_page.py
	$(BIN)/python bench/intelligence_eval.py
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/similarity_bench.py
	$(BIN)/python bench/analytics_bench.py

# Soak (issue 9, about 13 minutes; not part of `make test`): intake at 80 % of the measured maximum for
# 10 minutes with RQ workers on PostgreSQL and Redis (bench/README.md). SOAK_ARGS="--minutes 2" etc.
soak: install
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) node_modules staticfiles complaintdesk.sqlite3*
