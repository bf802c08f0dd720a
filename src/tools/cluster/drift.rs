//! `somagen drift`: the live objects against the render, in the fields somagen sets.
//!
//! The render is dry-run applied (server-side, `--force-conflicts`) onto each live object:
//! server-side apply only touches the fields the render sets, so every difference between
//! the live object and the dry-run result is a field somagen sets whose live value is not
//! the rendered one (a `kubectl edit`, `kubectl scale`, a patch). Fields somagen does not
//! set (a label someone added, the replicas an HPA owns when the render leaves them out,
//! `status`) never differ. Each drifted field names its current owners from `managedFields`;
//! a field now owned only by a controller (by default `kube-controller-manager`, which runs
//! the HPA) is not drift. Rendered objects that are not live are reported missing; live
//! objects the stack owns that the render lacks, unexpected.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::fields::{self, Step};
use super::plan::identity_json;
use super::{State, api_version_of, describe_live};
use crate::foundation::object::{Identity, Object};
use crate::tools::diff;

/// The field managers whose changes are not drift unless told otherwise: the built-in
/// controllers (the HPA, the deployment and statefulset controllers) run under this name.
pub const CONTROLLERS: &[&str] = &["kube-controller-manager"];

/// One field whose live value is not the rendered one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// `spec.replicas`, `spec.template.spec.containers[name=web].image`.
    pub path: String,
    /// Compact JSON of the live value (`<absent>` when the field was removed), redacted for
    /// Secret data.
    pub live: String,
    /// Compact JSON of the value after applying the render.
    pub rendered: String,
    /// Who owns the field now (`kubectl (scale)`, `kubectl-edit`); empty when nobody does.
    pub owners: Vec<String>,
}

/// What drift found about one object.
#[derive(Debug, Clone)]
pub enum Finding {
    /// Live, with fields that differ from the render.
    Drifted {
        api_version: String,
        identity: Identity,
        fields: Vec<Field>,
    },
    /// In the render, not live: deleted by hand, or never applied.
    Missing {
        api_version: String,
        identity: Identity,
    },
    /// Live, owned by the stack, not in the render (what `apply --prune` deletes).
    Unexpected {
        api_version: String,
        identity: Identity,
    },
}

/// The drift of a render.
#[derive(Debug, Clone, Default)]
pub struct Drift {
    pub findings: Vec<Finding>,
    /// Rendered objects whose live state matches.
    pub in_sync: usize,
    /// Differences in fields only controllers own: `(object, path, owners)`.
    pub ignored: Vec<(Identity, String, Vec<String>)>,
}

/// Compare the observed `state` with the render. `controllers` are the managers whose
/// changes are not drift.
pub fn drift(objects: &[Object], state: &State, controllers: &[String]) -> Drift {
    let mut report = Drift::default();
    for object in objects {
        let identity = object.identity();
        let api_version = object.api_version().to_owned();
        let (Some(live), Some(dry)) = (state.live.get(&identity), state.dry_run.get(&identity))
        else {
            if !state.live.contains_key(&identity) {
                report.findings.push(Finding::Missing {
                    api_version,
                    identity,
                });
            }
            continue;
        };
        let secret = object.kind() == "Secret";
        let (live_n, dry_n) = (diff::normalize(live), diff::normalize(dry));
        let mut drifted = Vec::new();
        for path in fields::differences(&live_n, &dry_n) {
            let owners = fields::owners(live, &path);
            let shown = fields::display(&dry_n, &path);
            if !owners.is_empty()
                && owners.iter().all(|owner| {
                    let name = owner.split(' ').next().unwrap_or(owner);
                    controllers.iter().any(|c| c == name)
                })
            {
                report.ignored.push((identity.clone(), shown, owners));
                continue;
            }
            let redact = secret
                && matches!(path.first(), Some(Step::Key(k)) if k == "data" || k == "stringData");
            drifted.push(Field {
                live: show(fields::get(&live_n, &path), redact),
                rendered: show(fields::get(&dry_n, &path), redact),
                path: shown,
                owners,
            });
        }
        if drifted.is_empty() {
            report.in_sync += 1;
        } else {
            report.findings.push(Finding::Drifted {
                api_version,
                identity,
                fields: drifted,
            });
        }
    }
    for orphan in &state.orphans {
        report.findings.push(Finding::Unexpected {
            api_version: api_version_of(orphan),
            identity: describe_live(orphan),
        });
    }
    report
}

/// A value for a report line: compact JSON, at most 80 characters.
fn show(value: Option<&Value>, redact: bool) -> String {
    match value {
        None => "<absent>".to_owned(),
        Some(_) if redact => "<redacted>".to_owned(),
        Some(value) => {
            let text = value.to_string();
            if text.chars().count() > 80 {
                let cut: String = text.chars().take(77).collect();
                format!("{cut}...")
            } else {
                text
            }
        }
    }
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    fn count(&self, which: fn(&Finding) -> bool) -> usize {
        self.findings.iter().filter(|f| which(f)).count()
    }

    /// `1 drifted, 1 missing, 0 unexpected, 68 in sync`.
    pub fn summary(&self) -> String {
        format!(
            "{} drifted, {} missing, {} unexpected, {} in sync",
            self.count(|f| matches!(f, Finding::Drifted { .. })),
            self.count(|f| matches!(f, Finding::Missing { .. })),
            self.count(|f| matches!(f, Finding::Unexpected { .. })),
            self.in_sync
        )
    }

    /// One block per finding, then the summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            match finding {
                Finding::Drifted {
                    identity, fields, ..
                } => {
                    let _ = writeln!(out, "~ drifted     {identity}");
                    for field in fields {
                        let by = if field.owners.is_empty() {
                            "removed; no manager owns it now".to_owned()
                        } else {
                            format!("now owned by {}", field.owners.join(", "))
                        };
                        let _ = writeln!(
                            out,
                            "    {}: live {}, rendered {} ({by})",
                            field.path, field.live, field.rendered
                        );
                    }
                }
                Finding::Missing { identity, .. } => {
                    let _ = writeln!(
                        out,
                        "- missing     {identity} (deleted by hand, or never applied)"
                    );
                }
                Finding::Unexpected { identity, .. } => {
                    let _ = writeln!(
                        out,
                        "+ unexpected  {identity} (owned by the stack, not in the render; apply --prune deletes it)"
                    );
                }
            }
        }
        let _ = writeln!(out, "drift: {}", self.summary());
        out
    }

    /// The report as JSON: `{"summary": {...}, "findings": [...], "ignored": [...]}`.
    pub fn to_json(&self) -> Value {
        let findings: Vec<Value> = self
            .findings
            .iter()
            .map(|finding| match finding {
                Finding::Drifted {
                    api_version,
                    identity,
                    fields,
                } => json!({
                    "finding": "drifted",
                    "object": identity_json(api_version, identity),
                    "fields": fields.iter().map(|f| json!({
                        "path": f.path, "live": f.live, "rendered": f.rendered, "owners": f.owners,
                    })).collect::<Vec<_>>(),
                }),
                Finding::Missing {
                    api_version,
                    identity,
                } => json!({"finding": "missing", "object": identity_json(api_version, identity)}),
                Finding::Unexpected {
                    api_version,
                    identity,
                } => {
                    json!({"finding": "unexpected", "object": identity_json(api_version, identity)})
                }
            })
            .collect();
        json!({
            "summary": {
                "drifted": self.count(|f| matches!(f, Finding::Drifted { .. })),
                "missing": self.count(|f| matches!(f, Finding::Missing { .. })),
                "unexpected": self.count(|f| matches!(f, Finding::Unexpected { .. })),
                "inSync": self.in_sync,
            },
            "findings": findings,
            "ignored": self.ignored.iter().map(|(id, path, owners)| json!({
                "object": id.to_string(), "path": path, "owners": owners,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn deployment(replicas: u32, managed: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "n", "managedFields": managed},
            "spec": {"replicas": replicas}})
    }

    fn state_for(object: &Object, live: Value, dry: Value) -> State {
        State {
            live: HashMap::from([(object.identity(), live)]),
            dry_run: HashMap::from([(object.identity(), dry)]),
            ..State::default()
        }
    }

    #[test]
    fn a_hand_scale_is_drift_and_names_who_did_it() {
        let object = Object {
            source: "t".into(),
            value: deployment(2, json!([])),
        };
        let scaled = deployment(
            3,
            json!([{"manager": "kubectl", "operation": "Update",
            "subresource": "scale", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]),
        );
        let report = drift(
            std::slice::from_ref(&object),
            &state_for(&object, scaled, deployment(2, json!([]))),
            &["kube-controller-manager".into()],
        );
        let text = report.render();
        assert!(
            text.contains("spec.replicas: live 3, rendered 2 (now owned by kubectl (scale))"),
            "{text}"
        );
        assert_eq!(
            report.summary(),
            "1 drifted, 0 missing, 0 unexpected, 0 in sync"
        );
    }

    #[test]
    fn fields_a_controller_owns_are_not_drift() {
        let object = Object {
            source: "t".into(),
            value: deployment(2, json!([])),
        };
        let hpa = deployment(
            5,
            json!([{"manager": "kube-controller-manager", "operation": "Update",
            "subresource": "scale", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]),
        );
        let report = drift(
            std::slice::from_ref(&object),
            &state_for(&object, hpa, deployment(2, json!([]))),
            &["kube-controller-manager".into()],
        );
        assert!(report.is_empty(), "{}", report.render());
        assert_eq!(report.ignored.len(), 1);
        assert_eq!(report.in_sync, 1);
    }

    #[test]
    fn missing_objects_and_secret_values() {
        let secret = |v: &str| {
            json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "n"}, "data": {"password": v}})
        };
        let object = Object {
            source: "t".into(),
            value: secret("bmV3"),
        };
        let report = drift(
            std::slice::from_ref(&object),
            &state_for(&object, secret("aGFuZA=="), secret("bmV3")),
            &[],
        );
        let text = report.render();
        assert!(
            text.contains("data.password: live <redacted>, rendered <redacted>"),
            "{text}"
        );
        assert!(!text.contains("bmV3"));
        let gone = drift(&[object], &State::default(), &[]);
        assert!(gone.render().contains("- missing     Secret/n/s"));
    }
}
