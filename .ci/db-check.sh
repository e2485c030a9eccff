#!/usr/bin/env bash
# Apply all migrations to an empty database, then check the models match them.
#
#   .ci/db-check.sh sqlite     # a throw-away SQLite file
#   .ci/db-check.sh postgres   # $PORTAL_TEST_DATABASE_URL (run it under .ci/services.sh with --)
#
# A temporary instance folder keeps instance/ (and instance/config.py) out of it.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portal-dbcheck.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

case "${1:-}" in
    sqlite) url="sqlite:///$tmp/check.db" ;;
    postgres) url=${PORTAL_TEST_DATABASE_URL:?run this under .ci/services.sh with --} ;;
    *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac

export PORTAL_INSTANCE_PATH="$tmp"
export PORTAL_DATABASE_URL="$url"
echo "db check ($1): PORTAL_DATABASE_URL=$url"
echo "+ .venv/bin/flask --app portal db upgrade"
.venv/bin/flask --app portal db upgrade
echo "+ .venv/bin/flask --app portal db check"
.venv/bin/flask --app portal db check
