#!/usr/bin/env bash
# Shaped-link benchmark of issue 24 (not part of tests/run-all.sh: it needs
# root for network namespaces, which CI may not have).
#
#   sudo tests/bench-netem.sh                 # every link, every scenario
#   LINKS="2g" SCENARIOS="visits" tests/bench-netem.sh
#   NO_BUILD=1 tests/bench-netem.sh          # the release binaries as already built
#
# Builds two network namespaces, `fqbn-srv` and `fqbn-phone`, joined by a
# shaped link, runs the real `fengqiao-server` (release build, demo county)
# in the first and the phone core's bench binary (`link_bench`, see
# tests/src/bin/link_bench.rs) in the second, and prints the figures of each
# link side by side. Links (rate, one-way delay, random loss; each direction):
#   loopback  unshaped (the same namespaces and relay, no limits, no cuts)
#   4g-weak   1 Mbit/s, 150 ms, 2 % loss, cut 2 s every 30 s
#   2g        256 kbit/s, 300 ms, 3 % loss, cut 2 s every 30 s
# The link is a veth pair with `tc netem` where the kernel has the netem qdisc;
# where it has not (CONFIG_NET_SCH_NETEM unset, as on this project's VMs), a
# packet-level relay between two TUN devices (tests/netem/link.py) does the
# same shaping. Only addresses inside these two namespaces are used
# (10.201.0.0/24); everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

LINKS=${LINKS:-"loopback 4g-weak 2g"}
SCENARIOS=${SCENARIOS:-"visits photo pull approval"}
PULL_RECORDS=${PULL_RECORDS:-5000}
SRV_NS=fqbn-srv
PHONE_NS=fqbn-phone
SRV_IP=10.201.0.1
PHONE_IP=10.201.0.2
PORT=8480
WORK=$(mktemp -d /tmp/fq-netem.XXXXXX)
TARGET=${CARGO_TARGET_DIR:-target}
LINK_PID=""
SRV_PID=""

if [ "$(id -u)" != 0 ]; then
  echo "bench-netem: needs root (network namespaces, tc)" >&2
  exit 2
fi
for tool in ip tc python3; do
  command -v "$tool" >/dev/null || { echo "bench-netem: missing $tool (apt-get install iproute2 python3)" >&2; exit 2; }
done

cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
  [ -n "$LINK_PID" ] && kill "$LINK_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns del "$SRV_NS" 2>/dev/null || true
  ip netns del "$PHONE_NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# NO_BUILD=1: use the release binaries already built (e.g. while other builds run).
if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "building (release): fengqiao-server, link_bench" >&2
  cargo build --release -q -p fengqiao-server --bin fengqiao-server
  cargo build --release -q -p fengqiao-tests --bin link_bench
fi
SERVER_BIN="$TARGET/release/fengqiao-server"
BENCH_BIN="$TARGET/release/link_bench"

# Whether this kernel has the netem qdisc (probed on a throwaway veth pair).
have_netem() {
  ip link add fqbn-probe0 type veth peer name fqbn-probe1 2>/dev/null || return 1
  local ok=1
  tc qdisc add dev fqbn-probe0 root netem delay 1ms 2>/dev/null && ok=0
  ip link del fqbn-probe0 2>/dev/null || true
  return $ok
}
if have_netem; then MODE=netem; else MODE=tun; fi
echo "link emulation: $MODE" >&2

# link_params NAME -> "rate_kbit delay_ms loss cut_every"
link_params() {
  case "$1" in
    loopback) echo "0 0 0 0" ;;
    4g-weak) echo "1000 150 0.02 30" ;;
    2g) echo "256 300 0.03 30" ;;
    *) echo "unknown link $1" >&2; exit 2 ;;
  esac
}

up_namespaces() {
  ip netns add "$SRV_NS"
  ip netns add "$PHONE_NS"
  ip -n "$SRV_NS" link set lo up
  ip -n "$PHONE_NS" link set lo up
}

# Starts the link between the namespaces; cuts (netem mode) by a loop that
# takes the phone's end down for 2 s every CUT seconds.
start_link() {
  local rate=$1 delay=$2 loss=$3 cut=$4
  if [ "$MODE" = netem ]; then
    ip link add fqbn-s type veth peer name fqbn-p
    ip link set fqbn-s netns "$SRV_NS"
    ip link set fqbn-p netns "$PHONE_NS"
    local dev ns
    for pair in "$SRV_NS:fqbn-s" "$PHONE_NS:fqbn-p"; do
      ns=${pair%%:*}; dev=${pair##*:}
      if [ "$rate" != 0 ]; then
        ip netns exec "$ns" tc qdisc add dev "$dev" root netem rate "${rate}kbit" delay "${delay}ms" loss "$(python3 -c "print($loss*100)")%" limit 100
      fi
    done
    SRV_DEV=fqbn-s; PHONE_DEV=fqbn-p
    if [ "$cut" != 0 ]; then
      ( while sleep "$cut"; do
          ip -n "$PHONE_NS" link set fqbn-p down; sleep 2; ip -n "$PHONE_NS" link set fqbn-p up
          ip -n "$PHONE_NS" route replace default dev fqbn-p 2>/dev/null || true
        done ) &
      LINK_PID=$!
    fi
  else
    local args=(--rate-kbit "$rate" --delay-ms "$delay" --loss "$loss" --cut-every "$cut" --cut-for 2)
    python3 tests/netem/link.py "${args[@]}" >"$WORK/link.out" 2>"$WORK/link.err" &
    LINK_PID=$!
    for _ in $(seq 100); do grep -q ready "$WORK/link.out" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$WORK/link.out" || { echo "the link relay did not start" >&2; cat "$WORK/link.err" >&2; exit 1; }
    ip link set fqlnk-s netns "$SRV_NS"
    ip link set fqlnk-p netns "$PHONE_NS"
    SRV_DEV=fqlnk-s; PHONE_DEV=fqlnk-p
  fi
  ip -n "$SRV_NS" addr add "$SRV_IP/24" dev "$SRV_DEV"
  ip -n "$SRV_NS" link set "$SRV_DEV" up
  ip -n "$PHONE_NS" addr add "$PHONE_IP/24" dev "$PHONE_DEV"
  ip -n "$PHONE_NS" link set "$PHONE_DEV" up
}

stop_all() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
  [ -n "$LINK_PID" ] && kill "$LINK_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  SRV_PID=""; LINK_PID=""
  ip netns del "$SRV_NS" 2>/dev/null || true
  ip netns del "$PHONE_NS" 2>/dev/null || true
}

start_server() {
  local data=$1
  ip netns exec "$SRV_NS" "$SERVER_BIN" serve --data "$data" --listen "$SRV_IP:$PORT" --demo >"$data.log" 2>&1 &
  SRV_PID=$!
  for _ in $(seq 300); do
    [ -s "$data/demo-credentials.json" ] && ip netns exec "$SRV_NS" python3 -c "
import socket,sys; s=socket.socket(); s.settimeout(0.2)
sys.exit(0 if s.connect_ex(('$SRV_IP',$PORT))==0 else 1)" && return 0
    sleep 0.1
  done
  echo "the server did not start" >&2; cat "$data.log" >&2; exit 1
}

declare -A RESULT
for link in $LINKS; do
  read -r rate delay loss cut <<<"$(link_params "$link")"
  for scenario in $SCENARIOS; do
    data="$WORK/server-$link-$scenario"
    mkdir -p "$data"
    up_namespaces
    # The server's namespace reaches itself on the link address too (for seeding).
    start_link "$rate" "$delay" "$loss" "$cut"
    start_server "$data"
    url="http://$SRV_IP:$PORT"
    if [ "$scenario" = pull ]; then
      echo "[$link] seeding $PULL_RECORDS visits next to the server" >&2
      ip netns exec "$SRV_NS" "$BENCH_BIN" --scenario seed --url "$url" --data "$data" \
        --work "$WORK/seed-$link" --records "$PULL_RECORDS" >/dev/null
    fi
    echo "[$link] $scenario" >&2
    out=$(ip netns exec "$PHONE_NS" "$BENCH_BIN" --scenario "$scenario" --url "$url" --data "$data" \
      --work "$WORK/phone-$link-$scenario" --rate-kbit "$rate" 2>"$WORK/bench.err") || {
      echo "[$link] $scenario failed:" >&2; cat "$WORK/bench.err" >&2; out="RESULT $scenario FAILED"; }
    RESULT[$link,$scenario]=${out#RESULT $scenario }
    echo "  $link $scenario: ${RESULT[$link,$scenario]}" >&2
    stop_all
    [ "$MODE" = tun ] && [ -s "$WORK/link.err" ] && sed 's/^/    link: /' "$WORK/link.err" >&2
  done
done

echo
echo "Shaped links ($MODE), $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
for scenario in $SCENARIOS; do
  echo "$scenario:"
  for link in $LINKS; do
    printf '  %-9s %s\n' "$link" "${RESULT[$link,$scenario]}"
  done
done
