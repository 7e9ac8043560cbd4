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
    /// Where this command's work runs: in the process that owns the embedded index, when one
    /// runs, else on the index (or the Qdrant server) opened here. See [`crate::owner`].
    pub async fn route(&self) -> Result<Route> {
        Route::for_command(self).await
    }

    /// How a write of this command runs: `progress` on a terminal, and the wait for the
    /// index that `--lock-timeout` allows.
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

/// The dense embedding provider these settings configure, if any.
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

/// The known fix for an error, from the first error in its chain that has one.
pub fn hint_for(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(settings) = cause.downcast_ref::<crate::settings::SettingsError>() {
            if let Some(hint) = settings.hint() {
                return Some(hint);
            }
        }
        if let Some(odoo) = cause.downcast_ref::<crate::odoo::OdooError>() {
            if let Some(hint) = odoo.hint() {
                return Some(hint);
            }
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
        if let Some(crate::index::IndexError::Locked { .. }) = cause.downcast_ref() {
            return Some(
                "wait for the other crm-vec process to finish, or raise --lock-timeout".to_string(),
            );
        }
        if let Some(crate::index::IndexError::NoSpace { .. }) = cause.downcast_ref() {
            return Some(
                "free space on that file system, or set CRM_VEC_DATA_DIR to a directory on a \
                 larger one, then run the command again"
                    .to_string(),
            );
        }
        if let Some(crate::embed::EmbedError::Unauthorized { .. }) = cause.downcast_ref() {
            return Some("check VOYAGE_API_KEY or EMBEDDINGS_API_KEY".to_string());
        }
        if cause.to_string().contains("run `crm-vec full-rebuild`") {
            return None;
        }
    }
    None
}
