//! The somagen binary: parse the command line, run the command, print, exit.
//! The only place that writes to stdout and stderr, and that picks exit codes:
//! 0 success, 1 findings, 2 errors.

mod cli;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use somagen::foundation::diag::{Diagnostic, Diagnostics, Severity};

// A render allocates hundreds of thousands of small nodes from two threads; mimalloc does
// that markedly faster than the system allocator, and its v2 line holds far less memory
// than v3 doing it (see the README's design notes).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How the heap is kept small, set before the Rust runtime's first allocation (an ELF
/// constructor; elsewhere than Linux the defaults stay). A render touches many small regions
/// of its threads' heaps, one stage after another. Measured on the N = 1,000 workload (the
/// README's benchmark notes), at the same speed:
///
/// - no transparent huge pages for the process: mimalloc's arenas may be backed by them, and
///   a 2 MiB page is resident whole for the few blocks in it (46 → 39 MiB; the real stack
///   37 → 21 MiB). A page faulted in before this runs would already be a huge one. A kernel
///   without the option keeps its default.
/// - freed pages handed back after 1 ms instead of 10: a stage's freed memory otherwise stays
///   resident while the next one allocates (→ 37 MiB). The option is set by its number in
///   the `mimalloc.h` of the v2 line the `mimalloc` crate builds: an upgrade checks it.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_MEMORY: extern "C" fn() = {
    extern "C" fn tune_memory() {
        use std::ffi::{c_int, c_long, c_ulong};
        unsafe extern "C" {
            fn prctl(option: c_int, ...) -> c_int;
            fn mi_option_set(option: c_int, value: c_long);
        }
        const PR_SET_THP_DISABLE: c_int = 41;
        const MI_OPTION_PURGE_DELAY: c_int = 15;
        let off = 1 as c_ulong;
        let _ = unsafe {
            prctl(
                PR_SET_THP_DISABLE,
                off,
                0 as c_ulong,
                0 as c_ulong,
                0 as c_ulong,
            )
        };
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 1) };
    }
    tune_memory
};

fn main() -> ExitCode {
    let parsed = cli::Cli::command()
        .try_get_matches()
        .and_then(|matches| cli::Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let sub_matches = matches.subcommand().map(|(_, m)| m).unwrap_or(&matches);
    let json = cli.message_format == cli::MessageFormat::Json;
    // The command runs on the thread pool's workers: each stage goes on from the parallel
    // steps before it on the worker that finished them, rather than on this thread, woken
    // each time (with as many workers as cores, a woken third thread waits for a core).
    match rayon::scope(|_| cli::run(cli.command, sub_matches)) {
        Ok((stdout, findings)) => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(stdout.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::from(2);
            }
            report(&findings, json);
            // Notes (waived lint findings) are printed but do not fail.
            if findings.iter().all(|d| d.severity == Severity::Note) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(Diagnostics(errors)) => {
            report(&errors, json);
            ExitCode::from(2)
        }
    }
}

/// Print diagnostics to stderr: JSON lines, or text coloured only on a terminal and never
/// with NO_COLOR.
fn report(diagnostics: &[Diagnostic], json: bool) {
    use anstyle::{AnsiColor, Style};
    let mut err = anstream::stderr().lock();
    for diagnostic in diagnostics {
        if json {
            let _ = writeln!(err, "{}", diagnostic.to_json());
            continue;
        }
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
