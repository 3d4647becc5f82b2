#!/usr/bin/env bash
# Serve the app on 127.0.0.1:$PORT (default 5000) with gunicorn, and beside it the job worker
# (imports and recomputes run there, not in a web request). Either one stopping stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${PORT:-5000}
if ! scripts/port-free.sh "$port"; then
  exit 1
fi
pids=()
stop() {
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'exit 130' INT TERM
.venv/bin/gridmap worker &
pids+=($!)
echo "gridmap: serving on http://127.0.0.1:$port  (Ctrl-C stops; 'make stop' stops the database)"
.venv/bin/gunicorn --bind "127.0.0.1:$port" --workers "${WORKERS:-2}" --threads 4 \
  --timeout 120 --access-logfile - --log-level warning 'webapp:create_app()' &
pids+=($!)
wait -n "${pids[@]}"
