#!/usr/bin/env bash
# Installs the vendors' own client libraries the emulator checks run (tests/emulators/tests/
# vendor_clients.rs) into DIR (default: target/vendor-clients of the workspace):
#   DIR/python  google-api-python-client (pip install --target), for Secret Manager and Cloud Run
#   DIR/node    the npm packages `cloudflare` and `@neondatabase/api-client` (npm install --prefix)
# Versions are pinned here, in one place. Idempotent: an existing install is kept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:-$here/../../../target/vendor-clients}"
mkdir -p "$dir/python" "$dir/node"
PY_PACKAGES=(google-api-python-client==2.202.0)
NODE_PACKAGES=(cloudflare@7.3.0 @neondatabase/api-client@2.7.3)
if [ ! -f "$dir/python/.installed" ]; then
  # --target leaves the system alone; Debian's PEP 668 marker must not stop it.
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check --no-input --target "$dir/python" "${PY_PACKAGES[@]}"
  touch "$dir/python/.installed"
fi
if [ ! -f "$dir/node/.installed" ]; then
  npm install --prefix "$dir/node" --save-exact --no-audit --no-fund --loglevel=error "${NODE_PACKAGES[@]}"
  touch "$dir/node/.installed"
fi
