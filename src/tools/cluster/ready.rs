//! Readiness, as kstatus (the rules `kubectl wait`, Argo CD and Flux share) judges it:
//!
//! - Deployment: the controller has seen the latest spec (`observedGeneration`), and
//!   updated, ready and available replicas all reach `spec.replicas`, with no old pods left;
//!   `ProgressDeadlineExceeded` fails it;
//! - StatefulSet: seen, ready and updated replicas reach `spec.replicas`, and the current
//!   revision is the update revision;
//! - DaemonSet: seen, and every scheduled pod updated and available;
//! - Job: condition `Complete`; `Failed` fails it;
//! - PersistentVolumeClaim: `Bound`; CustomResourceDefinition: `Established`;
//! - anything else: ready once it exists.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::kubectl::{self, Kubectl};
use super::live_object;
use crate::foundation::diag::Result;
use crate::foundation::object::{Identity, Object};

/// The kinds readiness waits for; the others are ready when applied.
pub const WAITED_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
];

/// One object's readiness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub identity: Identity,
    pub state: State,
    /// What is missing, e.g. `1/3 replicas ready`.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Ready,
    InProgress,
    Failed,
}

/// The status of a condition type (`Some(true)` for `"True"`).
pub fn condition(value: &Value, kind: &str) -> Option<bool> {
    value
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        .and_then(|c| c.get("status").and_then(Value::as_str))
        .map(|status| status == "True")
}

fn condition_reason<'a>(value: &'a Value, kind: &str) -> Option<&'a str> {
    value
        .pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
        .and_then(|c| c.get("reason").and_then(Value::as_str))
}

fn int(value: &Value, pointer: &str) -> i64 {
    value.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// The readiness of a live object.
pub fn status(value: &Value) -> Status {
    let object = live_object(value.clone());
    let identity = object.identity();
    let (state, message) = judge(object.kind(), value);
    Status {
        identity,
        state,
        message,
    }
}

fn judge(kind: &str, v: &Value) -> (State, String) {
    let observed = int(v, "/status/observedGeneration") >= int(v, "/metadata/generation");
    let want = v
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    match kind {
        "Deployment" => {
            if condition_reason(v, "Progressing") == Some("ProgressDeadlineExceeded") {
                return (State::Failed, "progress deadline exceeded".into());
            }
            let (updated, ready, available, total) = (
                int(v, "/status/updatedReplicas"),
                int(v, "/status/readyReplicas"),
                int(v, "/status/availableReplicas"),
                int(v, "/status/replicas"),
            );
            if !observed {
                (
                    State::InProgress,
                    "the controller has not seen the new spec yet".into(),
                )
            } else if updated < want {
                (
                    State::InProgress,
                    format!("{updated}/{want} replicas updated"),
                )
            } else if total > updated {
                (
                    State::InProgress,
                    format!("{} old replicas pending termination", total - updated),
                )
            } else if available < want || ready < want {
                (
                    State::InProgress,
                    format!("{ready}/{want} replicas ready, {available} available"),
                )
            } else {
                (State::Ready, format!("{ready}/{want} replicas ready"))
            }
        }
        "StatefulSet" => {
            let (ready, updated) = (
                int(v, "/status/readyReplicas"),
                int(v, "/status/updatedReplicas"),
            );
            let current = v.pointer("/status/currentRevision").and_then(Value::as_str);
            let update = v.pointer("/status/updateRevision").and_then(Value::as_str);
            if !observed {
                (
                    State::InProgress,
                    "the controller has not seen the new spec yet".into(),
                )
            } else if ready < want {
                (State::InProgress, format!("{ready}/{want} replicas ready"))
            } else if updated < want || current != update {
                (
                    State::InProgress,
                    format!("{updated}/{want} replicas updated"),
                )
            } else {
                (State::Ready, format!("{ready}/{want} replicas ready"))
            }
        }
        "DaemonSet" => {
            let desired = int(v, "/status/desiredNumberScheduled");
            let (updated, available) = (
                int(v, "/status/updatedNumberScheduled"),
                int(v, "/status/numberAvailable"),
            );
            if observed && updated >= desired && available >= desired {
                (
                    State::Ready,
                    format!("{available}/{desired} pods available"),
                )
            } else {
                (
                    State::InProgress,
                    format!("{available}/{desired} pods available"),
                )
            }
        }
        "Job" => {
            if condition(v, "Complete") == Some(true) {
                (State::Ready, "complete".into())
            } else if condition(v, "Failed") == Some(true) {
                (State::Failed, "failed".into())
            } else {
                (
                    State::InProgress,
                    format!(
                        "{} succeeded, {} active",
                        int(v, "/status/succeeded"),
                        int(v, "/status/active")
                    ),
                )
            }
        }
        "PersistentVolumeClaim" => match v.pointer("/status/phase").and_then(Value::as_str) {
            Some("Bound") => (State::Ready, "bound".into()),
            Some("Lost") => (State::Failed, "lost".into()),
            phase => (
                State::InProgress,
                format!(
                    "{}, not bound",
                    phase.unwrap_or("pending").to_ascii_lowercase()
                ),
            ),
        },
        "CustomResourceDefinition" => {
            if condition(v, "Established") == Some(true) {
                (State::Ready, "established".into())
            } else {
                (State::InProgress, "not established".into())
            }
        }
        _ => (State::Ready, "exists".into()),
    }
}

/// Poll the objects of `objects` that readiness waits for, every `interval`, until all are
/// ready, one has failed, or `timeout` has passed. `progress` sees every poll. Returns the
/// last statuses.
pub fn wait(
    kubectl: &Kubectl,
    objects: &[Object],
    timeout: Duration,
    interval: Duration,
    progress: &mut dyn FnMut(&[Status]),
) -> Result<Vec<Status>> {
    let watched: Vec<&Object> = objects
        .iter()
        .filter(|o| WAITED_KINDS.contains(&o.kind()))
        .collect();
    if watched.is_empty() {
        return Ok(vec![]);
    }
    let input = kubectl::stdin_of(&watched);
    let deadline = Instant::now() + timeout;
    loop {
        let live = kubectl.objects(
            "reading readiness",
            &["get", "-f", "-", "--ignore-not-found", "-o", "json"],
            Some(&input),
        )?;
        let mut statuses: Vec<Status> = live.iter().map(status).collect();
        for object in &watched {
            let identity = object.identity();
            if !statuses
                .iter()
                .any(|s| s.identity.kind == identity.kind && s.identity.name == identity.name)
            {
                statuses.push(Status {
                    identity,
                    state: State::InProgress,
                    message: "not found".into(),
                });
            }
        }
        progress(&statuses);
        let done = statuses.iter().all(|s| s.state == State::Ready);
        let failed = statuses.iter().any(|s| s.state == State::Failed);
        if done || failed || Instant::now() >= deadline {
            return Ok(statuses);
        }
        std::thread::sleep(interval.min(deadline.saturating_duration_since(Instant::now())));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn deployments_are_ready_when_every_replica_is() {
        let d = |ready: i64| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "w", "namespace": "n", "generation": 2},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
                "readyReplicas": ready, "availableReplicas": ready}})
        };
        assert_eq!(status(&d(1)).state, State::InProgress);
        assert_eq!(status(&d(1)).message, "1/2 replicas ready, 1 available");
        assert_eq!(status(&d(2)).state, State::Ready);
        let mut stale = d(2);
        stale["status"]["observedGeneration"] = json!(1);
        assert_eq!(status(&stale).state, State::InProgress);
    }

    #[test]
    fn jobs_claims_and_definitions() {
        let job = json!({"kind": "Job", "metadata": {"name": "j"},
            "status": {"conditions": [{"type": "Failed", "status": "True"}]}});
        assert_eq!(status(&job).state, State::Failed);
        let pvc = json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "c"}, "status": {"phase": "Pending"}});
        assert_eq!(status(&pvc).message, "pending, not bound");
        let crd = json!({"kind": "CustomResourceDefinition", "metadata": {"name": "x"},
            "status": {"conditions": [{"type": "Established", "status": "True"}]}});
        assert_eq!(status(&crd).state, State::Ready);
    }
}
