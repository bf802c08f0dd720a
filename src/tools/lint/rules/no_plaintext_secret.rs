//! `no-plaintext-secret`: no kind Secret in the stack's production modes.
//!
//! The rule's documentation (what, why, an example, the fix) is [`DOCUMENTATION`], which
//! `somagen lint --explain no-plaintext-secret` prints.

use super::{Context, Hit, Rule, is};

/// What the rule checks, why, an example, and the fix.
pub const DOCUMENTATION: &str = "\
Checks that no object of kind Secret is rendered in the stack's production modes
(`productionModes` in stack.yaml).

Why: a rendered Secret carries its credential in the manifest, so it lands in git, in CI logs
and in every copy of the render; production credentials come from a secret store.

Example:
    kind: Secret, rendered in mode prod

Fix:
    render an ExternalSecret (or another secret operator's resource) that reads the value
    from Vault; keep literal Secrets to dev and test.
";

/// The `no-plaintext-secret` rule.
pub struct NoPlaintextSecret;

impl Rule for NoPlaintextSecret {
    fn id(&self) -> &'static str {
        "no-plaintext-secret"
    }

    fn summary(&self) -> &'static str {
        "no kind Secret in the stack's production modes"
    }

    fn documentation(&self) -> &'static str {
        DOCUMENTATION
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Hit> {
        check(ctx)
    }
}

fn check(ctx: &Context<'_>) -> Vec<Hit> {
    if !ctx.production {
        return Vec::new();
    }
    ctx.objects
        .iter()
        .enumerate()
        .filter(|(_, o)| is(o, "", "Secret"))
        .map(|(index, _)| {
            Hit::new(
                index,
                "",
                format!("plaintext Secret in production mode `{}`", ctx.mode),
                "render an ExternalSecret (or another secret operator's resource) instead; production values carry no secrets",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::lint::rules::fixtures::*;
    use serde_json::json;

    #[test]
    fn fires_on_its_violation_and_not_on_the_clean_pod() {
        for (bad, count) in violations("no-plaintext-secret") {
            assert_eq!(
                hits(&NoPlaintextSecret, bad.clone(), true).len(),
                count,
                "on {bad:?}"
            );
        }
        assert!(hits(&NoPlaintextSecret, clean(), true).is_empty());
    }

    #[test]
    fn plaintext_secrets_only_matter_in_production() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
        assert!(hits(&NoPlaintextSecret, vec![secret.clone()], false).is_empty());
        assert_eq!(hits(&NoPlaintextSecret, vec![secret], true).len(), 1);
    }
}
