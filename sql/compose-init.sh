#!/usr/bin/env bash
# compose.yaml mounts this as /docker-entrypoint-initdb.d/02-passwords.sh, so the postgres image
# runs it once, on an empty data volume, right after 01-setup.sql (sql/setup.sql) made the roles.
# setup.sql sets no password; the image's pg_hba.conf wants one for every TCP connection.
#
#   GATEWAY_PASSWORD  password of wank_gateway (slicegate's gateway and admin connections)
#
# Slices need no password here: each gets a role of its own, with a random password that
# slicegate sets.
set -euo pipefail

: "${GATEWAY_PASSWORD:?set GATEWAY_PASSWORD for the postgres service}"

# Passed as a psql variable and quoted by psql (:'name'), never pasted into SQL text.
psql -X -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v gateway_password="$GATEWAY_PASSWORD" <<'SQL'
ALTER ROLE wank_gateway PASSWORD :'gateway_password';
SQL
