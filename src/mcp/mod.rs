//! `crm-vec mcp`: the index as tools for AI assistants, over MCP on stdin and stdout (rmcp).
//!
//! The tool names and the modes of `odoo_crm_sync_embeddings` are the ones earlier Odoo MCP
//! servers use, so prompts written for those keep working. Every tool returns a result, never
//! a protocol error: bad arguments, Odoo being down or an unknown lead id come back as a
//! tool result with `isError` set and a message the model can act on.
//!
//! The tools run on the index this process owns, or in the process that owns it ([`access`]).
//! Odoo is connected on the first call that needs it, because Odoo may be down when the
//! assistant starts the server and searching must work regardless.

pub mod access;
pub mod arguments;
pub mod format;
pub mod progress;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use rmcp::handler::server::tool::{ToolCallContext, ToolRouter};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use crate::commands::status::DEFAULT_MAX_LAG_S;
use crate::odoo::OdooClient;
use crate::owner::host::Call;
use crate::settings::Settings;
use crate::sync::search::SearchHit;
use crate::sync::{NoProgress, RecordOutcome, RecordStatus, Reporter, Summary, SyncNewOptions};
use access::IndexAccess;
use arguments::{DeleteInput, SearchCall, SearchInput, StatusInput, SyncCall, SyncInput};
use format::LeadLinks;
use progress::ToolProgress;

const SEARCH_TOOL: &str = "odoo_crm_semantic_search";
const SYNC_TOOL: &str = "odoo_crm_sync_embeddings";
const DELETE_TOOL: &str = "odoo_crm_delete_embedding";
const STATUS_TOOL: &str = "odoo_crm_sync_status";

/// Tools that change the index, left out with `--read-only`.
const WRITE_TOOLS: &[&str] = &[SYNC_TOOL, DELETE_TOOL];

/// How long a search waits for the Odoo version, which decides the link form. A search must
/// not hang on an unreachable Odoo, so without the version links take the form every version
/// opens.
const VERSION_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

const INSTRUCTIONS: &str = "Search and maintain a vector index of Odoo CRM leads \
(crm.lead). Use odoo_crm_semantic_search to find leads by meaning, with optional filters on \
stage, salesperson, team, type and expected revenue; every hit has the lead id and a link into \
Odoo. Use odoo_crm_sync_status to see whether the index is current, and \
odoo_crm_sync_embeddings with mode sync_new to bring it up to date.";

/// The instructions under `--read-only`, which name only the tools that are served.
const READ_ONLY_INSTRUCTIONS: &str = "Search a vector index of Odoo CRM leads (crm.lead). Use \
odoo_crm_semantic_search to find leads by meaning, with optional filters on stage, \
salesperson, team, type and expected revenue; every hit has the lead id and a link into Odoo. \
Use odoo_crm_sync_status to see whether the index is current. This server is read-only: \
another process keeps the index up to date.";

/// The state every tool shares.
struct State {
    settings: Settings,
    access: Arc<IndexAccess>,
    read_only: bool,
    /// The major version of Odoo for links, probed once when this process has no Odoo
    /// connection to ask.
    odoo_major: OnceCell<Option<u32>>,
}

/// The MCP server: the tool router over the shared state.
#[derive(Clone)]
pub struct CrmServer {
    state: Arc<State>,
    tool_router: ToolRouter<CrmServer>,
}

impl CrmServer {
    /// Creates a server whose tools reach the index through `access`. With `read_only`, it
    /// serves only search and status.
    pub fn new(settings: Settings, access: Arc<IndexAccess>, read_only: bool) -> CrmServer {
        let mut tool_router = Self::tool_router();
        if read_only {
            for name in WRITE_TOOLS {
                tool_router.remove_route(name);
            }
        }
        let state = State {
            settings,
            access,
            read_only,
            odoo_major: OnceCell::new(),
        };
        CrmServer {
            state: Arc::new(state),
            tool_router,
        }
    }

    /// Starts learning the Odoo version in the background, so the first search has its links.
    pub fn warm_up(&self) {
        let state = Arc::clone(&self.state);
        tokio::spawn(async move {
            state.odoo_major().await;
        });
    }
}

#[tool_router]
impl CrmServer {
    #[tool(
        name = "odoo_crm_semantic_search",
        title = "Search CRM leads",
        description = "Search Odoo CRM leads and opportunities by meaning and keywords, e.g. \
            \"customers worried about delivery times\". Filters narrow the hits: stage, \
            salesperson and team by name in any letter case, type (lead or opportunity), \
            expected revenue bounds. Returns up to `limit` hits (default 10, at most 50), best \
            first, each with the lead id, name, customer, stage, salesperson, expected revenue, \
            probability, score, a short snippet and a link into Odoo.",
        input_schema = arguments::schema::<SearchInput>(),
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn semantic_search(&self, arguments: JsonObject) -> CallToolResult {
        let call = match arguments::search(&arguments) {
            Ok(call) => call,
            Err(invalid) => return tool_error(invalid.to_string()),
        };
        let state = &self.state;
        match state.search(&call).await {
            Ok(hits) => {
                let links = state.links().await;
                let structured = format::hits_json(&call.query, &hits, &links);
                let text = format::hits_text(&call.query, &hits, &links);
                result(text, structured, false)
            }
            Err(err) => failure(&err.context("the search failed")),
        }
    }

    #[tool(
        name = "odoo_crm_sync_embeddings",
        title = "Sync the CRM index with Odoo",
        description = "Bring the lead index in step with Odoo. mode sync_new: leads written \
            since the last sync, plus removal of leads deleted in Odoo (fast; use this \
            normally). mode full_rebuild: a fresh index from every lead, switched to when \
            complete (slow on large databases; unchanged texts are not embedded again). mode \
            sync_record: one lead, given by record_id. Sends progress notifications when the \
            request carries a progress token.",
        input_schema = arguments::schema::<SyncInput>(),
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn sync_embeddings(
        &self,
        arguments: JsonObject,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let call = match arguments::sync(&arguments) {
            Ok(call) => call,
            Err(invalid) => return tool_error(invalid.to_string()),
        };
        let (reporter, progress) = match context.meta.get_progress_token() {
            Some(token) => {
                let (reporter, writer) = ToolProgress::attach(context.peer.clone(), token);
                (reporter as Arc<dyn Reporter>, Some(writer))
            }
            None => (Arc::new(NoProgress) as Arc<dyn Reporter>, None),
        };
        let outcome = self
            .state
            .run_sync(call, &Call::new(reporter, &self.state.settings))
            .await;
        if let Some(progress) = progress {
            progress.finish().await;
        }
        outcome
    }

    #[tool(
        name = "odoo_crm_delete_embedding",
        title = "Remove a lead from the index",
        description = "Remove one lead's point from the index, by lead id (record_id). Odoo \
            is not changed. A later sync adds the lead again if it still exists in Odoo.",
        input_schema = arguments::schema::<DeleteInput>(),
        annotations(
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn delete_embedding(&self, arguments: JsonObject) -> CallToolResult {
        let id = match arguments::delete(&arguments) {
            Ok(id) => id,
            Err(invalid) => return tool_error(invalid.to_string()),
        };
        let (summary, outcomes) = match self.state.delete(id).await {
            Ok(done) => done,
            Err(err) => return failure(&err.context(format!("could not remove lead {id}"))),
        };
        let structured = json!({"summary": summary.to_json(), "results": outcomes});
        match outcomes.first().map(|outcome| outcome.status) {
            Some(RecordStatus::Deleted) => result(
                format!("Removed lead {id} from the index."),
                structured,
                false,
            ),
            _ => result(
                format!(
                    "Lead {id} is not in the index, so nothing was removed. Check the id with \
                     odoo_crm_semantic_search."
                ),
                structured,
                true,
            ),
        }
    }

    #[tool(
        name = "odoo_crm_sync_status",
        title = "Index and sync status",
        description = "Odoo, index and sync state side by side: whether Odoo is reachable, \
            its version, active and archived lead counts, points in the index, the embedding \
            model, the checkpoint and the last full rebuild and incremental sync.",
        input_schema = arguments::schema::<StatusInput>(),
        annotations(
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn sync_status(&self, arguments: JsonObject) -> CallToolResult {
        if let Err(invalid) = arguments::status(&arguments) {
            return tool_error(invalid.to_string());
        }
        match self.state.status().await {
            // The text is the JSON itself, as MCP recommends for clients that read only text.
            // It is compact because indentation costs context and adds no information.
            Ok(report) => result(report.to_string(), report, false),
            Err(err) => failure(&err.context("could not read the status")),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CrmServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("crm-vec", env!("CARGO_PKG_VERSION")))
            .with_instructions(if self.state.read_only {
                READ_ONLY_INSTRUCTIONS
            } else {
                INSTRUCTIONS
            })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // An assistant may remember a write tool from a session without --read-only, so it
        // gets the reason instead of "tool not found".
        if self.state.read_only && WRITE_TOOLS.contains(&request.name.as_ref()) {
            return Ok(tool_error(format!(
                "{} is not available: this server runs with --read-only, which serves only {} \
                 and {}",
                request.name, SEARCH_TOOL, STATUS_TOOL
            ))
            .into());
        }
        let call = ToolCallContext::new(self, request, context);
        self.tool_router.call(call).await
    }
}

impl State {
    async fn search(&self, call: &SearchCall) -> Result<Vec<SearchHit>> {
        let route = self.access.route().await?;
        route
            .search(&call.query, call.filter.clone(), call.limit)
            .await
    }

    async fn delete(&self, id: u64) -> Result<(Summary, Vec<RecordOutcome>)> {
        let call = Call::new(Arc::new(NoProgress), &self.settings);
        self.access.route().await?.delete(&[id], &call).await
    }

    async fn status(&self) -> Result<Value> {
        let route = self.access.route().await?;
        route.status(false, DEFAULT_MAX_LAG_S).await
    }

    /// Runs one sync request and describes its outcome.
    async fn run_sync(&self, request: SyncCall, call: &Call) -> CallToolResult {
        let route = match self.access.route().await {
            Ok(route) => route,
            Err(err) => return failure(&err),
        };
        match request {
            SyncCall::FullRebuild => match route.full_rebuild(false, call).await {
                Ok(summary) => summary_result("Full rebuild", &summary, summary.to_json()),
                Err(err) => {
                    failure(&err.context("the full rebuild failed; the previous index stays"))
                }
            },
            SyncCall::SyncNew => match route.sync_new(&SyncNewOptions::default(), call).await {
                Ok(report) => {
                    let structured = serde_json::to_value(&report).unwrap_or_else(|_| json!({}));
                    summary_result("Sync of new changes", &report.summary, structured)
                }
                Err(err) => failure(&err.context("the incremental sync failed")),
            },
            SyncCall::SyncRecord(id) => match route.sync_records(&[id], call).await {
                Ok((summary, outcomes)) => record_result(id, &summary, &outcomes),
                Err(err) => failure(&err.context(format!("could not sync lead {id}"))),
            },
        }
    }

    /// Chooses the link form from the version of the connected client, or of a probe.
    async fn links(&self) -> LeadLinks {
        let base = self.settings.odoo_url().map(crate::secret::redact_url);
        LeadLinks::for_version(base.as_deref(), self.odoo_major().await)
    }

    async fn odoo_major(&self) -> Option<u32> {
        if let Some(host) = self.access.host() {
            if let Some(major) = host.odoo_major().await {
                return Some(major);
            }
        }
        *self
            .odoo_major
            .get_or_init(|| async {
                let settings = self.settings.odoo().ok()?;
                let probe = OdooClient::probe_version(&settings);
                match tokio::time::timeout(VERSION_PROBE_TIMEOUT, probe).await {
                    Ok(Ok(version)) => Some(version.major),
                    Ok(Err(err)) => {
                        tracing::debug!("could not learn the Odoo version for links: {err}");
                        None
                    }
                    Err(_) => None,
                }
            })
            .await
    }
}

/// Describes the outcome of a sync of one lead.
fn record_result(id: u64, summary: &Summary, outcomes: &[RecordOutcome]) -> CallToolResult {
    let status = outcomes.first().map(|outcome| outcome.status);
    let structured = json!({"summary": summary.to_json(), "results": outcomes});
    match status {
        Some(RecordStatus::NotFound) => result(
            format!(
                "Lead {id} was not found in Odoo (deleted, or not visible to this user); its \
                 point, if any, was removed from the index."
            ),
            structured,
            true,
        ),
        Some(RecordStatus::Archived) => result(
            format!(
                "Lead {id} is archived in Odoo, so it is kept out of the index \
                 (CRM_VEC_ARCHIVED=remove)."
            ),
            structured,
            false,
        ),
        Some(RecordStatus::Unchanged) => result(
            format!("Lead {id} was already up to date in the index."),
            structured,
            false,
        ),
        _ => summary_result(&format!("Sync of lead {id}"), summary, structured),
    }
}

/// Describes a sync summary in one line of text, and marks partial work as an error.
fn summary_result(what: &str, summary: &Summary, structured: Value) -> CallToolResult {
    let mut text = format!(
        "{what}: {} fetched, {} upserted, {} embedded, {} reused, {} skipped, {} deleted, {} \
         failed in {:.1}s.",
        summary.fetched,
        summary.upserted,
        summary.embedded,
        summary.reused,
        summary.skipped,
        summary.deleted,
        summary.failed,
        summary.duration_ms as f64 / 1000.0
    );
    if summary.failed > 0 {
        text.push_str(" Some leads could not be indexed; the server log on stderr names them.");
    }
    result(text, structured, summary.failed > 0)
}

fn result(text: String, structured: Value, is_error: bool) -> CallToolResult {
    let mut result = CallToolResult::structured(structured);
    result.content = vec![ContentBlock::text(text)];
    result.is_error = Some(is_error);
    result
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// Turns an error into a tool result with the message, each cause that adds something, and
/// the known fix.
fn failure(err: &anyhow::Error) -> CallToolResult {
    let mut message = err.to_string();
    let mut previous = message.clone();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        // Wrapped errors often repeat their source in their own message.
        if !previous.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        previous = text;
    }
    if let Some(hint) = crate::commands::hint_for(err) {
        message.push_str("\nhint: ");
        message.push_str(&hint);
    }
    tracing::warn!("{message}");
    tool_error(message)
}

/// Serves MCP on stdin and stdout until the client closes stdin.
pub async fn serve_stdio(server: CrmServer) -> Result<()> {
    use rmcp::ServiceExt as _;

    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP client did not complete the initialization")?;
    running
        .waiting()
        .await
        .context("the MCP session ended with an error")?;
    Ok(())
}
