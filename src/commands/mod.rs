//! One function per subcommand. Each resolves what it needs from the settings, calls the sync
//! core and formats the result as a table or JSON.

mod config;
mod delete;
mod full_rebuild;
pub mod generate;
mod mcp;
mod search;
mod serve;
pub mod status;
mod sync_new;
mod sync_record;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::cli::{Command, ConfigCommand};
use crate::embed::openai::OpenAiClient;
use crate::embed::voyage::VoyageClient;
use crate::embed::Provider;
use crate::index::IndexError;
use crate::odoo::OdooClient;
use crate::output::Output;
use crate::owner::host::Call;
use crate::owner::Route;
use crate::settings::{EmbeddingSettings, Settings};
use crate::sync::NoProgress;

/// What every command gets: the resolved settings and the output decisions.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub settings: Settings,
    pub output: Output,
}

/// Runs one subcommand. Returns the exit code for work that ran; errors are rendered by `main`.
pub async fn run(command: Command, ctx: Invocation) -> Result<ExitCode> {
    match command {
        Command::FullRebuild(args) => full_rebuild::run(&ctx, args).await,
        Command::SyncRecord(args) => sync_record::run(&ctx, args).await,
        Command::SyncNew(args) => sync_new::run(&ctx, args).await,
        Command::Delete(args) => delete::run(&ctx, args).await,
        Command::Search(args) => search::run(&ctx, args).await,
        Command::Status(args) => status::run(&ctx, args).await,
        Command::Mcp(args) => mcp::run(ctx, args).await,
        Command::Serve(args) => serve::run(ctx, args).await,
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args),
        Command::Config(ConfigCommand::Show) => config::show(&ctx),
    }
}

impl Invocation {
    /// Decides where this command's work runs: in the process that owns the embedded index,
    /// when one runs, else on the index (or the Qdrant server) opened here. See [`crate::owner`].
    pub async fn route(&self) -> Result<Route> {
        Route::for_command(self).await
    }

    /// Describes how a write of this command runs: `progress` on a terminal, and the wait for
    /// the index that `--lock-timeout` allows.
    pub fn call(&self, progress: Option<&str>) -> Call {
        let reporter = match progress {
            Some(verb) => self.output.reporter(verb),
            None => Arc::new(NoProgress),
        };
        Call::new(reporter, &self.settings)
    }

    /// The configured dense embedding provider, if any.
    pub fn provider(&self) -> Result<Option<Provider>> {
        provider_for(&self.settings)
    }

    /// Connects to Odoo: detects the version and protocol and logs in.
    pub async fn connect_odoo(&self) -> Result<OdooClient> {
        let settings = self.settings.odoo()?;
        Ok(OdooClient::connect(settings).await?)
    }
}

/// Creates the dense embedding provider these settings configure, if any.
pub fn provider_for(settings: &Settings) -> Result<Option<Provider>> {
    Ok(match &settings.embeddings {
        EmbeddingSettings::None => None,
        EmbeddingSettings::Voyage(voyage) => Some(Provider::Voyage(
            VoyageClient::new(voyage.clone()).context("invalid Voyage settings")?,
        )),
        EmbeddingSettings::OpenAi(openai) => Some(Provider::OpenAi(
            OpenAiClient::new(openai.clone())
                .context("invalid OpenAI-compatible embedding settings")?,
        )),
        #[cfg(feature = "local")]
        EmbeddingSettings::Local { model_dir } => Some(Provider::Local(
            crate::embed::local::LocalModel::open(model_dir).with_context(|| {
                format!(
                    "could not open the local embedding model (EMBEDDINGS_MODEL_DIR={})",
                    model_dir.display()
                )
            })?,
        )),
        #[cfg(not(feature = "local"))]
        EmbeddingSettings::Local { .. } => anyhow::bail!(
            "EMBEDDINGS_PROVIDER=local needs {}",
            crate::settings::LOCAL_FEATURE_HINT
        ),
    })
}

/// Writes a summary as JSON on stdout, or as one line on stderr.
fn print_summary(
    ctx: &Invocation,
    verb: &str,
    summary: &crate::sync::Summary,
    extra: Option<(&str, serde_json::Value)>,
) -> Result<()> {
    if ctx.output.json {
        let mut value = summary.to_json();
        if let (Some((key, extra)), Some(object)) = (extra, value.as_object_mut()) {
            object.insert(key.to_string(), extra);
        }
        ctx.output.json_value(&value)?;
    }
    ctx.output.note(&format!(
        "{verb}: {} fetched, {} upserted, {} embedded, {} reused, {} skipped, {} deleted, {} failed in {:.1}s",
        summary.fetched,
        summary.upserted,
        summary.embedded,
        summary.reused,
        summary.skipped,
        summary.deleted,
        summary.failed,
        summary.duration_ms as f64 / 1000.0
    ));
    Ok(())
}

/// Exit 1 when some leads could not be processed.
fn exit_for(summary: &crate::sync::Summary) -> ExitCode {
    if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Checks whether an error is a usage error, which exits 2: an invalid or missing setting, a
/// listener address that cannot be used as set, a filter that names nothing in the index, or
/// such an error in the process that owns the index.
pub fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<crate::settings::SettingsError>()
            || cause.is::<crate::sync::search::FilterError>()
            || cause.is::<crate::serve::ServeError>()
            || cause
                .downcast_ref::<crate::owner::client::RemoteError>()
                .is_some_and(crate::owner::client::RemoteError::is_usage)
    })
}

/// The known fix for an error, from the first error in its chain that has one.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(cause_hint)
}

fn cause_hint(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(settings) = cause.downcast_ref::<crate::settings::SettingsError>() {
        return settings.hint();
    }
    if let Some(odoo) = cause.downcast_ref::<crate::odoo::OdooError>() {
        return odoo.hint();
    }
    if let Some(serve) = cause.downcast_ref::<crate::serve::ServeError>() {
        return serve.hint();
    }
    if let Some(remote) = cause.downcast_ref::<crate::owner::client::RemoteError>() {
        return remote.hint();
    }
    if let Some(taken) = cause.downcast_ref::<crate::owner::IndexTaken>() {
        return Some(taken.hint());
    }
    if let Some(crate::owner::host::HostError::Busy { .. }) = cause.downcast_ref() {
        return Some(
            "wait for it to finish, or raise --lock-timeout (a write waits at least 30 s)"
                .to_string(),
        );
    }
    if let Some(index) = cause.downcast_ref::<IndexError>() {
        return index_hint(index);
    }
    if let Some(crate::embed::EmbedError::Unauthorized { .. }) = cause.downcast_ref() {
        return Some("check VOYAGE_API_KEY or EMBEDDINGS_API_KEY".to_string());
    }
    None
}

/// The fix for an embedding endpoint whose vectors no longer have the index's dimension. A
/// rebuild alone does not help when no dimension is configured, because it takes the dimension
/// of the index built with the same model and reuses its vectors.
const DIMENSION_HINT: &str = "the embedding endpoint now returns vectors of another size: set \
    EMBEDDINGS_DIMENSION (or VOYAGE_DIMENSION) to the size you want and run `crm-vec full-rebuild`";

fn index_hint(err: &IndexError) -> Option<String> {
    match err {
        IndexError::Locked { holder, .. } => Some(locked_hint(holder)),
        IndexError::NoSpace { .. } => Some(
            "free space on that file system, or set CRM_VEC_DATA_DIR to a directory on a \
             larger one, then run the command again"
                .to_string(),
        ),
        IndexError::Io { source, .. } if is_unusable_directory(source.kind()) => Some(
            "the embedded index lives in CRM_VEC_DATA_DIR, by default under HOME: set \
             CRM_VEC_DATA_DIR (or --data-dir) to a directory this user can write"
                .to_string(),
        ),
        // The index modules report these cases as text only, so their wording is matched.
        IndexError::Incompatible(message) if is_qdrant_port_error(message) => Some(
            "set QDRANT_URL to the gRPC port of the Qdrant server, usually 6334; port 6333 \
             serves Qdrant's REST API, which crm-vec does not use"
                .to_string(),
        ),
        IndexError::Incompatible(message)
            if message.contains("but the index was built for dimension") =>
        {
            Some(DIMENSION_HINT.to_string())
        }
        _ => None,
    }
}

fn is_unusable_directory(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind;

    matches!(
        kind,
        ErrorKind::NotFound
            | ErrorKind::PermissionDenied
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::NotADirectory
    )
}

/// Returns whether an error reports that `QDRANT_URL` names a port that does not speak
/// Qdrant's gRPC, such as the REST port or another plain HTTP service.
fn is_qdrant_port_error(message: &str) -> bool {
    message.starts_with("QDRANT_URL ") && message.contains("gRPC")
}

/// Returns the fix for a locked embedded index. A listener (`serve`, `mcp`) keeps the index
/// open until it is stopped, so waiting longer does not help there.
fn locked_hint(holder: &str) -> String {
    match listener_holder(holder) {
        Some((pid, command)) => format!(
            "`crm-vec {command}` (pid {pid}) keeps the index open until it stops: stop it, or \
             set CRM_VEC_DATA_DIR to another directory to use a separate index"
        ),
        None => "wait for the other crm-vec process to finish, or raise --lock-timeout \
                 (e.g. --lock-timeout 2m)"
            .to_string(),
    }
}

/// Finds the pid and the command of a lock holder that is a listener. `holder` has the form
/// ` (pid 1234: crm-vec serve --port 3000)` that the embedded index writes into its errors.
fn listener_holder(holder: &str) -> Option<(&str, &'static str)> {
    let described = holder.trim().strip_prefix("(pid ")?.strip_suffix(')')?;
    let (pid, command_line) = described.split_once(": ")?;
    let matches = <crate::cli::Cli as clap::CommandFactory>::command()
        .ignore_errors(true)
        .try_get_matches_from(command_line.split_whitespace())
        .ok()?;
    match matches.subcommand_name()? {
        "serve" => Some((pid, "serve")),
        "mcp" => Some((pid, "mcp")),
        _ => None,
    }
}
