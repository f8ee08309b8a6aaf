#!/usr/bin/env bash
# Runs slicegate on this machine against a throwaway PostgreSQL and nats-server, with three
# demo slices run by the process runtime. Logs go to the terminal; Ctrl-C stops everything
# and removes the throwaway servers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target slicegate slicectl demo-slice

dir=$(mktemp -d /tmp/slicegate-local-XXXXXX)
cleanup() {
  [ -n "${daemon_pid:-}" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  bash "$root/scripts/servers.sh" stop "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$root/scripts/servers.sh" start "$dir"
# shellcheck disable=SC1091
source "$dir/env"
mkdir -p "$dir/slices"

cat <<TXT

slicegate runs against throwaway servers in $dir:
  PostgreSQL  $DATABASE_URL
  NATS        $NATS_URL
Try, in another terminal:
  $build/slicectl --nats-url $NATS_URL info
  $build/slicegate create-admin --database-url $DATABASE_URL --email admin@example.com
Ctrl-C stops everything.

TXT

"$build/slicegate" serve \
  --database-url "$DATABASE_URL" \
  --admin-database-url "$ADMIN_DATABASE_URL" \
  --slice-database-url "$SLICE_DATABASE_URL" \
  --nats-url "$NATS_URL" \
  --runtime process \
  --slice-command "$build/demo-slice" \
  --slice-port-base "${SLICE_PORT_BASE:-15001}" \
  --data-root "$dir/slices" \
  --min-available "${DEMO_SLICES:-3}" \
  --health-interval "${HEALTH_INTERVAL:-10s}" \
  --health-start-period 5s \
  --server-interval "${SERVER_INTERVAL:-10s}" &
daemon_pid=$!
wait "$daemon_pid"
