#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing, in one apt-get call:
#
#   bash scripts/ensure-debian.sh redis-server:redis-server /usr/bin/chromium:chromium
#
# Each argument is <command or absolute path>:<package>; a package is installed only when its
# command is not found. redis-server: the worker tests run a real one. chromium: the
# observatory test drives a real headless browser through playwright-core (no tool ever
# downloads a browser of its own). Needs root (or sudo) and Debian's package sources.
set -euo pipefail
missing=()
for pair in "$@"; do
  cmd="${pair%%:*}"
  pkg="${pair#*:}"
  if [[ "$cmd" == /* ]]; then [ -x "$cmd" ] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
  missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${missing[*]}, and apt-get is not available: install them by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing ${missing[*]} (Debian packages)" >&2
$SUDO apt-get update -q >&2 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
