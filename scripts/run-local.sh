#!/usr/bin/env bash
# Runs slicegate on this machine against a throwaway PostgreSQL and nats-server, with three
# demo slices run by the process runtime (or, with RUNTIME=docker, as containers on a throwaway
# Docker engine). Logs go to the terminal; Ctrl-C stops everything and removes the throwaway
# servers.
#
# Environment:
#   RUNTIME=process   (default) slices are demo-slice processes, children of slicegate
#   RUNTIME=docker    slices are containers of the image slicegate/demo-slice:1 (made by
#                     scripts/demo-image.sh) on a throwaway Docker engine (scripts/servers.sh
#                     start-docker, as root), host network; the engine and its containers are
#                     removed on exit like the other servers
#   HTTP_PORT         the admin dashboard and /metrics (default: the first free port from 8080)
#   BUILD_DIR, JOBS, SLICE_PORT_BASE, DEMO_SLICES, HEALTH_INTERVAL, SERVER_INTERVAL
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
runtime=${RUNTIME:-process}
image=slicegate/demo-slice:1
case $runtime in
  process | docker) ;;
  *)
    echo "run-local.sh: RUNTIME must be process or docker, not '$runtime'" >&2
    exit 64
    ;;
esac

bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target slicegate slicectl demo-slice
# The admin dashboard: npm packages from the lockfile, then one esbuild bundle in dist/.
(cd "$root/dashboard" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
http_port=${HTTP_PORT:-}
if [ -z "$http_port" ]; then
  for p in $(seq 8080 8180); do
    ss -ltnH "sport = :$p" | grep -q . || { http_port=$p; break; }
  done
fi

dir=$(mktemp -d /tmp/slicegate-local-XXXXXX)
cleanup() {
  [ -n "${daemon_pid:-}" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  # Also stops the Docker engine, if one was started, and removes its containers.
  bash "$root/scripts/servers.sh" stop "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$root/scripts/servers.sh" start "$dir"
# shellcheck disable=SC1091
source "$dir/env"
mkdir -p "$dir/slices"

runtime_args=(--runtime process --slice-command "$build/demo-slice")
runtime_text="process runtime: $build/demo-slice"
if [ "$runtime" = docker ]; then
  bash "$root/scripts/servers.sh" start-docker "$dir"
  # shellcheck disable=SC1091
  source "$dir/docker.env"
  bash "$root/scripts/demo-image.sh" "$build" "$image" >/dev/null
  runtime_args=(--runtime docker --docker-socket "$DOCKER_SOCKET" --docker-image "$image"
    --docker-network host)
  runtime_text="docker runtime: $image on $DOCKER_HOST"
fi

cat <<TXT

slicegate runs against throwaway servers in $dir:
  PostgreSQL  $DATABASE_URL
  NATS        $NATS_URL (WebSocket $NATS_WS_URL)
  slices      $runtime_text
  dashboard   http://127.0.0.1:$http_port/   metrics  http://127.0.0.1:$http_port/metrics
Try, in another terminal:
  $build/slicegate create-admin --database-url $DATABASE_URL --email admin@example.com
  export SLICEGATE_NATS_URL=$NATS_URL
  export SLICEGATE_SESSION=\$($build/slicectl login --email admin@example.com)
  $build/slicectl top
and sign in to the dashboard with the same account.
Ctrl-C stops everything.

TXT

"$build/slicegate" serve \
  --database-url "$DATABASE_URL" \
  --admin-database-url "$ADMIN_DATABASE_URL" \
  --slice-database-url "$SLICE_DATABASE_URL" \
  --nats-url "$NATS_URL" \
  "${runtime_args[@]}" \
  --slice-port-base "${SLICE_PORT_BASE:-15001}" \
  --data-root "$dir/slices" \
  --min-available "${DEMO_SLICES:-3}" \
  --health-interval "${HEALTH_INTERVAL:-10s}" \
  --health-start-period 5s \
  --server-interval "${SERVER_INTERVAL:-10s}" \
  --http-listen "127.0.0.1:$http_port" \
  --http-root "$root/dashboard/dist" \
  --dashboard-nats-url "$NATS_WS_URL" &
daemon_pid=$!
wait "$daemon_pid"
