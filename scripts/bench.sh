#!/usr/bin/env bash
# Runs the end-to-end benchmark (cmd/syncbench) against a throwaway PostgreSQL
# 15 container and writes docs/benchmarks.md. Used by `make bench/e2e`.
#
#   scripts/bench.sh            full run, about 10 minutes
#   scripts/bench.sh -quick     development sizes, about a minute
#   scripts/bench.sh -help      every flag (they are passed to syncbench)
#
# Needs a running Docker engine and the image in PG_BENCH_IMAGE (default
# syncd-test/postgres:15, built by scripts/pg-test-image.sh). The container
# listens on a loopback port only and is removed on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
image="${PG_BENCH_IMAGE:-syncd-test/postgres:15}"
go="${GO:-go}"

for a in "$@"; do
	case "$a" in -h | -help | --help) exec "$go" run ./cmd/syncbench -help ;; esac
done

if ! docker info >/dev/null 2>&1; then
	echo "bench: Docker is not running; the benchmark needs it for PostgreSQL" >&2
	exit 1
fi
if ! docker image inspect "$image" >/dev/null 2>&1; then
	echo "bench: image $image not found; build it with scripts/pg-test-image.sh (or set PG_BENCH_IMAGE)" >&2
	exit 1
fi

name="syncd-bench-pg-$$"
password="bench-$RANDOM$RANDOM"
# fsync stays on: the figures are for a database that keeps its data.
docker run -d --rm --name "$name" -p 127.0.0.1::5432 \
	-e POSTGRES_USER=syncd -e POSTGRES_PASSWORD="$password" -e POSTGRES_DB=syncd \
	"$image" postgres -c shared_buffers=256MB -c max_wal_size=4GB >/dev/null
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT

echo "bench: waiting for PostgreSQL in container $name"
ready=0
for _ in $(seq 1 120); do
	# pg_isready on the socket succeeds during initialisation's temporary
	# server too; the entrypoint's second "ready" line marks the real one.
	if [ "$(docker logs "$name" 2>&1 | grep -c 'database system is ready to accept connections')" -ge 2 ] &&
		docker exec "$name" pg_isready -q -U syncd -d syncd 2>/dev/null; then
		ready=1
		break
	fi
	sleep 0.5
done
if [ "$ready" != 1 ]; then
	echo "bench: PostgreSQL did not become ready; its log:" >&2
	docker logs "$name" 2>&1 | tail -n 30 >&2
	exit 1
fi
port="$(docker port "$name" 5432/tcp | head -n 1 | sed 's/.*://')"
url="postgres://syncd:${password}@127.0.0.1:${port}/syncd?sslmode=disable"

echo "bench: building bin/syncd and bin/syncbench"
make --no-print-directory build >/dev/null
"$go" build -o bin/syncbench ./cmd/syncbench

# psql runs inside the container (the image has it), fed the CSV on stdin:
# the same client-to-server COPY stream as psql \copy from this machine.
bin/syncbench -db "$url" -syncd bin/syncd \
	-psql "docker exec -i $name psql -U syncd -d syncd" "$@"
