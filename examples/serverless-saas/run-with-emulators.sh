#!/usr/bin/env bash
# Runs the serverless SaaS example against local emulators of the Neon, Secret Manager, Cloud
# Run and Cloudflare APIs: starts the four emulators, points the stack at them
# (emulators.auto.tfvars), applies the three merchants in tenants/ and prints their URLs.
#
#   examples/serverless-saas/run-with-emulators.sh         # start, apply, print
#   examples/serverless-saas/run-with-emulators.sh stop    # destroy the merchants, stop the emulators
#
# The emulators keep everything in memory: stopping them forgets every object, so `stop`
# destroys the merchants first and then removes the state along with the tfvars.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
tf="$target/debug/tenantform"
emulator="$target/debug/tenantform-emulator"
run="$here/.emulators"
kinds=(neon secretmanager cloudrun cloudflare)

stop() {
  if [[ -f "$here/emulators.auto.tfvars" && -f "$here/tenantform.state.db" ]]; then
    echo "==> Destroying the merchants"
    "$tf" -chdir="$here" destroy -auto-approve >/dev/null || echo "destroy failed; the emulators are stopped anyway" >&2
  fi
  for kind in "${kinds[@]}"; do
    if [[ -f "$run/$kind.pid" ]]; then
      kill "$(cat "$run/$kind.pid")" 2>/dev/null || true
      rm -f "$run/$kind.pid"
    fi
  done
  rm -rf "$run" "$here/emulators.auto.tfvars" "$here"/tenantform.state.db*
  echo "==> Emulators stopped"
}

if [[ "${1:-}" == "stop" ]]; then
  stop
  exit 0
fi
if [[ -d "$run" ]]; then
  echo "emulators are already running (see $run); stop them first: $0 stop" >&2
  exit 1
fi

echo "==> Building tenantform and the emulators"
(cd "$repo" && cargo build --locked -q -p tenantform -p tenantform-emulators)

echo "==> Starting the emulators"
mkdir -p "$run"
for kind in "${kinds[@]}"; do
  TENANTFORM_EMULATOR_OPERATION_DELAY_MS="${TENANTFORM_EMULATOR_OPERATION_DELAY_MS:-300}" \
    "$emulator" "$kind" --listen 127.0.0.1:0 >"$run/$kind.out" 2>"$run/$kind.log" &
  echo $! >"$run/$kind.pid"
done
addr() {
  for _ in $(seq 100); do
    if [[ -s "$run/$1.out" ]]; then head -n1 "$run/$1.out"; return; fi
    sleep 0.1
  done
  echo "the $1 emulator did not start; see $run/$1.log" >&2
  exit 1
}
neon="$(addr neon)"; secrets="$(addr secretmanager)"; cloudrun="$(addr cloudrun)"; cloudflare="$(addr cloudflare)"
for kind in "${kinds[@]}"; do echo "    $kind: http://$(addr "$kind")"; done

# A second Neon project for the "eu" region (the emulator seeds one project, used for "us").
curl -fsS -X POST "http://$neon/_emulator/projects" -d '{"id": "merchants-eu"}' >/dev/null

cat >"$here/emulators.auto.tfvars" <<TFVARS
# Written by run-with-emulators.sh: points the stack at the local emulators.
neon_endpoint           = "http://$neon/api/v2"
neon_api_key            = "emulator"
google_access_token     = "emulator"
secret_manager_endpoint = "http://$secrets/v1/"
cloud_run_endpoint      = "http://$cloudrun/v2/"
cloudflare_base_url     = "http://$cloudflare/client/v4"
cloudflare_api_token    = "emulator"

cloudflare_zone_id      = "023e105f4ecef8ad9ca31a8372d0c353" # the emulator's example.com
google_project          = "merchants-demo"
runtime_service_account = "merchant-runtime@merchants-demo.iam.gserviceaccount.com"
app_image               = "us-docker.pkg.dev/merchants-demo/apps/merchant-app:1.4.2"
regions = {
  us = { neon_project_id = "emulated-project-000001", cloud_run_location = "us-central1" }
  eu = { neon_project_id = "merchants-eu", cloud_run_location = "europe-west1" }
}
TFVARS

echo "==> Applying the merchants in tenants/"
"$tf" -chdir="$here" apply -auto-approve

echo
echo "==> Each merchant's service answers its health endpoint:"
"$tf" -chdir="$here" output -json edge_routes | python3 -c '
import json, sys
for host, uri in sorted(json.load(sys.stdin).items()):
    print(f"{host:28} {uri}/healthz")'
first="$("$tf" -chdir="$here" output -json edge_routes | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin).values())[0])')"
echo "\$ curl $first/healthz"
curl -fsS "$first/healthz"
echo
echo
echo "The emulators keep running (admin listing: curl http://$neon/_emulator/objects)."
echo "Try: $tf -chdir=$here tenants"
echo "Stop everything with: $0 stop"
