#!/usr/bin/env bash
# Runs the whole test suite N times in a row while a CPU hog keeps every core busy, and prints
# per test how often it passed and failed. A suite that is green once on an idle machine can
# still be red one time in five on a busy one; this is how to find out.
#
#   scripts/soak.sh [N] [CTEST_ARGS...]     N runs (default 10); extra arguments go to ctest,
#                                           e.g. scripts/soak.sh 5 -R integration_
#
# Environment:
#   BUILD_DIR   the build directory (default: build/ at the repository root); built first
#   JOBS        parallel ctest jobs and build jobs (default 2, as scripts/test.sh)
#   HOGS        busy processes beside the suite (default: one per core; 0 runs unloaded)
#   SOAK_DIR    where each run's ctest output goes (default: BUILD_DIR/soak)
#
# Prints one line per test ("integration_pool: 10 passed, 0 failed"), then the runs that
# failed; exits 0 only when every run passed. Logs of failed runs stay in SOAK_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
jobs=${JOBS:-2}
hogs=${HOGS:-$(nproc)}
soak_dir=${SOAK_DIR:-$build/soak}
runs=10
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    runs=$1
    shift
fi
((runs > 0)) || {
    echo "soak.sh: N must be positive" >&2
    exit 64
}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs" >/dev/null

hog_pids=()
stop_hogs() {
    local pid
    for pid in "${hog_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${hog_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    hog_pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM

# One busy loop per hog: plain bash, so that nothing needs installing. Each is its own
# process, killed by its pid at exit.
for ((i = 0; i < hogs; i++)); do
    (while :; do :; done) &
    hog_pids+=($!)
done

mkdir -p "$soak_dir"
rm -f "$soak_dir"/run-*.log
declare -A passed failed
failed_runs=()
for ((run = 1; run <= runs; run++)); do
    log=$soak_dir/run-$run.log
    status=0
    (cd "$build" && ctest --output-on-failure -j"$jobs" "$@") >"$log" 2>&1 || status=$?
    # ctest's result lines: "  3/31 Test  #7: unit_codec ......   Passed    0.10 sec"
    while read -r name result; do
        if [[ $result == Passed ]]; then
            passed[$name]=$((${passed[$name]:-0} + 1))
            failed[$name]=${failed[$name]:-0}
        else
            failed[$name]=$((${failed[$name]:-0} + 1))
            passed[$name]=${passed[$name]:-0}
        fi
    done < <(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) \.*( |\*)+(Passed|Failed|Timeout|Exception|Not Run|[A-Za-z]+).*/\1 \3/p' "$log")
    if ((status != 0)); then
        failed_runs+=("$run")
        echo "soak.sh: run $run/$runs failed (log: $log)" >&2
    else
        echo "soak.sh: run $run/$runs passed" >&2
        rm -f "$log"
    fi
done
stop_hogs

for name in $(printf '%s\n' "${!passed[@]}" | sort); do
    echo "$name: ${passed[$name]} passed, ${failed[$name]} failed"
done
echo "runs: $runs, clean: $((runs - ${#failed_runs[@]})), failed: ${#failed_runs[@]}${failed_runs[*]:+ (runs ${failed_runs[*]})}"
((${#failed_runs[@]} == 0))
