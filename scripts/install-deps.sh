#!/usr/bin/env bash
# Installs what slicegate needs to build, test and run on Debian 12 (as root, or with sudo),
# including docker.io (dockerd, containerd, runc, the docker CLI): the docker runtime's tests
# run a real throwaway engine.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libcaf-dev libpqxx-dev libnats-dev nlohmann-json3-dev libcrypt-dev libboost-test-dev
  libspdlog-dev libcurl4-openssl-dev libcli11-dev libssl-dev libncurses-dev libcpp-httplib-dev
  postgresql-15 postgresql-client-15 nats-server
  docker.io
  procps iproute2 curl
  tmux  # the console test drives `slicectl top` in a real terminal
  chromium  # the dashboard's browser test (tests/browser) drives it headless
  prometheus  # promtool: the /metrics test checks the exposition with Prometheus' own parser
)
# The dashboard is built and tested with node and npm; a node already on the machine (from
# another source, often newer) is kept.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian postgresql package starts a cluster on 5432; slicegate's scripts run their own.
# Likewise docker.io: where systemd runs it starts an engine on /run/docker.sock; the tests and
# `RUNTIME=docker run-local.sh` start a throwaway one (scripts/servers.sh start-docker).
echo "install-deps: installed ${missing[*]}"
