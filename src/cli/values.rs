//! `somagen values`: the merged, validated values of one mode, and where each came from.

use clap::{ArgMatches, Args};

use super::Outcome;
use super::args::{Format, ModeArg, StackArg, ValueArgs};
use somagen::foundation::located::{Located, for_each_leaf, pointer_to_path};
use somagen::pipeline::emit;

pub const EXAMPLES: &str = "\
Examples:
  somagen values --mode prod
  somagen values --mode prod --show-origin
  somagen values --mode dev --set postgres.replicas=3 -o json";

#[derive(Args)]
pub struct ValuesArgs {
    #[command(flatten)]
    stack: StackArg,
    #[command(flatten)]
    mode: ModeArg,
    #[command(flatten)]
    values: ValueArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    output: Format,
    /// Show, for every leaf, the file:line or flag it came from.
    #[arg(long)]
    show_origin: bool,
}

pub fn run(args: ValuesArgs, matches: &ArgMatches) -> Outcome {
    let stack = args.stack.load()?;
    let user = args.values.user_values(matches)?;
    let located = somagen::values(&stack, &args.mode.mode, &user)?;
    if args.show_origin {
        return Ok((show_origin(&located), vec![]));
    }
    let text = match args.output {
        Format::Yaml => emit::yaml(&located.value),
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&located.value).unwrap_or_default()
        ),
    };
    Ok((text, vec![]))
}

/// One line per leaf: `path = value    # origin`.
fn show_origin(located: &Located) -> String {
    let mut lines = Vec::new();
    for_each_leaf(&located.value, &|_| true, &mut |pointer, value| {
        let origin = located
            .origin_of(&pointer)
            .map(ToString::to_string)
            .unwrap_or_else(|| "?".into());
        lines.push((pointer_to_path(&pointer), value.to_string(), origin));
    });
    let width = lines
        .iter()
        .map(|(path, value, _)| path.len() + value.len() + 3)
        .max()
        .unwrap_or(0);
    lines
        .into_iter()
        .map(|(path, value, origin)| {
            let left = format!("{path} = {value}");
            format!("{left:width$}  # {origin}\n")
        })
        .collect()
}
