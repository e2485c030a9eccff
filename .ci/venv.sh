#!/usr/bin/env bash
# Create a virtual environment (Python 3.11+) and install exactly what a lock file pins.
#
#   .ci/venv.sh [VENV [LOCK]]   # default: .venv from requirements.lock
#   .ci/venv.sh --check-python  # only say whether a usable Python is there (exit 1 if not)
#
# Packages are installed hash-checked with --no-deps, so pip resolves nothing: what the lock
# says is what runs. The Makefile calls this when the lock or pyproject.toml is newer than
# VENV/.installed.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_PYTHON=3.11

check_only=false
if [[ ${1:-} == --check-python ]]; then
    check_only=true
    shift
fi
venv=${1:-.venv}
lock=${2:-requirements.lock}

log() { echo "venv: $*"; }
die() { echo "venv: ERROR: $*" >&2; exit 1; }

# A Python of at least $MIN_PYTHON: python3.11 first (what the lock was made for), then python3.
pick_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && usable "$candidate"; then
            echo "$candidate"
            return
        fi
    done
    local found="none"
    command -v python3 >/dev/null 2>&1 && found="$(python3 --version 2>&1) at $(command -v python3)"
    {
        echo "venv: ERROR: the portal needs Python $MIN_PYTHON or newer; found: $found."
        echo "    On Debian 12: sudo apt-get install -y --no-install-recommends python3 python3-venv"
        echo "    Elsewhere, install Python $MIN_PYTHON and put python3.11 on PATH."
    } >&2
    exit 1
}

usable() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

if $check_only; then
    python=$(pick_python)
    echo "python: $("$python" --version 2>&1) ($(command -v "$python"))"
    exit 0
fi

# A venv left by an older Python is made again.
if [[ -x $venv/bin/python ]] && ! usable "$venv/bin/python"; then
    log "$venv has $("$venv/bin/python" --version 2>&1), older than $MIN_PYTHON: making it again"
    rm -rf "$venv"
fi

if [[ ! -x $venv/bin/python ]]; then
    python=$(pick_python)
    # Debian splits ensurepip (needed by `-m venv`) into pythonX.Y-venv.
    if ! "$python" -c 'import ensurepip' >/dev/null 2>&1; then
        pkg="python$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
            log "installing $pkg"
            apt-get update
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg"
        else
            die "$python cannot create virtual environments. Install:
    sudo apt-get install -y --no-install-recommends $pkg"
        fi
    fi
    log "creating $venv with $python ($(command -v "$python"), $("$python" --version 2>&1))"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi

pip=("$venv/bin/python" -m pip --disable-pip-version-check)

[[ -f $lock ]] || die "$lock is missing; restore it from git (git checkout -- $lock)."

# Every package comes from the lock at its pinned version, checked against its hashes, with
# --no-deps so pip resolves nothing. The build backend goes first, so that the source-only
# packages and the project itself build with it (--no-build-isolation) instead of a setuptools
# fetched for the occasion.
build_lock=$(mktemp "${TMPDIR:-/tmp}/portal-build-lock.XXXXXX")
trap 'rm -f "$build_lock"' EXIT
awk '/^[^ #]/ { keep = ($0 ~ /^setuptools==/) } keep' "$lock" >"$build_lock"
[[ -s $build_lock ]] || die "$lock pins no setuptools (the build backend); run make lock."

log "installing from $lock (hash-checked, no dependency resolution)"
"${pip[@]}" install --require-hashes --no-deps -r "$build_lock"
"${pip[@]}" install --require-hashes --no-deps --no-build-isolation -r "$lock"
# Exactly the lock: a package it no longer names (dropped or replaced) leaves the venv.
normalise() { tr 'A-Z_.' 'a-z--'; }
extra=$(comm -23 \
    <("${pip[@]}" list --format=freeze --exclude-editable | cut -d= -f1 | normalise | sort -u) \
    <({ grep -E '^[A-Za-z0-9]' "$lock" | cut -d= -f1; echo pip; } | normalise | sort -u))
if [[ -n $extra ]]; then
    log "removing packages the lock does not name: $(echo $extra)"
    "${pip[@]}" uninstall -y $extra
fi

log "installing the portal itself (editable, no dependencies)"
"${pip[@]}" install --no-deps --no-build-isolation -e .

# A dependency added to pyproject.toml but not to the lock shows up here, not at import time.
if ! "${pip[@]}" check; then
    die "the installed packages do not satisfy pyproject.toml; after changing a dependency run:
    make lock"
fi
# What this venv was installed from, for the suite's check that it holds exactly that.
if [[ ! $lock -ef $venv/requirements.lock ]]; then cp "$lock" "$venv/requirements.lock"; fi
