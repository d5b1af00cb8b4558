#!/usr/bin/env bash
# `make bench-edge`: runs bench/edge/run.mjs with its defaults (about 3–4
# minutes on a 2-core machine, the flood phase included; all load on
# 127.0.0.1, bounded request counts). Extra arguments are passed on, e.g.
# `bench/edge/run.sh --rounds 20`, `--no-flood`, or `--quick` (well under a
# minute, a reduced flood; checks the harness only).
# Prints the results table and writes bench/edge/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ ! -f edge/build/index.js || ! -f edge/build/index_bg.wasm ]]; then
  echo "bench-edge: edge/build/index.js not found: run \`make build-edge\` first" >&2
  exit 2
fi
if [[ ! -x target/debug/keygate ]]; then
  echo "bench-edge: target/debug/keygate not found: run \`cargo build --bin keygate\` first (it mints the benchmark's key)" >&2
  exit 2
fi
if [[ ! -d node_modules/miniflare || ! -d node_modules/jose || ! -d node_modules/esbuild ]]; then
  echo "bench-edge: node_modules incomplete: run \`make setup\` first" >&2
  exit 2
fi

exec node bench/edge/run.mjs "$@"
