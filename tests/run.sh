#!/usr/bin/env bash
# The one test command (README "Test"; .ci/run calls it). Self-sufficient on a fresh Debian
# machine with Rust: formatting, lints, every peer set-up script, then the whole test suite.
#
# Peers: each tests/peers/*.sh is sourced in name order before the tests. A peer script installs
# and starts its peer (Knot DNS, moto, fakecloud, …), exports what the tests need (addresses,
# ports) and appends its clean-up to PEER_CLEANUP. It must exit non-zero (failing the whole run)
# when its peer cannot be set up: peers are never skipped.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
export ROOT
# Peers keep installs and caches outside the build tree, reused across runs.
export PEERS_DIR="${PEERS_DIR:-$ROOT/tests/.peers}"
mkdir -p "$PEERS_DIR"

PEER_CLEANUP=()
cleanup() {
    local i
    for ((i = ${#PEER_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${PEER_CLEANUP[$i]}" || true
    done
}
trap cleanup EXIT

START=$(date +%s)
stage() {
    local name="$1"
    shift
    local t0 t1
    t0=$(date +%s)
    echo "==> $name" >&2
    "$@"
    t1=$(date +%s)
    echo "<== $name: $((t1 - t0))s" >&2
}

stage "cargo fmt --check" cargo fmt --all -- --check
stage "cargo clippy" cargo clippy --all-targets --locked -- -D warnings

shopt -s nullglob
for peer in tests/peers/*.sh; do
    t0=$(date +%s)
    echo "==> peer $(basename "$peer")" >&2
    # shellcheck source=/dev/null
    source "$peer"
    echo "<== peer $(basename "$peer"): $(($(date +%s) - t0))s" >&2
done
shopt -u nullglob

stage "cargo test" cargo test --locked --all-targets
stage "cargo test --doc" cargo test --locked --doc

echo "all tests passed in $(($(date +%s) - START))s" >&2
