#!/usr/bin/env bash
# Throwaway PostgreSQL 15 and nats-server (with JetStream) on free loopback ports, and on demand
# a throwaway Docker engine, for tests, benchmarks, CI and local runs. Everything lives in one
# directory (the Docker engine adds a short exec root under /tmp); nothing else is touched.
#
#   scripts/servers.sh start DIR       create DIR, init and start both servers, run sql/setup.sql,
#                                      write DIR/env and print it
#   scripts/servers.sh stop DIR        stop both (fast) and the Docker engine of DIR if any,
#                                      then delete DIR unless KEEP=1
#   scripts/servers.sh stop-pg DIR     stop PostgreSQL (pg_ctl stop -m fast)
#   scripts/servers.sh start-pg DIR    start PostgreSQL again on its recorded port
#   scripts/servers.sh restart-pg DIR  stop-pg, then start-pg
#   scripts/servers.sh kill-nats DIR   SIGKILL nats-server (crash test)
#   scripts/servers.sh start-nats DIR  start nats-server again: same ports (WebSocket included),
#                                      same JetStream store
#   scripts/servers.sh status DIR      print what runs; exit 0 if both run, 3 otherwise
#   scripts/servers.sh start-docker DIR  start a throwaway Docker engine (dockerd, as root) with
#                                      its socket in DIR, write DIR/docker.env and print it;
#                                      exit 3 (one line on stderr says why) when there is no
#                                      dockerd or it does not start, so that tests can skip
#   scripts/servers.sh stop-docker DIR   remove every container of that engine, stop it (SIGTERM,
#                                      SIGKILL after 15 s), unmount what it left mounted, remove
#                                      its exec root; keeps its data root (images) unless `stop`
#
# DIR/env is shell-sourceable (`. DIR/env`):
#   PG_PORT, NATS_PORT, NATS_MONITOR_PORT, NATS_WS_PORT, SERVERS_DIR,
#   DATABASE_URL           postgresql://wank_gateway@127.0.0.1:PG_PORT/wank_saas
#   ADMIN_DATABASE_URL     postgresql://wank_gateway@127.0.0.1:PG_PORT/postgres
#   SLICE_DATABASE_URL     postgresql://wa_slice@127.0.0.1:PG_PORT/postgres
#   SUPERUSER_DATABASE_URL postgresql://postgres@127.0.0.1:PG_PORT/postgres
#   NATS_URL               nats://127.0.0.1:NATS_PORT
#   NATS_WS_URL            ws://127.0.0.1:NATS_WS_PORT, nats-server's WebSocket listener (no TLS,
#                          any origin), what the browser dashboard connects to
#
# DIR/docker.env is shell-sourceable too, written by `start-docker` (and removed by
# `stop-docker`), independent of DIR/env:
#   DOCKER_SOCKET          DIR/docker/docker.sock, the engine's API socket (an absolute path)
#   DOCKER_HOST            unix://DOCKER_SOCKET, for the docker CLI
#
# Environment:
#   PG_PORT, NATS_PORT, NATS_MONITOR_PORT, NATS_WS_PORT
#                                          fixed ports for `start` (default: random free ports
#                                          in 20000-60000)
#   KEEP=1                                 `stop` keeps DIR (logs, data)
#   WAIT_SECONDS                           how long to wait for a server (default 20)
#   PGBIN                                  PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   NATS_SERVER                            nats-server binary (default: nats-server on PATH)
#   DOCKERD, DOCKER                        dockerd and docker CLI binaries (default: on PATH)
#
# Layout: DIR/pg/data (cluster), DIR/pg (unix socket), DIR/pg/postgres.log, DIR/nats (JetStream
# store), DIR/nats.conf (the WebSocket listener: nats-server 2.9 takes it only from a config
# file; the command line gives everything else), DIR/nats.log, DIR/nats.pid, DIR/env; with `start-docker`: DIR/docker/root (data root:
# images, containers), DIR/docker/docker.sock, DIR/docker/docker.pid, DIR/docker/daemon.json (an
# empty config, so /etc/docker/daemon.json does not apply), DIR/docker/exec-root (the path of the
# engine's exec root, /tmp/sgd.XXXXXX: containerd's socket must fit in a unix socket path too),
# DIR/docker.log, DIR/docker.env.
#
# The Docker engine runs dockerd with --iptables=false --bridge=none: containers use the host
# network (`--network host`), ulimits nofile and nproc 4096. Each DIR gets its own data root,
# exec root, socket, pidfile and containerd, so engines of parallel tests do not meet.
# stop-docker only touches processes that name this engine's exec root or data root.
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to user postgres (runuser);
# DIR and its parents are made traversable for that user. The cluster runs with trust auth and
# fsync off: never put data you want to keep in it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
NATS_SERVER=${NATS_SERVER:-nats-server}
DOCKERD=${DOCKERD:-dockerd}
DOCKER=${DOCKER:-docker}
WAIT_SECONDS=${WAIT_SECONDS:-20}

die() {
    echo "servers.sh: error: $*" >&2
    exit 1
}

note() {
    echo "servers.sh: $*" >&2
}

# For start-docker: no engine can run here. Exit code 3 lets a test skip.
unavailable() {
    echo "servers.sh: docker unavailable: $*" >&2
    exit 3
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

is_root() {
    [[ $(id -u) -eq 0 ]]
}

# Runs a PostgreSQL server-side command as the cluster's owner.
as_pg() {
    if is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The ports random_port draws from: 20000 up to the kernel's ephemeral range, which outgoing
# connections take their local ports from (a listener cannot bind a port one of them holds).
port_floor=20000
port_ceiling=$(awk '{ print $1 - 1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32767)
((port_ceiling >= port_floor + 1000)) || port_ceiling=60000

# Prints a random free port in [port_floor, port_ceiling] that is not among the arguments.
random_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((port_floor + (RANDOM * 32768 + RANDOM) % (port_ceiling - port_floor + 1)))
        [[ " $* " == *" $p "* ]] && continue
        if ! port_busy "$p"; then
            echo "$p"
            return 0
        fi
    done
    die "found no free port in $port_floor-$port_ceiling"
}

check_port_value() {
    if ! [[ $2 =~ ^[0-9]+$ ]] || ((10#$2 < 1 || 10#$2 > 65535)); then
        die "$1=$2 is not a port number"
    fi
}

# Sets the path variables for DIR ($1).
set_paths() {
    [[ -n ${1:-} ]] || die "missing DIR (see: servers.sh help)"
    DIR=$(realpath -m -- "$1")
    # The path goes into a postgres -o option string and a unix socket path: keep it plain.
    [[ $DIR =~ ^[A-Za-z0-9._/+-]+$ ]] ||
        die "DIR '$DIR' must contain only letters, digits and . _ / + -"
    PGDIR=$DIR/pg
    PGDATA=$DIR/pg/data
    PGLOG=$DIR/pg/postgres.log
    NATSDIR=$DIR/nats
    NATSLOG=$DIR/nats.log
    NATSPID=$DIR/nats.pid
    NATSCONF=$DIR/nats.conf
    ENVFILE=$DIR/env
    DOCKERDIR=$DIR/docker
    DOCKER_ROOT=$DIR/docker/root
    DOCKER_SOCK=$DIR/docker/docker.sock
    DOCKER_PIDFILE=$DIR/docker/docker.pid
    DOCKER_CONFIG_FILE=$DIR/docker/daemon.json
    DOCKER_EXEC_FILE=$DIR/docker/exec-root
    DOCKERLOG=$DIR/docker.log
    DOCKER_ENVFILE=$DIR/docker.env
    # A unix socket path holds at most 107 bytes: DIR/pg/.s.PGSQL.NNNNN
    ((${#PGDIR} + 16 <= 107)) || die "DIR '$DIR' is too long for a unix socket path"
}

# Reads the ports recorded by `start`.
load_env() {
    [[ -f $ENVFILE ]] || die "$ENVFILE not found: was '$DIR' made by 'servers.sh start'?"
    # shellcheck disable=SC1090
    . "$ENVFILE"
    : "${PG_PORT:?missing in $ENVFILE}" "${NATS_PORT:?missing in $ENVFILE}"
    : "${NATS_MONITOR_PORT:?missing in $ENVFILE}"
    if [[ -z ${NATS_WS_PORT:-} ]]; then
        # Made before the WebSocket listener existed: give it one, kept from now on.
        NATS_WS_PORT=$(random_port "$PG_PORT" "$NATS_PORT" "$NATS_MONITOR_PORT")
        write_env
    fi
}

write_env() {
    cat >"$ENVFILE.tmp" <<EOF
export PG_PORT=$PG_PORT
export NATS_PORT=$NATS_PORT
export NATS_MONITOR_PORT=$NATS_MONITOR_PORT
export NATS_WS_PORT=$NATS_WS_PORT
export SERVERS_DIR=$DIR
export DATABASE_URL=postgresql://wank_gateway@127.0.0.1:$PG_PORT/wank_saas
export ADMIN_DATABASE_URL=postgresql://wank_gateway@127.0.0.1:$PG_PORT/postgres
export SLICE_DATABASE_URL=postgresql://wa_slice@127.0.0.1:$PG_PORT/postgres
export SUPERUSER_DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres
export NATS_URL=nats://127.0.0.1:$NATS_PORT
export NATS_WS_URL=ws://127.0.0.1:$NATS_WS_PORT
EOF
    chmod 644 "$ENVFILE.tmp"
    mv -f "$ENVFILE.tmp" "$ENVFILE"
}

# True while process $1 exists and is not a zombie.
proc_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# ---------------------------------------------------------------------------------- PostgreSQL

pg_running() {
    [[ -f $PGDATA/PG_VERSION ]] || return 1
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

pg_pid() {
    head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || echo "?"
}

# Lets user postgres reach DIR when it sits below directories only root can enter (mktemp -d).
make_traversable() {
    is_root || return 0
    local d
    d=$(dirname "$DIR")
    while [[ $d != / ]]; do
        if ! runuser -u postgres -- test -x "$d"; then
            note "adding o+x to $d so that user postgres can reach $DIR"
            chmod o+x "$d"
        fi
        d=$(dirname "$d")
    done
}

init_pg() {
    mkdir -p "$PGDIR"
    if is_root; then
        chmod 755 "$DIR"
        chown postgres:postgres "$DIR" "$PGDIR"
    fi
    if ! as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$PGDIR/initdb.log" 2>&1; then
        cat "$PGDIR/initdb.log" >&2
        die "initdb failed (log: $PGDIR/initdb.log)"
    fi
    # Slice roles (members of wa_slice) log in with their password, as in a real deployment,
    # so that tests see what a slice's credentials open; everyone else is trusted here,
    # wank_gateway too, although it belongs to wa_slice (the first line that matches wins).
    local hba="$PGDATA/pg_hba.conf"
    {
        echo "local all wank_gateway trust"
        echo "host all wank_gateway 127.0.0.1/32 trust"
        echo "host all wank_gateway ::1/128 trust"
        echo "local all +wa_slice scram-sha-256"
        echo "host all +wa_slice 127.0.0.1/32 scram-sha-256"
        echo "host all +wa_slice ::1/128 scram-sha-256"
        cat "$hba"
    } >"$hba.new"
    mv "$hba.new" "$hba"
    if is_root; then chown postgres:postgres "$hba"; fi
}

wait_pg() {
    local i
    for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
        "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres && return 0
        sleep 0.1
    done
    return 1
}

# Starts the cluster on $PG_PORT; returns non-zero (log tail shown) when it does not come up.
try_start_pg() {
    port_busy "$PG_PORT" && {
        note "port $PG_PORT is already taken"
        return 1
    }
    if ! as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t "$WAIT_SECONDS" -o "-p $PG_PORT \
-k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
-c full_page_writes=off -c max_connections=200" start >/dev/null; then
        tail -n 20 "$PGLOG" >&2 || true
        return 1
    fi
    wait_pg || {
        tail -n 20 "$PGLOG" >&2 || true
        return 1
    }
}

stop_pg() {
    if ! pg_running; then
        return 0
    fi
    if ! as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t "$WAIT_SECONDS" stop >/dev/null; then
        note "fast shutdown of PostgreSQL failed; using immediate"
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w -t "$WAIT_SECONDS" stop >/dev/null
    fi
}

# ---------------------------------------------------------------------------------- NATS

nats_pid() {
    local pid
    pid=$(cat "$NATSPID" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    proc_alive "$pid" || return 1
    # Guard against a recycled pid: it must be our server, on our store directory.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$NATSDIR" || return 1
    echo "$pid"
}

nats_running() {
    nats_pid >/dev/null
}

# True when the monitoring endpoint reports the server (and JetStream) healthy.
nats_healthy() {
    local resp
    resp=$(
        exec 2>/dev/null
        exec 3<>"/dev/tcp/127.0.0.1/$NATS_MONITOR_PORT" &&
            printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
            timeout 2 cat <&3
    ) || return 1
    [[ $resp == *'"status":"ok"'* ]] && port_busy "$NATS_PORT" && port_busy "$NATS_WS_PORT"
}

# The part of the configuration that has no command-line flag: the WebSocket listener.
write_nats_conf() {
    cat >"$NATSCONF.tmp" <<EOF
# Written by scripts/servers.sh; the command line sets the rest (and wins over this file).
websocket {
  host: 127.0.0.1
  port: $NATS_WS_PORT
  no_tls: true
}
EOF
    mv -f "$NATSCONF.tmp" "$NATSCONF"
}

try_start_nats() {
    local p i spawned
    for p in "$NATS_PORT" "$NATS_MONITOR_PORT" "$NATS_WS_PORT"; do
        port_busy "$p" && {
            note "port $p is already taken"
            return 1
        }
    done
    command -v "$NATS_SERVER" >/dev/null || die "nats-server not found (set NATS_SERVER)"
    mkdir -p "$NATSDIR"
    rm -f "$NATSPID"
    write_nats_conf
    # Own session, so the server outlives the caller's process group like postgres does.
    setsid "$NATS_SERVER" -c "$NATSCONF" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$NATSDIR" \
        -m "$NATS_MONITOR_PORT" -P "$NATSPID" </dev/null >>"$NATSLOG" 2>&1 &
    spawned=$!
    for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
        if [[ -s $NATSPID ]]; then
            if ! nats_running; then
                break # it wrote its pid and died
            fi
            nats_healthy && return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$NATSLOG" >&2 || true
    kill_nats_now KILL
    kill -KILL "$spawned" 2>/dev/null || true
    return 1
}

# Sends signal $1 to nats-server and waits until it is gone.
kill_nats_now() {
    local pid i
    pid=$(nats_pid) || {
        rm -f "$NATSPID"
        return 0
    }
    kill "-$1" "$pid" 2>/dev/null || true
    for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
        proc_alive "$pid" || break
        ((i == 50)) && kill -KILL "$pid" 2>/dev/null # still there after 5 s
        sleep 0.1
    done
    proc_alive "$pid" && die "nats-server (pid $pid) does not exit"
    rm -f "$NATSPID"
}

# ---------------------------------------------------------------------------------- Docker

# Runs the docker CLI against this DIR's engine, never longer than $1 seconds.
engine() {
    local seconds=$1
    shift
    timeout "$seconds" "$DOCKER" -H "unix://$DOCKER_SOCK" "$@"
}

docker_answers() {
    engine 5 version >/dev/null 2>&1
}

# The exec root recorded by start-docker, if it has the shape start-docker gives it.
docker_exec_root() {
    local exec_root
    exec_root=$(cat "$DOCKER_EXEC_FILE" 2>/dev/null) || return 1
    [[ $exec_root =~ ^/tmp/sgd\.[A-Za-z0-9]+$ ]] || return 1
    echo "$exec_root"
}

docker_pid() {
    local pid
    pid=$(cat "$DOCKER_PIDFILE" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    proc_alive "$pid" || return 1
    # Guard against a recycled pid: it must be a dockerd on our data root.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data-root $DOCKER_ROOT " ||
        return 1
    echo "$pid"
}

docker_running() {
    docker_pid >/dev/null
}

# Prints the pids of the processes that name exec root $1 in their command line: our dockerd
# (--exec-root), its containerd (--config) and the containerd shims (-address). The path goes
# through the environment, so that awk's own command line does not match.
engine_processes() {
    ps -eo pid=,args= | EXEC_ROOT=$1 SELF=$$ awk '
        { line = $0 " "; sub(/^ *[0-9]+ /, "", line) }
        $1 != ENVIRON["SELF"] && (index(line, ENVIRON["EXEC_ROOT"] "/") || index(line, ENVIRON["EXEC_ROOT"] " ")) { print $1 }'
}

# SIGKILLs what an engine that did not stop cleanly left behind (dockerd killed, containerd
# gone): first each container's init, the child of its shim (which ends its PID namespace),
# then the shims, containerd and dockerd. $1: the exec root.
kill_engine_leftovers() {
    local exec_root=$1 pids pid i
    pids=$(engine_processes "$exec_root")
    [[ -n $pids ]] || return 0
    note "killing what the engine left running: $(echo "$pids" | tr '\n' ' ')"
    for pid in $pids; do
        ps -o pid= --ppid "$pid" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        pids=$(engine_processes "$exec_root")
        [[ -z $pids ]] && return 0
        sleep 0.1
    done
    note "still running after SIGKILL: $pids"
}

# Removes what containers of a killed engine leave outside DIR: their (empty) cgroups and their
# shims' sockets in /run/containerd/s (named by the hash of containerd's address, the namespace
# and the container id). $1: the exec root, or empty.
release_containers() {
    local exec_root=$1 c id sum
    for c in "$DOCKER_ROOT"/containers/*/; do
        [[ -d $c ]] || continue
        id=$(basename "$c")
        [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
        rmdir /sys/fs/cgroup/*/docker/"$id" /sys/fs/cgroup/docker/"$id" 2>/dev/null || true
        if [[ -n $exec_root ]]; then
            sum=$(printf '%s' "$exec_root/containerd/containerd.sock/moby/$id" | sha256sum)
            rm -f "/run/containerd/s/${sum%% *}"
        fi
    done
}

# Prints the mount points at or below $1, deepest first.
mounts_under() {
    MOUNT_PREFIX=$1 awk '$2 == ENVIRON["MOUNT_PREFIX"] || index($2, ENVIRON["MOUNT_PREFIX"] "/") == 1 { print $2 }' \
        /proc/mounts | sort -r -u
}

# Lazily unmounts everything mounted at or below $1 (overlays, the data root's own bind mount,
# network namespaces): what a killed dockerd leaves mounted.
unmount_under() {
    local m
    while read -r m; do
        [[ -n $m ]] || continue
        umount -l -- "$m" 2>/dev/null || note "cannot unmount $m"
    done < <(mounts_under "$1")
}

# Microseconds since the epoch.
now_us() {
    echo "${EPOCHREALTIME//[!0-9]/}"
}

# Waits up to $2 seconds until process $1 is gone; false if it is still there.
wait_gone() {
    local deadline=$(($(now_us) + $2 * 1000000))
    while proc_alive "$1"; do
        (($(now_us) < deadline)) || return 1
        sleep 0.1
    done
}

# Stops this DIR's engine if it runs and cleans up after it; safe to repeat.
stop_docker() {
    [[ -d $DOCKERDIR ]] || return 0
    local pid exec_root
    exec_root=$(docker_exec_root) || exec_root=
    if pid=$(docker_pid); then
        if docker_answers; then
            local ids
            ids=$(engine 30 ps -aq --no-trunc) || ids=
            if [[ -n $ids ]]; then
                # shellcheck disable=SC2086
                engine 120 rm -f -v $ids >/dev/null || note "docker rm -f failed; killing instead"
            fi
        fi
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 15; then
            note "dockerd (pid $pid) still runs 15 s after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || note "dockerd (pid $pid) does not exit"
        fi
    fi
    if [[ -n $exec_root ]]; then
        kill_engine_leftovers "$exec_root"
    fi
    release_containers "$exec_root"
    unmount_under "$DOCKER_ROOT"
    if [[ -n $exec_root ]]; then
        unmount_under "$exec_root"
        if [[ -z $(mounts_under "$exec_root") ]]; then
            rm -rf -- "$exec_root"
        else
            note "$exec_root still holds mounts; not removing it"
        fi
    fi
    rm -f -- "$DOCKER_EXEC_FILE" "$DOCKER_PIDFILE" "$DOCKER_SOCK" "$DOCKER_ENVFILE"
}

write_docker_env() {
    cat >"$DOCKER_ENVFILE.tmp" <<EOT
export DOCKER_SOCKET=$DOCKER_SOCK
export DOCKER_HOST=unix://$DOCKER_SOCK
EOT
    chmod 644 "$DOCKER_ENVFILE.tmp"
    mv -f "$DOCKER_ENVFILE.tmp" "$DOCKER_ENVFILE"
}

# One line on why dockerd did not come up, from what it logged since byte $1 of its log.
dockerd_failure() {
    local log line
    log=$(tail -c "+$(($1 + 1))" "$DOCKERLOG" 2>/dev/null) || log=
    line=$(grep -E 'failed to start daemon|level=fatal|^Status: ' <<<"$log" | tail -n 1) ||
        line=$(grep -E 'level=error' <<<"$log" | tail -n 1) ||
        line=$(grep -v '^[[:space:]]*$' <<<"$log" | tail -n 2 | paste -sd ' ') || line=
    if [[ $line =~ msg=\"(([^\"\\]|\\.)*)\" ]]; then
        line=${BASH_REMATCH[1]}
    fi
    echo "${line:-it logged nothing}"
}

# ---------------------------------------------------------------------------------- commands

started_pg=0
started_nats=0
start_done=0

# On a failed start, stop what this run started; DIR stays for its logs.
cleanup_failed_start() {
    ((start_done)) && return 0
    ((started_nats)) && { kill_nats_now KILL || true; }
    ((started_pg)) && { stop_pg || true; }
    note "start failed; logs are in $DIR"
}

# Starts pg on $PG_PORT; a randomly chosen port that got taken meanwhile is replaced.
start_pg_picking() {
    local fixed=$1 attempt
    for ((attempt = 0; attempt < 3; attempt++)); do
        try_start_pg && return 0
        [[ -n $fixed ]] && die "PostgreSQL did not start on port $PG_PORT (log: $PGLOG)"
        # Taken between the pick and the bind (by a listener or a connection's local port).
        port_busy "$PG_PORT" || grep -q "Address already in use" "$PGLOG" 2>/dev/null ||
            die "PostgreSQL did not start (log: $PGLOG)"
        PG_PORT=$(random_port "$NATS_PORT" "$NATS_MONITOR_PORT" "$NATS_WS_PORT")
    done
    die "PostgreSQL did not start (log: $PGLOG)"
}

start_nats_picking() {
    local fixed=$1 attempt
    for ((attempt = 0; attempt < 3; attempt++)); do
        try_start_nats && return 0
        [[ -n $fixed ]] && die "nats-server did not start (log: $NATSLOG)"
        port_busy "$NATS_PORT" || port_busy "$NATS_MONITOR_PORT" || port_busy "$NATS_WS_PORT" ||
            grep -q "address already in use" "$NATSLOG" 2>/dev/null ||
            die "nats-server did not start (log: $NATSLOG)"
        NATS_PORT=$(random_port "$PG_PORT")
        NATS_MONITOR_PORT=$(random_port "$PG_PORT" "$NATS_PORT")
        NATS_WS_PORT=$(random_port "$PG_PORT" "$NATS_PORT" "$NATS_MONITOR_PORT")
    done
    die "nats-server did not start (log: $NATSLOG)"
}

cmd_start() {
    local fixed_pg=${PG_PORT:-} fixed_nats=${NATS_PORT:-}${NATS_MONITOR_PORT:-}${NATS_WS_PORT:-}
    [[ -x $PGBIN/initdb ]] || die "no PostgreSQL binaries in $PGBIN (set PGBIN)"

    if [[ -e $ENVFILE || -e $PGDATA ]]; then
        if pg_running || nats_running; then
            die "servers already run in $DIR; use 'servers.sh stop $DIR' first"
        fi
        [[ -f $ENVFILE && -f $PGDATA/PG_VERSION ]] ||
            die "$DIR holds a half-made setup (no env or no cluster); remove it first"
        # Both stopped: bring the existing setup back on its recorded ports.
        load_env
        trap cleanup_failed_start EXIT
        make_traversable
        try_start_pg || die "PostgreSQL did not start on port $PG_PORT (log: $PGLOG)"
        started_pg=1
        try_start_nats || die "nats-server did not start (log: $NATSLOG)"
        started_nats=1
        start_done=1
        cat "$ENVFILE"
        return 0
    fi

    [[ -n ${PG_PORT:-} ]] && check_port_value PG_PORT "$PG_PORT"
    [[ -n ${NATS_PORT:-} ]] && check_port_value NATS_PORT "$NATS_PORT"
    [[ -n ${NATS_MONITOR_PORT:-} ]] && check_port_value NATS_MONITOR_PORT "$NATS_MONITOR_PORT"
    [[ -n ${NATS_WS_PORT:-} ]] && check_port_value NATS_WS_PORT "$NATS_WS_PORT"
    local p
    for p in ${PG_PORT:-} ${NATS_PORT:-} ${NATS_MONITOR_PORT:-} ${NATS_WS_PORT:-}; do
        port_busy "$p" && die "port $p is already taken"
    done
    PG_PORT=${PG_PORT:-$(random_port "${NATS_PORT:-}" "${NATS_MONITOR_PORT:-}" "${NATS_WS_PORT:-}")}
    NATS_PORT=${NATS_PORT:-$(random_port "$PG_PORT" "${NATS_MONITOR_PORT:-}" "${NATS_WS_PORT:-}")}
    NATS_MONITOR_PORT=${NATS_MONITOR_PORT:-$(random_port "$PG_PORT" "$NATS_PORT" "${NATS_WS_PORT:-}")}
    NATS_WS_PORT=${NATS_WS_PORT:-$(random_port "$PG_PORT" "$NATS_PORT" "$NATS_MONITOR_PORT")}

    mkdir -p "$DIR"
    make_traversable
    trap cleanup_failed_start EXIT
    init_pg

    started_pg=1
    start_pg_picking "$fixed_pg"
    if ! PSQL=$PGBIN/psql "$ROOT/sql/setup.sh" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
        >"$PGDIR/setup.log" 2>&1; then
        cat "$PGDIR/setup.log" >&2
        die "sql/setup.sql failed"
    fi

    started_nats=1
    start_nats_picking "$fixed_nats"

    write_env
    start_done=1
    cat "$ENVFILE"
}

cmd_stop() {
    if [[ ! -d $DIR ]]; then
        note "$DIR does not exist; nothing to stop"
        return 0
    fi
    stop_docker
    kill_nats_now TERM
    stop_pg
    [[ ${KEEP:-0} == 1 ]] && return 0
    # Delete only a directory this script set up, and never through a mount left in it.
    if [[ -n $(mounts_under "$DIR") ]]; then
        note "something is still mounted under $DIR; not deleting it"
    elif [[ -f $ENVFILE || -f $PGDATA/PG_VERSION || -f $PGDIR/initdb.log || -d $DOCKER_ROOT ]]; then
        rm -rf -- "$DIR"
    else
        note "$DIR was not made by 'servers.sh start'; not deleting it"
    fi
}

cmd_stop_pg() {
    load_env
    pg_running || {
        note "PostgreSQL is not running"
        return 0
    }
    stop_pg
}

cmd_start_pg() {
    load_env
    pg_running && die "PostgreSQL already runs in $DIR (port $PG_PORT)"
    make_traversable
    try_start_pg || die "PostgreSQL did not start on port $PG_PORT (log: $PGLOG)"
}

cmd_restart_pg() {
    load_env
    stop_pg
    try_start_pg || die "PostgreSQL did not start on port $PG_PORT (log: $PGLOG)"
}

cmd_kill_nats() {
    load_env
    nats_running || {
        note "nats-server is not running"
        rm -f "$NATSPID"
        return 0
    }
    kill_nats_now KILL
}

cmd_start_nats() {
    load_env
    nats_running && die "nats-server already runs in $DIR (port $NATS_PORT)"
    try_start_nats || die "nats-server did not start on port $NATS_PORT (log: $NATSLOG)"
}

cmd_status() {
    load_env
    local up=0 pid
    if pg_running; then
        echo "postgres: running (port $PG_PORT, pid $(pg_pid), data $PGDATA)"
        up=$((up + 1))
    else
        echo "postgres: stopped (port $PG_PORT)"
    fi
    if pid=$(nats_pid); then
        echo "nats:     running (port $NATS_PORT, monitor $NATS_MONITOR_PORT, websocket $NATS_WS_PORT, pid $pid)"
        up=$((up + 1))
    else
        echo "nats:     stopped (port $NATS_PORT, monitor $NATS_MONITOR_PORT, websocket $NATS_WS_PORT)"
    fi
    if [[ -d $DOCKERDIR ]]; then
        if pid=$(docker_pid); then
            echo "docker:   running (socket $DOCKER_SOCK, pid $pid)"
        else
            echo "docker:   stopped"
        fi
    fi
    ((up == 2)) || exit 3
}

docker_start_done=0

# On a failed start-docker, stop what it started; the log stays.
cleanup_failed_docker_start() {
    ((docker_start_done)) && return 0
    stop_docker || true
}

cmd_start_docker() {
    command -v "$DOCKERD" >/dev/null || unavailable "$DOCKERD not found (install docker.io, or set DOCKERD)"
    command -v "$DOCKER" >/dev/null || unavailable "$DOCKER not found (install docker.io, or set DOCKER)"
    local tool
    for tool in containerd runc; do
        command -v "$tool" >/dev/null || unavailable "$tool not found (install docker.io)"
    done
    is_root || unavailable "dockerd needs root"
    ((${#DOCKER_SOCK} <= 107)) || die "DIR '$DIR' is too long for a unix socket path"
    docker_running && die "a docker engine already runs in $DIR; use 'servers.sh stop-docker $DIR' first"

    mkdir -p "$DOCKER_ROOT"
    trap cleanup_failed_docker_start EXIT
    stop_docker # what a killed engine of an earlier run left behind
    echo '{}' >"$DOCKER_CONFIG_FILE"
    local exec_root i log_start
    exec_root=$(mktemp -d /tmp/sgd.XXXXXX)
    log_start=$(stat -c %s "$DOCKERLOG" 2>/dev/null || echo 0)
    echo "$exec_root" >"$DOCKER_EXEC_FILE"

    # Own session, so the engine outlives the caller's process group like postgres does.
    setsid "$DOCKERD" --config-file "$DOCKER_CONFIG_FILE" --data-root "$DOCKER_ROOT" \
        --exec-root "$exec_root" --pidfile "$DOCKER_PIDFILE" -H "unix://$DOCKER_SOCK" \
        --iptables=false --ip6tables=false --bridge=none \
        --default-ulimit nofile=4096:4096 --default-ulimit nproc=4096:4096 \
        </dev/null >>"$DOCKERLOG" 2>&1 &
    local spawned=$!
    for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
        if docker_answers; then
            write_docker_env
            docker_start_done=1
            cat "$DOCKER_ENVFILE"
            return 0
        fi
        if ! proc_alive "$spawned" && ! docker_running; then
            unavailable "dockerd exited: $(dockerd_failure "$log_start") (log: $DOCKERLOG)"
        fi
        sleep 0.1
    done
    unavailable "dockerd did not answer within ${WAIT_SECONDS}s: $(dockerd_failure "$log_start") (log: $DOCKERLOG)"
}

cmd_stop_docker() {
    if [[ ! -d $DOCKERDIR ]]; then
        note "no docker engine was started in $DIR; nothing to stop"
        return 0
    fi
    stop_docker
}

main() {
    local cmd=${1:-help}
    shift || true
    case $cmd in
    help | -h | --help)
        usage
        return 0
        ;;
    start | stop | stop-pg | start-pg | restart-pg | kill-nats | start-nats | status) ;;
    start-docker | stop-docker) ;;
    *)
        usage >&2
        die "unknown command '$cmd'"
        ;;
    esac
    (($# == 1)) || die "usage: servers.sh $cmd DIR"
    set_paths "$1"
    case $cmd in
    start) cmd_start ;;
    stop) cmd_stop ;;
    stop-pg) cmd_stop_pg ;;
    start-pg) cmd_start_pg ;;
    restart-pg) cmd_restart_pg ;;
    kill-nats) cmd_kill_nats ;;
    start-nats) cmd_start_nats ;;
    status) cmd_status ;;
    start-docker) cmd_start_docker ;;
    stop-docker) cmd_stop_docker ;;
    esac
}

main "$@"
