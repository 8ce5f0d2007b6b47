#!/usr/bin/env bash
# Install bubblewrap, the sandbox every job runs in on Linux workers (`instep serve` / `instep
# worker` refuse to run jobs without it unless INSTEP_UNSANDBOXED_JOBS=1). Idempotent.
set -euo pipefail

if command -v bwrap >/dev/null 2>&1; then
  echo "install-sandbox: already installed: $(bwrap --version)"
  exit 0
fi
if [ "$(uname -s)" != "Linux" ]; then
  echo "install-sandbox: bubblewrap is Linux-only; on $(uname -s) workers run jobs unsandboxed with" >&2
  echo "  INSTEP_UNSANDBOXED_JOBS=1 (see README, 'Job sandbox')" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-sandbox: apt-get is not available; install the 'bubblewrap' package with your package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-sandbox: must run as root (or with sudo) to apt-get install bubblewrap" >&2
    exit 1
  fi
fi
echo "install-sandbox: apt-get install bubblewrap"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends bubblewrap
echo "install-sandbox: installed: $(bwrap --version)"
