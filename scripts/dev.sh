#!/usr/bin/env bash
# `make dev`: the whole local stack in the foreground.
#   demo origins (live, test)  node dev/demo-origin.mjs
#   edge worker in workerd     node dev/edge-host.mjs  (+ the local KV REST API)
#   control plane on SQLite    keygate serve           (publishes through that API)
# Ctrl-C stops everything this script started. Ports can be overridden:
# KEYGATE_PORT, KEYGATE_EDGE_PORT, KEYGATE_KV_API_PORT,
# KEYGATE_ORIGIN_LIVE_PORT, KEYGATE_ORIGIN_TEST_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

cp_port=${KEYGATE_PORT:-7070}
edge_port=${KEYGATE_EDGE_PORT:-8787}
kv_port=${KEYGATE_KV_API_PORT:-8789}
live_port=${KEYGATE_ORIGIN_LIVE_PORT:-7071}
test_port=${KEYGATE_ORIGIN_TEST_PORT:-7072}
export DATABASE_URL=${KEYGATE_DEV_DATABASE_URL:-sqlite://.keygate/keygate.db}
export RUST_LOG=${RUST_LOG:-control_plane=info,tower_http=warn}
keygate=target/debug/keygate

for port in "$cp_port" "$edge_port" "$kv_port" "$live_port" "$test_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use: stop what uses it, or set the KEYGATE_*_PORT variables" >&2
    exit 1
  fi
done

echo "building the control plane and the edge worker..." >&2
cargo build -q --bin keygate
scripts/build-edge.sh 2>/dev/null || scripts/build-edge.sh

# Every child gets its own process group, so stopping a group also stops what
# it started (workerd under node).
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped." >&2
  exit 0
}
trap cleanup INT TERM EXIT

mkdir -p .keygate/logs
# Starts "$@" in its own process group with stdout to a file, stderr to a log.
start() {
  local name=$1; shift
  setsid "$@" > ".keygate/logs/$name.out" 2> ".keygate/logs/$name.log" &
  pids+=($!)
}
wait_ready() { # a process's READY line (bounded wait)
  local name=$1
  for _ in $(seq 1 300); do
    if grep -q '^READY' ".keygate/logs/$name.out" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start; see .keygate/logs/$name.log" >&2
  tail -20 ".keygate/logs/$name.log" >&2
  exit 1
}

start origin node dev/demo-origin.mjs --live-port "$live_port" --test-port "$test_port"
start edge node dev/edge-host.mjs --port "$edge_port" --kv-api-port "$kv_port" --persist .keygate/kv \
  --var "ORIGIN_LIVE=http://127.0.0.1:$live_port" --var "ORIGIN_TEST=http://127.0.0.1:$test_port" \
  --var REQUIRE_HTTPS=false --var "AUDIENCE=http://127.0.0.1:$edge_port"
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
curl -fsS "$KEYGATE_URL/healthz" >/dev/null || { tail -20 .keygate/logs/control-plane.log >&2; exit 1; }

# Reuse the admin key of a previous run when it still works; else bootstrap one.
if ! KEYGATE_ADMIN_KEY=$(cat .keygate/admin-key 2>/dev/null) "$keygate" client list --limit 1 >/dev/null 2>&1; then
  "$keygate" admin-key create --out .keygate/admin-key >/dev/null
fi
export KEYGATE_ADMIN_KEY=$(cat .keygate/admin-key)

# A demo client with a live and a test key, new on every start (keys are shown once).
client=$("$keygate" --json client create --name "demo $(date +%H:%M:%S)" | sed -E 's/.*"id":"([^"]+)".*/\1/')
live_key=$("$keygate" --json key create --client "$client" --env live | sed -E 's/.*"key":"([^"]+)".*/\1/')
test_key=$("$keygate" --json key create --client "$client" --env test | sed -E 's/.*"key":"([^"]+)".*/\1/')

edge="http://127.0.0.1:$edge_port"
cat <<TEXT

keygate is running (logs in .keygate/logs/, Ctrl-C stops everything)
  control plane   $KEYGATE_URL         (SQLite: ${DATABASE_URL#sqlite://})
  edge worker     $edge         (workerd, KV namespace persisted in .keygate/kv)
  local KV API    http://127.0.0.1:$kv_port/client/v4   (Cloudflare KV REST shapes)
  demo origins    http://127.0.0.1:$live_port (live)   http://127.0.0.1:$test_port (test)

admin key (also in .keygate/admin-key):
  $KEYGATE_ADMIN_KEY

demo client $client, keys shown once:
  live  $live_key
  test  $test_key

try:
  curl -s $edge/anything -H "Authorization: Bearer $live_key"
  curl -s $edge/anything -H "Authorization: Bearer $test_key"
  curl -s -u "$live_key:" $edge/hello
  curl -si $edge/anything
  TOKEN=\$($keygate token mint --key $live_key --aud $edge --client $client)
  curl -s $edge/anything -H "Authorization: Bearer \$TOKEN"
  export KEYGATE_URL=$KEYGATE_URL KEYGATE_ADMIN_KEY=$KEYGATE_ADMIN_KEY
  $keygate key list --client $client
  $keygate key revoke <key id>
TEXT

wait -n "${pids[@]}" || true
echo "a process exited; stopping the stack (see .keygate/logs/)" >&2
