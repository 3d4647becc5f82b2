#!/usr/bin/env bash
# Install the Debian packages gridmap needs, only those that are missing.
# Usage: scripts/system-packages.sh [run|test]
#   run   PostgreSQL 15 + PostGIS 3 + pgRouting (skipped when DATABASE_URL is set), Node.js/npm,
#         Pango and a Chinese font for the PDFs (WeasyPrint; Chromium's screenshots use the font too)
#   test  the same plus Chromium for the end-to-end tests, poppler-utils (pdftotext),
#         redis-server, nginx, gdal-bin and pgbouncer
set -euo pipefail
purpose=${1:-run}

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if [ -z "${DATABASE_URL:-}" ]; then
  for p in postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting; do
    have_pkg "$p" || need+=("$p")
  done
fi
command -v npm >/dev/null 2>&1 || need+=(npm)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# PDFs (printed maps, reports): WeasyPrint lays text out with Pango, in a Chinese font.
for p in libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei; do
  have_pkg "$p" || need+=("$p")
done
if [ "$purpose" = test ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # pdftotext reads the printed maps and reports back in the tests.
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  # The shared rate limits' tests start a throwaway Redis; the deployment test runs deploy/'s
  # nginx site in front of gunicorn (Debian's service units stay stopped: policy-rc.d or none).
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  # GDAL's own OGC API client (ogrinfo OAPIF:) reads the API in the tests.
  have_pkg gdal-bin || need+=(gdal-bin)
  # The connection-pooling test runs the app through Debian's pgbouncer in transaction mode.
  [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
fi

[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
  echo "gridmap: installing system packages ${need[*]} with sudo (it may ask for your password)"
  sudo=(sudo)
else
  echo "gridmap: missing system packages: ${need[*]}. Run 'sudo apt-get install ${need[*]}' (or as root), then try again; or set DATABASE_URL to an existing PostGIS database." >&2
  exit 1
fi

echo "gridmap: installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
