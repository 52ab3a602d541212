#!/usr/bin/env bash
# Builds tenantform, starts a throw-away PostgreSQL server (pg.sh), provisions two tenants —
# each with its own role, database, secret holding its connection URI, web service and
# hostname — and asks each tenant's service who it is connected as.
# Stop everything with: examples/postgres-tenants/run.sh stop
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
here="$repo/examples/postgres-tenants"
tf="${CARGO_TARGET_DIR:-$repo/target}/debug/tenantform"
if [ "${1:-}" = stop ]; then
  eval "$("$here/pg.sh" start)"
  (cd "$here" && "$tf" destroy -auto-approve) || true
  "$here/pg.sh" stop
  rm -rf "$here/.tenantform" "$here/tenantform.state.db"*
  exit 0
fi
command -v python3 >/dev/null || { echo "the tenant services run on python3; install it first" >&2; exit 1; }
command -v psql >/dev/null || { echo "the tenant services query their databases with psql; install postgresql-client" >&2; exit 1; }
echo "==> Building tenantform"
(cd "$repo" && cargo build --locked -q -p tenantform)
echo "==> Starting a throw-away PostgreSQL server"
eval "$("$here/pg.sh" start)"
cd "$here"
echo "==> Applying the stack"
"$tf" apply -auto-approve
port="$(sed -n 's/.*default *= *\([0-9][0-9]*\).*/\1/p' main.hcl | head -1)"
echo
for host in acme.localhost globex.localhost; do
  echo "\$ curl -H 'Host: $host' http://127.0.0.1:$port/"
  curl -fsS -H "Host: $host" "http://127.0.0.1:$port/"
done
echo
echo "Each service connected with its own role to its own database. Roles and databases on the server:"
psql -X -At -c "SELECT rolname FROM pg_roles WHERE rolname LIKE '%\_app' ORDER BY 1" postgres
psql -X -At -c "SELECT datname || ' (owner ' || pg_get_userbyid(datdba) || ')' FROM pg_database WHERE datname LIKE 'tenant\_%' ORDER BY 1" postgres
