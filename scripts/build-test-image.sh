#!/usr/bin/env bash
# Builds the image the integration tests run in: a busybox rootfs made from the host's
# busybox-static and imported, because no registry is reachable to pull one from.
set -euo pipefail

image=${1:-meshexec-test:busybox}
docker image inspect "$image" >/dev/null 2>&1 && exit 0

busybox=$(command -v busybox)
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT

mkdir -p "$rootfs"/{bin,tmp,work,proc,sys,dev,etc}
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [[ -e "$rootfs/bin/$applet" ]] || ln -s busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"

tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/sleep","infinity"]' - "$image" >/dev/null
echo "build-test-image: imported $image" >&2
