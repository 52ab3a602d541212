#!/usr/bin/env bash
# Starts (or stops) a throw-away PostgreSQL server for this example under .tenantform/pg,
# listening on 127.0.0.1:${PGPORT:-55432} with superuser postgres / password "postgres".
#   ./pg.sh start   prints the environment to use:  eval "$(./pg.sh start)"
#   ./pg.sh stop    stops it and deletes its files
# Needs the PostgreSQL server binaries (Debian: apt-get install postgresql); when run as
# root, the server runs as the postgres user (PostgreSQL refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")"
dir="$PWD/.tenantform/pg"
port="${PGPORT:-55432}"
bin="$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")"
as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
case "${1:-start}" in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ ${#as_pg[@]} -eq 0 ] || chown postgres "$dir"
      echo postgres > "$dir/pw"
      "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pw" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log"
    fi
    if ! "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
    fi
    echo "export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=postgres"
    ;;
  stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
      "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 1 ;;
esac
