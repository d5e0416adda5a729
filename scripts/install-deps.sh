#!/usr/bin/env bash
# Installs the Debian packages Stepwise builds against, only those that are missing.
# Used by `make quickstart`, `make test` and CI; safe to run again.
set -euo pipefail
# librsvg2-bin (rsvg-convert) renders the report's SVG figures to PNG as well.
need=(libopenblas-dev libsqlite3-dev libyaml-dev pkg-config librsvg2-bin)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "stepwise: installing Debian packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
