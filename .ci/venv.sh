#!/usr/bin/env bash
# Create .venv (Python 3.11+) if needed and install the project with its dev extras.
# The Makefile calls this only when pyproject.toml is newer than .venv/.installed.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
    if command -v python3.11 >/dev/null 2>&1; then
        echo python3.11
    elif command -v python3 >/dev/null 2>&1 &&
        python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo python3
    else
        echo "venv: ERROR: need python3.11 (or a python3 that is 3.11+)." >&2
        echo "    sudo apt-get install -y --no-install-recommends python3 python3-venv" >&2
        exit 1
    fi
}

if [[ ! -x .venv/bin/python ]]; then
    python=$(pick_python)
    # Debian splits ensurepip (needed by `-m venv`) into pythonX.Y-venv.
    if ! "$python" -c 'import ensurepip' >/dev/null 2>&1; then
        pkg="python$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
            echo "venv: installing $pkg"
            apt-get update
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$pkg"
        else
            echo "venv: ERROR: $python cannot create virtual environments. Install:" >&2
            echo "    sudo apt-get install -y --no-install-recommends $pkg" >&2
            exit 1
        fi
    fi
    echo "venv: creating .venv with $python ($(command -v "$python"))"
    rm -rf .venv
    "$python" -m venv .venv
fi

echo "venv: pip install -e '.[dev]'"
.venv/bin/python -m pip install --disable-pip-version-check -e '.[dev]'
