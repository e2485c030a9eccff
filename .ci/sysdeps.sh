#!/usr/bin/env bash
# Check the Debian packages the portal uses; install the missing ones when root.
#
#   .ci/sysdeps.sh --need PKG... [--want PKG...]
#
# --need: missing packages are fatal (unless we can install them as root).
# --want: missing packages only produce a warning with the command to install them.
set -euo pipefail

need=() want=() list=need
for arg in "$@"; do
    case "$arg" in
        --need) list=need ;;
        --want) list=want ;;
        *) if [[ $list == need ]]; then need+=("$arg"); else want+=("$arg"); fi ;;
    esac
done

if ! command -v dpkg >/dev/null 2>&1; then
    echo "sysdeps: no dpkg (not Debian?); skipping the package check." >&2
    exit 0
fi

installed() { dpkg -s "$1" >/dev/null 2>&1; }

missing_need=() missing_want=()
for pkg in ${need[@]+"${need[@]}"}; do installed "$pkg" || missing_need+=("$pkg"); done
for pkg in ${want[@]+"${want[@]}"}; do installed "$pkg" || missing_want+=("$pkg"); done
missing=(${missing_need[@]+"${missing_need[@]}"} ${missing_want[@]+"${missing_want[@]}"})

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "sysdeps: all Debian packages present."
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    echo "sysdeps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
    exit 0
fi

echo "sysdeps: missing Debian packages: ${missing[*]}" >&2
echo "sysdeps: install them with:" >&2
echo "    sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
if [[ ${#missing_need[@]} -gt 0 ]]; then
    echo "sysdeps: ERROR: required packages missing: ${missing_need[*]}" >&2
    exit 1
fi
echo "sysdeps: continuing; only optional packages are missing." >&2
