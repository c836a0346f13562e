#!/usr/bin/env bash
# A private containerd instance (1.6 or 2.x) living entirely under one directory (see README-containerd-private.md).
#
#   containerd-private.sh start DIR [--runtime-config TOML] [--shim PATH] [--sandbox-image NAME]
#                                   [--log-level LEVEL] [--cni] [--containerd-bin BINDIR] [--dev-log]
#                                   [--cni-mtu MTU] [--cni-networks N] [--blockfile]
#                                   [--proxy-snapshotter NAME=SOCKET]
#   containerd-private.sh stop  DIR [--keep]
#   containerd-private.sh ctr   DIR CTR-ARGS...
#   containerd-private.sh env   DIR
#
# start: writes DIR/config.toml, links DIR/opt/bin/containerd-shim-kata-v2 to the installed shim
#        launcher, starts containerd in the background (log DIR/containerd.log, pid DIR/containerd.pid)
#        and returns once `ctr version` answers. Idempotent: a running instance is left as it is.
#        --cni: a CNI network for CRI pods: a private bridge (unique name) on a random free 10.x.y.0/24,
#        host-local IPAM state under DIR, no masquerading; without it, only hostNetwork pods get created.
#        --containerd-bin: the directory holding containerd, ctr and containerd-shim-runc-v2 (default: the
#        ones on PATH, Debian's 1.6); 2.x gets a `version = 3` config (CRI under io.containerd.cri.v1.*),
#        1.x a `version = 2` one. e.g. /opt/podvisor-deps/containerd-2.1.9/usr/bin (scripts/setup.sh).
#        --dev-log: containerd (and so its shims) runs in its own mount namespace with a private /dev/log
#        (scripts/with-private-dev-log.sh), served by a discarding datagram reader on DIR/syslog.sock;
#        for Kata's Go shim, which refuses to start without syslog.
#        --cni-mtu MTU: the bridge and the pods' veths get this MTU (default: the kernel's, 1500).
#        --cni-networks N (1 or 2, implies --cni): N such networks, each its own bridge and subnet, loaded
#        together (CRI max_conf_num = N): a pod gets eth0 (default route) and eth1 (a route to a private
#        /24 behind the second bridge). The bridge names are listed in DIR/cni/bridges.
#        --blockfile (containerd 2.x): enables containerd's blockfile snapshotter (each snapshot an ext4 image
#        file, handed out as an `ext4` mount with the `loop` option), its scratch image DIR/blockfile-scratch.img.
#        --proxy-snapshotter NAME=SOCKET: a `[proxy_plugins.NAME] type = "snapshot"` entry, containerd's client of
#        a snapshotter served on the unix socket SOCKET (`ctr run --snapshotter NAME`); config versions 2 and 3.
# stop:  kills every task of every namespace, stops containerd, kills the shims it started (and their
#        process trees), unmounts everything under DIR and removes DIR (--keep: keep DIR's files).
#        Exits non-zero if anything is left.
# ctr:   runs `ctr --address DIR/containerd.sock CTR-ARGS...`.
# env:   prints `export NAME=value` lines (CONTAINERD_ADDRESS, KATA_CONF_FILE, ...) for `eval`.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,35p' "$0" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
cmd="$1"
dir="$2"
shift 2
[[ -n "$dir" ]] || die "DIR is empty"
dir="$(realpath -m -- "$dir")"
[[ "$dir" != / ]] || die "DIR must not be /"

sock="$dir/containerd.sock"
pidfile="$dir/containerd.pid"
config="$dir/config.toml"
envfile="$dir/env"
binfile="$dir/containerd-bin"
syslog_sock="$dir/syslog.sock"
syslog_pid="$dir/syslog.pid"

# bin_dir : where this instance's containerd and ctr are (recorded at start), else the PATH's.
bin_dir() {
  if [[ -s "$binfile" ]]; then cat "$binfile"; else dirname "$(command -v containerd || echo /usr/bin/containerd)"; fi
}

# major_version BINDIR : containerd's major version (1, 2, ...), from `containerd --version`.
major_version() {
  local v
  v="$("$1/containerd" --version)" || die "$1/containerd --version failed"
  [[ "$v" =~ [\ v]([0-9]+)\.[0-9]+\.[0-9]+ ]] || die "cannot read a version in '$v'"
  printf '%s\n' "${BASH_REMATCH[1]}"
}

# instance_pid : the pid of this DIR's containerd if it is running, else nothing (exit 1).
instance_pid() {
  local pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  # Guard against pid reuse: the process must be containerd with this DIR's config.
  { tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--config $config"; } 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

ctr_() { timeout 60 "$(bin_dir)/ctr" --address "$sock" "$@"; }

# alive PID : whether PID exists and is not a zombie (a zombie waits for a parent that may never reap it).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z && "${stat:0:1}" != X ]]
}

# wait_gone PID SECONDS : wait until PID is gone (or a zombie); false on timeout.
wait_gone() {
  local i
  for ((i = 0; i < $2 * 20; i++)); do alive "$1" || return 0; sleep 0.05; done
  return 1
}

cmd_start() {
  local runtime_config="" shim="$PODVISOR_PREFIX/bin/containerd-shim-kata-v2"
  local sandbox_image="docker.io/library/busybox:podvisor-pause" level=info cni=0 bin="" dev_log=0 cni_mtu="" cni_networks=1 blockfile=0 proxy=""
  while (($#)); do
    case "$1" in
      --runtime-config) [[ $# -ge 2 ]] || die "--runtime-config needs a file"; runtime_config="$2"; shift ;;
      --shim) [[ $# -ge 2 ]] || die "--shim needs a path"; shim="$2"; shift ;;
      --sandbox-image) [[ $# -ge 2 ]] || die "--sandbox-image needs a name"; sandbox_image="$2"; shift ;;
      --log-level) [[ $# -ge 2 ]] || die "--log-level needs a level"; level="$2"; shift ;;
      --cni) cni=1 ;;
      --containerd-bin) [[ $# -ge 2 ]] || die "--containerd-bin needs a directory"; bin="$2"; shift ;;
      --dev-log) dev_log=1 ;;
      --cni-mtu) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "--cni-mtu needs a number"; cni_mtu="$2"; cni=1; shift ;;
      --cni-networks) [[ $# -ge 2 && "$2" =~ ^[12]$ ]] || die "--cni-networks '${2:-}': must be 1 or 2"
        cni_networks="$2"; cni=1; shift ;;
      --blockfile) blockfile=1 ;;
      --proxy-snapshotter) [[ $# -ge 2 && "$2" =~ ^[A-Za-z0-9_-]+=/.+$ ]] ||
        die "--proxy-snapshotter '${2:-}': must be NAME=/absolute/socket (NAME of letters, digits, _ and -)"
        proxy="$2"; shift ;;
      *) die "start: unknown argument '$1'" ;;
    esac
    shift
  done
  if [[ -z "$runtime_config" && -f "$PODVISOR_PREFIX/testbed/configuration.toml" ]]; then
    runtime_config="$PODVISOR_PREFIX/testbed/configuration.toml"
  fi
  if [[ -n "$runtime_config" ]]; then
    [[ -f "$runtime_config" ]] || die "--runtime-config '$runtime_config': no such file"
    runtime_config="$(realpath -- "$runtime_config")"
  fi
  case "$level" in trace|debug|info|warn|error) ;; *) die "--log-level '$level': not one of trace debug info warn error" ;; esac
  if [[ -z "$bin" ]]; then
    command -v containerd >/dev/null || die "containerd not installed (run scripts/setup.sh)"
    bin="$(dirname "$(command -v containerd)")"
  fi
  bin="$(realpath -m -- "$bin")"
  [[ -x "$bin/containerd" && -x "$bin/ctr" ]] ||
    die "--containerd-bin '$bin': no containerd and ctr there (containerd 2.x: run scripts/setup.sh)"
  local major
  major="$(major_version "$bin")"
  # unix socket paths are limited to 107 bytes; the longest one here is the ttrpc socket.
  ((${#sock} + 6 <= 107)) || die "DIR '$dir' is too long for unix socket paths (max ~95 characters)"

  local pid
  if pid="$(instance_pid)"; then
    log "containerd already running under $dir (pid $pid)"
    return 0
  fi
  mkdir -p "$dir/opt/bin" "$dir/root" "$dir/state" "$dir/cni/net.d"
  chmod 0711 "$dir"
  printf '%s\n' "$bin" >"$binfile"
  if [[ -e "$shim" ]]; then
    ln -sfn "$(realpath -- "$shim")" "$dir/opt/bin/containerd-shim-kata-v2"
  else
    log "warning: shim launcher $shim missing: io.containerd.kata.v2 will not be found in $dir/opt/bin"
  fi

  if ((cni)) && [[ ! -f "$dir/cni/net.d/10-podvisor.conflist" ]]; then
    local n
    for ((n = 1; n <= cni_networks; n++)); do write_cni "$n" "$cni_mtu"; done
  fi

  if ((major >= 2)); then write_config_v3 "$runtime_config" "$sandbox_image" "$level"
  else write_config_v2 "$runtime_config" "$sandbox_image" "$level"; fi
  if ((blockfile)); then
    ((major >= 2)) || die "--blockfile needs containerd 2.x (the blockfile snapshotter came with 2.0)"
    enable_blockfile
  fi
  if [[ -n "$proxy" ]]; then add_proxy_snapshotter "${proxy%%=*}" "${proxy#*=}"; fi
  mv -f "$config.tmp" "$config"

  {
    printf 'export CONTAINERD_ADDRESS=%q\n' "$sock"
    printf 'export CONTAINERD_PRIVATE_DIR=%q\n' "$dir"
    printf 'export CONTAINERD_CONFIG=%q\n' "$config"
    printf 'export CONTAINERD_LOG=%q\n' "$dir/containerd.log"
    printf 'export CONTAINERD_BIN=%q\n' "$bin"
    if [[ -n "$runtime_config" ]]; then printf 'export KATA_CONF_FILE=%q\n' "$runtime_config"; fi
  } >"$envfile"

  # setsid: the daemon must outlive this script and not get the caller's terminal signals.
  # PATH: the shim links first, then this containerd's own containerd-shim-runc-v2.
  local -a envs=("PATH=$dir/opt/bin:$bin:$PATH") wrap=()
  if [[ -n "$runtime_config" ]]; then envs+=("KATA_CONF_FILE=$runtime_config"); fi
  if ((dev_log)); then
    start_syslog
    wrap=(bash "$(dirname "${BASH_SOURCE[0]}")/with-private-dev-log.sh" "$dir/devns" "$syslog_sock" --)
  fi
  setsid env "${envs[@]}" "${wrap[@]}" "$bin/containerd" --config "$config" </dev/null >>"$dir/containerd.log" 2>&1 &
  pid=$!
  printf '%s\n' "$pid" >"$pidfile"

  local i
  for ((i = 0; i < 400; i++)); do   # up to ~20 s
    if "$bin/ctr" --address "$sock" version >/dev/null 2>&1; then
      log "containerd running under $dir (pid $pid, socket $sock)"
      return 0
    fi
    alive "$pid" || { tail -n 20 "$dir/containerd.log" >&2; die "containerd exited at start (log: $dir/containerd.log)"; }
    sleep 0.05
  done
  tail -n 20 "$dir/containerd.log" >&2
  die "containerd did not answer on $sock within 20 s (log: $dir/containerd.log)"
}

# kata_options SECTION RUNTIME_CONFIG : the kata runtime's options table (ConfigPath), if there is a config.
kata_options() {
  if [[ -n "$2" ]]; then printf '      [%s.containerd.runtimes.kata.options]\n        ConfigPath = "%s"\n' "$1" "$2"; fi
}

# config_common LEVEL : the sockets, log level and opt dir, the same in config versions 2 and 3.
config_common() {
  cat <<TOML
[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[debug]
  address = "$dir/debug.sock"
  level = "$1"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$dir/opt"
TOML
}

# write_config_v2 RUNTIME_CONFIG SANDBOX_IMAGE LEVEL : $config.tmp for containerd 1.x (config version 2).
write_config_v2() {
  local cri='plugins."io.containerd.grpc.v1.cri"'
  cat >"$config.tmp" <<TOML
# Private containerd instance; generated by scripts/containerd-private.sh.
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

$(config_common "$3")
  [$cri]
    sandbox_image = "$2"
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [$cri.containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [$cri.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
      [$cri.containerd.runtimes.kata]
        runtime_type = "io.containerd.kata.v2"
        pod_annotations = ["io.podvisor.*", "io.katacontainers.*"]
$(kata_options "$cri" "$1")
    [$cri.cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$dir/cni/net.d"
      max_conf_num = $cni_networks
TOML
}

# write_config_v3 RUNTIME_CONFIG SANDBOX_IMAGE LEVEL : $config.tmp for containerd 2.x (config version 3):
# the CRI settings moved to io.containerd.cri.v1.runtime / .images (containerd 2.0's config migration);
# NRI is off so that no instance creates the machine-wide /var/run/nri/nri.sock.
write_config_v3() {
  local rt='plugins."io.containerd.cri.v1.runtime"' img='plugins."io.containerd.cri.v1.images"'
  cat >"$config.tmp" <<TOML
# Private containerd instance; generated by scripts/containerd-private.sh.
version = 3
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs",
  "io.containerd.nri.v1.nri"]

$(config_common "$3")
  [plugins."io.containerd.grpc.v1.cri"]
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
  [$img]
    snapshotter = "overlayfs"
    [$img.pinned_images]
      sandbox = "$2"
  [$rt]
    # 2.x defaults both to true and puts the net.ipv4 sysctls in every pod spec; bookworm's runc 1.1.5 then
    # refuses a runc pod whose netns is a bind mount under the state dir ("not allowed in host network namespace")
    enable_unprivileged_ports = false
    enable_unprivileged_icmp = false
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [$rt.containerd]
      default_runtime_name = "runc"
      [$rt.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
      [$rt.containerd.runtimes.kata]
        runtime_type = "io.containerd.kata.v2"
        pod_annotations = ["io.podvisor.*", "io.katacontainers.*"]
$(kata_options "$rt" "$1")
    [$rt.cni]
      bin_dirs = ["/usr/lib/cni"]
      conf_dir = "$dir/cni/net.d"
      max_conf_num = $cni_networks
TOML
}

# enable_blockfile : the blockfile snapshotter in $config.tmp (a v3 config), with a 256 MiB ext4 scratch image.
enable_blockfile() {
  local scratch="$dir/blockfile-scratch.img"
  if [[ ! -f "$scratch" ]]; then
    truncate -s 256M "$scratch" && mkfs.ext4 -q -F "$scratch" >/dev/null || die "cannot make $scratch"
  fi
  sed -i 's/"io.containerd.snapshotter.v1.blockfile", //' "$config.tmp"
  cat >>"$config.tmp" <<TOML
  [plugins."io.containerd.snapshotter.v1.blockfile"]
    scratch_file = "$scratch"
    fs_type = "ext4"
    mount_options = []
    recreate_scratch = false
TOML
}

# add_proxy_snapshotter NAME SOCKET : a proxy snapshotter plugin in $config.tmp (a top-level table, the same
# in config versions 2 and 3).
add_proxy_snapshotter() {
  cat >>"$config.tmp" <<TOML

[proxy_plugins.$1]
  type = "snapshot"
  address = "$2"
TOML
}

# start_syslog : a reader on DIR/syslog.sock (unix datagram) that discards what it gets, in the background.
start_syslog() {
  rm -f "$syslog_sock"
  setsid python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    s.recv(65536)
' "$syslog_sock" </dev/null >/dev/null 2>>"$dir/syslog.err" &
  printf '%s\n' "$!" >"$syslog_pid"
  local i
  for ((i = 0; i < 100; i++)); do [[ -S "$syslog_sock" ]] && return 0; sleep 0.05; done
  die "the syslog reader did not create $syslog_sock (see $dir/syslog.err)"
}

# stop_syslog : ends the reader of start_syslog, if it runs.
stop_syslog() {
  local pid
  [[ -s "$syslog_pid" ]] || return 0
  pid="$(cat "$syslog_pid")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && { tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$syslog_sock"; } 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || log "syslog reader $pid survived SIGTERM"
  fi
  rm -f "$syslog_pid" "$syslog_sock"
}

# write_cni N MTU : DIR/cni/net.d/N0-podvisor.conflist, a bridge network private to this instance (unique
# bridge name, a free random 10.2xx.y.0/24, host-local state under DIR/cni/ipam, no masquerading, so no
# iptables rule). Network 1 routes 0.0.0.0/0 through its bridge; network 2 routes one more free /24.
write_cni() {
  local n="$1" mtu="$2"
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local ]] ||
    die "--cni: /usr/lib/cni/bridge or host-local missing (apt-get install containernetworking-plugins)"
  local hex bridge subnet routed mtu_line=""
  if [[ -n "$mtu" ]]; then mtu_line=$'\n'"      \"mtu\": $mtu,"; fi
  hex="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  bridge="pvc$hex"                      # 11 characters: interface names max 15
  subnet="$(free_subnet)" || die "--cni: no free 10.2xx.y.0/24 subnet found"
  mkdir -p "$dir/cni/net.d" "$dir/cni/ipam"
  printf '%s\n' "$bridge" >>"$dir/cni/bridges"
  if ((n == 1)); then
    printf '%s\n' "$bridge" >"$dir/cni/bridge"
    routed="0.0.0.0/0"
  else
    routed="$(free_subnet)" || die "--cni: no free 10.2xx.y.0/24 subnet found"
  fi
  cat >"$dir/cni/net.d/${n}0-podvisor.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "podvisor-$hex",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",$mtu_line
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$subnet"}]],
        "routes": [{"dst": "$routed"}],
        "dataDir": "$dir/cni/ipam"
      }
    }
  ]
}
JSON
}

# free_subnet : a random 10.2xx.y.0/24 that no route on the host and no network of this instance uses.
free_subnet() {
  local try candidate
  for ((try = 0; try < 40; try++)); do
    candidate="10.$((200 + RANDOM % 50)).$((RANDOM % 256))"
    if ! ip -4 route show | grep -qF "$candidate." && ! cat "$dir"/cni/net.d/*.conflist 2>/dev/null | grep -qF "\"$candidate."; then
      printf '%s.0/24\n' "$candidate"
      return 0
    fi
  done
  return 1
}

# descendants PID... : the given pids and all their descendants (from /proc/*/stat).
descendants() {
  local -A children=()
  local stat pid ppid rest
  for stat in /proc/[0-9]*/stat; do
    { read -r rest <"$stat"; } 2>/dev/null || continue
    pid="${rest%% *}"
    rest="${rest##*) }"      # after the comm field, which may hold spaces
    ppid="$(cut -d' ' -f2 <<<"$rest")"
    children[$ppid]+="$pid "
  done
  local -a queue=("$@")
  local out=() p c
  while ((${#queue[@]})); do
    p="${queue[0]}"
    queue=("${queue[@]:1}")
    out+=("$p")
    for c in ${children[$p]:-}; do queue+=("$c"); done
  done
  printf '%s\n' "${out[@]}"
}

# shim_pids : processes of this instance's shims: argv holds `-address DIR/containerd.sock`, or the
# environment holds TTRPC_ADDRESS=DIR/containerd.sock.ttrpc (shims and whatever they started inherit it).
shim_pids() {
  local f pid
  # grep -z reads NUL-separated argv/environ entries; -x matches a whole entry.
  for f in $(grep -lzxF -- "$sock" /proc/[0-9]*/cmdline 2>/dev/null || true); do
    pid="${f#/proc/}"
    pid="${pid%/cmdline}"
    { tr '\0' ' ' <"$f" | grep -qF -- "-address $sock "; } 2>/dev/null && printf '%s\n' "$pid"
  done
  for f in $(grep -lzxF -- "TTRPC_ADDRESS=$sock.ttrpc" /proc/[0-9]*/environ 2>/dev/null || true); do
    pid="${f#/proc/}"
    printf '%s\n' "${pid%/environ}"
  done | grep -vxF -e "$$" -e "$BASHPID" || true
}

# mounts_under : mount points at or under DIR in this mount namespace, deepest first.
mounts_under() {
  local mp
  while read -r _ _ _ _ mp _; do
    mp="$(printf '%b' "${mp//\\/\\0}")"    # mountinfo escapes spaces etc. as \040
    if [[ "$mp" == "$dir" || "$mp" == "$dir/"* ]]; then printf '%s\n' "$mp"; fi
  done </proc/self/mountinfo | awk '{ print length($0) "\t" $0 }' | sort -rn -k1,1 | cut -f2- | uniq
}

cmd_stop() {
  local keep=0
  while (($#)); do
    case "$1" in
      --keep) keep=1 ;;
      *) die "stop: unknown argument '$1'" ;;
    esac
    shift
  done
  [[ -d "$dir" ]] || { log "$dir does not exist: nothing to stop"; return 0; }

  local pid ns id
  local -a known=()   # "namespace id" of every container this instance had
  if pid="$(instance_pid)"; then
    # Kill and delete every task and container so that the shims shut their sandboxes down cleanly.
    for ns in $(ctr_ namespaces ls -q 2>/dev/null || true); do
      for id in $(ctr_ -n "$ns" containers ls -q 2>/dev/null || true); do
        known+=("$ns $id")
        ctr_ -n "$ns" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
      done
      for id in $(ctr_ -n "$ns" containers ls -q 2>/dev/null || true); do
        ctr_ -n "$ns" tasks delete -f "$id" >/dev/null 2>&1 || true
        ctr_ -n "$ns" containers rm "$id" >/dev/null 2>&1 || true
      done
    done
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 10; then
      log "containerd (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 5 || true
    fi
  fi

  # Shims outlive containerd by design: kill the ones this instance started, with their trees.
  local -a shims=() tree=()
  mapfile -t shims < <(shim_pids | sort -un)
  if ((${#shims[@]})); then
    mapfile -t tree < <(descendants "${shims[@]}" | sort -un)
    log "killing leftover shims and their processes: ${tree[*]}"
    kill -KILL "${tree[@]}" 2>/dev/null || true
    local p
    for p in "${tree[@]}"; do wait_gone "$p" 5 || log "process $p survived SIGKILL for 5 s"; done
  fi

  # runc state and cgroups of containers whose shim did not delete them (also when containerd was
  # already dead: the bundles under DIR/state name them).
  local entry bundle
  for bundle in "$dir"/state/io.containerd.runtime.v2.task/*/*; do
    [[ -d "$bundle" ]] || continue
    id="$(basename "$bundle")"
    ns="$(basename "$(dirname "$bundle")")"
    known+=("$ns $id")
  done
  for entry in "${known[@]}"; do
    ns="${entry%% *}"
    id="${entry#* }"
    if [[ -d "/run/containerd/runc/$ns/$id" ]]; then
      runc --root "/run/containerd/runc/$ns" delete --force "$id" >/dev/null 2>&1 || true
    fi
  done

  local mp
  while read -r mp; do
    [[ -n "$mp" ]] || continue
    umount -R -- "$mp" 2>/dev/null || umount -l -- "$mp" 2>/dev/null || log "cannot unmount $mp"
  done < <(mounts_under)

  # The --cni bridges (their veths went with the pods' network namespaces).
  local bridge
  for bridge in $(cat "$dir/cni/bridges" 2>/dev/null || true); do
    if ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge" || log "cannot delete bridge $bridge"; fi
  done

  stop_syslog

  local left=0
  if [[ -n "$(mounts_under)" ]]; then
    log "mounts left under $dir:"; mounts_under >&2; left=1
  fi
  if [[ -n "$(shim_pids)" ]]; then
    log "shim processes left: $(shim_pids | tr '\n' ' ')"; left=1
  fi
  if pid="$(instance_pid)"; then
    log "containerd still running (pid $pid)"; left=1
  fi
  for bridge in $(cat "$dir/cni/bridges" 2>/dev/null || true); do
    if ip link show "$bridge" >/dev/null 2>&1; then log "bridge $bridge left"; left=1; fi
  done
  ((left == 0)) || die "stop: $dir not clean"
  if ((keep)); then
    rm -f "$pidfile"
    log "stopped; kept $dir"
  else
    rm -rf --one-file-system -- "$dir"
    log "stopped; removed $dir"
  fi
}

cmd_env() {
  [[ -f "$envfile" ]] || die "$envfile missing: start the instance first"
  cat "$envfile"
}

case "$cmd" in
  start) require_root; cmd_start "$@" ;;
  stop) require_root; cmd_stop "$@" ;;
  ctr) exec "$(bin_dir)/ctr" --address "$sock" "$@" ;;
  env) cmd_env ;;
  *) usage ;;
esac
