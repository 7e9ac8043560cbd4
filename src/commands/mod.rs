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
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::cli::{Command, ConfigCommand};
use crate::embed::openai::OpenAiClient;
use crate::embed::voyage::VoyageClient;
use crate::embed::{Bm25, Provider};
use crate::index::any::AnyStore;
use crate::index::embedded::EmbeddedStore;
use crate::index::server::ServerStore;
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
        Command::Mcp(args) => mcp::run(ctx, args).await,
        Command::Serve(args) => serve::run(ctx, args).await,
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args),
        Command::Config(ConfigCommand::Show) => config::show(&ctx),
    }
}

impl Invocation {
    /// Opens the index store named by the settings: the Qdrant server of `QDRANT_URL`, or
    /// the embedded index in the data directory.
    pub fn open_store(&self) -> Result<AnyStore> {
        if let Some(qdrant) = self.settings.qdrant()? {
            let store = ServerStore::open(qdrant, &self.settings.collection)?;
            return Ok(AnyStore::Server(store));
        }
        Ok(AnyStore::Embedded(self.open_embedded()?))
    }

    /// Connects to the `crm-vec serve` or `crm-vec mcp --listen` that owns the embedded index,
    /// when one runs. With a Qdrant server there is no owner.
    pub fn index_owner(&self) -> Result<Option<crate::serve::owner::Owner>> {
        if self.settings.qdrant()?.is_some() {
            return Ok(None);
        }
        Ok(crate::serve::owner::Owner::find(&self.settings))
    }

    /// Opens the embedded index. While `crm-vec serve` owns it, `sync-record` goes through
    /// the listener's queue (printed here, then the process exits) and every other command
    /// borrows the index from the listener for as long as this process runs.
    fn open_embedded(&self) -> Result<EmbeddedStore> {
        let settings = &self.settings;
        let locked = match EmbeddedStore::open(
            &settings.data_dir,
            &settings.collection,
            settings.lock_timeout,
        ) {
            Err(err @ crate::index::IndexError::Locked { .. }) => err,
            opened => return Ok(opened?),
        };
        let Some(owner) = crate::serve::owner::Owner::find(settings) else {
            return Err(locked.into());
        };
        if let Some(ids) = crate::serve::owner::sync_record_ids() {
            let (summary, outcomes) = owner.sync_records(&ids)?;
            sync_record::print_outcomes(self, &outcomes)?;
            let records = serde_json::to_value(&outcomes)?;
            print_summary(self, "sync-record", &summary, Some(("records", records)))?;
            std::process::exit(if summary.failed > 0 { 1 } else { 0 });
        }
        owner.lend(settings, settings.lock_timeout.max(Duration::from_secs(30)))
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

    /// Connects to Odoo: detects the version and protocol and logs in.
    pub async fn connect_odoo(&self) -> Result<OdooClient> {
        let settings = self.settings.odoo()?;
        Ok(OdooClient::connect(settings).await?)
    }

    /// Everything a sync run needs, connected.
    pub async fn sync_context(&self, reporter: Arc<dyn Reporter>) -> Result<SyncContext<AnyStore>> {
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
        if let Some(serve) = cause.downcast_ref::<crate::serve::ServeError>() {
            return serve.hint();
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

/// The webhook queue: the running listener's, or the one `crm-vec serve` left on disk;
/// `None` when serve never ran on this index.
pub async fn queue_status(ctx: &Invocation) -> Option<serde_json::Value> {
    Some(crate::serve::queue_status(&ctx.settings)).filter(|queue| !queue.is_null())
}
