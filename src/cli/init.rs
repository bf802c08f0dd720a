//! `somagen init DIR`: a new stack; `somagen schema`: the values schema, for editors.

use std::path::PathBuf;

use clap::{ArgMatches, Args};

use super::Outcome;
use super::args::StackArg;
use somagen::foundation::diag::{Code, Diagnostic, Location};
use somagen::pipeline::{emit, schema};
use somagen::tools::init;

pub const INIT_EXAMPLES: &str = "\
Examples:
  somagen init my-app
  somagen init deploy/my-app --modes dev,staging,prod --name my-app
  cd my-app && somagen check && somagen render --mode dev";
pub const SCHEMA_EXAMPLES: &str = "\
Examples:
  somagen schema > values.schema.json
  somagen schema --stack deploy/my-app | jq '.properties | keys'";

#[derive(Args)]
pub struct InitArgs {
    /// The directory to create (it must not exist, or be empty).
    dir: PathBuf,
    /// The modes, in order (comma-separated). Modes named prod*, and the last one, are
    /// production modes.
    #[arg(long, value_delimiter = ',', default_value = "dev,staging,prod")]
    modes: Vec<String>,
    /// The stack's name (default: the directory's name).
    #[arg(long)]
    name: Option<String>,
}

pub fn run_init(args: InitArgs, _matches: &ArgMatches) -> Outcome {
    let dir_text = args.dir.display().to_string();
    let occupied = std::fs::read_dir(&args.dir).is_ok_and(|mut entries| entries.next().is_some());
    if occupied || args.dir.is_file() {
        return Err(Diagnostic::error(
            Code::Usage,
            "refusing to initialise a directory that is not empty",
        )
        .at(Location::Path(dir_text))
        .hint("name a new directory")
        .into());
    }
    let name = match &args.name {
        Some(name) => name.clone(),
        None => std::path::absolute(&args.dir)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    };
    let files = init::new_stack(&name, &args.modes)?;
    emit::write_dir(&args.dir, &files)?;
    let mut out = format!("created stack `{name}` in {dir_text}:\n");
    for (path, _) in &files {
        out.push_str(&format!("  {path}\n"));
    }
    out.push_str(&format!(
        "next: cd {dir_text} && somagen check && somagen render --mode {}\n",
        args.modes.first().map_or("dev", String::as_str)
    ));
    Ok((out, vec![]))
}

pub fn run_schema(args: StackArg, _matches: &ArgMatches) -> Outcome {
    let stack = args.load()?;
    let text = stack.required_file(schema::SCHEMA_PATH, "values schema")?;
    // Compiling it reports a broken schema as an error rather than printing it.
    schema::ValuesSchema::compile(schema::SCHEMA_PATH, text)?;
    let mut out = text.to_owned();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok((out, vec![]))
}
