//! `somagen plan`: what applying the render would change, object by object.
//!
//! An object is created when it is not live; updated when the server-side apply dry run of
//! the render differs from the live object (status and server-set metadata aside), shown as
//! a diff of the two, so defaulting and fields other managers own are not noise; unchanged
//! otherwise. Live objects the stack owns that the render lacks are pruned.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{State, api_version_of, describe_live, live_object};
use crate::foundation::object::{Identity, Object};
use crate::tools::{diff, text_diff};

/// What applying does to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Prune,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Prune => "prune",
        }
    }
}

/// One object's change.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: Action,
    pub api_version: String,
    pub identity: Identity,
    /// For an update: the live and the would-be object as YAML (Secret data redacted).
    pub yaml: Option<(String, String)>,
    /// Why a create was not dry-run, when it was not.
    pub note: Option<String>,
}

/// Every object's change, in install order (prunes last).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
}

/// How to print a plan.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only the list of changes and the counts.
    pub stat: bool,
    /// ANSI colours.
    pub color: bool,
}

/// The plan of `objects` against the observed `state`.
pub fn plan(objects: &[Object], state: &State, show_secrets: bool) -> Plan {
    let mut changes = Vec::new();
    for object in objects {
        let identity = object.identity();
        let api_version = object.api_version().to_owned();
        let live = state.live.get(&identity);
        let change = match (live, state.dry_run.get(&identity)) {
            (None, _) => Change {
                action: Action::Create,
                api_version,
                note: state.not_dry_run.get(&identity).cloned(),
                identity,
                yaml: None,
            },
            (Some(live), Some(dry)) => {
                let compared = diff::compare(
                    &[live_object(live.clone())],
                    &[live_object(dry.clone())],
                    show_secrets,
                );
                match compared.changed.into_iter().next() {
                    None => Change {
                        action: Action::Unchanged,
                        api_version,
                        identity,
                        yaml: None,
                        note: None,
                    },
                    Some(changed) => Change {
                        action: Action::Update,
                        api_version,
                        identity,
                        yaml: Some((changed.old, changed.new)),
                        note: None,
                    },
                }
            }
            // Live but not dry-run: cannot happen (an object is read only when it can be
            // dry-run); count it as unchanged rather than invent a change.
            (Some(_), None) => Change {
                action: Action::Unchanged,
                api_version,
                identity,
                yaml: None,
                note: None,
            },
        };
        changes.push(change);
    }
    for orphan in &state.orphans {
        changes.push(Change {
            action: Action::Prune,
            api_version: api_version_of(orphan),
            identity: describe_live(orphan),
            yaml: None,
            note: None,
        });
    }
    Plan { changes }
}

impl Plan {
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    /// Whether applying would change anything (prunes included).
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Unchanged)
    }

    /// `2 to create, 1 to update, 0 to prune, 68 unchanged`.
    pub fn summary(&self) -> String {
        format!(
            "{} to create, {} to update, {} to prune, {} unchanged",
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Prune),
            self.count(Action::Unchanged)
        )
    }

    /// The objects pruning deletes.
    pub fn prunes(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.action == Action::Prune)
    }

    /// One line per change (unchanged objects are only counted), the summary, then unless
    /// `stat` a unified diff per update.
    pub fn render(&self, options: &Options) -> String {
        use anstyle::{AnsiColor, Style};
        let paint = |color: AnsiColor, text: String| {
            if options.color {
                let style = Style::new().fg_color(Some(color.into()));
                format!("{style}{text}{style:#}")
            } else {
                text
            }
        };
        let mut out = String::new();
        for change in &self.changes {
            let line = match change.action {
                Action::Create => {
                    paint(AnsiColor::Green, format!("+ create   {}", change.identity))
                }
                Action::Update => {
                    paint(AnsiColor::Yellow, format!("~ update   {}", change.identity))
                }
                Action::Prune => paint(AnsiColor::Red, format!("- prune    {}", change.identity)),
                Action::Unchanged => continue,
            };
            out.push_str(&line);
            out.push('\n');
        }
        let _ = writeln!(out, "plan: {}", self.summary());
        let mut notes: Vec<(&str, usize)> = Vec::new();
        for note in self.changes.iter().filter_map(|c| c.note.as_deref()) {
            match notes.iter_mut().find(|(n, _)| *n == note) {
                Some((_, count)) => *count += 1,
                None => notes.push((note, 1)),
            }
        }
        for (note, count) in notes {
            let _ = writeln!(out, "  ({count} created without a dry run: {note})");
        }
        if !options.stat {
            for change in &self.changes {
                if let Some((live, new)) = &change.yaml {
                    out.push('\n');
                    out.push_str(&text_diff::unified(
                        live,
                        new,
                        &format!("{} (live)", change.identity),
                        &format!("{} (after apply)", change.identity),
                        options.color,
                    ));
                }
            }
        }
        out
    }

    /// The plan as JSON: `{"summary": {...}, "changes": [{"action", "object", "diff"}]}`
    /// (unchanged objects only counted).
    pub fn to_json(&self) -> Value {
        let changes: Vec<Value> = self
            .changes
            .iter()
            .filter(|c| c.action != Action::Unchanged)
            .map(|c| {
                let mut entry = json!({
                    "action": c.action.as_str(),
                    "object": identity_json(&c.api_version, &c.identity),
                });
                if let Some((live, new)) = &c.yaml {
                    entry["diff"] =
                        Value::String(text_diff::unified(live, new, "live", "after apply", false));
                }
                if let Some(note) = &c.note {
                    entry["note"] = Value::String(note.clone());
                }
                entry
            })
            .collect();
        json!({
            "summary": {
                "create": self.count(Action::Create),
                "update": self.count(Action::Update),
                "prune": self.count(Action::Prune),
                "unchanged": self.count(Action::Unchanged),
            },
            "changes": changes,
        })
    }
}

/// An object's identity as JSON.
pub fn identity_json(api_version: &str, identity: &Identity) -> Value {
    let mut value =
        json!({"apiVersion": api_version, "kind": identity.kind, "name": identity.name});
    if !identity.namespace.is_empty() {
        value["namespace"] = Value::String(identity.namespace.clone());
    }
    value
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Object {
        Object {
            source: "templates/x.yaml".into(),
            value,
        }
    }

    #[test]
    fn create_update_unchanged_and_prune() {
        let cm = |name: &str, data: &str| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "n"}, "data": {"k": data}})
        };
        let objects = [
            object(cm("new", "1")),
            object(cm("same", "1")),
            object(cm("changed", "2")),
        ];
        let mut state = State::default();
        let mut live_same = cm("same", "1");
        live_same["metadata"]["resourceVersion"] = json!("7");
        state.live = HashMap::from([
            (objects[1].identity(), live_same),
            (objects[2].identity(), cm("changed", "1")),
        ]);
        state.dry_run = HashMap::from([
            (objects[1].identity(), cm("same", "1")),
            (objects[2].identity(), cm("changed", "2")),
        ]);
        state.orphans = vec![cm("old", "1")];
        let plan = plan(&objects, &state, false);
        assert_eq!(
            plan.summary(),
            "1 to create, 1 to update, 1 to prune, 1 unchanged"
        );
        let text = plan.render(&Options::default());
        assert!(text.contains("+ create   ConfigMap/n/new\n"));
        assert!(text.contains("~ update   ConfigMap/n/changed\n"));
        assert!(text.contains("- prune    ConfigMap/n/old\n"));
        assert!(
            text.contains("-  k: \"1\"\n+  k: \"2\"\n")
                || text.contains("-  k: '1'")
                || text.contains("+  k:")
        );
        assert_eq!(plan.to_json()["summary"]["update"], 1);
    }

    #[test]
    fn secret_data_is_redacted_in_updates() {
        let secret = |v: &str| {
            json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s", "namespace": "n"}, "data": {"password": v}})
        };
        let objects = [object(secret("bmV3"))];
        let state = State {
            live: HashMap::from([(objects[0].identity(), secret("b2xk"))]),
            dry_run: HashMap::from([(objects[0].identity(), secret("bmV3"))]),
            ..State::default()
        };
        let text = plan(&objects, &state, false).render(&Options::default());
        assert!(!text.contains("bmV3") && !text.contains("b2xk"), "{text}");
        assert!(text.contains("<redacted sha256:"));
    }
}
