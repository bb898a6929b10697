#!/usr/bin/env bash
# fakecloud: the Route 53 + KMS emulator the AWS provider's end-to-end tests run against.
#
#   tests/peers/fakecloud.sh [start]   install if missing, start on 127.0.0.1:<free port> (idempotent)
#   tests/peers/fakecloud.sh stop      stop the instance recorded in tests/.peers/fakecloud.env, by PID
#   tests/peers/fakecloud.sh install   only install
#
# What runs is tests/peers/fakecloud-slim: fakecloud 0.51.0's own Route 53 and KMS crates
# (crates.io, pinned =0.51.0, lock file from fakecloud's) wired as fakecloud's main wires them,
# without the ~100 other service crates the full `cargo install fakecloud` compiles (25-45 min).
# It is built (`cargo build --locked`, debug) with its target directory in a cache outside the
# repository, so a changed crate rebuilds incrementally, and the binary is kept, per content hash
# of the crate's Cargo.toml, Cargo.lock and src/, in
# ${DNSSEC_PILOT_CACHE:-~/.cache/dnssec-pilot}/peers/fakecloud-slim-0.51.0-<hash>/bin/fakecloud-slim
# and reused while that hash is unchanged. A fresh build compiles 389 crates (the full fakecloud:
# 657) and took 8m38s (8.3 CPU-minutes) on 2 cores shared with two other cargo builds.
# The state file holds PID=, PORT=, ENDPOINT= (read by tests/suite/aws.rs).
set -euo pipefail

VERSION=0.51.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLIM=$ROOT/tests/peers/fakecloud-slim
CACHE_ROOT=${DNSSEC_PILOT_CACHE:-$HOME/.cache/dnssec-pilot}
# The crate's identity: its manifest, lock file and every source file (names and contents).
HASH=$(cd "$SLIM" && find Cargo.toml Cargo.lock src -type f | LC_ALL=C sort \
  | while read -r f; do printf '%s\n' "$f"; cat "$f"; done | sha256sum | cut -c1-12)
PREFIX=$CACHE_ROOT/peers/fakecloud-slim-$VERSION-$HASH
BIN=$PREFIX/bin/fakecloud-slim
TARGET_DIR=$CACHE_ROOT/peers/fakecloud-slim-target
PEERS_DIR=${DNSSEC_PILOT_PEERS_DIR:-$ROOT/tests/.peers}
STATE=$PEERS_DIR/fakecloud.env
LOG=$PEERS_DIR/fakecloud.log

die() { echo "fakecloud.sh: $*" >&2; exit 1; }

install() {
  if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qx "fakecloud-slim $VERSION"; then
    return 0
  fi
  command -v cargo >/dev/null || die "cargo is needed to build fakecloud-slim $VERSION"
  echo "fakecloud.sh: building fakecloud-slim $VERSION into $PREFIX (one-off, under 10 minutes)..." >&2
  mkdir -p "$PREFIX/bin"
  CARGO_TARGET_DIR=$TARGET_DIR cargo build --locked --manifest-path "$SLIM/Cargo.toml" \
    || die "cargo build of $SLIM failed"
  # Copied then renamed, so a concurrent start never runs a half-written binary.
  cp "$TARGET_DIR/debug/fakecloud-slim" "$BIN.tmp.$$" && mv -f "$BIN.tmp.$$" "$BIN"
  "$BIN" --version 2>/dev/null | grep -qx "fakecloud-slim $VERSION" \
    || die "$BIN is not fakecloud-slim $VERSION after the build"
}

alive() {
  [ -f "$STATE" ] || return 1
  local PID PORT
  PID=$(sed -n 's/^PID=//p' "$STATE"); PORT=$(sed -n 's/^PORT=//p' "$STATE")
  # Alive and running this very binary (not one built from an older state of the crate).
  [ -n "$PID" ] && [ -n "$PORT" ] && kill -0 "$PID" 2>/dev/null \
    && [ "$(readlink -f "/proc/$PID/exe" 2>/dev/null)" = "$(readlink -f "$BIN")" ] \
    && "$BIN" --addr "127.0.0.1:$PORT" healthcheck >/dev/null 2>&1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  install
  mkdir -p "$PEERS_DIR"
  if alive; then
    echo "fakecloud.sh: already running ($(tr '\n' ' ' < "$STATE"))" >&2
    return 0
  fi
  # An instance of an older build of the crate: stop it (by PID, only if it is one of ours).
  if [ -f "$STATE" ]; then
    local old
    old=$(sed -n 's/^PID=//p' "$STATE")
    case "$(readlink -f "/proc/$old/exe" 2>/dev/null)" in
      "$CACHE_ROOT"/peers/fakecloud-*) stop ;;
      *) rm -f "$STATE" ;;
    esac
  fi
  local port pid i
  port=$(free_port)
  # Changes turn INSYNC after 1 s or 5 GetChange reads (fakecloud-route53's defaults).
  nohup "$BIN" --addr "127.0.0.1:$port" --log-level warn >"$LOG" 2>&1 </dev/null &
  pid=$!
  for i in $(seq 1 100); do
    if "$BIN" --addr "127.0.0.1:$port" healthcheck >/dev/null 2>&1; then
      printf 'PID=%s\nPORT=%s\nENDPOINT=http://127.0.0.1:%s\n' "$pid" "$port" "$port" > "$STATE"
      echo "fakecloud.sh: fakecloud-slim $VERSION on 127.0.0.1:$port, pid $pid" >&2
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$LOG" >&2; die "fakecloud exited during start-up"; }
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  cat "$LOG" >&2
  die "fakecloud did not answer its health check on 127.0.0.1:$port within 20 s"
}

stop() {
  [ -f "$STATE" ] || return 0
  local pid
  pid=$(sed -n 's/^PID=//p' "$STATE")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE"
}

case "${1:-start}" in
  start)
    start
    # Sourced by tests/run.sh: stop this instance by PID when the run ends.
    if [[ "${BASH_SOURCE[0]}" != "$0" ]] && declare -p PEER_CLEANUP >/dev/null 2>&1; then
      PEER_CLEANUP+=("bash '$ROOT/tests/peers/fakecloud.sh' stop")
    fi
    ;;
  stop) stop ;;
  install) install ;;
  *) die "usage: $0 [start|stop|install]" ;;
esac
