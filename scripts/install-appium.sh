#!/usr/bin/env bash
# Install Appium 3 and its Chromium driver into tools/appium (git-ignored). Idempotent.
#   tools/appium/node_modules/.bin/appium   the Appium 3 CLI
#   tools/appium/home                        APPIUM_HOME / INSTEP_APPIUM_HOME (drivers live here)
# The Chromium driver is installed from the npm registry with npm itself, so the only network
# this needs is registry.npmjs.org; at run time the driver uses Debian's /usr/bin/chromedriver.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/tools/appium"
HOME_DIR="${INSTEP_APPIUM_HOME:-$DIR/home}"
APPIUM="$DIR/node_modules/.bin/appium"

if ! command -v npm >/dev/null 2>&1; then
  echo "install-appium: npm is not installed; install Node.js 20+ (e.g. apt-get install nodejs npm)" >&2
  exit 1
fi

mkdir -p "$DIR" "$HOME_DIR"
if [ -x "$APPIUM" ] && "$APPIUM" --version 2>/dev/null | grep -q '^3\.'; then
  echo "install-appium: appium $("$APPIUM" --version) already in $DIR"
else
  echo "install-appium: npm install appium@3 into $DIR"
  [ -f "$DIR/package.json" ] || echo '{"name": "instep-appium", "private": true}' >"$DIR/package.json"
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error appium@3
  echo "install-appium: installed appium $("$APPIUM" --version)"
fi

if APPIUM_HOME="$HOME_DIR" "$APPIUM" driver list --installed --json 2>/dev/null | grep -q '"chromium"'; then
  echo "install-appium: appium-chromium-driver already installed in $HOME_DIR"
else
  echo "install-appium: appium driver install --source=npm appium-chromium-driver (APPIUM_HOME=$HOME_DIR)"
  APPIUM_HOME="$HOME_DIR" "$APPIUM" driver install --source=npm appium-chromium-driver
fi

# Ask the driver never to download a chromedriver: it must use Debian's.
echo "install-appium: done. Use:"
echo "  export INSTEP_APPIUM_HOME=$HOME_DIR PATH=$DIR/node_modules/.bin:\$PATH"
