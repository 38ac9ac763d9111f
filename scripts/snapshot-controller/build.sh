#!/usr/bin/env bash
# Builds the CSI external-snapshotter's snapshot-controller from its Go module (the machines reach
# the Go module proxy, nothing else) with the snapshot CRDs it serves, cached like Flux and helm.
# The sandbox runs it so that VolumeSnapshots bind to VolumeSnapshotContents as on ACK.
#
# Usage:   SNAPSHOT_BIN=$(bash scripts/snapshot-controller/build.sh)
# stdout:  only the folder holding snapshot-controller and crds/ (last line); progress on stderr.
# Cache:   ${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}/snapshot-controller/<version>/; a warm cache is a no-op.
# Env:     ZONEFERRY_SNAPSHOTTER_VERSION (default v8.7.0).
#
# `go install .../cmd/snapshot-controller@<version>` is refused: the module's go.mod replaces its
# client module with ./client. So it is built from a copy of the module in which that replace
# names the client module's published version instead (its other replaces are versions already).
set -euo pipefail

VERSION="${ZONEFERRY_SNAPSHOTTER_VERSION:-v8.7.0}"
MODULE="github.com/kubernetes-csi/external-snapshotter/v8"
CLIENT="github.com/kubernetes-csi/external-snapshotter/client/v8"
log() { printf '[snapshot-controller] %s\n' "$*" >&2; }

DIR="${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}/snapshot-controller/$VERSION"
done_already() { [[ -x "$DIR/snapshot-controller" && -f "$DIR/crds/.complete" ]]; }
if done_already; then
  printf '%s\n' "$DIR"
  exit 0
fi

mkdir -p "$DIR"
# One build at a time; a second caller waits and then finds the binary.
exec 9>"$DIR.lock"
flock 9
if ! done_already; then
  STAGE=$(mktemp -d "$DIR.build.XXXXXX")
  trap 'chmod -R u+w "$STAGE" 2>/dev/null; rm -rf "$STAGE"' EXIT
  log "downloading $MODULE@$VERSION"
  src=$(go mod download -json "$MODULE@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  client=$(go mod download -json "$CLIENT@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  # The CRDs ship in the client module (config/crd), which the main module's zip does not carry.
  crds="$client/config/crd"
  mkdir -p "$STAGE/crds"
  cp "$crds"/snapshot.storage.k8s.io_*.yaml "$STAGE/crds/"
  cp -r "$src" "$STAGE/src"
  chmod -R u+w "$STAGE/src"
  (
    cd "$STAGE/src"
    go mod edit -replace "$CLIENT=$CLIENT@$VERSION"
    log "building snapshot-controller $VERSION (about 5 minutes on 2 cores and a cold Go cache)"
    GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go build -trimpath -o "$STAGE/bin/snapshot-controller" ./cmd/snapshot-controller >&2
  )
  mkdir -p "$DIR/crds"
  cp "$STAGE"/crds/*.yaml "$DIR/crds/"
  mv "$STAGE/bin/snapshot-controller" "$DIR/snapshot-controller"
  touch "$DIR/crds/.complete"
fi
printf '%s\n' "$DIR"
