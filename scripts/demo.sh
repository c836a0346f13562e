#!/usr/bin/env bash
# The Podvisor demo, from nothing (run as root on Debian bookworm):
#
#   sudo bash scripts/demo.sh
#
# 1. scripts/setup.sh: Debian packages, build, install into /opt/podvisor (testbed stand-ins included)
# 2. a hand-made busybox image and a private containerd in a temp dir
# 3. `ctr run --rm --runtime io.containerd.kata.v2 ... echo hello`
# 4. a second container with two host directories mounted: a tmpfs (like a Kubernetes emptyDir with
#    medium Memory) at /data and a plain directory on disk at /disk; it shows what it sees and the
#    demo shows, for each mount, what Podvisor did with it
# 5. stops containerd and checks that nothing is left: no shim/VMM/virtiofsd/runc process of this
#    run, no mount under the temp dir or of its sandboxes, no loop device it attached. Exit code 1 if
#    anything is left.
#
# Knobs (for development): PODVISOR_SKIP_SETUP=1 skips step 1; PODVISOR_DEMO_RUNTIME=io.containerd.runc.v2
# runs the same steps through runc for comparison.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_root
runtime="${PODVISOR_DEMO_RUNTIME:-io.containerd.kata.v2}"
image=docker.io/library/busybox:podvisor
scripts="$PODVISOR_REPO/scripts"

section() { printf '\n== %s\n' "$*"; }

if [[ "${PODVISOR_SKIP_SETUP:-0}" != 1 ]]; then
  section "setup (packages, build, install into $PODVISOR_PREFIX)"
  bash "$scripts/setup.sh"
fi
config="$PODVISOR_PREFIX/testbed/configuration.toml"
if [[ "$runtime" == io.containerd.kata.v2 ]]; then
  [[ -f "$config" ]] || die "$config missing: run scripts/setup.sh"
  [[ -x "$PODVISOR_PREFIX/bin/containerd-shim-kata-v2" ]] || die "$PODVISOR_PREFIX/bin/containerd-shim-kata-v2 missing: run scripts/setup.sh"
fi

work="$(mktemp -d /tmp/podvisor-demo.XXXXXX)"
chmod 0711 "$work"
ctrd="$work/ctrd"
suffix="$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
id1="podvisor-demo-hello-$suffix"
id2="podvisor-demo-mounts-$suffix"
# kubelet's layout for a pod's emptyDir volumes: the planner recognises it (and would any subPath of it)
volumes="$work/pods/pod-$suffix/volumes/kubernetes.io~empty-dir"
mem="$volumes/cache"     # emptyDir medium: Memory -> kubelet mounts a tmpfs of min(sizeLimit, pod memory)
disk="$volumes/scratch"  # emptyDir on the node's disk
# Everything of this run mentions one of these; the leftover check looks for them.
markers=("$work" "$id1" "$id2")
started=0
ctr_pid=""

ctr_() { bash "$scripts/containerd-private.sh" ctr "$ctrd" "$@"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  exec 7>&- 8<&-
  if [[ -n "$ctr_pid" ]] && kill -0 "$ctr_pid" 2>/dev/null; then kill "$ctr_pid" 2>/dev/null || true; fi
  if ((started)); then bash "$scripts/containerd-private.sh" stop "$ctrd" || rc=1; fi
  if mountpoint -q "$mem" 2>/dev/null; then umount "$mem" || rc=1; fi
  if [[ -d "$work" ]] && ! grep -qF " $work" /proc/self/mountinfo; then rm -rf --one-file-system "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

section "busybox image and a private containerd under $ctrd"
bash "$scripts/make-busybox-image.sh" "$work/busybox.tar" "$image"
started=1
start_args=()
if [[ -f "$config" ]]; then start_args=(--runtime-config "$config"); fi
bash "$scripts/containerd-private.sh" start "$ctrd" "${start_args[@]}"
ctr_ images import "$work/busybox.tar" >/dev/null
log "imported $image"

section "ctr run --rm --runtime $runtime $image $id1 echo hello"
t0=$(date +%s%N)
out="$(ctr_ run --rm --runtime "$runtime" "$image" "$id1" echo hello)"
t1=$(date +%s%N)
printf '%s\n' "$out"
[[ "$out" == hello ]] || die "expected 'hello', got '$out'"
printf '(%d ms for the whole ctr run)\n' $(((t1 - t0) / 1000000))

# --- show_mounts: what Podvisor did with each mount ---------------------------------------------
# The shim logs every decision of its storage planner at create time (the same explanation
# `podvisor plan` prints); containerd copies the shim's log into its own. The testbed logs what the
# guest agent received.
show_mounts() {
  local id="$1" logf found=0
  echo "the shim's decisions (from its log in $ctrd/containerd.log):"
  grep -F "container=$id " "$ctrd/containerd.log" | grep -E 'msg="(rootfs|mount) planned"' |
    sed -E 's/.*msg="rootfs planned".* kind=([^ ]*) host_mount=([^ ]*) rule=([^ ]*) reason=(.*)$/  (rootfs): \1, host mount \2 [\3] \4/;
            s/.*msg="mount planned".* destination=([^ ]*) source=([^ ]*) kind=([^ ]*) device=([^ ]*) size_bytes=([^ ]*) read_only=([^ ]*) rule=([^ ]*) reason=(.*)$/  \1: \3 [\7] \8/' |
    grep -vE '^  /(proc|sys|dev|dev/pts|dev/mqueue|run): ' || true
  echo "guest tmpfs sizes, applied with UpdateEphemeralMounts and checked with GetVolumeStats:"
  grep -F 'msg="guest tmpfs sized"' "$ctrd/containerd.log" | grep -F "guest_sees_bytes" |
    sed -E 's/.* mount_point=([^ ]*) size_bytes=([^ ]*) guest_sees_bytes=([^ ]*).*/  \1: \2 bytes asked, the guest sees \3/' | sort -u || true
  echo "what the guest agent received (Storage objects in CreateContainer, from the testbed log):"
  local -a logs=()
  mapfile -t logs < <(find "$work" "/run/podvisor/$id" -name testbed.jsonl -type f 2>/dev/null || true)
  for logf in "${logs[@]}"; do
    jq -c 'select(.component == "guest") | select(tostring | test("CreateContainer"))
           | [.. | objects | .storages? // empty | .[]] | .[]
           | {driver, source, fstype, mountPoint, options}' "$logf" 2>/dev/null | sort -u | sed 's/^/  /' && found=1
  done
  ((found)) || echo "  n/a (no testbed.jsonl found)"
}

section "a container with a memory emptyDir at /data and a disk emptyDir at /disk"
mkdir -p "$mem" "$disk"
mount -t tmpfs -o size=64m,mode=0777 "podvisor-demo-$suffix" "$mem"
fstype() { findmnt -n -o FSTYPE -T "$1"; }
echo "host: $mem is $(fstype "$mem") (size=64m), $disk is $(fstype "$disk")"
# shellcheck disable=SC2016  # expanded by the container's shell
inner='echo "in the container:"; grep -E " /(data|disk) " /proc/mounts | while read -r src mp fs opts _; do
  echo "  $mp: $fs ($src) $opts"; done;
  echo written-in-container >/data/from-container; echo written-in-container >/disk/from-container;
  df -k /data /disk | sed "s/^/  /"; echo READY; read -r _; echo bye'
mkfifo "$work/stdin" "$work/stdout"
ctr --address "$ctrd/containerd.sock" run --rm --runtime "$runtime" \
  --mount "type=bind,src=$mem,dst=/data,options=rbind:rw" \
  --mount "type=bind,src=$disk,dst=/disk,options=rbind:rw" \
  "$image" "$id2" sh -c "$inner" <"$work/stdin" >"$work/stdout" 2>&1 &
ctr_pid=$!
exec 7>"$work/stdin" 8<"$work/stdout"
ready=0
while IFS= read -r -t 120 -u 8 line; do
  printf '%s\n' "$line"
  if [[ "$line" == READY ]]; then ready=1; break; fi
done
((ready)) || die "the container did not get ready (no READY line within 120 s)"

section "what happened to each mount (container $id2 still running)"
show_mounts "$id2"
for pair in "/data:$mem" "/disk:$disk"; do
  dst="${pair%%:*}"
  src="${pair#*:}"
  if [[ -f "$src/from-container" ]]; then seen="yes: shared with the host"; else seen="no: the container's writes stay inside the sandbox"; fi
  printf '  %s <- %s (host %s): host sees the container'"'"'s file: %s\n' "$dst" "$src" "$(fstype "$src")" "$seen"
done

trap '' PIPE   # the container may already be gone: a failed write must not kill the demo
echo go >&7 2>/dev/null || true
trap - PIPE
exec 7>&-
while IFS= read -r -t 60 -u 8 line; do printf '%s\n' "$line"; done
exec 8<&-
wait "$ctr_pid" || die "ctr run for $id2 failed (exit $?)"
ctr_pid=""

# --- stop everything and look for leftovers --------------------------------------------------------
section "stopping containerd and checking for leftovers"
bash "$scripts/containerd-private.sh" stop "$ctrd"
started=0
umount "$mem"

# mentions_marker TEXT : whether TEXT names this run's temp dir or one of its container ids.
mentions_marker() {
  local m
  for m in "${markers[@]}"; do [[ "$1" == *"$m"* ]] && return 0; done
  return 1
}

leftovers=0
# Processes: shim, VMM, virtiofsd, runc (and the testbed's guest) whose argv or environment names
# this run (the shims get TTRPC_ADDRESS=<private socket>.ttrpc and pass it on).
pattern='containerd-shim-kata-v2|dev\.podvisor\.shim\.ShimMain|cloud-hypervisor|virtiofsd|dev\.podvisor\.testbed\.|(^|/)runc( |$)'
while read -r pid; do
  [[ "$pid" != "$$" ]] || continue
  text="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true) $(tr '\0' ' ' <"/proc/$pid/environ" 2>/dev/null | grep -oE 'TTRPC_ADDRESS=[^ ]*' || true)"
  if mentions_marker "$text"; then echo "leftover process $pid: $text"; leftovers=1; fi
done < <(pgrep -f -- "$pattern" || true)
# Mounts under the temp dir or of this run's sandboxes (share dirs, shim state).
while read -r _ _ _ _ mp _; do
  if mentions_marker "$mp"; then echo "leftover mount: $mp"; leftovers=1; fi
done </proc/self/mountinfo
# Loop devices whose backing file belongs to this run.
for f in /sys/block/loop*/loop/backing_file; do
  [[ -r "$f" ]] || continue
  back="$(cat "$f")"
  if mentions_marker "$back"; then echo "leftover loop device $(basename "$(dirname "$(dirname "$f")")"): $back"; leftovers=1; fi
done
# State directories the shim keeps per sandbox.
for d in "/run/podvisor/$id1" "/run/podvisor/$id2" "/run/kata-containers/shared/sandboxes/$id1" \
  "/run/kata-containers/shared/sandboxes/$id2"; do
  if [[ -e "$d" ]]; then echo "leftover directory: $d"; leftovers=1; fi
done
((leftovers == 0)) || die "leftovers found (see above)"
echo "nothing left: no processes, mounts, loop devices or state of this run"
