#!/usr/bin/env bash
# Builds design (b) (this crate) with worker-build 0.8.7, the lightest shim
# it takes (CUSTOM_SHIM=shim.mjs) and the one -Oz pass of
# scripts/build-edge.sh, into two files the bench takes as they are:
#   bench/edge/design-b/build.sh [OUT]   (default bench/edge/design-b/build/bench)
#   bench/edge/run.sh --script OUT/index.js …
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd ../../.. && pwd)
# shellcheck source=/dev/null
. "$repo/.keygate/toolchain.env"
out=${1:-build/bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target/design-b}
export CUSTOM_SHIM=$PWD/shim.mjs
"${WORKER_BUILD_BIN:-$HOME/.cargo/bin/worker-build}" --profile worker --no-opt >&2
mkdir -p "$out"
# The same pass and features as scripts/build-edge.sh.
"$WASM_OPT_BIN" build/worker/index.wasm -Oz --strip-debug --strip-producers \
  --enable-exception-handling --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue -o "$out/index_bg.wasm"
# worker-build's bundle imports ./index.wasm; the bench (and edge-host.mjs)
# take index.js + index_bg.wasm.
sed 's#"\./index\.wasm"#"./index_bg.wasm"#' build/worker/shim.mjs > "$out/index.js"
grep -q '"./index_bg.wasm"' "$out/index.js"
