#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 10). Needs a nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Exits non-zero on a crash.
set -euo pipefail
SECONDS_EACH="${1:-10}"
cd "$(dirname "$0")/.."
cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
    echo "== ${target} (${SECONDS_EACH}s)"
    mkdir -p "fuzz/corpus/${target}"
    cargo +nightly fuzz run "${target}" "fuzz/corpus/${target}" "fuzz/seeds/${target}" -- \
        -max_total_time="${SECONDS_EACH}" -print_final_stats=1
done
