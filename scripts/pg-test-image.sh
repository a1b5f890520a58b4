#!/usr/bin/env bash
# Builds a PostgreSQL 15 image from Debian packages, for machines that cannot
# reach a container registry (CI here, or a user behind a firewall). The tests
# use it through SYNCD_TEST_PG_IMAGE; the compose smoke test uses it in place
# of TimescaleDB.
#
#   scripts/pg-test-image.sh            build syncd-test/postgres:15 unless it exists
#   scripts/pg-test-image.sh --force    rebuild it
#
# Needs root, debootstrap (installed when missing) and a running Docker engine.
# DEBIAN_MIRROR overrides the mirror (default: the one apt uses here).
set -euo pipefail

image="${PG_TEST_IMAGE:-syncd-test/postgres:15}"
force=0
[[ "${1:-}" == --force ]] && force=1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ $force == 0 ]] && docker image inspect "$image" >/dev/null 2>&1; then
	echo "pg-test-image: $image exists; reusing it (--force rebuilds)"
	exit 0
fi

mirror="${DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
	mirror="$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '{print $2}' | head -n 1 || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

if ! command -v debootstrap >/dev/null 2>&1; then
	echo "pg-test-image: installing debootstrap"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

root="$(mktemp -d /tmp/syncd-pgimage.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "pg-test-image: debootstrap bookworm (minbase + postgresql-15) from $mirror"
debootstrap --variant=minbase --include=postgresql-15 bookworm "$root" "$mirror" >/tmp/syncd-pgimage-debootstrap.log 2>&1 || {
	tail -n 30 /tmp/syncd-pgimage-debootstrap.log >&2
	exit 1
}

# The package's own cluster and caches are not wanted in the image.
rm -rf "$root"/var/lib/postgresql/15/main "$root"/etc/postgresql/15/main \
	"$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
	"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
install -m 0755 "$here/pgimage/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"

echo "pg-test-image: importing $image"
tar -C "$root" -c . | docker import \
	--change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV PGDATA=/var/lib/postgresql/data' \
	--change 'ENV LANG=C.UTF-8' \
	--change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
	--change 'CMD ["postgres"]' \
	--change 'EXPOSE 5432' \
	- "$image" >/dev/null
echo "pg-test-image: built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
