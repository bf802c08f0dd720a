//! The somagen command line: parses arguments, runs the pipeline, prints results.
//! The only place that writes to stdout and stderr, and that picks exit codes:
//! 0 success, 1 findings, 2 errors.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// The environment commands (compose, env, kind-config, smoke, package, graph).
#[path = "cli/environments.rs"]
mod environments;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use somagen::diag::{Diagnostic, Diagnostics, Location, Severity};
use somagen::stack::Stack;
use somagen::{SetFlag, UserValues, emit};
use somagen::{check, diff, golden, lint, pods};

const EXAMPLES_RENDER: &str = "\
Examples:
  somagen render --mode prod | kubectl apply -f -
  somagen render --mode dev --set redis.persistence.enabled=false
  somagen render --mode staging -f my-values.yaml -o json
  somagen render --mode prod --output-dir rendered/prod
  somagen render --all-modes --output-dir rendered";

const EXAMPLES_VALUES: &str = "\
Examples:
  somagen values --mode prod
  somagen values --mode prod --show-origin
  somagen values --mode dev --set postgres.replicas=3 -o json";

/// Compile a Kubernetes stack (values, overlays, schema, templates) into validated,
/// ordered, deterministic manifests.
///
/// The stack is the one given by --stack, else the nearest directory above the working
/// directory holding stack.yaml, else the soma-infra stack built into this binary.
///
/// Exit codes: 0 success, 1 findings (differences, lint violations), 2 errors.
#[derive(Parser)]
#[command(name = "somagen", version, about, long_about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render the manifests of one mode.
    #[command(after_help = EXAMPLES_RENDER)]
    Render(RenderArgs),
    /// Print the merged, validated values of one mode.
    #[command(after_help = EXAMPLES_VALUES)]
    Values(ValuesArgs),
    /// List the stack's modes, in order.
    Modes(StackArg),
    /// Check every mode: render, lint, unused values, and golden/<mode>.yaml up to date.
    ///
    /// Exit 0 when everything holds, 1 with a per-mode report (and the diff of stale
    /// golden files), 2 on errors. Fast enough for a pre-commit hook.
    #[command(after_help = "Examples:\n  somagen check\n  somagen check --stack path/to/stack")]
    Check(StackArg),
    /// Re-render every mode into golden/<mode>.yaml (atomically) and list what changed.
    #[command(after_help = "Example:\n  somagen golden && git diff golden/")]
    Golden(StackArg),
    /// Resource-level diff of a mode against another mode, manifests, or a git revision.
    ///
    /// Objects are matched by kind, namespace and name and compared parsed, so ordering and
    /// formatting are not differences. Secret data is redacted unless --show-secrets.
    /// Exit 0 when equal, 1 when they differ, 2 on errors.
    #[command(after_help = EXAMPLES_DIFF)]
    Diff(DiffArgs),
    /// Lint the objects of one mode with the built-in rules, and report unused values.
    #[command(after_help = EXAMPLES_LINT)]
    Lint(LintArgs),
    /// List the sorted, unique container images of one mode.
    #[command(
        after_help = "Examples:\n  somagen images --mode dev\n  somagen images --mode dev | xargs -n1 kind load docker-image"
    )]
    Images(ImagesArgs),
    /// Print the Docker Compose file of local development (mode dev only, docs/STACK.md §3.5).
    #[command(
        after_help = "Examples:\n  somagen compose --mode dev > shared-infra.compose.yaml\n  docker compose -f shared-infra.compose.yaml up -d"
    )]
    Compose(ImagesArgs),
    /// Print the env contract (.env keys) for local compose or for in-cluster DNS.
    ///
    /// --target cluster copies every key of the rendered ConfigMap sharedinfra-endpoints;
    /// --target compose points at the compose file's localhost ports (mode dev only).
    #[command(
        after_help = "Examples:\n  somagen env --mode dev --target compose > .env\n  somagen env --mode prod"
    )]
    Env(EnvArgs),
    /// Print the Kind cluster config (docs/STACK.md §3.6).
    #[command(
        after_help = "Example:\n  somagen kind-config > soma-kind.yaml && kind create cluster --config soma-kind.yaml"
    )]
    KindConfig(KindArgs),
    /// Print the smoke-test Jobs of a mode, validated and linted like the stack.
    ///
    /// Exit 1 (with the Jobs still printed) when lint finds a problem in them.
    #[command(after_help = EXAMPLES_SMOKE)]
    Smoke(ImagesArgs),
    /// Write a reproducible archive of the rendered manifests plus provenance.json.
    ///
    /// Same inputs, same bytes: pin the archive by its sha256 (printed on stdout).
    #[command(
        after_help = "Examples:\n  somagen package --mode prod --output soma-infra-prod.tar.gz\n  somagen package --all-modes --output soma-infra.tar"
    )]
    Package(PackageArgs),
    /// Print the workloads, Services and NetworkPolicy-allowed traffic of a mode as a graph.
    #[command(
        after_help = "Examples:\n  somagen graph --mode prod\n  somagen graph --mode prod --format dot | dot -Tsvg > stack.svg\n  somagen graph --mode prod --format markdown > docs/architecture.md"
    )]
    Graph(GraphArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  somagen completions bash > /etc/bash_completion.d/somagen")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct StackArg {
    /// Stack directory (default: nearest ancestor with stack.yaml, else the built-in stack).
    #[arg(long, value_name = "DIR", global = true)]
    stack: Option<PathBuf>,
}

#[derive(Args)]
struct ModeArg {
    /// Mode to render; `somagen modes` lists them.
    #[arg(long, short = 'm')]
    mode: String,
}

#[derive(Args)]
struct ValueArgs {
    /// Extra values file, merged after the mode overlay (repeatable, in order).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Set a value, Helm syntax: a.b=c, list[0]=x, a={x,y} (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Set a string value; never converted to a number, boolean or null (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    set_string: Vec<String>,
    /// Set a value from JSON: a.b={"c":1} (repeatable).
    #[arg(long, value_name = "KEY=JSON")]
    set_json: Vec<String>,
    /// Set a value to the contents of a file: a.b=path/to/file (repeatable).
    #[arg(long, value_name = "KEY=PATH")]
    set_file: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

#[derive(Args)]
struct RenderArgs {
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

#[derive(Args)]
struct ValuesArgs {
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

const EXAMPLES_DIFF: &str = "\
Examples:
  somagen diff --mode prod --against-rev origin/main
  somagen diff --mode prod --against-mode staging --stat
  somagen diff --mode prod --against rendered/prod/
  kubectl get -n soma-infra deploy -o yaml | somagen diff --mode prod --against -";

const EXAMPLES_LINT: &str = "\
Examples:
  somagen lint --mode prod
  somagen lint --mode prod --format json

Rules: pod-security, resources, probes, image-tag, network-policy, service-selector,
references, pdb, no-plaintext-secret (and unused-value). Waive one on an object with the
annotation soma.sh/waive: \"<rule-id> -- <reason>\" (several separated by ;).";

#[derive(Args)]
struct DiffArgs {
    #[command(flatten)]
    stack: StackArg,
    #[command(flatten)]
    mode: ModeArg,
    #[command(flatten)]
    values: ValueArgs,
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

#[derive(Clone, Copy, ValueEnum)]
enum LintFormat {
    Text,
    Json,
}

#[derive(Args)]
struct LintArgs {
    #[command(flatten)]
    stack: StackArg,
    #[command(flatten)]
    mode: ModeArg,
    #[command(flatten)]
    values: ValueArgs,
    /// `json` prints the findings as a JSON array on stdout (they are also printed on stderr).
    #[arg(long, value_enum, default_value = "text")]
    format: LintFormat,
}

#[derive(Args)]
struct ImagesArgs {
    #[command(flatten)]
    stack: StackArg,
    #[command(flatten)]
    mode: ModeArg,
    #[command(flatten)]
    values: ValueArgs,
}

const EXAMPLES_SMOKE: &str = "\
Examples:
  somagen smoke --mode dev | kubectl apply -f -
  kubectl wait -n soma-infra --for=condition=complete job -l app.kubernetes.io/component=smoke --timeout=300s";

#[derive(Clone, Copy, ValueEnum)]
enum EnvTarget {
    Compose,
    Cluster,
}

#[derive(Args)]
struct EnvArgs {
    #[command(flatten)]
    stack: StackArg,
    #[command(flatten)]
    mode: ModeArg,
    #[command(flatten)]
    values: ValueArgs,
    /// compose: localhost ports of `somagen compose`; cluster: in-cluster DNS names.
    #[arg(long, value_enum, default_value = "cluster")]
    target: EnvTarget,
}

#[derive(Args)]
struct KindArgs {
    #[command(flatten)]
    stack: StackArg,
    /// Mode whose values configure the cluster.
    #[arg(long, short = 'm', default_value = "dev")]
    mode: String,
    #[command(flatten)]
    values: ValueArgs,
}

#[derive(Args)]
struct PackageArgs {
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

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
    Markdown,
}

#[derive(Args)]
struct GraphArgs {
    #[command(flatten)]
    stack: StackArg,
    #[command(flatten)]
    mode: ModeArg,
    #[command(flatten)]
    values: ValueArgs,
    /// mermaid, dot, or a Markdown page holding the mermaid chart.
    #[arg(long, value_enum, default_value = "mermaid")]
    format: GraphFormat,
}

/// What a command produced: text for stdout and findings, or errors.
type Outcome = Result<(String, Vec<Diagnostic>), Diagnostics>;

// A render allocates hundreds of thousands of small nodes from two threads; mimalloc does
// that markedly faster than the system allocator (see the README's benchmark notes).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The parsed command line, kept for the positions of the `--set*` flags: clap stores each
/// flag's values apart, and values merge in command-line order across all four flags.
static MATCHES: std::sync::OnceLock<clap::ArgMatches> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let cli = match parsed {
        Ok((cli, matches)) => {
            let _ = MATCHES.set(matches);
            cli
        }
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli.command) {
        Ok((stdout, findings)) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(stdout.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::from(2);
            }
            report(&findings);
            // Notes (waived lint findings) are printed but do not fail.
            if findings.iter().all(|d| d.severity == Severity::Note) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(Diagnostics(errors)) => {
            report(&errors);
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Outcome {
    match command {
        Command::Render(args) => render(args),
        Command::Values(args) => values(args),
        Command::Check(args) => {
            let report = check::check(&load_stack(&args)?)?;
            Ok((report.summary(stdout_color()), report.diagnostics()))
        }
        Command::Golden(args) => Ok((
            golden::describe(&golden::update(&load_stack(&args)?)?),
            vec![],
        )),
        Command::Diff(args) => diff_command(args),
        Command::Lint(args) => lint_command(args),
        Command::Images(args) => {
            let stack = load_stack(&args.stack)?;
            let rendered = somagen::render(&stack, &args.mode.mode, &user_values(&args.values)?)?;
            Ok((
                pods::images(&rendered.objects)
                    .iter()
                    .map(|image| format!("{image}\n"))
                    .collect(),
                vec![],
            ))
        }
        Command::Compose(args) => environments::compose(args),
        Command::Env(args) => environments::env(args),
        Command::KindConfig(args) => environments::kind_config(args),
        Command::Smoke(args) => environments::smoke(args),
        Command::Package(args) => environments::package(args),
        Command::Graph(args) => environments::graph(args),
        Command::Modes(args) => {
            let stack = load_stack(&args)?;
            Ok((
                stack.meta.modes.iter().map(|m| format!("{m}\n")).collect(),
                vec![],
            ))
        }
        Command::Completions { shell } => {
            let mut buffer = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "somagen", &mut buffer);
            Ok((String::from_utf8_lossy(&buffer).into_owned(), vec![]))
        }
    }
}

fn load_stack(arg: &StackArg) -> Result<Stack, Diagnostics> {
    let cwd = std::env::current_dir()
        .map_err(|err| Diagnostics::one(Diagnostic::error("io", err.to_string())))?;
    Stack::resolve(arg.stack.as_deref(), &cwd)
}

fn user_values(args: &ValueArgs) -> Result<UserValues, Diagnostics> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        match somagen::read_user_file(&name) {
            Ok(text) => files.push((name, text)),
            Err(err) => errors.push(
                Diagnostic::error("io", format!("cannot read values file: {err}"))
                    .at(Location::Path(name)),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(Diagnostics(errors));
    }
    // clap keeps each flag's occurrences apart; merge order is their order on the command line.
    let mut sets = ordered_flags(args);
    sets.sort_by_key(|(index, _)| *index);
    Ok(UserValues {
        files,
        sets: sets.into_iter().map(|(_, flag)| flag).collect(),
    })
}

fn ordered_flags(args: &ValueArgs) -> Vec<(usize, SetFlag)> {
    let sub = MATCHES
        .get()
        .and_then(|matches| matches.subcommand())
        .map(|(_, m)| m);
    let mut flags = Vec::new();
    let mut add = |id: &str, values: &[String], make: fn(String) -> SetFlag| {
        let indices: Vec<usize> = sub
            .and_then(|m| m.indices_of(id))
            .map(Iterator::collect)
            .unwrap_or_default();
        for (i, value) in values.iter().enumerate() {
            flags.push((
                indices.get(i).copied().unwrap_or(usize::MAX),
                make(value.clone()),
            ));
        }
    };
    add("set", &args.set, SetFlag::Set);
    add("set_string", &args.set_string, SetFlag::String);
    add("set_json", &args.set_json, SetFlag::Json);
    add("set_file", &args.set_file, SetFlag::File);
    flags
}

fn render(args: RenderArgs) -> Outcome {
    let stack = load_stack(&args.stack)?;
    let user = user_values(&args.values)?;
    if let (true, Some(dir)) = (args.all_modes, &args.output_dir) {
        emit::write_dir(dir, &golden::all_modes_files(&stack, &user)?)?;
        return Ok((String::new(), vec![]));
    }
    let mode = args.mode.as_deref().unwrap_or_default();
    let rendered = somagen::render(&stack, mode, &user)?;
    if let Some(dir) = &args.output_dir {
        emit::write_dir(dir, &emit::files(&rendered.objects))?;
        return Ok((String::new(), vec![]));
    }
    let text = match args.output {
        Format::Yaml => emit::yaml_stream(&rendered.objects),
        Format::Json => emit::json_list(&rendered.objects),
    };
    // The process ends right after printing: freeing thousands of objects node by node
    // would only delay the exit (measurably, on large stacks).
    std::mem::forget(rendered);
    Ok((text, vec![]))
}

fn values(args: ValuesArgs) -> Outcome {
    let stack = load_stack(&args.stack)?;
    let user = user_values(&args.values)?;
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

fn diff_command(args: DiffArgs) -> Outcome {
    let stack = load_stack(&args.stack)?;
    let user = user_values(&args.values)?;
    let against = match (
        args.against.against_mode,
        args.against.against,
        args.against.against_rev,
    ) {
        (Some(mode), _, _) => diff::Against::Mode(mode),
        (_, _, Some(rev)) => diff::Against::Revision(rev),
        (_, Some(path), _) if path.as_os_str() == "-" => {
            let text = somagen::read_bounded(std::io::stdin().lock()).map_err(|err| {
                Diagnostic::error("io", format!("cannot read manifests from stdin: {err}"))
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
    };
    let (difference, old_label, new_label) =
        diff::diff_against(&stack, &args.mode.mode, &user, against, args.show_secrets)?;
    let options = diff::Options {
        stat: args.stat,
        color: stdout_color(),
        old_label: old_label.clone(),
        new_label: new_label.clone(),
    };
    let findings = if difference.is_empty() {
        vec![]
    } else {
        vec![Diagnostic::warning(
            "diff",
            format!(
                "{new_label} differs from {old_label}: {}",
                difference.counts()
            ),
        )]
    };
    Ok((difference.render(&options), findings))
}

fn lint_command(args: LintArgs) -> Outcome {
    let stack = load_stack(&args.stack)?;
    let user = user_values(&args.values)?;
    let rendered = somagen::render(&stack, &args.mode.mode, &user)?;
    let findings = lint::lint_rendered(&rendered, &args.mode.mode, &stack.meta)?;
    let stdout = match args.format {
        LintFormat::Json => lint::to_json(&findings),
        LintFormat::Text => String::new(),
    };
    Ok((
        stdout,
        findings.iter().map(lint::Finding::diagnostic).collect(),
    ))
}

/// Colour stdout only on a terminal, and never with NO_COLOR (anstream's rules).
fn stdout_color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

/// One line per leaf: `path = value    # origin`.
fn show_origin(located: &somagen::values::Located) -> String {
    let mut lines = Vec::new();
    leaves(&located.value, String::new(), &mut |pointer, value| {
        let origin = located
            .origin_of(&pointer)
            .map(ToString::to_string)
            .unwrap_or_else(|| "?".into());
        lines.push((
            somagen::values::pointer_to_path(&pointer),
            value.to_string(),
            origin,
        ));
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

fn leaves(
    value: &serde_json::Value,
    pointer: String,
    visit: &mut impl FnMut(String, &serde_json::Value),
) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                leaves(child, somagen::values::child_pointer(&pointer, key), visit);
            }
        }
        leaf => visit(pointer, leaf),
    }
}

/// Print diagnostics to stderr, coloured only on a terminal and never with NO_COLOR.
fn report(diagnostics: &[Diagnostic]) {
    use anstyle::{AnsiColor, Style};
    let mut err = anstream::stderr().lock();
    for diagnostic in diagnostics {
        let style = match diagnostic.severity {
            Severity::Error => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            Severity::Warning => Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
            Severity::Note => Style::new().bold().fg_color(Some(AnsiColor::Cyan.into())),
        };
        let text = diagnostic.to_string();
        let (head, rest) = text.split_once(": ").unwrap_or((&text, ""));
        let _ = writeln!(err, "{style}{head}{style:#}: {rest}");
    }
}
