//! One function per subcommand. Each resolves what it needs from the settings, calls the sync
//! core and formats the result as a table or JSON.

mod delete;
mod full_rebuild;
mod search;
pub mod status;
mod sync_new;
mod sync_record;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::cli::Command;
use crate::embed::openai::OpenAiClient;
use crate::embed::voyage::VoyageClient;
use crate::embed::{Bm25, Provider};
use crate::index::embedded::EmbeddedStore;
use crate::odoo::OdooClient;
use crate::output::Output;
use crate::settings::{EmbeddingSettings, Settings};
use crate::sync::{Reporter, SyncContext, DEFAULT_EMBED_CONCURRENCY};

/// What every command gets: the resolved settings and the output decisions.
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
    }
}

impl Invocation {
    /// Opens the index store named by the settings.
    pub fn open_store(&self) -> Result<EmbeddedStore> {
        Ok(EmbeddedStore::open(
            &self.settings.data_dir,
            &self.settings.collection,
            self.settings.lock_timeout,
        )?)
    }

    /// The configured dense embedding provider, if any.
    pub fn provider(&self) -> Result<Option<Provider>> {
        Ok(match &self.settings.embeddings {
            EmbeddingSettings::None => None,
            EmbeddingSettings::Voyage(voyage) => Some(Provider::Voyage(
                VoyageClient::new(voyage.clone()).context("invalid Voyage settings")?,
            )),
            EmbeddingSettings::OpenAi(openai) => Some(Provider::OpenAi(
                OpenAiClient::new(openai.clone())
                    .context("invalid OpenAI-compatible embedding settings")?,
            )),
        })
    }

    /// Connects to Odoo: detects the version and protocol and logs in.
    pub async fn connect_odoo(&self) -> Result<OdooClient> {
        let settings = self.settings.odoo()?;
        Ok(OdooClient::connect(settings).await?)
    }

    /// Everything a sync run needs, connected.
    pub async fn sync_context(
        &self,
        reporter: Arc<dyn Reporter>,
    ) -> Result<SyncContext<EmbeddedStore>> {
        let provider = self.provider()?;
        // The lock first: a second process should fail before it spends any Odoo calls.
        let store = self.open_store()?;
        let odoo = self.connect_odoo().await?;
        Ok(SyncContext {
            odoo,
            provider,
            bm25: Bm25::new(),
            store,
            archived: self.settings.archived,
            reporter,
            page_size: self.settings.page_size()?,
            messages_per_lead: self.settings.messages_per_lead()?,
            embed_concurrency: DEFAULT_EMBED_CONCURRENCY,
        })
    }
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
        if let Some(crate::index::IndexError::Locked { .. }) = cause.downcast_ref() {
            return Some(
                "wait for the other crm-vec process to finish, or raise --lock-timeout".to_string(),
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

/// The webhook queue of a listener that owns the index, when one runs; `None` otherwise.
pub async fn queue_status(_ctx: &Invocation) -> Option<serde_json::Value> {
    None
}
