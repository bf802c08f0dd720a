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
    match kind {
        "Deployment" => deployment(v),
        "StatefulSet" => stateful_set(v),
        "DaemonSet" => daemon_set(v),
        "Job" => job(v),
        "PersistentVolumeClaim" => claim(v),
        "CustomResourceDefinition" => match condition(v, "Established") {
            Some(true) => (State::Ready, "established".into()),
            _ => (State::InProgress, "not established".into()),
        },
        _ => (State::Ready, "exists".into()),
    }
}

fn in_progress(why: impl Into<String>) -> (State, String) {
    (State::InProgress, why.into())
}

/// Whether the controller has acted on the current spec (its status is about this generation).
fn observed(v: &Value) -> bool {
    int(v, "/status/observedGeneration") >= int(v, "/metadata/generation")
}

fn wanted_replicas(v: &Value) -> i64 {
    v.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

const NOT_OBSERVED: &str = "the controller has not seen the new spec yet";

fn deployment(v: &Value) -> (State, String) {
    if condition_reason(v, "Progressing") == Some("ProgressDeadlineExceeded") {
        return (State::Failed, "progress deadline exceeded".into());
    }
    let want = wanted_replicas(v);
    let updated = int(v, "/status/updatedReplicas");
    let ready = int(v, "/status/readyReplicas");
    let available = int(v, "/status/availableReplicas");
    let total = int(v, "/status/replicas");
    if !observed(v) {
        in_progress(NOT_OBSERVED)
    } else if updated < want {
        in_progress(format!("{updated}/{want} replicas updated"))
    } else if total > updated {
        in_progress(format!(
            "{} old replicas pending termination",
            total - updated
        ))
    } else if available < want || ready < want {
        in_progress(format!(
            "{ready}/{want} replicas ready, {available} available"
        ))
    } else {
        (State::Ready, format!("{ready}/{want} replicas ready"))
    }
}

fn stateful_set(v: &Value) -> (State, String) {
    let want = wanted_replicas(v);
    let ready = int(v, "/status/readyReplicas");
    let updated = int(v, "/status/updatedReplicas");
    let revision = |field: &str| v.pointer(field).and_then(Value::as_str);
    if !observed(v) {
        in_progress(NOT_OBSERVED)
    } else if ready < want {
        in_progress(format!("{ready}/{want} replicas ready"))
    } else if updated < want
        || revision("/status/currentRevision") != revision("/status/updateRevision")
    {
        in_progress(format!("{updated}/{want} replicas updated"))
    } else {
        (State::Ready, format!("{ready}/{want} replicas ready"))
    }
}

fn daemon_set(v: &Value) -> (State, String) {
    let desired = int(v, "/status/desiredNumberScheduled");
    let updated = int(v, "/status/updatedNumberScheduled");
    let available = int(v, "/status/numberAvailable");
    let state = if observed(v) && updated >= desired && available >= desired {
        State::Ready
    } else {
        State::InProgress
    };
    (state, format!("{available}/{desired} pods available"))
}

fn job(v: &Value) -> (State, String) {
    if condition(v, "Complete") == Some(true) {
        (State::Ready, "complete".into())
    } else if condition(v, "Failed") == Some(true) {
        (State::Failed, "failed".into())
    } else {
        in_progress(format!(
            "{} succeeded, {} active",
            int(v, "/status/succeeded"),
            int(v, "/status/active")
        ))
    }
}

fn claim(v: &Value) -> (State, String) {
    match v.pointer("/status/phase").and_then(Value::as_str) {
        Some("Bound") => (State::Ready, "bound".into()),
        Some("Lost") => (State::Failed, "lost".into()),
        phase => in_progress(format!(
            "{}, not bound",
            phase.unwrap_or("pending").to_ascii_lowercase()
        )),
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

    #[test]
    fn stateful_sets_wait_for_the_rolling_update_and_daemon_sets_for_every_node() {
        let sts = |current: &str| {
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "s", "namespace": "n", "generation": 3},
            "spec": {"replicas": 3},
            "status": {"observedGeneration": 3, "readyReplicas": 3, "updatedReplicas": 3,
                "currentRevision": current, "updateRevision": "s-2"}})
        };
        assert_eq!(status(&sts("s-1")).message, "3/3 replicas updated");
        assert_eq!(status(&sts("s-1")).state, State::InProgress);
        assert_eq!(status(&sts("s-2")).state, State::Ready);
        let ds = |available: i64| {
            json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "d", "namespace": "n", "generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 2,
                "updatedNumberScheduled": 2, "numberAvailable": available}})
        };
        assert_eq!(status(&ds(1)).state, State::InProgress);
        assert_eq!(status(&ds(2)).message, "2/2 pods available");
        assert_eq!(status(&ds(2)).state, State::Ready);
    }
}
