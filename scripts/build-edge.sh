#!/usr/bin/env bash
# Builds the edge worker into edge/build (index.js + wasm) with worker-build,
# offline, using the tools scripts/setup.sh installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
. .keygate/toolchain.env
cd edge
"$WORKER_BUILD_BIN" --release >&2
