use std::collections::HashSet;

use serde_json::{Value, json};

use super::*;

/// [`check`] of `object`, which every test also holds equal to the check that always takes
/// the round trip.
#[track_caller]
fn run(object: &Value) -> Check {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let checked = check(api_version, kind, object);
    assert_eq!(
        checked,
        check_by_round_trip(api_version, kind, object),
        "{object:#}"
    );
    checked
}

#[track_caller]
fn assert_valid(object: Value) {
    assert_eq!(run(&object), Check::Valid, "{object:#}");
}

#[track_caller]
fn issues(object: Value) -> Vec<(String, String)> {
    match run(&object) {
        Check::Invalid(issues) => issues.into_iter().map(|i| (i.path, i.message)).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn issue(path: &str, message: &str) -> (String, String) {
    (path.to_owned(), message.to_owned())
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "prod",
            "creationTimestamp": null,
            "labels": {"app.kubernetes.io/name": "web", "tier": "frontend"},
            "annotations": {"checksum/config": "abc"}
        },
        "spec": {
            "replicas": 3,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {
                    "serviceAccountName": "web",
                    "securityContext": {"runAsNonRoot": true, "fsGroup": 2000},
                    "containers": [{
                        "name": "web",
                        "image": "nginx:1.27",
                        "imagePullPolicy": "IfNotPresent",
                        "args": ["--port", "8080"],
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "env": [
                            {"name": "MODE", "value": "prod"},
                            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
                        ],
                        "envFrom": [{"configMapRef": {"name": "web"}}],
                        "resources": {
                            "requests": {"cpu": "500m", "memory": "1Gi"},
                            "limits": {"cpu": 1, "memory": "1Gi", "ephemeral-storage": "2G"}
                        },
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
                        "livenessProbe": {"tcpSocket": {"port": 8080}},
                        "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": true}],
                        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
                    }],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "web", "items": [{"key": "a", "path": "a.conf"}]}},
                        {"name": "tmp", "emptyDir": {}}
                    ],
                    "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                        "weight": 100,
                        "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}}}
                    }]}},
                    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}]
                }
            }
        }
    })
}

#[test]
fn valid_deployment() {
    assert_valid(deployment());
}

#[test]
fn typo_is_an_unknown_field_with_its_path_and_a_suggestion() {
    let mut d = deployment();
    let spec = &mut d["spec"]["template"]["spec"];
    let containers = spec["containers"].take();
    spec["contaners"] = containers;
    assert_eq!(
        issues(d),
        [issue(
            "spec.template.spec.contaners",
            "unknown field `contaners`, did you mean `containers`?"
        )]
    );
}

#[test]
fn all_unknown_fields_are_reported_sorted_by_path() {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    d["spec"]["zzz"] = json!(1);
    d["metadata"]["lables"] = json!({"a": "b"});
    d["spec"]["template"]["spec"]["volumes"][1]["emptyDir"]["sizeLimt"] = json!("1Gi");
    let containers = &mut d["spec"]["template"]["spec"]["containers"];
    let first = containers[0].clone();
    for i in 1..=10 {
        let mut c = first.clone();
        c["name"] = json!(format!("c{i}"));
        containers.as_array_mut().expect("a list").push(c);
    }
    assert_eq!(
        issues(d),
        [
            issue(
                "metadata.lables",
                "unknown field `lables`, did you mean `labels`?"
            ),
            issue(
                "spec.template.spec.containers[0].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[1].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[2].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[3].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[4].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[5].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[6].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[7].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[8].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[9].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.containers[10].imagePullPolicyy",
                "unknown field `imagePullPolicyy`, did you mean `imagePullPolicy`?"
            ),
            issue(
                "spec.template.spec.volumes[1].emptyDir.sizeLimt",
                "unknown field `sizeLimt`, did you mean `sizeLimit`?"
            ),
            issue("spec.zzz", "unknown field `zzz`"),
        ]
    );
}

#[test]
fn wrong_type_names_its_field() {
    let mut d = deployment();
    d["spec"]["replicas"] = json!("three");
    assert_eq!(
        issues(d),
        [issue(
            "spec.replicas",
            r#"invalid type: string "three", expected i32"#
        )]
    );
}

#[test]
fn wrong_type_inside_lists_names_its_index() {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = json!("http");
    assert_eq!(
        issues(d),
        [issue(
            "spec.template.spec.containers[0].ports[0].containerPort",
            r#"invalid type: string "http", expected i32"#
        )]
    );

    let mut d = deployment();
    d["metadata"]["labels"]["app.kubernetes.io/version"] = json!(1.5);
    assert_eq!(
        issues(d),
        [issue(
            r#"metadata.labels["app.kubernetes.io/version"]"#,
            "invalid type: floating point `1.5`, expected a string"
        )]
    );

    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["args"] = json!("--port=8080");
    assert_eq!(
        issues(d),
        [issue(
            "spec.template.spec.containers[0].args",
            r#"invalid type: string "--port=8080", expected a sequence"#
        )]
    );
}

#[test]
fn mismatched_kind_is_invalid() {
    let d = deployment();
    let Check::Invalid(found) = check("apps/v1", "StatefulSet", &d) else {
        panic!("expected Invalid");
    };
    assert_eq!(found.len(), 1);
    assert!(found[0].message.contains("StatefulSet"), "{found:?}");
}

#[test]
fn unknown_kinds_are_not_builtin() {
    let es = json!({
        "apiVersion": "external-secrets.io/v1beta1",
        "kind": "ExternalSecret",
        "metadata": {"name": "x"},
        "spec": {"anything": true}
    });
    assert_eq!(run(&es), Check::NotBuiltin);
    assert_eq!(
        builtin_scope("external-secrets.io/v1beta1", "ExternalSecret"),
        None
    );
    // The kind alone is not enough: the API version must match too.
    assert_eq!(
        check("apps/v1beta1", "Deployment", &deployment()),
        Check::NotBuiltin
    );
    assert_eq!(builtin_scope("v1", "Deployment"), None);
}

#[test]
fn subresource_payloads_are_not_builtin() {
    for (api_version, kind) in [
        ("autoscaling/v1", "Scale"),
        ("policy/v1", "Eviction"),
        ("authentication.k8s.io/v1", "TokenRequest"),
        ("v1", "Status"),
    ] {
        assert_eq!(builtin_scope(api_version, kind), None, "{kind}");
    }
}

#[test]
fn scopes() {
    assert_eq!(builtin_scope("v1", "Namespace"), Some(Scope::Cluster));
    assert_eq!(
        builtin_scope("apps/v1", "Deployment"),
        Some(Scope::Namespaced)
    );
    assert_eq!(
        builtin_scope("rbac.authorization.k8s.io/v1", "ClusterRole"),
        Some(Scope::Cluster)
    );
    assert_eq!(
        builtin_scope("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        Some(Scope::Cluster)
    );
    assert_eq!(builtin_scope("v1", "ConfigMap"), Some(Scope::Namespaced));
    assert_eq!(
        builtin_scope("storage.k8s.io/v1", "StorageClass"),
        Some(Scope::Cluster)
    );
}

#[test]
fn table_is_complete_and_unambiguous() {
    let mut seen = HashSet::new();
    for b in BUILTINS {
        assert!(
            seen.insert((b.api_version, b.kind)),
            "duplicate {} {}",
            b.api_version,
            b.kind
        );
        assert!(
            !b.kind.ends_with("List") || b.kind == "APIGroupList" || b.kind == "APIResourceList"
        );
    }
    // Every type of k8s-openapi 0.29 / v1_33 with a namespace or cluster scope.
    assert_eq!(BUILTINS.len(), 92);
    for (api_version, kind) in [
        ("v1", "Pod"),
        ("v1", "Service"),
        ("v1", "Secret"),
        ("v1", "PersistentVolumeClaim"),
        ("apps/v1", "DaemonSet"),
        ("batch/v1", "CronJob"),
        ("networking.k8s.io/v1", "Ingress"),
        ("networking.k8s.io/v1", "IngressClass"),
        ("policy/v1", "PodDisruptionBudget"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("autoscaling/v1", "HorizontalPodAutoscaler"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("storage.k8s.io/v1", "CSIDriver"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("coordination.k8s.io/v1", "Lease"),
        ("discovery.k8s.io/v1", "EndpointSlice"),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
        ),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("apiregistration.k8s.io/v1", "APIService"),
        ("certificates.k8s.io/v1", "CertificateSigningRequest"),
        ("node.k8s.io/v1", "RuntimeClass"),
        ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"),
        ("resource.k8s.io/v1beta2", "ResourceClaim"),
        ("events.k8s.io/v1", "Event"),
    ] {
        assert!(
            builtin_scope(api_version, kind).is_some(),
            "{api_version} {kind}"
        );
    }
}

#[test]
fn service_ports_accept_int_and_string_target_ports() {
    assert_valid(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                {"name": "metrics", "port": 9090, "targetPort": 9090}
            ]
        }
    }));
}

#[test]
fn config_map_and_secret() {
    assert_valid(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web"},
        "data": {"a.conf": "x = 1\n", "empty": ""},
        "binaryData": {"blob": "AAEC"}
    }));
    assert_valid(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "web"},
        "type": "Opaque",
        "data": {"password": "aHVudGVyMg=="},
        "stringData": {"user": "admin"}
    }));
    let found = issues(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "web"},
        "data": {"password": "not base64!"}
    }));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "data.password");
}

#[test]
fn network_policy() {
    assert_valid(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{
                "from": [
                    {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["a", "b"]}]}},
                    {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}
                ],
                "ports": [{"protocol": "TCP", "port": "http"}, {"port": 8443, "endPort": 8450}]
            }],
            "egress": [{"to": [{"podSelector": {}}]}]
        }
    }));
}

#[test]
fn pod_disruption_budget() {
    assert_valid(json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}
    }));
    assert_valid(json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"}
    }));
}

#[test]
fn stateful_set_with_volume_claim_templates() {
    assert_valid(json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db",
            "replicas": 3,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{
                    "name": "db",
                    "image": "postgres:17",
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]
                }]}
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "fast",
                    "resources": {"requests": {"storage": "10Gi"}}
                }
            }],
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Delete"}
        }
    }));
}

#[test]
fn horizontal_pod_autoscaler_v2() {
    assert_valid(json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
        }
    }));
}

#[test]
fn role_and_role_binding() {
    assert_valid(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "reader", "namespace": "prod"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list", "watch"]}]
    }));
    assert_valid(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "reader", "namespace": "prod"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "prod"}]
    }));
}

#[test]
fn resource_quantities() {
    for quantity in [
        json!("500m"),
        json!("1Gi"),
        json!("1"),
        json!(1),
        json!(0.5),
        json!("1e3"),
    ] {
        assert_valid(json!({
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "q"},
            "spec": {"hard": {"requests.cpu": quantity, "limits.memory": "1Gi", "pods": 10}}
        }));
    }
}

#[test]
fn nulls_are_unset() {
    let mut d = deployment();
    d["spec"]["strategy"] = Value::Null;
    d["spec"]["template"]["spec"]["nodeSelector"] = Value::Null;
    d["spec"]["template"]["spec"]["containers"][0]["command"] = Value::Null;
    d["status"] = Value::Null;
    assert_valid(d);
}

#[test]
fn timestamps_compare_by_instant() {
    let mut d = deployment();
    d["metadata"]["creationTimestamp"] = json!("2024-01-01T01:00:00+01:00");
    assert_valid(d);

    let mut d = deployment();
    d["metadata"]["creationTimestamp"] = json!("yesterday");
    assert_eq!(issues(d)[0].0, "metadata.creationTimestamp");
}

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["size"],
                            "properties": {
                                "size": {"type": "integer", "minimum": 1, "default": 1},
                                "ratio": {"type": "number", "default": 1.0},
                                "tags": {"type": "array", "items": {"type": "string"}},
                                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                                "mode": {"type": "string", "enum": ["a", "b"], "default": {"nested": null}}
                            }
                        }
                    }
                }},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]
            }]
        }
    })
}

#[test]
fn custom_resource_definition() {
    assert_valid(crd());
    let mut c = crd();
    c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["tags"]
        ["items"]["typ"] = json!("string");
    assert_eq!(
        issues(c),
        [issue(
            "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.tags.items.typ",
            "unknown field `typ`"
        )]
    );
}

#[test]
fn messages_display_with_their_path() {
    let issue = FieldIssue {
        path: "spec.replicas".into(),
        message: "bad".into(),
    };
    assert_eq!(issue.to_string(), "spec.replicas: bad");
}

#[test]
fn works_from_many_threads() {
    let d = deployment();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| assert_eq!(run(&d), Check::Valid));
        }
    });
}

#[test]
fn every_builtin_accepts_a_minimal_object() {
    for b in BUILTINS {
        let mut object = json!({"apiVersion": b.api_version, "kind": b.kind});
        // The discovery documents of meta/v1 (APIGroup, APIVersions, …) have no metadata.
        let discovery = b.api_version == "v1" && b.kind.starts_with("API");
        if !discovery {
            object["metadata"] = json!({"name": "x"});
        }
        assert_eq!(run(&object), Check::Valid, "{} {}", b.api_version, b.kind);
        if discovery {
            continue;
        }
        let mut typo = object.clone();
        typo["metdata"] = json!({});
        assert_eq!(
            run(&typo),
            Check::Invalid(vec![FieldIssue {
                path: "metdata".into(),
                message: "unknown field `metdata`, did you mean `metadata`?".into()
            }]),
            "{} {}",
            b.api_version,
            b.kind
        );
    }
}
