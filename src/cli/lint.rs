//! `somagen lint`: the built-in rules over one mode, and `--explain RULE`.

use clap::{ArgMatches, Args, ValueEnum};

use super::Outcome;
use super::args::{ModeArg, StackArg, ValueArgs};
use somagen::foundation::diag::{Code, Diagnostic};
use somagen::foundation::suggest;
use somagen::tools::lint;

/// The examples and the rule list of `lint --help`, read from the rules themselves.
pub fn after_help() -> String {
    format!(
        "Examples:
  somagen lint --mode prod
  somagen lint --mode prod --format json
  somagen lint --explain pdb

Rules (and unused-value):
{}
Waive one on an object with the annotation soma.sh/waive: \"<rule-id> -- <reason>\"
(several separated by ;).",
        lint::rule_list()
    )
}

#[derive(Clone, Copy, ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct LintArgs {
    #[command(flatten)]
    stack: StackArg,
    /// Mode to lint; `somagen modes` lists them.
    #[arg(long, short = 'm', required_unless_present = "explain")]
    mode: Option<String>,
    #[command(flatten)]
    values: ValueArgs,
    /// `json` prints the findings as a JSON array on stdout (they are also printed on stderr).
    #[arg(long, value_enum, default_value = "text")]
    format: LintFormat,
    /// Print what a rule checks, why, an example and the fix, then exit.
    #[arg(long, value_name = "RULE", conflicts_with = "mode")]
    explain: Option<String>,
}

pub fn run(args: LintArgs, matches: &ArgMatches) -> Outcome {
    if let Some(id) = &args.explain {
        return explain(id);
    }
    let mode = ModeArg {
        mode: args.mode.unwrap_or_default(),
    };
    let stack = args.stack.load()?;
    let rendered = somagen::render(&stack, &mode.mode, &args.values.user_values(matches)?)?;
    let findings = lint::lint_rendered(&rendered, &mode.mode, &stack.meta)?;
    let stdout = match args.format {
        LintFormat::Json => lint::to_json(&findings),
        LintFormat::Text => String::new(),
    };
    Ok((
        stdout,
        findings.iter().map(lint::Finding::diagnostic).collect(),
    ))
}

fn explain(id: &str) -> Outcome {
    let Some(rule) = lint::rule(id) else {
        let ids = lint::RULES.iter().map(|rule| rule.id());
        let hint = match suggest::nearest(id, ids.clone()) {
            Some(near) => format!("did you mean `{near}`? `somagen lint --help` lists the rules"),
            None => "`somagen lint --help` lists the rules".to_owned(),
        };
        return Err(
            Diagnostic::error(Code::Usage, format!("no lint rule `{id}`"))
                .hint(hint)
                .into(),
        );
    };
    Ok((
        format!(
            "{}: {}\n\n{}",
            rule.id(),
            rule.summary(),
            rule.documentation()
        ),
        vec![],
    ))
}
