//! `somagen plan`, `apply` and `drift`: the render against a live cluster, through kubectl.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use clap::{ArgMatches, Args, ValueEnum};

use super::Outcome;
use super::args::{RenderInputs, stdout_color};
use somagen::foundation::diag::{Code, Diagnostic, Result, Severity};
use somagen::foundation::object::Object;
use somagen::pipeline::stack::Stack;
use somagen::tools::cluster::{self, apply, drift, kubectl::Kubectl, plan, ready};

pub const PLAN_EXAMPLES: &str = "\
Examples:
  somagen plan --mode prod
  somagen plan --mode prod --context prod-eu --stat
  somagen plan --mode prod --format json | jq '.summary'

Exit codes: 0 nothing would change, 1 changes (create, update or prune), 2 errors.";
pub const APPLY_EXAMPLES: &str = "\
Examples:
  somagen apply --mode dev
  somagen apply --mode prod --prune --wait --timeout 10m
  somagen apply --mode prod --context prod-eu --kubeconfig ~/.kube/prod

Exit codes: 0 applied (and ready with --wait), 1 not ready when --timeout passed, 2 errors.";
pub const DRIFT_EXAMPLES: &str = "\
Examples:
  somagen drift --mode prod
  somagen drift --mode prod --format json > drift.json
  somagen drift --mode prod --ignore-manager keda-operator

Exit codes: 0 no drift, 1 drift (edited, missing or unexpected objects), 2 errors.
A nightly job: examples/ci/somagen-drift.yml.";

#[derive(Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    inputs: RenderInputs,
    /// The kubeconfig context to use (passed to kubectl).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// The kubeconfig file to use (passed to kubectl; default: $KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<OsString>,
    /// The kubectl program to run.
    #[arg(long, value_name = "PATH", default_value = "kubectl")]
    kubectl: OsString,
    /// Output format of the report.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Only list the changes and the counts.
    #[arg(long)]
    stat: bool,
    /// Show Secret data in the diffs (redacted by default, so CI logs carry no credentials).
    #[arg(long)]
    show_secrets: bool,
}

#[derive(Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Delete the live objects the stack owns that the render no longer has.
    #[arg(long)]
    prune: bool,
    /// Wait until rollouts complete, StatefulSets are ready, Jobs complete, claims are bound.
    #[arg(long)]
    wait: bool,
    /// How long --wait waits: 90s, 5m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    timeout: Duration,
}

#[derive(Args)]
pub struct DriftArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// A field manager whose changes are not drift (repeatable), besides
    /// kube-controller-manager (the HPA and the built-in controllers).
    #[arg(long, value_name = "NAME")]
    ignore_manager: Vec<String>,
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |at| text.split_at(at));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 90s, 5m or 1h"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{text}`: the unit must be s, m or h")),
    };
    Ok(Duration::from_secs(seconds))
}

/// The render, its ownership checked, the prune kinds, and the kubectl to use.
struct Prepared {
    stack: Stack,
    objects: Vec<Object>,
    prune_kinds: BTreeSet<(String, String)>,
    kubectl: Kubectl,
}

fn prepare(args: &ClusterArgs, matches: &ArgMatches) -> Result<Prepared> {
    let stack = args.inputs.stack.load()?;
    let user = args.inputs.values.user_values(matches)?;
    let rendered = somagen::render(&stack, &args.inputs.mode.mode, &user)?;
    cluster::check_ownership(&rendered.objects, &stack.meta.name)?;
    // Prune looks in every kind any mode renders, so switching modes removes the kinds the
    // new mode no longer has; a mode that does not render with these values adds nothing.
    let mut prune_kinds: BTreeSet<(String, String)> = rendered
        .objects
        .iter()
        .map(|o| (o.api_version().to_owned(), o.kind().to_owned()))
        .collect();
    for mode in &stack.meta.modes {
        if *mode != args.inputs.mode.mode
            && let Ok(other) = somagen::render(&stack, mode, &user)
        {
            prune_kinds.extend(
                other
                    .objects
                    .iter()
                    .map(|o| (o.api_version().to_owned(), o.kind().to_owned())),
            );
        }
    }
    Ok(Prepared {
        kubectl: Kubectl {
            program: args.kubectl.clone(),
            context: args.context.clone(),
            kubeconfig: args.kubeconfig.clone(),
        },
        objects: rendered.objects,
        prune_kinds,
        stack,
    })
}

fn observe(prepared: &Prepared) -> Result<cluster::State> {
    cluster::observe(
        &prepared.kubectl,
        &prepared.objects,
        &prepared.prune_kinds,
        &prepared.stack.meta.name,
    )
}

fn json_text(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

pub fn run_plan(args: PlanArgs, matches: &ArgMatches) -> Outcome {
    let prepared = prepare(&args.cluster, matches)?;
    let state = observe(&prepared)?;
    let plan = plan::plan(&prepared.objects, &state, args.show_secrets);
    let findings = if plan.has_changes() {
        vec![Diagnostic::warning(
            Code::Plan,
            format!(
                "applying mode {} would change the cluster: {}",
                args.cluster.inputs.mode.mode,
                plan.summary()
            ),
        )]
    } else {
        vec![]
    };
    let out = match args.cluster.format {
        ReportFormat::Json => json_text(&plan.to_json()),
        ReportFormat::Text => plan.render(&plan::Options {
            stat: args.stat,
            color: stdout_color(),
        }),
    };
    Ok((out, findings))
}

pub fn run_drift(args: DriftArgs, matches: &ArgMatches) -> Outcome {
    let prepared = prepare(&args.cluster, matches)?;
    let state = observe(&prepared)?;
    let mut controllers: Vec<String> = drift::CONTROLLERS.iter().map(|c| (*c).to_owned()).collect();
    controllers.extend(args.ignore_manager);
    let report = drift::drift(&prepared.objects, &state, &controllers);
    let findings = if report.is_empty() {
        vec![]
    } else {
        vec![Diagnostic::warning(
            Code::Drift,
            format!(
                "the cluster has drifted from mode {}: {}",
                args.cluster.inputs.mode.mode,
                report.summary()
            ),
        )]
    };
    let out = match args.cluster.format {
        ReportFormat::Json => json_text(&report.to_json()),
        ReportFormat::Text => report.render(),
    };
    Ok((out, findings))
}

pub fn run_apply(args: ApplyArgs, matches: &ArgMatches) -> Outcome {
    let prepared = prepare(&args.cluster, matches)?;
    let state = observe(&prepared)?;
    let plan = plan::plan(&prepared.objects, &state, false);
    let warnings = apply::apply(&prepared.kubectl, &prepared.objects)?;
    let pruned = if args.prune {
        apply::prune(&prepared.kubectl, &plan)?
    } else {
        0
    };
    // The API server's warnings are shown, and do not fail the apply.
    let mut findings: Vec<Diagnostic> = warnings
        .into_iter()
        .map(|warning| Diagnostic {
            severity: Severity::Note,
            ..Diagnostic::error(Code::Cluster, format!("the API server warns: {warning}"))
        })
        .collect();
    let mut out = plan.render(&plan::Options {
        stat: true,
        color: stdout_color(),
    });
    out.push_str(&applied_line(&plan, pruned));
    let statuses = if args.wait {
        let statuses = wait_until_ready(&prepared, args.timeout)?;
        match readiness_problems(&statuses, args.timeout) {
            problems if problems.is_empty() => out.push_str(&format!(
                "ready: {} of {} workloads\n",
                statuses.len(),
                statuses.len()
            )),
            problems => findings.extend(problems),
        }
        Some(statuses)
    } else {
        None
    };
    if args.cluster.format == ReportFormat::Json {
        out = json_text(&apply_json(&plan, pruned, statuses.as_deref()));
    }
    Ok((out, findings))
}

/// `applied: N created, …`, and how many objects are left to prune.
fn applied_line(plan: &plan::Plan, pruned: usize) -> String {
    let kept = plan.count(plan::Action::Prune) - pruned;
    format!(
        "applied: {} created, {} updated, {} unchanged, {} pruned{}\n",
        plan.count(plan::Action::Create),
        plan.count(plan::Action::Update),
        plan.count(plan::Action::Unchanged),
        pruned,
        if kept > 0 {
            format!(" ({kept} left: pass --prune to delete them)")
        } else {
            String::new()
        }
    )
}

/// Polls the applied workloads every second, showing progress on stderr.
fn wait_until_ready(prepared: &Prepared, timeout: Duration) -> Result<Vec<ready::Status>> {
    let mut display = Progress::new();
    let statuses = ready::wait(
        &prepared.kubectl,
        &prepared.objects,
        timeout,
        Duration::from_secs(1),
        &mut |s| display.show(s),
    )?;
    display.finish();
    Ok(statuses)
}

/// One warning per workload that is not ready, and a summary; nothing when all are.
fn readiness_problems(statuses: &[ready::Status], timeout: Duration) -> Vec<Diagnostic> {
    let not_ready: Vec<&ready::Status> = statuses
        .iter()
        .filter(|s| s.state != ready::State::Ready)
        .collect();
    if not_ready.is_empty() {
        return Vec::new();
    }
    let mut problems: Vec<Diagnostic> = not_ready
        .iter()
        .map(|status| {
            let what = if status.state == ready::State::Failed {
                "failed"
            } else {
                "not ready"
            };
            Diagnostic::warning(Code::Wait, format!("{what}: {}", status.message))
                .path(status.identity.to_string())
        })
        .collect();
    problems.push(
        Diagnostic::warning(
            Code::Wait,
            format!(
                "{} of {} workloads not ready after {}s",
                not_ready.len(),
                statuses.len(),
                timeout.as_secs()
            ),
        )
        .hint("kubectl describe the objects above, or wait longer with --timeout"),
    );
    problems
}

/// The plan's JSON with what was pruned and, after `--wait`, each workload's readiness.
fn apply_json(
    plan: &plan::Plan,
    pruned: usize,
    statuses: Option<&[ready::Status]>,
) -> serde_json::Value {
    let mut value = plan.to_json();
    value["pruned"] = serde_json::json!(pruned);
    if let Some(statuses) = statuses {
        value["readiness"] = statuses
            .iter()
            .map(|s| {
                serde_json::json!({
                    "object": s.identity.to_string(),
                    "ready": s.state == ready::State::Ready,
                    "message": s.message,
                })
            })
            .collect();
    }
    value
}

/// The readiness display on stderr: one rewritten line on a terminal, else a line whenever
/// the number of ready objects changes.
struct Progress {
    terminal: bool,
    last: Option<usize>,
}

impl Progress {
    fn new() -> Self {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    fn show(&mut self, statuses: &[ready::Status]) {
        let ready = statuses
            .iter()
            .filter(|s| s.state == ready::State::Ready)
            .count();
        let waiting = statuses
            .iter()
            .find(|s| s.state != ready::State::Ready)
            .map(|s| format!(" (waiting for {}: {})", s.identity, s.message))
            .unwrap_or_default();
        let line = format!("ready: {ready}/{}{waiting}", statuses.len());
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else if self.last != Some(ready) {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        self.last = Some(ready);
    }

    fn finish(&self) {
        if self.terminal && self.last.is_some() {
            let _ = writeln!(std::io::stderr());
        }
    }
}
