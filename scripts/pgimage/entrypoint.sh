#!/bin/sh
# Entrypoint of the locally built PostgreSQL test image. It follows the
# official postgres image's contract, as far as syncd's tests and the compose
# stack use it: POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB on first start,
# `postgres -c name=value …` arguments passed through, and the log line
# "database system is ready to accept connections" printed twice on first
# start (a temporary server for initialisation, then the real one), which is
# what testcontainers' postgres wait strategy counts.
set -eu

# Arguments that start with '-' are server options.
if [ "${1#-}" != "$1" ]; then
	set -- postgres "$@"
fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	user="${POSTGRES_USER:-postgres}"
	db="${POSTGRES_DB:-$user}"
	pwfile="$(mktemp)"
	printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
	if [ -n "${POSTGRES_PASSWORD:-}" ]; then
		auth=scram-sha-256
		initdb -D "$PGDATA" --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host="$auth" >/dev/null
	else
		auth=trust
		echo "WARNING: no POSTGRES_PASSWORD: remote connections need no password" >&2
		initdb -D "$PGDATA" --username="$user" --auth=trust >/dev/null
	fi
	rm -f "$pwfile"
	printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
	printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	# A temporary server on the socket only, to create the database.
	pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
	if [ "$db" != postgres ]; then
		psql -v ON_ERROR_STOP=1 --username "$user" --dbname postgres -c "CREATE DATABASE \"$db\"" >/dev/null
	fi
	pg_ctl -D "$PGDATA" -m fast -w stop
	echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
