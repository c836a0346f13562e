#!/usr/bin/env bash
# Runs a command with a private /dev/log, leaving the machine's /dev as it is.
#
#   with-private-dev-log.sh WORKDIR SOCKET -- COMMAND [ARGS...]
#
# COMMAND runs (exec'd: same pid) in a new mount namespace (`unshare --mount --propagation slave`: mounts
# made inside never reach the host, the host's unmounts still reach inside) whose /dev is an overlay of the
# machine's /dev with one file added: `log`, a bind mount of SOCKET (a unix datagram socket the caller
# serves). /dev's submounts (pts, shm, ...) are bound into the overlay, so ptys and shared memory work as
# outside. WORKDIR (empty or absent, on a file system overlayfs accepts as upper layer, e.g. under /tmp)
# holds the overlay's upper and work dirs; the caller removes it after COMMAND and its children ended
# (the namespace, and so the overlay, ends with its last process).
#
# Why: Kata Containers' Go shim logs to syslog and refuses to start when /dev/log cannot be dialled; a
# machine without a syslog daemon has no /dev/log, and creating one in the machine's /dev would change it
# for everyone.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ "${1:-}" == --inside ]]; then
  # Second stage, in the new namespace: build the overlay and exec the command.
  shift
  work="$1" socket="$2"
  shift 3   # WORKDIR SOCKET --
  merged="$work/merged"
  mount -t overlay podvisor-dev -o "lowerdir=/dev,upperdir=$work/upper,workdir=$work/work" "$merged"
  # each distinct submount of /dev once, parents before children (rbind brings what is stacked below)
  while read -r target; do
    [[ "$target" == /dev ]] && continue
    mkdir -p "$merged${target#/dev}"
    mount --rbind "$target" "$merged${target#/dev}"
  done < <(findmnt -rn -R -o TARGET /dev | awk '!seen[$0]++ { print length($0) "\t" $0 }' | sort -n | cut -f2-)
  touch "$merged/log"
  mount --bind "$socket" "$merged/log"
  mount --move "$merged" /dev
  exec "$@"
fi

[[ $# -ge 4 && "$3" == -- ]] || die "usage: $0 WORKDIR SOCKET -- COMMAND [ARGS...]"
work="$1" socket="$2"
[[ -S "$socket" ]] || die "SOCKET '$socket': not a unix socket"
mkdir -p "$work/upper" "$work/work" "$work/merged"
exec unshare --mount --propagation slave -- bash "${BASH_SOURCE[0]}" --inside "$@"
