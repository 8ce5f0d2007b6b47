#!/usr/bin/env bash
# The store part of `make demo` (sourced by scripts/demo.sh after the sample app's gate): start
# the store simulator (`python -m stores.simulator`, both stores, every request checked against
# the official API descriptions), register a small release pipeline whose `submit` stage uses
# Instep's store adapters, and ship it: 0.9.0 as the track's first (full) release, then 1.0.0
# by the rollout plan: submitted on both platforms, App Store review approved by the simulator,
# Play rollout at 1 %, increased to 20 %, halted, resumed and completed; the release finished.
# Expects INSTEP, VENV, INSTEP_HOME, INSTEP_URL and INSTEP_TOKEN (an admin token) to be set.

json_field() { "$VENV/bin/python" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d = d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }

SIM_OUT="$INSTEP_HOME/stores-simulator.out"
"$VENV/bin/python" -m stores.simulator --port 0 >"$SIM_OUT" 2>&1 &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null || true; cleanup' EXIT INT TERM
SIM=""
for _ in $(seq 1 100); do
  SIM="$(sed -n 's/^stores simulator listening on //p' "$SIM_OUT")"
  [ -n "$SIM" ] && break
  sleep 0.1
done
[ -n "$SIM" ] || { echo "demo: the store simulator did not start:"; cat "$SIM_OUT"; exit 1; }
echo "demo: store simulator (Google Play + App Store Connect, validating every request) on $SIM"

CREDS="$(curl -fsS "$SIM/_sim/credentials")"
cred() { echo "$CREDS" | "$VENV/bin/python" -c 'import json,sys; d=json.load(sys.stdin)
print(json.dumps(d["google_play"]) if sys.argv[1] == "play" else d["app_store"][sys.argv[1]])' "$1"; }

STORE_BARE="$INSTEP_HOME/git/acme/sample-store.git"
STORE_WORK="$INSTEP_HOME/work/sample-store"
rm -rf "$STORE_BARE" "$STORE_WORK"
git init --quiet --bare --initial-branch=main "$STORE_BARE"
git clone --quiet "$STORE_BARE" "$STORE_WORK" 2>/dev/null
"$INSTEP" project add sample-store --repo "file://$STORE_BARE" \
  --secret "PLAY_SERVICE_ACCOUNT_JSON=$(cred play)" --secret "ASC_KEY_ID=$(cred key_id)" \
  --secret "ASC_ISSUER_ID=$(cred issuer_id)" --secret "ASC_PRIVATE_KEY=$(cred private_key)" >/dev/null
echo "demo: project sample-store with its store credentials as sealed secrets (PLAY_SERVICE_ACCOUNT_JSON, ASC_KEY_ID, ASC_ISSUER_ID, ASC_PRIVATE_KEY)"

pipeline() {  # $1: the release's `rollout:` line (or nothing)
  cat <<YML
# A release pipeline whose submit stage uses Instep's store adapters (no lane).
version: 1
platforms: {android: {}, ios: {}}
stages:
  build:
    # Stands in for the real build: an AAB for Google Play whose version code is Instep's build
    # number. The IPA reaches App Store Connect through the team's fastlane lane
    # (upload_to_testflight); here the simulator is told that build exists.
    run: |
      mkdir -p "\$INSTEP_ARTIFACTS_DIR"
      if [ "\$INSTEP_PLATFORM" = android ]; then
        $VENV/bin/python -c "import sys; from stores.simulator import make_test_bundle; open(sys.argv[1], 'wb').write(make_test_bundle(int(sys.argv[2])))" "\$INSTEP_ARTIFACTS_DIR/app.aab" "\$INSTEP_BUILD_NUMBER"
      else
        echo "ios build \$INSTEP_BUILD_NUMBER (uploaded by fastlane)" > "\$INSTEP_ARTIFACTS_DIR/app-ios.txt"
      fi
  gate: {needs: [build], per_platform: true}
  submit: {needs: [gate]}
release:
  approvals: {qa: 1, release_manager: 1}
  store:
    google_play: {package_name: dev.instep.sample, track: production}
    app_store: {app_id: "6444000001"}
    base_url: $SIM
$1
YML
}

QA2="$("$INSTEP" token create --role qa --name demo-qa)"
RM2="$("$INSTEP" token create --role release_manager --name demo-rm)"
ios_build() { "$VENV/bin/python" -c 'import json,sys
print(next(p["build_number"] for p in json.load(sys.stdin)["platforms"] if p["platform"] == "ios"))'; }
store_run_state() { "$INSTEP" run show "$1" --json | json_field status; }
platform_states() { "$INSTEP" release show "$1" --json | "$VENV/bin/python" -c 'import json,sys
print(" ".join(p["platform"] + ":" + p["state"] for p in json.load(sys.stdin)["platforms"]))'; }
wait_until() {  # $1: what; $2...: a command whose output must contain $WANT
  local what="$1"; shift
  for _ in $(seq 1 300); do
    case " $("$@") " in *"$WANT"*) return 0 ;; esac
    sleep 0.2
  done
  echo "demo: timed out waiting for $what (last: $("$@"))"; tail -30 "$INSTEP_HOME/serve.log"; exit 1
}

ship() {  # $1 version, $2 rollout line, $3 message
  pipeline "$2" >"$STORE_WORK/instep.yml"
  (cd "$STORE_WORK" && git add -A && git -c user.name="Instep Demo" -c user.email=demo@example.com commit --quiet -m "$3" && git push --quiet origin HEAD:main)
  local run release
  run="$("$INSTEP" run trigger --project sample-store --ref main --json | json_field id)"
  WANT=waiting wait_until "run $run at its gate" store_run_state "$run"
  release="$("$INSTEP" release create --project sample-store --run "$run" --version "$1" --json | json_field id)"
  # What the team's fastlane upload_to_testflight leaves in App Store Connect: the build.
  curl -fsS -X POST -H 'Content-Type: application/json' \
    -d "{\"version\": \"$1\", \"build_number\": \"$("$INSTEP" release show "$release" --json | ios_build)\"}" \
    "$SIM/_sim/app-store/builds" >/dev/null
  "$INSTEP" release approve "$release" --token "$QA2" -m "checked" >/dev/null
  "$INSTEP" release approve "$release" --token "$RM2" -m "ship it" >/dev/null
  WANT=succeeded wait_until "the submit jobs of run $run" store_run_state "$run"
  echo "demo: release $1 submitted by the submit stage (store adapters, exactly once):"
  "$INSTEP" release show "$release" | grep -E '^(android|ios)|store:' | sed 's/^/  /'
  # The stores review: the simulator approves both (Play publishes, Apple's review completes).
  curl -fsS -X POST -H 'Content-Type: application/json' -d '{"package": "dev.instep.sample", "decision": "approve"}' "$SIM/_sim/play/review" >/dev/null
  curl -fsS "$SIM/_sim/state" | "$VENV/bin/python" -c 'import json,sys
for sid, s in json.load(sys.stdin)["app_store"]["review_submissions"].items():
    if s["state"] in ("WAITING_FOR_REVIEW", "IN_REVIEW"): print(sid)' | while read -r sid; do
    curl -fsS -X POST -H 'Content-Type: application/json' -d '{"state": "APPROVED"}' "$SIM/_sim/app-store/review-submissions/$sid/state" >/dev/null
  done
  echo "demo: the simulator approved the review on both stores; Instep reads it on its store tick"
  STORE_RELEASE="$release"
}

echo "demo: shipping 0.9.0 to sample-store (a Play track's first release cannot be staged: it goes out whole)"
ship 0.9.0 "" "first release"
WANT="android:released ios:released" wait_until "0.9.0 released" platform_states "$STORE_RELEASE"
echo "demo: 0.9.0 released on both stores"

echo "demo: shipping 1.0.0 with the rollout plan {stages: [1, 5, 20, 50, 100], every: 24h}"
ship 1.0.0 "  rollout: {stages: [1, 5, 20, 50, 100], every: 24h}" "1.0.0 with a staged rollout"
R="$STORE_RELEASE"
WANT="android:rolling_out ios:rolling_out" wait_until "1.0.0 rolling out" platform_states "$R"
echo "demo: 1.0.0 rolling out: Play at the plan's first stage, the App Store's phased release active"
"$INSTEP" release show "$R" | grep -E '^(android|ios)|store:' | sed 's/^/  /'
echo "demo: instep release rollout $R --to 20 --platform android"
"$INSTEP" release rollout "$R" --to 20 --platform android --token "$RM2" | grep -E 'store:' | sed 's/^/  /'
echo "demo: instep release halt $R (Play halted, App Store phased release paused)"
"$INSTEP" release halt "$R" --token "$RM2" | grep -E '^(android|ios)|store:' | sed 's/^/  /'
echo "demo: instep release resume $R (Play resumes at its last fraction)"
"$INSTEP" release resume "$R" --token "$RM2" | grep -E '^(android|ios)|store:' | sed 's/^/  /'
echo "demo: instep release complete $R"
"$INSTEP" release complete "$R" --token "$RM2" | sed 's/^/  /'
echo "demo: audit trail of sample-store 1.0.0:"
"$INSTEP" release audit "$R" | sed 's/^/  /'
INVALID="$(curl -fsS "$SIM/_sim/requests?invalid=1" | json_field requests | "$VENV/bin/python" -c 'import sys,ast; print(len(ast.literal_eval(sys.stdin.read())))')"
COMMITS="$(curl -fsS "$SIM/_sim/requests?operation=androidpublisher.edits.commit" | "$VENV/bin/python" -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))')"
echo "demo: the simulator saw $COMMITS Play commits and $INVALID requests the official descriptions refuse"
kill "$SIM_PID" 2>/dev/null || true
wait "$SIM_PID" 2>/dev/null || true
