//! Command-line definitions (clap types only). Resolution of the values lives in `settings`.

use std::path::PathBuf;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::settings::VARIABLES;

/// Keep a vector index of Odoo CRM leads in step with Odoo, and search it by meaning.
#[derive(Debug, Parser)]
#[command(
    name = "crm-vec",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_long_help = root_after_long_help()
)]
pub struct Cli {
    #[command(flatten, next_help_heading = "Global options")]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Odoo base URL, the address you open Odoo at in a browser
    #[arg(
        long,
        global = true,
        env = "ODOO_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub odoo_url: Option<String>,

    /// Odoo database name
    #[arg(
        long,
        global = true,
        env = "ODOO_DB",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub odoo_db: Option<String>,

    /// Odoo login of the user crm-vec reads leads as
    #[arg(
        long,
        global = true,
        env = "ODOO_USERNAME",
        hide_env_values = true,
        value_name = "LOGIN"
    )]
    pub odoo_username: Option<String>,

    /// Odoo API protocol [default: auto]
    #[arg(
        long,
        global = true,
        env = "ODOO_PROTOCOL",
        hide_env_values = true,
        value_name = "PROTOCOL",
        value_parser = Choices(&[
            ("auto", "JSON-2 on Odoo 19 and later, JSON-RPC before"),
            ("json2", "Odoo 19's JSON-2 API, which takes an API key"),
            ("jsonrpc", "the JSON-RPC endpoint of every version, deprecated in Odoo 19"),
        ])
    )]
    pub odoo_protocol: Option<String>,

    /// Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]
    #[arg(
        long,
        global = true,
        env = "CRM_VEC_DATA_DIR",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,

    /// Name of the collection that holds the leads [default: odoo_crm_leads]
    #[arg(
        long,
        global = true,
        env = "COLLECTION",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub collection: Option<String>,

    /// Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]
    #[arg(
        long,
        global = true,
        env = "EMBEDDINGS_PROVIDER",
        hide_env_values = true,
        value_name = "PROVIDER",
        value_parser = Choices(&[
            ("voyage", "Voyage AI (VOYAGE_API_KEY)"),
            ("openai", "an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)"),
            ("local", "a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)"),
            ("none", "keyword vectors only: no API key, no cost"),
        ])
    )]
    pub embeddings_provider: Option<String>,

    /// Policy for archived (lost) leads [default: remove]
    #[arg(
        long,
        global = true,
        env = "CRM_VEC_ARCHIVED",
        hide_env_values = true,
        value_name = "POLICY",
        value_parser = Choices(&[
            ("remove", "archived leads leave the index"),
            ("keep", "they stay, hidden from searches unless --include-archived"),
        ])
    )]
    pub archived: Option<String>,

    /// How long to wait for another process that has the embedded index open, or, when the work
    /// runs in the process that owns it, for the write in progress there (at least 30 s); e.g.
    /// 30s or 2m, a bare number is seconds [default: 0]
    #[arg(
        long,
        global = true,
        env = "CRM_VEC_LOCK_TIMEOUT",
        hide_env_values = true,
        value_name = "DURATION"
    )]
    pub lock_timeout: Option<String>,

    /// Print one JSON document on stdout instead of a table (not for serve, mcp, completions
    /// and man)
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only errors: no messages, no warnings, no progress bars
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log more: -v for debug, -vv for trace (RUST_LOG overrides)
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a fresh index from every lead, then switch to it atomically
    ///
    /// Vectors of leads whose text is unchanged are reused from the current index, so a
    /// rebuild of unchanged data makes no embedding request.
    #[command(after_help = FULL_REBUILD_EXAMPLES)]
    FullRebuild(FullRebuildArgs),

    /// Fetch leads from Odoo and write them to the index
    ///
    /// A lead that no longer exists, or that is archived while CRM_VEC_ARCHIVED=remove, is
    /// removed from the index.
    SyncRecord(IdsArgs),

    /// Sync everything written in Odoo since the last run, and remove deleted leads
    ///
    /// Reads leads by (write_date, id) from the stored checkpoint, starting an overlap window
    /// behind it to catch transactions that committed late, then compares the ids in Odoo and
    /// in the index: points whose lead is gone are pruned and missing leads are synced. Only
    /// texts that changed are embedded. This is what cron runs every few minutes.
    #[command(after_help = SYNC_NEW_EXAMPLES)]
    SyncNew(SyncNewArgs),

    /// Remove leads from the index
    Delete(IdsArgs),

    /// Search the index by meaning and keywords, with filters
    #[command(after_help = SEARCH_EXAMPLES)]
    Search(SearchArgs),

    /// Show Odoo, index and sync state side by side
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),

    /// Serve the index to AI assistants over MCP on stdin and stdout
    ///
    /// MCP clients (Claude Desktop, Cursor, IDE agents) start this command themselves. stdout
    /// carries only the protocol; logs go to stderr. The process keeps the embedded index open
    /// for its lifetime, and other commands on it run in this process. When another process
    /// (serve, or another assistant's mcp) owns the index already, the tools run in that one.
    #[command(after_help = MCP_EXAMPLES)]
    Mcp(McpArgs),

    /// Listen for Odoo's webhooks and keep the index current within seconds
    ///
    /// Odoo's automation rules ("Send Webhook Notification") post to /webhook/sync and
    /// /webhook/delete. Each event is stored in a durable queue and answered at once; workers
    /// sync the lead after a settle delay. While serve runs, other commands on the same
    /// embedded index go through it.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),

    /// Print shell completions for bash, zsh, fish, elvish or PowerShell
    ///
    /// Install them where your shell looks, for example:
    ///   bash: crm-vec completions bash > ~/.local/share/bash-completion/completions/crm-vec
    ///   zsh:  crm-vec completions zsh > ~/.zfunc/_crm-vec  (with fpath+=~/.zfunc in ~/.zshrc)
    ///   fish: crm-vec completions fish > ~/.config/fish/completions/crm-vec.fish
    ///   PowerShell: crm-vec completions powershell >> $PROFILE
    #[command(verbatim_doc_comment)]
    Completions(CompletionsArgs),

    /// Print the manual page of crm-vec, or write the pages of every command to a directory
    Man(ManArgs),

    /// Inspect the settings crm-vec resolves from flags, the environment and .env
    #[command(subcommand)]
    Config(ConfigCommand),
}

impl Command {
    /// Returns whether `--json` applies. The listeners, the MCP server and the generators print
    /// no report that JSON could replace, so they reject it.
    pub fn takes_json(&self) -> bool {
        !matches!(
            self,
            Command::Serve(_) | Command::Mcp(_) | Command::Completions(_) | Command::Man(_)
        )
    }
}

/// The order in which settings are resolved, under `crm-vec --help` and in the manual page.
pub const SETTINGS_ORDER: &str = "Settings come from flags, then the environment, then a .env \
    file in the working directory, then defaults. Secrets are read only from the environment or \
    .env. `crm-vec config show` prints every setting and where it came from.";

/// The exit codes, under `crm-vec --help` and in the manual page.
pub const EXIT_CODES: [(u8, &str); 3] = [
    (0, "success, an empty search too"),
    (
        1,
        "the work failed or was partial (some leads failed), or status --check found a problem",
    ),
    (
        2,
        "usage or settings error: an unknown flag, an invalid or missing setting, a --stage, \
         --salesperson or --team that names nothing in the index",
    ),
];

/// Width the help is laid out for; `max_term_width` keeps clap from using more.
const HELP_WIDTH: usize = 100;

/// Builds the list of environment variables and exit codes that ends `crm-vec --help`.
fn root_after_long_help() -> String {
    let mut text = String::from("Environment:\n");
    push_wrapped(&mut text, SETTINGS_ORDER, 2);
    for variable in VARIABLES {
        text.push('\n');
        text.push_str(&format!("  {}\n", variable.name));
        push_wrapped(&mut text, &variable.describe(), 10);
    }
    text.push_str("\nExit status:\n");
    for (code, meaning) in EXIT_CODES {
        // Wrapped under the meaning, with the code in the indentation of the first line.
        let mut lines = String::new();
        push_wrapped(&mut lines, meaning, 5);
        text.push_str(&format!("  {code}  {}", &lines[5..]));
    }
    text
}

/// Appends `paragraph` word-wrapped to [`HELP_WIDTH`], each line indented by `indent`. A
/// bracketed note such as `[default: 120]` stays on one line.
fn push_wrapped(text: &mut String, paragraph: &str, indent: usize) {
    let mut line = String::new();
    for word in unbroken_words(paragraph) {
        if !line.is_empty() && indent + line.len() + 1 + word.len() > HELP_WIDTH {
            text.push_str(&format!("{:indent$}{line}\n", ""));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        text.push_str(&format!("{:indent$}{line}\n", ""));
    }
}

/// Splits `paragraph` into words, joining each bracketed group into one word.
fn unbroken_words(paragraph: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut open = false;
    for word in paragraph.split_whitespace() {
        match words.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        if word.starts_with('[') {
            open = true;
        }
        if word.ends_with(']') {
            open = false;
        }
    }
    words
}

const FULL_REBUILD_EXAMPLES: &str = "\
Examples:
  crm-vec full-rebuild                   Build the index from every lead
  crm-vec full-rebuild --keep-previous   Keep the old index on disk for a rollback
  crm-vec full-rebuild --json            Print the run summary as JSON on stdout";

const SYNC_NEW_EXAMPLES: &str = "\
Examples:
  crm-vec sync-new                                 Sync what changed since the last run
  crm-vec sync-new --dry-run                       Print what would change, write nothing
  crm-vec sync-new --since \"2025-01-01 00:00:00\"   Scan from this UTC time for this run

A crontab line that syncs every 5 minutes. cron's PATH does not include ~/.cargo/bin, .env is
read from the working directory, and --lock-timeout waits for a run that is still going:
  */5 * * * * cd /srv/crm-vec && /usr/local/bin/crm-vec sync-new --quiet --lock-timeout 60s";

const SEARCH_EXAMPLES: &str = "\
Examples:
  crm-vec search \"customers worried about delivery times\"
  crm-vec search chairs --stage Qualified --limit 5
  crm-vec search \"office furniture\" --min-revenue 10000 --type opportunity --json";

const STATUS_EXAMPLES: &str = "\
Examples:
  crm-vec status                           Odoo, index and sync state as a table
  crm-vec status --deep --json             Also count missing and orphaned points, as JSON
  crm-vec status --check --max-lag 60      Exit 1 on a problem, for monitoring";

const SERVE_EXAMPLES: &str = "\
Examples:
  export WEBHOOK_SECRET=$(openssl rand -hex 24)   Webhooks must then carry ?token=SECRET
  crm-vec serve                                   Listen on 127.0.0.1:3000
  crm-vec serve --host 0.0.0.0 --port 8080        Listen on every interface (needs the secret)
  curl -H \"x-webhook-secret: $WEBHOOK_SECRET\" http://127.0.0.1:3000/webhook/status
                                                  Show the queue and the failed events";

const MCP_EXAMPLES: &str = "\
Examples:
  crm-vec mcp                             What an MCP client starts
  crm-vec mcp --read-only                 Serve only the search and status tools
  crm-vec mcp --listen 127.0.0.1:3000     Also receive Odoo's webhooks in this process";

#[derive(Debug, Args)]
pub struct FullRebuildArgs {
    /// Keep the previous index on disk after the switch, for rollback
    #[arg(long)]
    pub keep_previous: bool,
}

#[derive(Debug, Args)]
pub struct IdsArgs {
    /// Lead ids (positive integers)
    #[arg(required = true, value_name = "ID", value_parser = parse_lead_id)]
    pub ids: Vec<u64>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for, in plain words
    #[arg(value_name = "QUERY")]
    pub query: String,

    /// Number of hits to return (1 to 100)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: u32,

    /// Only leads in this stage (its name in any letter case, e.g. "Won")
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,

    /// Only leads of this salesperson (their name)
    #[arg(long, value_name = "NAME")]
    pub salesperson: Option<String>,

    /// Only leads of this sales team (its name)
    #[arg(long, value_name = "NAME")]
    pub team: Option<String>,

    /// Only leads of this type
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub lead_type: Option<LeadType>,

    /// Only leads whose expected revenue is at least this amount, in the lead's currency
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub min_revenue: Option<f64>,

    /// Only leads whose expected revenue is at most this amount, in the lead's currency
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub max_revenue: Option<f64>,

    /// Also return archived (lost) leads kept with CRM_VEC_ARCHIVED=keep
    #[arg(long)]
    pub include_archived: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LeadType {
    Lead,
    Opportunity,
}

impl LeadType {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadType::Lead => "lead",
            LeadType::Opportunity => "opportunity",
        }
    }
}

#[derive(Debug, Args)]
pub struct SyncNewArgs {
    /// Scan from this UTC time ("YYYY-MM-DD HH:MM:SS") instead of the checkpoint, for this run
    #[arg(long, value_name = "TIME", value_parser = crate::sync::incremental::parse_since)]
    pub since: Option<String>,

    /// Print what would change and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Skip the comparison of ids in Odoo and in the index (for very large databases)
    #[arg(long)]
    pub no_prune: bool,

    /// Re-read the payload of every indexed lead and update what drifted, without embedding
    #[arg(long)]
    pub refresh_payload: bool,

    /// Seconds re-read behind the checkpoint, for transactions that committed late
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub overlap: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Compare every id in Odoo with the index, to count missing and orphaned points
    #[arg(long)]
    pub deep: bool,

    /// Exit 1 when a problem is found (for health checks): a backlog older than --max-lag, an
    /// Odoo that cannot be used, no index, an index built with another embedding model, drift
    /// found by --deep, webhook events that failed
    #[arg(long)]
    pub check: bool,

    /// With --check: the oldest unsynced change allowed, in minutes
    #[arg(long, value_name = "MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=525_600))]
    pub max_lag: u64,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Serve only the search and status tools, so the assistant cannot change the index
    #[arg(long)]
    pub read_only: bool,

    /// Also run the webhook listener on this address, in the same process
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,

    #[command(flatten, next_help_heading = "Webhook listener (with --listen)")]
    pub listener: ListenerArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; HOST in the environment [default: 127.0.0.1]
    #[arg(long, value_name = "ADDR")]
    pub host: Option<String>,

    /// Port to listen on, 0 for any free port; PORT in the environment [default: 3000]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    #[command(flatten)]
    pub listener: ListenerArgs,
}

/// Settings of the webhook listener, shared by `serve` and `mcp --listen`.
#[derive(Debug, Args)]
pub struct ListenerArgs {
    /// Listen on a non-loopback address even without WEBHOOK_SECRET
    #[arg(long)]
    pub allow_unauthenticated: bool,

    /// How long a ?wait=true request waits for its result (e.g. 10s, 500ms)
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    pub wait_timeout: std::time::Duration,

    /// How long an event waits before the lead is read from Odoo, so that Odoo's transaction
    /// has committed and a burst of webhooks becomes one sync
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    pub settle_delay: std::time::Duration,

    /// How often an incremental sync catches changes no webhook delivered, starting when the
    /// listener starts; 0 turns it off
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_duration)]
    pub reconcile_every: std::time::Duration,

    /// How long a lead that Odoo does not return yet is retried before it counts as gone
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration, hide = true)]
    pub not_found_window: std::time::Duration,

    /// First delay of the retries after a failure; each retry waits about twice as long
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration, hide = true)]
    pub retry_base: std::time::Duration,

    /// Attempts before an event is marked failed
    #[arg(long, default_value_t = 8, value_name = "COUNT", hide = true)]
    pub max_attempts: u32,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell to print completions for
    #[arg(value_enum, value_name = "SHELL", required_unless_present = "write")]
    pub shell: Option<clap_complete::Shell>,

    /// Write the completions of every shell into this directory instead of printing one
    #[arg(long, value_name = "DIR", conflicts_with = "shell")]
    pub write: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write crm-vec.1 and one page per command (crm-vec-search.1, ...) into this directory
    /// instead of printing crm-vec.1
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting, its value and where it came from: flag, environment, .env or default
    ///
    /// Secrets are masked, and URLs are shown without user info or query string.
    Show,
}

/// A value parser that accepts any text and lists its possible values, each with a line of
/// help, for `--help` and shell completions. Settings checks the value instead of clap,
/// because clap also parses the environment variable of an argument and would name the flag
/// for a bad value that came from the environment.
#[derive(Debug, Clone, Copy)]
pub struct Choices(pub &'static [(&'static str, &'static str)]);

impl TypedValueParser for Choices {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(command, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let values = self
            .0
            .iter()
            .map(|(name, help)| PossibleValue::new(*name).help(*help));
        Some(Box::new(values))
    }
}

/// Parses a duration: a number with `ms`, `s`, `m` or `h`, or a bare number of seconds.
pub fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    let text = value.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => {
            return Err(format!(
                "'{value}' is not a duration (such as 500ms, 2s or 10m)"
            ))
        }
    };
    let amount = number.parse::<f64>().ok().filter(|amount| *amount >= 0.0);
    match amount.map(|amount| std::time::Duration::try_from_secs_f64(amount * scale)) {
        Some(Ok(duration)) => Ok(duration),
        Some(Err(_)) => Err(format!("'{value}' is too long a duration")),
        None => Err(format!(
            "'{value}' is not a duration (such as 500ms, 2s or 10m)"
        )),
    }
}

/// Parses a lead id: a positive integer no larger than Odoo's largest record id.
pub fn parse_lead_id(value: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(0) => Err("lead ids start at 1".to_string()),
        Ok(id) if id > crate::odoo::MAX_RECORD_ID => Err(format!(
            "{id} is above {}, the largest id an Odoo record can have",
            crate::odoo::MAX_RECORD_ID
        )),
        Ok(id) => Ok(id),
        Err(_) => Err(format!("'{value}' is not a lead id (a positive integer)")),
    }
}

/// Parses a revenue amount: a finite number.
pub fn parse_amount(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(amount) if amount.is_finite() => Ok(amount),
        _ => Err(format!(
            "'{value}' is not an amount (a number such as 50000)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn lead_id_rejects_zero_negative_and_text() {
        assert_eq!(parse_lead_id("42"), Ok(42));
        assert!(parse_lead_id("0").is_err());
        assert!(parse_lead_id("-3").is_err());
        assert!(parse_lead_id("abc").is_err());
        assert!(parse_lead_id("1.5").is_err());
        assert_eq!(parse_lead_id("2147483647"), Ok(2_147_483_647));
        assert_eq!(
            parse_lead_id("2147483648"),
            Err("2147483648 is above 2147483647, the largest id an Odoo record can have".into())
        );
    }

    #[test]
    fn duration_takes_units_and_bare_seconds() {
        use std::time::Duration;
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 days").is_err());
    }

    #[test]
    fn duration_too_long_is_an_error() {
        for value in [
            "18446744073709551616",
            "9999999999999999999m",
            "99999999999999999999",
        ] {
            assert_eq!(
                parse_duration(value),
                Err(format!("'{value}' is too long a duration")),
                "{value}"
            );
        }
    }

    #[test]
    fn wrapping_keeps_brackets_together() {
        let mut text = String::new();
        let paragraph = format!("{} [default: 120]", "word ".repeat(17));
        push_wrapped(&mut text, &paragraph, 10);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[1], "          [default: 120]");
        assert!(lines.iter().all(|line| line.len() <= HELP_WIDTH), "{text}");
    }

    #[test]
    fn root_help_fits_width() {
        for line in root_after_long_help().lines() {
            assert!(line.len() <= HELP_WIDTH, "{line}");
        }
    }

    #[test]
    fn amount_rejects_non_finite() {
        assert_eq!(parse_amount("50000"), Ok(50000.0));
        assert!(parse_amount("inf").is_err());
        assert!(parse_amount("NaN").is_err());
        assert!(parse_amount("lots").is_err());
    }
}
