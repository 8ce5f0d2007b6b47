#!/usr/bin/env bash
# Dashboard logins for the demo: one person per role (qa, developer, release_manager, admin),
# each with a fresh random password, printed with the dashboard's URL. Safe to run again: an
# existing demo account gets a new password. Uses INSTEP_HOME / INSTEP_URL like the demo.
#   scripts/demo-users.sh            (after `instep serve` is up, or before: it migrates)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
INSTEP="${INSTEP_BIN:-$ROOT/.venv/bin/instep}"
URL="${INSTEP_URL:-http://127.0.0.1:8080}"

echo "demo: dashboard  $URL/  (sign in as one of these; passwords are new on every demo)"
for role in qa developer release_manager admin; do
  name="demo-${role//_/-}"
  password="$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-14)"
  if "$INSTEP" user list --json | grep -q "\"name\": \"$name\""; then
    printf '%s\n' "$password" | "$INSTEP" user passwd "$name" --password-stdin >/dev/null
  else
    printf '%s\n' "$password" | "$INSTEP" user add "$name" --role "$role" --password-stdin >/dev/null
  fi
  printf '  %-16s %-22s password %s\n' "$role" "$name" "$password"
done
