//! `somagen check` and `somagen golden`: the pre-commit gate and the golden files it reads.

use clap::ArgMatches;

use super::Outcome;
use super::args::{StackArg, stdout_color};
use somagen::tools::{check, golden};

pub const CHECK_EXAMPLES: &str =
    "Examples:\n  somagen check\n  somagen check --stack path/to/stack";
pub const GOLDEN_EXAMPLES: &str = "Example:\n  somagen golden && git diff golden/";

pub fn run(args: StackArg, _: &ArgMatches) -> Outcome {
    let report = check::check(&args.load()?)?;
    Ok((report.summary(stdout_color()), report.diagnostics()))
}

pub fn run_golden(args: StackArg, _: &ArgMatches) -> Outcome {
    let changes = golden::update(&args.load()?)?;
    Ok((golden::describe(&changes), vec![]))
}
