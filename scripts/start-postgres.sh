#!/usr/bin/env bash
# Install (if needed) and start a local PostgreSQL with PostGIS from Debian's packages, for the test suite's
# PostgreSQL run. Prints the DATABASE_URL to use. Needs root (or sudo) the first time.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
if ! command -v pg_lsclusters >/dev/null || [ ! -d /usr/share/postgresql/15/extension ] || \
   ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql postgresql-15-postgis-3 >&2
fi
version=$(pg_lsclusters -h | awk 'NR==1{print $1}')
cluster=$(pg_lsclusters -h | awk 'NR==1{print $2}')
$SUDO pg_ctlcluster "$version" "$cluster" start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  as_postgres psql -qAtc "select 1" >/dev/null 2>&1 && break
  sleep 1
done
as_postgres psql -qAt <<'SQL' >&2
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bando') THEN
    CREATE ROLE bando LOGIN PASSWORD 'bando-test' CREATEDB;
  END IF;
END $$;
SQL
as_postgres psql -qAtc "SELECT 1 FROM pg_database WHERE datname='bando_test'" | grep -q 1 || \
  as_postgres createdb -O bando bando_test
as_postgres psql -qd bando_test -c "CREATE EXTENSION IF NOT EXISTS postgis" >&2
# template1 gets PostGIS too, so every per-test database created from a template has it.
as_postgres psql -qd template1 -c "CREATE EXTENSION IF NOT EXISTS postgis" >&2
echo "postgresql+psycopg://bando:bando-test@127.0.0.1:5432/bando_test"
