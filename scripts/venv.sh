#!/usr/bin/env bash
# Create the project's virtual environment (if missing) and install Instep with its test extras.
set -euo pipefail
VENV="${1:-.venv}"
PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null; then
  echo "instep setup: $PYTHON not found; install Python 3.11 or newer" >&2; exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "instep setup: $("$PYTHON" --version) is too old; Instep needs Python 3.11 or newer (set PYTHON=...)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "instep setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[test]'
echo "instep setup: Python packages installed in $VENV"
