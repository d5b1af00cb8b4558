#!/usr/bin/env bash
# Builds the edge worker into edge/build: index.js (edge/js/entry.mjs bundled
# with wasm-bindgen's glue) and index_bg.wasm (the gate), offline, with the
# tools scripts/setup.sh installed. No worker-build: the entry is ours.
#
#   scripts/build-edge.sh              the worker (edge/build)
#   scripts/build-edge.sh --test-panic a test build into edge/build-test-panic
#                                      (the gate panics for one method)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
. .keygate/toolchain.env
out=edge/build
features=()
if [ "${1:-}" = "--test-panic" ]; then
  out=edge/build-test-panic
  features=(--features test-panic)
fi
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
cargo build -q -p edge --lib --target wasm32-unknown-unknown --profile worker "${features[@]}"
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
# --experimental-reset-state-function: the entry's way to a new instance
# after a trap (a panic aborts, and may leave the instance's memory
# half-updated).
"$WASM_BINDGEN_BIN" --target web --no-typescript --experimental-reset-state-function \
  --out-dir "$gen" --out-name edge "$target_dir/wasm32-unknown-unknown/worker/edge.wasm"
mkdir -p "$out/gen"
cp "$gen/edge.js" "$out/gen/edge.js"
# One -Oz pass, names stripped. The features are the ones rustc and
# wasm-bindgen emit and workerd runs (--all-features would let binaryen use
# encodings workerd rejects).
"$WASM_OPT_BIN" "$gen/edge_bg.wasm" -Oz --strip-debug --strip-producers \
  --enable-exception-handling --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue -o "$out/index_bg.wasm.tmp"
# The entry imports ./gen/edge.js and ./index_bg.wasm as they sit in $out.
cp edge/js/entry.mjs "$out/entry.mjs"
"$ESBUILD_BIN" "$out/entry.mjs" --bundle --format=esm --platform=neutral --minify \
  --legal-comments=none --log-level=warning \
  --external:./index_bg.wasm --outfile="$out/index.js.tmp"
# Both files change together, or not at all: `make dev` reloads on change.
mv "$out/index_bg.wasm.tmp" "$out/index_bg.wasm"
mv "$out/index.js.tmp" "$out/index.js"
