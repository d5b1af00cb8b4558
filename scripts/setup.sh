#!/usr/bin/env bash
# Installs everything keygate needs, idempotently and quickly when it is all
# there already: the wasm32 target, wasm-bindgen-cli at the version Cargo.lock
# pins, cargo-fuzz, and the npm packages of package-lock.json.
# Works on a fresh machine of this kind (only the crate registry, npm, PyPI and
# Debian apt are reachable). Writes .keygate/toolchain.env for the build.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .keygate
log() { printf '[setup] %s\n' "$*" >&2; }

lock_version() { # the version of a package in Cargo.lock
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

# --- Rust wasm32 standard library -------------------------------------------
# Preferred: rustup's component. Fallback (rustup's server is not a promised
# registry here): Debian's rustc-web + rust-src with -Zbuild-std and wasm-ld.
env_file=.keygate/toolchain.env
: > "$env_file"
sysroot=$(rustc --print sysroot)
if [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]; then
  log "wasm32 target: present"
elif command -v rustup >/dev/null && timeout 300 rustup target add wasm32-unknown-unknown >&2; then
  log "wasm32 target: installed with rustup"
else
  log "wasm32 target: rustup unavailable, using Debian's rustc-web with build-std"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends rustc-web cargo-web rust-web-src lld-22 >&2
  mkdir -p scripts/.debian-rust
  for tool in cargo rustc rustdoc; do ln -sfn "/usr/bin/$tool" "scripts/.debian-rust/$tool"; done
  cat > "$env_file" <<ENV
export PATH="$PWD/scripts/.debian-rust:\$PATH"
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-22/bin/wasm-ld
export CARGO_TARGET_DIR="$PWD/target/debian-wasm"
ENV
fi

# --- host tools, pinned ------------------------------------------------------
# Each takes minutes to compile, so each is installed only when its version
# differs, and the missing ones build at the same time (they share little;
# on a fresh machine that saves several minutes).
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
wbg_version=$(lock_version wasm-bindgen)      # must equal the crate in Cargo.lock
fuzz_version=0.13.2
installed() { # tool, version: whether `tool --version` ends with that version
  [ "$("$cargo_bin/$1" --version 2>/dev/null | awk '{print $NF}')" = "$2" ]
}
pids=()
names=()
if installed wasm-bindgen "$wbg_version"; then log "wasm-bindgen-cli $wbg_version: present"; else
  log "installing wasm-bindgen-cli $wbg_version (several minutes)"
  # Not --locked: its lock file names a webpki-roots release the registry lacks.
  cargo install -q wasm-bindgen-cli --version "=$wbg_version" >&2 & pids+=($!); names+=(wasm-bindgen-cli)
fi
if installed cargo-fuzz "$fuzz_version"; then log "cargo-fuzz $fuzz_version: present"; else
  log "installing cargo-fuzz $fuzz_version"
  cargo install -q --locked cargo-fuzz --version "=$fuzz_version" >&2 & pids+=($!); names+=(cargo-fuzz)
fi
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { log "installing ${names[$i]} failed"; exit 1; }
done

# --- a nightly toolchain for cargo-fuzz's sanitizers -----------------------------
if rustup run nightly rustc --version >/dev/null 2>&1; then
  log "nightly toolchain: present"
elif timeout 300 rustup toolchain install nightly --profile minimal >&2; then
  log "nightly toolchain: installed"
else
  log "WARNING: no nightly toolchain could be installed; the fuzz smoke test will fail"
fi

# --- npm: wrangler, miniflare (workerd), esbuild, binaryen -------------------
# Into the project, from the committed lock file; skipped when unchanged.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error >&2
else
  log "npm packages: present"
fi

# --- npm, @keygate/sdk (sdk/js): its dev tools (typescript, for the test ---
# that type-checks the shipped index.d.ts), from sdk/js/package-lock.json;
# skipped when unchanged. The package itself has no dependencies.
if [ ! -f sdk/js/node_modules/.package-lock.json ] || [ sdk/js/package-lock.json -nt sdk/js/node_modules/.package-lock.json ]; then
  log "installing sdk/js dev packages"
  (cd sdk/js && npm ci --no-audit --no-fund --loglevel=error >&2)
else
  log "sdk/js dev packages: present"
fi

# --- python3 with venv, for the Python SDK (sdk/python) ------------------------
# Its build and tests make virtual environments (.keygate/python*, and a fresh
# one per test run); Debian ships `venv`/ensurepip separately as python3-venv.
if python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
  log "python3 venv: present"
else
  log "installing python3 and python3-venv"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends python3 python3-venv >&2
fi

# The pinned tools scripts/build-edge.sh (and sdk/js/build.sh) run.
cat >> "$env_file" <<ENV
export WASM_BINDGEN_BIN="$cargo_bin/wasm-bindgen"
export ESBUILD_BIN="$PWD/node_modules/@esbuild/linux-x64/bin/esbuild"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
export WRANGLER_SEND_METRICS=false
ENV
log "done"
