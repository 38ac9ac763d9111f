#!/usr/bin/env bash
# Makes a private CA and a webhook serving certificate signed by it, for local runs, the sandbox,
# tests, and manual installs without cert-manager.
#
#   certs/make-certs.sh --out DIR [--dns NAME]... [--ip ADDR]... [--days N] [--ca-days N] [--reuse-ca]
#
# Writes DIR/ca.crt, DIR/ca.key, DIR/tls.crt, DIR/tls.key (keys mode 600). The serving certificate
# lasts --days (365); a new CA lasts --ca-days (3650), so it outlives many serving certificates.
# With --reuse-ca an existing DIR/ca.{crt,key} signs the new serving certificate: that is a
# rotation, and the webhook configurations' caBundle stays valid; it is refused when the CA would
# expire before the new certificate. For a chart install, the DNS names are <service>,
# <service>.<namespace> and <service>.<namespace>.svc.
set -euo pipefail

out="" days=365 ca_days=3650 reuse_ca=false
dns=() ips=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --dns) dns+=("$2"); shift 2 ;;
    --ip) ips+=("$2"); shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --ca-days) ca_days="$2"; shift 2 ;;
    --reuse-ca) reuse_ca=true; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "make-certs: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "make-certs: --out DIR is required" >&2; exit 2; }
[ ${#dns[@]} -gt 0 ] || [ ${#ips[@]} -gt 0 ] || ips=("127.0.0.1")
command -v openssl >/dev/null || { echo "make-certs: openssl is required" >&2; exit 2; }

mkdir -p "$out"
umask 077

if [ "$reuse_ca" != true ] || [ ! -f "$out/ca.key" ]; then
  [ "$ca_days" -ge "$days" ] || { echo "make-certs: --ca-days ($ca_days) is shorter than --days ($days): the CA must outlive the certificates it signs" >&2; exit 2; }
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days "$ca_days" \
    -subj "/CN=zoneferry-webhook-ca" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
elif ! openssl x509 -checkend $((days * 86400)) -noout -in "$out/ca.crt" >/dev/null; then
  # A certificate that outlives its CA stops verifying on the CA's last day, not its own.
  echo "make-certs: the CA in $out expires ($(openssl x509 -enddate -noout -in "$out/ca.crt" | cut -d= -f2)) before a $days-day certificate would: rotate the CA first (certs/README.md)" >&2
  exit 2
fi

san=""
for name in "${dns[@]}"; do san="${san:+$san,}DNS:$name"; done
for addr in "${ips[@]}"; do san="${san:+$san,}IP:$addr"; done
cn="${dns[0]:-${ips[0]}}"

openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -subj "/CN=$cn" \
  -keyout "$out/tls.key.new" -out "$out/tls.csr" 2>/dev/null
openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
  -days "$days" -sha256 -out "$out/tls.crt.new" \
  -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n' "$san") 2>/dev/null
# Key first, then certificate: a watcher that sees the new certificate finds its key in place.
mv "$out/tls.key.new" "$out/tls.key"
mv "$out/tls.crt.new" "$out/tls.crt"
rm -f "$out/tls.csr" "$out/ca.srl"
chmod 644 "$out/ca.crt" "$out/tls.crt"
echo "$out"
