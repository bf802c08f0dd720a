//! Commands that derive something from a render: `images`, `smoke`, `package`, `graph`.

use std::path::PathBuf;

use clap::{ArgMatches, Args, ValueEnum};

use super::Outcome;
use super::args::{RenderInputs, StackArg, ValueArgs};
use somagen::foundation::diag::{Code, Diagnostic, Location};
use somagen::foundation::object::pods;
use somagen::pipeline::emit;
use somagen::tools::{graph, lint, package, smoke};

pub const IMAGES_EXAMPLES: &str = "Examples:
  somagen images --mode dev
  somagen images --mode prod --lock | while read -r i; do echo \"$i: $(crane digest \"$i\")\"; done >> images.lock
  somagen images --mode dev | xargs -n1 kind load docker-image";
pub const SMOKE_EXAMPLES: &str = "Examples:
  somagen smoke --mode dev | kubectl apply -f -
  kubectl wait -n soma-infra --for=condition=complete job -l app.kubernetes.io/component=smoke --timeout=300s";
pub const PACKAGE_EXAMPLES: &str = "Examples:
  somagen package --mode prod --output soma-infra-prod.tar.gz
  cosign attest-blob --type slsaprovenance1 --predicate soma-infra-prod.tar.gz.slsa.json soma-infra-prod.tar.gz
  somagen package --all-modes --output soma-infra.tar";
pub const GRAPH_EXAMPLES: &str = "Examples:
  somagen graph --mode prod
  somagen graph --mode prod --format dot | dot -Tsvg > stack.svg
  somagen graph --mode prod --format markdown > docs/architecture.md";

#[derive(Args)]
pub struct ImagesArgs {
    #[command(flatten)]
    inputs: RenderInputs,
    /// Only the images images.lock does not pin yet: what to resolve to digests.
    #[arg(long)]
    lock: bool,
}

pub fn images(args: ImagesArgs, matches: &ArgMatches) -> Outcome {
    let (_, rendered) = args.inputs.render(matches)?;
    let lines = pods::images(&rendered.objects)
        .iter()
        .filter(|image| !args.lock || !image.contains('@'))
        .map(|image| format!("{image}\n"))
        .collect();
    Ok((lines, vec![]))
}

pub fn smoke(args: RenderInputs, matches: &ArgMatches) -> Outcome {
    let stack = args.stack.load()?;
    let jobs = smoke::render(&stack, &args.mode.mode, &args.values.user_values(matches)?)?;
    Ok((
        emit::yaml_stream(&jobs.objects),
        jobs.findings
            .iter()
            .map(lint::Finding::diagnostic)
            .collect(),
    ))
}

#[derive(Args)]
pub struct PackageArgs {
    #[command(flatten)]
    stack: StackArg,
    /// Mode to package; `somagen modes` lists them.
    #[arg(
        long,
        short = 'm',
        required_unless_present = "all_modes",
        conflicts_with = "all_modes"
    )]
    mode: Option<String>,
    /// Package every mode.
    #[arg(long)]
    all_modes: bool,
    #[command(flatten)]
    values: ValueArgs,
    /// The archive (.tar, .tar.gz or .tgz), replaced atomically; default
    /// <stack>-<version>-<mode|all>.tar.gz in the working directory.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn package(args: PackageArgs, matches: &ArgMatches) -> Outcome {
    let stack = args.stack.load()?;
    let modes = match &args.mode {
        Some(mode) if !args.all_modes => {
            stack.check_mode(mode)?;
            vec![mode.clone()]
        }
        _ => stack.meta.modes.clone(),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| package::default_name(&stack, &modes).into());
    let compression = package::Compression::for_path(&output)?;
    let user = args.values.user_values(matches)?;
    let bytes = package::build(&stack, &modes, &user, compression)?;
    emit::write_file(&output, &bytes).map_err(|err| {
        Diagnostic::error(Code::Io, format!("cannot write the archive: {err}"))
            .at(Location::Path(output.display().to_string()))
            .hint("check that the directory exists and is writable")
    })?;
    // The in-toto Statement and its SLSA predicate, beside the archive.
    let archive_name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let statement = package::provenance_statement(&stack, &modes, &user, &archive_name, &bytes);
    let mut written = format!("sha256:{}  {}\n", package::sha256(&bytes), output.display());
    for (suffix, value) in [
        (".intoto.json", &statement),
        (".slsa.json", &statement["predicate"]),
    ] {
        let mut path = output.clone().into_os_string();
        path.push(suffix);
        let path = PathBuf::from(path);
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        emit::write_file(&path, text.as_bytes()).map_err(|err| {
            Diagnostic::error(Code::Io, format!("cannot write the provenance: {err}"))
                .at(Location::Path(path.display().to_string()))
        })?;
        written.push_str(&format!(
            "sha256:{}  {}\n",
            package::sha256(text.as_bytes()),
            path.display()
        ));
    }
    Ok((written, vec![]))
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
    Markdown,
}

#[derive(Args)]
pub struct GraphArgs {
    #[command(flatten)]
    inputs: RenderInputs,
    /// mermaid, dot, or a Markdown page holding the mermaid chart.
    #[arg(long, value_enum, default_value = "mermaid")]
    format: GraphFormat,
}

pub fn graph(args: GraphArgs, matches: &ArgMatches) -> Outcome {
    let (stack, rendered) = args.inputs.render(matches)?;
    let format = match args.format {
        GraphFormat::Mermaid => graph::Format::Mermaid,
        GraphFormat::Dot => graph::Format::Dot,
        GraphFormat::Markdown => graph::Format::Markdown,
    };
    let title = format!(
        "Architecture of {} (mode {})",
        stack.meta.name, args.inputs.mode.mode
    );
    Ok((
        graph::build(&rendered.objects).render(format, &title),
        vec![],
    ))
}
