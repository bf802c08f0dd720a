//! The command line: one module per command (its arguments, examples and run function).
//! Commands return their stdout and findings, or errors; only `main` prints and exits.

mod args;
mod artifacts;
mod check;
mod cluster;
mod diff;
mod environments;
mod init;
mod lint;
mod render;
mod values;

use clap::{ArgMatches, CommandFactory, Parser, Subcommand};

use args::{RenderInputs, StackArg};
use somagen::foundation::diag::{Diagnostic, Diagnostics};

/// What a command produced: text for stdout and findings, or errors.
pub type Outcome = Result<(String, Vec<Diagnostic>), Diagnostics>;

/// Compile a Kubernetes stack (values, overlays, schema, templates) into validated,
/// ordered, deterministic manifests.
///
/// The stack is the one given by --stack, else the nearest directory above the working
/// directory holding stack.yaml, else the soma-infra stack built into this binary.
///
/// Exit codes: 0 success, 1 findings (differences, lint violations), 2 errors.
#[derive(Parser)]
#[command(name = "somagen", version, about, long_about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// How diagnostics are printed on stderr: `human` lines, or `json`, one object per line
    /// ({"severity", "code", "location", "path", "message", "hint"}) for tools.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub message_format: MessageFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    Human,
    Json,
}

/// Each subcommand's arguments are built only when it is the one run (`defer`): building
/// those of all twenty was a third of the command line's parsing, on every run.
#[derive(Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Render the manifests of one mode.
    #[command(after_help = render::EXAMPLES)]
    Render(render::RenderArgs),
    /// Print the merged, validated values of one mode.
    #[command(after_help = values::EXAMPLES)]
    Values(values::ValuesArgs),
    /// List the stack's modes, in order.
    Modes(StackArg),
    /// Check every mode: render, lint, unused values, and golden/<mode>.yaml up to date.
    ///
    /// Exit 0 when everything holds, 1 with a per-mode report (and the diff of stale
    /// golden files), 2 on errors. Fast enough for a pre-commit hook.
    #[command(after_help = check::CHECK_EXAMPLES)]
    Check(StackArg),
    /// Re-render every mode into golden/<mode>.yaml (atomically) and list what changed.
    #[command(after_help = check::GOLDEN_EXAMPLES)]
    Golden(StackArg),
    /// Resource-level diff of a mode against another mode, manifests, or a git revision.
    ///
    /// Objects are matched by kind, namespace and name and compared parsed, so ordering and
    /// formatting are not differences. Secret data is redacted unless --show-secrets.
    /// Exit 0 when equal, 1 when they differ, 2 on errors.
    #[command(after_help = diff::EXAMPLES)]
    Diff(diff::DiffArgs),
    /// Lint the objects of one mode with the built-in rules, and report unused values.
    #[command(after_help = lint::after_help())]
    Lint(lint::LintArgs),
    /// List the sorted, unique container images of one mode.
    #[command(after_help = artifacts::IMAGES_EXAMPLES)]
    Images(artifacts::ImagesArgs),
    /// Print the Docker Compose file of local development (mode dev only, docs/STACK.md §3.5).
    #[command(after_help = environments::COMPOSE_EXAMPLES)]
    Compose(RenderInputs),
    /// Print the env contract (.env keys) for local compose or for in-cluster DNS.
    ///
    /// --target cluster copies every key of the rendered ConfigMap sharedinfra-endpoints;
    /// --target compose points at the compose file's localhost ports (mode dev only).
    #[command(after_help = environments::ENV_EXAMPLES)]
    Env(environments::EnvArgs),
    /// Print the Kind cluster config (docs/STACK.md §3.6).
    #[command(after_help = environments::KIND_EXAMPLES)]
    KindConfig(environments::KindArgs),
    /// Print the smoke-test Jobs of a mode, validated and linted like the stack.
    ///
    /// Exit 1 (with the Jobs still printed) when lint finds a problem in them.
    #[command(after_help = artifacts::SMOKE_EXAMPLES)]
    Smoke(RenderInputs),
    /// Write a reproducible archive of the rendered manifests plus provenance.json.
    ///
    /// Same inputs, same bytes: pin the archive by its sha256 (printed on stdout).
    #[command(after_help = artifacts::PACKAGE_EXAMPLES)]
    Package(artifacts::PackageArgs),
    /// Print the workloads, Services and NetworkPolicy-allowed traffic of a mode as a graph.
    #[command(after_help = artifacts::GRAPH_EXAMPLES)]
    Graph(artifacts::GraphArgs),
    /// Create a new, working stack in DIR: overlays, a strict schema, one workload, golden files.
    ///
    /// The stack passes `somagen check` at once. Its overlays open with a
    /// yaml-language-server comment, so editors complete and check values.
    #[command(after_help = init::INIT_EXAMPLES)]
    Init(init::InitArgs),
    /// Print the stack's values schema (JSON Schema 2020-12), for editors and tools.
    #[command(after_help = init::SCHEMA_EXAMPLES)]
    Schema(StackArg),
    /// What applying a mode would change in the live cluster, object by object.
    ///
    /// Create, update (a diff of only the fields that would change, from a server-side
    /// apply dry run against the live object), unchanged, and prune (live objects the stack
    /// owns that the render no longer has). Secret data is redacted unless --show-secrets.
    #[command(after_help = cluster::PLAN_EXAMPLES)]
    Plan(cluster::PlanArgs),
    /// Server-side apply a mode (field manager somagen) in install order; prune and wait.
    ///
    /// CustomResourceDefinitions first (until Established), then namespaces, then the rest.
    /// --prune deletes the live objects the stack owns that the render no longer has;
    /// --wait waits for rollouts, StatefulSets, Jobs and claims, showing progress on stderr.
    #[command(after_help = cluster::APPLY_EXAMPLES)]
    Apply(cluster::ApplyArgs),
    /// Compare the live cluster with a mode's render, in the fields somagen sets.
    ///
    /// Reports fields edited by hand (kubectl edit, scale, patch) with who owns them now,
    /// objects deleted by hand, and objects the stack owns that the render lacks. Fields
    /// the render does not set, and fields controllers own (an HPA's replicas), are not drift.
    #[command(after_help = cluster::DRIFT_EXAMPLES)]
    Drift(cluster::DriftArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  somagen completions bash > /etc/bash_completion.d/somagen")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Run a command; `matches` are the subcommand's own (for the order of `--set*` flags).
pub fn run(command: Command, matches: &ArgMatches) -> Outcome {
    match command {
        Command::Render(args) => render::run(args, matches),
        Command::Values(args) => values::run(args, matches),
        Command::Modes(args) => {
            let stack = args.load()?;
            let modes = stack.meta.modes.iter().map(|m| format!("{m}\n")).collect();
            Ok((modes, vec![]))
        }
        Command::Check(args) => check::run(args, matches),
        Command::Golden(args) => check::run_golden(args, matches),
        Command::Diff(args) => diff::run(args, matches),
        Command::Lint(args) => lint::run(args, matches),
        Command::Images(args) => artifacts::images(args, matches),
        Command::Compose(args) => environments::compose(args, matches),
        Command::Env(args) => environments::env(args, matches),
        Command::KindConfig(args) => environments::kind_config(args, matches),
        Command::Smoke(args) => artifacts::smoke(args, matches),
        Command::Package(args) => artifacts::package(args, matches),
        Command::Graph(args) => artifacts::graph(args, matches),
        Command::Init(args) => init::run_init(args, matches),
        Command::Schema(args) => init::run_schema(args, matches),
        Command::Plan(args) => cluster::run_plan(args, matches),
        Command::Apply(args) => cluster::run_apply(args, matches),
        Command::Drift(args) => cluster::run_drift(args, matches),
        Command::Completions { shell } => {
            let mut buffer = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "somagen", &mut buffer);
            Ok((String::from_utf8_lossy(&buffer).into_owned(), vec![]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Subcommands' arguments are added when the subcommand is used (`defer`), after its own
    /// text: a doc comment on a flattened arguments struct would then replace it.
    #[test]
    fn every_subcommand_keeps_its_own_description() {
        let mut cli = Cli::command();
        cli.build();
        let mut abouts: Vec<(String, String)> = cli
            .get_subcommands()
            .filter(|sub| sub.get_name() != "help")
            .map(|sub| {
                let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
                (about, sub.get_name().to_owned())
            })
            .collect();
        assert!(abouts.len() > 15, "{abouts:?}");
        abouts.sort();
        for pair in abouts.windows(2) {
            assert_ne!(pair[0].0, pair[1].0, "{} and {}", pair[0].1, pair[1].1);
        }
        let render = cli.find_subcommand("render").unwrap();
        assert_eq!(
            render.get_about().map(ToString::to_string).as_deref(),
            Some("Render the manifests of one mode")
        );
    }
}
