#!/usr/bin/env bash
# Builds syncd's container image without a registry or a Go image: for CI here
# and for machines behind a firewall. `docker build .` needs golang and
# distroless from a registry; this needs neither.
#
#   scripts/offline-images.sh        build the runtime base and the syncd image
#
# 1. A runtime base image (SYNCD_RUNTIME_IMAGE, default syncd-build/runtime:local)
#    imported from a few files of the host: its CA bundle (Debian's
#    ca-certificates) and passwd/group entries for the non-root user 65532, the
#    same contents as distroless/static's nonroot variant. Reused when present.
# 2. The Dockerfile's runtime-base stage on it, so the user, health check,
#    entrypoint and command are the Dockerfile's own, not a copy.
# 3. A static binary built on the host with the Go of go.mod (the same flags as
#    the Dockerfile's build stage), added on top as SYNCD_IMAGE (default
#    syncd:local, the tag docker-compose.yml uses). Always rebuilt: it is the
#    code under test.
#
# Why a host-built binary rather than a Go builder image: the host already has
# the toolchain go.mod asks for and a warm module and build cache, while an
# image would need a toolchain Debian does not package (bookworm has Go 1.19)
# and a module download from inside the build, which needs network there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
runtime="${SYNCD_RUNTIME_IMAGE:-syncd-build/runtime:local}"
image="${SYNCD_IMAGE:-syncd:local}"
version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
commit="${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"

work="$(mktemp -d /tmp/syncd-images.XXXXXX)"
trap 'rm -rf "$work"' EXIT

if docker image inspect "$runtime" >/dev/null 2>&1; then
	echo "offline-images: $runtime exists; reusing it"
else
	certs=/etc/ssl/certs/ca-certificates.crt
	if [[ ! -s $certs ]]; then
		echo "offline-images: installing ca-certificates"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null
	fi
	root="$work/root"
	install -d -m 0755 "$root/etc/ssl/certs"
	install -d -m 1777 "$root/tmp"
	install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"
	install -m 0644 "$certs" "$root/etc/ssl/certs/ca-certificates.crt"
	printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
	tar -C "$root" --numeric-owner -c . | docker import \
		--change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
		--change 'USER 65532:65532' \
		- "$runtime" >/dev/null
	echo "offline-images: built $runtime"
fi

echo "offline-images: runtime-base stage on $runtime"
docker build -q --target runtime-base --build-arg RUNTIME_IMAGE="$runtime" -t syncd-build/runtime-base:local . >/dev/null

echo "offline-images: static syncd binary ($version, $commit)"
mkdir -p "$work/ctx"
CGO_ENABLED=0 go build -trimpath -tags timetzdata \
	-ldflags "-s -w -X main.version=$version -X main.commit=$commit" -o "$work/ctx/syncd" ./cmd/syncd
printf 'FROM syncd-build/runtime-base:local\nCOPY syncd /syncd\n' >"$work/ctx/Dockerfile"
docker build -q -t "$image" "$work/ctx" >/dev/null
echo "offline-images: built $image"
