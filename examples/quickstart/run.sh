#!/usr/bin/env bash
# Builds tenantform, provisions the quickstart's tenants on this machine (SQLite database,
# secret, web service and hostname each), prints their URLs and asks each one who it is.
# Stop everything again with: target/debug/tenantform -chdir=examples/quickstart destroy -auto-approve
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
command -v python3 >/dev/null || { echo "the quickstart's tenant services run on python3; install it first" >&2; exit 1; }
echo "==> Building tenantform"
cargo build --locked -q -p tenantform
tf="$repo/target/debug/tenantform"
cd examples/quickstart
echo "==> Applying the quickstart stack"
"$tf" apply -auto-approve
port="$("$tf" output -json | python3 -c 'import json,sys; urls=json.load(sys.stdin)["tenant_urls"]["value"]; print(next(iter(urls.values())).split(":")[2].split("/")[0])')"
echo
echo "==> Each tenant answers on its own hostname (through the local router on port $port):"
for url in $("$tf" output -json | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["tenant_urls"]["value"].values()))'); do
  host="${url#http://}"; host="${host%%:*}"
  echo "\$ curl -H 'Host: $host' http://127.0.0.1:$port/"
  curl -fsS -H "Host: $host" "http://127.0.0.1:$port/"
done
