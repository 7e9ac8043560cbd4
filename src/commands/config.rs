//! `crm-vec config show`: every setting after precedence, with where its value came from.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};

use super::Invocation;
use crate::secret::redact_url;
use crate::settings::{Resolved, Source, VARIABLES};

/// Prints the resolved settings as a table, or as `{"settings": [...]}` with `--json`.
pub fn show(ctx: &Invocation) -> Result<ExitCode> {
    let rows: Vec<Resolved> = ctx.settings.report();
    if ctx.output.json {
        let settings: Vec<Value> = rows.iter().map(to_json).collect();
        ctx.output.json_value(&json!({ "settings": settings }))?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut table = ctx.output.table(&["name", "value", "source"]);
    for row in &rows {
        let value = shown_value(row).unwrap_or_else(|| "-".to_string());
        table.add_row(vec![row.name.to_string(), value, source_name(row)]);
    }
    ctx.output.data(&table.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn to_json(row: &Resolved) -> Value {
    json!({
        "name": row.name,
        "value": shown_value(row),
        "source": source_name(row),
        "secret": is_secret(row.name),
    })
}

/// The value as shown: secrets come masked from `Settings::report`, and URLs lose their user
/// info and query string, where a password or token may sit.
fn shown_value(row: &Resolved) -> Option<String> {
    let value = row.display.clone()?;
    if row.name.ends_with("_URL") {
        return Some(redact_url(&value));
    }
    Some(value)
}

/// The source as shown: `not set` for a variable with no value and no default, and the
/// variable a default was derived from.
fn source_name(row: &Resolved) -> String {
    match (&row.display, row.source, row.derived_from) {
        (None, Source::Default, _) => "not set".to_string(),
        (_, Source::Default, Some(variable)) => format!("default ({variable} is set)"),
        (_, source, _) => source.to_string(),
    }
}

fn is_secret(name: &str) -> bool {
    VARIABLES
        .iter()
        .any(|variable| variable.name == name && variable.secret)
}
