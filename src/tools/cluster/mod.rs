//! Talking to a cluster: `plan`, `apply` and `drift`.
//!
//! Everything goes through [`kubectl::Kubectl`] and server-side apply with the field
//! manager `somagen`. The three commands share one observation of the cluster
//! ([`observe`]):
//!
//! - the live objects of the render (`kubectl get -f -`, with their `managedFields`);
//! - the render as the API server would store it (`kubectl apply --server-side
//!   --dry-run=server --force-conflicts`), so defaulting and the fields other managers own
//!   are the server's, not noise;
//! - the live objects the stack owns that the render no longer has: they carry the ownership
//!   labels ([`MANAGED_BY`] = `somagen`, [`PART_OF`] = the stack's name), somagen applied them
//!   (a `somagen` `Apply` entry in their `managedFields`) and no controller owns them (pods
//!   and ReplicaSets inherit the labels from pod templates; they are never pruned).
//!
//! - [`plan`]: create / update (the fields that would change) / unchanged / prune.
//! - [`drift`]: live against render, only in fields somagen sets; who changed them.
//! - [`apply`]: install order, CRDs Established first, prune; [`ready`]: readiness.

pub mod apply;
pub mod drift;
pub mod fields;
pub mod kubectl;
pub mod plan;
pub mod ready;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::foundation::diag::{Code, Diagnostic, Location, Result, finish};
use crate::foundation::object::{Identity, Object, group};
use kubectl::Kubectl;

/// The label naming the tool that owns an object.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The label naming the stack an object belongs to.
pub const PART_OF: &str = "app.kubernetes.io/part-of";
/// somagen's field manager, and the value of [`MANAGED_BY`].
pub const MANAGER: &str = "somagen";

/// The label selector of every object a stack owns.
pub fn selector(stack_name: &str) -> String {
    format!("{MANAGED_BY}={MANAGER},{PART_OF}={stack_name}")
}

/// Every rendered object must carry the ownership labels, or prune and drift could not
/// tell the stack's objects from others: one error per object that lacks them.
pub fn check_ownership(objects: &[Object], stack_name: &str) -> Result<()> {
    let mut problems = Vec::new();
    for object in objects {
        let labels = object.map_field("/metadata/labels");
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        let mut missing = Vec::new();
        if label(MANAGED_BY) != Some(MANAGER) {
            missing.push(format!("{MANAGED_BY}: {MANAGER}"));
        }
        if label(PART_OF) != Some(stack_name) {
            missing.push(format!("{PART_OF}: {stack_name}"));
        }
        if !missing.is_empty() {
            problems.push(
                Diagnostic::error(
                    Code::Cluster,
                    format!("the object lacks the ownership labels {}", missing.join(", ")),
                )
                .at(Location::Path(object.source.clone()))
                .path(object.identity().to_string())
                .hint("prune and drift find the stack's objects by these labels: set them in metadata.labels of every object"),
            );
        }
    }
    finish((), problems)
}

/// A live or dry-run object as an [`Object`] (source: the cluster).
pub fn live_object(value: Value) -> Object {
    Object {
        source: "cluster".to_owned(),
        value,
    }
}

/// What the cluster holds for a render.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// The live objects of the render, with `managedFields`, by the rendered identity.
    pub live: HashMap<Identity, Value>,
    /// The render as the server would store it (only for objects that could be dry-run).
    pub dry_run: HashMap<Identity, Value>,
    /// Rendered objects that could not be dry-run, and why (their namespace or their
    /// CustomResourceDefinition does not exist yet): they are created.
    pub not_dry_run: BTreeMap<Identity, String>,
    /// Live objects the stack owns that the render does not have, in reverse install order.
    pub orphans: Vec<Value>,
}

/// Observe the cluster for `objects` (a render in install order). `prune_kinds` are the
/// `(apiVersion, kind)` pairs to look for orphans in: every kind any mode renders.
pub fn observe(
    kubectl: &Kubectl,
    objects: &[Object],
    prune_kinds: &BTreeSet<(String, String)>,
    stack_name: &str,
) -> Result<State> {
    let mut state = State::default();

    // Namespaces that exist, and custom kinds whose definitions are not served yet.
    let namespaces: BTreeSet<String> = kubectl
        .ok(
            "listing namespaces",
            &["get", "namespaces", "-o", "name"],
            None,
        )?
        .lines()
        .filter_map(|line| line.strip_prefix("namespace/"))
        .map(str::to_owned)
        .collect();
    let unserved = unserved_kinds(kubectl, objects)?;

    let mut observable = Vec::new();
    let mut dry_runnable = Vec::new();
    for object in objects {
        let identity = object.identity();
        let custom = (
            group(object.api_version()).to_owned(),
            object.kind().to_owned(),
        );
        if unserved.contains(&custom) {
            state.not_dry_run.insert(
                identity,
                format!(
                    "its CustomResourceDefinition ({}) is not established yet",
                    object.api_version()
                ),
            );
            continue;
        }
        let namespace = object.namespace();
        if !namespace.is_empty() && !namespaces.contains(namespace) {
            state.not_dry_run.insert(
                identity,
                format!("its namespace {namespace} does not exist yet"),
            );
            continue;
        }
        observable.push(object);
        dry_runnable.push(object);
    }
    // The namespaces themselves can always be dry-run: they are cluster-scoped.

    if !observable.is_empty() {
        let live = kubectl.objects(
            "reading the live objects",
            &[
                "get",
                "-f",
                "-",
                "--ignore-not-found",
                "--show-managed-fields",
                "-o",
                "json",
            ],
            Some(&kubectl::stdin_of(&observable)),
        )?;
        state.live = by_identity(&observable, live);
    }
    if !dry_runnable.is_empty() {
        let dry = kubectl.objects(
            "server-side apply dry run",
            &[
                "apply",
                "--server-side",
                "--field-manager",
                MANAGER,
                "--force-conflicts",
                "--dry-run=server",
                "-o",
                "json",
                "-f",
                "-",
            ],
            Some(&kubectl::stdin_of(&dry_runnable)),
        )?;
        state.dry_run = by_identity(&dry_runnable, dry);
    }
    state.orphans = orphans(kubectl, objects, prune_kinds, stack_name)?;
    Ok(state)
}

/// `(group, kind)` of the custom kinds the render defines with a CustomResourceDefinition
/// that the cluster does not serve yet (absent, or not Established).
fn unserved_kinds(kubectl: &Kubectl, objects: &[Object]) -> Result<BTreeSet<(String, String)>> {
    let crds: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind() == "CustomResourceDefinition")
        .collect();
    if crds.is_empty() {
        return Ok(BTreeSet::new());
    }
    let live = kubectl.objects(
        "reading the CustomResourceDefinitions",
        &["get", "-f", "-", "--ignore-not-found", "-o", "json"],
        Some(&kubectl::stdin_of(&crds)),
    )?;
    let established: BTreeSet<String> = live
        .iter()
        .filter(|crd| ready::condition(crd, "Established") == Some(true))
        .filter_map(|crd| crd.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    Ok(crds
        .iter()
        .filter(|crd| !established.contains(crd.name()))
        .map(|crd| {
            (
                crd.str_field("/spec/group").to_owned(),
                crd.str_field("/spec/names/kind").to_owned(),
            )
        })
        .collect())
}

/// Match what kubectl printed to the rendered objects. An object rendered without a
/// namespace is matched to the one kubectl put in the context's namespace.
fn by_identity(rendered: &[&Object], printed: Vec<Value>) -> HashMap<Identity, Value> {
    let mut printed: Vec<Option<Value>> = printed.into_iter().map(Some).collect();
    let mut out = HashMap::new();
    for object in rendered {
        let identity = object.identity();
        let found = printed.iter_mut().find(|slot| {
            slot.as_ref().is_some_and(|value| {
                let live = live_object(value.clone()).identity();
                live.kind == identity.kind
                    && live.name == identity.name
                    && (live.namespace == identity.namespace || identity.namespace.is_empty())
            })
        });
        if let Some(value) = found.and_then(Option::take) {
            out.insert(identity, value);
        }
    }
    out
}

/// Live objects with the stack's labels, applied by somagen, not controlled by another
/// object, and not in the render; in reverse install order (what to delete first).
fn orphans(
    kubectl: &Kubectl,
    objects: &[Object],
    prune_kinds: &BTreeSet<(String, String)>,
    stack_name: &str,
) -> Result<Vec<Value>> {
    if prune_kinds.is_empty() {
        return Ok(vec![]);
    }
    let resources: Vec<String> = prune_kinds
        .iter()
        .map(|(api_version, kind)| resource_arg(api_version, kind))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let selector = selector(stack_name);
    let query = |resources: &str| {
        kubectl.run(
            &[
                "get",
                resources,
                "--all-namespaces",
                "-l",
                &selector,
                "--show-managed-fields",
                "-o",
                "json",
            ],
            None,
        )
    };
    let all = resources.join(",");
    let output = query(&all)?;
    let live = if output.success {
        kubectl::parse_objects("listing the stack's objects", &output.stdout)?
    } else {
        // One kind the server does not serve (another mode's custom resource) fails the
        // whole query: ask kind by kind and skip those it does not know.
        let mut live = Vec::new();
        for resource in &resources {
            let output = query(resource)?;
            if output.success {
                live.extend(kubectl::parse_objects(
                    "listing the stack's objects",
                    &output.stdout,
                )?);
            } else if !output.stderr.contains("doesn't have a resource type")
                && !output.stderr.contains("no matches for kind")
            {
                return Err(failure_for(resource, &output.stderr).into());
            }
        }
        live
    };
    let rendered: BTreeSet<Identity> = objects.iter().map(Object::identity).collect();
    let mut orphans: Vec<Value> = live
        .into_iter()
        .filter(|value| {
            let identity = live_object(value.clone()).identity();
            !rendered.contains(&identity) && applied_by_somagen(value) && !controlled(value)
        })
        .collect();
    // Pruned in reverse install order: what lives in a namespace before the namespace.
    orphans.sort_by_cached_key(|value| {
        let identity = live_object(value.clone()).identity();
        std::cmp::Reverse((
            crate::foundation::object::order::rank(&identity.group, &identity.kind),
            identity,
        ))
    });
    Ok(orphans)
}

fn failure_for(resource: &str, stderr: &str) -> Diagnostic {
    kubectl::failure(&format!("listing the stack's {resource}"), stderr)
}

/// kubectl's name for a kind: `deployment.apps`, `configmap`.
pub fn resource_arg(api_version: &str, kind: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    match group(api_version) {
        "" => kind,
        group => format!("{kind}.{group}"),
    }
}

/// Whether somagen applied this object (a `somagen` `Apply` entry in `managedFields`).
pub fn applied_by_somagen(value: &Value) -> bool {
    value
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries.iter().any(|entry| {
                entry.get("manager").and_then(Value::as_str) == Some(MANAGER)
                    && entry.get("operation").and_then(Value::as_str) == Some("Apply")
            })
        })
}

/// Whether another object controls this one (a Pod of a ReplicaSet, a claim of a
/// StatefulSet): such objects follow their owner and are never pruned.
fn controlled(value: &Value) -> bool {
    value
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        })
}

/// The identity and `apiVersion` of a live object, for reports.
pub fn describe_live(value: &Value) -> Identity {
    live_object(value.clone()).identity()
}

/// The `apiVersion` of a live object, as reported ("" when it has none).
pub fn api_version_of(value: &Value) -> String {
    value
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Object {
        Object {
            source: "templates/x.yaml".into(),
            value,
        }
    }

    #[test]
    fn objects_without_the_ownership_labels_are_refused() {
        let good = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "labels": {MANAGED_BY: "somagen", PART_OF: "demo"}}}));
        let bad = object(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "b", "labels": {PART_OF: "other"}}}));
        assert!(check_ownership(std::slice::from_ref(&good), "demo").is_ok());
        let err = check_ownership(&[good, bad], "demo").unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert!(err.0[0].message.contains("managed-by: somagen"));
        assert!(err.0[0].message.contains("part-of: demo"));
        assert_eq!(err.0[0].path.as_deref(), Some("ConfigMap/b"));
    }

    #[test]
    fn only_objects_somagen_applied_and_nobody_controls_are_orphans() {
        let applied = json!({"metadata": {"managedFields": [
            {"manager": "somagen", "operation": "Apply"}]}});
        let updated = json!({"metadata": {"managedFields": [
            {"manager": "somagen", "operation": "Update"}]}});
        let pod = json!({"metadata": {"managedFields": [
            {"manager": "somagen", "operation": "Apply"}],
            "ownerReferences": [{"kind": "ReplicaSet", "controller": true}]}});
        assert!(applied_by_somagen(&applied) && !controlled(&applied));
        assert!(!applied_by_somagen(&updated));
        assert!(controlled(&pod));
    }

    #[test]
    fn resource_names_carry_the_group() {
        assert_eq!(resource_arg("apps/v1", "Deployment"), "deployment.apps");
        assert_eq!(resource_arg("v1", "ConfigMap"), "configmap");
    }
}
