#!/usr/bin/env bash
# Knot DNS test peers for the live-DNS probes (issue 6).
#
#   knot.sh                          install Knot DNS, kdig, dig and delv if missing (idempotent;
#                                    tests/run.sh runs this before `cargo test`); fails loudly.
#   knot.sh start DIR OWNER_PID      start the fixture under DIR, wait until every server answers
#                                    signed data, and arm a watchdog that stops everything once
#                                    process OWNER_PID (the test binary) is gone. Ports from env:
#                                      PARENT_PORTS  primary of `test.` (first port; more = extra listeners)
#                                      PARENT2_PORT  secondary of `test.` that lags (no NOTIFY)
#                                      CHILD_PORTS   the child zones (first port; more = extra listeners)
#                                      TAMPER_PORT   `stable.test.` with tampered DNSKEY signatures
#   knot.sh ds DIR ZONE matching|absent|wrong   set the parent's DS for ZONE in a knotc zone
#                                    transaction and wait until the primary serves it
#   knot.sh refresh DIR              make the lagging secondary transfer `test.` and wait for it
#   knot.sh spare DIR NAME PORT      start one more server for `stable.test.` (pre-signed copy)
#   knot.sh stop DIR [INSTANCE]      stop one instance, or all, by PID
#
# Zones: parent `test.` (signed, ECDSAP256SHA256) delegating to the signed children `sub.test.`,
# `gate.test.`, `stable.test.` (NSEC) and `n3.test.` (NSEC3), all auto-signed by Knot with
# ECDSAP256SHA256. At start the DS of sub, stable and n3 match; gate has none.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"

die() { echo "knot.sh: $*" >&2; exit 1; }

install_tools() {
  local missing=()
  command -v knotd >/dev/null || missing+=(knot)
  command -v kdig >/dev/null || missing+=(knot-dnsutils)
  command -v keymgr >/dev/null || missing+=(knot)
  command -v delv >/dev/null || missing+=(bind9-dnsutils)
  command -v dig >/dev/null || missing+=(bind9-dnsutils)
  if ((${#missing[@]})); then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y knot knot-dnsutils bind9-dnsutils \
      || die "cannot install knot knot-dnsutils bind9-dnsutils"
  fi
  for t in knotd knotc keymgr kdig dig delv; do
    command -v "$t" >/dev/null || die "$t is still missing after installation"
  done
  # The Debian package starts a system knotd on port 53; the fixture never uses it.
}

# Polls `cmd` (a shell snippet) until it succeeds, for at most $2 seconds.
wait_until() {
  local what="$1" limit="$2" cmd="$3" t0
  t0=$(date +%s)
  until eval "$cmd" >/dev/null 2>&1; do
    if (( $(date +%s) - t0 >= limit )); then
      die "timed out after ${limit}s waiting for: $what"
    fi
    sleep 0.05
  done
}

have_ipv6() { grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; }

listen_list() {
  local out="" p
  for p in "$@"; do
    out+="127.0.0.1@$p, "
    if have_ipv6; then out+="::1@$p, "; fi
  done
  echo "[ ${out%, } ]"
}

# write_conf DIR INSTANCE LISTEN-LIST BODY
write_conf() {
  local dir="$1" inst="$2" listen="$3" body="$4"
  mkdir -p "$dir/$inst"
  cat >"$dir/$inst/knot.conf" <<CONF
server:
    rundir: "$dir/$inst"
    listen: $listen
    pidfile: "$dir/$inst/knot.pid"
    udp-workers: 2
    tcp-workers: 2
    background-workers: 1
control:
    listen: "$dir/$inst/knot.sock"
database:
    storage: "$dir/$inst"
log:
  - target: "$dir/$inst/knotd.log"
    any: info
acl:
  - id: local_xfr
    address: [ 127.0.0.0/8, ::1 ]
    action: transfer
policy:
  - id: ecdsa
    algorithm: ecdsap256sha256
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
    ksk-lifetime: 0
    zsk-lifetime: 0
  - id: ecdsa_n3
    algorithm: ecdsap256sha256
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
$body
CONF
}

start_instance() {
  local dir="$1" inst="$2"
  setsid knotd -c "$dir/$inst/knot.conf" </dev/null >>"$dir/$inst/knotd.out" 2>&1 &
  echo $! >"$dir/$inst/knotd.pid"
}

knotc_() { local dir="$1" inst="$2"; shift 2; knotc -s "$dir/$inst/knot.sock" "$@"; }

# kdig_ PORT ARGS... : non-recursive, one try, short timeout.
kdig_() { local port="$1"; shift; kdig @127.0.0.1 -p "$port" +norec +time=1 +retry=0 "$@"; }

signed_ready() { # PORT ZONE: authoritative DNSKEY answer with an RRSIG
  local out
  out=$(kdig_ "$1" +dnssec DNSKEY "$2") || return 1
  grep -qi 'flags:.* aa' <<<"$out" && grep -qE "RRSIG[[:space:]]+DNSKEY" <<<"$out"
}

soa_serial() { kdig_ "$1" +short SOA "$2" | awk '{print $3}'; }

child_zone_file() {
  local zone="$1" file="$2" i
  {
    echo "\$ORIGIN $zone."
    echo "\$TTL 3600"
    echo "@ 3600 SOA ns1.$zone. hostmaster.$zone. 1 7200 3600 1209600 300"
    echo "@ 3600 NS ns1"
    echo "ns1 3600 A 127.0.0.1"
    echo "www 300 A 127.0.0.1"
    echo "*.wild 300 TXT \"synthesised from a wildcard\""
    # A TXT RRset far above the 1232-byte EDNS buffer: forces TC and a TCP retry.
    for i in $(seq 1 24); do
      printf 'big 300 TXT "%03d-%s"\n' "$i" "$(printf 'x%.0s' $(seq 1 240))"
    done
  } >"$file"
}

cmd_start() {
  local dir="$1" owner="$2"
  : "${PARENT_PORTS:?}" "${PARENT2_PORT:?}" "${CHILD_PORTS:?}" "${TAMPER_PORT:?}"
  install_tools
  mkdir -p "$dir"
  local pport cport
  read -r pport _ <<<"$PARENT_PORTS"
  read -r cport _ <<<"$CHILD_PORTS"
  echo "$pport" >"$dir/parent.port"; echo "$PARENT2_PORT" >"$dir/parent2.port"
  echo "$cport" >"$dir/child.port"; echo "$TAMPER_PORT" >"$dir/tamper.port"

  # Watchdog first, so that nothing outlives the test binary even if start-up fails half-way.
  setsid bash -c "while [ -e /proc/$owner ] && ! grep -q \") Z\" /proc/$owner/stat 2>/dev/null; do sleep 1; done; bash \"$SELF\" stop \"$dir\"; rm -rf \"$dir\"" \
    </dev/null >/dev/null 2>&1 &

  # --- child: four signed zones
  local z body=""
  for z in sub gate stable n3; do
    child_zone_file "$z.test" "$dir/child-$z.zone"
  done
  write_conf "$dir" child "$(listen_list $CHILD_PORTS)" "
template:
  - id: default
    storage: \"$dir/child\"
    dnssec-signing: on
    dnssec-policy: ecdsa
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
    serial-policy: increment
    acl: local_xfr
zone:
  - domain: sub.test.
    file: \"$dir/child-sub.zone\"
  - domain: gate.test.
    file: \"$dir/child-gate.zone\"
  - domain: stable.test.
    file: \"$dir/child-stable.zone\"
  - domain: n3.test.
    file: \"$dir/child-n3.zone\"
    dnssec-policy: ecdsa_n3"
  start_instance "$dir" child
  for z in sub gate stable n3; do
    wait_until "child $z.test. signed" 30 "signed_ready $cport $z.test."
  done

  # --- parent primary: test. with delegations (distinct NS TTLs)
  cat >"$dir/parent-test.zone" <<ZONE
\$ORIGIN test.
\$TTL 3600
@ 3600 SOA ns1.test. hostmaster.test. 1 86400 3600 1209600 300
@ 3600 NS ns1
ns1 3600 A 127.0.0.1
sub 7200 NS ns1.sub
ns1.sub 7200 A 127.0.0.1
gate 7200 NS ns1.gate
ns1.gate 7200 A 127.0.0.1
stable 172800 NS ns1.stable
ns1.stable 172800 A 127.0.0.1
n3 7200 NS ns1.n3
ns1.n3 7200 A 127.0.0.1
ZONE
  write_conf "$dir" parent "$(listen_list $PARENT_PORTS)" "
template:
  - id: default
    storage: \"$dir/parent\"
    dnssec-signing: on
    dnssec-policy: ecdsa
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
    serial-policy: increment
    acl: local_xfr
zone:
  - domain: test.
    file: \"$dir/parent-test.zone\""
  start_instance "$dir" parent
  wait_until "parent test. signed" 30 "signed_ready $pport test."
  for z in sub stable n3; do
    cmd_ds "$dir" "$z.test" matching
  done

  # --- parent secondary: transfers test. once, gets no NOTIFY, so it lags until `refresh`.
  write_conf "$dir" parent2 "$(listen_list $PARENT2_PORT)" "
remote:
  - id: primary
    address: 127.0.0.1@$pport
template:
  - id: default
    storage: \"$dir/parent2\"
    zonefile-sync: -1
    journal-content: all
zone:
  - domain: test.
    master: primary
    file: \"$dir/parent2-test.zone\""
  start_instance "$dir" parent2
  local serial
  serial=$(soa_serial "$pport" test.)
  wait_until "secondary test. at serial $serial" 30 "[ \"\$(soa_serial $PARENT2_PORT test.)\" = $serial ]"

  # --- tampered: stable.test. from a transfer of the signed zone, DNSKEY signatures altered.
  kdig @127.0.0.1 -p "$cport" AXFR stable.test. +nocomments +nostats +noheader \
    | awk -F'\t' '
        /^;/ || NF < 5 { next }
        $4 == "SOA" { if (seen_soa++) next }
        $4 == "RRSIG" && $5 ~ /^DNSKEY / {
          n = split($5, f, " "); sig = f[n];
          c = substr(sig, 10, 1); r = (c == "A") ? "B" : "A";
          f[n] = substr(sig, 1, 9) r substr(sig, 11);
          line = f[1]; for (i = 2; i <= n; i++) line = line " " f[i];
          $5 = line
        }
        { print $1 "\t" $2 "\t" $3 "\t" $4 "\t" $5 }' OFS='\t' >"$dir/tamper-stable.zone"
  grep -q RRSIG "$dir/tamper-stable.zone" || die "the transfer of stable.test. has no signatures"
  write_conf "$dir" tamper "$(listen_list $TAMPER_PORT)" "
template:
  - id: default
    storage: \"$dir/tamper\"
    zonefile-sync: -1
    semantic-checks: off
zone:
  - domain: stable.test.
    file: \"$dir/tamper-stable.zone\""
  start_instance "$dir" tamper
  wait_until "tampered stable.test." 30 "signed_ready $TAMPER_PORT stable.test."
  echo "knot fixture ready in $dir (parent $pport, parent2 $PARENT2_PORT, child $cport, tamper $TAMPER_PORT)"
}

# The DS records (digest type 2) for the child's current KSKs, presentation RDATA per line.
child_ds() {
  local dir="$1" zone="$2"
  keymgr -c "$dir/child/knot.conf" "$zone." ds | awk '$4 == 2 || $5 == 2 { for (i=1;i<=NF;i++) if ($i=="DS") { print $(i+1), $(i+2), $(i+3), $(i+4); break } }' \
    | awk '$3 == 2'
}

cmd_ds() {
  local dir="$1" zone="${2%.}" mode="$3"
  local label="${zone%.test}" pport want
  pport=$(cat "$dir/parent.port")
  local -a rrs=()
  case "$mode" in
    matching) mapfile -t rrs < <(child_ds "$dir" "$zone") ;;
    wrong)    mapfile -t rrs < <(child_ds "$dir" "$zone" | awk '{ d=$4; w=""; for (i=length(d); i>0; i--) w = w substr(d,i,1); print $1, $2, $3, w }') ;;
    absent)   rrs=() ;;
    *) die "ds mode must be matching, absent or wrong" ;;
  esac
  if [ "$mode" != absent ] && ((${#rrs[@]} == 0)); then die "no DS computed for $zone"; fi
  knotc_ "$dir" parent zone-begin test. >/dev/null
  knotc_ "$dir" parent zone-unset test. "$label" DS >/dev/null 2>&1 || true
  local rr
  for rr in "${rrs[@]}"; do
    knotc_ "$dir" parent zone-set test. "$label" 300 DS $rr >/dev/null \
      || { knotc_ "$dir" parent zone-abort test. || true; die "zone-set DS $rr failed"; }
  done
  knotc_ "$dir" parent zone-commit test. >/dev/null || die "zone-commit failed"
  want=$(printf '%s\n' "${rrs[@]}" | awk 'NF' | tr 'a-f' 'A-F' | sort | tr -s ' ')
  wait_until "parent serves $mode DS for $zone" 30 \
    "[ \"\$(kdig_ $pport +short DS $zone. | tr 'a-f' 'A-F' | awk '{printf \"%s %s %s \", \$1, \$2, \$3; for (i=4;i<=NF;i++) printf \"%s\", \$i; print \"\"}' | sed 's/ \$//' | sort)\" = \"$want\" ] && kdig_ $pport +dnssec DS $zone. | grep -qi 'flags:.* aa'"
}

cmd_refresh() {
  local dir="$1" pport p2 serial
  pport=$(cat "$dir/parent.port"); p2=$(cat "$dir/parent2.port")
  serial=$(soa_serial "$pport" test.)
  knotc_ "$dir" parent2 zone-refresh test. >/dev/null
  wait_until "secondary test. at serial $serial" 30 "[ \"\$(soa_serial $p2 test.)\" = $serial ]"
}

cmd_spare() {
  local dir="$1" name="$2" port="$3"
  [ -f "$dir/tamper-stable.zone" ] || die "start the fixture first"
  local cport; cport=$(cat "$dir/child.port")
  kdig @127.0.0.1 -p "$cport" AXFR stable.test. +nocomments +nostats +noheader \
    | awk -F'\t' '/^;/ || NF < 5 { next } $4 == "SOA" { if (seen++) next } { print }' >"$dir/$name.zone"
  write_conf "$dir" "$name" "$(listen_list "$port")" "
template:
  - id: default
    storage: \"$dir/$name\"
    zonefile-sync: -1
    semantic-checks: off
zone:
  - domain: stable.test.
    file: \"$dir/$name.zone\""
  start_instance "$dir" "$name"
  wait_until "spare $name" 30 "signed_ready $port stable.test."
}

# Running and not a zombie (a reaped-late child still answers kill -0).
alive() {
  local pid="$1" state
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
  [ "$state" != Z ] && [ "$state" != X ]
}

cmd_stop() {
  local dir="$1" only="${2:-}" f pid
  for f in "$dir"/*/knotd.pid; do
    [ -e "$f" ] || continue
    if [ -n "$only" ] && [ "$f" != "$dir/$only/knotd.pid" ]; then continue; fi
    pid=$(cat "$f")
    if alive "$pid"; then
      kill "$pid" 2>/dev/null || true
      local t0; t0=$(date +%s)
      while alive "$pid"; do
        if (( $(date +%s) - t0 >= 10 )); then kill -9 "$pid" 2>/dev/null || true; fi
        if (( $(date +%s) - t0 >= 20 )); then echo "knot.sh: $pid does not stop" >&2; break; fi
        sleep 0.05
      done
    fi
    rm -f "$f"
  done
}

case "${1:-install}" in
  install) install_tools; echo "knot.sh: Knot DNS $(knotd --version | awk '{print $NF}'), kdig, dig and delv are installed" ;;
  start) shift; cmd_start "$@" ;;
  ds) shift; cmd_ds "$@" ;;
  refresh) shift; cmd_refresh "$@" ;;
  spare) shift; cmd_spare "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "unknown command $1" ;;
esac
