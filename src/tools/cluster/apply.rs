//! `somagen apply`: server-side apply in install order, then prune.
//!
//! 1. CustomResourceDefinitions, then `kubectl wait --for=condition=Established`, so the
//!    custom resources that follow can be applied;
//! 2. Namespaces, before anything that lives in them;
//! 3. everything else, in install order, in one `kubectl apply`.
//!
//! Every step is `kubectl apply --server-side --field-manager=somagen --force-conflicts`:
//! somagen is the source of truth for the fields it renders, so a field someone changed by
//! hand is taken back (`plan` and `drift` show which). Pruning deletes the plan's orphans,
//! in reverse install order.

use serde_json::json;

use super::kubectl::{self, Kubectl};
use super::plan::Plan;
use super::{MANAGER, resource_arg};
use crate::foundation::diag::Result;
use crate::foundation::object::Object;

/// How long CustomResourceDefinitions may take to be Established.
pub const ESTABLISHED_TIMEOUT: &str = "60s";

/// Apply `objects` (in install order) in three steps; returns the warnings the API server
/// sent (deprecated APIs, Pod Security, overlapping volume paths).
pub fn apply(kubectl: &Kubectl, objects: &[Object]) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    let crds: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind() == "CustomResourceDefinition")
        .collect();
    let namespaces: Vec<&Object> = objects.iter().filter(|o| o.kind() == "Namespace").collect();
    let rest: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind() != "CustomResourceDefinition" && o.kind() != "Namespace")
        .collect();
    if !crds.is_empty() {
        warnings.extend(server_side_apply(
            kubectl,
            "applying the CustomResourceDefinitions",
            &crds,
        )?);
        let mut args = vec![
            "wait".to_owned(),
            "--for=condition=Established".to_owned(),
            format!("--timeout={ESTABLISHED_TIMEOUT}"),
        ];
        args.extend(
            crds.iter()
                .map(|crd| format!("customresourcedefinition/{}", crd.name())),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kubectl.ok(
            "waiting for the CustomResourceDefinitions to be Established",
            &args,
            None,
        )?;
    }
    if !namespaces.is_empty() {
        warnings.extend(server_side_apply(
            kubectl,
            "applying the namespaces",
            &namespaces,
        )?);
    }
    if !rest.is_empty() {
        warnings.extend(server_side_apply(kubectl, "applying the stack", &rest)?);
    }
    Ok(warnings)
}

fn server_side_apply(kubectl: &Kubectl, what: &str, objects: &[&Object]) -> Result<Vec<String>> {
    let (_, warnings) = kubectl.ok_warned(
        what,
        &[
            "apply",
            "--server-side",
            "--field-manager",
            MANAGER,
            "--force-conflicts",
            "-f",
            "-",
        ],
        Some(&kubectl::stdin_of(objects)),
    )?;
    Ok(warnings)
}

/// Delete the plan's orphans (already in reverse install order); objects already gone are
/// not an error.
pub fn prune(kubectl: &Kubectl, plan: &Plan) -> Result<usize> {
    let targets: Vec<Object> = plan
        .prunes()
        .map(|change| {
            let mut metadata = json!({"name": change.identity.name});
            if !change.identity.namespace.is_empty() {
                metadata["namespace"] = json!(change.identity.namespace);
            }
            Object {
                source: resource_arg(&change.api_version, &change.identity.kind),
                value: json!({"apiVersion": change.api_version, "kind": change.identity.kind, "metadata": metadata}),
            }
        })
        .collect();
    if targets.is_empty() {
        return Ok(0);
    }
    let refs: Vec<&Object> = targets.iter().collect();
    kubectl.ok(
        "pruning",
        &["delete", "--ignore-not-found", "--wait=false", "-f", "-"],
        Some(&kubectl::stdin_of(&refs)),
    )?;
    Ok(targets.len())
}
