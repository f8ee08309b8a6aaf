#!/usr/bin/env bash
# Runs one benchmark against throwaway servers.
#
#   scripts/bench.sh NAME [ARGS...]     runs $BUILD_DIR/bench_NAME ARGS... and prints its output
#   scripts/bench.sh --list             lists the built benchmarks
#
# PostgreSQL and nats-server are started by scripts/servers.sh in a temporary directory, their
# DIR/env (NATS_URL, DATABASE_URL, ...) is exported to the benchmark, and both are stopped
# again however the benchmark ends. Nothing is built: build the target first, e.g.
#   cmake --build build --target bench_bridge
#
# Environment:
#   BUILD_DIR   where the bench_* binaries are (default: ./build under the source root)
#   KEEP=1      keep the servers' directory (logs) after the run
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}

die() {
    echo "bench.sh: error: $*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

(($# >= 1)) || {
    usage >&2
    exit 64
}

case $1 in
-h | --help)
    usage
    exit 0
    ;;
--list)
    find "$BUILD_DIR" -maxdepth 1 -type f -name 'bench_*' -perm -u+x -printf '%f\n' 2>/dev/null |
        sed 's/^bench_//' | sort
    exit 0
    ;;
esac

name=$1
shift
[[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "'$name' is not a benchmark name"
binary=$BUILD_DIR/bench_$name
[[ -x $binary ]] || die "$binary not found; build it first: cmake --build $BUILD_DIR --target bench_$name"

dir=$(mktemp -d /tmp/slicegate-bench-XXXXXX)
stop_servers() {
    bash "$ROOT/scripts/servers.sh" stop "$dir" >/dev/null 2>&1 ||
        echo "bench.sh: could not stop the servers in $dir" >&2
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$ROOT/scripts/servers.sh" start "$dir" >/dev/null
# shellcheck disable=SC1091
. "$dir/env"

"$binary" "$@"
