#!/usr/bin/env bash
# Builds the edge worker into edge/build (index.js + wasm) with worker-build,
# offline, using the tools scripts/setup.sh installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
. .keygate/toolchain.env
cd edge
# worker-build's own wasm-opt pass keeps the name section; one -Oz pass of
# ours (names stripped) is smaller and as fast to run. The features are the
# ones rustc and wasm-bindgen emit and workerd runs (--all-features would let
# binaryen use encodings workerd rejects).
"$WORKER_BUILD_BIN" --profile worker --no-opt >&2
"$WASM_OPT_BIN" build/index_bg.wasm -Oz --strip-debug --strip-producers \
  --enable-exception-handling --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue -o build/index_bg.wasm
