#!/usr/bin/env bash
# A throw-away PostgreSQL database and a Redis URL for the test suite.
#
#   .ci/services.sh with -- CMD [ARG...]
#
# Runs CMD with these exported:
#   PORTAL_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:PORT/portal_test_NNN
#   PORTAL_TEST_REDIS_URL=redis://127.0.0.1:PORT/15
# then drops the database and stops whatever servers it started, also when CMD fails or is
# interrupted. Exits with CMD's status.
#
# PostgreSQL on 127.0.0.1:$PORTAL_PG_PORT (default 5432; user postgres, no password) and Redis on
# 127.0.0.1:$PORTAL_REDIS_PORT (default 6379) are used when they answer. Otherwise private
# servers are started on free ports (from 55432 / 56379) in a temporary directory and removed
# afterwards. Point PORTAL_PG_PORT / PORTAL_REDIS_PORT at unused ports to force that.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
HOST=127.0.0.1
PG_PORT=${PORTAL_PG_PORT:-5432}
REDIS_PORT=${PORTAL_REDIS_PORT:-6379}
REDIS_DB=15
OWN_PG_PORT=55432
OWN_REDIS_PORT=56379

WORK=""         # temporary directory for private servers
PG_BIN=""       # set when we started our own PostgreSQL
REDIS_PID=""    # set when we started our own Redis
DB=""           # set once the throw-away database exists

log() { echo "services: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# Run a PostgreSQL server program; initdb/postgres refuse to run as root.
as_pg() {
    if is_root; then (cd "$WORK" && runuser -u postgres -- "$@"); else "$@"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

free_port() {
    local port=$1
    while port_in_use "$port"; do
        port=$((port + 1))
        ((port < $1 + 100)) || die "no free port in $1..$port"
    done
    echo "$port"
}

pg_answers() {
    pg_isready -q -h "$HOST" -p "$1" &&
        psql -h "$HOST" -p "$1" -U postgres -w -d postgres -XAtqc 'select 1' >/dev/null 2>&1
}

redis_answers() {
    if command -v redis-cli >/dev/null 2>&1; then
        [[ $(timeout 5 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null) == PONG ]]
    else
        (
            exec 3<>"/dev/tcp/$HOST/$1" && printf 'PING\r\n' >&3 &&
                IFS= read -r -t 5 reply <&3 && [[ $reply == +PONG* ]]
        ) 2>/dev/null
    fi
}

make_workdir() {
    [[ -n $WORK ]] && return
    if is_root; then
        WORK=$(mktemp -d /tmp/portal-services.XXXXXX)
        chmod 755 "$WORK" # the postgres user must reach its data directory inside
    else
        WORK=$(mktemp -d "${TMPDIR:-/tmp}/portal-services.XXXXXX")
    fi
}

start_own_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [[ ! -x $bin/initdb ]]; then
        "$HERE/sysdeps.sh" --need postgresql
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    fi
    make_workdir
    PG_PORT=$(free_port "$OWN_PG_PORT")
    mkdir "$WORK/pg"
    if is_root; then chown postgres: "$WORK/pg"; fi
    log "starting a private PostgreSQL ($bin) on $HOST:$PG_PORT in $WORK/pg"
    if ! as_pg "$bin/initdb" -D "$WORK/pg/data" -A trust -U postgres -E UTF8 --no-locale \
        --no-sync >"$WORK/initdb.log" 2>&1; then
        cat "$WORK/initdb.log" >&2
        die "initdb failed"
    fi
    PG_BIN=$bin
    if ! as_pg "$bin/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w -t 60 \
        -o "-p $PG_PORT -k $WORK/pg -c listen_addresses=$HOST -c fsync=off" start >/dev/null; then
        cat "$WORK/pg/server.log" >&2
        die "PostgreSQL did not start"
    fi
}

start_own_redis() {
    command -v redis-server >/dev/null 2>&1 || "$HERE/sysdeps.sh" --need redis-server
    make_workdir
    REDIS_PORT=$(free_port "$OWN_REDIS_PORT")
    mkdir "$WORK/redis"
    log "starting a private Redis on $HOST:$REDIS_PORT in $WORK/redis"
    redis-server --port "$REDIS_PORT" --bind "$HOST" --save '' --appendonly no \
        --daemonize yes --pidfile "$WORK/redis/redis.pid" --dir "$WORK/redis" \
        --logfile "$WORK/redis/redis.log"
    for _ in $(seq 50); do
        if [[ -s $WORK/redis/redis.pid ]] && redis_answers "$REDIS_PORT"; then
            REDIS_PID=$(cat "$WORK/redis/redis.pid")
            return
        fi
        sleep 0.2
    done
    cat "$WORK/redis/redis.log" >&2 || true
    die "Redis did not start"
}

cleanup() {
    set +e
    if [[ -n $DB ]]; then
        log "dropping database $DB"
        dropdb -h "$HOST" -p "$PG_PORT" -U postgres -w --if-exists --force "$DB" 2>/dev/null ||
            dropdb -h "$HOST" -p "$PG_PORT" -U postgres -w --if-exists "$DB" ||
            log "WARNING: could not drop database $DB on $HOST:$PG_PORT"
    fi
    if [[ -n $PG_BIN ]]; then
        log "stopping the private PostgreSQL"
        as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w -t 60 stop >/dev/null
    fi
    if [[ -z $REDIS_PID && -n $WORK && -s $WORK/redis/redis.pid ]]; then
        REDIS_PID=$(cat "$WORK/redis/redis.pid")
    fi
    if [[ -n $REDIS_PID ]]; then
        log "stopping the private Redis"
        kill "$REDIS_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$REDIS_PID" 2>/dev/null || break; sleep 0.2; done
    fi
    if [[ -n $WORK ]]; then rm -rf "$WORK"; fi
}

cmd_with() {
    [[ ${1:-} == -- ]] && shift
    [[ $# -gt 0 ]] || usage

    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    if ! command -v psql >/dev/null 2>&1; then "$HERE/sysdeps.sh" --need postgresql; fi
    if pg_answers "$PG_PORT"; then
        log "using PostgreSQL on $HOST:$PG_PORT"
    else
        log "no usable PostgreSQL on $HOST:$PG_PORT (user postgres, no password)"
        start_own_postgres
    fi
    if redis_answers "$REDIS_PORT"; then
        log "using Redis on $HOST:$REDIS_PORT (db $REDIS_DB)"
    else
        log "no Redis answering on $HOST:$REDIS_PORT"
        start_own_redis
    fi

    local name="portal_test_$$_${RANDOM}"
    createdb -h "$HOST" -p "$PG_PORT" -U postgres -w "$name" || die "createdb $name failed"
    DB=$name
    log "created database $DB"

    export PORTAL_TEST_DATABASE_URL="postgresql+psycopg://postgres@$HOST:$PG_PORT/$DB"
    export PORTAL_TEST_REDIS_URL="redis://$HOST:$REDIS_PORT/$REDIS_DB"

    local status=0
    "$@" || status=$?
    exit "$status" # the EXIT trap cleans up
}

usage() {
    echo "usage: $0 with -- CMD [ARG...]" >&2
    exit 2
}

case "${1:-}" in
    with) shift; cmd_with "$@" ;;
    *) usage ;;
esac
