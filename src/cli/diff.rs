//! `somagen diff`: a mode against another mode, manifests, or a git revision.

use std::path::PathBuf;

use clap::{ArgMatches, Args};

use super::Outcome;
use super::args::{RenderInputs, stdout_color};
use somagen::foundation::diag::{Code, Diagnostic};
use somagen::foundation::io::read_bounded;
use somagen::tools::diff;

pub const EXAMPLES: &str = "\
Examples:
  somagen diff --mode prod --against-rev origin/main
  somagen diff --mode prod --against-mode staging --stat
  somagen diff --mode prod --against rendered/prod/
  kubectl get -n soma-infra deploy -o yaml | somagen diff --mode prod --against -";

#[derive(Args)]
pub struct DiffArgs {
    #[command(flatten)]
    inputs: RenderInputs,
    #[command(flatten)]
    against: AgainstArgs,
    /// Only list the differing objects and the counts.
    #[arg(long)]
    stat: bool,
    /// Show Secret data in the diff (redacted by default, so CI logs carry no credentials).
    #[arg(long)]
    show_secrets: bool,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct AgainstArgs {
    /// Compare with another mode of the same stack.
    #[arg(long, value_name = "MODE")]
    against_mode: Option<String>,
    /// Compare with manifests: a YAML or JSON file, a directory of them, or - for stdin.
    #[arg(long, value_name = "FILE|DIR|-")]
    against: Option<PathBuf>,
    /// Compare with the same stack at a git revision (read from git; the working tree is untouched).
    #[arg(long, value_name = "REV")]
    against_rev: Option<String>,
}

impl AgainstArgs {
    /// What to compare with; manifests are read now (stdin for `-`).
    fn resolve(self) -> somagen::foundation::diag::Result<diff::Against> {
        Ok(match (self.against_mode, self.against, self.against_rev) {
            (Some(mode), _, _) => diff::Against::Mode(mode),
            (_, _, Some(rev)) => diff::Against::Revision(rev),
            (_, Some(path), _) if path.as_os_str() == "-" => {
                let text = read_bounded(std::io::stdin().lock()).map_err(|err| {
                    Diagnostic::error(Code::Io, format!("cannot read manifests from stdin: {err}"))
                })?;
                diff::Against::Manifests {
                    name: "stdin".into(),
                    objects: diff::parse_manifests("<stdin>", &text)?,
                }
            }
            (_, Some(path), _) => diff::Against::Manifests {
                name: path.display().to_string(),
                objects: diff::read_manifests(&path)?,
            },
            // clap's group makes one of the three required.
            (None, None, None) => {
                return Err(somagen::usage_error(
                    "nothing to compare with",
                    "pass --against-mode, --against or --against-rev",
                ));
            }
        })
    }
}

pub fn run(args: DiffArgs, matches: &ArgMatches) -> Outcome {
    let inputs = &args.inputs;
    let stack = inputs.stack.load()?;
    let user = inputs.values.user_values(matches)?;
    let against = args.against.resolve()?;
    let (difference, old_label, new_label) =
        diff::diff_against(&stack, &inputs.mode.mode, &user, against, args.show_secrets)?;
    let findings = if difference.is_empty() {
        vec![]
    } else {
        vec![Diagnostic::warning(
            Code::Diff,
            format!(
                "{new_label} differs from {old_label}: {}",
                difference.counts()
            ),
        )]
    };
    let options = diff::Options {
        stat: args.stat,
        color: stdout_color(),
        old_label,
        new_label,
    };
    Ok((difference.render(&options), findings))
}
