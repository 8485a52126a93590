#!/bin/sh
# Compose job `temporal-schema` (image temporalio/admin-tools): create the Temporal server's two PostgreSQL
# databases and bring both schemas to the version the pinned image ships. Runs before the server starts;
# safe to run again (an existing database or schema version is kept), which is what an upgrade does.
#
# Environment: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, POSTGRES_PASSWORD_FILE (the docker secret).
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS to the database host}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE to the password secret}"

# temporal-sql-tool reads its connection from SQL_* variables; the password comes from the secret file,
# so it is never in the compose file, .env or `docker inspect`.
SQL_PLUGIN=postgres12
SQL_HOST=$POSTGRES_SEEDS
SQL_PORT=${DB_PORT:-5432}
SQL_USER=$POSTGRES_USER
SQL_PASSWORD=$(cat "$POSTGRES_PASSWORD_FILE")
export SQL_PLUGIN SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD

SCHEMAS=${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

echo "temporal-schema: waiting for PostgreSQL at $SQL_HOST:$SQL_PORT"
tries=0
until nc -z "$SQL_HOST" "$SQL_PORT"; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "temporal-schema: PostgreSQL did not answer" >&2; exit 1; }
    sleep 2
done

migrate() {  # migrate DATABASE SCHEMA_SUBDIR: create it if missing, then apply every versioned step
    echo "temporal-schema: database $1"
    temporal-sql-tool --db "$1" create || echo "temporal-schema: $1 exists already"
    temporal-sql-tool --db "$1" setup-schema -v 0.0
    temporal-sql-tool --db "$1" update-schema -d "$SCHEMAS/$2/versioned"
}

migrate temporal temporal
migrate temporal_visibility visibility
echo "temporal-schema: done"
