#!/usr/bin/env bash
# Installs Debian's redis-server when it is missing (the worker tests run a real one).
# Needs root and Debian's package sources; does nothing when redis-server is already there.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is missing and apt-get is not available: install Redis (>= 6.2) by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing redis-server (Debian package)" >&2
$SUDO apt-get update -q >&2 || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends redis-server >&2
