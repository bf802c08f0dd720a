//! The somagen binary: parse the command line, run the command, print, exit.
//! The only place that writes to stdout and stderr, and that picks exit codes:
//! 0 success, 1 findings, 2 errors.

mod cli;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use somagen::foundation::diag::{Diagnostic, Diagnostics, Severity};

// A render allocates hundreds of thousands of small nodes from two threads; mimalloc does
// that markedly faster than the system allocator (see the README's benchmark notes).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Make mimalloc hand memory back as soon as it is free. A render holds two large trees one
/// after the other (the values, then the objects), built on worker threads; with mimalloc's
/// defaults (arenas committed eagerly, purges delayed by 10 ms) the pages of the first stay
/// resident while the second is built, and the process peaks at far more than it uses.
///
/// The arena option only counts before the first allocation reserves the arena, which the
/// Rust runtime makes before `main`: so this runs as an ELF constructor, before the runtime.
/// (Elsewhere than Linux mimalloc keeps its defaults.)
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = {
    extern "C" fn tune_allocator() {
        // mimalloc's C API, in the library the `mimalloc` crate links; the option numbers are
        // those of `mi_option_e` in the v3 `mimalloc.h` it builds.
        unsafe extern "C" {
            fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
        }
        const ARENA_EAGER_COMMIT: std::ffi::c_int = 4;
        const PURGE_DELAY: std::ffi::c_int = 15;
        // SAFETY: setting an option stores an integer that mimalloc reads when it decides;
        // nothing else runs yet.
        unsafe {
            mi_option_set(ARENA_EAGER_COMMIT, 0);
            mi_option_set(PURGE_DELAY, 0);
        }
    }
    tune_allocator
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
    match cli::run(cli.command, sub_matches) {
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
