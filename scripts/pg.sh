#!/usr/bin/env bash
# The project-local PostGIS cluster: scripts/pg.sh start|stop|status|url|replica-start|replica-stop
# Data lives in .local/pg (git-ignored) and is kept across runs; the server listens only on a
# unix socket, so it never clashes with a system PostgreSQL on 5432.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pgbin=/usr/lib/postgresql/15/bin
local_dir="$root/.local"
mkdir -p "$local_dir"

# initdb and pg_ctl refuse root: as root the cluster belongs to the postgres user.
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  owner=$(id -un)
  as_owner() { "$@"; }
fi
dbuser=$owner

base="$local_dir/pg"
if [ ! -e "$base" ]; then
  # postgres must reach the data dir, and a unix socket path must stay under 108 bytes;
  # where the checkout cannot offer both, keep the cluster in /var/tmp and link it here.
  if as_owner test -x "$local_dir" 2>/dev/null && [ ${#base} -lt 80 ]; then
    mkdir -p "$base"
  else
    alt="/var/tmp/gridmap-$(printf '%s' "$root" | md5sum | cut -c1-10)"
    mkdir -p "$alt"
    ln -s "$alt" "$base"
  fi
  chown "$owner" "$base/" 2>/dev/null || true
fi
base=$(readlink -f "$base")
# runuser keeps the working directory: stand where the cluster's owner may stand.
cd "$base"
data="$base/data"
sock="$base/run"
log="$base/server.log"

free_port() {
  python3 - <<'PY'
import socket
for port in range(55432, 56432):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
PY
}

port() { cat "$base/port"; }

url() {
  echo "postgresql+psycopg://$dbuser@/gridmap?host=$sock&port=$(port)"
}

is_running() { [ -f "$data/PG_VERSION" ] && as_owner "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

psql_admin() { psql -X -q -h "$sock" -p "$(port)" -U "$dbuser" -d postgres "$@"; }

start() {
  if [ ! -x "$pgbin/initdb" ]; then
    echo "gridmap: PostgreSQL 15 is not installed (run scripts/system-packages.sh, or set DATABASE_URL)." >&2
    exit 1
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    echo "gridmap: creating the project-local PostGIS cluster in $base"
    free_port > "$base/port"
    as_owner "$pgbin/initdb" -D "$data" -U "$dbuser" -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=reject >/dev/null
  fi
  mkdir -p "$sock"
  chown "$owner" "$sock"
  if ! is_running; then
    as_owner "$pgbin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o \
      "-c listen_addresses='' -c unix_socket_directories='$sock' -c port=$(port) -c synchronous_commit=off -c wal_keep_size=512MB" \
      start >/dev/null || { echo "gridmap: PostgreSQL did not start; see $log" >&2; tail -5 "$log" >&2; exit 1; }
  fi
  if [ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'gridmap'")" ]; then
    psql_admin -c "CREATE DATABASE gridmap"
  fi
  url > "$local_dir/database_url"
}

stop() {
  if is_running; then
    as_owner "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    echo "gridmap: PostgreSQL cluster stopped"
  else
    echo "gridmap: PostgreSQL cluster is not running"
  fi
}

# A streaming replica of the cluster (the read-replica tests; never needed to run the app):
# made once with pg_basebackup, started on its own socket directory and port.
replica="$base/replica"
replica_sock="$base/replica-run"

replica_start() {
  start
  if [ ! -f "$replica/data/PG_VERSION" ]; then
    mkdir -p "$replica"
    chown "$owner" "$replica"
    echo "gridmap: making a streaming replica of the cluster in $replica" >&2
    as_owner "$pgbin/pg_basebackup" -D "$replica/data" -h "$sock" -p "$(port)" -U "$dbuser" \
      -X stream -R -c fast >/dev/null
    echo $(( $(port) + 1000 )) > "$replica/port"
  fi
  mkdir -p "$replica_sock"
  chown "$owner" "$replica_sock"
  if ! as_owner "$pgbin/pg_ctl" -D "$replica/data" status >/dev/null 2>&1; then
    as_owner "$pgbin/pg_ctl" -D "$replica/data" -l "$replica/server.log" -w -t 60 -o \
      "-c listen_addresses='' -c unix_socket_directories='$replica_sock' -c port=$(cat "$replica/port") -c hot_standby=on" \
      start >/dev/null || { echo "gridmap: the replica did not start; see $replica/server.log" >&2; tail -5 "$replica/server.log" >&2; exit 1; }
  fi
  # A replica left stopped while the primary moved on may find the WAL it needs removed: it then
  # never streams again. Make it anew from a fresh base backup (once).
  if ! replica_streams; then
    if [ "${1:-}" = again ]; then
      echo "gridmap: the replica does not stream; see $replica/server.log" >&2
      exit 1
    fi
    echo "gridmap: the replica does not stream any more; making it anew" >&2
    as_owner "$pgbin/pg_ctl" -D "$replica/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$replica"
    replica_start again
    return
  fi
  echo "postgresql+psycopg://$dbuser@/gridmap?host=$replica_sock&port=$(cat "$replica/port")"
}

replica_streams() {
  for _ in $(seq 1 40); do
    status=$(psql -X -qtA -h "$replica_sock" -p "$(cat "$replica/port")" -U "$dbuser" -d postgres \
      -c "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null || true)
    [ "$status" = streaming ] && return 0
    sleep 0.25
  done
  return 1
}

replica_stop() {
  if [ -f "$replica/data/PG_VERSION" ] && as_owner "$pgbin/pg_ctl" -D "$replica/data" status >/dev/null 2>&1; then
    as_owner "$pgbin/pg_ctl" -D "$replica/data" -m fast -w stop >/dev/null
  fi
}

case "${1:-}" in
  start) start ;;
  stop) replica_stop; stop ;;
  replica-start) replica_start ;;
  replica-stop) replica_stop ;;
  status) if is_running; then echo "running: $(url)"; else echo "stopped"; exit 3; fi ;;
  url) url ;;
  *) echo "usage: scripts/pg.sh start|stop|status|url|replica-start|replica-stop" >&2; exit 2 ;;
esac
