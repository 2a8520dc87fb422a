#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server on 127.0.0.1, then stop it.
# Usage: scripts/with-postgres.sh COMMAND...   (the URL is in SURVEYS_TEST_DATABASE_URL)
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
DATA=$(mktemp -d /tmp/surveys-pg.XXXXXX)
chmod 755 "$DATA"
chown postgres: "$DATA"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg() { (cd / && runuser -u postgres -- "$@"); }
stop() {
  as_pg "$PGBIN/pg_ctl" -D "$DATA/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap stop EXIT
as_pg "$PGBIN/initdb" -D "$DATA/db" -U postgres -A trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$DATA/db" -l "$DATA/log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres surveys_test
export SURVEYS_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/surveys_test"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') running on 127.0.0.1:$PORT"
"$@"
