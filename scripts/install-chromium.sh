#!/usr/bin/env bash
# Install Debian's Chromium and chromedriver, which the `chromium` device backend drives through
# Appium's Chromium driver. Idempotent: does nothing when both binaries are already present.
# Instep never downloads a chromedriver at run time; this is the only way one gets installed.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

if [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; then
  echo "install-chromium: already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"), $("$CHROMEDRIVER" --version 2>/dev/null | head -1 || echo "$CHROMEDRIVER")"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: apt-get is not available on this system; install Chromium and chromedriver" >&2
  echo "  with your package manager so that $CHROMIUM and $CHROMEDRIVER exist" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    echo "install-chromium: not root; using sudo for apt-get"
    SUDO="sudo"
  else
    echo "install-chromium: must run as root (or with sudo available) to apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi

echo "install-chromium: apt-get install chromium chromium-driver"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium chromium-driver
echo "install-chromium: installed: $("$CHROMIUM" --version 2>/dev/null), $("$CHROMEDRIVER" --version 2>/dev/null | head -1)"
