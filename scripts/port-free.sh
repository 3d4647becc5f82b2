#!/usr/bin/env bash
# Exit 1 with one clear line when 127.0.0.1:$1 is taken (a second 'make run', say).
port=$1
if python3 -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
  exit 0
fi
echo "gridmap: port $port is already in use (is 'make run' already running?). Stop it, or serve on another port: make run PORT=$((port + 1))" >&2
exit 1
