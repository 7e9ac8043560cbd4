//! The `crm-vec` binary: parse the command line, set up logging, run the command, render
//! errors and map them to exit codes.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use tracing_subscriber::EnvFilter;

use crm_vec::cli::{Cli, Command};
use crm_vec::commands::{self, Invocation};
use crm_vec::output::Output;
use crm_vec::settings::{Layers, Settings};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let color = color_choice(&args);
    let matches = Cli::command().color(color).get_matches_from(&args);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    if cli.global.json && !cli.command.takes_json() {
        reject_json(&matches, color);
    }
    let output = Output::new(&cli.global);
    // A listener's log is its record of events, so it shows one line per event by default.
    let runs_listener = match &cli.command {
        Command::Serve(_) => true,
        Command::Mcp(args) => args.listen.is_some(),
        _ => false,
    };
    init_logging(&cli.global, &output, runs_listener);

    // Completions and man pages come from the clap definitions alone, so a malformed .env in
    // the working directory does not stop them.
    let generated = match &cli.command {
        Command::Completions(args) => Some(commands::generate::completions(args)),
        Command::Man(args) => Some(commands::generate::man(args)),
        _ => None,
    };
    if let Some(result) = generated {
        return match result {
            Ok(code) => code,
            Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
            Err(err) => {
                render_error(&err);
                ExitCode::from(1)
            }
        };
    }

    let dir = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let settings = Layers::from_process(&cli.global, &matches, &dir).and_then(|layers| {
        for warning in layers.dotenv_warnings() {
            output.warning(&warning);
        }
        Settings::resolve(&layers)
    });
    let settings = match settings {
        Ok(settings) => settings,
        Err(err) => {
            render_error(&anyhow::Error::new(err));
            return ExitCode::from(2);
        }
    };

    install_sigbus_handler();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: could not start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    let ctx = Invocation { settings, output };
    match runtime.block_on(commands::run(cli.command, ctx)) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            render_error(&err);
            if commands::is_usage_error(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Finds the `--color` choice before clap parses the command line, so that clap's own help and
/// errors follow it too. clap's automatic choice already honours `NO_COLOR`.
fn color_choice(args: &[OsString]) -> clap::ColorChoice {
    let mut choice = clap::ColorChoice::Auto;
    let mut words = args.iter().skip(1).filter_map(|arg| arg.to_str());
    while let Some(word) = words.next() {
        let value = match word {
            "--" => break,
            "--color" => words.next(),
            _ => word.strip_prefix("--color="),
        };
        choice = match value {
            Some("always") => clap::ColorChoice::Always,
            Some("never") => clap::ColorChoice::Never,
            Some("auto") => clap::ColorChoice::Auto,
            _ => choice,
        };
    }
    choice
}

/// Exits with a usage error: `--json` was given to a command that prints no report.
fn reject_json(matches: &clap::ArgMatches, color: clap::ColorChoice) -> ! {
    let name = matches.subcommand_name().unwrap_or_default();
    let message = format!(
        "--json does not apply to `crm-vec {name}`, which prints no report; only the commands \
         that report on the index take it"
    );
    Cli::command()
        .color(color)
        .error(clap::error::ErrorKind::ArgumentConflict, message)
        .exit()
}

/// Logs go to stderr: warnings by default (crm-vec's info too when `runs_listener`), `-v`
/// debug, `-vv` trace, `--quiet` errors only; `RUST_LOG` overrides all of them.
fn init_logging(args: &crm_vec::cli::GlobalArgs, output: &Output, runs_listener: bool) {
    // The index engine logs internal notices through `log` at warning level (for example
    // about its memory-map support check); they mean nothing to users, so it gets errors only.
    let level = match (args.quiet, args.verbose) {
        (true, _) => "error",
        (false, 0) if runs_listener => "warn,crm_vec=info,qdrant_edge=error",
        (false, 0) => "warn,qdrant_edge=error",
        (false, 1) => "warn,crm_vec=debug,qdrant_edge=error",
        (false, _) => "info,crm_vec=trace,qdrant_edge=warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output.color_stderr)
        .with_target(false)
        .without_time()
        .init();
}

/// Prints an error once: `error:` with the outermost message, `caused by:` for each source
/// that adds something, and a `hint:` when a known fix exists.
fn render_error(err: &anyhow::Error) {
    eprintln!("error: {}", crm_vec::output::printable(&err.to_string()));
    let mut previous = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        // Wrapped errors often repeat their source in their own message.
        if !previous.contains(&text) {
            eprintln!("caused by: {}", crm_vec::output::printable(&text));
        }
        previous = text;
    }
    if let Some(hint) = crm_vec::commands::hint_for(err) {
        eprintln!("hint: {}", crm_vec::output::printable(&hint));
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Replaces the default action of SIGBUS (a core dump with no message) with a message and exit
/// code 1. The embedded index writes its files through memory maps, and when the kernel cannot
/// allocate a page behind one, usually because the disk is full, the writing thread gets SIGBUS.
fn install_sigbus_handler() {
    extern "C" fn on_sigbus(_signal: libc::c_int) {
        const MESSAGE: &[u8] =
            b"error: the index failed with SIGBUS while writing a memory-mapped file\n\
            hint: this usually means the file system of CRM_VEC_DATA_DIR is full; free space, \
            then run the command again\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe, and MESSAGE is static.
        unsafe {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::_exit(1);
        }
    }
    // SAFETY: the handler only calls async-signal-safe functions.
    unsafe {
        libc::signal(
            libc::SIGBUS,
            on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}
