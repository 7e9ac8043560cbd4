//! Command-line definitions (clap types only). Resolution of the values lives in `settings`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keep a vector index of Odoo CRM leads in step with Odoo, and search it by meaning.
#[derive(Debug, Parser)]
#[command(
    name = "crm-vec",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
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

    /// Odoo API protocol: auto picks JSON-2 on Odoo 19 and later, JSON-RPC before [default: auto]
    #[arg(
        long,
        global = true,
        env = "ODOO_PROTOCOL",
        hide_env_values = true,
        value_name = "PROTOCOL"
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

    /// Dense embedding provider: voyage, openai or none [default: voyage when VOYAGE_API_KEY is set, else none]
    #[arg(
        long,
        global = true,
        env = "EMBEDDINGS_PROVIDER",
        hide_env_values = true,
        value_name = "PROVIDER"
    )]
    pub embeddings_provider: Option<String>,

    /// What happens to archived (lost) leads: remove them from the index, or keep them hidden from searches [default: remove]
    #[arg(
        long,
        global = true,
        env = "CRM_VEC_ARCHIVED",
        hide_env_values = true,
        value_name = "POLICY"
    )]
    pub archived: Option<String>,

    /// Seconds to wait for another process that holds the embedded index [default: 0]
    #[arg(
        long,
        global = true,
        env = "CRM_VEC_LOCK_TIMEOUT",
        hide_env_values = true,
        value_name = "SECONDS"
    )]
    pub lock_timeout: Option<String>,

    /// Print one JSON document on stdout instead of a table
    #[arg(long, global = true)]
    pub json: bool,

    /// Print only errors
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log more: -v for debug, -vv for trace (RUST_LOG overrides)
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to use colour in tables and messages
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Never draw a progress bar
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
    FullRebuild(FullRebuildArgs),

    /// Fetch leads from Odoo and write them to the index
    ///
    /// A lead that no longer exists, or that is archived while CRM_VEC_ARCHIVED=remove, is
    /// removed from the index.
    SyncRecord(IdsArgs),

    /// Remove leads from the index
    Delete(IdsArgs),

    /// Search the index by meaning and keywords, with filters
    Search(SearchArgs),

    /// Show Odoo, index and sync state side by side
    Status(StatusArgs),
}

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

    /// Only leads in this stage (its name, e.g. "Won")
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

    /// Only leads whose expected revenue is at least this amount
    #[arg(long, value_name = "AMOUNT", value_parser = parse_amount)]
    pub min_revenue: Option<f64>,

    /// Only leads whose expected revenue is at most this amount
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
pub struct StatusArgs {}

/// Parses a lead id: a positive integer.
pub fn parse_lead_id(value: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(0) => Err("lead ids start at 1".to_string()),
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
    }

    #[test]
    fn amount_rejects_non_finite() {
        assert_eq!(parse_amount("50000"), Ok(50000.0));
        assert!(parse_amount("inf").is_err());
        assert!(parse_amount("NaN").is_err());
        assert!(parse_amount("lots").is_err());
    }
}
