# Arrears Portal: developer and CI entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.NOTPARALLEL:

VENV   := .venv
LOCK   := requirements.lock
STAMP  := $(VENV)/.installed
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app portal
RUFF   := $(VENV)/bin/ruff
PYTEST := $(PY) -m pytest -p no:cacheprovider

# Where `make run` serves the portal: `make run HOST=0.0.0.0 PORT=8000`.
HOST ?= 127.0.0.1
PORT ?= 5000
#: The demo's time-stamping authority (make run), on 127.0.0.1 beside the portal.
TSA_PORT ?= $(shell echo $$(( $(PORT) + 1 )))
# The address to open: with HOST=0.0.0.0 (every interface), this machine's name.
URL = http://$(if $(filter 0.0.0.0 ::,$(HOST)),$(shell hostname),$(HOST)):$(PORT)

# The lock: every runtime, dev and build dependency pinned with hashes, for CPython 3.11 on
# Linux x86_64. `make lock` keeps the pins it can; `make upgrade` takes the newest allowed.
UV         := $(VENV)/bin/uv
UV_COMPILE := $(UV) pip compile pyproject.toml --extra dev --group build --generate-hashes \
	--python-version 3.11 --python-platform x86_64-unknown-linux-gnu --quiet
# `make test-latest` installs the newest releases pyproject.toml allows here, beside .venv.
LATEST      := .venv-latest
LATEST_LOCK := .venv-latest.lock

# Only the folders that exist (migrations/ and bench/ may not yet).
LINT_PATHS   := $(wildcard portal tests bench migrations)
FORMAT_PATHS := $(wildcard portal tests bench)

# Debian packages, checked with `dpkg -s` and installed with apt-get when running as root.
DEB_DOCS     := libreoffice-writer-nogui libreoffice-calc-nogui qpdf poppler-utils
# The time zones "today" is taken in (Asia/Shanghai, Europe/London, America/Chicago).
DEB_BASE     := tzdata
DEB_FONTS    := fonts-noto-cjk fonts-dejavu-core fonts-liberation2
DEB_BROWSER  := chromium
DEB_SERVICES := postgresql redis-server
# certutil: the tests give pdfsig a trust store holding only the test CA. clamd: the upload
# scanning tests start their own daemon on a signature database they write (tests/clamd.py).
# `make run` does not install it (a daemon that needs ~300 MB of signatures from the internet);
# it scans uploads when one answers on $(CLAMD_SOCKET).
DEB_TESTS    := libnss3-tools clamav-daemon
# Debian's clamd socket (package clamav-daemon): `make run` scans uploads through it if it answers.
CLAMD_SOCKET ?= /run/clamav/clamd.ctl

# `make test` runs every step, even after a failure, and fails at the end if any step failed.
TEST_STEPS := lint db-check-sqlite db-check-postgres templates-check pytest-sqlite api-fuzz \
	pytest-postgres

.PHONY: help run worker test lint format bench clean venv python-check sysdeps-run sysdeps-test \
	lock upgrade test-latest db-check-sqlite db-check-postgres templates-check pytest-sqlite \
	api-fuzz pytest-postgres

help:
	@echo "Arrears Portal"
	@echo
	@echo "  make run          install what is missing, migrate, seed the demo data, start the worker"
	@echo "                   and the web server on http://$(HOST):$(PORT) (Ctrl-C stops both)"
	@echo "  make run HOST=0.0.0.0 PORT=8000"
	@echo "                   the same on another address or port (HOST=0.0.0.0: every interface)"
	@echo "  make test         ruff, migration checks, pytest on SQLite, schemathesis against the API,"
	@echo "                   pytest on PostgreSQL + Redis"
	@echo "  make lint         ruff check + ruff format --check"
	@echo "  make format       sort imports and reformat with ruff"
	@echo "  make worker       run the background job worker on its own"
	@echo "  make bench        run bench/*.py"
	@echo "  make lock         rewrite $(LOCK) from pyproject.toml (keeps the pins it can)"
	@echo "  make upgrade      bump $(LOCK) to the newest releases allowed, reinstall, make test"
	@echo "  make test-latest  the suite in $(LATEST)/ with the newest releases allowed (the lock"
	@echo "                   is left alone): an upstream break shows here before a lock bump"
	@echo "  make clean        remove .venv, $(LATEST) and caches (keeps instance/ data)"
	@echo
	@echo "Single test steps: $(TEST_STEPS)"

# --- setup -------------------------------------------------------------------------------------

# Fails first, with the fix, when no Python 3.11+ is there (pyproject.toml says requires-python).
python-check:
	@.ci/venv.sh --check-python

# Document tools and fonts (Chinese letters need Noto CJK) are needed; Chromium and the servers
# are only wanted for `make run`.
sysdeps-run: python-check
	@.ci/sysdeps.sh --need $(DEB_BASE) $(DEB_DOCS) $(DEB_FONTS) --want $(DEB_BROWSER) $(DEB_SERVICES)

sysdeps-test: python-check
	@.ci/sysdeps.sh --need $(DEB_BASE) $(DEB_DOCS) $(DEB_FONTS) $(DEB_BROWSER) $(DEB_SERVICES) $(DEB_TESTS)

venv: $(STAMP)

# Installs exactly what the lock pins (hash-checked, nothing resolved) when the lock or
# pyproject.toml is newer than the stamp.
$(STAMP): $(LOCK) pyproject.toml
	.ci/venv.sh "$(VENV)" "$(LOCK)"
	touch "$@"

# Adding a dependency: put its range in pyproject.toml, then `make lock` (and commit both).
lock: venv
	$(UV_COMPILE) --custom-compile-command "make lock" -o "$(LOCK)"
	@echo "lock: $(LOCK) written; the next make run/test installs from it"

upgrade: venv
	$(UV_COMPILE) --custom-compile-command "make lock" --upgrade -o "$(LOCK)"
	@git --no-pager diff --stat -- "$(LOCK)" 2>/dev/null || true
	$(MAKE) --no-print-directory test

# Not part of `make test` or CI: a fresh resolution, exactly what `make upgrade` would lock.
test-latest: venv
	$(UV_COMPILE) --custom-compile-command "make test-latest" --upgrade --no-annotate \
		-o "$(LATEST_LOCK)"
	.ci/venv.sh "$(LATEST)" "$(LATEST_LOCK)"
	@touch "$(LATEST)/.installed"
	@echo; echo "==> versions that differ from $(LOCK) (< locked, > newest)"
	@diff <(grep -E '^[A-Za-z0-9]' "$(LOCK)" | cut -d' ' -f1) \
		<(grep -E '^[A-Za-z0-9]' "$(LATEST_LOCK)" | cut -d' ' -f1) && echo "(none)" || true
	@failed=""; \
	for step in pytest-sqlite pytest-postgres; do \
		echo; echo "==> make $$step (newest releases, $(LATEST))"; \
		$(MAKE) --no-print-directory "$$step" VENV="$(LATEST)" LOCK="$(LATEST_LOCK)" \
			|| failed="$$failed $$step"; \
	done; \
	echo; \
	if [[ -n "$$failed" ]]; then echo "make test-latest: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test-latest: the newest releases pass; \`make upgrade\` would lock them"

# --- running -----------------------------------------------------------------------------------

# `make run` is the plain-http demo, so its cookies drop the Secure flag (browsers refuse Secure
# cookies over http on any host but localhost). Set either variable to true to keep the flag.
run: export PORTAL_SESSION_COOKIE_SECURE ?= false
run: export PORTAL_REMEMBER_COOKIE_SECURE ?= false
run: export PORTAL_DEMO_PKI_URL ?= http://127.0.0.1:$(TSA_PORT)

# One shell: the trap stops the background worker whenever the web server exits.
run: sysdeps-run venv
	$(FLASK) db upgrade
	$(FLASK) seed-demo --url "$(URL)"
	@tsa=; if tsa_url=$$($(FLASK) demo-tsa --port "$(TSA_PORT)" --url 2>/dev/null); then \
	  $(FLASK) demo-tsa --port "$(TSA_PORT)" & tsa=$$!; \
	  export PORTAL_TSA_URL="$${PORTAL_TSA_URL:-$$tsa_url}"; \
	fi; \
	if [ -z "$${PORTAL_CLAMD_SOCKET:-}$${PORTAL_CLAMD_ADDRESS:-}" ] && [ -S "$(CLAMD_SOCKET)" ] \
	  && $(PY) -c 'import sys; from clamav_client.clamd import ClamdUnixSocket; \
	    sys.exit(ClamdUnixSocket(sys.argv[1], timeout=2).ping() != "PONG")' \
	    "$(CLAMD_SOCKET)" 2>/dev/null; then \
	  export PORTAL_CLAMD_SOCKET="$(CLAMD_SOCKET)"; \
	fi; \
	$(FLASK) worker & worker=$$!; \
	trap 'kill $$worker $$tsa 2>/dev/null; wait $$worker $$tsa 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	echo; \
	echo "================================================"; \
	echo "  Portal: $(URL)  (listening on $(HOST):$(PORT))"; \
	echo "  (worker pid $$worker; Ctrl-C stops both)"; \
	if [ -n "$$PORTAL_TSA_URL" ]; then echo "  signatures: time-stamped by $$PORTAL_TSA_URL (PAdES B-LTA)"; \
	else echo "  signatures: PAdES B-B (no time-stamping authority)"; fi; \
	if [ -n "$${PORTAL_CLAMD_SOCKET:-}$${PORTAL_CLAMD_ADDRESS:-}" ]; then \
	  echo "  uploads: scanned by clamd at $${PORTAL_CLAMD_SOCKET:-$$PORTAL_CLAMD_ADDRESS}"; \
	else echo "  uploads: not scanned (no clamd answering on $(CLAMD_SOCKET))"; fi; \
	echo "  plain http: Secure cookies off (PORTAL_SESSION_COOKIE_SECURE=$$PORTAL_SESSION_COOKIE_SECURE)"; \
	echo "================================================"; \
	echo; \
	$(FLASK) run --host "$(HOST)" --port "$(PORT)"

worker: venv
	$(FLASK) worker

# --- checks ------------------------------------------------------------------------------------

test: sysdeps-test venv
	@failed=""; \
	for step in $(TEST_STEPS); do \
		echo; echo "==> make $$step"; \
		$(MAKE) --no-print-directory "$$step" || failed="$$failed $$step"; \
	done; \
	echo; \
	if [[ -n "$$failed" ]]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi
	@echo "make test: all steps passed"

lint: venv
	$(RUFF) check $(LINT_PATHS)
	$(RUFF) format --check $(FORMAT_PATHS)

format: venv
	$(RUFF) check --select I --fix $(LINT_PATHS)
	$(RUFF) format $(FORMAT_PATHS)

# Migrations applied to an empty database must match the models.
db-check-sqlite: venv
	.ci/db-check.sh sqlite

db-check-postgres: venv
	.ci/services.sh with -- .ci/db-check.sh postgres

# Every document template: Jinja syntax, variables against its manifest, tags split across runs.
templates-check: venv
	$(FLASK) templates check

# The suite makes its own temporary SQLite files; make sure no server URLs leak in.
pytest-sqlite: venv
	env -u PORTAL_TEST_DATABASE_URL -u PORTAL_TEST_REDIS_URL $(PYTEST)

# schemathesis against a throw-away portal (gunicorn on 127.0.0.1, SQLite, the demo data), once
# per role; its summary is printed and any failure fails the step (schemathesis.toml).
api-fuzz: venv
	VENV="$(VENV)" .ci/api-fuzz.sh

# services.sh provides a throw-away database + Redis and removes them afterwards.
pytest-postgres: venv
	.ci/services.sh with -- $(PYTEST)

# --- misc --------------------------------------------------------------------------------------

bench: venv
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [[ $${#scripts[@]} -eq 0 ]]; then echo "bench: no bench/*.py scripts yet"; exit 0; fi; \
	for script in "$${scripts[@]}"; do \
		echo "$(PY) $$script"; \
		"$(PY)" "$$script" || exit 1; \
	done

clean:
	rm -rf "$(VENV)" "$(LATEST)" "$(LATEST_LOCK)" .pytest_cache .ruff_cache build dist *.egg-info
	find . -path ./.git -prune -o -path ./instance -prune -o \
		-type d -name __pycache__ -prune -exec rm -rf {} +
