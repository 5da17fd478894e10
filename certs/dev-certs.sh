#!/usr/bin/env bash
# Makes a development CA and a server certificate in certs/dev (keys are gitignored).
# Usage: certs/dev-certs.sh [--host NAME]... [--days N] [--out-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v datahub-scim >/dev/null 2>&1; then
  exec datahub-scim certs --out-dir certs/dev "$@"
fi
exec cargo run --quiet -- certs --out-dir certs/dev "$@"
