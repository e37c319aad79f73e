#!/usr/bin/env bash
# Runs schemathesis (property-based API fuzzing from the OpenAPI document) from a virtualenv cached
# under .cache/venv; installs it from PyPI on first use. Idempotent: later runs reuse the install.
# Usage: scripts/schemathesis.sh run http://127.0.0.1:8080/openapi.json [schemathesis options…]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SPILLWAY_SCHEMATHESIS_VENV:-$ROOT/.cache/venv}"
VERSION_SPEC="${SPILLWAY_SCHEMATHESIS_VERSION:-schemathesis>=4.1,<5}"

if ! "$VENV/bin/python" -c 'import schemathesis' >/dev/null 2>&1; then
  command -v python3 >/dev/null || { echo "schemathesis.sh: python3 is required (apt-get install -y python3-venv)" >&2; exit 2; }
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$VERSION_SPEC" >&2
fi
exec "$VENV/bin/schemathesis" "$@"
