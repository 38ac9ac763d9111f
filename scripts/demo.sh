#!/usr/bin/env bash
# The sandbox demo. The local sandbox (a real control plane with kwok nodes, the ECS emulator and the
# disk provisioner) arrives with issue 4; until then this says so instead of pretending.
set -euo pipefail
cat <<'MSG'
zoneferry demo: not available yet.
The demo runs on the local sandbox (contract section 8), which is being built. Meanwhile
`bash scripts/test.sh` exercises the admission webhook against real Redis, real TLS and a real
kube-apiserver, and the README shows how to run the webhook by hand.
MSG
