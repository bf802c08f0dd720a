#!/usr/bin/env bash
# Kafka SASL_SSL + SCRAM-SHA-512 from staging on (kafka.tls), with real Kafka 3.8 brokers
# (.ci/components.sh kafka: the broker and CLI jars from Maven Central; KAFKA_DIR overrides).
# Two of staging's three KRaft voters run on loopback, each through the StatefulSet's own
# wrapper script and env as rendered in golden/staging.yaml: the wrapper checks the SCRAM
# passwords, formats the empty log dir with the SCRAM users (kafka-storage.sh --add-scram) and
# hands over to the image's entrypoint, played here by the image's own KafkaDockerWrapper class
# (env -> server.properties, its format finding the volume formatted) and kafka-server-start.sh.
# Only addresses and paths change: the pod name becomes localhost and a free port, /etc/kafka/tls
# and /etc/kafka/sasl temp dirs with a CA, a PKCS#8 server key pair and passwords made here.
# Shows:
#   - user soma, with the client settings of the contract (KAFKA_SECURITY_PROTOCOL,
#     KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME) and the CA, creates a topic with replication
#     factor 2 whose ISR reaches both brokers: inter-broker replication authenticates as broker;
#   - user kafka-exporter is admitted;
#   - a wrong password, and a PLAINTEXT client, are refused;
#   - the wrapper refuses a password Kafka's SCRAM parser would cut (a comma, a blank).
# usage: .ci/validate-kafka-tls.sh [golden-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
golden="${1:-golden}"
PYTHON="${PYTHON:-$( [ -x .ci/venv/bin/python ] && echo .ci/venv/bin/python || echo python3 )}"
kafka="${KAFKA_DIR:-$(bash .ci/components.sh --dir kafka)}"
[ -x "$kafka/bin/kafka-server-start.sh" ] || { echo "kafka-tls: no Kafka component at $kafka" >&2; exit 2; }
command -v openssl >/dev/null || { echo "kafka-tls: openssl missing" >&2; exit 2; }

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fail() { echo "FAIL kafka-tls: $*" >&2; for f in "$work"/node-*/out.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done >&2; exit 1; }

sts_json="$work/sts.json"
"$PYTHON" - "$golden/staging.yaml" "$sts_json" <<'PY'
import json, sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1], encoding="utf-8")):
    if d and d["kind"] == "StatefulSet" and d["metadata"]["name"] == "sharedinfra-kafka":
        c = next(c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "kafka")
        json.dump({"command": c["command"], "env": c["env"]}, open(sys.argv[2], "w"))
PY
get() { "$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2] and next(e["value"] for e in d["env"] if e["name"]==sys.argv[2]) or d["command"][2])' "$sts_json" "$1"; }
[ "$(get KAFKA_LISTENER_SECURITY_PROTOCOL_MAP)" = "CONTROLLER:PLAINTEXT,CLIENT:SASL_SSL" ] || fail "staging's listener map is $(get KAFKA_LISTENER_SECURITY_PROTOCOL_MAP)"
[ "$(get KAFKA_SASL_ENABLED_MECHANISMS)" = SCRAM-SHA-512 ] || fail "staging's SASL mechanisms: $(get KAFKA_SASL_ENABLED_MECHANISMS)"
for key in KAFKA_SECURITY_PROTOCOL=SASL_SSL KAFKA_SASL_MECHANISM=SCRAM-SHA-512 KAFKA_SASL_USERNAME=soma; do
  got="$("$PYTHON" .ci/extract-data.py "$golden/staging.yaml" configmap sharedinfra-endpoints "${key%%=*}")"
  [ "$got" = "${key#*=}" ] || fail "contract ${key%%=*} is '$got', want ${key#*=}"
done
echo "ok   kafka-tls: staging renders CLIENT:SASL_SSL with SCRAM-SHA-512 and the contract says SASL_SSL / SCRAM-SHA-512 / soma"


# The PKI cert-manager would issue (Certificate sharedinfra-kafka-tls, PKCS#8 key) and the passwords.
tls="$work/tls"; sasl="$work/sasl"; mkdir -p "$tls" "$sasl"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=sharedinfra-ca \
  -keyout "$work/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=sharedinfra-kafka -keyout "$tls/tls.key" -out "$work/tls.csr" 2>/dev/null
head -n1 "$tls/tls.key" | grep -q 'BEGIN PRIVATE KEY' || fail "openssl did not write a PKCS#8 key"
printf '%s\n' "subjectAltName=DNS:sharedinfra-kafka,DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth,clientAuth" > "$work/ext"
openssl x509 -req -in "$work/tls.csr" -CA "$tls/ca.crt" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile "$work/ext" -out "$tls/tls.crt" 2>/dev/null
printf '%s' 'br0ker-Pa55#%&()*+./:;<=>?@^_|~!' > "$sasl/broker-password"
printf '%s' 'cl1ent-Pa55=w0rd;with:punct!' > "$sasl/client-password"
printf '%s' 'exp0rter-pa55word-0123' > "$sasl/exporter-password"

# The image's entrypoint (/etc/kafka/docker/run -> launch): KafkaDockerWrapper setup, then start.
cat > "$work/run" <<RUN
#!/usr/bin/env bash
set -e
mkdir -p "\$NODE_DIR/config" "\$NODE_DIR/mounted"
if ! result="\$(java -Xmx128m -cp "$kafka/libs/*" kafka.docker.KafkaDockerWrapper setup --default-configs-dir "\$NODE_DIR/mounted" \
    --mounted-configs-dir "\$NODE_DIR/mounted" --final-configs-dir "\$NODE_DIR/config" 2>&1)"; then
  echo "\$result" | grep -i "already formatted" || { echo "\$result"; exit 1; }
fi
exec "$kafka/bin/kafka-server-start.sh" "\$NODE_DIR/config/server.properties"
RUN
chmod +x "$work/run"

script="$(get "")"
headless="sharedinfra-kafka-headless.soma-infra.svc.cluster.local"
n=2
declare -a client controller
for ((i = 0; i < 3; i++)); do client[i]="$(free_port)"; controller[i]="$(free_port)"; done
voters="0@localhost:${controller[0]},1@localhost:${controller[1]},2@localhost:${controller[2]}"
node_script() { # i
  local s="$1"
  s="${s//CLIENT:\/\/\$\{HOSTNAME\}.$headless:9092/CLIENT://localhost:${client[$2]}}"
  s="${s//\/etc\/kafka\/sasl/$sasl}"
  s="${s//\/opt\/kafka\/bin\/kafka-storage.sh/$kafka/bin/kafka-storage.sh}"
  s="${s//exec \/etc\/kafka\/docker\/run/exec $work/run}"
  s="${s//\/tmp\/format.properties/$work/node-$2/format.properties}"
  printf '%s' "$s"
}
start_node() { # i
  local i="$1" dir="$work/node-$1" s
  mkdir -p "$dir"
  s="$(node_script "$script" "$i")"
  grep -q '/etc/kafka\|svc.cluster.local\|/opt/kafka' <<<"$s" && fail "unexpected path or address left in the wrapper: $s"
  mapfile -t envs < <("$PYTHON" - "$sts_json" "$i" "$dir" "$voters" "${client[i]}" "${controller[i]}" "$tls" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); i, dir_, voters, cport, ctl, tls = sys.argv[2:]
for e in d["env"]:
    v = e["value"]
    if e["name"] == "KAFKA_CONTROLLER_QUORUM_VOTERS": v = voters
    elif e["name"] == "KAFKA_LISTENERS": v = v.replace(":9092", ":" + cport).replace(":9093", ":" + ctl)
    elif e["name"] == "KAFKA_LOG_DIRS": v = dir_ + "/data/logs"
    elif e["name"] == "KAFKA_HEAP_OPTS": v = "-Xms256m -Xmx384m"
    print(e["name"] + "=" + v.replace("/etc/kafka/tls", tls))
PY
)
  env -i PATH="$PATH" HOME="$dir" HOSTNAME="sharedinfra-kafka-$i" NODE_DIR="$dir" LOG_DIR="$dir/logs" "${envs[@]}" \
    bash -ec "$s" >"$dir/out.log" 2>&1 &
  pids+=("$!")
}
for ((i = 0; i < n; i++)); do start_node "$i"; done

props() { # file user password [protocol]
  printf '%s\n' "security.protocol=${4:-SASL_SSL}" "sasl.mechanism=SCRAM-SHA-512" ssl.truststore.type=PEM \
    "ssl.truststore.location=$tls/ca.crt" "request.timeout.ms=5000" "default.api.timeout.ms=15000" \
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$2\" password=\"$3\";" > "$1"
}
props "$work/soma.properties" soma "$(cat "$sasl/client-password")"
props "$work/exporter.properties" kafka-exporter "$(cat "$sasl/exporter-password")"
props "$work/wrong.properties" soma "not-the-password-123"
printf '%s\n' security.protocol=PLAINTEXT request.timeout.ms=5000 default.api.timeout.ms=10000 > "$work/plain.properties"
bootstrap="localhost:${client[0]},localhost:${client[1]}"
topics() { KAFKA_HEAP_OPTS=-Xmx192m timeout 60 "$kafka/bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --command-config "$@"; }

up=""
for _ in $(seq 1 90); do
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || fail "a broker exited"; done
  if topics "$work/soma.properties" --list >/dev/null 2>&1; then up=yes; break; fi
  sleep 2
done
[ -n "$up" ] || fail "the brokers did not answer user soma over SASL_SSL"
grep -q "already formatted" "$work/node-0/out.log" || fail "the image's format step did not find the volume formatted by the wrapper"
topics "$work/soma.properties" --create --topic soma.smoke --partitions 1 --replication-factor 2 >/dev/null \
  || fail "user soma could not create a topic"
isr=""
for _ in $(seq 1 30); do
  isr="$(topics "$work/soma.properties" --describe --topic soma.smoke | sed -n 's/.*Isr: \([0-9,]*\).*/\1/p')"
  [ "$isr" = "0,1" ] || [ "$isr" = "1,0" ] && break
  sleep 1
done
[ "$isr" = "0,1" ] || [ "$isr" = "1,0" ] || fail "the ISR of soma.smoke is '$isr': replication between brokers does not authenticate"
echo "ok   kafka-tls: Kafka 3.8.0 from the rendered wrapper and env: user soma (SASL_SSL, SCRAM-SHA-512, the stack CA) creates soma.smoke, RF 2, ISR $isr (inter-broker SCRAM over TLS)"
grep -qx soma.smoke <<<"$(topics "$work/exporter.properties" --list)" || fail "user kafka-exporter is not admitted"
echo "ok   kafka-tls: user kafka-exporter is admitted"
if out="$(topics "$work/wrong.properties" --list 2>&1)"; then fail "a wrong password was admitted: $out"; fi
grep -q "Authentication failed" <<<"$out" || fail "a wrong password failed without an authentication error: $(tail -n 3 <<<"$out")"
echo "ok   kafka-tls: a wrong password is refused ($(grep -o 'Authentication failed[^.]*' <<<"$out" | head -n1))"
if out="$(topics "$work/plain.properties" --list 2>&1)"; then fail "a PLAINTEXT client was served: $out"; fi
echo "ok   kafka-tls: a PLAINTEXT client is refused ($(grep -o 'TimeoutException[^.]*\|Timed out[^.]*' <<<"$out" | head -n1))"

# The wrapper refuses a password Kafka's --add-scram parser would cut.
for bad in 'has,a-comma-in-it-1234' 'has a blank in it 1234' 'short'; do
  printf '%s' "$bad" > "$sasl/client-password"
  s="$(node_script "$script" 2)"
  if out="$(env -i PATH="$PATH" HOSTNAME=sharedinfra-kafka-2 KAFKA_LOG_DIRS="$work/none" bash -ec "$s" 2>&1)"; then
    fail "the wrapper accepted the password '$bad'"
  fi
  grep -q "client-password must be" <<<"$out" || fail "the wrapper failed on '$bad' without naming the password: $out"
done
echo "ok   kafka-tls: the wrapper refuses passwords with a comma, a blank, or under 16 characters before formatting"
