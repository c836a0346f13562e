#!/usr/bin/env bash
# Builds Podvisor and installs it, from nothing, on Debian bookworm (run as root).
#
#   sudo bash scripts/setup.sh [--no-apt] [--no-build] [--no-links] [--prefix DIR]
#
#   --no-apt     skip the Debian packages (and containerd 2.x); only build and install
#   --no-build   do not run Maven: install what shim/target and integration-tests/target hold
#                (used by the integration tests to install the code under test into a temp prefix)
#   --no-links   do not create the /usr/local/bin symlinks
#   --prefix DIR install there (default: $PODVISOR_PREFIX or /opt/podvisor)
#
# Installs:
#   DIR/lib/                         the shim's runtime class path (shim/target/lib/* + the shim jar)
#   DIR/bin/containerd-shim-kata-v2  launcher of dev.podvisor.shim.ShimMain
#   DIR/bin/podvisor                 launcher of dev.podvisor.shim.cli.PodvisorCli
#   DIR/testbed/bin/{cloud-hypervisor,virtiofsd,qemu-virtiofsd}  the stand-ins' launchers (integration-tests/bin)
#   DIR/testbed/lib/                 their class path (integration-tests/target/lib/* + its jar)
#   DIR/testbed/configuration.toml   a Kata-compatible configuration using the stand-ins
#   /usr/local/bin/{containerd-shim-kata-v2,podvisor} -> DIR/bin/...
#   /opt/podvisor-deps/containerd-2.1.9/usr/bin/{containerd,ctr,...}  Debian sid's containerd 2.1.9 for the
#                                    integration tests' containerd matrix (private: the system keeps 1.6)
# Idempotent: a second run only rebuilds and replaces the installed files.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

APT_PACKAGES=(containerd runc busybox-static e2fsprogs util-linux procps psmisc iproute2 maven jq python3 prometheus
  containernetworking-plugins
  qemu-system-common  # QEMU's C virtiofsd /usr/lib/qemu/virtiofsd, for QemuVirtiofsdIT
  coreutils tar gzip findutils)
SHIM_MAIN=dev.podvisor.shim.ShimMain
CLI_MAIN=dev.podvisor.shim.cli.PodvisorCli
# Lean flags for a JVM per pod (measured with scripts/bench.sh, see docs/decisions/0004-shim-jvm-flags.md and
# 0006-shim-memory.md, 0010-json-without-object-mapper.md, 0011-shim-memory-under-25-mib.md): a small heap with a
# 512 KB young generation, one C1 compiler thread that compiles only methods run thirty times as often as by
# default (CompileThresholdScaling=30: start-up and boot code stays interpreted, 1.4 MiB less code cache and
# compiler arenas per shim), except the ttrpc, protobuf and NIO code of the Task API's calls, compiled sooner
# than by default (CompileCommand CompileThresholdScaling 0.3: within the first few hundred calls) so that a
# pod's RPCs are faster than Kata's shim's from the start; a small code cache; the AOT cache mapped without relocation so its read-only pages stay clean and shared
# between the shims of all pods. -Xms6m: the AOT cache's archived heap objects (1.5 MB) need room in the old
# generation at start.
# StringTableSize, SymbolTableSize 1024 (defaults 65536 and 32768): the JVM fills every bucket of both tables at
# start, 0.7 MiB per shim, while nearly all of the shim's strings and symbols are in the AOT cache's own shared
# tables; both tables grow on demand.
# TrimNativeHeapInterval: glibc keeps the peak of malloc (C1's arenas at start-up, ~7 MB) unless trimmed.
# -XX:-AOTReplayTraining: C1 alone has no use for the cache's method profiles (a thread and a megabyte saved).
# --finalization=disabled: nothing the shim runs has a finalizer (JEP 421), so no Finalizer thread and its stack.
# JVM logging is off but for errors on stderr: the shim's stdout is protocol (start prints the address,
# delete a DeleteResponse). The CompileCommand patterns hold '*': whoever expands LEAN_FLAGS unquoted turns off
# pathname expansion first (set -f).
LEAN_FLAGS="-XX:+UseSerialGC -Xms6m -Xmn512k -Xmx32m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -Xss256k \
-XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=30 -XX:CompileCommand=quiet \
-XX:CompileCommand=CompileThresholdScaling,dev.podvisor.protocols.ttrpc.*::*,0.3 \
-XX:CompileCommand=CompileThresholdScaling,com.google.protobuf.*::*,0.3 \
-XX:CompileCommand=CompileThresholdScaling,sun.nio.ch.*::*,0.3 -XX:CompileCommand=CompileThresholdScaling,java.nio.*::*,0.3 \
-XX:CICompilerCount=1 -XX:ReservedCodeCacheSize=12m -XX:-UsePerfData \
-XX:StringTableSize=1024 -XX:+UnlockExperimentalVMOptions -XX:SymbolTableSize=1024 \
-XX:TrimNativeHeapInterval=3000 -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 -XX:-AOTReplayTraining \
-XX:+UseCompactObjectHeaders --finalization=disabled \
--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xlog:disable -Xlog:all=error:stderr"

do_apt=1
do_build=1
do_links=1
prefix="$PODVISOR_PREFIX"
while (($#)); do
  case "$1" in
    --no-apt) do_apt=0 ;;
    --no-build) do_build=0 ;;
    --no-links) do_links=0 ;;
    --prefix) [[ $# -ge 2 ]] || die "--prefix needs a directory"; prefix="$2"; shift ;;
    --prefix=*) prefix="${1#--prefix=}" ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
[[ "$prefix" == /* ]] || die "--prefix must be an absolute path, got '$prefix'"
prefix="${prefix%/}"

# --- Debian packages: apt-get update once, and only when something is missing -------------------
install_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    log "Debian packages already installed"
    return
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --- containerd 2.x: Debian sid's package, unpacked into a private prefix ---------------------------
# The system's apt sources are never changed: a private sources list, lists dir and cache under a temp
# dir, using the mirror the system's own sources name. Idempotent: skipped when the prefix already holds
# containerd $CONTAINERD2_VERSION.

# debian_mirror : the first Debian archive URI (not debian-security) of the system's apt sources.
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
    [[ -f "$f" ]] || continue
    while read -r uri; do
      if [[ "$uri" =~ ^https?://.*/debian/?$ ]]; then printf '%s\n' "${uri%/}"; return 0; fi
    done < <(sed -nE -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' "$f" | tr ' ' '\n')
  done
  return 1
}

# install_containerd2 : runs in a subshell, so that the temp dir's EXIT trap stays local to it.
install_containerd2() (
  local dest="$CONTAINERD2_PREFIX"
  if [[ -x "$dest/usr/bin/containerd" ]] &&
    "$dest/usr/bin/containerd" --version 2>/dev/null | grep -qE "[ v]$CONTAINERD2_VERSION([~+ -]|\$)"; then
    log "containerd $CONTAINERD2_VERSION already in $dest"
    return
  fi
  local mirror work version
  mirror="$(debian_mirror)" || die "no Debian mirror found in /etc/apt/sources.list.d/* or /etc/apt/sources.list"
  work="$(mktemp -d /tmp/podvisor-sid.XXXXXX)"
  # shellcheck disable=SC2064  # expand now: the trap removes this run's temp dir
  trap "rm -rf -- '$work'" EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' "$mirror" >"$work/sid.list"
  local -a opts=(-o "Dir::Etc::sourcelist=$work/sid.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Dir::Cache::archives=$work/cache/archives"
    -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")   # root-owned temp dir: no _apt sandbox
  log "fetching containerd $CONTAINERD2_VERSION from $mirror sid (private lists in $work)"
  apt-get "${opts[@]}" update -q >&2
  version="$(apt-cache "${opts[@]}" madison containerd | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
    grep -E "^(1:)?$CONTAINERD2_VERSION[~+-]" | head -n 1)" ||
    true
  [[ -n "$version" ]] || die "sid has no containerd $CONTAINERD2_VERSION (apt-cache madison: $(apt-cache "${opts[@]}" madison containerd | tr '\n' ' '))"
  (cd "$work" && apt-get "${opts[@]}" download -q "containerd=$version" >&2)
  mkdir -p "$PODVISOR_DEPS"
  rm -rf -- "$dest.new.$$"
  dpkg -x "$work"/containerd_*.deb "$dest.new.$$"
  "$dest.new.$$/usr/bin/containerd" --version >&2 || die "containerd $version from sid does not run here"
  rm -rf -- "$dest"
  mv "$dest.new.$$" "$dest"
  log "containerd $version unpacked into $dest"
)

# --- Build ----------------------------------------------------------------------------------------
build() {
  log "building with Maven (JAVA_HOME=$PODVISOR_JAVA_HOME)"
  # copy-dependencies puts each module's runtime class path into <module>/target/lib, whether or not
  # the module's pom already does it at package time (it is idempotent).
  (cd "$PODVISOR_REPO" &&
    JAVA_HOME="$PODVISOR_JAVA_HOME" mvn -B -q -Dstyle.color=never package dependency:copy-dependencies \
      -DskipTests -DincludeScope=runtime -DoutputDirectory=target/lib)
}

# main_jar MODULE_DIR : the module's main jar (not sources/tests/javadoc), or fail.
main_jar() {
  local jar
  jar="$(find "$1/target" -maxdepth 1 -name 'podvisor-*.jar' ! -name '*-sources.jar' \
    ! -name '*-tests.jar' ! -name '*-javadoc.jar' | sort | tail -n 1)"
  [[ -n "$jar" ]] || die "no jar in $1/target (did the build succeed?)"
  printf '%s\n' "$jar"
}

# replace_dir SRC... DEST : DEST becomes a fresh directory holding copies of SRC files, swapped in at
# the end so that a running JVM keeps its open jars and a failed copy leaves the old DEST in place.
replace_dir() {
  local dest="${*: -1}" srcs=("${@:1:$#-1}")
  local tmp="$dest.new.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp -- "${srcs[@]}" "$tmp/"
  rm -rf "$dest.old.$$"
  if [[ -e "$dest" ]]; then mv "$dest" "$dest.old.$$"; fi
  mv "$tmp" "$dest"
  rm -rf "$dest.old.$$"
}

# write_file PATH MODE : stdin to PATH atomically, with MODE.
write_file() {
  local tmp="$1.tmp.$$"
  cat >"$tmp"
  chmod "$2" "$tmp"
  mv -f "$tmp" "$1"
}

# write_launcher PATH CLASSPATH_GLOB MAIN_CLASS [AOT_CACHE [DELETE_AOT_CACHE]] : an sh launcher that execs Temurin 25
# with lean flags and AOT_CACHE, or DELETE_AOT_CACHE when the last argument is the shim's delete action
# (docs/decisions/0005). For the shim's start action (DELETE_AOT_CACHE given) the JVM is an asynchronous command
# instead, whose stdout the launcher reads to the end: a new pod's start JVM prints the address, ends its stdout and
# goes on as the pod's daemon (docs/decisions/0009), while containerd waits for this process to exit and takes
# its output. The JVM prints one line, the address (unix://...) or an error, which goes to stderr with status 1;
# its own stderr goes to the bundle's log FIFO when containerd made one (start runs in the bundle).
# The launcher prints nothing else: the JDK's "Picked up ..." notices are avoided by dropping the option
# variables (containerd reads the shim's stderr as its error message).
write_launcher() {
  write_file "$1" 0755 <<LAUNCHER
#!/bin/sh
# Generated by scripts/setup.sh; do not edit.
# no pathname expansion: the JVM flags hold '*' (CompileCommand patterns)
set -f
# two malloc arenas: glibc's default (8 per core) costs megabytes of RSS per JVM for nothing
export MALLOC_ARENA_MAX=2
unset JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS _JAVA_OPTIONS
cache="${4:-}"
for action; do :; done
case "\${action:-}" in
  delete) if [ -f "${5:-/nonexistent}" ]; then cache="${5:-}"; fi ;;
esac
aot=""
[ -n "\$cache" ] && [ -f "\$cache" ] && aot="-XX:AOTCache=\$cache"
if [ -n "${5:-}" ] && [ "\${action:-}" = start ]; then
  log=/dev/null
  [ -p log ] && log=log
  out=\$("$PODVISOR_JAVA_HOME/bin/java" $LEAN_FLAGS \$aot -cp "$2" $3 "\$@" 2>>"\$log" </dev/null &)
  case "\$out" in
    unix://*) printf '%s' "\$out"; exit 0 ;;
  esac
  printf '%s\n' "\${out:-containerd-shim-kata-v2: start ended without an address (its JVM's errors are in the shim log)}" >&2
  exit 1
fi
exec "$PODVISOR_JAVA_HOME/bin/java" $LEAN_FLAGS \$aot -cp "$2" $3 "\$@"
LAUNCHER
}

# train_aot_cache FILE [ARG] : an AOT cache of the shim (JDK 25 -XX:AOTCacheOutput), trained by a run of
# dev.podvisor.shim.AotTraining [ARG] with the launchers' flags and class path: without ARG the daemon's (and
# the CLI's), with ARG delete the small one of that action. Retrained at every install
# (a cache only fits the jars it was made from); without it the launchers still work, only slower.
train_aot_cache() {
  local cache="$1"
  local -
  set -f  # LEAN_FLAGS holds '*' (CompileCommand patterns)
  rm -f "$cache"
  log "training the shim's AOT cache"
  # shellcheck disable=SC2086  # LEAN_FLAGS is a list of flags
  # -XX:-AOTRecordTraining: no method profiles in the cache (C1 does not use them; see LEAN_FLAGS).
  if ! MALLOC_ARENA_MAX=2 "$PODVISOR_JAVA_HOME/bin/java" $LEAN_FLAGS -XX:-AOTRecordTraining -XX:AOTCacheOutput="$cache" \
    -cp "$prefix/lib/*" dev.podvisor.shim.AotTraining ${2:-} </dev/null >"$cache.log" 2>&1; then
    log "AOT training failed (see $cache.log); the launchers run without a cache"
    rm -f "$cache"
  fi
}

install_all() {
  local shim_jar it_jar
  shim_jar="$(main_jar "$PODVISOR_REPO/shim")"
  it_jar="$(main_jar "$PODVISOR_REPO/integration-tests")"
  [[ -d "$PODVISOR_REPO/shim/target/lib" ]] || die "shim/target/lib missing after the build"
  [[ -d "$PODVISOR_REPO/integration-tests/target/lib" ]] || die "integration-tests/target/lib missing after the build"

  log "installing into $prefix"
  mkdir -p "$prefix/bin" "$prefix/testbed/bin"
  local shim_libs=() it_libs=()
  mapfile -t shim_libs < <(find "$PODVISOR_REPO/shim/target/lib" -maxdepth 1 -name '*.jar' | sort)
  mapfile -t it_libs < <(find "$PODVISOR_REPO/integration-tests/target/lib" -maxdepth 1 -name '*.jar' | sort)
  replace_dir "${shim_libs[@]}" "$shim_jar" "$prefix/lib"
  replace_dir "${it_libs[@]}" "$it_jar" "$prefix/testbed/lib"

  train_aot_cache "$prefix/lib/shim.aot"
  train_aot_cache "$prefix/lib/shim-delete.aot" delete
  write_launcher "$prefix/bin/containerd-shim-kata-v2" "$prefix/lib/*" "$SHIM_MAIN" "$prefix/lib/shim.aot" \
    "$prefix/lib/shim-delete.aot"
  write_launcher "$prefix/bin/podvisor" "$prefix/lib/*" "$CLI_MAIN" "$prefix/lib/shim.aot"
  # The stand-ins' own launchers find their class path in ../lib (the installed layout).
  local name
  for name in cloud-hypervisor virtiofsd qemu-virtiofsd; do
    [[ -f "$PODVISOR_REPO/integration-tests/bin/$name" ]] || die "integration-tests/bin/$name missing"
    install -m 0755 "$PODVISOR_REPO/integration-tests/bin/$name" "$prefix/testbed/bin/$name.tmp.$$"
    mv -f "$prefix/testbed/bin/$name.tmp.$$" "$prefix/testbed/bin/$name"
  done

  # The testbed ignores kernel and image contents, but Kata's configuration needs existing paths.
  printf 'Podvisor testbed placeholder kernel: the cloud-hypervisor stand-in does not read it.\n' |
    write_file "$prefix/testbed/vmlinux.testbed" 0644
  printf 'Podvisor testbed placeholder guest image: the cloud-hypervisor stand-in does not read it.\n' |
    write_file "$prefix/testbed/kata-containers.testbed.img" 0644

  write_file "$prefix/testbed/configuration.toml" 0644 <<TOML
# Kata Containers 3.x compatible configuration for Podvisor on the testbed.
# Generated by scripts/setup.sh; the stand-ins replace cloud-hypervisor and virtiofsd.
[hypervisor.clh]
path = "$prefix/testbed/bin/cloud-hypervisor"
kernel = "$prefix/testbed/vmlinux.testbed"
image = "$prefix/testbed/kata-containers.testbed.img"
virtio_fs_daemon = "$prefix/testbed/bin/virtiofsd"
shared_fs = "virtio-fs"
virtio_fs_cache = "auto"
virtio_fs_extra_args = ["--thread-pool-size=1", "--announce-submounts"]
default_memory = 2048
default_vcpus = 1

[agent.kata]
dial_timeout = 30

[runtime]
enable_debug = false
TOML

  if ((do_links)); then
    ln -sfn "$prefix/bin/containerd-shim-kata-v2" /usr/local/bin/containerd-shim-kata-v2
    ln -sfn "$prefix/bin/podvisor" /usr/local/bin/podvisor
  fi
  log "installed: $prefix/bin/containerd-shim-kata-v2, $prefix/bin/podvisor, $prefix/testbed/configuration.toml"
}

if ((do_apt || do_links)); then require_root; fi
if ((do_apt)); then install_packages; install_containerd2; fi
require_java
if ((do_build)); then
  command -v mvn >/dev/null || die "mvn not found (run without --no-apt to install maven)"
fi

# One setup at a time per prefix: concurrent runs would swap lib/ under each other.
mkdir -p "$prefix"
exec 9>"$prefix/.setup.lock"
flock 9
if ((do_build)); then build; fi
install_all
