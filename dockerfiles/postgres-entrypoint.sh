#!/bin/sh
# The entrypoint of runq/postgres (postgres.Dockerfile): on the first start, an empty PGDATA
# gets a cluster whose superuser is POSTGRES_USER (password POSTGRES_PASSWORD) and a database
# POSTGRES_DB, as the official image does; then PostgreSQL itself replaces this script.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}

if [ "${1:-postgres}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    # Without a password only connections over the socket inside this container are trusted;
    # one over TCP then fails, so a forgotten password shows at once instead of leaving an
    # open database. POSTGRES_HOST_AUTH_METHOD=trust opens TCP, as in the official image.
    host_auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
    pwfile=""
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        pwfile=$(mktemp)
        printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    elif [ "$host_auth" != trust ]; then
        echo "postgres-entrypoint: POSTGRES_PASSWORD is empty: TCP clients will be refused" >&2
    fi
    initdb -D "$PGDATA" -U "$user" -E UTF8 --locale=C --auth-local=trust \
        --auth-host="$host_auth" ${pwfile:+--pwfile="$pwfile"} >/dev/null
    [ -z "$pwfile" ] || rm -f "$pwfile"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    echo "host all all all $host_auth" >>"$PGDATA/pg_hba.conf"
    if [ "$db" != postgres ]; then
        # A server on the socket alone while the database is made.
        pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w -s start
        createdb -U "$user" "$db"
        pg_ctl -D "$PGDATA" -m fast -w -s stop
    fi
    echo "postgres-entrypoint: initialized $PGDATA (user $user, database $db)" >&2
fi
exec "$@"
