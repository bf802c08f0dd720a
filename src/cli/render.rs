//! `somagen render`: the manifests of one mode (or of every mode into a directory).

use std::path::PathBuf;

use clap::{ArgMatches, Args};

use super::Outcome;
use super::args::{Format, StackArg, ValueArgs};
use somagen::pipeline::emit;
use somagen::tools::modes;

pub const EXAMPLES: &str = "\
Examples:
  somagen render --mode prod | kubectl apply -f -
  somagen render --mode dev --set redis.persistence.enabled=false
  somagen render --mode staging -f my-values.yaml -o json
  somagen render --mode prod --output-dir rendered/prod
  somagen render --all-modes --output-dir rendered";

#[derive(Args)]
pub struct RenderArgs {
    #[command(flatten)]
    stack: StackArg,
    /// Mode to render; `somagen modes` lists them.
    #[arg(
        long,
        short = 'm',
        required_unless_present = "all_modes",
        conflicts_with = "all_modes"
    )]
    mode: Option<String>,
    /// Render every mode into DIR/<mode>/, one file per object (needs --output-dir).
    #[arg(long, requires = "output_dir")]
    all_modes: bool,
    #[command(flatten)]
    values: ValueArgs,
    /// Output format of the stream.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    output: Format,
    /// Write one file per object into DIR (replaced atomically) instead of stdout.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

pub fn run(args: RenderArgs, matches: &ArgMatches) -> Outcome {
    let stack = args.stack.load()?;
    let user = args.values.user_values(matches)?;
    if let (true, Some(dir)) = (args.all_modes, &args.output_dir) {
        emit::write_dir(dir, &modes::all_modes_files(&stack, &user)?)?;
        return Ok((String::new(), vec![]));
    }
    let mode = args.mode.as_deref().unwrap_or_default();
    if args.output_dir.is_none() && matches!(args.output, Format::Yaml) {
        // The stream is written object by object as the check goes: the peak memory of a
        // large render.
        return somagen::render_yaml(&stack, mode, &user);
    }
    let mut rendered = somagen::render_objects(&stack, mode, &user)?;
    let notes = std::mem::take(&mut rendered.notes);
    if let Some(dir) = &args.output_dir {
        emit::write_dir(dir, &emit::files(&rendered.objects))?;
        return Ok((String::new(), notes));
    }
    let text = emit::json_list(&rendered.objects);
    // The process ends right after printing: freeing thousands of objects node by node
    // would only delay the exit (measurably, on large stacks).
    std::mem::forget(rendered);
    Ok((text, notes))
}
