#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and fails if any of them crashes.
#
#   fuzz/run.sh <seconds-per-target>   e.g. fuzz/run.sh 60
#   fuzz/run.sh --smoke                3000 runs each (for `make test`)
#
# Needs the nightly toolchain and cargo-fuzz. Missing either is an error, not
# a skip: a fuzz step that silently does nothing looks exactly like a pass.
# Crash inputs land in fuzz/artifacts/<target>/; replay one with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail

usage() {
  echo "usage: fuzz/run.sh <seconds-per-target> | --smoke" >&2
  exit 2
}

[[ $# -eq 1 ]] || usage
case "$1" in
  # A fixed seed: the same 3000 inputs every time, so a smoke failure is
  # reproducible rather than a matter of luck.
  --smoke) limit=(-runs=3000 -seed=1) ;;
  *[!0-9]* | "" | 0) usage ;;
  *) limit=("-max_total_time=$1") ;;
esac

cd "$(dirname "$0")"

if ! command -v cargo >/dev/null; then
  echo "fuzz/run.sh: cargo is not on PATH (install Rust with rustup)" >&2
  exit 1
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: cargo-fuzz is missing (cargo install cargo-fuzz)" >&2
  exit 1
fi

# Longest input worth trying per target: just past each limit in shared
# (MAX_KEY_LEN 128 bytes, MAX_TOKEN_LEN 4096, MAX_HEADER_LEN 8 KiB), so the
# length checks themselves are exercised.
declare -A max_len=([key_parse]=256 [token_verify]=4200 [credential_extract]=8400)

cargo +nightly fuzz build

failed=()
for target in key_parse token_verify credential_extract; do
  # New inputs go to a scratch corpus under target/ (first directory), so the
  # committed seeds in corpus/ are read but never written.
  work="target/corpus/$target"
  mkdir -p "$work"
  extra=()
  [[ -f "$target.dict" ]] && extra+=("-dict=$target.dict")
  echo "== $target (${limit[*]})"
  start=$SECONDS
  if cargo +nightly fuzz run "$target" "$work" "corpus/$target" -- \
    "${limit[@]}" "-max_len=${max_len[$target]}" -timeout=10 -print_final_stats=1 "${extra[@]}" \
    >"target/$target.log" 2>&1; then
    echo "   ok in $((SECONDS - start)) s: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "target/$target.log" | grep -o '[0-9]*$') runs"
  else
    echo "   CRASH in $target after $((SECONDS - start)) s; log: fuzz/target/$target.log" >&2
    grep -E -A1 'panicked at' "target/$target.log" >&2 || true
    grep -E 'ERROR: (libFuzzer|AddressSanitizer)|Test unit written to|^Base64:' "target/$target.log" >&2 ||
      tail -n 30 "target/$target.log" >&2
    failed+=("$target")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz/run.sh: crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz/run.sh: all targets passed"
