#!/usr/bin/env bash
# Builds Flux's source-controller and kustomize-controller from their Go modules (the machines
# reach the Go module proxy, nothing else) for the GitOps end-to-end test, cached like helm.
#
# Usage:   FLUX_BIN=$(bash scripts/flux/build.sh)
# stdout:  only the folder holding source-controller, kustomize-controller and crds/ (last line);
#          progress goes to stderr.
# Cache:   ${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}/flux/<version>/; a warm cache is a no-op.
# Env:     ZONEFERRY_FLUX_VERSION (default v1.9.6, the newest that builds with Go 1.26).
#
# `go install <controller>@<version>` is refused: each controller's go.mod replaces its own api
# module with ./api, a folder its module zip does not carry. So each one is built from a copy of
# its module in which that replace names the api module's published version instead. The
# source-controller's go.mod asks for github.com/fluxcd/pkg/artifact v0.18.3, which the proxy
# does not serve; v0.18.0 builds.
set -euo pipefail

FLUX_VERSION="${ZONEFERRY_FLUX_VERSION:-v1.9.6}"
log() { printf '[flux] %s\n' "$*" >&2; }

DIR="${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}/flux/$FLUX_VERSION"
done_already() { [[ -x "$DIR/source-controller" && -x "$DIR/kustomize-controller" && -f "$DIR/crds/.complete" ]]; }
if done_already; then
  printf '%s\n' "$DIR"
  exit 0
fi

mkdir -p "$DIR"
# One build at a time; a second caller waits and then finds the binaries.
exec 9>"$DIR.lock"
flock 9
if ! done_already; then
  STAGE=$(mktemp -d "$DIR.build.XXXXXX")
  trap 'chmod -R u+w "$STAGE" 2>/dev/null; rm -rf "$STAGE"' EXIT
  mkdir -p "$STAGE/crds"
  for controller in source-controller kustomize-controller; do
    module="github.com/fluxcd/$controller"
    log "downloading $module@$FLUX_VERSION"
    src=$(go mod download -json "$module@$FLUX_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    # The CRDs the controller serves, installed by the tests (sandbox/flux.ts).
    cp "$src"/config/crd/bases/*.yaml "$STAGE/crds/"
    [[ -x "$DIR/$controller" ]] && continue
    cp -r "$src" "$STAGE/$controller"
    chmod -R u+w "$STAGE/$controller"
    (
      cd "$STAGE/$controller"
      go mod edit -replace "$module/api=$module/api@$FLUX_VERSION"
      if [[ "$controller" == source-controller ]]; then
        go mod edit -replace github.com/fluxcd/pkg/artifact@v0.18.3=github.com/fluxcd/pkg/artifact@v0.18.0
      fi
      log "building $controller $FLUX_VERSION (several minutes on 2 cores and a cold Go cache)"
      GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go build -trimpath -o "$STAGE/bin/$controller" . >&2
    )
    mv "$STAGE/bin/$controller" "$DIR/$controller"
  done
  mkdir -p "$DIR/crds"
  cp "$STAGE"/crds/*.yaml "$DIR/crds/"
  touch "$DIR/crds/.complete"
fi
printf '%s\n' "$DIR"
