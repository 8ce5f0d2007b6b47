#!/usr/bin/env bash
# Installs the tools bench/screenshots.py measures against into the git-ignored tools/ folder:
# odiff (npm odiff-bin), pixelmatch 7.2.0 and pngjs (npm). Chromium renders the corpus.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/tools/bench-screenshots"
mkdir -p "$prefix"
if [ ! -f "$prefix/package.json" ]; then
  printf '{"name": "instep-bench-screenshots", "private": true, "type": "module"}\n' >"$prefix/package.json"
fi
npm install --prefix "$prefix" --no-audit --no-fund odiff-bin pixelmatch@7.2.0 pngjs@7
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update && apt-get install -y chromium
  else
    echo "chromium is missing: install it (apt-get install chromium) and run again" >&2
    exit 1
  fi
fi
echo "installed into $prefix"
