#!/usr/bin/env bash
# Build the Debian bookworm test image with systemd as PID 1, offline from the
# Debian mirror with debootstrap + docker import (no registry is reachable).
# The tag is a hash of the package list; an image with that tag is reused.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

ref="$(image_ref)"
if docker image inspect "$ref" >/dev/null 2>&1; then
    log "test image $ref is up to date"
    docker tag "$ref" "$STABILITY_OPS_IMAGE_REPO:latest"
    exit 0
fi

mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
packages="$(grep -v -E '^\s*(#|$)' "$STABILITY_OPS_ROOT/tests/image/packages.txt" | paste -sd, -)"
rootfs="$STABILITY_OPS_CACHE/rootfs"
rm -rf "$rootfs"
mkdir -p "$rootfs"
trap 'rm -rf "$rootfs"' EXIT

log "debootstrap bookworm from $mirror (packages: $packages)"
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" \
    >"$STABILITY_OPS_CACHE/debootstrap.log" 2>&1 \
    || { tail -n 30 "$STABILITY_OPS_CACHE/debootstrap.log" >&2; die "debootstrap failed"; }

if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
    rm -f "$rootfs/etc/apt/sources.list"
fi
rm -rf "$rootfs"/var/cache/apt/archives/*.deb
# An empty machine-id makes systemd generate one per container at boot.
: >"$rootfs/etc/machine-id"

log "importing $ref"
tar -C "$rootfs" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' \
    -c 'ENV container=docker' - "$STABILITY_OPS_IMAGE_REPO:base-$(image_tag)" >/dev/null
# docker import cannot set STOPSIGNAL; systemd shuts down cleanly on SIGRTMIN+3.
printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$STABILITY_OPS_IMAGE_REPO:base-$(image_tag)" \
    | DOCKER_BUILDKIT=0 docker build -q -t "$ref" - >/dev/null
docker rmi "$STABILITY_OPS_IMAGE_REPO:base-$(image_tag)" >/dev/null
docker tag "$ref" "$STABILITY_OPS_IMAGE_REPO:latest"
log "built $ref"
