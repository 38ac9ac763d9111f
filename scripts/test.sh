#!/usr/bin/env bash
# The whole test suite, from a clean clone on a fresh machine: sets up Node 24, the npm
# dependencies, Redis, the Kubernetes control-plane binaries and helm (built once, cached), then
# type-checks, lints and runs every test. Extra arguments go to `node --test` (e.g. a file).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/setup.sh
. scripts/setup.sh
ZONEFERRY_K8S_BIN="$(bash scripts/control-plane/build.sh)"
export ZONEFERRY_K8S_BIN
# helm for the chart checks, built from its Go module like the control plane, cached.
ZONEFERRY_HELM="$(bash scripts/helm/build.sh)"
export ZONEFERRY_HELM

echo "[test] type check" >&2
npx --no-install tsc -p tsconfig.json --noEmit
echo "[test] lint" >&2
npx --no-install eslint --max-warnings 0 .

if [ $# -gt 0 ]; then
  exec node --test --test-reporter=spec --test-concurrency=1 "$@"
fi
# One run, one summary. Two files at a time: each file's servers (Redis, kube-apiserver) use
# their own free ports and folders, and two cores carry two control planes.
exec node --test --test-reporter=spec --test-concurrency=2 "test/**/*.test.ts"
