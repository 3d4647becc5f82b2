#!/usr/bin/env bash
# Exit 1 with one clear line when PORT is not a usable port or 127.0.0.1:PORT is taken (a second
# 'make run', say). Plain bash: this runs before the set-up has installed anything.
port=$1
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  echo "gridmap: PORT must be a number from 1 to 65535, not '$port'." >&2
  exit 1
fi
if [ "$port" -lt 1024 ] && [ "$(id -u)" -ne 0 ]; then
  echo "gridmap: port $port needs root; choose one from 1024 up, e.g. make run PORT=5000" >&2
  exit 1
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "gridmap: port $port is already in use (is 'make run' already running?). Stop it, or serve on another port: make run PORT=$((port + 1))" >&2
  exit 1
fi
exit 0
