#!/usr/bin/env bash
# Benchmarks, in one run (as root):
#
#   sudo bash scripts/bench.sh [--runs N] [--no-setup]
#
# - median wall time of `ctr run --rm --runtime R busybox <id> echo hi` through Podvisor
#   (io.containerd.kata.v2, testbed stand-ins for the VMM) and through runc (io.containerd.runc.v2), on
#   the same private containerd; N runs each (default 20) after 2 warm-up runs
# - the shim daemon's idle memory: RSS and PSS from /proc/<pid>/smaps_rollup while a `sleep` container
#   runs (Podvisor's and, for comparison, containerd-shim-runc-v2's)
# Everything (containerd, containers, temp dir) is removed at the end, also on failure.
# Knob: PODVISOR_BENCH_RUNTIMES="io.containerd.runc.v2" restricts the runtimes (for development).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

runs=20
setup=1
while (($#)); do
  case "$1" in
    --runs) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--runs needs a positive number"; runs="$2"; shift ;;
    --no-setup) setup=0 ;;
    *) die "unknown argument '$1' (usage: $0 [--runs N] [--no-setup])" ;;
  esac
  shift
done
require_root
read -r -a runtimes <<<"${PODVISOR_BENCH_RUNTIMES:-io.containerd.kata.v2 io.containerd.runc.v2}"
image=docker.io/library/busybox:podvisor
scripts="$PODVISOR_REPO/scripts"

if ((setup)); then bash "$scripts/setup.sh" >&2; fi
config="$PODVISOR_PREFIX/testbed/configuration.toml"

work="$(mktemp -d /tmp/podvisor-bench.XXXXXX)"
ctrd="$work/ctrd"
sock="$ctrd/containerd.sock"
suffix="$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
started=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((started)); then bash "$scripts/containerd-private.sh" stop "$ctrd" >&2 || rc=1; fi
  rm -rf --one-file-system "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$scripts/make-busybox-image.sh" "$work/busybox.tar" "$image" 2>/dev/null
started=1
start_args=()
if [[ -f "$config" ]]; then start_args=(--runtime-config "$config"); fi
bash "$scripts/containerd-private.sh" start "$ctrd" "${start_args[@]}" 2>/dev/null
ctr --address "$sock" images import "$work/busybox.tar" >/dev/null

# one_run RUNTIME ID : prints the wall time of one `ctr run --rm ... echo hi` in microseconds.
one_run() {
  local t0 t1 out
  t0=$(date +%s%N)
  out="$(ctr --address "$sock" run --rm --runtime "$1" "$image" "$2" echo hi 2>&1)" ||
    die "ctr run --runtime $1 failed: $out"
  t1=$(date +%s%N)
  [[ "$out" == hi ]] || die "ctr run --runtime $1: expected 'hi', got '$out'"
  echo $(((t1 - t0) / 1000))
}

# median : the median of the numbers on stdin (mean of the two middle ones for an even count).
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

ms() { awk -v us="$1" 'BEGIN { printf "%.1f ms", us / 1000 }'; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }

# shim_pid ID : the pid of the shim daemon serving container ID (shim.pid in the bundle, else the
# process of this instance whose argv names the id).
shim_pid() {
  local bundle="$ctrd/state/io.containerd.runtime.v2.task/default/$1" f pid
  if [[ -s "$bundle/shim.pid" ]]; then cat "$bundle/shim.pid"; return; fi
  for f in $(grep -lzxF -- "$1" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    pid="${f#/proc/}"
    pid="${pid%/cmdline}"
    if tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "-address $sock "; then echo "$pid"; return; fi
  done
  return 1
}

# rollup PID FIELD : a field of /proc/PID/smaps_rollup, in kB.
rollup() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"; }

declare -A median_us min_us max_us rss pss
for rt in "${runtimes[@]}"; do
  log "$rt: 2 warm-up runs, then $runs measured runs"
  one_run "$rt" "bench-warm1-$suffix" >/dev/null
  one_run "$rt" "bench-warm2-$suffix" >/dev/null
  times=()
  for ((i = 1; i <= runs; i++)); do times+=("$(one_run "$rt" "bench-$i-$suffix")"); done
  median_us[$rt]="$(printf '%s\n' "${times[@]}" | median)"
  min_us[$rt]="$(printf '%s\n' "${times[@]}" | sort -n | head -n 1)"
  max_us[$rt]="$(printf '%s\n' "${times[@]}" | sort -n | tail -n 1)"

  id="bench-idle-$suffix"
  ctr --address "$sock" run -d --runtime "$rt" "$image" "$id" sleep 3600 >/dev/null
  pid="$(shim_pid "$id")" || die "cannot find the shim daemon of $id"
  sleep 2   # let start-up work (class loading, JIT) settle: this is the idle footprint
  rss[$rt]="$(rollup "$pid" Rss)"
  pss[$rt]="$(rollup "$pid" Pss)"
  ctr --address "$sock" tasks kill -s SIGKILL "$id" >/dev/null
  ctr --address "$sock" tasks delete "$id" >/dev/null 2>&1 || ctr --address "$sock" tasks delete -f "$id" >/dev/null
  ctr --address "$sock" containers rm "$id" >/dev/null
done

printf '\n%-24s %12s %12s %12s %14s %14s\n' runtime "median" min max "shim RSS" "shim PSS"
for rt in "${runtimes[@]}"; do
  case "$rt" in io.containerd.kata.v2) name="podvisor (kata.v2)" ;; io.containerd.runc.v2) name="runc (runc.v2)" ;; *) name="$rt" ;; esac
  printf '%-24s %12s %12s %12s %14s %14s\n' "$name" "$(ms "${median_us[$rt]}")" "$(ms "${min_us[$rt]}")" \
    "$(ms "${max_us[$rt]}")" "$(mb "${rss[$rt]}")" "$(mb "${pss[$rt]}")"
done
printf '\n%d runs each of "ctr run --rm --runtime <runtime> busybox <id> echo hi"; idle memory of the shim\n' "$runs"
printf 'daemon serving one "sleep" container (/proc/<pid>/smaps_rollup). Podvisor runs on the testbed\n'
printf '(stand-ins for cloud-hypervisor and virtiofsd): its latency excludes a real VM boot.\n'
