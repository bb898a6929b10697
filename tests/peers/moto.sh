#!/usr/bin/env bash
# moto: the Route 53 Domains emulator (and a second Route 53) for the AWS provider's tests.
#
#   tests/peers/moto.sh [start]   install if missing, start on 127.0.0.1:<free port> (idempotent)
#   tests/peers/moto.sh stop      stop the instance recorded in tests/.peers/moto.env, by PID
#   tests/peers/moto.sh install   only install
#
# moto[server] is pinned and installed from PyPI into a venv outside the repository:
# ${DNSSEC_PILOT_CACHE:-~/.cache/dnssec-pilot}/peers/moto-5.2.5-venv (about a minute the first time).
# The state file holds PID=, PORT=, ENDPOINT= (read by tests/suite/aws.rs).
set -euo pipefail

VERSION=5.2.5
CACHE_ROOT=${DNSSEC_PILOT_CACHE:-$HOME/.cache/dnssec-pilot}
VENV=$CACHE_ROOT/peers/moto-$VERSION-venv
BIN=$VENV/bin/moto_server
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PEERS_DIR=${DNSSEC_PILOT_PEERS_DIR:-$ROOT/tests/.peers}
STATE=$PEERS_DIR/moto.env
LOG=$PEERS_DIR/moto.log

die() { echo "moto.sh: $*" >&2; exit 1; }

installed() {
  [ -x "$BIN" ] && [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$VERSION" ] \
    && "$VENV/bin/python" -c 'import flask, moto.server' 2>/dev/null
}

install() {
  installed && return 0
  command -v python3 >/dev/null || die "python3 is needed for moto"
  echo "moto.sh: installing moto[server]==$VERSION into $VENV..." >&2
  mkdir -p "$(dirname "$VENV")"
  if [ ! -x "$VENV/bin/pip" ] && ! python3 -m venv "$VENV"; then
    # Debian ships venv's ensurepip separately; install it when we may.
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      rm -rf "$VENV"
      (apt-get update -qq && apt-get install -y -qq python3-venv) >&2 \
        || die "apt-get install python3-venv failed"
      python3 -m venv "$VENV" || die "python3 -m venv failed even with python3-venv"
    else
      die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    fi
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$VERSION" \
    || die "pip install moto[server]==$VERSION failed"
  installed || die "moto $VERSION is not importable from $VENV after the install"
}

up() { python3 - "$1" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen("http://127.0.0.1:%s/moto-api/" % sys.argv[1], timeout=1)
except Exception:
    sys.exit(1)
PY
}

alive() {
  [ -f "$STATE" ] || return 1
  local PID PORT
  PID=$(sed -n 's/^PID=//p' "$STATE"); PORT=$(sed -n 's/^PORT=//p' "$STATE")
  [ -n "$PID" ] && [ -n "$PORT" ] && kill -0 "$PID" 2>/dev/null && up "$PORT"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  install
  mkdir -p "$PEERS_DIR"
  if alive; then
    echo "moto.sh: already running ($(tr '\n' ' ' < "$STATE"))" >&2
    return 0
  fi
  local port pid
  port=$(free_port)
  nohup "$BIN" -H 127.0.0.1 -p "$port" >"$LOG" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 150); do
    if up "$port"; then
      printf 'PID=%s\nPORT=%s\nENDPOINT=http://127.0.0.1:%s\n' "$pid" "$port" "$port" > "$STATE"
      echo "moto.sh: moto $VERSION on 127.0.0.1:$port, pid $pid" >&2
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$LOG" >&2; die "moto_server exited during start-up"; }
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  cat "$LOG" >&2
  die "moto_server did not answer on 127.0.0.1:$port within 30 s"
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
      PEER_CLEANUP+=("bash '$ROOT/tests/peers/moto.sh' stop")
    fi
    ;;
  stop) stop ;;
  install) install ;;
  *) die "usage: $0 [start|stop|install]" ;;
esac
