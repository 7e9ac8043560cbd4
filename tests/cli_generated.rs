//! The shell completions under `completions/` and the manual pages under `man/` must be what
//! the current clap definitions generate. With `CRM_VEC_REGENERATE=1` the tests rewrite them
//! instead of comparing.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crm_vec::commands::generate;

use support::harness::Sandbox;

/// The one command that brings every generated file and help snapshot up to date.
const REGENERATE: &str = "CRM_VEC_REGENERATE=1 cargo test --test cli_generated --test cli_help";

fn regenerating() -> bool {
    std::env::var_os("CRM_VEC_REGENERATE").is_some_and(|value| value == "1")
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Compares the files of `dir` with `expected`, or rewrites `dir` when regenerating. A file
/// that differs, is missing or is no longer generated counts as stale.
fn check_generated(dir: &str, expected: &[(String, Vec<u8>)]) {
    let root = repo_path(dir);
    let on_disk: BTreeSet<String> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .filter(|entry| entry.path().is_file())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let names: BTreeSet<String> = expected.iter().map(|(name, _)| name.clone()).collect();

    if regenerating() {
        std::fs::create_dir_all(&root).expect("create the directory");
        for name in on_disk.difference(&names) {
            std::fs::remove_file(root.join(name)).expect("remove a page no longer generated");
        }
        for (name, text) in expected {
            std::fs::write(root.join(name), text).expect("write a generated file");
        }
        return;
    }

    let mut stale: Vec<String> = on_disk
        .difference(&names)
        .map(|name| format!("{dir}/{name} (no longer generated)"))
        .collect();
    for (name, text) in expected {
        match std::fs::read(root.join(name)) {
            Ok(found) if &found == text => {}
            Ok(_) => stale.push(format!("{dir}/{name} (differs)")),
            Err(_) => stale.push(format!("{dir}/{name} (missing)")),
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are out of date with src/cli.rs: {}\nregenerate them with: {REGENERATE}",
        stale.join(", ")
    );
}

#[test]
fn completions_are_current() {
    check_generated("completions", &generate::completion_files());
}

#[test]
fn man_pages_are_current() {
    check_generated(
        "man",
        &generate::man_pages().expect("render the manual pages"),
    );
}

#[test]
fn completions_cover_five_shells() {
    let names: Vec<String> = generate::completion_files()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        names,
        [
            "crm-vec.bash",
            "_crm-vec",
            "crm-vec.fish",
            "crm-vec.elv",
            "_crm-vec.ps1"
        ]
    );
}

#[test]
fn man_pages_include_each_command() {
    let names: BTreeSet<String> = generate::man_pages()
        .expect("render the manual pages")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for page in [
        "crm-vec.1",
        "crm-vec-full-rebuild.1",
        "crm-vec-sync-record.1",
        "crm-vec-sync-new.1",
        "crm-vec-delete.1",
        "crm-vec-search.1",
        "crm-vec-status.1",
        "crm-vec-serve.1",
        "crm-vec-mcp.1",
        "crm-vec-completions.1",
        "crm-vec-man.1",
        "crm-vec-config.1",
        "crm-vec-config-show.1",
    ] {
        assert!(names.contains(page), "no manual page {page} in {names:?}");
    }
    assert!(!names.contains("crm-vec-help.1"), "{names:?}");
}

#[test]
fn completions_command_prints_bash_script() {
    let run = Sandbox::new().run(&["completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected = generate::completion(clap_complete::Shell::Bash);
    assert_eq!(run.stdout.as_bytes(), expected.as_slice());
    assert_eq!(run.stderr, "");
}

#[test]
fn man_command_prints_main_page() {
    let run = Sandbox::new().run(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH crm-vec 1"), "{}", run.stdout);
    assert!(run.stdout.contains("full\\-rebuild"), "{}", run.stdout);
}

#[test]
fn generators_ignore_malformed_dotenv() {
    let sandbox = Sandbox::new();
    sandbox.write_dotenv("this line is not a setting\n");
    let settings = sandbox.run(&["config", "show"]);
    assert_eq!(
        settings.code, 2,
        "the .env is not malformed enough: {}",
        settings.stderr
    );

    let run = sandbox.run(&["completions", "zsh"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("#compdef crm-vec"), "{}", run.stdout);
}

#[test]
fn write_flag_writes_every_file() {
    let sandbox = Sandbox::new();
    let completions = sandbox.run(&["completions", "--write", "out/completions"]);
    assert_eq!(completions.code, 0, "{}", completions.stderr);
    let man = sandbox.run(&["man", "--write", "out/man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);

    for (name, text) in generate::completion_files() {
        let written = std::fs::read(sandbox.dir.join("out/completions").join(&name));
        assert_eq!(written.ok(), Some(text), "completions/{name}");
    }
    for (name, text) in generate::man_pages().expect("render the manual pages") {
        let written = std::fs::read(sandbox.dir.join("out/man").join(&name));
        assert_eq!(written.ok(), Some(text), "man/{name}");
    }
}

#[test]
fn readme_lists_every_variable() {
    let readme = std::fs::read_to_string(repo_path("README.md")).expect("read README.md");
    for variable in crm_vec::settings::VARIABLES {
        let name = variable.name;
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "the configuration table in README.md has no row for {name}"
        );
    }
}

/// Returns the text of one section of a manual page, from its `.SH` line to the next one.
fn man_section(page: &str, title: &str) -> String {
    let heading = format!(".SH {title}\n");
    let start = page
        .find(&heading)
        .unwrap_or_else(|| panic!("no section {title} in\n{page}"));
    let rest = &page[start + heading.len()..];
    let end = rest.find("\n.SH ").map_or(rest.len(), |end| end + 1);
    rest[..end].to_string()
}

fn main_man_page() -> String {
    let pages = generate::man_pages().expect("render the manual pages");
    String::from_utf8(pages[0].1.clone()).expect("the page is UTF-8")
}

#[test]
fn man_page_lists_every_variable() {
    let environment = man_section(&main_man_page(), "ENVIRONMENT");
    for variable in crm_vec::settings::VARIABLES {
        let entry = format!(".TP\n\\fB{}\\fR\n", variable.name);
        assert!(
            environment.contains(&entry),
            "no entry for {} in\n{environment}",
            variable.name
        );
    }
}

#[test]
fn man_page_marks_secrets() {
    let environment = man_section(&main_man_page(), "ENVIRONMENT");
    let entry = |name: &str| {
        let start = environment
            .find(&format!("\\fB{name}\\fR\n"))
            .unwrap_or_else(|| panic!("no entry for {name}"));
        environment[start..]
            .lines()
            .nth(1)
            .unwrap_or("")
            .to_string()
    };
    assert!(
        entry("ODOO_PASSWORD").ends_with("(secret)"),
        "{}",
        entry("ODOO_PASSWORD")
    );
    assert!(
        entry("WEBHOOK_SECRET").ends_with("(secret)"),
        "{}",
        entry("WEBHOOK_SECRET")
    );
    assert!(
        !entry("ODOO_DB").contains("(secret)"),
        "{}",
        entry("ODOO_DB")
    );
}

#[test]
fn man_page_has_exit_status() {
    let exit_status = man_section(&main_man_page(), "\"EXIT STATUS\"");
    for code in ["0", "1", "2"] {
        assert!(
            exit_status.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "no exit code {code} in\n{exit_status}"
        );
    }
}

#[test]
fn generators_reject_json() {
    let sandbox = Sandbox::new();
    for args in [&["completions", "bash", "--json"][..], &["man", "--json"]] {
        let run = sandbox.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(
            run.stderr.contains("--json does not apply"),
            "{args:?}: {}",
            run.stderr
        );
    }
}
