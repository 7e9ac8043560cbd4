//! Output rules. Data goes to stdout and everything else to stderr. NO_COLOR, `--color never`,
//! a pipe and `--quiet` each mean no escape sequence and no progress bar. A closed stdout pipe
//! exits 0 without a message. `config show` names the source of every value and masks secrets.

mod support;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use support::harness::{to_run, Run, Sandbox};
use support::odoo::{OdooStandIn, StandInConfig};

const ESCAPE: char = '\u{1b}';
/// The start of the progress bar line of `full-rebuild` (see `Output::reporter`).
const REBUILD_BAR: &str = "rebuilding ";

/// A sandbox on the demo data with a built index, and without the harness's NO_COLOR.
fn indexed_sandbox(odoo: &OdooStandIn) -> Sandbox {
    let mut sandbox = Sandbox::for_odoo(odoo);
    sandbox.unset("NO_COLOR");
    let run = sandbox.run(&["full-rebuild", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    sandbox
}

/// Which output of crm-vec goes to a pseudo-terminal.
#[derive(Clone, Copy, PartialEq)]
enum Terminal {
    Stdout,
    Stderr,
}

/// Runs crm-vec with stderr on a pseudo-terminal, so that it would draw progress bars, and
/// returns what it wrote there as `stderr`.
fn run_with_terminal_stderr(sandbox: &Sandbox, args: &[&str]) -> Run {
    run_on_terminal(sandbox, args, Terminal::Stderr)
}

/// Runs crm-vec with one output on a pseudo-terminal of 0 columns (its size is never set), and
/// returns what it wrote there in place of the piped output.
fn run_on_terminal(sandbox: &Sandbox, args: &[&str], terminal: Terminal) -> Run {
    let (master, slave) = open_pty();
    let mut command = sandbox.command(args);
    match terminal {
        Terminal::Stdout => command.stdout(Stdio::from(slave)),
        Terminal::Stderr => command.stderr(Stdio::from(slave)),
    };
    let child = command.spawn().expect("start crm-vec");
    // The child has the only other handle to the slave side now, so the reader sees the end
    // (EIO on Linux) when the child exits.
    drop(command);
    let reader = std::thread::spawn(move || {
        let mut file = std::fs::File::from(master);
        let mut text = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(read) = file.read(&mut buffer) {
            if read == 0 {
                break;
            }
            text.extend_from_slice(&buffer[..read]);
        }
        text
    });
    let output = child.wait_with_output().expect("wait for crm-vec");
    let text = reader.join().expect("read the terminal");
    let text = String::from_utf8_lossy(&text).into_owned();
    let mut run = to_run(output);
    match terminal {
        Terminal::Stdout => run.stdout = text,
        Terminal::Stderr => run.stderr = text,
    }
    run
}

fn open_pty() -> (OwnedFd, OwnedFd) {
    let mut master = -1;
    let mut slave = -1;
    // SAFETY: openpty writes two new file descriptors into the out-pointers; the name, termios
    // and window-size arguments may be null.
    let result = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(
        result,
        0,
        "openpty failed: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

#[test]
fn terminal_shows_progress_by_default() {
    // The control for the tests below: on a terminal, without NO_COLOR, a bar is drawn.
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    let run = run_with_terminal_stderr(&sandbox, &["full-rebuild"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(REBUILD_BAR), "{:?}", run.stderr);
    assert!(run.stderr.contains(ESCAPE), "{:?}", run.stderr);
}

#[test]
fn no_color_on_terminal_has_no_escapes() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = indexed_sandbox(&odoo);
    sandbox.set("NO_COLOR", "1");
    let run = run_with_terminal_stderr(&sandbox, &["full-rebuild"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains(ESCAPE), "{:?}", run.stderr);
    assert!(!run.stderr.contains(REBUILD_BAR), "{:?}", run.stderr);
    assert!(
        run.stderr.contains("full-rebuild: 44 fetched"),
        "{:?}",
        run.stderr
    );
}

#[test]
fn color_never_on_terminal_has_no_escapes() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    let run = run_with_terminal_stderr(&sandbox, &["full-rebuild", "--color", "never"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains(ESCAPE), "{:?}", run.stderr);
    assert!(!run.stderr.contains(REBUILD_BAR), "{:?}", run.stderr);
}

#[test]
fn quiet_on_terminal_prints_nothing() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    let run = run_with_terminal_stderr(&sandbox, &["full-rebuild", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

#[test]
fn no_progress_on_terminal_draws_no_bar() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    let run = run_with_terminal_stderr(&sandbox, &["full-rebuild", "--no-progress"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains(REBUILD_BAR), "{:?}", run.stderr);
}

#[test]
fn zero_width_terminal_keeps_table_whole() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    let run = run_on_terminal(&sandbox, &["search", "chairs"], Terminal::Stdout);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The table on the terminal, not the plain one of a pipe.
    assert!(run.stdout.contains('│'), "{:?}", run.stdout);
    assert!(run.stdout.contains("Office chairs"), "{:?}", run.stdout);
}

/// Creates a sandbox where clap would colour its own output on a terminal: no NO_COLOR, and a
/// TERM that supports colour.
fn colour_terminal_sandbox() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.unset("NO_COLOR");
    sandbox.set("TERM", "xterm-256color");
    sandbox
}

#[test]
fn clap_errors_are_coloured_by_default() {
    // The control for the tests below: clap colours its own errors on a terminal.
    let sandbox = colour_terminal_sandbox();
    let run = run_on_terminal(&sandbox, &["search", "--bogus"], Terminal::Stderr);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(ESCAPE), "{:?}", run.stderr);
}

#[test]
fn color_never_reaches_clap_errors() {
    let sandbox = colour_terminal_sandbox();
    let run = run_on_terminal(
        &sandbox,
        &["search", "--bogus", "--color", "never"],
        Terminal::Stderr,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--bogus"), "{:?}", run.stderr);
    assert!(!run.stderr.contains(ESCAPE), "{:?}", run.stderr);
}

#[test]
fn color_never_reaches_clap_help() {
    let sandbox = colour_terminal_sandbox();
    for args in [
        &["search", "--help", "--color", "never"][..],
        &["--color=never", "search", "--help"],
    ] {
        let run = run_on_terminal(&sandbox, args, Terminal::Stdout);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            run.stdout.contains("--min-revenue"),
            "{args:?}: {:?}",
            run.stdout
        );
        assert!(!run.stdout.contains(ESCAPE), "{args:?}: {:?}", run.stdout);
    }
}

#[test]
fn odoo_retries_log_once_in_milliseconds() {
    // A port with no listener, so every attempt is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port();
    let mut sandbox = Sandbox::new();
    sandbox.set("ODOO_URL", &format!("http://127.0.0.1:{port}"));
    sandbox.set("ODOO_DB", "crm");
    sandbox.set("ODOO_USERNAME", "admin");
    sandbox.set("ODOO_PASSWORD", "admin-password");
    let run = sandbox.run(&["sync-new"]);
    assert_eq!(run.code, 1, "{}", run.stderr);

    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.contains("retrying in"))
        .collect();
    assert_eq!(warnings.len(), 3, "{}", run.stderr);
    for warning in &warnings {
        let wait = warning
            .split("retrying in ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_default();
        assert!(
            !wait.is_empty() && wait.chars().all(|c| c.is_ascii_digit()),
            "{warning}"
        );
        assert!(
            warning.contains(&format!("retrying in {wait} ms")),
            "{warning}"
        );
    }
    assert!(
        warnings[0].contains("connection refused"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[1].contains("failed the same way"),
        "{}",
        warnings[1]
    );
    assert!(
        !warnings[1].contains("connection refused"),
        "{}",
        warnings[1]
    );
    assert!(
        !warnings[2].contains("connection refused"),
        "{}",
        warnings[2]
    );
    assert!(
        run.stderr.contains("connection refused (after 4 attempts)"),
        "{}",
        run.stderr
    );
}

#[test]
fn piped_output_has_no_escapes() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    for args in [
        &["full-rebuild"][..],
        &["search", "chairs"],
        &["search", "chairs", "--json"],
        &["status"],
        &["config", "show"],
    ] {
        let run = sandbox.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.all_output());
        assert!(
            !run.all_output().contains(ESCAPE),
            "{args:?}: {:?}",
            run.all_output()
        );
        assert!(
            !run.stderr.contains(REBUILD_BAR),
            "{args:?}: {:?}",
            run.stderr
        );
    }
}

#[test]
fn quiet_keeps_data_on_stdout_only() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    let rebuild = sandbox.run(&["full-rebuild", "--quiet", "--json"]);
    assert_eq!(rebuild.code, 0, "{}", rebuild.stderr);
    assert_eq!(rebuild.stderr, "");
    assert_eq!(rebuild.json()["fetched"], json!(44));

    let search = sandbox.run(&["search", "chairs", "--quiet"]);
    assert_eq!(search.code, 0, "{}", search.stderr);
    assert_eq!(search.stderr, "");
    assert!(search.stdout.contains("Office chairs"), "{}", search.stdout);
}

/// Runs `crm-vec ARGS | head -1` through sh without pipefail, and returns crm-vec's own exit
/// status and stderr, which the script saves to files.
fn run_into_head(sandbox: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let template = sandbox.command(args);
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(r#"{ "$0" "$@" 2>crm-vec.stderr; echo $? >crm-vec.code; } | head -1"#)
        .arg(template.get_program())
        .args(template.get_args())
        .current_dir(&sandbox.dir)
        .env_clear()
        .stdin(Stdio::null());
    for (key, value) in template.get_envs() {
        if let Some(value) = value {
            shell.env(key, value);
        }
    }
    let output = shell.output().expect("run sh");
    let code = std::fs::read_to_string(sandbox.dir.join("crm-vec.code")).expect("exit status");
    let stderr = std::fs::read_to_string(sandbox.dir.join("crm-vec.stderr")).expect("stderr");
    let first_line = String::from_utf8_lossy(&output.stdout).into_owned();
    (code.trim().parse().expect("a number"), stderr, first_line)
}

#[test]
fn search_into_head_exits_quietly() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    let (code, stderr, first_line) = run_into_head(&sandbox, &["search", "chairs"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    assert!(first_line.starts_with("| id "), "{first_line}");
}

/// Runs crm-vec with stdout on a pipe whose reading end is already closed, so its first write
/// fails with a broken pipe.
fn run_into_closed_pipe(sandbox: &Sandbox, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().expect("create a pipe");
    drop(reader);
    let mut command = sandbox.command(args);
    command.stdout(writer);
    let output = command.output().expect("run crm-vec");
    to_run(output)
}

#[test]
fn closed_stdout_exits_quietly() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = indexed_sandbox(&odoo);
    for args in [
        &["search", "chairs"][..],
        &["search", "chairs", "--json"],
        &["status"],
        &["status", "--json"],
        &["config", "show"],
        &["config", "show", "--json"],
        &["completions", "bash"],
        &["man"],
    ] {
        let run = run_into_closed_pipe(&sandbox, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{args:?}");
    }
}

/// The `config show --json` entry of one variable.
fn setting(report: &Value, name: &str) -> Value {
    report["settings"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

#[test]
fn config_show_attributes_flag() {
    let mut sandbox = Sandbox::new();
    sandbox.set("COLLECTION", "from_env");
    sandbox.write_dotenv("COLLECTION=from_dotenv\n");
    let report = sandbox.json(&["config", "show", "--json", "--collection", "from_flag"]);
    let collection = setting(&report, "COLLECTION");
    assert_eq!(collection["value"], json!("from_flag"));
    assert_eq!(collection["source"], json!("flag"));
}

#[test]
fn config_show_attributes_environment() {
    let mut sandbox = Sandbox::new();
    sandbox.set("COLLECTION", "from_env");
    sandbox.write_dotenv("COLLECTION=from_dotenv\n");
    let report = sandbox.json(&["config", "show", "--json"]);
    let collection = setting(&report, "COLLECTION");
    assert_eq!(collection["value"], json!("from_env"));
    assert_eq!(collection["source"], json!("environment"));
}

#[test]
fn config_show_attributes_dotenv() {
    let sandbox = Sandbox::new();
    sandbox.write_dotenv("COLLECTION=from_dotenv\nCRM_VEC_PAGE_SIZE=50\n");
    let report = sandbox.json(&["config", "show", "--json"]);
    let collection = setting(&report, "COLLECTION");
    assert_eq!(collection["value"], json!("from_dotenv"));
    assert_eq!(collection["source"], json!(".env"));
    let page_size = setting(&report, "CRM_VEC_PAGE_SIZE");
    assert_eq!(page_size["value"], json!("50"));
    assert_eq!(page_size["source"], json!(".env"));
}

#[test]
fn config_show_attributes_default() {
    let report = Sandbox::new().json(&["config", "show", "--json"]);
    let collection = setting(&report, "COLLECTION");
    assert_eq!(collection["value"], json!("odoo_crm_leads"));
    assert_eq!(collection["source"], json!("default"));
    let archived = setting(&report, "CRM_VEC_ARCHIVED");
    assert_eq!(archived["value"], json!("remove"));
    assert_eq!(archived["source"], json!("default"));
    let database = setting(&report, "ODOO_DB");
    assert_eq!(database["value"], Value::Null);
    assert_eq!(database["source"], json!("not set"));
    let host = setting(&report, "HOST");
    assert_eq!(host["value"], json!("127.0.0.1"));
    assert_eq!(host["source"], json!("default"));
    let port = setting(&report, "PORT");
    assert_eq!(port["value"], json!("3000"));
    assert_eq!(port["source"], json!("default"));
}

#[test]
fn config_show_names_derived_provider() {
    let mut sandbox = Sandbox::new();
    sandbox.set("VOYAGE_API_KEY", "pa-voyage-key-8c1d");
    let report = sandbox.json(&["config", "show", "--json"]);
    let provider = setting(&report, "EMBEDDINGS_PROVIDER");
    assert_eq!(provider["value"], json!("voyage"));
    assert_eq!(provider["source"], json!("default (VOYAGE_API_KEY is set)"));
}

#[test]
fn dotenv_typo_warns_once() {
    let sandbox = Sandbox::new();
    sandbox.write_dotenv("ODOO_PASWORD=hunter2-typo\n");
    let run = sandbox.run(&["config", "show"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "warning: ODOO_PASWORD in .env is not a crm-vec setting; did you mean ODOO_PASSWORD?\n"
    );
}

#[test]
fn dotenv_typo_warning_quiet() {
    let sandbox = Sandbox::new();
    sandbox.write_dotenv("ODOO_PASWORD=hunter2-typo\n");
    let run = sandbox.run(&["config", "show", "--quiet"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
}

#[test]
fn flag_error_names_flag() {
    let run = Sandbox::new().run(&["config", "show", "--lock-timeout", "soon"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: invalid value for --lock-timeout: 'soon'"),
        "{}",
        run.stderr
    );
}

#[test]
fn environment_error_names_variable() {
    // clap lists the values of --archived but leaves the check to settings, which records that
    // this value came from the environment.
    let mut sandbox = Sandbox::new();
    sandbox.set("CRM_VEC_ARCHIVED", "kep");
    let run = sandbox.run(&["config", "show"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: invalid value for CRM_VEC_ARCHIVED: 'kep'"),
        "{}",
        run.stderr
    );
}

#[test]
fn lock_timeout_flag_takes_units() {
    let report = Sandbox::new().json(&["config", "show", "--json", "--lock-timeout", "2m"]);
    let timeout = setting(&report, "CRM_VEC_LOCK_TIMEOUT");
    assert_eq!(timeout["value"], json!("2m"));
    assert_eq!(timeout["source"], json!("flag"));
}

#[test]
fn config_show_table_names_sources() {
    let mut sandbox = Sandbox::new();
    sandbox.set("ODOO_DB", "from_env");
    sandbox.write_dotenv("COLLECTION=from_dotenv\n");
    let run = sandbox.run(&["config", "show", "--archived", "keep"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let row = |name: &str| {
        run.stdout
            .lines()
            .find(|line| line.starts_with(&format!("| {name} ")))
            .map(|line| line.split('|').map(str::trim).collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no row {name} in\n{}", run.stdout))
    };
    assert_eq!(row("ODOO_DB")[2..4], ["from_env", "environment"]);
    assert_eq!(row("COLLECTION")[2..4], ["from_dotenv", ".env"]);
    assert_eq!(row("CRM_VEC_ARCHIVED")[2..4], ["keep", "flag"]);
    assert_eq!(row("CRM_VEC_LOCK_TIMEOUT")[2..4], ["0", "default"]);
}

#[test]
fn config_show_never_prints_secrets() {
    let secrets = [
        ("ODOO_PASSWORD", "odoo-password-1f3a"),
        ("VOYAGE_API_KEY", "pa-voyage-key-2b4c"),
        ("EMBEDDINGS_API_KEY", "sk-embeddings-key-3c5d"),
        ("QDRANT_API_KEY", "qdrant-key-4d6e"),
        ("WEBHOOK_SECRET", "webhook-secret-5e7f"),
    ];
    let mut sandbox = Sandbox::new();
    for (name, value) in &secrets[..4] {
        sandbox.set(name, value);
    }
    let (webhook_name, webhook_secret) = secrets[4];
    sandbox.write_dotenv(&format!("{webhook_name}={webhook_secret}\n"));
    sandbox.set(
        "ODOO_URL",
        "https://bot:url-password-6f80@odoo.example.com/?token=url-token-7a91",
    );

    for args in [
        &["config", "show"][..],
        &["config", "show", "--json"],
        &["config", "show", "-vv"],
    ] {
        let run = sandbox.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let output = run.all_output();
        for (name, value) in secrets {
            assert!(!output.contains(value), "{args:?} printed {name}");
        }
        assert!(
            !output.contains("url-password-6f80"),
            "{args:?} printed the URL password"
        );
        assert!(
            !output.contains("url-token-7a91"),
            "{args:?} printed the URL token"
        );
    }

    let report = sandbox.json(&["config", "show", "--json"]);
    for (name, _) in secrets {
        let row = setting(&report, name);
        assert_eq!(row["value"], json!("****"), "{name}");
        assert_eq!(row["secret"], json!(true), "{name}");
    }
    assert_eq!(
        setting(&report, "ODOO_PASSWORD")["source"],
        json!("environment")
    );
    assert_eq!(setting(&report, webhook_name)["source"], json!(".env"));
    assert_eq!(
        setting(&report, "ODOO_URL")["value"],
        json!("https://odoo.example.com/")
    );
}
