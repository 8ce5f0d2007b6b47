#!/usr/bin/env bash
# `make demo`: start Instep in embedded mode, register examples/sample-app as a local git
# repository with Instep's post-receive hook, push a commit, and follow the run it starts.
# INSTEP_DEMO_EXIT=1 stops the server when the run ends (used by the tests); otherwise the
# server keeps running until Ctrl-C so the URLs stay usable.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv"
INSTEP="$VENV/bin/instep"
export INSTEP_HOME="${INSTEP_HOME:-$ROOT/.instep/demo}"
PORT="${INSTEP_DEMO_PORT:-8080}"
export INSTEP_URL="http://127.0.0.1:$PORT"
export PATH="$ROOT/tools/bin:$PATH"
export INSTEP_APPIUM_HOME="${INSTEP_APPIUM_HOME:-$ROOT/tools/appium/home}"
# The demo's store simulator answers at once: read review and rollout state every 2 s.
export INSTEP_STORE_POLL_SECONDS="${INSTEP_STORE_POLL_SECONDS:-2}"
unset INSTEP_REDIS_URL INSTEP_DATABASE_URL

mkdir -p "$INSTEP_HOME"
if curl -fsS "$INSTEP_URL/api/health" >/dev/null 2>&1; then
  echo "demo: something already answers on $INSTEP_URL; stop it or set INSTEP_DEMO_PORT" >&2
  exit 1
fi

echo "demo: starting instep serve (embedded mode, home $INSTEP_HOME)"
"$INSTEP" serve --port "$PORT" >"$INSTEP_HOME/serve.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 150); do
  curl -fsS "$INSTEP_URL/api/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { echo "demo: instep serve exited:"; cat "$INSTEP_HOME/serve.log"; exit 1; }
  sleep 0.2
done

export INSTEP_TOKEN="$("$INSTEP" token create --role admin --name demo)"
LOGINS="$(INSTEP_BIN="$INSTEP" bash "$ROOT/scripts/demo-users.sh")"   # one dashboard login per role
printf '%s\n' "$LOGINS"

GIT="$INSTEP_HOME/git"
BARE="$GIT/acme/sample-app.git"
WORK="$INSTEP_HOME/work/sample-app"
if [ ! -d "$BARE" ]; then
  mkdir -p "$GIT/acme" "$(dirname "$WORK")"
  git init --quiet --bare --initial-branch=main "$BARE"
  SECRET="$("$INSTEP" project add sample-app --repo "file://$BARE" --secret DEMO_API_KEY=demo-secret-value --json \
    | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["webhook_secret"])')"
  "$INSTEP" hook install "$BARE" --url "$INSTEP_URL" --secret "$SECRET" --force >/dev/null
  rm -rf "$WORK"
  git clone --quiet "$BARE" "$WORK" 2>/dev/null
fi
# Copy the sample app into the working clone (build outputs and caches stay out).
rsync -a --delete --exclude .git --exclude build --exclude node_modules "$ROOT/examples/sample-app/" "$WORK/" 2>/dev/null \
  || { find "$WORK" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +; cp -R "$ROOT/examples/sample-app/." "$WORK/"; }
cd "$WORK"
git add -A
git -c user.name="Instep Demo" -c user.email=demo@example.com commit --quiet --allow-empty \
  -m "demo: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "demo: git push (the post-receive hook notifies Instep)"
git push origin HEAD:main 2>&1 | sed 's/^/  /'
SHA="$(git rev-parse HEAD)"

RUN=""
for _ in $(seq 1 100); do
  RUN="$("$INSTEP" run list --project sample-app --json | "$VENV/bin/python" -c '
import json, sys
runs = [r for r in json.load(sys.stdin)["runs"] if r["sha"] == sys.argv[1]]
print(runs[0]["id"] if runs else "")' "$SHA")"
  [ -n "$RUN" ] && break
  sleep 0.2
done
[ -n "$RUN" ] || { echo "demo: no run was started for $SHA; server log:"; tail -50 "$INSTEP_HOME/serve.log"; exit 1; }

echo "demo: following run $RUN"
"$INSTEP" run logs "$RUN" --follow
status() { "$INSTEP" run show "$RUN" --json | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
pending_reviews() {
  curl -fsS -H "Authorization: Bearer $INSTEP_TOKEN" "$INSTEP_URL/api/runs/$RUN/comparisons" | "$VENV/bin/python" -c '
import json, sys
print(sum(1 for c in json.load(sys.stdin) if c["status"] in ("changed", "new", "missing", "size_mismatch") and not c["reviews"]))'
}
QA_TOKEN="$("$INSTEP" token create --role qa --name demo-qa)"
STATUS="$(status)"
if [ "$STATUS" = waiting ] && [ "$(pending_reviews)" != 0 ]; then
  # New or changed screenshots wait for QA. The demo plays QA: list them, then approve them all,
  # which makes them this branch's baselines (the next push compares against them).
  echo "demo: screenshots await review:"
  curl -fsS -H "Authorization: Bearer $QA_TOKEN" "$INSTEP_URL/api/runs/$RUN/comparisons" | "$VENV/bin/python" -c '
import json, sys
for c in json.load(sys.stdin):
    print("  %4d  %-13s %s" % (c["id"], c["status"], c["name"]))'
  echo "demo: approving them as QA (POST /api/runs/$RUN/review)"
  curl -fsS -X POST -H "Authorization: Bearer $QA_TOKEN" -H "Content-Type: application/json" \
    -d '{"decision": "approved", "comment": "first baselines"}' "$INSTEP_URL/api/runs/$RUN/review" >/dev/null
  "$INSTEP" run logs "$RUN" --follow | tail -1
  STATUS="$(status)"
fi
RELEASE=""
if [ "$STATUS" = waiting ]; then
  # The run waits at its release gate. The demo plays the release team: the admin token "demo"
  # cuts the release (its author, for four eyes), QA signs it off, and a second person, the
  # release manager "demo-rm", approves it.
  VERSION="1.0.$((RUN - 1))"
  echo "demo: the run waits at its release gate; cutting release $VERSION (instep release create)"
  RELEASE="$("$INSTEP" release create --project sample-app --run "$RUN" --version "$VERSION" --json \
    | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  echo "demo: QA signs off release $VERSION (instep release approve $RELEASE as demo-qa)"
  "$INSTEP" release approve "$RELEASE" --token "$QA_TOKEN" --comment "screens and acceptance reviewed" >/dev/null
  echo "demo: the gate's checklist now waits for the release manager:"
  "$INSTEP" release show "$RELEASE" | sed 's/^/  /'
  # Web parity: the web team's pipeline records each deployment with a web_deployer token
  # (docs/parity.md); the release needs production to provide api >= 2025-11 and orders >= 3.
  WEB_TOKEN="$("$INSTEP" token create --role web_deployer --name demo-web-ci)"
  record_web() { "$INSTEP" web record-deployment --project sample-app --env production --token "$WEB_TOKEN" "$@" | sed 's/^/  /'; }
  echo "demo: the web deploys 2026.11.0 (api 2025-10) and then 2026.12.1 (api 2025-11) (instep web record-deployment)"
  record_web --version 2026.11.0 --api-version 2025-10 --contract orders=v2
  record_web --version 2026.12.1 --api-version 2025-11 --contract orders=v3 --feature new_checkout
  RM_TOKEN="$("$INSTEP" token create --role release_manager --name demo-rm)"
  echo "demo: approving as release manager demo-rm (four eyes: not demo, who cut it)"
  "$INSTEP" release approve "$RELEASE" --token "$RM_TOKEN" --comment "ship it" | sed 's/^/  /'
  "$INSTEP" run logs "$RUN" --follow | tail -1
  STATUS="$(status)"
  echo "demo: audit trail of release $VERSION:"
  "$INSTEP" release audit "$RELEASE" | sed 's/^/  /'
  echo "demo: the parity board (instep parity):"
  "$INSTEP" parity --project sample-app | sed 's/^/  /'
  echo "demo: the web rolls 2026.12.1 back (instep web rollback); the release is halted"
  "$INSTEP" web rollback --project sample-app --env production --version 2026.12.1 \
    --reason "checkout errors" --token "$WEB_TOKEN" | sed 's/^/  /'
  "$INSTEP" release show "$RELEASE" | sed 's/^/  /'
fi
# After the gate: submission to the stores (simulated from their official descriptions) and the
# staged rollout with halt/resume, on a small second project (scripts/demo-stores.sh).
# shellcheck source=scripts/demo-stores.sh
source "$ROOT/scripts/demo-stores.sh"
"$INSTEP" run show "$RUN"

cat <<MSG

$LOGINS
  run            $INSTEP_URL/runs/$RUN   (its jobs and live logs)
  review         $INSTEP_URL/runs/$RUN/review   (QA: approve or reject the screenshot changes)
  releases       $INSTEP_URL/releases   (release managers: checklists, approvals, rollout controls)
  web parity     $INSTEP_URL/parity      audit log  $INSTEP_URL/audit

demo: run $RUN $STATUS
  API            $INSTEP_URL/api/runs/$RUN   (send Authorization: Bearer \$INSTEP_TOKEN)
  screenshots    $INSTEP_URL/api/runs/$RUN/comparisons
  release        $INSTEP_URL/api/releases/${RELEASE:-}   ($INSTEP release show ${RELEASE:-ID})
  OpenAPI        $INSTEP_URL/openapi.json
  token          export INSTEP_TOKEN=$INSTEP_TOKEN INSTEP_URL=$INSTEP_URL
  CLI            $INSTEP run list --project sample-app
  push again     cd $WORK && git commit --allow-empty -m again && git push
MSG
if [ "${INSTEP_DEMO_EXIT:-0}" = 1 ]; then
  [ "$STATUS" = succeeded ]
  exit $?
fi
echo "demo: Instep keeps running; press Ctrl-C to stop"
wait "$SERVER"
