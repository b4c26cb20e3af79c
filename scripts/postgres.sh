#!/usr/bin/env bash
# A private PostgreSQL server for the storage tests, in a folder of its own.
#
#   scripts/postgres.sh start DIR PORT   initdb a cluster in DIR (if not there yet), start it on 127.0.0.1:PORT
#                                        (unix socket in DIR), create role `slipway` (trust auth, may create
#                                        databases) and database `slipway_test`, and print the test URL:
#                                        postgres://slipway@127.0.0.1:PORT/slipway_test
#   scripts/postgres.sh stop DIR         stop the server started in DIR (the folder is left for you to delete)
#
# Typical use:
#   dir=$(mktemp -d); scripts/postgres.sh start "$dir" 54329
#   SLIPWAY_TEST_POSTGRES_URL=postgres://slipway@127.0.0.1:54329/slipway_test swift test --filter SlipwayStorageTests
#   scripts/postgres.sh stop "$dir"; rm -rf "$dir"
#
# Needs the server binaries (Debian: `apt-get install postgresql`; found in /usr/lib/postgresql/<version>/bin).
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user, which then owns DIR.
set -euo pipefail

usage() { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

bindir() {
    if command -v pg_ctl >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v pg_ctl)")"; return; fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] || { echo "postgres.sh: no PostgreSQL server binaries found" >&2; exit 1; }
    echo "$dir"
}

# Runs a command as the server's user: `postgres` when we are root, else ourselves.
as_server() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

[ $# -ge 2 ] || usage
command=$1 dir=$2
bin=$(bindir)

case "$command" in
start)
    [ $# -eq 3 ] || usage
    port=$3
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || { echo "postgres.sh: running as root needs a 'postgres' user" >&2; exit 1; }
        chown -R postgres: "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_server "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_server "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 \
        || as_server "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    psql() { as_server "$bin/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
    if [ "$(psql -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'slipway'")" != 1 ]; then
        psql -d postgres -c "CREATE ROLE slipway LOGIN CREATEDB"
    fi
    if [ "$(psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'slipway_test'")" != 1 ]; then
        psql -d postgres -c "CREATE DATABASE slipway_test OWNER slipway"
    fi
    echo "postgres://slipway@127.0.0.1:$port/slipway_test"
    ;;
stop)
    [ $# -eq 2 ] || usage
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_server "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
*)
    usage
    ;;
esac
