#!/usr/bin/env bash
# PostgreSQL from Debian's packages, one cluster under $STACK_DIR/postgres, on 127.0.0.1:$PG_PORT.
# initdb refuses to run as root, so as root every server command runs as the `postgres` user.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

: "${STACK_DIR:?STACK_DIR must be set}"
PG_PORT=${PG_PORT:-15432}
dir=$STACK_DIR/postgres
# The check below needs the stack dir to exist (run on its own, before up.sh made it).
mkdir -p "$STACK_DIR"
# As root the server runs as `postgres`, which must be able to reach its data directory; a checkout
# under a private home (mode 700) is not reachable, so the cluster then lives under /var/tmp.
if [[ $(id -u) == 0 ]] && ! runuser -u postgres -- test -x "$STACK_DIR" 2>/dev/null; then
  dir=/var/tmp/order-stream-pg-$(echo -n "$STACK_DIR" | md5sum | cut -c1-12)
  mkdir -p "$STACK_DIR/postgres" && echo "$dir" >"$STACK_DIR/postgres/location"
fi
data=$dir/data
log=$dir/postgres.log
user=orderstream

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[[ -x $bindir/pg_ctl ]] || { echo "postgres: no server binaries under /usr/lib/postgresql — apt-get install postgresql" >&2; exit 1; }

as_owner() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ready() { "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

mkdir -p "$dir"
if [[ -f $data/postmaster.pid ]] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 && ready; then
  echo "postgres: already up"
  exit 0
fi

if [[ ! -f $data/PG_VERSION ]]; then
  mkdir -p "$data"
  pwfile=$(mktemp)
  echo "$user" >"$pwfile"
  if [[ $(id -u) == 0 ]]; then chown postgres "$data" "$pwfile" "$dir"; fi
  chmod 700 "$data"
  # scram for TCP, as production would have it; the stack only listens on loopback.
  as_owner "$bindir/initdb" -D "$data" -U "$user" --pwfile="$pwfile" --auth-host=scram-sha-256 \
    --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { rm -f "$pwfile"; fail_with_log postgres "$dir/initdb.log"; }
  rm -f "$pwfile"
  cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$data'
max_connections = 200
shared_buffers = 256MB
logging_collector = off
CONF
fi
# Logical decoding for the Debezium PostgreSQL source (CONNECT=1; deploy/connect/orders-cdc-source.json).
# Also added to a cluster made before this setting existed; it takes effect when the server
# (re)starts, which is now unless it is already up (then: npm run stack:down && npm run stack:up).
if ! grep -q '^wal_level' "$data/postgresql.conf"; then
  cat >>"$data/postgresql.conf" <<CONF
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
CONF
fi

[[ $(id -u) == 0 ]] && touch "$log" && chown postgres "$log"
as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null 2>&1 || fail_with_log postgres "$log"
wait_until 60 ready || fail_with_log postgres "$log"

# The application database, created once.
if ! as_owner "$bindir/psql" -h "$data" -p "$PG_PORT" -U "$user" -d postgres -tAc \
  "select 1 from pg_database where datname = '$user'" | grep -q 1; then
  as_owner "$bindir/createdb" -h "$data" -p "$PG_PORT" -U "$user" "$user"
fi
echo "postgres: up on 127.0.0.1:$PG_PORT"
