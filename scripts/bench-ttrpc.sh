#!/usr/bin/env bash
# ttrpc latency of a shim serving one idle pod, Podvisor beside Kata 3.30's Go shim, in interleaved rounds.
#
#   sudo bash scripts/bench-ttrpc.sh [--rounds N] [--calls N] [--peers DIR] [--no-setup]
#
# Each round starts one idle pod (`ctr run -d … sleep`) through each shim in turn on one private containerd
# and testbed, lets it settle, then runs golat (Go's ttrpc client) against that pod's shim: State calls with
# 1 and then 8 clients on one connection, --calls (default 20,000) after 1,000 warm-up calls, as
# scripts/bench.sh does, but with nothing else running; then the pod is removed. Prints one row per round and
# shim (p50 / p99 µs, calls/s). Needs the Kata peer (../shared/peers) and golat (built from Debian's Go
# packages, see scripts/bench.sh). Everything it starts is removed at the end.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

rounds=3 calls=20000 setup=1
peers="${PODVISOR_PEERS:-$PODVISOR_REPO/../shared/peers}"
positive() { [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive number, got '${2:-}'"; }
while (($#)); do
  case "$1" in
    --rounds) positive "$1" "${2:-}"; rounds="$2"; shift ;;
    --calls) positive "$1" "${2:-}"; calls="$2"; shift ;;
    --peers) [[ -n "${2:-}" ]] || die "--peers needs a directory"; peers="$2"; shift ;;
    --no-setup) setup=0 ;;
    *) die "unknown argument '$1' (usage: $0 [--rounds N] [--calls N] [--peers DIR] [--no-setup])" ;;
  esac
  shift
done
require_root
scripts="$PODVISOR_REPO/scripts"
if ((setup)); then bash "$scripts/setup.sh" >&2; fi
config="$PODVISOR_PREFIX/testbed/configuration.toml"
shim="$PODVISOR_PREFIX/bin/containerd-shim-kata-v2"
[[ -f "$config" && -x "$shim" ]] || die "no Podvisor install under $PODVISOR_PREFIX (run without --no-setup)"
[[ -f "$peers/kata-shim-go-3.30.0.xz" && -f "$peers/kata-clh-testbed.toml" ]] || die "Kata peer shim absent under $peers"

image=docker.io/library/busybox:podvisor
hex="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"   # container ids are t$hex-<shim>-<round>
work="$(mktemp -d /tmp/pvt.XXXXXX)"
ctrd="$work/c"
sock="$ctrd/containerd.sock"
started=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((started)); then bash "$scripts/containerd-private.sh" stop "$ctrd" >&2 || rc=1; fi
  remove_kata_state "t$hex-kg-" >/dev/null || true
  rm -rf --one-file-system "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ctr_() { timeout 300 ctr --address "$sock" "$@"; }

golat="$(find_golat "$peers/../tools/ttrpc" "$work/ttrpc")" || die "golat absent"
mkdir -p "$ctrd/opt/bin" "$work/peer"
xz -dc "$peers/kata-shim-go-3.30.0.xz" >"$work/peer/containerd-shim-kata-v2"
chmod 0755 "$work/peer/containerd-shim-kata-v2"
sed "s|/opt/podvisor/|$PODVISOR_PREFIX/|g" "$peers/kata-clh-testbed.toml" >"$work/peer/kata-clh-testbed.toml"
declare -A runtime=([pv]=io.containerd.pvbench.v2 [kg]=io.containerd.katago.v2) name=([pv]=Podvisor [kg]="Kata Go 3.30")
write_timing_wrapper "$ctrd/opt/bin/containerd-shim-pvbench-v2" "$shim" "$work/timings-pv.log" "$config"
write_timing_wrapper "$ctrd/opt/bin/containerd-shim-katago-v2" "$work/peer/containerd-shim-kata-v2" \
  "$work/timings-kg.log" "$work/peer/kata-clh-testbed.toml"

bash "$scripts/make-busybox-image.sh" "$work/busybox.tar" "$image" 2>/dev/null
started=1
bash "$scripts/containerd-private.sh" start "$ctrd" --runtime-config "$config" --shim "$shim" --dev-log >&2
ctr_ images import "$work/busybox.tar" >/dev/null

echo "| round | shim | 1 client p50 / p99 / calls/s | 8 clients p50 / p99 / calls/s |"
echo "| --- | --- | --- | --- |"
for ((r = 1; r <= rounds; r++)); do
  for key in pv kg; do
    id="t$hex-$key-$r"
    ctr_ run -d --fifo-dir "$work/fifo" --runtime "${runtime[$key]}" "$image" "$id" sleep 3600 >/dev/null
    sleep 3   # the pod's start-up work settles, as in scripts/bench.sh
    socket="$(shim_socket "$ctrd/state" "$id")" || die "no address file for $id"
    read -r p50a p99a rpsa < <(golat_state "$golat" "$socket" "$id" 1 "$calls")
    read -r p50b p99b rpsb < <(golat_state "$golat" "$socket" "$id" 8 "$calls")
    echo "| $r | ${name[$key]} | $p50a µs / $p99a µs / $(fmt_count "$rpsa") | $p50b µs / $p99b µs / $(fmt_count "$rpsb") |"
    ctr_ task kill -s KILL "$id" >/dev/null 2>&1 || true
    ctr_ task delete "$id" >/dev/null 2>&1 || ctr_ task delete -f "$id" >/dev/null 2>&1 || true
    ctr_ container rm "$id" >/dev/null 2>&1 || true
  done
done
echo
echo "- $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; Podvisor $(git -C "$PODVISOR_REPO" describe --always --dirty 2>/dev/null || echo '?'); $(date -u '+%Y-%m-%d %H:%M') UTC."
