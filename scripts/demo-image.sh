#!/usr/bin/env bash
# Builds a Docker image holding tools/demo_slice.cpp's demo-slice, for the docker runtime and its
# tests, without a registry or a base image: a tar of the binary at /demo-slice and every shared
# library `ldd` lists (at its absolute path, the dynamic loader included), loaded with
# `docker import`. The image's entrypoint is /demo-slice; it listens on $PORT on 127.0.0.1, so
# containers run with `--network host`.
#
#   scripts/demo-image.sh [BUILD_DIR [TAG [ENTRYPOINT_ARGS...]]]
#
#   BUILD_DIR        the build directory holding demo-slice (default: build/ at the repository
#                    root); build it first: cmake --build BUILD_DIR --target demo-slice
#   TAG              the image's tag (default, also for an empty TAG: slicegate/demo-slice:1)
#   ENTRYPOINT_ARGS  arguments after /demo-slice in the entrypoint (e.g. --port 5001)
#
# Prints the image id (sha256:...) on stdout. When TAG already names an image made from the
# same binary, libraries and arguments (label org.slicegate.demo-slice.sum, a SHA-256 over
# them), nothing is built again.
#
# Environment:
#   DOCKER_HOST   the engine (e.g. unix:///.../docker.sock from `servers.sh start-docker`'s
#                 DIR/docker.env); the docker CLI's default when unset
#   DOCKER        docker CLI binary (default: docker on PATH)
#
# Exit status: 0 with the image id, 1 on an error, 3 when no docker CLI or engine answers.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCKER=${DOCKER:-docker}
DEFAULT_TAG=slicegate/demo-slice:1
SUM_LABEL=org.slicegate.demo-slice.sum

die() {
    echo "demo-image.sh: error: $*" >&2
    exit 1
}

note() {
    echo "demo-image.sh: $*" >&2
}

unavailable() {
    echo "demo-image.sh: docker unavailable: $*" >&2
    exit 3
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

# Prints $1 as a JSON string.
json_string() {
    local s=$1
    [[ $s =~ [[:cntrl:]] ]] && die "entrypoint argument '$s' holds a control character"
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}

# Prints the files the binary $1 loads: its libraries and the dynamic loader, absolute paths.
shared_libraries() {
    local out
    if ! out=$(ldd "$1" 2>&1); then
        [[ $out == *"not a dynamic executable"* ]] && return 0
        die "ldd $1 failed: $out"
    fi
    if [[ $out == *"not found"* ]]; then
        die "$1 misses libraries: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
    fi
    # "libx.so.1 => /lib/.../libx.so.1 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)";
    # linux-vdso.so.1 has no file.
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out" | sort -u
}

main() {
    case ${1:-} in
    -h | --help | help)
        usage
        return 0
        ;;
    esac
    local build=${1:-$ROOT/build} tag=${2:-}
    shift $(($# < 2 ? $# : 2))
    tag=${tag:-$DEFAULT_TAG}
    local binary=$build/demo-slice
    [[ -x $binary ]] ||
        die "$binary not found; build it first: cmake --build $build --target demo-slice"
    command -v "$DOCKER" >/dev/null || unavailable "$DOCKER not found (install docker.io, or set DOCKER)"
    local err
    err=$(timeout 10 "$DOCKER" version 2>&1 >/dev/null) ||
        unavailable "no engine answers at ${DOCKER_HOST:-the default socket}: $(tail -n 1 <<<"$err")"

    local entrypoint='["/demo-slice"' arg
    for arg in "$@"; do
        entrypoint+=", $(json_string "$arg")"
    done
    entrypoint+="]"

    local libs lib sum
    libs=$(shared_libraries "$binary")
    # What the image is made of: the binary, each library by path and content, the entrypoint.
    sum=$(
        {
            sha256sum "$binary" | cut -d' ' -f1
            for lib in $libs; do
                echo "$lib $(sha256sum "$lib" | cut -d' ' -f1)"
            done
            echo "$entrypoint"
        } | sha256sum | cut -d' ' -f1
    )

    local existing
    existing=$(timeout 30 "$DOCKER" image inspect -f "{{index .Config.Labels \"$SUM_LABEL\"}}" \
        "$tag" 2>/dev/null) || existing=
    if [[ $existing == "$sum" ]]; then
        note "$tag is up to date"
        timeout 30 "$DOCKER" image inspect -f '{{.Id}}' "$tag"
        return 0
    fi

    local stage
    stage=$(mktemp -d "${TMPDIR:-/tmp}/demo-image.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf -- '$stage'" EXIT
    cp -- "$binary" "$stage/demo-slice"
    strip --strip-debug "$stage/demo-slice" 2>/dev/null || true
    for lib in $libs; do
        mkdir -p "$stage$(dirname "$lib")"
        cp -L -- "$lib" "$stage$lib" # the file, not the symlink (libc.so.6 -> libc-2.36.so)
    done
    local id
    id=$(tar -C "$stage" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . |
        timeout 120 "$DOCKER" import -c "ENTRYPOINT $entrypoint" -c "LABEL $SUM_LABEL=$sum" \
            -m "demo-slice from $binary" - "$tag") || die "docker import of $tag failed"
    note "built $tag ($(du -sh "$stage" | cut -f1) of files)"
    echo "$id"
}

main "$@"
