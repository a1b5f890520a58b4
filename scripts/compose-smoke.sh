#!/usr/bin/env bash
# Smoke test of docker-compose.yml with local substitute images, as CI runs it
# (`make compose/smoke`, part of `make test`): the stack comes up, syncd
# writes candles from the simulator, they are queried, `syncd status` runs in
# the syncd container, and the stack goes down with its volume, whatever
# happened.
#
# Images: PostgreSQL from scripts/pg-test-image.sh (syncd-test/postgres:15,
# no TimescaleDB: the native-partition path) and syncd from
# scripts/offline-images.sh (a host-built binary on the Dockerfile's runtime
# stage). Either can be replaced: SYNCD_SMOKE_DB_IMAGE, SYNCD_SMOKE_IMAGE
# (an existing image is then used as it is, not rebuilt).
#
# Works with `docker compose` (v2) and Debian's `docker-compose` (1.29);
# SYNCD_SMOKE_COMPOSE forces one, e.g. SYNCD_SMOKE_COMPOSE=docker-compose.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS
say() { printf 'compose-smoke: %s\n' "$*"; }
fail() {
	say "FAIL: $*" >&2
	exit 1
}

db_image="${SYNCD_SMOKE_DB_IMAGE:-}"
syncd_image="${SYNCD_SMOKE_IMAGE:-}"
wait_s="${SYNCD_SMOKE_WAIT:-150}"
project="${SYNCD_SMOKE_PROJECT:-syncd-smoke}"

if [[ -n "${SYNCD_SMOKE_COMPOSE:-}" ]]; then
	read -r -a compose <<<"$SYNCD_SMOKE_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
	compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
	compose=(docker-compose)
else
	fail "neither 'docker compose' nor 'docker-compose' is installed (Debian: apt-get install -y docker-compose)"
fi

# The stack must see only what this script sets: no SYNCD_ variable of the
# caller's shell, and not the caller's .env (a real vendor's key, say).
while read -r v; do unset "$v"; done < <(compgen -v | grep '^SYNCD_' || true)

if [[ -z "$db_image" ]]; then
	bash scripts/pg-test-image.sh
	db_image=syncd-test/postgres:15
fi
if [[ -z "$syncd_image" ]]; then
	syncd_image=syncd-smoke/syncd:local
	SYNCD_IMAGE="$syncd_image" bash scripts/offline-images.sh
fi

work="$(mktemp -d /tmp/syncd-smoke.XXXXXX)"
cat >"$work/env" <<EOF
SYNCD_DB_IMAGE=$db_image
SYNCD_IMAGE=$syncd_image
SYNCD_METRICS_PORT=
SYNCD_LOG_FORMAT=json
EOF
dc() { "${compose[@]}" --project-name "$project" --env-file "$work/env" -f docker-compose.yml "$@"; }

cleanup() {
	local code=$?
	if [[ $code != 0 ]]; then
		say "logs of the failed run:" >&2
		dc ps >&2 || true
		dc logs --no-color --tail 40 >&2 || true
	fi
	say "bringing the stack down"
	dc down --volumes --remove-orphans >/dev/null 2>&1 || say "compose down failed; remove project $project by hand" >&2
	rm -rf "$work"
	exit "$code"
}
trap cleanup EXIT

say "using ${compose[*]}, db $db_image, syncd $syncd_image"
dc down --volumes --remove-orphans >/dev/null 2>&1 || true # leftovers of an interrupted run
dc up -d --no-build

psql() { dc exec -T db psql -U syncd -d syncd -v ON_ERROR_STOP=1 -tAc "$1"; }

# Candles from the live poller and the backfill: BTCUSDT (24/7) has a 1m bar
# of the current minute and at least a day of history (SYNCD_BACKFILL_SINCE
# is 2d). Until migrations ran the query fails, which counts as not yet.
synced="SELECT count(*) >= 1440 AND max(ts) >= date_trunc('minute', now()) - interval '1 minute'
	FROM candles WHERE vendor = 'alltick' AND symbol = 'BTCUSDT' AND timeframe = '1m'"
deadline=$((SECONDS + wait_s))
until [[ "$(psql "$synced" 2>/dev/null || true)" == t ]]; do
	if ((SECONDS >= deadline)); then
		fail "BTCUSDT 1m has not a day of candles up to now within ${wait_s}s"
	fi
	sleep 2
done
say "syncd wrote a day of candles up to now after $((SECONDS - started))s:"
psql "SELECT symbol, timeframe, count(*), max(ts) FROM candles GROUP BY 1, 2 ORDER BY 1, 2" | sed 's/^/  /'

series=$(psql "SELECT count(DISTINCT (symbol, timeframe)) FROM candles")
[[ "$series" == 6 ]] || fail "candles has $series series, want 6 (3 symbols x 1m, 1h)"
bars=$(psql "SELECT count(*) FROM candles_5m WHERE symbol = 'BTCUSDT'")
[[ "$bars" =~ ^[1-9] ]] || fail "candles_5m has no BTCUSDT rows"
quarantined=$(psql "SELECT count(*) FROM quarantine")
[[ "$quarantined" == 0 ]] || fail "$quarantined rows quarantined from the simulator"

say "syncd status in the container:"
status="$(dc exec -T syncd /syncd status 2>/dev/null)" || fail "syncd status failed"
printf '%s\n' "$status" | sed 's/^/  /'
for s in BTCUSDT:1m BTCUSDT:1h ETHUSDT:1m ETHUSDT:1h AAPL.US:1m AAPL.US:1h; do
	grep -q "^alltick:$s " <<<"$status" || fail "syncd status does not list alltick:$s"
done

dc exec -T syncd /syncd healthcheck -ready || fail "syncd is not ready"
id="$(dc ps -q syncd)"
deadline=$((SECONDS + 60))
until [[ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" == healthy ]]; do
	((SECONDS < deadline)) || fail "the syncd container never became healthy"
	sleep 2
done

say "PASS in $((SECONDS - started))s"
