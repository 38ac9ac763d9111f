#!/usr/bin/env bash
# Builds the local Kubernetes control plane used by the e2e tests (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok) from the Go module proxy alone,
# because the project's machines have no Docker and can download nothing else.
#
# Usage:   BIN=$(bash scripts/control-plane/build.sh)
# stdout:  only the bin directory (last line); all progress goes to stderr.
# Cache:   ${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}/k8s/<k8s>-etcd<ver>-kwok<ver>/bin
#          A warm cache makes this a no-op; a cold one took ~10 min on 2 cores (~5 GB
#          of Go module and build cache), and ~30 s with warm Go caches.
#          Beside bin/ sits kwok-stages.yaml (pass it to `kwok --config`): kwok >= 0.8 has no
#          built-in stages and exits with "no stages found" without one.
# Env:     KUBEBUILDER_ASSETS=<dir> holding all six binaries skips the build entirely.
set -euo pipefail

# --- Versions (override with env) ----------------------------------------------------------
# Newest Kubernetes patch that `go list -m -versions k8s.io/kubernetes` lists on the proxy and
# whose go.mod asks for a Go we have (1.36.x wants go 1.26.0; the machines ship 1.26.8).
# (Some unlisted newer patches resolve but fail checksum-database verification.)
K8S_VERSION="${ZONEFERRY_K8S_VERSION:-v1.36.3}"
# The etcd that Kubernetes 1.36 pins and tests against (build/dependencies.yaml, kubeadm).
# Anything >= 3.5.13 keeps the apiserver's RequestWatchProgress/watch-list support on;
# Debian's 3.4.23 does not.
ETCD_VERSION="${ZONEFERRY_ETCD_VERSION:-v3.6.8}"
# kwok v0.8.x is built against k8s.io/* v0.36, the same minor as the control plane.
KWOK_VERSION="${ZONEFERRY_KWOK_VERSION:-v0.8.0}"

BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

log() { printf '[control-plane] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

has_all_binaries() {
  local dir=$1 b
  for b in "${BINARIES[@]}"; do
    [[ -x "$dir/$b" ]] || return 1
  done
}

# --- Prebuilt binaries supplied by the caller ----------------------------------------------
if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  if has_all_binaries "$KUBEBUILDER_ASSETS"; then
    log "using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
    printf '%s\n' "$KUBEBUILDER_ASSETS"
    exit 0
  fi
  # envtest's asset folders usually lack kube-controller-manager/scheduler/kwok, so fall
  # back to building rather than handing the caller an incomplete folder.
  log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks some of: ${BINARIES[*]}; building instead"
fi

[[ "$K8S_VERSION" =~ ^v1\.([0-9]+)\.([0-9]+)(-.+)?$ ]] || die "ZONEFERRY_K8S_VERSION must look like v1.36.3, got $K8S_VERSION"
K8S_MINOR="${BASH_REMATCH[1]}"
# Staging modules (k8s.io/api, client-go, ...) are tagged v0.<minor>.<patch> for v1.<minor>.<patch>.
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
[[ "$ETCD_VERSION" =~ ^v3\. ]] || die "ZONEFERRY_ETCD_VERSION must look like v3.6.8, got $ETCD_VERSION"
[[ "$KWOK_VERSION" =~ ^v0\. ]] || die "ZONEFERRY_KWOK_VERSION must look like v0.8.0, got $KWOK_VERSION"

CACHE_ROOT="${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}/k8s"
KEY="${K8S_VERSION#v}-etcd${ETCD_VERSION#v}-kwok${KWOK_VERSION#v}"
FINAL="$CACHE_ROOT/$KEY"

cache_complete() { has_all_binaries "$FINAL/bin" && [[ -s "$FINAL/kwok-stages.yaml" ]]; }

# --- Warm cache: nothing to do ---------------------------------------------------------------
if cache_complete; then
  printf '%s\n' "$FINAL/bin"
  exit 0
fi

command -v go >/dev/null || die "go is not on PATH (Go >= 1.26 is needed)"
mkdir -p "$CACHE_ROOT"

# Two parallel callers (e.g. two test runners on a fresh machine) would each spend ~10 min of
# both cores on the same build; let the second wait for the first and reuse its result.
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  log "another build holds $CACHE_ROOT/.lock; waiting for it"
  flock 9
fi
if cache_complete; then
  printf '%s\n' "$FINAL/bin"
  exit 0
fi

# Holding the lock means no other build is running, so any .build-* dir is what a killed
# build left behind.
rm -rf "$CACHE_ROOT"/.build-*
# A half-filled final dir can only come from someone copying by hand; never trust it.
rm -rf "$FINAL"

# Build next to the final dir so the closing `mv` is a same-filesystem rename (atomic).
WORK="$CACHE_ROOT/.build-$KEY.$$"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin" "$WORK/src/k8s" "$WORK/src/etcd"

# A go.work above the cache dir (or GOWORK in the env) would swallow our wrapper modules;
# GOTOOLCHAIN=local fails fast instead of fetching another Go toolchain if a go line asks for one.
export GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0

log "go: $(go env GOVERSION), k8s $K8S_VERSION (staging $STAGING_VERSION), etcd $ETCD_VERSION, kwok $KWOK_VERSION"
log "work dir: $WORK"
START=$SECONDS

# Prints the local path of the go.mod (field GoMod) or .info (field Info) of MODULE@VERSION,
# downloading the module from the proxy if needed.
mod_file() {
  local modver=$1 field=$2 json
  json=$(cd "$WORK" && go mod download -json "$modver") || die "go mod download $modver failed: $json"
  sed -n "s/^[[:space:]]*\"$field\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" <<<"$json"
}

go_line() { awk '$1 == "go" { print $2; exit }' "$1"; }

# --- Kubernetes ------------------------------------------------------------------------------
# k8s.io/kubernetes requires every staging module at v0.0.0 and maps them with local
# `replace`s, which Go ignores in a dependency; so `go install k8s.io/kubernetes/cmd/...@v`
# cannot work. A wrapper module replaces each of them with its published v0.<minor>.<patch>.
log "fetching k8s.io/kubernetes@$K8S_VERSION go.mod"
UPSTREAM_GOMOD=$(mod_file "k8s.io/kubernetes@$K8S_VERSION" GoMod)
[[ -f "$UPSTREAM_GOMOD" ]] || die "could not fetch k8s.io/kubernetes@$K8S_VERSION from the module proxy"
# Release date of the tag, so buildDate is reproducible rather than "now".
K8S_DATE=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$(mod_file "k8s.io/kubernetes@$K8S_VERSION" Info)")
K8S_DATE="${K8S_DATE:-1970-01-01T00:00:00Z}"

# Read the staging set from the upstream go.mod: it changes between minors (externaljwt in
# 1.32, streaming/cri-streaming in 1.36), so a hard-coded list would rot.
mapfile -t STAGING < <(awk '
  /^require[[:space:]]*\(/ { block = 1; next }
  block && /^\)/          { block = 0; next }
  block && $2 == "v0.0.0" { print $1 }
  /^require[[:space:]]+[^(]/ && $3 == "v0.0.0" { print $2 }
' "$UPSTREAM_GOMOD" | grep '^k8s\.io/' | sort -u)
((${#STAGING[@]} > 0)) || die "found no v0.0.0 staging requirements in $UPSTREAM_GOMOD"
log "replacing ${#STAGING[@]} staging modules with $STAGING_VERSION"

K8S_SRC="$WORK/src/k8s"
# Same go line as upstream, so the wrapper (the main module) gets upstream's GODEBUG defaults.
printf 'module zoneferry.local/k8sbin\n\ngo %s\n' "$(go_line "$UPSTREAM_GOMOD")" >"$K8S_SRC/go.mod"
edits=("-require=k8s.io/kubernetes@$K8S_VERSION")
for m in "${STAGING[@]}"; do
  edits+=("-replace=$m=$m@$STAGING_VERSION")
done
(cd "$K8S_SRC" && go mod edit "${edits[@]}")

# Mirrors hack/lib/version.sh: without these, every --version prints v0.0.0-master, and
# kwokctl-style callers that parse `--version` pick flags for a pre-1.13 server.
LDFLAGS="-s -w"
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  LDFLAGS+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR"
  LDFLAGS+=" -X $p.gitTreeState=clean -X $p.buildDate=$K8S_DATE"
done

for cmd in "${K8S_COMMANDS[@]}"; do
  log "building $cmd ..."
  t=$SECONDS
  # -mod=mod lets go fill in go.mod/go.sum for exactly what this platform's build needs,
  # which downloads far less than `go mod tidy` (it would fetch every OS's dependencies).
  # Tags as upstream's release build (hack/lib/golang.sh); grpcnotrace also shrinks the binary.
  (cd "$K8S_SRC" && go build -mod=mod -trimpath -buildvcs=false -tags selinux,notest,grpcnotrace \
    -ldflags "$LDFLAGS" -o "$WORK/bin/$cmd" "k8s.io/kubernetes/cmd/$cmd") >&2
  log "built $cmd in $((SECONDS - t))s"
done

# --- etcd ------------------------------------------------------------------------------------
# go.etcd.io/etcd/server/v3 has local `replace`s too, so `go install` is refused; a three-line
# main calling etcdmain.Main is exactly what etcd's own main package does.
log "building etcd ..."
t=$SECONDS
ETCD_SRC="$WORK/src/etcd"
ETCD_GOMOD=$(mod_file "go.etcd.io/etcd/server/v3@$ETCD_VERSION" GoMod)
[[ -f "$ETCD_GOMOD" ]] || die "could not fetch go.etcd.io/etcd/server/v3@$ETCD_VERSION from the module proxy"
printf 'module zoneferry.local/etcdbin\n\ngo %s\n' "$(go_line "$ETCD_GOMOD")" >"$ETCD_SRC/go.mod"
cat >"$ETCD_SRC/main.go" <<'EOF'
// Generated by scripts/control-plane/build.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
(cd "$ETCD_SRC" && go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION")
(cd "$ETCD_SRC" && go build -mod=mod -trimpath -buildvcs=false \
  -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=go-module-$ETCD_VERSION" \
  -o "$WORK/bin/etcd" .) >&2
log "built etcd in $((SECONDS - t))s"

# --- kwok ------------------------------------------------------------------------------------
# kwok's go.mod has no replace directives, so a plain `go install pkg@version` works.
log "building kwok ..."
t=$SECONDS
(cd "$WORK" && GOBIN="$WORK/bin" go install -trimpath -buildvcs=false \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
  "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION") >&2
log "built kwok in $((SECONDS - t))s"

# The stage set of kwok's own "fast" preset (kustomize/stage/fast): nodes turn Ready and keep
# a Lease heartbeat, pods turn Running/Ready, Job pods complete, deleted pods go away.
# Taken from the same module version so the Stage schema always matches the binary.
KWOK_DIR=$(mod_file "sigs.k8s.io/kwok@$KWOK_VERSION" Dir)
stage_files=()
for d in node/fast node/heartbeat-with-lease pod/fast; do
  for f in "$KWOK_DIR/kustomize/stage/$d"/*.yaml; do
    [[ "$(basename "$f")" == kustomization.yaml ]] || stage_files+=("$f")
  done
done
((${#stage_files[@]} > 0)) || die "no kwok stage files under $KWOK_DIR/kustomize/stage"
for f in "${stage_files[@]}"; do
  printf -- '---\n'
  cat "$f"
done >"$WORK/kwok-stages.yaml"
log "wrote kwok-stages.yaml (${#stage_files[@]} stages)"

# --- Check, then publish ---------------------------------------------------------------------
has_all_binaries "$WORK/bin" || die "build finished without all of: ${BINARIES[*]}"
# Catch a silently unstamped build before it is cached for good.
got=$("$WORK/bin/kube-apiserver" --version 2>&1) || die "kube-apiserver --version failed: $got"
[[ "$got" == "Kubernetes $K8S_VERSION" ]] || die "kube-apiserver --version printed '$got', want 'Kubernetes $K8S_VERSION'"
got=$("$WORK/bin/etcd" --version 2>&1) || die "etcd --version failed: $got"
[[ "$got" == *"etcd Version: ${ETCD_VERSION#v}"* ]] || die "etcd --version printed '$got'"

mv -T "$WORK" "$FINAL"
trap - EXIT
log "done in $((SECONDS - START))s: $FINAL/bin"
printf '%s\n' "$FINAL/bin"
