#!/usr/bin/env bash
# Build, once, the real programs CI runs against the rendered stack, and cache them outside the
# checkout, one directory per component and version:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/somagen-ci/<component>-<version>/
#
#   .ci/components.sh              build what is missing, then log version and sha256 of each
#   .ci/components.sh NAME...      only those (kubernetes kube-scheduler etcd opa prometheus otelcol crds kwok dex kafka vault rclone)
#   .ci/components.sh --dir NAME   print the cache directory of NAME (builds it if missing)
#   .ci/components.sh --version NAME   print the version of NAME (v1.33.13, v2.47.2, ...)
#
# Components (versions pinned here and in the go.mod files under .ci/go/):
#   kubernetes  kube-apiserver, kube-controller-manager, kubectl from k8s.io/kubernetes, with the
#               staging modules pinned to the published v0.33.x (.ci/go/kubernetes/go.mod)
#   etcd        etcd server from go.etcd.io/etcd/server/v3 (.ci/go/etcd/go.mod)
#   opa         opa from github.com/open-policy-agent/opa (.ci/go/opa/go.mod)
#   prometheus  promtool from github.com/prometheus/prometheus, with Kubernetes SD
#   kube-scheduler  from the same k8s.io/kubernetes module (.ci/go/kubernetes/go.mod)
#   dex         the dev/test OIDC issuer from github.com/dexidp/dex (.ci/go/dex/go.mod: the
#               release commit as a pseudo-version; version reported as the release tag)
#   kwok        the KWOK node simulator (`go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION`):
#               simulated nodes that run pods, for `somagen apply --wait` tests
#   otelcol     the OpenTelemetry Collector with the components the stack configures, from the
#               published collector modules (.ci/go/otelcol: main.go and go.mod); its `validate`
#               command checks the rendered collector configuration
#   crds        the CustomResourceDefinitions of external-secrets, cert-manager and trust-manager, copied from
#               those projects' Go modules (`go mod download -json module@version`)
#   vault       vault from github.com/hashicorp/vault, with the published api and sdk versions
#               it requires (.ci/go/vault/go.mod says why v1.21.1)
#   rclone      rclone from github.com/rclone/rclone (.ci/go/rclone/go.mod): the client the backup
#               upload containers run, and `rclone serve s3`, the object store of the backup check
#   kafka       the Kafka broker and CLI jars from Maven Central (.ci/kafka/pom.xml, resolved by
#               `mvn dependency:copy-dependencies` into libs/), plus bin/ wrappers that run the
#               classes the distribution's bin/*.sh scripts run (kafka-topics.sh, kafka-configs.sh,
#               kafka-storage.sh, kafka-server-start.sh) on that classpath
#
# A directory is complete once its `.stamp` exists; the stamp records the go.mod it was built
# from, so editing a go.mod rebuilds that component and nothing else. Builds run `nice`d into a
# temporary sibling that is renamed at the end: an interrupted build leaves no half component.
# Any failure stops CI and names the component.
set -euo pipefail
ci_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

EXTERNAL_SECRETS_VERSION=v1.3.2   # serves external-secrets.io/v1, the API version the stack emits
CERT_MANAGER_VERSION=v1.21.2
TRUST_MANAGER_VERSION=v0.25.0   # serves trust.cert-manager.io/v1alpha1 Bundle, which the stack emits
KWOK_VERSION=v0.7.0
DEX_VERSION=v2.45.1               # the release whose commit .ci/go/dex/go.mod pins
CI_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/somagen-ci"

die() { echo "components: $*" >&2; exit 2; }

command -v go >/dev/null || die "go is not installed: the components are built from the Go module proxy"

# The Kafka version .ci/kafka/pom.xml resolves.
kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ci_dir/kafka/pom.xml"; }

# The version a go.mod under .ci/go/ requires of MODULE.
required() { # gomod-dir module
    awk -v m="$2" '$1 == "require" && $2 == m { print $3 } $1 == m && !/=>/ { print $2 }' \
        "$ci_dir/go/$1/go.mod" | head -n1
}

version_of() {
    case "$1" in
        kubernetes) required kubernetes k8s.io/kubernetes ;;
        etcd) required etcd go.etcd.io/etcd/server/v3 ;;
        opa) required opa github.com/open-policy-agent/opa ;;
        prometheus) required prometheus github.com/prometheus/prometheus | sed 's/^v0\./v2./' ;;
        kube-scheduler) required kubernetes k8s.io/kubernetes ;;
        dex) echo "$DEX_VERSION" ;;
        kwok) echo "$KWOK_VERSION" ;;
        otelcol) required otelcol go.opentelemetry.io/collector/otelcol ;;
        crds) echo "eso-$EXTERNAL_SECRETS_VERSION-cm-$CERT_MANAGER_VERSION-tm-$TRUST_MANAGER_VERSION" ;;
        vault) required vault github.com/hashicorp/vault ;;
        kafka) kafka_version ;;
        rclone) required rclone github.com/rclone/rclone ;;
        *) die "unknown component '$1' (kubernetes kube-scheduler etcd opa prometheus otelcol crds kwok dex kafka vault rclone)" ;;
    esac
}

dir_of() { echo "$CI_CACHE/$1-$(version_of "$1")"; }

# What the build depends on: the go.mod and go.sum, or the CRD versions.
stamp_of() {
    case "$1" in
        crds) echo "external-secrets $EXTERNAL_SECRETS_VERSION cert-manager $CERT_MANAGER_VERSION trust-manager $TRUST_MANAGER_VERSION" ;;
        kube-scheduler) cat "$ci_dir/go/kubernetes/go.mod" "$ci_dir/go/kubernetes/go.sum" | sha256sum | cut -d' ' -f1 ;;
        kwok) echo "sigs.k8s.io/kwok $KWOK_VERSION" ;;
        otelcol) cat "$ci_dir/go/$1/go.mod" "$ci_dir/go/$1/go.sum" "$ci_dir/go/$1/main.go" | sha256sum | cut -d' ' -f1 ;;
        kafka) sha256sum <"$ci_dir/kafka/pom.xml" | cut -d' ' -f1 ;;
        *) cat "$ci_dir/go/$1/go.mod" "$ci_dir/go/$1/go.sum" | sha256sum | cut -d' ' -f1 ;;
    esac
}

gobuild() { # gomod-dir out-dir ldflags package...
    local mod="$1" out="$2" ldflags="$3"; shift 3
    (cd "$ci_dir/go/$mod" && CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 \
        go build -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@")
}

build() { # name tmp-dir
    local name="$1" out="$2" v
    v="$(version_of "$name")"
    case "$name" in
        kubernetes)
            local minor x flags=""
            minor="${v#v1.}"
            minor="${minor%%.*}"
            for x in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
                flags+=" -X $x.gitVersion=$v -X $x.gitMajor=1 -X $x.gitMinor=$minor -X $x.gitTreeState=clean"
            done
            gobuild kubernetes "$out" "$flags" k8s.io/kubernetes/cmd/kube-apiserver \
                k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl ;;
        kube-scheduler)
            local m="${v#v1.}"
            gobuild kubernetes "$out" "-X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${m%%.*} -X k8s.io/component-base/version.gitTreeState=clean" \
                k8s.io/kubernetes/cmd/kube-scheduler ;;
        kwok)
            GOBIN="$out" CGO_ENABLED=0 nice -n 10 go install -trimpath -ldflags "-s -w" \
                "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" ;;
        etcd)
            gobuild etcd "$out" "" go.etcd.io/etcd/server/v3
            mv "$out/server" "$out/etcd" ;;
        opa)
            gobuild opa "$out" "" github.com/open-policy-agent/opa ;;
        rclone)
            gobuild rclone "$out" "-X github.com/rclone/rclone/fs.Version=$v" github.com/rclone/rclone ;;
        dex)
            gobuild dex "$out" "-X main.version=$v" github.com/dexidp/dex/cmd/dex ;;
        vault)
            gobuild vault "$out" "" github.com/hashicorp/vault ;;
        kafka)
            command -v mvn >/dev/null || die "kafka: mvn is not installed (apt-get install maven)"
            command -v java >/dev/null || die "kafka: java is not installed (apt-get install default-jre-headless)"
            nice -n 10 mvn -q -B -f "$ci_dir/kafka/pom.xml" dependency:copy-dependencies \
                -DincludeScope=runtime -DoutputDirectory="$out/libs"
            mkdir -p "$out/bin"
            local script class
            # The distribution's scripts: bin/<script> -> kafka-run-class.sh <class> "$@".
            for script in kafka-topics.sh:org.apache.kafka.tools.TopicCommand \
                kafka-configs.sh:kafka.admin.ConfigCommand kafka-storage.sh:kafka.tools.StorageTool \
                kafka-server-start.sh:kafka.Kafka; do
                class="${script#*:}"; script="${script%%:*}"
                cat >"$out/bin/$script" <<WRAPPER
#!/usr/bin/env bash
# $script of Kafka $v: what the distribution's kafka-run-class.sh runs, on the Maven classpath.
libs="\$(cd "\$(dirname "\$0")/../libs" && pwd)"
exec java \${KAFKA_HEAP_OPTS:--Xmx256m} -Dlog4j.configuration=file:\$libs/../log4j.properties \\
    -cp "\$libs/*" $class "\$@"
WRAPPER
                chmod +x "$out/bin/$script"
            done
            printf '%s\n' 'log4j.rootLogger=WARN, stderr' \
                'log4j.appender.stderr=org.apache.log4j.ConsoleAppender' \
                'log4j.appender.stderr.Target=System.err' \
                'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout' \
                'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n' >"$out/log4j.properties" ;;
        prometheus)
            local p=github.com/prometheus/common/version
            gobuild prometheus "$out" "-X $p.Version=${v#v} -X $p.Branch=release -X $p.Revision=$v" \
                github.com/prometheus/prometheus/cmd/promtool ;;
        otelcol)
            gobuild otelcol "$out" "-X main.version=${v#v}" . ;;
        crds)
            local eso cm
            eso="$(cd "$out" && go mod download -json "github.com/external-secrets/external-secrets@$EXTERNAL_SECRETS_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
            cm="$(cd "$out" && go mod download -json "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
            [[ -d "$eso/config/crds/bases" ]] || die "crds: external-secrets $EXTERNAL_SECRETS_VERSION has no config/crds/bases"
            [[ -d "$cm/deploy/crds" ]] || die "crds: cert-manager $CERT_MANAGER_VERSION has no deploy/crds"
            tm="$(cd "$out" && go mod download -json "github.com/cert-manager/trust-manager@$TRUST_MANAGER_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
            [[ -f "$tm/deploy/crds/trust.cert-manager.io_bundles.yaml" ]] || die "crds: trust-manager $TRUST_MANAGER_VERSION has no deploy/crds/trust.cert-manager.io_bundles.yaml"
            mkdir -p "$out/external-secrets" "$out/cert-manager" "$out/trust-manager"
            cp "$tm/deploy/crds/trust.cert-manager.io_bundles.yaml" "$out/trust-manager/"
            cp "$eso"/config/crds/bases/external-secrets.io_*.yaml "$out/external-secrets/"
            cp "$cm"/deploy/crds/*.cert-manager.io_*.yaml "$cm"/deploy/crds/cert-manager.io_*.yaml "$out/cert-manager/" ;;
    esac
}

ensure() { # name
    local name="$1" dir stamp tmp
    dir="$(dir_of "$name")"
    stamp="$(stamp_of "$name")"
    if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]; then
        return 0
    fi
    mkdir -p "$CI_CACHE"
    tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
    trap 'rm -rf "$tmp" "$tmp.log"' INT TERM
    echo "components: building $name $(version_of "$name") into $dir" >&2
    local started=$SECONDS
    if ! build "$name" "$tmp" >"$tmp.log" 2>&1; then
        tail -n 40 "$tmp.log" >&2
        rm -rf "$tmp"
        die "$name $(version_of "$name") failed to build (log above; full log $tmp.log)"
    fi
    echo "$stamp" >"$tmp/.stamp"
    rm -rf "$dir" "$tmp.log"
    mv "$tmp" "$dir"
    echo "components: built $name in $((SECONDS - started))s" >&2
}

report() { # name: one line per binary or CRD set
    local name="$1" dir f
    dir="$(dir_of "$name")"
    case "$name" in
        kubernetes)
            printf '%-24s %-40s %s\n' kube-apiserver "$("$dir/kube-apiserver" --version)" "$(sha256sum <"$dir/kube-apiserver" | cut -c1-64)"
            printf '%-24s %-40s %s\n' kube-controller-manager "$("$dir/kube-controller-manager" --version)" "$(sha256sum <"$dir/kube-controller-manager" | cut -c1-64)"
            printf '%-24s %-40s %s\n' kubectl "$("$dir/kubectl" version --client 2>/dev/null | head -n1)" "$(sha256sum <"$dir/kubectl" | cut -c1-64)" ;;
        kube-scheduler)
            printf '%-24s %-40s %s\n' kube-scheduler "$("$dir/kube-scheduler" --version)" "$(sha256sum <"$dir/kube-scheduler" | cut -c1-64)" ;;
        kwok)
            printf '%-24s %-40s %s\n' kwok "$("$dir/kwok" --version 2>&1 | head -n1)" "$(sha256sum <"$dir/kwok" | cut -c1-64)" ;;
        etcd)
            printf '%-24s %-40s %s\n' etcd "$("$dir/etcd" --version | head -n1)" "$(sha256sum <"$dir/etcd" | cut -c1-64)" ;;
        dex)
            printf '%-24s %-40s %s\n' dex "$("$dir/dex" version 2>&1 | head -n1)" "$(sha256sum <"$dir/dex" | cut -c1-64)" ;;
        rclone)
            printf '%-24s %-40s %s\n' rclone "$("$dir/rclone" version | head -n1)" "$(sha256sum <"$dir/rclone" | cut -c1-64)" ;;
        opa)
            printf '%-24s %-40s %s\n' opa "$("$dir/opa" version | head -n1)" "$(sha256sum <"$dir/opa" | cut -c1-64)" ;;
        prometheus)
            printf '%-24s %-40s %s\n' promtool "$("$dir/promtool" --version 2>&1 | head -n1 | cut -d' ' -f1-3)" "$(sha256sum <"$dir/promtool" | cut -c1-64)" ;;
        otelcol)
            printf '%-24s %-40s %s\n' otelcol "$("$dir/otelcol" --version)" "$(sha256sum <"$dir/otelcol" | cut -c1-64)" ;;
        vault)
            printf '%-24s %-40s %s\n' vault "$("$dir/vault" version | head -n1 | cut -d' ' -f1-2)" "$(sha256sum <"$dir/vault" | cut -c1-64)" ;;
        kafka)
            printf '%-24s %-40s %s\n' kafka "$("$dir/bin/kafka-topics.sh" --version 2>/dev/null | head -n1)" "$(cat "$dir"/libs/kafka_2.13-*.jar "$dir"/libs/kafka-tools-[0-9]*.jar | sha256sum | cut -c1-64)" ;;
        crds)
            for f in "$dir"/*/*.yaml; do
                printf '%-24s %-40s %s\n' "crd" "${f#"$dir"/}" "$(sha256sum <"$f" | cut -c1-64)"
            done ;;
    esac
}

all=(kubernetes kube-scheduler etcd opa prometheus otelcol crds kwok dex kafka vault rclone)
if [[ "${1:-}" == "--dir" ]]; then
    [[ $# == 2 ]] || die "usage: $0 --dir NAME"
    ensure "$2"
    dir_of "$2"
    exit 0
fi
if [[ "${1:-}" == "--version" ]]; then
    [[ $# == 2 ]] || die "usage: $0 --version NAME"
    version_of "$2"
    exit 0
fi
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=("${all[@]}")
for name in "${names[@]}"; do version_of "$name" >/dev/null; done
for name in "${names[@]}"; do ensure "$name"; done
for name in "${names[@]}"; do report "$name" || die "$name: a cached binary does not run (delete $(dir_of "$name") to rebuild)"; done
