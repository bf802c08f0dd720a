//! Strict, typed validation of built-in Kubernetes objects (Kubernetes 1.33, via k8s-openapi).
//!
//! k8s-openapi ignores unknown fields when it deserializes, so strictness takes a round trip:
//! the object is deserialized into its k8s-openapi type, serialized back, and compared with the
//! original. A key of the original that did not survive is an unknown field (a typo such as
//! `contaners`); a value the type cannot read is a type error, reported with its field path.
//! Serializing back is most of the cost, and it is only needed when the reading shows the
//! object could come back different: when a key went unread or a timestamp was read. An
//! object read without either is valid as it is.
//!
//! This crate holds the dispatch over every built-in resource type. That dispatch costs minutes
//! of release compile time, which is why it lives in a crate of its own that rarely changes.

mod compare;

pub use compare::describe;
mod de;
mod path;

use std::fmt;

use k8s_openapi::{
    ClusterResourceScope, NamespaceResourceScope, Resource, api, apiextensions_apiserver,
    apimachinery, kube_aggregator,
};
use serde::Deserialize;
use serde_json::Value;

/// A problem with one field of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldIssue {
    /// Where the problem is, e.g. `spec.template.spec.containers[0].imagePullPolicyy`: dotted
    /// keys, `[i]` for list indexes, `["a.b"]` for keys that contain dots. Empty for the object
    /// itself.
    pub path: String,
    /// What is wrong, e.g. ``unknown field `contaners`, did you mean `containers`?`` or
    /// `invalid type: string "three", expected i32`.
    pub message: String,
}

impl fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The outcome of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// `(apiVersion, kind)` is not a built-in resource type of Kubernetes 1.33; its schema must
    /// come from somewhere else.
    NotBuiltin,
    /// The object matches its type.
    Valid,
    /// The object does not match its type. Either one type error (deserialization stops at
    /// the first), or every unknown field and changed value, sorted by path.
    Invalid(Vec<FieldIssue>),
}

/// Whether a resource lives in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The resource lives in a namespace (Deployment, ConfigMap, Role, …).
    Namespaced,
    /// The resource is cluster-wide (Namespace, ClusterRole, CustomResourceDefinition, …).
    Cluster,
}

/// Maps k8s-openapi's scope marker types to [`Scope`].
///
/// Deliberately not implemented for `SubResourceScope`: subresource payloads (`Scale`,
/// `Eviction`, `TokenRequest`, `Status`) are not objects one can apply, have no scope to
/// report, and listing one in the table below fails to compile.
trait ScopeOf {
    const SCOPE: Scope;
}

impl ScopeOf for NamespaceResourceScope {
    const SCOPE: Scope = Scope::Namespaced;
}

impl ScopeOf for ClusterResourceScope {
    const SCOPE: Scope = Scope::Cluster;
}

/// One built-in resource type.
struct Builtin {
    api_version: &'static str,
    kind: &'static str,
    scope: Scope,
    check: fn(&Value) -> Check,
    check_by_round_trip: fn(&Value) -> Check,
}

/// Builds [`BUILTINS`] from a list of k8s-openapi types; everything about a row comes from the
/// type's `Resource` impl, so a row cannot disagree with its type.
macro_rules! builtins {
    ($($ty:ty),* $(,)?) => {
        /// Every resource type of k8s-openapi (feature `v1_33`) that implements `Resource`
        /// with a namespace or cluster scope.
        static BUILTINS: &[Builtin] = &[$(
            Builtin {
                api_version: <$ty as Resource>::API_VERSION,
                kind: <$ty as Resource>::KIND,
                scope: <<$ty as Resource>::Scope as ScopeOf>::SCOPE,
                check: |object| check_as::<$ty>(object, false),
                check_by_round_trip: |object| check_as::<$ty>(object, true),
            },
        )*];
    };
}

// Every `impl crate::Resource for` in k8s-openapi 0.29 `src/v1_33` (regenerate with
// `grep -rl 'impl crate::Resource for' src/v1_33`), except the generic `List<T>` and the four
// subresource payloads (see `ScopeOf`). The meta/v1 discovery documents (`APIGroup`,
// `APIGroupList`, `APIResourceList`, `APIVersions`) and the create-only reviews are kept: they
// implement `Resource`, and listing them costs nothing at run time.
builtins! {
    api::admissionregistration::v1::MutatingWebhookConfiguration,
    api::admissionregistration::v1::ValidatingAdmissionPolicy,
    api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
    api::admissionregistration::v1::ValidatingWebhookConfiguration,
    api::admissionregistration::v1alpha1::MutatingAdmissionPolicy,
    api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
    api::admissionregistration::v1beta1::ValidatingAdmissionPolicy,
    api::admissionregistration::v1beta1::ValidatingAdmissionPolicyBinding,
    api::apiserverinternal::v1alpha1::StorageVersion,
    api::apps::v1::ControllerRevision,
    api::apps::v1::DaemonSet,
    api::apps::v1::Deployment,
    api::apps::v1::ReplicaSet,
    api::apps::v1::StatefulSet,
    api::authentication::v1::SelfSubjectReview,
    api::authentication::v1::TokenReview,
    api::authorization::v1::LocalSubjectAccessReview,
    api::authorization::v1::SelfSubjectAccessReview,
    api::authorization::v1::SelfSubjectRulesReview,
    api::authorization::v1::SubjectAccessReview,
    api::autoscaling::v1::HorizontalPodAutoscaler,
    api::autoscaling::v2::HorizontalPodAutoscaler,
    api::batch::v1::CronJob,
    api::batch::v1::Job,
    api::certificates::v1::CertificateSigningRequest,
    api::certificates::v1alpha1::ClusterTrustBundle,
    api::certificates::v1beta1::ClusterTrustBundle,
    api::coordination::v1::Lease,
    api::coordination::v1alpha2::LeaseCandidate,
    api::coordination::v1beta1::LeaseCandidate,
    api::core::v1::Binding,
    api::core::v1::ComponentStatus,
    api::core::v1::ConfigMap,
    api::core::v1::Endpoints,
    api::core::v1::Event,
    api::core::v1::LimitRange,
    api::core::v1::Namespace,
    api::core::v1::Node,
    api::core::v1::PersistentVolume,
    api::core::v1::PersistentVolumeClaim,
    api::core::v1::Pod,
    api::core::v1::PodTemplate,
    api::core::v1::ReplicationController,
    api::core::v1::ResourceQuota,
    api::core::v1::Secret,
    api::core::v1::Service,
    api::core::v1::ServiceAccount,
    api::discovery::v1::EndpointSlice,
    api::events::v1::Event,
    api::flowcontrol::v1::FlowSchema,
    api::flowcontrol::v1::PriorityLevelConfiguration,
    api::networking::v1::Ingress,
    api::networking::v1::IngressClass,
    api::networking::v1::IPAddress,
    api::networking::v1::NetworkPolicy,
    api::networking::v1::ServiceCIDR,
    api::networking::v1beta1::IPAddress,
    api::networking::v1beta1::ServiceCIDR,
    api::node::v1::RuntimeClass,
    api::policy::v1::PodDisruptionBudget,
    api::rbac::v1::ClusterRole,
    api::rbac::v1::ClusterRoleBinding,
    api::rbac::v1::Role,
    api::rbac::v1::RoleBinding,
    api::resource::v1alpha3::DeviceClass,
    api::resource::v1alpha3::DeviceTaintRule,
    api::resource::v1alpha3::ResourceClaim,
    api::resource::v1alpha3::ResourceClaimTemplate,
    api::resource::v1alpha3::ResourceSlice,
    api::resource::v1beta1::DeviceClass,
    api::resource::v1beta1::ResourceClaim,
    api::resource::v1beta1::ResourceClaimTemplate,
    api::resource::v1beta1::ResourceSlice,
    api::resource::v1beta2::DeviceClass,
    api::resource::v1beta2::ResourceClaim,
    api::resource::v1beta2::ResourceClaimTemplate,
    api::resource::v1beta2::ResourceSlice,
    api::scheduling::v1::PriorityClass,
    api::storage::v1::CSIDriver,
    api::storage::v1::CSINode,
    api::storage::v1::CSIStorageCapacity,
    api::storage::v1::StorageClass,
    api::storage::v1::VolumeAttachment,
    api::storage::v1alpha1::VolumeAttributesClass,
    api::storage::v1beta1::VolumeAttributesClass,
    api::storagemigration::v1alpha1::StorageVersionMigration,
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    apimachinery::pkg::apis::meta::v1::APIGroup,
    apimachinery::pkg::apis::meta::v1::APIGroupList,
    apimachinery::pkg::apis::meta::v1::APIResourceList,
    apimachinery::pkg::apis::meta::v1::APIVersions,
    kube_aggregator::pkg::apis::apiregistration::v1::APIService,
}

fn lookup(api_version: &str, kind: &str) -> Option<&'static Builtin> {
    // A linear scan of ~90 rows, comparing the kind first (lengths differ, so most
    // comparisons end at once); cheap next to deserializing the object.
    BUILTINS
        .iter()
        .find(|b| b.kind == kind && b.api_version == api_version)
}

/// Checks one object (a JSON mapping with `apiVersion` and `kind`) against the k8s-openapi
/// type for `(api_version, kind)` in Kubernetes 1.33.
///
/// `api_version` and `kind` should be the object's own; if they differ from it, the object is
/// reported invalid at `apiVersion` or `kind`. Safe to call from many threads at once.
pub fn check(api_version: &str, kind: &str, object: &Value) -> Check {
    match lookup(api_version, kind) {
        Some(builtin) => (builtin.check)(object),
        None => Check::NotBuiltin,
    }
}

/// [`check`], always taking the round trip: what it must agree with, for tests.
#[doc(hidden)]
pub fn check_by_round_trip(api_version: &str, kind: &str, object: &Value) -> Check {
    match lookup(api_version, kind) {
        Some(builtin) => (builtin.check_by_round_trip)(object),
        None => Check::NotBuiltin,
    }
}

/// Whether `(api_version, kind)` is a built-in resource type of Kubernetes 1.33, and whether
/// it is namespaced; `None` when it is not built in (exactly when [`check`] says
/// [`Check::NotBuiltin`]).
pub fn builtin_scope(api_version: &str, kind: &str) -> Option<Scope> {
    lookup(api_version, kind).map(|b| b.scope)
}

/// Whether `kind` of API `group` (`""` for the core group) is a built-in resource type of
/// Kubernetes 1.33, in any version: what makes `Deployment` of `apps` a Deployment and
/// `Deployment` of `example.com` a custom resource.
pub fn is_builtin_group_kind(group: &str, kind: &str) -> bool {
    BUILTINS
        .iter()
        .any(|b| b.kind == kind && b.api_version.rsplit_once('/').map_or("", |(g, _)| g) == group)
}

/// Deserializes `object` as `T`, keeping track of paths (and, if asked, of undeclared keys).
fn deserialize<T>(object: &Value, collect_strays: bool) -> (Result<T, de::DeError>, de::Tracker)
where
    T: for<'de> Deserialize<'de>,
{
    let tracker = de::Tracker {
        collect_strays,
        ..de::Tracker::default()
    };
    let typed = T::deserialize(de::ValueDe {
        value: object,
        path: &path::ROOT,
        tracker: &tracker,
    });
    (typed, tracker)
}

/// The check of the crate docs, for one type; with `always_round_trip`, the round trip is
/// taken even when the reading shows it would find nothing.
fn check_as<T>(object: &Value, always_round_trip: bool) -> Check
where
    T: Resource + for<'de> Deserialize<'de> + serde::Serialize,
{
    let (typed, tracker) = deserialize::<T>(object, false);
    let typed = match typed {
        Ok(typed) => typed,
        Err(de::DeError(message)) => {
            let path = tracker
                .error_path
                .into_inner()
                .map(|p| p.render())
                .unwrap_or_default();
            return Check::Invalid(vec![FieldIssue {
                path,
                message: message.into_string(),
            }]);
        }
    };
    if !always_round_trip && !tracker.round_trip_differs.get() {
        return Check::Valid;
    }
    round_trip_findings(object, &typed)
}

/// The unknown fields and changed values of an object that its type read: what did not
/// come back the same from serializing the typed reading.
fn round_trip_findings<T>(object: &Value, typed: &T) -> Check
where
    T: for<'de> Deserialize<'de> + serde::Serialize,
{
    let round_trip = match serde_json::to_value(typed) {
        Ok(value) => value,
        Err(e) => {
            // k8s-openapi types serialize infallibly in practice (only timestamp formatting
            // can fail, for years past 9999); report rather than panic.
            return Check::Invalid(vec![FieldIssue {
                path: String::new(),
                message: format!("cannot serialize the object back: {e}"),
            }]);
        }
    };
    let mut findings = Vec::new();
    compare::compare(object, &round_trip, &path::ROOT, &mut findings);
    if findings.is_empty() {
        return Check::Valid;
    }
    // Rare: read the object once more, this time noting the fields each struct declares, so
    // that unknown fields can come with a suggestion.
    let strays = if findings
        .iter()
        .any(|f| matches!(f.problem, compare::Problem::UnknownField))
    {
        deserialize::<T>(object, true).1.strays.into_inner()
    } else {
        Vec::new()
    };
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    Check::Invalid(
        findings
            .iter()
            .map(|f| FieldIssue {
                path: f.path.render(),
                message: f.message(&strays),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
