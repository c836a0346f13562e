#!/usr/bin/env bash
# Network throughput benchmark (not a test: it prints figures and asserts nothing about them), as root:
#
#   sudo bash scripts/bench-network.sh [--size MIB] [--runs N] [--no-setup]
#
# What it measures: the wall time of one HTTP download of a SIZE MiB file (default 64) by busybox wget in the
# host netns from busybox httpd at a pod address, N times each (default 5, after one warm-up), over two paths
# that share the same private bridge, veth pair and pod netns:
#   bare veth     host -> bridge -> veth -> pod netns eth0 -> busybox httpd started in the pod netns itself
#   testbed path  host -> bridge -> veth -> pod netns eth0 -> tc u32 mirred -> tap0_kata -> the cloud-hypervisor
#                 stand-in's relay -> the guest emulator's eth0 -> busybox httpd in a Podvisor container
#                 (ctr run --runtime io.containerd.kata.v2 --with-ns network:<pod netns>)
# It prints the median, min and max in MiB/s and the testbed path as a fraction of the bare veth, so that a
# regression of the relay or of the tc wiring shows. All traffic stays on the private bridge; everything
# (containerd, netns, bridge, temp dir) is removed at the end, also on failure.
# Uses the install at $PODVISOR_PREFIX (default /opt/podvisor; --no-setup: do not run scripts/setup.sh first).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

size=64
runs=5
setup=1
while (($#)); do
  case "$1" in
    --size) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--size needs a positive number of MiB"; size="$2"; shift ;;
    --runs) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number"; runs="$2"; shift ;;
    --no-setup) setup=0 ;;
    *) die "unknown argument '$1' (usage: $0 [--size MIB] [--runs N] [--no-setup])" ;;
  esac
  shift
done
require_root
scripts="$PODVISOR_REPO/scripts"
if ((setup)); then bash "$scripts/setup.sh" >&2; fi
config="$PODVISOR_PREFIX/testbed/configuration.toml"
[[ -f "$config" ]] || die "no testbed configuration at $config (run scripts/setup.sh or set PODVISOR_PREFIX)"
command -v busybox >/dev/null || die "busybox missing (apt-get install busybox-static)"

image=docker.io/library/busybox:podvisor
hex="$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
work="$(mktemp -d /tmp/pvnb.XXXXXX)"
ctrd="$work/c"
sock="$ctrd/containerd.sock"
netns="pvnb-$hex"
bridge="pvnb$hex"          # <= 15 characters
veth="pvnv$hex"
id="bench-net-$hex"
started=0 httpd_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$httpd_pid" ]]; then kill "$httpd_pid" 2>/dev/null || true; fi
  if ((started)); then bash "$scripts/containerd-private.sh" stop "$ctrd" >&2 || rc=1; fi
  ip netns del "$netns" 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  rm -rf --one-file-system "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free private /24 (no route on the host uses it).
subnet=""
for ((try = 0; try < 40; try++)); do
  candidate="10.$((200 + RANDOM % 50)).$((RANDOM % 256))"
  if ! ip -4 route show | grep -qF "$candidate."; then subnet="$candidate"; break; fi
done
[[ -n "$subnet" ]] || die "no free 10.2xx.y.0/24 found"
host_ip="$subnet.1"
pod_ip="$subnet.2"

# The CNI bridge plugin's topology, by hand: bridge with the gateway address, veth into the pod netns.
ip netns add "$netns"
ip link add "$bridge" type bridge
ip addr add "$host_ip/24" dev "$bridge"
ip link set "$bridge" up
ip link add "$veth" type veth peer name eth0 netns "$netns"
ip link set "$veth" master "$bridge" up
ip -n "$netns" addr add "$pod_ip/24" dev eth0
ip -n "$netns" link set eth0 up
ip -n "$netns" link set lo up
ip -n "$netns" route add default via "$host_ip"

# fetch : prints the wall time in microseconds of one download of /big from the pod address.
fetch() {
  local t0 t1
  t0=$(date +%s%N)
  busybox wget -q -O /dev/null "http://$pod_ip:8080/big" || die "wget http://$pod_ip:8080/big failed"
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
}

# await_server : wait (60 s at most) until the pod address serves /big.
await_server() {
  local i
  for ((i = 0; i < 600; i++)); do
    # (busybox 1.35's wget -T crashes: timeout(1) bounds each try instead)
    if timeout 3 busybox wget -q -O /dev/null "http://$pod_ip:8080/ready" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "no HTTP server at $pod_ip:8080 after 60 s ($1)"
}

# measure NAME : warm-up plus $runs downloads; sets the global array times.
measure() {
  log "$1: 1 warm-up and $runs measured downloads of $size MiB"
  fetch >/dev/null
  times=()
  for ((i = 1; i <= runs; i++)); do times+=("$(fetch)"); done
}

mibps() { awk -v us="$1" -v mib="$size" 'BEGIN { printf "%.1f", mib / (us / 1e6) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
declare -A med min max

summarise() {
  med[$1]="$(printf '%s\n' "${times[@]}" | median)"
  min[$1]="$(printf '%s\n' "${times[@]}" | sort -n | tail -n 1)"   # slowest run = lowest throughput
  max[$1]="$(printf '%s\n' "${times[@]}" | sort -n | head -n 1)"
}

# 1. bare veth: httpd in the pod netns itself, no tap, no relay.
mkdir -p "$work/www"
head -c "$((size << 20))" /dev/zero >"$work/www/big"
: >"$work/www/ready"
ip netns exec "$netns" busybox httpd -f -p "$pod_ip:8080" -h "$work/www" &
httpd_pid=$!
await_server "bare veth"
measure "bare veth"
summarise veth
kill "$httpd_pid"
wait "$httpd_pid" 2>/dev/null || true
httpd_pid=""

# 2. testbed path: the same netns handed to Podvisor as the sandbox's network namespace.
bash "$scripts/make-busybox-image.sh" "$work/busybox.tar" "$image" 2>/dev/null
started=1
bash "$scripts/containerd-private.sh" start "$ctrd" --runtime-config "$config" \
  --shim "$PODVISOR_PREFIX/bin/containerd-shim-kata-v2" 2>/dev/null
ctr --address "$sock" images import "$work/busybox.tar" >/dev/null
ctr --address "$sock" run -d --runtime io.containerd.kata.v2 --with-ns "network:/var/run/netns/$netns" "$image" "$id" \
  sh -c "mkdir -p /www && head -c $((size << 20)) /dev/zero > /www/big && : > /www/ready && exec httpd -f -p 8080 -h /www" >/dev/null
await_server "testbed path: does the pod get its network? (ctr task of $id)"
measure "testbed path"
summarise testbed
ctr --address "$sock" tasks kill -s SIGKILL "$id" >/dev/null
ctr --address "$sock" tasks delete "$id" >/dev/null 2>&1 || ctr --address "$sock" tasks delete -f "$id" >/dev/null
ctr --address "$sock" containers rm "$id" >/dev/null

printf '\n%-14s %14s %14s %14s\n' path "median MiB/s" "min MiB/s" "max MiB/s"
for p in veth testbed; do
  case "$p" in veth) name="bare veth" ;; testbed) name="testbed path" ;; esac
  printf '%-14s %14s %14s %14s\n' "$name" "$(mibps "${med[$p]}")" "$(mibps "${min[$p]}")" "$(mibps "${max[$p]}")"
done
awk -v a="${med[veth]}" -v b="${med[testbed]}" 'BEGIN { printf "\ntestbed path / bare veth (median): %.1f %%\n", 100 * a / b }'
printf '%d downloads each of a %d MiB file by busybox wget in the host netns from busybox httpd at %s:\n' "$runs" "$size" "$pod_ip"
printf 'bare veth = httpd in the pod netns; testbed path = httpd in a Podvisor container, frames through\n'
printf 'tc mirred, tap0_kata and the cloud-hypervisor stand-in relay (a user-space copy per frame, no vhost).\n'
