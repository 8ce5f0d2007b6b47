#!/usr/bin/env bash
# The dashboard's browser-side packages from the npm registry, into tools/dashboard (git-ignored):
#   htmx.org@2   copied to dashboard/static/htmx.min.js (served by Instep itself; no CDN)
#   axe-core     the accessibility engine the e2e tests inject into pages
# Idempotent: does nothing when both are present at the pinned versions.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/tools/dashboard"
HTMX_VERSION="2.0.8"
AXE_VERSION="4.14.1"
STATIC="$ROOT/dashboard/static"

if ! command -v npm >/dev/null 2>&1; then
  echo "install-dashboard-assets: npm is not installed; install Node.js 20+ (e.g. apt-get install nodejs npm)" >&2
  exit 1
fi
mkdir -p "$DIR"
have() { [ -f "$DIR/node_modules/$1/package.json" ] && grep -q "\"version\": \"$2\"" "$DIR/node_modules/$1/package.json"; }
if have htmx.org "$HTMX_VERSION" && have axe-core "$AXE_VERSION"; then
  echo "install-dashboard-assets: htmx.org $HTMX_VERSION and axe-core $AXE_VERSION already in $DIR"
else
  echo "install-dashboard-assets: npm install htmx.org@$HTMX_VERSION axe-core@$AXE_VERSION into $DIR"
  [ -f "$DIR/package.json" ] || echo '{"name": "instep-dashboard-assets", "private": true}' >"$DIR/package.json"
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "htmx.org@$HTMX_VERSION" "axe-core@$AXE_VERSION"
fi
if ! cmp -s "$DIR/node_modules/htmx.org/dist/htmx.min.js" "$STATIC/htmx.min.js"; then
  cp "$DIR/node_modules/htmx.org/dist/htmx.min.js" "$STATIC/htmx.min.js"
  echo "install-dashboard-assets: copied htmx $HTMX_VERSION to $STATIC/htmx.min.js"
fi
echo "install-dashboard-assets: axe-core at $DIR/node_modules/axe-core/axe.min.js"
