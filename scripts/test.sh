#!/usr/bin/env bash
# The whole test suite, from a clean clone on a fresh machine: sets up Node 24, the npm
# dependencies, Redis, the Kubernetes control-plane binaries, helm, Flux and the snapshot-controller
# (built once, cached), then type-checks, lints and runs every test. Extra arguments go to
# `node --test` (e.g. a file).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/setup.sh
. scripts/setup.sh
ZONEFERRY_K8S_BIN="$(bash scripts/control-plane/build.sh)"
export ZONEFERRY_K8S_BIN
# helm for the chart checks, built from its Go module like the control plane, cached.
ZONEFERRY_HELM="$(bash scripts/helm/build.sh)"
export ZONEFERRY_HELM
# Flux's source-controller and kustomize-controller for test/e2e/flux-sync.e2e.test.ts, built from
# their Go modules, cached (about 10 minutes on a cold Go cache and 2 cores).
ZONEFERRY_FLUX="$(bash scripts/flux/build.sh)"
export ZONEFERRY_FLUX
# The CSI external-snapshotter's snapshot-controller for test/e2e/snapshot-restore.e2e.test.ts, built
# from its Go module, cached (about 6 minutes on a cold Go cache and 2 cores).
ZONEFERRY_SNAPSHOTTER="$(bash scripts/snapshot-controller/build.sh)"
export ZONEFERRY_SNAPSHOTTER

echo "[test] type check" >&2
npx --no-install tsc -p tsconfig.json --noEmit
echo "[test] lint" >&2
npx --no-install eslint --max-warnings 0 .

# A run that cannot hang: every test and hook fails after ZF_TEST_TIMEOUT ms (a file that needs
# longer says so in its own options), a file's process exits once its tests are done even if a
# server it started is still alive (its after hooks have run), and the whole run is bounded well
# inside CI's 90 minutes (a fresh machine spends about 15 of them building the control plane and
# helm first), so a hang costs minutes and still prints the summary of what ran.
TEST_FLAGS=(--test-reporter=spec "--test-timeout=${ZF_TEST_TIMEOUT:-300000}" --test-force-exit)
# Every file's stdout (its results, piped to the runner) blocking: a force-exited file lost the
# writes still queued, and the runner silently counted fewer tests than ran.
PRELOAD=(--import ./test/support/blocking-stdout.ts)
BOUND="${ZF_TEST_RUN_BOUND:-60m}"

if [ $# -gt 0 ]; then
  exec timeout --signal=TERM --kill-after=30s "$BOUND" node "${PRELOAD[@]}" --test "${TEST_FLAGS[@]}" --test-concurrency=1 "$@"
fi
# One run, one summary. Two files at a time: each file's servers (Redis, kube-apiserver) use
# their own claimed ports (sandbox/processes.ts) and folders, and two cores carry two control planes.
exec timeout --signal=TERM --kill-after=30s "$BOUND" node "${PRELOAD[@]}" --test "${TEST_FLAGS[@]}" --test-concurrency=2 "test/**/*.test.ts"
