#!/usr/bin/env bash
# Runs the dashboard's browser test: installs the npm packages where they are missing (npm ci,
# from the lockfiles), builds the page, then runs the test with node.
# ctest calls it with SLICEGATE_BINARY, SLICECTL_BINARY and SOURCE_DIR; exit 0 on success, 1
# on failure.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export SOURCE_DIR=${SOURCE_DIR:-$(cd "$here/../.." && pwd)}
dashboard=$SOURCE_DIR/dashboard

fail() {
    echo "tests/browser/run.sh: $*" >&2
    exit 1
}

command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh)"
command -v npm >/dev/null || fail "npm is not installed (scripts/install-deps.sh)"

if [[ ! -d $dashboard/node_modules ]]; then
    (cd "$dashboard" && npm ci --no-audit --no-fund) || fail "npm ci in dashboard/ failed"
fi
if [[ ! -d $here/node_modules ]]; then
    (cd "$here" && npm ci --no-audit --no-fund) || fail "npm ci in tests/browser/ failed"
fi
# Always built: it takes a second, and a dist/ left from older sources would test those.
(cd "$dashboard" && npm run build) || fail "building the dashboard failed"

node "$here/dashboard.test.mjs" && exit 0
exit 1
