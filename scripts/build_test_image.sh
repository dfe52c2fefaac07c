#!/usr/bin/env bash
# Build the systemd test images (PID 1 systemd), one per managed-host release,
# offline from the Debian mirror with debootstrap + docker import (no registry
# is reachable).
#
#   scripts/build_test_image.sh              every release the suite tests
#   scripts/build_test_image.sh debian13     only these
#
# Each image is tagged stability-ops-test:<distro>-<hash of its package list
# and this script> and reused while that tag exists; the moving tag
# stability-ops-test:<distro> points at it, and :latest at the default
# release's (STABILITY_OPS_DISTRO).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
mirror="${mirror:-http://deb.debian.org/debian}"

tag_moving() {
    docker tag "$2" "$STABILITY_OPS_IMAGE_REPO:$1"
    [[ "$1" != "$STABILITY_OPS_DISTRO" ]] || docker tag "$2" "$STABILITY_OPS_IMAGE_REPO:latest"
}

# debootstrap mounts /proc (and on some suites /sys) inside the rootfs and may
# leave it mounted: unmount everything below it before it is archived or removed.
unmount_below() {
    local mounts
    mounts="$(awk -v root="$1/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r)"
    [[ -z "$mounts" ]] || xargs -r -n1 umount -l <<<"$mounts"
}

remove_rootfs() {
    unmount_below "$1"
    rm -rf "$1"
}

build_one() {
    local distro="$1" suite ref packages rootfs base host_suite
    suite="$(distro_suite "$distro")"
    ref="$(image_ref "$distro")"
    if docker image inspect "$ref" >/dev/null 2>&1; then
        log "test image $ref is up to date"
        tag_moving "$distro" "$ref"
        return 0
    fi
    packages="$(image_packages "$distro" | paste -sd, -)"
    rootfs="$STABILITY_OPS_CACHE/rootfs-$distro"
    remove_rootfs "$rootfs"
    mkdir -p "$rootfs"

    log "debootstrap $suite from $mirror (packages: $packages)"
    debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
        >"$STABILITY_OPS_CACHE/debootstrap-$distro.log" 2>&1 || {
        tail -n 30 "$STABILITY_OPS_CACHE/debootstrap-$distro.log" >&2
        remove_rootfs "$rootfs"
        die "debootstrap $suite failed"
    }

    unmount_below "$rootfs"
    # The image's apt sources are the host's (same mirrors), naming the image's suite.
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        # shellcheck source=/dev/null
        host_suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
        sed "s/\b${host_suite:-bookworm}\b/$suite/g" /etc/apt/sources.list.d/debian.sources \
            >"$rootfs/etc/apt/sources.list.d/debian.sources"
        rm -f "$rootfs/etc/apt/sources.list"
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb
    # An empty machine-id makes systemd generate one per container at boot.
    : >"$rootfs/etc/machine-id"

    log "importing $ref"
    base="$STABILITY_OPS_IMAGE_REPO:base-$(image_tag "$distro")"
    tar -C "$rootfs" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' \
        -c 'ENV container=docker' - "$base" >/dev/null
    remove_rootfs "$rootfs"
    # docker import cannot set STOPSIGNAL; systemd shuts down cleanly on SIGRTMIN+3.
    printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$base" | DOCKER_BUILDKIT=0 docker build -q -t "$ref" - >/dev/null
    docker rmi "$base" >/dev/null
    tag_moving "$distro" "$ref"
    log "built $ref"
}

if (($#)); then distros=("$@"); else distros=("${STABILITY_OPS_DISTROS[@]}"); fi
for distro in "${distros[@]}"; do build_one "$distro"; done
