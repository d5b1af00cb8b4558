# keygate: the two commands that matter are `make dev` and `make test`.
# Both set up what they need first (scripts/setup.sh, idempotent).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CARGO_TERM_COLOR ?= never

.PHONY: help setup build build-edge dev test lint fmt test-rust test-wasm test-node clean

help:
	@echo "make dev    build and run the whole local stack (control plane, edge in workerd, demo origins)"
	@echo "make test   every test: lint, unit, property, database (SQLite, and PostgreSQL when"
	@echo "            DATABASE_URL is a postgres URL), WASM build, end-to-end through workerd"

setup:
	@scripts/setup.sh

build-edge: setup
	@scripts/build-edge.sh

build: build-edge
	cargo build --bin keygate

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

test-rust: build
	cargo test --workspace --no-fail-fast

test: lint test-wasm test-node test-rust
	@echo "make test: all suites passed"

clean:
	cargo clean
	rm -rf edge/build node_modules .keygate
