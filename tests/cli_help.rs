//! Snapshots of `crm-vec --help` and of each subcommand's `--help`, rendered 100 columns wide,
//! under `tests/snapshots/help/`. With `CRM_VEC_REGENERATE=1` the tests rewrite the snapshots
//! instead of comparing.

mod support;

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
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
                "{name}: the help differs from tests/snapshots/help/{name}.txt \
                 (- snapshot, + now):\n{}",
                line_diff(&expected, &help)
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

/// Lists the lines that differ between two texts, from a longest common subsequence of lines:
/// `-` for a line only in `old`, `+` for one only in `new`, each with its line number.
fn line_diff(old: &str, new: &str) -> String {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    // common[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut diff = String::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
            diff.push_str(&format!("-{:>4} {}\n", i + 1, old[i]));
            i += 1;
        } else {
            diff.push_str(&format!("+{:>4} {}\n", j + 1, new[j]));
            j += 1;
        }
    }
    diff
}

#[test]
fn line_diff_shows_only_changed_lines() {
    let old = "a\nb\nc\nd\n";
    let new = "a\nB\nc\nd\ne\n";
    assert_eq!(line_diff(old, new), "-   2 b\n+   2 B\n+   5 e\n");
}

/// Finds the `crm-vec …` command lines in a help text. A command starts at a word `crm-vec` (or
/// a path ending in `/crm-vec`) that begins the line or follows `&&` or a label such as
/// `bash:`. It ends at a gap of two spaces, where the description starts, or at a shell
/// operator. clap's `Usage:` line is a synopsis, not a command.
fn example_commands(help: &str) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    for line in help.lines() {
        let Some(start) = command_start(line) else {
            continue;
        };
        let text = &line[start..];
        let text = text.split("  ").next().unwrap_or(text);
        let mut words = shell_words(text);
        if let Some(end) = words
            .iter()
            .position(|word| [">", ">>", "|", "&&", ";"].contains(&word.as_str()))
        {
            words.truncate(end);
        }
        commands.push(words);
    }
    commands
}

/// Finds the byte offset of the `crm-vec` word that starts a command in `line`, if any.
fn command_start(line: &str) -> Option<usize> {
    let mut previous: Option<&str> = None;
    let mut offset = 0;
    for word in line.split(' ') {
        let at = offset;
        offset += word.len() + 1;
        if word.is_empty() {
            continue;
        }
        if word == "crm-vec" || word.ends_with("/crm-vec") {
            let starts_command = match previous {
                None => true,
                Some(before) => before == "&&" || (before.ends_with(':') && before != "Usage:"),
            };
            return starts_command.then_some(at);
        }
        previous = Some(word);
    }
    None
}

/// Splits a command line into words, honouring double quotes.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn help_examples_parse() {
    let sandbox = fixed_width_sandbox();
    let mut checked = 0;
    for path in command_paths() {
        let help = help_of(&sandbox, &path);
        for words in example_commands(&help) {
            let parsed = Cli::try_parse_from(&words);
            assert!(
                parsed.is_ok(),
                "crm-vec {path:?} --help has an example that does not parse: {words:?}\n{}",
                parsed.err().map(|err| err.to_string()).unwrap_or_default()
            );
            checked += 1;
        }
    }
    // The examples of full-rebuild, sync-new, search, serve, mcp and completions.
    assert!(checked >= 17, "only {checked} examples found");
}

#[test]
fn example_commands_end_before_description() {
    let help =
        "  */5 * * * * cd /srv && /usr/local/bin/crm-vec sync-new --quiet   Every 5 minutes\n\
                  bash: crm-vec completions bash > ~/x/crm-vec\n\
                  crm-vec search \"office chairs\" --limit 5\n\
                  `crm-vec config show` prints every setting\n\
                  Address crm-vec serve listens on\n\
                  Usage: crm-vec [OPTIONS] <COMMAND>\n";
    assert_eq!(
        example_commands(help),
        [
            vec!["/usr/local/bin/crm-vec", "sync-new", "--quiet"],
            vec!["crm-vec", "completions", "bash"],
            vec!["crm-vec", "search", "office chairs", "--limit", "5"],
        ]
    );
}

#[test]
fn root_help_lists_every_variable() {
    let help = help_of(&fixed_width_sandbox(), &[]);
    let environment = help
        .split_once("\nEnvironment:\n")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no Environment section in\n{help}"));
    for variable in crm_vec::settings::VARIABLES {
        assert!(
            environment.contains(&format!("\n  {}\n", variable.name)),
            "no entry for {} in\n{environment}",
            variable.name
        );
    }
    assert!(environment.contains("\nExit status:\n"), "{environment}");
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
