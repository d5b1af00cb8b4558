#!/usr/bin/env bash
# Builds the WebAssembly core of @keygate/sdk into sdk/js/dist: the
# keygate-sdk-wasm crate (shared's key, token and origin code) compiled for
# wasm32, wasm-bindgen's `web` glue (no fetch, no top-level await: the entry
# points instantiate it synchronously), then one wasm-opt -Oz pass. Idempotent;
# `npm pack` in sdk/js then makes the installable tarball.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
# shellcheck source=/dev/null
. "$root/.keygate/toolchain.env"
target_dir=${CARGO_TARGET_DIR:-$root/target}

(cd "$root" && cargo build -q --target wasm32-unknown-unknown --profile sdk-wasm -p keygate-sdk-wasm)
mkdir -p dist
"$WASM_BINDGEN_BIN" --target web --no-typescript --out-dir dist --out-name keygate_sdk_wasm \
  "$target_dir/wasm32-unknown-unknown/sdk-wasm/keygate_sdk_wasm.wasm"
# The features are the ones rustc and wasm-bindgen emit, which Node and
# workerd both run (as in scripts/build-edge.sh).
"$WASM_OPT_BIN" dist/keygate_sdk_wasm_bg.wasm -Oz --strip-debug --strip-producers \
  --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue -o dist/keygate_sdk_wasm_bg.wasm
bytes=$(wc -c < dist/keygate_sdk_wasm_bg.wasm)
gz=$(gzip -9c dist/keygate_sdk_wasm_bg.wasm | wc -c)
echo "sdk/js/dist/keygate_sdk_wasm_bg.wasm: $bytes bytes ($gz gzipped)" >&2
