#!/usr/bin/env bash
# Makes a busybox OCI image-layout tarball by hand, for machines without a registry.
#
#   bash scripts/make-busybox-image.sh [--cmd 'WORD...'] OUT.tar [NAME]
#
# NAME defaults to docker.io/library/busybox:podvisor. --cmd sets the image's default command (words
# split on spaces; default `sh`), e.g. --cmd 'sleep 2147483647' for a CRI sandbox (pause) image. The image holds busybox-static's /bin/busybox,
# one symlink per applet (at the path `busybox --list-full` gives), /etc/passwd and /etc/group, in one
# gzip layer; platform linux/amd64. Reproducible: fixed mtimes, owners and order, so the same busybox
# gives the same bytes. Import it with `ctr images import OUT.tar` (add `-n k8s.io` for CRI).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cmd_json='"sh"'
if [[ "${1:-}" == --cmd ]]; then
  [[ $# -ge 2 ]] || die "--cmd needs the command words"
  read -r -a words <<<"$2"
  ((${#words[@]})) || die "--cmd '$2': empty"
  cmd_json=""
  for w in "${words[@]}"; do
    [[ "$w" =~ ^[A-Za-z0-9_./=:,+-]+$ ]] || die "--cmd word '$w': only letters, digits and _./=:,+- allowed"
    cmd_json+="${cmd_json:+,}\"$w\""
  done
  shift 2
fi
[[ $# -ge 1 && $# -le 2 ]] || die "usage: $0 [--cmd 'WORD...'] OUT.tar [NAME]"
out="$1"
name="${2:-docker.io/library/busybox:podvisor}"
[[ "$name" =~ ^[a-z0-9][a-z0-9._/:@-]*$ ]] || die "NAME '$name': not an image reference (lowercase letters, digits, . _ / : @ -)"
busybox="${BUSYBOX:-/bin/busybox}"
[[ -x "$busybox" ]] || die "$busybox missing (apt-get install busybox-static)"
# A dynamically linked busybox would not run in an image without libc.
if LC_ALL=C file -b "$busybox" 2>/dev/null | grep -q 'dynamically linked'; then
  die "$busybox is dynamically linked; install busybox-static"
fi

# The tag part, for org.opencontainers.image.ref.name (everything after the last ':' not in a path).
ref_name="${name##*/}"
if [[ "$ref_name" == *:* ]]; then ref_name="${ref_name##*:}"; else ref_name=latest; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/podvisor-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Deterministic tar of DIR's contents (sorted names, epoch mtimes, root owner, no ./ prefix).
det_tar() {
  local dir="$1" entries=()
  mapfile -t entries < <(cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort)
  tar --create --file=- --directory="$dir" --sort=name --format=gnu --mtime=@0 \
    --owner=0 --group=0 --numeric-owner --no-acls --no-xattrs --no-selinux -- "${entries[@]}"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# --- rootfs ---------------------------------------------------------------------------------------
root="$work/rootfs"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,dev,proc,sys,var}
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
install -m 0755 "$busybox" "$root/bin/busybox"
while read -r applet; do
  [[ -n "$applet" && "$applet" != bin/busybox ]] || continue
  mkdir -p "$root/$(dirname "$applet")"
  ln -sfn /bin/busybox "$root/$applet"
done < <("$busybox" --list-full | LC_ALL=C sort)
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
  >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
# Directory modes must not depend on the caller's umask.
find "$root" -type d ! -path "$root/tmp" ! -path "$root/root" -exec chmod 0755 {} +

# --- blobs ----------------------------------------------------------------------------------------
layout="$work/layout"
blobs="$layout/blobs/sha256"
mkdir -p "$blobs"
det_tar "$root" >"$work/layer.tar"
diff_id="$(sha "$work/layer.tar")"
gzip -n -9 -c "$work/layer.tar" >"$work/layer.tar.gz"
layer_digest="$(sha "$work/layer.tar.gz")"
layer_size="$(size "$work/layer.tar.gz")"
mv "$work/layer.tar.gz" "$blobs/$layer_digest"

printf '%s' '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",'\
'"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":['"$cmd_json"'],"WorkingDir":"/"},'\
'"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff_id"'"]},'\
'"history":[{"created":"1970-01-01T00:00:00Z","created_by":"podvisor scripts/make-busybox-image.sh"}]}' \
  >"$work/config.json"
config_digest="$(sha "$work/config.json")"
config_size="$(size "$work/config.json")"
mv "$work/config.json" "$blobs/$config_digest"

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'\
'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config_digest"'","size":'"$config_size"'},'\
'"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer_digest"'","size":'"$layer_size"'}]}' \
  >"$work/manifest.json"
manifest_digest="$(sha "$work/manifest.json")"
manifest_size="$(size "$work/manifest.json")"
mv "$work/manifest.json" "$blobs/$manifest_digest"

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{'\
'"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest_digest"'","size":'"$manifest_size"','\
'"platform":{"architecture":"amd64","os":"linux"},'\
'"annotations":{"io.containerd.image.name":"'"$name"'","org.opencontainers.image.ref.name":"'"$ref_name"'"}}]}' \
  >"$layout/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
find "$layout" -type d -exec chmod 0755 {} +
find "$layout" -type f -exec chmod 0644 {} +

# --- the tarball, written atomically --------------------------------------------------------------
mkdir -p "$(dirname "$out")"
det_tar "$layout" >"$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
log "wrote $out ($name, manifest sha256:$manifest_digest)"
