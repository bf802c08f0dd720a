//! The API server's rule for `metadata.name`, per kind (`pkg/apis/*/validation` of Kubernetes
//! 1.33): most kinds are DNS-1123 subdomains, some are DNS labels, Services DNS-1035 labels,
//! RBAC kinds path segments, CronJobs subdomains short enough for their Jobs' names, and a
//! CustomResourceDefinition `<plural>.<group>`. Custom resources are subdomains.

use serde_json::Value;

use super::Object;

/// A naming rule of the API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain: lowercase alphanumerics, `-` and `.`, at most 253 characters.
    Subdomain,
    /// RFC 1123 label: lowercase alphanumerics and `-`, at most 63 characters.
    Label,
    /// RFC 1035 label: an RFC 1123 label that starts with a letter.
    Dns1035Label,
    /// A path segment: anything but `/` and `%`, and not `.` or `..`.
    PathSegment,
    /// A subdomain of at most 52 characters: the CronJob controller appends 11 to name Jobs.
    CronJob,
    /// `<spec.names.plural>.<spec.group>`.
    CustomResourceDefinition,
}

impl NameRule {
    /// The rule of `kind` in API `group`.
    pub fn of(group: &str, kind: &str) -> NameRule {
        match (group, kind) {
            ("", "Namespace") | ("apps", "StatefulSet") => NameRule::Label,
            ("", "Service") => NameRule::Dns1035Label,
            (
                "rbac.authorization.k8s.io",
                "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding",
            ) => NameRule::PathSegment,
            ("batch", "CronJob") => NameRule::CronJob,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                NameRule::CustomResourceDefinition
            }
            _ => NameRule::Subdomain,
        }
    }

    /// The rule's name and what it allows, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            NameRule::Subdomain => {
                "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters"
            }
            NameRule::Label => {
                "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"
            }
            NameRule::Dns1035Label => {
                "a DNS-1035 label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters"
            }
            NameRule::PathSegment => {
                "a path segment: anything but '/' and '%', and not '.' or '..'"
            }
            NameRule::CronJob => {
                "a DNS-1123 subdomain of at most 52 characters (the CronJob controller appends 11 to name its Jobs)"
            }
            NameRule::CustomResourceDefinition => "`<spec.names.plural>.<spec.group>`",
        }
    }
}

/// Why `object`'s name breaks the rule of its kind, with the rule, if it does.
pub fn name_problem(object: &Object) -> Option<(NameRule, String)> {
    let identity = object.identity();
    let rule = NameRule::of(&identity.group, &identity.kind);
    let name = identity.name.as_str();
    let problem = match rule {
        NameRule::Subdomain => subdomain_problem(name, 253),
        NameRule::CronJob => subdomain_problem(name, 52),
        NameRule::Label => label_problem(name, false),
        NameRule::Dns1035Label => label_problem(name, true),
        NameRule::PathSegment => path_segment_problem(name),
        NameRule::CustomResourceDefinition => {
            let field = |pointer| object.field(pointer).and_then(Value::as_str).unwrap_or("");
            let expected = format!("{}.{}", field("/spec/names/plural"), field("/spec/group"));
            (name != expected).then(|| format!("it must be `{expected}`"))
        }
    };
    problem.map(|problem| (rule, problem))
}

fn is_alphanumeric(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn subdomain_problem(name: &str, max: usize) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > max {
        return Some(format!("it is longer than {max} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Some(format!("it contains `{c}`"));
    }
    // Each dot-separated part is a label that starts and ends with a letter or digit.
    if name.split('.').any(|part| {
        !part.bytes().next().is_some_and(is_alphanumeric)
            || !part.bytes().last().is_some_and(is_alphanumeric)
    }) {
        return Some("each part between dots must start and end with a letter or digit".into());
    }
    None
}

fn label_problem(name: &str, starts_with_letter: bool) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.len() > 63 {
        return Some("it is longer than 63 characters".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("it contains `{c}`"));
    }
    let first = name.as_bytes()[0];
    if starts_with_letter && !first.is_ascii_lowercase() {
        return Some("it must start with a letter".into());
    }
    if !is_alphanumeric(first) || !name.bytes().last().is_some_and(is_alphanumeric) {
        return Some("it must start and end with a letter or digit".into());
    }
    None
}

fn path_segment_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name == "." || name == ".." {
        return Some(format!("it may not be `{name}`"));
    }
    name.chars()
        .find(|c| matches!(c, '/' | '%'))
        .map(|c| format!("it contains `{c}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(api_version: &str, kind: &str, name: &str) -> Option<String> {
        let object = Object {
            source: String::new(),
            value: json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name},
                "spec": {"group": "example.com", "names": {"plural": "widgets"}}}),
        };
        name_problem(&object).map(|(_, problem)| problem)
    }

    #[test]
    fn rbac_names_are_path_segments() {
        let rbac = "rbac.authorization.k8s.io/v1";
        for kind in ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"] {
            assert_eq!(problem(rbac, kind, "system:kube-scheduler"), None);
            assert_eq!(
                problem(rbac, kind, "custom:aggregate-to-edit:endpoints"),
                None
            );
            assert_eq!(
                problem(rbac, kind, "a/b").as_deref(),
                Some("it contains `/`")
            );
            assert_eq!(
                problem(rbac, kind, "..").as_deref(),
                Some("it may not be `..`")
            );
        }
        // A colon is still refused where the rule is a subdomain.
        assert_eq!(
            problem("v1", "ConfigMap", "a:b").as_deref(),
            Some("it contains `:`")
        );
    }

    #[test]
    fn each_kind_has_its_rule() {
        assert_eq!(problem("v1", "ConfigMap", "a.b-c"), None);
        assert!(
            problem("v1", "Namespace", "a.b").is_some(),
            "a namespace is a label"
        );
        assert!(problem("apps/v1", "StatefulSet", "a.b").is_some());
        assert_eq!(problem("apps/v1", "Deployment", "a.b"), None);
        assert_eq!(
            problem("v1", "Service", "1abc").as_deref(),
            Some("it must start with a letter")
        );
        assert_eq!(problem("v1", "Namespace", "1abc"), None);
        assert_eq!(problem("batch/v1", "CronJob", &"a".repeat(52)), None);
        assert!(problem("batch/v1", "CronJob", &"a".repeat(53)).is_some());
        assert!(problem("v1", "ConfigMap", "a..b").is_some());
        assert!(problem("v1", "ConfigMap", &"a".repeat(254)).is_some());
        assert_eq!(problem("example.com/v1", "Widget", "a.b"), None);
        let crd = "apiextensions.k8s.io/v1";
        assert_eq!(
            problem(crd, "CustomResourceDefinition", "widgets.example.com"),
            None
        );
        assert_eq!(
            problem(crd, "CustomResourceDefinition", "widget.example.com").as_deref(),
            Some("it must be `widgets.example.com`")
        );
    }
}
