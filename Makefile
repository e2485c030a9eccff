# Arrears Portal: developer and CI entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.NOTPARALLEL:

VENV   := .venv
STAMP  := $(VENV)/.installed
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app portal
RUFF   := $(VENV)/bin/ruff
PYTEST := $(PY) -m pytest -p no:cacheprovider

# Only the folders that exist (migrations/ and bench/ may not yet).
LINT_PATHS   := $(wildcard portal tests bench migrations)
FORMAT_PATHS := $(wildcard portal tests bench)

# Debian packages, checked with `dpkg -s` and installed with apt-get when running as root.
DEB_DOCS     := libreoffice-writer-nogui libreoffice-calc-nogui qpdf poppler-utils
DEB_FONTS    := fonts-noto-cjk fonts-dejavu-core fonts-liberation2
DEB_BROWSER  := chromium
DEB_SERVICES := postgresql redis-server

# `make test` runs every step, even after a failure, and fails at the end if any step failed.
TEST_STEPS := lint db-check-sqlite db-check-postgres templates-check pytest-sqlite pytest-postgres

.PHONY: help run worker test lint format bench clean venv sysdeps-run sysdeps-test \
	db-check-sqlite db-check-postgres templates-check pytest-sqlite pytest-postgres

help:
	@echo "Arrears Portal"
	@echo
	@echo "  make run      install what is missing, migrate, seed demo users, start worker + web"
	@echo "                server on http://127.0.0.1:5000 (Ctrl-C stops both)"
	@echo "  make test     ruff, migration checks, pytest on SQLite and on PostgreSQL + Redis"
	@echo "  make lint     ruff check + ruff format --check"
	@echo "  make format   sort imports and reformat with ruff"
	@echo "  make worker   run the background job worker on its own"
	@echo "  make bench    run bench/*.py"
	@echo "  make clean    remove .venv and caches (keeps instance/ data)"
	@echo
	@echo "Single test steps: $(TEST_STEPS)"

# --- setup -------------------------------------------------------------------------------------

# Document tools and fonts (Chinese letters need Noto CJK) are needed; Chromium and the servers
# are only wanted for `make run`.
sysdeps-run:
	@.ci/sysdeps.sh --need $(DEB_DOCS) $(DEB_FONTS) --want $(DEB_BROWSER) $(DEB_SERVICES)

sysdeps-test:
	@.ci/sysdeps.sh --need $(DEB_DOCS) $(DEB_FONTS) $(DEB_BROWSER) $(DEB_SERVICES)

venv: $(STAMP)

# Re-installs only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	.ci/venv.sh
	touch "$@"

# --- running -----------------------------------------------------------------------------------

# One shell: the trap stops the background worker whenever the web server exits.
run: sysdeps-run venv
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@$(FLASK) worker & worker=$$!; \
	trap 'kill "$$worker" 2>/dev/null; wait "$$worker" 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	echo; \
	echo "================================================"; \
	echo "  Portal: http://127.0.0.1:5000"; \
	echo "  (worker pid $$worker; Ctrl-C stops both)"; \
	echo "================================================"; \
	echo; \
	$(FLASK) run --host 127.0.0.1 --port 5000

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
	rm -rf "$(VENV)" .pytest_cache .ruff_cache build dist *.egg-info
	find . -path ./.git -prune -o -path ./instance -prune -o \
		-type d -name __pycache__ -prune -exec rm -rf {} +
