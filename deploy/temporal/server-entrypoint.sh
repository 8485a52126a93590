#!/bin/sh
# Entrypoint of the compose service `temporal`: hand the database password from its docker secret to the
# server image's own entrypoint, which reads it from POSTGRES_PWD. The password stays out of the compose
# file, .env and `docker inspect`.
set -eu
POSTGRES_PWD=$(cat "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE to the password secret}")
export POSTGRES_PWD
exec /etc/temporal/entrypoint.sh "$@"
