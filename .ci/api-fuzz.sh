#!/usr/bin/env bash
# Fuzz the /api/v1 API with schemathesis against a live portal, once per role.
#
#   .ci/api-fuzz.sh                        # what `make api-fuzz` (and so `make test`) runs
#   API_FUZZ_EXAMPLES=50 .ci/api-fuzz.sh   # more examples per operation
#   API_FUZZ_ROLES=legal .ci/api-fuzz.sh   # one role
#   API_FUZZ_TIMES=1 .ci/api-fuzz.sh       # and the server time spent per operation
#
# A throw-away instance folder (SQLite, the demo data, an API token per role) is served by
# gunicorn on 127.0.0.1. Before fuzzing, legal@ adds what the demo data lacks (evidence, a draft
# document, a bundle) so the operations on them have something to find; their ids are in
# schemathesis.toml. The job worker runs for that (exhibit PDFs, the bundle) and is stopped
# before fuzzing: the jobs fuzzing queues (bulk letters, bundles) would hold SQLite's write lock
# for seconds and turn other requests into 503s by chance, and no answer waits for them (202
# with the job). /api/v1/health then reports the worker missing (503 "degraded", as documented).
#
# Each role's run uses every check, a fixed seed and a bounded number of examples per
# operation; schemathesis.toml holds the rest. Destructive operations (PUT, PATCH, POST,
# DELETE) only touch this throw-away data. Any failure, or an exception in the server's log,
# fails the step. The servers are stopped and the folder removed on exit, on failure and on
# Ctrl-C. Measured on 2 cores: about 35 s of setup and 30 s per role.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
#: Test cases per operation in the fuzzing phase (the coverage phase sends its own fixed set).
EXAMPLES=${API_FUZZ_EXAMPLES:-12}
SEED=${API_FUZZ_SEED:-20240616}
#: The lawyer first: the others may reassign or close the cases it sees.
ROLES=${API_FUZZ_ROLES:-"lawyer finance legal admin"}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/portal-apifuzz.XXXXXX")
server=
worker=
child=
stop() {
    # TERM, then wait: gunicorn and the worker stop cleanly before their folder goes.
    for pid in $child $server $worker; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in $child $server $worker; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 130' INT TERM
# Runs a long command in the background and waits for it: a signal to this script (Ctrl-C, a
# CI timeout) then stops it at once, instead of after the command.
run() {
    "$@" &
    child=$!
    local status=0
    wait "$child" || status=$?
    child=
    return "$status"
}

export PORTAL_INSTANCE_PATH="$tmp/instance"
export PORTAL_SECRET_KEY="api-fuzz-$RANDOM$RANDOM"
export PORTAL_SESSION_COOKIE_SECURE=false
export PORTAL_REMEMBER_COOKIE_SECURE=false
# A job still running when the worker is stopped is abandoned at once.
export PORTAL_JOBS_SHUTDOWN_SECONDS=1
# Nothing from the caller's environment points this instance at a real database, queue or
# virus scanner: SQLite and the SQLite job queue in the folder, uploads not scanned.
unset PORTAL_DATABASE_URL PORTAL_REDIS_URL PORTAL_CLAMD_SOCKET PORTAL_CLAMD_ADDRESS \
    PORTAL_TEST_DATABASE_URL PORTAL_TEST_REDIS_URL
mkdir -p "$PORTAL_INSTANCE_PATH"
flask=("$VENV/bin/flask" --app portal)
python="$VENV/bin/python"

began=$SECONDS
echo "api-fuzz: instance $PORTAL_INSTANCE_PATH (SQLite, the demo data)"
{ "${flask[@]}" db upgrade && "${flask[@]}" seed-demo; } >"$tmp/setup.log" 2>&1 \
    || { cat "$tmp/setup.log" >&2; exit 1; }

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"${flask[@]}" worker --workers 1 >"$tmp/worker.log" 2>&1 &
worker=$!
"$VENV/bin/gunicorn" -c gunicorn.conf.py -w 2 -b "127.0.0.1:$port" \
    --access-logfile - --access-logformat '%(s)s %(M)sms "%(r)s"' --error-logfile - \
    'portal:create_app()' >"$tmp/server.log" 2>&1 &
server=$!

# An API token per role (and legal@'s for the test data), made side by side while the servers
# start: each command loads the whole app (~4 s).
declare -A token
roles=$(printf '%s\n' legal $ROLES | sort -u)
pids=()
for role in $roles; do
    "${flask[@]}" users token "$role@arrears-demo.example" >"$tmp/token-$role" 2>&1 &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || { cat "$tmp"/token-* >&2; exit 1; }
done
for role in $roles; do
    token[$role]=$(tail -n 1 "$tmp/token-$role")
done

# The portal healthy (worker included), then the test data, as legal@: case 3 (AC-…-0003,
# Brackley, lawyer@'s) gets evidence 1 with its exhibit PDF, document 1 (a draft demand
# letter), bundle 1 (built by job 1), and one more evidence item per role (printed: role id).
cat >"$tmp/make-data.py" <<'PY'
import sys
import time

import requests

base, token, roles = sys.argv[1], sys.argv[2], sys.argv[3:]
api = requests.Session()
api.headers["Authorization"] = f"Bearer {token}"


def wait(what, check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    sys.exit(f"api-fuzz: {what} did not happen within {seconds} s")


def call(method, path, status, **kwargs):
    response = api.request(method, base + path, timeout=60, **kwargs)
    if response.status_code != status:
        sys.exit(f"api-fuzz: {method} {path} answered {response.status_code}: {response.text}")
    return response.json()


def upload():
    with open("tests/resources/good/two-pages.pdf", "rb") as pdf:
        form = {"kind": "delivery_note", "invoices": "EW-0001-INV-01", "signed_by_debtor": "true"}
        return call("POST", "/api/v1/cases/3/evidence", 201, files={"file": pdf}, data=form)


wait("the portal becoming healthy", lambda: requests.get(f"{base}/api/v1/health").ok)
first = upload()["id"]
wait("the exhibit PDF", lambda: call("GET", f"/api/v1/evidence/{first}", 200)["rendition_status"] == "done")
document = call("POST", "/api/v1/cases/3/documents", 201, json={"kind": "demand_letter"})["id"]
job = call("POST", "/api/v1/cases/3/bundles", 202, json={})["job"]
wait("the bundle", lambda: call("GET", f"/api/v1/jobs/{job}", 200)["status"] == "done")
bundle = call("GET", f"/api/v1/jobs/{job}", 200)["result"]["bundle"]
if (first, document, bundle, job) != (1, 1, 1, 1):
    sys.exit(f"api-fuzz: ids {(first, document, bundle, job)} are not those schemathesis.toml names")
for role in roles:
    print(role, upload()["id"])
PY
if ! run "$python" "$tmp/make-data.py" "$base" "${token[legal]}" $ROLES >"$tmp/evidence"; then
    tail -n 40 "$tmp/server.log" "$tmp/worker.log" >&2
    exit 1
fi
declare -A evidence
while read -r role id; do evidence[$role]=$id; done <"$tmp/evidence"
kill -TERM "$worker"
wait "$worker" 2>/dev/null || true
worker=
echo "api-fuzz: portal on $base; evidence 1, document 1, bundle 1 (job 1) made; worker" \
    "stopped ($((SECONDS - began)) s)"

failed=""
started=$SECONDS
for role in $ROLES; do
    echo
    echo "==> schemathesis as $role@ (seed $SEED, at most $EXAMPLES examples per operation)"
    # schemathesis.toml, plus the id of this role's own evidence item.
    config="$tmp/schemathesis-$role.toml"
    cp schemathesis.toml "$config"
    printf '\n[dictionaries.evidence]\nvalues = [%s]\n\n[[operations]]\n%s\n%s\n' \
        "${evidence[$role]}" 'include-path-regex = "^/api/v1/evidence/"' \
        'parameters = { "path.evidence_id" = { dictionary = "evidence" } }' >>"$config"
    run "$VENV/bin/st" --config-file "$config" run "$base/api/v1/openapi.json" \
        -H "Authorization: Bearer ${token[$role]}" \
        --checks all --seed "$SEED" --max-examples "$EXAMPLES" \
        --generation-database none --no-color \
        || failed="$failed $role"
done
echo
echo "api-fuzz: $((SECONDS - started)) s of fuzzing"
if [[ -n ${API_FUZZ_TIMES:-} ]]; then
    echo "api-fuzz: server time per operation (ms, requests):"
    awk '$2 ~ /ms$/ { sub(/ms$/, "", $2); path = $4; gsub(/[0-9]+/, "N", path); sub(/\?.*/, "", path)
        t[$3 " " path] += $2; n[$3 " " path]++ }
        END { for (k in t) printf "%8d %5d %s\n", t[k], n[k], k }' "$tmp/server.log" | sort -rn \
        | sed -n 1,15p
fi
# A server error schemathesis could not see (an exception behind a 4xx, say) fails the step.
if grep -q 'Traceback' "$tmp/server.log"; then
    echo "api-fuzz: the server logged exceptions:" >&2
    grep -B2 -A30 'Traceback' "$tmp/server.log" | head -n 80 >&2
    failed="$failed server-log"
fi
if [[ -n $failed ]]; then
    echo "api-fuzz: FAILED:$failed" >&2
    exit 1
fi
echo "api-fuzz: schemathesis found nothing as $ROLES"
