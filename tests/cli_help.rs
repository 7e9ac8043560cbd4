//! Snapshots of `crm-vec --help` and of each subcommand's `--help`, rendered 100 columns wide,
//! under `tests/snapshots/help/`. With `CRM_VEC_REGENERATE=1` the tests rewrite the snapshots
//! instead of comparing.

mod support;

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use crm_vec::cli::Cli;

use support::harness::Sandbox;

const REGENERATE: &str = "CRM_VEC_REGENERATE=1 cargo test --test cli_generated --test cli_help";

fn regenerating() -> bool {
    std::env::var_os("CRM_VEC_REGENERATE").is_some_and(|value| value == "1")
}

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help")
}

/// Every command path with a help page: `[]` for crm-vec itself, `["config", "show"]` for a
/// nested one. clap's own `help` subcommand is left out.
fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, prefix: Vec<String>, paths: &mut Vec<Vec<String>>) {
        paths.push(prefix.clone());
        for sub in command.get_subcommands() {
            if sub.get_name() == "help" || sub.is_hide_set() {
                continue;
            }
            let mut path = prefix.clone();
            path.push(sub.get_name().to_string());
            walk(sub, path, paths);
        }
    }
    let mut paths = Vec::new();
    walk(&Cli::command(), Vec::new(), &mut paths);
    paths
}

fn help_of(sandbox: &Sandbox, path: &[String]) -> String {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let run = sandbox.run(&args);
    assert_eq!(run.code, 0, "crm-vec {args:?} failed: {}", run.stderr);
    assert_eq!(run.stderr, "", "crm-vec {args:?} wrote to stderr");
    run.stdout
}

/// A sandbox whose help renders the same on every machine: 100 columns, no colour.
fn fixed_width_sandbox() -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.set("COLUMNS", "100");
    sandbox
}

#[test]
fn help_matches_snapshots() {
    let sandbox = fixed_width_sandbox();
    let dir = snapshot_dir();
    let mut stale = Vec::new();
    for path in command_paths() {
        let name = std::iter::once("crm-vec".to_string())
            .chain(path.iter().cloned())
            .collect::<Vec<_>>()
            .join("-");
        let file = dir.join(format!("{name}.txt"));
        let help = help_of(&sandbox, &path);
        if regenerating() {
            std::fs::create_dir_all(&dir).expect("create the snapshot directory");
            std::fs::write(&file, &help).expect("write a snapshot");
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(expected) if expected == help => {}
            Ok(expected) => stale.push(format!(
                "{name}: the help differs from tests/snapshots/help/{name}.txt\n--- snapshot\n\
                 {expected}\n--- now\n{help}"
            )),
            Err(_) => stale.push(format!(
                "{name}: no snapshot tests/snapshots/help/{name}.txt"
            )),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nif the change is intended, regenerate with: {REGENERATE}",
        stale.join("\n")
    );
}

#[test]
fn help_lists_examples_for_main_jobs() {
    let sandbox = fixed_width_sandbox();
    for command in ["full-rebuild", "sync-new", "search", "serve", "mcp"] {
        let help = help_of(&sandbox, &[command.to_string()]);
        let examples = help
            .split_once("\nExamples:\n")
            .map(|(_, examples)| examples);
        assert!(
            examples.is_some_and(|examples| examples.contains(&format!("crm-vec {command}"))),
            "crm-vec {command} --help has no examples:\n{help}"
        );
    }
}

#[test]
fn help_never_shows_environment_values() {
    let mut sandbox = fixed_width_sandbox();
    let values = [
        ("ODOO_URL", "http://odoo-url-value.invalid"),
        ("ODOO_DB", "odoo-db-value"),
        ("ODOO_USERNAME", "odoo-username-value"),
        ("ODOO_PASSWORD", "odoo-password-value"),
        ("ODOO_PROTOCOL", "odoo-protocol-value"),
        ("COLLECTION", "collection_value"),
        ("EMBEDDINGS_PROVIDER", "embeddings-provider-value"),
        ("VOYAGE_API_KEY", "voyage-key-value"),
        ("CRM_VEC_LOCK_TIMEOUT", "4711"),
    ];
    for (name, value) in values {
        sandbox.set(name, value);
    }
    for path in command_paths() {
        let help = help_of(&sandbox, &path);
        for (name, value) in values {
            assert!(
                !help.contains(value),
                "crm-vec {path:?} --help shows the value of {name}"
            );
        }
    }
}

/// Every option and argument has help text, and env-backed ones hide their values.
#[test]
fn every_argument_has_help() {
    fn walk(command: &clap::Command, name: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() {
                missing.push(format!("{name} {id}: no help text"));
            }
            if arg.get_env().is_some() && !arg.is_hide_env_values_set() {
                missing.push(format!("{name} {id}: env value not hidden"));
            }
        }
        for sub in command.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(format!("{name} {}: no about text", sub.get_name()));
            }
            walk(sub, &format!("{name} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&Cli::command(), "crm-vec", &mut missing);
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
