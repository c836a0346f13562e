#!/usr/bin/env bash
# Times the shim's start and delete actions (docs/decisions/0005, 0009): N cycles of start + delete of an
# installed shim on a throwaway bundle (no containerd needed; the daemon, which is start's JVM gone on, is killed
# after each delete), and prints the median wall time and the median user+sys CPU. For delete that CPU is its
# JVM's (steadier than wall time on a loaded machine); for start only the launcher's, since start's JVM is not
# waited for (it goes on as the daemon): its wall time is the figure.
#
#   bash scripts/bench-start-delete.sh [PREFIX] [N]     (default: $PODVISOR_PREFIX or /opt/podvisor, 20)
set -euo pipefail
prefix=${1:-${PODVISOR_PREFIX:-/opt/podvisor}}
n=${2:-20}
shim=$prefix/bin/containerd-shim-kata-v2
[[ -x "$shim" ]] || { echo "no shim at $shim" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }
work=$(mktemp -d /tmp/podvisor-bench-start.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs"
echo '{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"},"annotations":{}}' >"$work/bundle/config.json"
for i in $(seq "$n"); do
  id="bench-start-$$-$i"
  args=(-namespace podvisor-bench -address "$work/c.sock" -publish-binary /bin/true -id "$id")
  (cd "$work/bundle" && /usr/bin/time -f "start %e %U %S" -a -o "$work/times" "$shim" "${args[@]}" start >"$work/out" 2>"$work/err") ||
    echo "start failed: $(cat "$work/err")" >&2
  (cd "$work/bundle" && /usr/bin/time -f "delete %e %U %S" -a -o "$work/times" "$shim" "${args[@]}" -bundle "$work/bundle" delete >/dev/null 2>"$work/err") ||
    echo "delete failed: $(cat "$work/err")" >&2
  if [[ -f "$work/bundle/shim.pid" ]]; then kill -9 "$(cat "$work/bundle/shim.pid")" 2>/dev/null || true; fi
  rm -f "$work/bundle/shim.pid" "$work/bundle/address"
  address=$(cat "$work/out"); [[ "$address" == unix:///run/containerd/s/* ]] && rm -f "${address#unix://}"
done
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
for action in start delete; do
  wall=$(awk -v a="$action" '$1 == a {print $2}' "$work/times" | median)
  cpu=$(awk -v a="$action" '$1 == a {print $3 + $4}' "$work/times" | median)
  echo "$action: median wall ${wall} s, median user+sys ${cpu} s (n=$n)"
done
