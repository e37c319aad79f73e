#!/usr/bin/env bash
# Installs what the test suite needs beyond node_modules, idempotently (safe to re-run):
#   - Debian packages: redis-server (integration/chaos tests), chromium (browser tests),
#     prometheus (dashboard rule tests), java + maven (to fetch and run Kafka);
#   - the Apache Kafka jars, resolved from Maven Central into .cache/kafka/lib.
# Builds nothing else. Run as root (CI) or with sudo available (developers).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_LIB="$ROOT/.cache/kafka/lib"

# Command on PATH -> Debian package providing it.
declare -A PACKAGES=(
  [redis-server]=redis-server
  [chromium]=chromium
  [prometheus]=prometheus
  [java]=default-jre-headless
  [mvn]=maven
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for cmd in "${!PACKAGES[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PACKAGES[$cmd]}")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages present (redis-server, chromium, prometheus, java, mvn)"
fi

# The jar count guards against a half-finished earlier copy.
if [ -d "$KAFKA_LIB" ] && ls "$KAFKA_LIB"/kafka_2.13-*.jar >/dev/null 2>&1 \
  && [ "$(ls "$KAFKA_LIB" | wc -l)" -ge 50 ]; then
  echo "setup: Kafka jars present in .cache/kafka/lib"
else
  echo "setup: resolving Kafka jars from Maven Central into .cache/kafka/lib"
  rm -rf "$KAFKA_LIB.partial"
  mkdir -p "$(dirname "$KAFKA_LIB")"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIB.partial"
  rm -rf "$KAFKA_LIB"
  mv "$KAFKA_LIB.partial" "$KAFKA_LIB"
  echo "setup: $(ls "$KAFKA_LIB" | wc -l) jars in .cache/kafka/lib"
fi
