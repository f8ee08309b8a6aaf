#!/usr/bin/env bash
# Runs sql/setup.sql (roles wa_slice and wank_gateway, database wank_saas) once per cluster.
#
#   sql/setup.sh <psql connection args...>
#   sql/setup.sh -h 127.0.0.1 -p 5432 -U postgres -d postgres
#   sql/setup.sh "postgresql://postgres@db.example:5432/postgres"
#
# Connect as a superuser. Set PSQL to choose the psql binary (default: psql on PATH).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "${PSQL:-psql}" -X -q -v ON_ERROR_STOP=1 "$@" -f "$here/setup.sql"
