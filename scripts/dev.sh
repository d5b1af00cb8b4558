#!/usr/bin/env bash
# `make dev`: the whole local stack in the foreground.
#   demo origins (live, test)  node dev/demo-origin.mjs
#   edge worker in workerd     node dev/edge-host.mjs  (+ the local KV REST API)
#   control plane on SQLite    keygate serve           (publishes through that API)
# Ports can be overridden: KEYGATE_PORT, KEYGATE_EDGE_PORT, KEYGATE_KV_API_PORT,
# KEYGATE_ORIGIN_LIVE_PORT, KEYGATE_ORIGIN_TEST_PORT. State (database, KV,
# admin key, logs) goes to KEYGATE_DEV_DIR (default .keygate). The binary is
# KEYGATE_BIN, else $CARGO_TARGET_DIR/debug/keygate (else target/...);
# KEYGATE_DEV_NO_BUILD=1 skips the build (the tests run it so: a cargo build
# inside `cargo test` would wait for cargo's own lock).
# The edge signs what it tells the origins (X-Keygate-Signature) with a secret
# generated once into $KEYGATE_DEV_DIR/origin-signing-secret (mode 0600) and
# reused; KEYGATE_ORIGIN_SIGNING_SECRET overrides it. The demo origins check
# it, so every echo says "signature": "valid" (or why not).
#
# However it is stopped, nothing it started keeps running (tests/tests/dev_stack.rs):
# - Ctrl-C, SIGTERM, SIGHUP: the trap stops every child (TERM, then after 10 s
#   KILL for it and everything below it);
# - its parent dies (make, a closed terminal, a killed test): on Linux the
#   kernel sends this script SIGTERM (setpriv --pdeathsig), elsewhere a
#   watchdog polls the parent; then as above;
# - SIGKILL of its process group: the children are in that group (no setsid),
#   workerd too, so the kernel kills them all;
# - SIGKILL of this script alone: each child has a parent-death signal too.
set -euo pipefail

# Once, before anything else: run again under setpriv, which asks the kernel
# to send SIGTERM when our parent dies (exec keeps our pid and our parent).
if [[ -z ${KEYGATE_DEV_REEXEC:-} ]] && command -v setpriv >/dev/null 2>&1; then
  KEYGATE_DEV_REEXEC=1 exec setpriv --pdeathsig TERM -- "$BASH" "$0" "$@"
fi
unset KEYGATE_DEV_REEXEC
parent=$PPID
cd "$(dirname "$0")/.."

cp_port=${KEYGATE_PORT:-7070}
edge_port=${KEYGATE_EDGE_PORT:-8787}
kv_port=${KEYGATE_KV_API_PORT:-8789}
live_port=${KEYGATE_ORIGIN_LIVE_PORT:-7071}
test_port=${KEYGATE_ORIGIN_TEST_PORT:-7072}
state=${KEYGATE_DEV_DIR:-.keygate}
export DATABASE_URL=${KEYGATE_DEV_DATABASE_URL:-sqlite://$state/keygate.db}
export RUST_LOG=${RUST_LOG:-control_plane=info,tower_http=warn}
keygate=${KEYGATE_BIN:-${CARGO_TARGET_DIR:-target}/debug/keygate}

for port in "$cp_port" "$edge_port" "$kv_port" "$live_port" "$test_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: stop what uses it, or set the KEYGATE_*_PORT variables" >&2
    exit 1
  fi
done

if [[ -z ${KEYGATE_DEV_NO_BUILD:-} ]]; then
  echo "building the control plane and the edge worker..." >&2
  cargo build -q --bin keygate
  scripts/build-edge.sh 2>/dev/null || scripts/build-edge.sh
fi

# Children stay in this script's process group, so a signal to the group
# (Ctrl-C, kill -9 -<pgid>) reaches every one of them, workerd included.
pids=()
pdeathsig=()
if command -v setpriv >/dev/null 2>&1; then pdeathsig=(setpriv --pdeathsig TERM --); fi

descendants() { # every process below $1
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

cleanup() {
  local status=$1
  set +e # children that are already gone make kill fail: carry on
  trap - EXIT
  trap '' INT TERM HUP # a second Ctrl-C must not cut the cleanup short
  local all
  all=$(descendants $$)
  kill -TERM "${pids[@]}" 2>/dev/null
  # Bounded: what has not stopped after 10 s is killed, with what it started.
  (sleep 10 && kill -KILL $all 2>/dev/null) &
  local timer=$!
  wait "${pids[@]}" 2>/dev/null
  # KILL: the timer inherited the ignored TERM from the line above.
  kill -KILL $(pgrep -P "$timer") "$timer" 2>/dev/null
  # A child that exited early may have left its own children behind.
  kill -KILL $all 2>/dev/null
  wait 2>/dev/null
  echo "stopped." >&2
  exit "$status"
}
trap 'cleanup 0' INT TERM HUP
trap 'cleanup $?' EXIT

if ((${#pdeathsig[@]} == 0)); then
  # No setpriv (not Linux): poll the parent instead.
  (while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -TERM $$) &
  pids+=($!)
fi

mkdir -p "$state/logs"

# The origin signing secret: from the environment, else the one of a previous
# run, else a new random one (32 bytes, hex), readable by this user only.
secret_file="$state/origin-signing-secret"
if [[ -n ${KEYGATE_ORIGIN_SIGNING_SECRET:-} ]]; then
  signing_secret=$KEYGATE_ORIGIN_SIGNING_SECRET
else
  if [[ ! -s $secret_file ]]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$secret_file.tmp" && mv "$secret_file.tmp" "$secret_file")
  fi
  signing_secret=$(<"$secret_file")
fi
# The edge trusts a KV record this long (seconds): 1 in dev, so a revocation
# shows at the edge within about a second (KEYGATE_DEV_CACHE_TTL to change it;
# production's default is CACHE_TTL=30, see README "Revocation").
cache_ttl=${KEYGATE_DEV_CACHE_TTL:-1}

# Starts "$@" in the background with stdout to a file, stderr to a log.
start() {
  local name=$1
  shift
  "${pdeathsig[@]}" "$@" >"$state/logs/$name.out" 2>"$state/logs/$name.log" &
  pids+=($!)
}
wait_ready() { # a process's READY line (bounded wait)
  local name=$1
  for _ in $(seq 1 300); do
    if grep -q '^READY' "$state/logs/$name.out" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start; see $state/logs/$name.log" >&2
  tail -20 "$state/logs/$name.log" >&2
  exit 1
}

# The origins read the secret from their environment (not argv: ps shows argv).
KEYGATE_ORIGIN_SIGNING_SECRET=$signing_secret \
  start origin node dev/demo-origin.mjs --live-port "$live_port" --test-port "$test_port"
start edge node dev/edge-host.mjs --port "$edge_port" --kv-api-port "$kv_port" --persist "$state/kv" \
  --var "ORIGIN_LIVE=http://127.0.0.1:$live_port" --var "ORIGIN_TEST=http://127.0.0.1:$test_port" \
  --var REQUIRE_HTTPS=false --var "AUDIENCE=http://127.0.0.1:$edge_port" \
  --var "ORIGIN_SIGNING_SECRET=$signing_secret" \
  --var "CACHE_TTL=$cache_ttl" --var "NEGATIVE_CACHE_TTL=$cache_ttl"
wait_ready origin
wait_ready edge

export CF_API_BASE_URL="http://127.0.0.1:$kv_port/client/v4" CF_ACCOUNT_ID=local-account \
  CF_KV_NAMESPACE_ID=local-namespace CF_API_TOKEN=local-dev-token
export KEYGATE_URL="http://127.0.0.1:$cp_port"
start control-plane "$keygate" serve --bind "127.0.0.1:$cp_port"
for _ in $(seq 1 100); do
  if curl -fsS "$KEYGATE_URL/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS "$KEYGATE_URL/healthz" >/dev/null || { tail -20 "$state/logs/control-plane.log" >&2; exit 1; }

# Reuse the admin key of a previous run when it still works; else bootstrap one.
if ! KEYGATE_ADMIN_KEY=$(cat "$state/admin-key" 2>/dev/null) "$keygate" client list --limit 1 >/dev/null 2>&1; then
  "$keygate" admin-key create --out "$state/admin-key" >/dev/null
fi
export KEYGATE_ADMIN_KEY=$(cat "$state/admin-key")

# A demo client with a live and a test key, new on every start (keys are shown once).
client=$("$keygate" --json client create --name "demo $(date +%H:%M:%S)" | sed -E 's/.*"id":"([^"]+)".*/\1/')
live_key=$("$keygate" --json key create --client "$client" --env live | sed -E 's/.*"key":"([^"]+)".*/\1/')
test_key=$("$keygate" --json key create --client "$client" --env test | sed -E 's/.*"key":"([^"]+)".*/\1/')

edge="http://127.0.0.1:$edge_port"
cat <<TEXT

keygate is running (logs in $state/logs/, Ctrl-C stops everything)
  control plane   $KEYGATE_URL         (SQLite: ${DATABASE_URL#sqlite://})
  edge worker     $edge         (workerd, KV namespace persisted in $state/kv)
  local KV API    http://127.0.0.1:$kv_port/client/v4   (Cloudflare KV REST shapes)
  demo origins    http://127.0.0.1:$live_port (live)   http://127.0.0.1:$test_port (test)
  edge record cache $cache_ttl s (dev; production default 30 s): a revocation shows at the edge within ~$((cache_ttl + 1)) s

admin key (also in $state/admin-key):
  $KEYGATE_ADMIN_KEY

origin signing secret (X-Keygate-Signature; also in $secret_file unless set by
KEYGATE_ORIGIN_SIGNING_SECRET); each demo echo says whether it checked out:
  $signing_secret

demo client $client, keys shown once:
  live  $live_key
  test  $test_key

try:
  curl -s $edge/anything -H "Authorization: Bearer $live_key"
  curl -s $edge/anything -H "Authorization: Bearer $test_key"
  curl -s -u "$live_key:" $edge/hello
  curl -si $edge/anything
  TOKEN=\$($keygate token mint --key $live_key --aud $edge --client $client)
  curl -s $edge/anything -H "Authorization: Bearer \$TOKEN"     # "signature":"valid"
  curl -s http://127.0.0.1:$live_port/anything -H "X-Keygate-Client-Id: $client"   # straight to the origin: "missing"
  KEYGATE_ACCESS_KEY=$live_key KEYGATE_AUDIENCE=$edge cargo run -q -p keygate-client --example call -- $edge/anything
  export KEYGATE_URL=$KEYGATE_URL KEYGATE_ADMIN_KEY=$KEYGATE_ADMIN_KEY
  $keygate key list --client $client
  $keygate key revoke <key id>
TEXT

wait -n "${pids[@]}" || true
echo "a process exited; stopping the stack (see $state/logs/)" >&2
