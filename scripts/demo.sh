#!/usr/bin/env bash
# The sandbox demo, from a clean clone on a fresh machine: sets up Node 24, the npm dependencies,
# Redis and the control-plane binaries (built once, cached), then runs `npm run demo`.
# It shows a move, a move ECS refuses rolled back with the data intact, and each one's downtime, with
# `kubectl zoneferry` (plugin/, put on PATH for the demo: nothing to install).
# Pass --keep to leave the sandbox running afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh
bash scripts/control-plane/build.sh >/dev/null
exec node sandbox/demo.ts "$@"
