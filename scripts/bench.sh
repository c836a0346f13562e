#!/usr/bin/env bash
# Podvisor beside Kata Containers 3.30.0's Go shim (the peer), in one run, as root:
#
#   sudo bash scripts/bench.sh [--runs N] [--pods N] [--calls N] [--prefix DIR] [--peers DIR]
#                              [--no-setup] [--no-build] [--no-planner]
#
# Both shims run on the same private containerd (scripts/containerd-private.sh, with a private /dev/log for
# Kata's shim) and the same testbed (the stand-ins installed under the prefix). Prints a Markdown table
# (measure | Podvisor | Kata Go 3.30 | ratio) on stdout, progress on stderr:
# - `ctr run --rm … busybox echo hi` wall time: median of N interleaved runs (Podvisor, peer, runc, Podvisor,
#   ...; default 10 each) after 2 warm-up rounds; runc (io.containerd.runc.v2) as a reference;
# - the shim binary's `start` and `delete` as containerd runs them: each shim is registered under its own
#   runtime name (io.containerd.pvbench.v2 / io.containerd.katago.v2) whose containerd-shim-<name>-v2 on the
#   instance's PATH is a timing wrapper of the real binary (bench-lib.sh). `start` comes from the measured
#   `ctr run`s. containerd runs `delete` for a shim that died: each idle pod's shim daemon is SIGKILLed and
#   the `delete` containerd then runs is timed (and those it ran during `ctr run --rm`, if any, are shown);
# - per-shim RSS, PSS and private memory (/proc/PID/smaps_rollup) at 1 and at --pods idle pods (default 10;
#   `ctr run -d` busybox `sleep`, each its own shim): the mean over the shim daemons;
# - ttrpc `State` p50/p99 and calls/s with 1 and 8 clients on one connection (golat, Go's ttrpc client,
#   --calls measured calls, default 20,000) on a running pod's shim socket;
# - the storage planner benchmark for 1,000 mounts (scripts/bench-planner.sh; goal ≤ 5 ms), last.
#
# --prefix DIR: install with `setup.sh --prefix DIR --no-apt --no-links` and use that install (default:
#   $PODVISOR_PREFIX or /opt/podvisor through a plain `setup.sh`); --no-setup: use the install as it is;
#   --no-build: setup.sh --no-build (install what the module targets hold).
# --peers DIR: where kata-shim-go-3.30.0.xz and kata-clh-testbed.toml are (default $PODVISOR_PEERS, else
#   <repo>/../shared/peers). Without them, or without golat, the table says so and Podvisor is still measured.
# golat: $GOLAT, golat on PATH, a prebuilt one beside the peers (../tools/ttrpc), else built by its build.sh.
# PODVISOR_BENCH_LOGS=DIR: copy containerd's log and the timing wrappers' logs there before the clean-up.
# Everything started (containerd, containers, shims, the private /dev/log, temp dirs) is removed at the end,
# also on failure or Ctrl-C. The system's containerd and /dev/log are never touched.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=scripts/bench-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench-lib.sh"

runs=10 pods=10 calls=20000 setup=1 build=1 planner=1 prefix=""
peers="${PODVISOR_PEERS:-$PODVISOR_REPO/../shared/peers}"
usage="usage: $0 [--runs N] [--pods N] [--calls N] [--prefix DIR] [--peers DIR] [--no-setup] [--no-build] [--no-planner]"
positive() { [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive number, got '${2:-}'"; }
while (($#)); do
  case "$1" in
    --runs) positive "$1" "${2:-}"; runs="$2"; shift ;;
    --pods) positive "$1" "${2:-}"; pods="$2"; shift ;;
    --calls) positive "$1" "${2:-}"; calls="$2"; shift ;;
    --prefix) [[ "${2:-}" == /* ]] || die "--prefix needs an absolute directory, got '${2:-}'"; prefix="${2%/}"; shift ;;
    --peers) [[ -n "${2:-}" ]] || die "--peers needs a directory"; peers="$2"; shift ;;
    --no-setup) setup=0 ;;
    --no-build) build=0 ;;
    --no-planner) planner=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$1' ($usage)" ;;
  esac
  shift
done
require_root
scripts="$PODVISOR_REPO/scripts"
if [[ -n "$prefix" ]]; then export PODVISOR_PREFIX="$prefix"; fi

if ((setup)); then
  setup_args=()
  if [[ -n "$prefix" ]]; then setup_args+=(--prefix "$prefix" --no-apt --no-links); fi
  if ((!build)); then setup_args+=(--no-build); fi
  bash "$scripts/setup.sh" "${setup_args[@]}" >&2
fi
config="$PODVISOR_PREFIX/testbed/configuration.toml"
shim="$PODVISOR_PREFIX/bin/containerd-shim-kata-v2"
[[ -f "$config" && -x "$shim" ]] || die "no Podvisor install under $PODVISOR_PREFIX (run without --no-setup, or give --prefix)"

image=docker.io/library/busybox:podvisor
hex="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"   # container ids are b$hex-<shim>-<run>
work="$(mktemp -d /tmp/pvb.XXXXXX)"   # short: the shims' socket paths live under it
ctrd="$work/c"
sock="$ctrd/containerd.sock"
state="$ctrd/state"
SETTLE_S=3          # seconds an idle pod gets before its memory is read (start-up work, JIT)
DELETE_WAIT_S=120   # how long containerd gets to run `delete` after a shim daemon died

started=0
stop_containerd() {
  if ((started)); then
    started=0
    if [[ -n "${PODVISOR_BENCH_LOGS:-}" ]]; then
      mkdir -p "$PODVISOR_BENCH_LOGS"
      cp -f "$ctrd/containerd.log" "$work"/timings-*.log "$work"/leftovers-*.txt "$PODVISOR_BENCH_LOGS/" 2>/dev/null || true
    fi
    bash "$scripts/containerd-private.sh" stop "$ctrd" >&2
  fi
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_containerd || rc=1
  # Kata's delete of a pod whose daemon died can fail and leave its state: ours all start with b$hex-kg-
  if [[ -e "$work/peer/containerd-shim-kata-v2" ]]; then
    local removed
    removed="$(remove_kata_state "b$hex-kg-" | wc -l)"
    if ((removed > 0)); then log "removed $removed directories Kata left (/run/vc, /run/kata-containers, cgroups)"; fi
  fi
  rm -rf --one-file-system "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctr_() { timeout 300 ctr --address "$sock" "$@"; }

# --- the shims: each under its own runtime name, through a timing wrapper --------------------------------
declare -A runtime=([pv]=io.containerd.pvbench.v2 [kg]=io.containerd.katago.v2 [runc]=io.containerd.runc.v2)
declare -A timings=([pv]="$work/timings-pv.log" [kg]="$work/timings-kg.log")
shims=(pv)
has() { [[ " ${shims[*]} " == *" $1 "* ]]; }   # has KEY: whether KEY's shim is measured
notes=()
mkdir -p "$ctrd/opt/bin" "$work/peer"
write_timing_wrapper "$ctrd/opt/bin/containerd-shim-pvbench-v2" "$shim" "${timings[pv]}" "$config"
if [[ -f "$peers/kata-shim-go-3.30.0.xz" && -f "$peers/kata-clh-testbed.toml" ]]; then
  log "unpacking Kata's Go shim from $peers"
  xz -dc "$peers/kata-shim-go-3.30.0.xz" >"$work/peer/containerd-shim-kata-v2"
  chmod 0755 "$work/peer/containerd-shim-kata-v2"
  # its configuration names the testbed under /opt/podvisor: point it at the install measured here
  sed "s|/opt/podvisor/|$PODVISOR_PREFIX/|g" "$peers/kata-clh-testbed.toml" >"$work/peer/kata-clh-testbed.toml"
  write_timing_wrapper "$ctrd/opt/bin/containerd-shim-katago-v2" "$work/peer/containerd-shim-kata-v2" \
    "${timings[kg]}" "$work/peer/kata-clh-testbed.toml"
  shims+=(kg)
else
  notes+=("**Kata peer shim absent** ($peers/kata-shim-go-3.30.0.xz or kata-clh-testbed.toml not found): only Podvisor was measured.")
  log "Kata peer shim absent under $peers: measuring Podvisor only"
fi

golat=""
if golat="$(find_golat "$peers/../tools/ttrpc" "$work/ttrpc" 2>"$work/golat.err")"; then
  log "ttrpc latency client: $golat"
else
  golat=""
  notes+=("**golat absent**: $(cat "$work/golat.err"); no ttrpc figures.")
  log "golat absent: $(cat "$work/golat.err")"
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
bash "$scripts/make-busybox-image.sh" "$work/busybox.tar" "$image" 2>/dev/null
started=1
# --dev-log: containerd and its shims get a private /dev/log in their own mount namespace (Kata needs one)
bash "$scripts/containerd-private.sh" start "$ctrd" --runtime-config "$config" --shim "$shim" --dev-log >&2
ctr_ images import "$work/busybox.tar" >/dev/null

# --- ctr run --rm, interleaved -------------------------------------------------------------------------

# one_run KEY ID : the wall time in microseconds of one `ctr run --rm` of `echo hi` through KEY's runtime.
one_run() {
  local t0 t1 out
  t0=$(date +%s%N)
  out="$(ctr_ run --rm --fifo-dir "$work/fifo" --runtime "${runtime[$1]}" "$image" "$2" echo hi 2>&1)" ||
    die "ctr run --runtime ${runtime[$1]} $2 failed: $out"
  t1=$(date +%s%N)
  [[ "$out" == hi ]] || die "ctr run --runtime ${runtime[$1]} $2: expected 'hi', got '$out'"
  echo $(((t1 - t0) / 1000))
}

round_keys=("${shims[@]}" runc)
declare -A run_us=()
log "ctr run --rm: 2 warm-up rounds, then $runs rounds of ${round_keys[*]}"
for w in 1 2; do
  for key in "${round_keys[@]}"; do one_run "$key" "b$hex-$key-w$w" >/dev/null; done
done
for ((i = 1; i <= runs; i++)); do
  for key in "${round_keys[@]}"; do run_us[$key]+="$(one_run "$key" "b$hex-$key-r$i")"$'\n'; done
done

# --- idle pods: memory, ttrpc latency, then delete after the daemon's death ---------------------------------
declare -A mem1=() memn=() rtt=() left=()

# idle_pods KEY : starts --pods `sleep` containers through KEY's shim, one at a time; reads the memory at 1
# pod and at all of them, runs golat on the first pod's shim, then SIGKILLs each shim daemon and waits for
# the `delete` containerd runs for it, and removes the containers.
idle_pods() {
  local key="$1" p id pid socket
  local -a ids=() pids=()
  log "${runtime[$key]}: $pods idle pods"
  for ((p = 1; p <= pods; p++)); do
    id="b$hex-$key-p$p"
    ctr_ run -d --fifo-dir "$work/fifo" --runtime "${runtime[$key]}" "$image" "$id" sleep 3600 >/dev/null
    pid="$(shim_pid "$state" "$sock" "$id")" || die "cannot find the shim daemon of $id"
    ids+=("$id")
    pids+=("$pid")
    if ((p == 1)); then sleep "$SETTLE_S"; mem1[$key]="$(memory_means "$pid")"; fi
  done
  sleep "$SETTLE_S"
  memn[$key]="$(memory_means "${pids[@]}")"

  if [[ -n "$golat" ]]; then
    socket="$(shim_socket "$state" "${ids[0]}")" || die "no address file for ${ids[0]}"
    for c in 1 8; do
      log "${runtime[$key]}: ttrpc State, $c client(s), $calls calls"
      rtt[$key,$c]="$(golat_state "$golat" "$socket" "${ids[0]}" "$c" "$calls")" || die "ttrpc State on $socket failed"
    done
  fi

  log "${runtime[$key]}: SIGKILL of each shim daemon, timing the delete containerd runs"
  for ((p = 0; p < pods; p++)); do
    kill -KILL "${pids[p]}"
    wait_logged "${timings[$key]}" delete "${ids[p]}" "$DELETE_WAIT_S" || log "containerd ran no delete for ${ids[p]} within ${DELETE_WAIT_S} s"
    ctr_ tasks delete -f "${ids[p]}" >/dev/null 2>&1 || true
    ctr_ containers rm "${ids[p]}" >/dev/null
  done
  local -a left_pids=()
  mapfile -t left_pids < <(leftovers "b$hex-$key-p")
  left[$key]="${#left_pids[@]}"
  if ((left[$key] > 0)); then
    ps -o pid,ppid,etime,args -p "$(IFS=,; echo "${left_pids[*]}")" >"$work/leftovers-$key.txt" 2>&1 || true
    notes+=("**${left[$key]} processes** naming ${runtime[$key]}'s killed pods (its VMM, virtiofsd or guest) were still running after containerd's deletes; containerd-private.sh stop killed them at the end.")
  fi
}

for key in "${shims[@]}"; do idle_pods "$key"; done
if has kg && [[ -n "$(wrapper_failures "${timings[kg]}" delete .)" ]]; then
  notes+=("Kata's \`delete\` failed. Seen when this script was written: it fails when its sandbox is already gone (after \`ctr run --rm\`: status 1, \"open /run/vc/sbs/<id>: no such file\"), and it panicked after a SIGKILLed daemon (status 2, nil pointer in \`cloudHypervisor.isClhRunning\`, its CH API client is not set in the \`delete\` process) leaving its VMM processes, /run/vc state and cgroups; bench.sh removes those at the end.")
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
containerd_version="$(containerd --version | awk '{ print $3 }')"
stop_containerd

planner_ms=""
if ((planner)); then
  log "storage planner benchmark (scripts/bench-planner.sh 1000)"
  if out="$(bash "$scripts/bench-planner.sh" 1000 2>&1)"; then
    planner_ms="$(grep -o 'mounts=1000 median_ms=[0-9.]*' <<<"$out" | cut -d= -f3)" || true
  fi
  [[ -n "$planner_ms" ]] || notes+=("planner benchmark failed: $(tail -n 2 <<<"$out" | tr '\n' ' ')")
fi

# --- the table ------------------------------------------------------------------------------------------
# cell KEY VALUE : VALUE, or "absent" when KEY's shim was not measured.
median_of() { printf '%s' "${run_us[$1]:-}" | median; }
start_of() { wrapper_times "${timings[$1]}" start '-r[0-9]+$' | median; }
delete_of() { wrapper_times "${timings[$1]}" delete "$2" | median; }
# delete_cell KEY ID_REGEX : the median delete time of KEY's shim with how many of the calls failed.
delete_cell() { printf '%s%s' "$(fmt_us "$(delete_of "$1" "$2")")" "$(wrapper_failures "${timings[$1]}" delete "$2")"; }
# delete_ratio ID_REGEX : the ratio of the median deletes, "—" when a delete of either shim failed.
delete_ratio() {
  if [[ -n "$(wrapper_failures "${timings[pv]}" delete "$1")$(wrapper_failures "${timings[kg]}" delete "$1")" ]]; then
    printf '—'
  else
    ratio "$(delete_of pv "$1")" "$(delete_of kg "$1")"
  fi
}
plural() { if (($1 > 1)); then printf s; fi; }
field() { awk -v i="$2" '{ print $i }' <<<"${1:-}"; }

peer_cell() { if has kg; then "$@"; else printf 'absent'; fi; }
pv_run="$(median_of pv)" kg_run="$(median_of kg)"
pv_start="$(start_of pv)" kg_start="$(start_of kg)"
pv_rm_delete="$(delete_of pv '-r[0-9]+$')" kg_rm_delete="$(delete_of kg '-r[0-9]+$')"

echo
row measure Podvisor "Kata Go 3.30" ratio
row --- --- --- ---
row "\`ctr run --rm … echo hi\` wall, median of $runs interleaved" "$(fmt_us "$pv_run")" \
  "$(peer_cell fmt_us "$kg_run")" "$(ratio "$pv_run" "$kg_run")"
pv_span="$(printf '%s' "${run_us[pv]}" | span fmt_us)" kg_span="$(printf '%s' "${run_us[kg]:-}" | span fmt_us)"
row "… min–max" "$pv_span" "$(peer_cell printf '%s' "$kg_span")" ""
row "… through runc (reference)" "$(fmt_us "$(median_of runc)")" "" ""
row "shim \`start\` as containerd runs it, median of $runs" "$(fmt_us "$pv_start")" \
  "$(peer_cell fmt_us "$kg_start")" "$(ratio "$pv_start" "$kg_start")"
row "shim \`delete\` containerd runs after the daemon's SIGKILL, median of $pods" "$(delete_cell pv '-p[0-9]+$')" \
  "$(peer_cell delete_cell kg '-p[0-9]+$')" "$(delete_ratio '-p[0-9]+$')"
if [[ -n "$pv_rm_delete$kg_rm_delete" ]]; then
  row "shim \`delete\` containerd runs after \`ctr run --rm\` (shim gone), median" "$(delete_cell pv '-r[0-9]+$')" \
    "$(peer_cell delete_cell kg '-r[0-9]+$')" "$(delete_ratio '-r[0-9]+$')"
fi
names=(RSS PSS private)
for at in $(printf '%s\n' 1 "$pods" | uniq); do
  for f in 1 2 3; do
    if [[ "$at" == 1 ]]; then pv="$(field "${mem1[pv]:-}" "$f")" kg="$(field "${mem1[kg]:-}" "$f")"
    else pv="$(field "${memn[pv]:-}" "$f")" kg="$(field "${memn[kg]:-}" "$f")"; fi
    row "per-shim ${names[f - 1]}, $at idle pod$(plural "$at") (mean)" "$(fmt_kb "$pv")" \
      "$(peer_cell fmt_kb "$kg")" "$(ratio "$pv" "$kg")"
  done
done
if [[ -n "$golat" ]]; then
  for c in 1 8; do
    for f in 1 2; do
      pv="$(field "${rtt[pv,$c]:-}" "$f")" kg="$(field "${rtt[kg,$c]:-}" "$f")"
      row "ttrpc \`State\` p$( ((f == 1)) && echo 50 || echo 99), $c client$(plural "$c")" \
        "$(fmt_us "$pv")" "$(peer_cell fmt_us "$kg")" "$(ratio "$pv" "$kg")"
    done
    pv="$(field "${rtt[pv,$c]:-}" 3)" kg="$(field "${rtt[kg,$c]:-}" 3)"
    row "ttrpc \`State\` calls/s, $c client$(plural "$c")" "$(fmt_count "$pv")" \
      "$(peer_cell fmt_count "$kg")" "$(ratio "$pv" "$kg")"
  done
else
  row "ttrpc \`State\` p50 / p99 / calls/s" "no golat" "no golat" "—"
fi
if ((planner)); then
  row "storage planner, 1,000 mounts, median (goal ≤ 5 ms)" "$(if [[ -n "$planner_ms" ]]; then printf '%s ms' "$planner_ms"; else printf failed; fi)" "" ""
fi

rm_note=""
if [[ -z "$pv_rm_delete$kg_rm_delete" ]]; then rm_note="; containerd ran no delete during \`ctr run --rm\`"; fi
echo
for note in "${notes[@]}"; do printf -- '- %s\n' "$note"; done
cat <<NOTES
- ratio = Podvisor ÷ Kata Go (for calls/s, above 1× means Podvisor serves more). Memory: /proc/PID/smaps_rollup
  of the shim daemons only (private = Private_Clean + Private_Dirty), read ${SETTLE_S} s after the last pod started.
- \`start\`/\`delete\`: the wall time of the shim binary invoked by containerd, timed by a wrapper registered as
  the runtime's containerd-shim-<name>-v2 (its bash start, a few ms, is in both shims' \`ctr run\` walls).
  containerd runs \`delete\` for a shim whose daemon died, so each idle pod's daemon was SIGKILLed and the
  delete that followed was timed$rm_note. A failed delete's reason is in containerd's log
  (PODVISOR_BENCH_LOGS=DIR keeps it).
- ttrpc: golat (Go ttrpc 1.1.1 client), $(fmt_count "$calls") State calls on one connection after 1,000 warm-up calls,
  on the first idle pod's shim. Testbed: stand-ins for cloud-hypervisor, virtiofsd and the guest (no VM boot).
- $(nproc) cores, load average $load_before before and $load_after after the runs; containerd $containerd_version;
  Podvisor $(git -C "$PODVISOR_REPO" describe --always --dirty 2>/dev/null || echo '?'); $(date -u '+%Y-%m-%d %H:%M UTC').
NOTES
