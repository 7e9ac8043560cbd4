//! `crm-vec completions` and `crm-vec man`: shell completions and manual pages rendered from
//! the clap definitions. The same functions produce the files checked in under `completions/`
//! and `man/`, so a test can compare the two.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, CompletionsArgs, ManArgs, EXIT_CODES, SETTINGS_ORDER};
use crate::settings::VARIABLES;

/// The binary name completions and man pages are written for.
const BIN_NAME: &str = "crm-vec";

/// Every shell `crm-vec completions` supports, in the order the files are listed.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::Elvish,
    Shell::PowerShell,
];

/// Prints the completions of one shell, or writes those of every shell into a directory.
pub fn completions(args: &CompletionsArgs) -> Result<ExitCode> {
    if let Some(dir) = &args.write {
        for (name, text) in completion_files() {
            write_file(dir, &name, &text)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    // clap rejects a missing SHELL without --write, so this default is never used.
    let shell = args.shell.unwrap_or(Shell::Bash);
    print(&completion(shell))
}

/// Prints `crm-vec.1`, or writes every page into a directory.
pub fn man(args: &ManArgs) -> Result<ExitCode> {
    let pages = man_pages()?;
    let Some(dir) = &args.write else {
        let (_, text) = &pages[0];
        return print(text);
    };
    for (name, text) in &pages {
        write_file(dir, name, text)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The completion script of one shell.
pub fn completion(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, BIN_NAME, &mut script);
    script
}

/// The completion scripts of every shell, each with the file name its shell expects
/// (`crm-vec.bash`, `_crm-vec`, `crm-vec.fish`, `crm-vec.elv`, `_crm-vec.ps1`).
pub fn completion_files() -> Vec<(String, Vec<u8>)> {
    use clap_complete::Generator as _;

    SHELLS
        .iter()
        .map(|shell| (shell.file_name(BIN_NAME), completion(*shell)))
        .collect()
}

/// The manual pages: `crm-vec.1` first, then one per visible subcommand, nested ones named
/// after their path (`crm-vec-config-show.1`).
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut command = Cli::command().disable_help_subcommand(true);
    // Building propagates the global flags into every subcommand and gives each one its
    // display name (`crm-vec-search`), which clap_mangen uses as the page title.
    command.build();
    let mut pages = Vec::new();
    collect_pages(command, &mut pages)?;
    Ok(pages)
}

fn collect_pages(command: clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let subcommands: Vec<clap::Command> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .cloned()
        .collect();
    let is_root = pages.is_empty();
    let page = clap_mangen::Man::new(command);
    let mut text = Vec::new();
    if is_root {
        render_root_page(&page, &mut text)
    } else {
        page.render(&mut text)
    }
    .context("could not render a manual page")?;
    pages.push((page.get_filename(), text));
    for sub in subcommands {
        collect_pages(sub, pages)?;
    }
    Ok(())
}

/// Renders the page of crm-vec itself: clap_mangen's sections, with ENVIRONMENT and EXIT
/// STATUS in place of the plain text that ends `crm-vec --help`.
fn render_root_page(page: &clap_mangen::Man, out: &mut Vec<u8>) -> std::io::Result<()> {
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    page.render_subcommands_section(out)?;
    out.extend_from_slice(environment_section().as_bytes());
    out.extend_from_slice(exit_status_section().as_bytes());
    page.render_version_section(out)
}

/// Renders the ENVIRONMENT section: how settings are resolved, then every variable.
fn environment_section() -> String {
    let mut roff = format!(".SH ENVIRONMENT\n{}\n", roff_text(SETTINGS_ORDER));
    for variable in VARIABLES {
        roff.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(variable.name),
            roff_text(&variable.describe())
        ));
    }
    roff
}

fn exit_status_section() -> String {
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_CODES {
        roff.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(meaning)));
    }
    roff
}

/// Escapes one line of text for roff: backslashes and hyphens, and a leading control
/// character.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

fn print(text: &[u8]) -> Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_file(dir: &Path, name: &str, text: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create the directory {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("could not write {}", path.display()))
}
