# keygate: the two commands that matter are `make dev` and `make test`.
# Both set up what they need first (scripts/setup.sh, idempotent).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CARGO_TERM_COLOR ?= never

.PHONY: help setup build build-edge build-edge-test-panic build-sdk-rust build-sdk-js build-sdk-python test-sdk-rust test-sdk-js test-sdk-python dev test lint fmt vectors test-rust test-wasm test-node test-fuzz test-bench-harness test-verify test-bench-verify fuzz soak bench bench-edge bench-verify clean

help:
	@echo "make dev    build and run the whole local stack (control plane, edge in workerd, demo origins)"
	@echo "make test   every test: lint, unit, property, database (SQLite, and PostgreSQL when"
	@echo "            DATABASE_URL is a postgres URL), WASM build, end-to-end through workerd"

setup:
	@scripts/setup.sh

build-edge: setup
	@scripts/build-edge.sh

# The worker with a forced panic (feature test-panic), for tests/tests/edge_trap.rs
# only: never deployed.
build-edge-test-panic: setup
	@scripts/build-edge.sh --test-panic

# @keygate/sdk's WebAssembly into sdk/js/dist (then `npm pack` in sdk/js).
build-sdk-js: setup
	@sdk/js/build.sh

# The Python SDK's wheel, sdk/python/dist/keygate-*.whl (pip, in .keygate/python).
build-sdk-python: setup
	@sdk/python/build.sh

build: build-edge build-sdk-rust build-sdk-js build-sdk-python
	cargo build --bin keygate

# The Rust SDK and its examples (`call`, `origin`): tests/tests/sdk_rust.rs
# runs the example binaries against the real stack.
build-sdk-rust: setup
	cargo build -p keygate-client --examples

# The Rust SDK alone (make test runs it within test-rust).
test-sdk-rust: build
	cargo test -p keygate-client
	cargo test -p keygate-tests --test sdk_rust --test sdk_rust_verify

dev: setup
	@scripts/dev.sh

fmt:
	cargo fmt --all

lint: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# shared must build for wasm32 on its own, with only the features the edge uses.
test-wasm: setup
	@source .keygate/toolchain.env && cargo build -q -p shared --target wasm32-unknown-unknown --release
	@if cargo tree -p edge -e normal --target wasm32-unknown-unknown | grep -q getrandom; then \
	  echo "getrandom reached the worker's dependency tree (the verify path must not need randomness)"; exit 1; fi
	@echo "shared: wasm32 build ok, no getrandom in the edge"

test-node: setup
	node --test dev/selftest/selftest.mjs

# The benchmark crate is linted (above), not tested: its dev-dependencies
# (criterion, ring, dalek) would only slow the test build down.
# (the JS SDK's end-to-end test runs in test-sdk-js, not twice)
test-rust: build build-edge-test-panic
	cargo test --workspace --exclude keygate-bench --no-fail-fast -- --skip sdk_js_

# The npm package packed, installed from its tarball into a fresh project and
# run against the stack (Node and workerd); the wasm core against the vectors.
test-sdk-js: build
	cargo test -p keygate-sdk-wasm
	cargo test -p keygate-tests --test sdk_js

# A short run of every fuzz target (nightly + cargo-fuzz), so they cannot rot.
test-fuzz: setup
	fuzz/run.sh --smoke

# The edge benchmark's harness, in about 15 seconds (numbers not meaningful; a
# reduced flood phase included), so its fixtures cannot drift from the record
# schema or the key format unnoticed.
test-bench-harness: build
	bench/edge/run.sh --quick --out "$${TMPDIR:-/tmp}/keygate-bench-edge-quick.md" > /dev/null

# The built Python wheel passes the SDK's offline suite (vectors, middleware,
# provider); the suite against the real stack, from a fresh venv and
# `pip install ./sdk/python`, runs in test-rust (tests/tests/sdk_python.rs).
test-sdk-python: build-sdk-python
	@sdk/python/test.sh

# The verification API alone: its in-process tests and its parity with the
# edge through workerd (both also run in test-rust).
test-verify: build
	cargo test -p control-plane --test verify --test auth_matrix
	cargo test -p keygate-tests --test verify_parity

# The verify benchmark's harness against a debug `keygate serve`, in a few
# seconds (numbers not meaningful), so the load generator cannot rot.
test-bench-verify: build
	cargo build -q -p keygate-bench --bin bench-verify
	target/debug/bench-verify --quick --keygate target/debug/keygate \
	  --postgres "$${DATABASE_URL:-}" > /dev/null

test: lint test-wasm test-node test-fuzz test-rust test-sdk-js test-sdk-python test-bench-harness test-bench-verify
	@echo "make test: all suites passed"

# Rewrites shared/tests/vectors/ from the code (review the diff: every
# changed byte is a format change that every SDK sees).
vectors:
	KEYGATE_REGENERATE_VECTORS=1 cargo test -p shared --features mint --test vectors

# The publisher's convergence tests (kill -9, injected faults) at 10x load
# (KEYGATE_SOAK to change it).
soak: build
	KEYGATE_SOAK=$${KEYGATE_SOAK:-10} cargo test -p keygate-tests --test publish_crash --test publish_faults -- --nocapture

# Bounded fuzzing: FUZZ_SECONDS per target (default 60).
fuzz: setup
	fuzz/run.sh $${FUZZ_SECONDS:-60}

# Criterion: shared's hot paths, and Ed25519 verify vs ring and dalek; then
# the verification API under load.
bench: setup
	cargo bench -p keygate-bench
	$(MAKE) bench-verify

# POST /v1/verify against a release `keygate serve` on SQLite and PostgreSQL
# (BENCH_POSTGRES_URL, default the local server), concurrency 1 and 16, with
# GET /healthz as the baseline; writes bench/verify/RESULTS.md.
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
bench-verify: setup
	cargo build --release --bin keygate --bin bench-verify
	target/release/bench-verify --keygate target/release/keygate \
	  --postgres "$(BENCH_POSTGRES_URL)" --seconds $${BENCH_SECONDS:-5} --out bench/verify/RESULTS.md

# The edge under load in workerd, against a pass-through and a jose worker,
# then a flood of 10,000 unknown keys and 10,000 fresh tokens (3-4 minutes;
# BENCH_EDGE_ARGS=--no-flood skips the flood).
bench-edge: build
	bench/edge/run.sh $(BENCH_EDGE_ARGS)

clean:
	cargo clean
	rm -rf edge/build node_modules .keygate
