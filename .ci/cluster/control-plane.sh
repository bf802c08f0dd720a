# shellcheck shell=bash
# A real Kubernetes control plane on loopback, for scripts that `source` this file:
#
#   source .ci/cluster/control-plane.sh
#   control_plane_start            # etcd, kube-apiserver, kube-controller-manager
#   control_plane_start --nodes    # also kube-scheduler and KWOK with one simulated node,
#                                  # so pods are scheduled and become Running and Ready
#
# The binaries come from .ci/components.sh (built once from the Go module proxy, cached by
# version). Certificates are made here by openssl. Everything lives in a temporary directory
# ($CP_WORK) and stops on exit, also on failure (the last lines of every log are printed when
# the script fails). After start-up: KUBECONFIG points at the cluster, $kubectl is kubectl
# 1.33, $CP_K8S_DIR is the Kubernetes component directory.
#
# Every wait is bounded and names what it waited for; a missing component fails loudly.

cp_die() { echo "control-plane: FAIL: $*" >&2; exit 1; }

cp_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# cp_wait_for SECONDS WHAT COMMAND...: poll every half second.
cp_wait_for() {
    local seconds="$1" deadline=$((SECONDS + $1)) what="$2"; shift 2
    until "$@" >/dev/null 2>&1; do
        [[ $SECONDS -lt $deadline ]] || cp_die "$what: not ready after $seconds seconds"
        sleep 0.5
    done
}

cp_node_untainted() {
    [[ "$("$kubectl" get node kwok-node-0 -o jsonpath='{.spec.taints[*].key}')" != *not-ready* ]]
}

CP_PIDS=()
cp_teardown() {
    local rc=$? pid log
    trap - EXIT INT TERM
    for pid in "${CP_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${CP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ $rc != 0 && -n "${CP_WORK:-}" ]]; then
        for log in "$CP_WORK"/*.log; do
            [[ -s "$log" ]] || continue
            echo "--- last lines of $(basename "$log")" >&2
            tail -n 15 "$log" >&2
        done
    fi
    [[ -n "${CP_WORK:-}" ]] && rm -rf "$CP_WORK"
    exit "$rc"
}

control_plane_start() {
    local nodes=false
    [[ "${1:-}" == "--nodes" ]] && nodes=true
    local ci_dir
    ci_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    for tool in openssl curl python3; do command -v "$tool" >/dev/null || cp_die "$tool is not installed"; done
    CP_K8S_DIR="$("$ci_dir/components.sh" --dir kubernetes)" || cp_die "kubernetes components unavailable"
    local etcd_dir
    etcd_dir="$("$ci_dir/components.sh" --dir etcd)" || cp_die "etcd unavailable"
    if $nodes; then
        CP_SCHEDULER_DIR="$("$ci_dir/components.sh" --dir kube-scheduler)" || cp_die "kube-scheduler unavailable"
        CP_KWOK_DIR="$("$ci_dir/components.sh" --dir kwok)" || cp_die "kwok unavailable"
    fi

    CP_WORK="$(mktemp -d "${TMPDIR:-/tmp}/somagen-cp.XXXXXX")"
    trap cp_teardown EXIT
    trap 'exit 130' INT TERM

    # --- certificates ---------------------------------------------------------------------
    local pki="$CP_WORK/pki"
    mkdir -p "$pki"
    (
        cd "$pki"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 \
            -subj "/CN=somagen-ci-ca" 2>/dev/null
        sign() { # name subject extensions
            openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
            printf '%s\n' "$3" >"$1.ext"
            openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
                -extfile "$1.ext" -out "$1.crt" 2>/dev/null
        }
        sign apiserver "/CN=kube-apiserver" "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth"
        sign admin "/O=system:masters/CN=somagen-ci-admin" "extendedKeyUsage=clientAuth"
        openssl genrsa -out sa.key 2048 2>/dev/null
        openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    ) || cp_die "openssl could not make the certificates"

    # --- etcd -----------------------------------------------------------------------------
    local etcd_port etcd_peer api_port
    etcd_port="$(cp_free_port)"
    etcd_peer="$(cp_free_port)"
    "$etcd_dir/etcd" --name ci --data-dir "$CP_WORK/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
        --initial-cluster "ci=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync --log-level warn \
        >"$CP_WORK/etcd.log" 2>&1 &
    CP_PIDS+=($!)
    cp_wait_for 30 "etcd" curl -fsS "http://127.0.0.1:$etcd_port/health"

    # --- kube-apiserver -------------------------------------------------------------------
    api_port="$(cp_free_port)"
    "$CP_K8S_DIR/kube-apiserver" \
        --etcd-servers="http://127.0.0.1:$etcd_port" \
        --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
        --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
        --client-ca-file="$pki/ca.crt" --anonymous-auth=false \
        --authorization-mode=RBAC \
        --enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity,NodeRestriction,ResourceQuota,LimitRanger \
        --service-account-issuer=https://kubernetes.default.svc \
        --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
        --service-cluster-ip-range=10.96.0.0/16 \
        --endpoint-reconciler-type=none --profiling=false \
        >"$CP_WORK/kube-apiserver.log" 2>&1 &
    CP_PIDS+=($!)

    export KUBECONFIG="$CP_WORK/kubeconfig"
    kubectl="$CP_K8S_DIR/kubectl"
    "$kubectl" config set-cluster ci --server="https://127.0.0.1:$api_port" \
        --certificate-authority="$pki/ca.crt" --embed-certs >/dev/null
    "$kubectl" config set-credentials admin --client-certificate="$pki/admin.crt" \
        --client-key="$pki/admin.key" --embed-certs >/dev/null
    "$kubectl" config set-context ci --cluster=ci --user=admin >/dev/null
    "$kubectl" config use-context ci >/dev/null
    cp_wait_for 90 "kube-apiserver (https://127.0.0.1:$api_port/readyz)" "$kubectl" get --raw /readyz

    # --- kube-controller-manager ----------------------------------------------------------
    local controllers=namespace-controller,serviceaccount-controller,deployment-controller,replicaset-controller,statefulset-controller,job-controller,garbage-collector-controller,persistentvolumeclaim-protection-controller
    # With nodes, the node lifecycle controller lifts the not-ready taint once KWOK reports
    # the node Ready, as on a real cluster.
    $nodes && controllers+=,node-lifecycle-controller
    "$CP_K8S_DIR/kube-controller-manager" \
        --kubeconfig="$KUBECONFIG" --leader-elect=false --bind-address=127.0.0.1 --secure-port=0 \
        --controllers="$controllers" \
        >"$CP_WORK/kube-controller-manager.log" 2>&1 &
    CP_PIDS+=($!)
    cp_wait_for 60 "kube-controller-manager (ServiceAccount default/default)" "$kubectl" -n default get serviceaccount default

    if $nodes; then
        # --- kube-scheduler and KWOK: one simulated node that runs every pod ------------
        "$CP_SCHEDULER_DIR/kube-scheduler" --kubeconfig="$KUBECONFIG" --leader-elect=false \
            --bind-address=127.0.0.1 --secure-port=0 \
            >"$CP_WORK/kube-scheduler.log" 2>&1 &
        CP_PIDS+=($!)
        "$CP_KWOK_DIR/kwok" --kubeconfig="$KUBECONFIG" --manage-all-nodes=false \
            --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
            --manage-nodes-with-label-selector= --manage-single-node= \
            --cidr=10.0.0.0/24 --node-ip=10.0.0.1 --node-lease-duration-seconds=40 \
            --server-address=127.0.0.1:0 \
            >"$CP_WORK/kwok.log" 2>&1 &
        CP_PIDS+=($!)
        "$kubectl" apply -f - >/dev/null <<'EOF' || cp_die "cannot create the simulated node"
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    type: kwok
status:
  allocatable: {cpu: "64", memory: 512Gi, pods: "500"}
  capacity: {cpu: "64", memory: 512Gi, pods: "500"}
EOF
        cp_wait_for 60 "KWOK node kwok-node-0 Ready" \
            "$kubectl" wait --for=condition=Ready node/kwok-node-0 --timeout=1s
        cp_wait_for 60 "KWOK node kwok-node-0 without the not-ready taint" cp_node_untainted
    fi
    echo "control-plane: etcd $("$etcd_dir/etcd" --version | head -n1 | cut -d' ' -f3), $("$CP_K8S_DIR/kube-apiserver" --version) on 127.0.0.1:$api_port$($nodes && echo ", kube-scheduler and KWOK node kwok-node-0")" >&2
}
