//! `crm-vec status`: Odoo, index and sync state side by side.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};

use super::Invocation;
use crate::cli::StatusArgs;
use crate::index::{IndexStore, VectorIndex};
use crate::secret::redact_url;

pub async fn run(ctx: &Invocation, _args: StatusArgs) -> Result<ExitCode> {
    let odoo = odoo_status(ctx).await;
    let store = ctx.open_store()?;
    let index = index_status(&store).await?;
    let state = store.load_state().await?;
    let sync = json!({
        "checkpoint": state.checkpoint,
        "last_full_rebuild": state.last_full_rebuild,
        "last_sync_new": state.last_sync_new,
    });
    let report = json!({"odoo": odoo, "index": index, "sync": sync});

    if ctx.output.json {
        ctx.output.json_value(&report)?;
    } else {
        print_table(ctx, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn odoo_status(ctx: &Invocation) -> Value {
    let url = ctx.settings.odoo_url().map(redact_url);
    let mut status = json!({
        "url": url,
        "version": null,
        "protocol": null,
        "reachable": false,
        "leads_active": null,
        "leads_archived": null,
    });
    let client = match ctx.connect_odoo().await {
        Ok(client) => client,
        Err(err) => {
            status["error"] = json!(format!("{err:#}"));
            if let Ok(settings) = ctx.settings.odoo() {
                if let Ok(version) = crate::odoo::OdooClient::probe_version(&settings).await {
                    status["version"] = json!(version.raw);
                    status["reachable"] = json!(true);
                }
            }
            return status;
        }
    };
    status["version"] = json!(client.version().raw);
    status["protocol"] = json!(client.protocol().to_string());
    status["reachable"] = json!(true);
    let active = client
        .search_count("crm.lead", json!([["active", "=", true]]))
        .await;
    let archived = client
        .search_count("crm.lead", json!([["active", "=", false]]))
        .await;
    match (active, archived) {
        (Ok(active), Ok(archived)) => {
            status["leads_active"] = json!(active);
            status["leads_archived"] = json!(archived);
        }
        (Err(err), _) | (_, Err(err)) => status["error"] = json!(err.to_string()),
    }
    status
}

async fn index_status<S: IndexStore>(store: &S) -> Result<Value> {
    let mut status = json!({
        "backend": store.backend(),
        "location": store.location(),
        "points": 0,
        "model": null,
        "dimension": null,
    });
    if let Some(index) = store.open_live().await? {
        let layout = index.layout();
        status["points"] = json!(index.count().await?);
        status["model"] = json!(layout.model);
        status["dimension"] = json!(layout.dense_dimension);
    }
    Ok(status)
}

fn print_table(ctx: &Invocation, report: &Value) -> Result<()> {
    let show = |value: &Value| match value {
        Value::Null => "-".to_string(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut table = ctx.output.table(&["", ""]);
    let odoo = &report["odoo"];
    let index = &report["index"];
    let sync = &report["sync"];
    let rows = [
        ("Odoo URL", show(&odoo["url"])),
        ("Odoo version", show(&odoo["version"])),
        ("Protocol", show(&odoo["protocol"])),
        ("Reachable", show(&odoo["reachable"])),
        ("Leads active", show(&odoo["leads_active"])),
        ("Leads archived", show(&odoo["leads_archived"])),
        ("Index backend", show(&index["backend"])),
        ("Index location", show(&index["location"])),
        ("Points", show(&index["points"])),
        ("Embedding model", show(&index["model"])),
        ("Dimension", show(&index["dimension"])),
        ("Last full rebuild", show(&sync["last_full_rebuild"]["at"])),
    ];
    for (label, value) in rows {
        table.add_row(vec![label.to_string(), value]);
    }
    if let Some(error) = odoo.get("error") {
        table.add_row(vec!["Odoo error".to_string(), show(error)]);
    }
    ctx.output.data(&table.to_string())?;
    Ok(())
}
