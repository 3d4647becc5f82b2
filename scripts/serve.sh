#!/usr/bin/env bash
# Serve the app on 127.0.0.1:$PORT (default 5000) with gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-5000}
if ! scripts/port-free.sh "$port"; then
  exit 1
fi
echo "gridmap: serving on http://127.0.0.1:$port  (Ctrl-C stops; 'make stop' stops the database)"
exec .venv/bin/gunicorn --bind "127.0.0.1:$port" --workers "${WORKERS:-2}" --threads 4 \
  --timeout 120 --access-logfile - --log-level warning 'webapp:create_app()'
