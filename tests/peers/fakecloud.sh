#!/usr/bin/env bash
# fakecloud: the Route 53 + KMS emulator the AWS provider's end-to-end tests run against.
#
#   tests/peers/fakecloud.sh [start]   install if missing, start on 127.0.0.1:<free port> (idempotent)
#   tests/peers/fakecloud.sh stop      stop the instance recorded in tests/.peers/fakecloud.env, by PID
#   tests/peers/fakecloud.sh install   only install
#
# The binary is built once into a cache outside the repository and reused when the pinned version is
# already there: ${DNSSEC_PILOT_CACHE:-~/.cache/dnssec-pilot}/peers/fakecloud-0.51.0/bin/fakecloud.
# A fresh build (`cargo install --locked --debug`) takes 15-35 minutes on 2 cores.
# The state file holds PID=, PORT=, ENDPOINT= (read by tests/suite/aws.rs).
set -euo pipefail

VERSION=0.51.0
CACHE_ROOT=${DNSSEC_PILOT_CACHE:-$HOME/.cache/dnssec-pilot}
PREFIX=$CACHE_ROOT/peers/fakecloud-$VERSION
BIN=$PREFIX/bin/fakecloud
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS_DIR=${DNSSEC_PILOT_PEERS_DIR:-$ROOT/tests/.peers}
STATE=$PEERS_DIR/fakecloud.env
LOG=$PEERS_DIR/fakecloud.log

die() { echo "fakecloud.sh: $*" >&2; exit 1; }

install() {
  if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qx "fakecloud $VERSION"; then
    return 0
  fi
  command -v cargo >/dev/null || die "cargo is needed to build fakecloud $VERSION"
  echo "fakecloud.sh: building fakecloud $VERSION into $PREFIX (one-off, 15-35 minutes)..." >&2
  mkdir -p "$PREFIX"
  cargo install --locked fakecloud --version "$VERSION" --debug --root "$PREFIX" \
    || die "cargo install fakecloud $VERSION failed"
  "$BIN" --version 2>/dev/null | grep -qx "fakecloud $VERSION" \
    || die "$BIN is not fakecloud $VERSION after the build"
}

alive() {
  [ -f "$STATE" ] || return 1
  local PID PORT
  PID=$(sed -n 's/^PID=//p' "$STATE"); PORT=$(sed -n 's/^PORT=//p' "$STATE")
  [ -n "$PID" ] && [ -n "$PORT" ] && kill -0 "$PID" 2>/dev/null \
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
  local port pid i
  port=$(free_port)
  # Changes turn INSYNC after 1 s or 5 GetChange reads (fakecloud's defaults).
  nohup "$BIN" --addr "127.0.0.1:$port" --log-level warn >"$LOG" 2>&1 </dev/null &
  pid=$!
  for i in $(seq 1 100); do
    if "$BIN" --addr "127.0.0.1:$port" healthcheck >/dev/null 2>&1; then
      printf 'PID=%s\nPORT=%s\nENDPOINT=http://127.0.0.1:%s\n' "$pid" "$port" "$port" > "$STATE"
      echo "fakecloud.sh: fakecloud $VERSION on 127.0.0.1:$port, pid $pid" >&2
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
