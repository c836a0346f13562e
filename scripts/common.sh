# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# Shared helpers for Podvisor's scripts. Sourced, never run: callers set `set -euo pipefail` themselves.

# Repository root (the directory holding pom.xml), whichever script sources this file.
PODVISOR_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Where setup.sh installs and where the other scripts look for the installed launchers.
PODVISOR_PREFIX="${PODVISOR_PREFIX:-/opt/podvisor}"
# Private prefix for dependencies that must not replace the system's packages (setup.sh fills it).
PODVISOR_DEPS="${PODVISOR_DEPS:-/opt/podvisor-deps}"
# containerd 2.x for the integration tests' version matrix: Debian sid's package, unpacked by setup.sh into
# $PODVISOR_DEPS/containerd-$CONTAINERD2_VERSION (bookworm's own containerd 1.6 stays the system's).
CONTAINERD2_VERSION=2.1.9
CONTAINERD2_PREFIX="$PODVISOR_DEPS/containerd-$CONTAINERD2_VERSION"
# The JDK every launcher and every Maven build uses.
PODVISOR_JAVA_HOME="${PODVISOR_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"

# log MESSAGE... : progress on stderr, prefixed with the calling script's name.
log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

# die MESSAGE... : error on stderr, exit 1.
die() { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# require_root : exit with a clear message unless running as root.
require_root() { [[ "$(id -u)" == 0 ]] || die "must run as root (try: sudo bash $0 ...)"; }

# require_java : exit unless the Temurin 25 JDK is where the launchers expect it.
require_java() {
  [[ -x "$PODVISOR_JAVA_HOME/bin/java" ]] ||
    die "Temurin 25 JDK not found at $PODVISOR_JAVA_HOME (expected on the machine image; install temurin-25-jdk or set PODVISOR_JAVA_HOME)"
}
