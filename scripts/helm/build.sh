#!/usr/bin/env bash
# Builds helm from its Go module (the machines reach the Go module proxy, nothing else) for the
# chart checks, cached like the control plane.
#
# Usage:   HELM=$(bash scripts/helm/build.sh)
# stdout:  only the helm binary's path (last line); progress goes to stderr.
# Cache:   ${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}/helm/<version>/helm; a warm cache is a no-op.
# Env:     ZONEFERRY_HELM_VERSION (default v4.3.1); ZONEFERRY_HELM=<path> of a helm to use instead.
set -euo pipefail

HELM_VERSION="${ZONEFERRY_HELM_VERSION:-v4.3.1}"
log() { printf '[helm] %s\n' "$*" >&2; }

if [[ -n "${ZONEFERRY_HELM:-}" && -x "${ZONEFERRY_HELM}" ]]; then
  printf "%s\n" "$ZONEFERRY_HELM"
  exit 0
fi
[[ "$HELM_VERSION" =~ ^v([34])\. ]] || { log "ZONEFERRY_HELM_VERSION must look like v4.3.1, got $HELM_VERSION"; exit 1; }
MAJOR="${BASH_REMATCH[1]}"
DIR="${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}/helm/$HELM_VERSION"
if [[ -x "$DIR/helm" ]]; then
  printf '%s\n' "$DIR/helm"
  exit 0
fi

mkdir -p "$DIR"
# One build at a time; a second caller waits and then finds the binary.
exec 9>"$DIR.lock"
flock 9
if [[ ! -x "$DIR/helm" ]]; then
  STAGE=$(mktemp -d "$DIR.build.XXXXXX")
  trap 'rm -rf "$STAGE"' EXIT
  log "building helm $HELM_VERSION from the Go module proxy (a few minutes on a cold Go cache)"
  GOBIN="$STAGE" GOFLAGS=-mod=mod CGO_ENABLED=0 go install "helm.sh/helm/v$MAJOR/cmd/helm@$HELM_VERSION" >&2
  mv "$STAGE/helm" "$DIR/helm"
fi
printf '%s\n' "$DIR/helm"
