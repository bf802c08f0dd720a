#!/usr/bin/env bash
# etcd client TLS from staging on (etcd.tls), with the real upstream etcd the image ships
# (.ci/components.sh etcd, v3.5.x): one member started with the client flags of
# golden/<mode>.yaml's StatefulSet sharedinfra-etcd, as rendered (--client-cert-auth,
# --trusted-ca-file, --cert-file, --key-file, https on 2379), the certificate paths pointing at a
# CA, a server certificate (the DNS names and IP of Certificate sharedinfra-etcd-tls) and a client
# certificate (sharedinfra-etcd-client: client auth only) made here with openssl, as cert-manager
# would. Shows, through etcd's HTTP/JSON gateway with curl:
#   - a client with the client certificate writes and reads a key;
#   - a client without a certificate, and one with a certificate of another CA, are refused;
#   - plaintext HTTP on the client port gets no answer;
#   - the probes' /readyz and /livez on the metrics listener (plain HTTP, no keys) answer;
#   - after the key pair is replaced on disk (a cert-manager renewal), new connections get the
#     new certificate without a restart (etcd reads it per handshake: no reloader needed).
# usage: .ci/validate-etcd-tls.sh [golden-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${1:-golden}"
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
etcd="$(bash .ci/components.sh --dir etcd)/etcd"
[ -x "$etcd" ] || { echo "etcd-tls: $etcd missing (bash .ci/components.sh etcd)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "etcd-tls: openssl missing" >&2; exit 2; }
command -v curl >/dev/null || { echo "etcd-tls: curl missing" >&2; exit 2; }

work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fail() { echo "FAIL etcd-tls: $*" >&2; [ -f "$work/etcd.log" ] && tail -n 20 "$work/etcd.log" >&2; exit 1; }

# Certificates as cert-manager issues them: a CA, a server certificate, a client certificate.
pki="$work/pki"; mkdir -p "$pki/other"
ca() { # dir
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=sharedinfra-ca" \
    -keyout "$1/ca.key" -out "$1/ca.crt" 2>/dev/null
}
leaf() { # dir name cn extensions
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$3" -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null
  printf '%s\n' "$4" > "$1/$2.ext"
  openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" -CAcreateserial -days 1 \
    -extfile "$1/$2.ext" -out "$1/$2.crt" 2>/dev/null
}
ca "$pki"; ca "$pki/other"
server_ext="subjectAltName=DNS:sharedinfra-etcd,DNS:*.sharedinfra-etcd-headless,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth
keyUsage=digitalSignature,keyEncipherment"
leaf "$pki" server sharedinfra-etcd "$server_ext"
leaf "$pki" client sharedinfra-etcd-client "extendedKeyUsage=clientAuth
keyUsage=digitalSignature,keyEncipherment"
leaf "$pki/other" client intruder "extendedKeyUsage=clientAuth"

for mode in staging prod-lite prod; do
  mapfile -t args < <("$PYTHON" .ci/extract-data.py "$golden/$mode.yaml" args StatefulSet sharedinfra-etcd etcd)
  printf '%s\n' "${args[@]}" | grep -qx -- '--client-cert-auth=true' || fail "$mode: no --client-cert-auth=true"
  printf '%s\n' "${args[@]}" | grep -q -- '--listen-client-urls=https://' || fail "$mode: the client listener is not https"
  printf '%s\n' "${args[@]}" | grep -q -- '--advertise-client-urls=https://' || fail "$mode: the advertised client URL is not https"
  endpoints="$("$PYTHON" .ci/extract-data.py "$golden/$mode.yaml" configmap sharedinfra-endpoints ETCD_ENDPOINTS)"
  case "$endpoints" in https://*) ;; *) fail "$mode: contract ETCD_ENDPOINTS is $endpoints" ;; esac
done
echo "ok   etcd-tls: staging, prod-lite and prod render --client-cert-auth, https client URLs and an https ETCD_ENDPOINTS"

# One member of staging, with its flags as rendered (the member list cut to itself).
mapfile -t args < <("$PYTHON" .ci/extract-data.py "$golden/staging.yaml" args StatefulSet sharedinfra-etcd etcd)
client="$(free_port)"; peer="$(free_port)"; metrics="$(free_port)"
member=()
for a in "${args[@]}"; do
  a="${a//\$(POD_NAME)/sharedinfra-etcd-0}"
  case "$a" in
    --initial-cluster=*) a="--initial-cluster=sharedinfra-etcd-0=http://127.0.0.1:$peer" ;;
    --initial-advertise-peer-urls=*) a="--initial-advertise-peer-urls=http://127.0.0.1:$peer" ;;
    --advertise-client-urls=*) a="${a%%://*}://127.0.0.1:$client" ;;
    --data-dir=*) a="--data-dir=$work/data" ;;
  esac
  a="${a//0.0.0.0:2380/127.0.0.1:$peer}"
  a="${a//0.0.0.0:2379/127.0.0.1:$client}"
  a="${a//0.0.0.0:2381/127.0.0.1:$metrics}"
  a="${a//\/etc\/etcd\/tls\/ca.crt/$pki/ca.crt}"
  a="${a//\/etc\/etcd\/tls\/tls.crt/$pki/tls.crt}"
  a="${a//\/etc\/etcd\/tls\/tls.key/$pki/tls.key}"
  member+=("$a")
done
printf '%s\n' "${member[@]}" | grep -q '/etc/etcd\|svc.cluster.local\|0\.0\.0\.0' && fail "unexpected path or address left: ${member[*]}"
cp "$pki/server.crt" "$pki/tls.crt"; cp "$pki/server.key" "$pki/tls.key"
"$etcd" "${member[@]}" >"$work/etcd.log" 2>&1 &
pid=$!

url="https://127.0.0.1:$client"
with_cert=(--cacert "$pki/ca.crt" --cert "$pki/client.crt" --key "$pki/client.key")
for _ in $(seq 1 100); do
  curl -sf --max-time 2 "${with_cert[@]}" "$url/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || fail "etcd exited"
  sleep 0.2
done
b64() { printf '%s' "$1" | base64 -w0; }
put="$(curl -sS --max-time 5 "${with_cert[@]}" -X POST "$url/v3/kv/put" -d "{\"key\":\"$(b64 soma/smoke)\",\"value\":\"$(b64 ok)\"}")" \
  || fail "the client with the client certificate could not write"
get="$(curl -sS --max-time 5 "${with_cert[@]}" -X POST "$url/v3/kv/range" -d "{\"key\":\"$(b64 soma/smoke)\"}")" \
  || fail "the client with the client certificate could not read"
case "$get" in *"\"value\":\"$(b64 ok)\""*) ;; *) fail "read back: $get (put: $put)" ;; esac
echo "ok   etcd-tls: etcd $("$etcd" --version | head -n1 | awk '{print $3}') with the staging flags: a client with the client certificate writes and reads soma/smoke over https"

if out="$(curl -sS --max-time 5 --cacert "$pki/ca.crt" -X POST "$url/v3/kv/range" -d "{\"key\":\"$(b64 soma/smoke)\"}" 2>&1)"; then
  fail "a client without a certificate was served: $out"
fi
echo "ok   etcd-tls: a client without a certificate is refused ($(printf '%s' "$out" | head -c 90))"
if out="$(curl -sS --max-time 5 --cacert "$pki/ca.crt" --cert "$pki/other/client.crt" --key "$pki/other/client.key" \
    -X POST "$url/v3/kv/range" -d "{\"key\":\"$(b64 soma/smoke)\"}" 2>&1)"; then
  fail "a client with a certificate of another CA was served: $out"
fi
echo "ok   etcd-tls: a client certificate of another CA is refused ($(printf '%s' "$out" | head -c 90))"
if out="$(curl -sS --max-time 5 -X POST "http://127.0.0.1:$client/v3/kv/range" -d "{\"key\":\"$(b64 soma/smoke)\"}" 2>&1)" \
    && [[ $out == *'"kvs"'* ]]; then
  fail "plaintext HTTP on the client port was served: $out"
fi
echo "ok   etcd-tls: plaintext HTTP on the client port reads nothing ($(printf '%s' "$out" | head -c 90))"
for path in /readyz /livez; do
  curl -sf --max-time 2 "http://127.0.0.1:$metrics$path" >/dev/null || fail "the probe path $path on the metrics listener does not answer"
done
grep -q kvs <<<"$(curl -sf --max-time 2 "http://127.0.0.1:$metrics/v3/kv/range" -X POST -d '{"key":"c29tYQ=="}' 2>/dev/null)" \
  && fail "the metrics listener serves keys"
echo "ok   etcd-tls: the probes' /readyz and /livez answer on the plain-HTTP metrics listener, which serves no keys"

# Renewal: a new key pair on disk is served to the next connection, without a restart.
serial() { openssl s_client -connect "127.0.0.1:$client" -CAfile "$pki/ca.crt" -cert "$pki/client.crt" -key "$pki/client.key" </dev/null 2>/dev/null \
  | openssl x509 -noout -serial; }
before="$(serial)"
leaf "$pki" renewed sharedinfra-etcd "$server_ext"
cp "$pki/renewed.key" "$pki/tls.key.new"; cp "$pki/renewed.crt" "$pki/tls.crt.new"
mv "$pki/tls.key.new" "$pki/tls.key"; mv "$pki/tls.crt.new" "$pki/tls.crt"
after="$(serial)"
[ "$before" != "$after" ] && [ "$after" = "$(openssl x509 -noout -serial -in "$pki/renewed.crt")" ] \
  || fail "after the renewal the server still presents $after (before: $before)"
curl -sf --max-time 5 "${with_cert[@]}" -X POST "$url/v3/kv/range" -d "{\"key\":\"$(b64 soma/smoke)\"}" >/dev/null \
  || fail "no client access after the renewal"
echo "ok   etcd-tls: a renewed key pair on disk is served to new connections without a restart ($before -> $after)"
