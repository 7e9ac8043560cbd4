//! `crm-vec search QUERY`.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use super::Invocation;
use crate::cli::SearchArgs;
use crate::index::SearchFilter;
use crate::output::format_amount;
use crate::settings::SettingsError;
use crate::sync::search::FilterError;

pub async fn run(ctx: &Invocation, args: SearchArgs) -> Result<ExitCode> {
    if let (Some(min), Some(max)) = (args.min_revenue, args.max_revenue) {
        if min > max {
            return Err(SettingsError::Invalid {
                name: "--min-revenue".to_string(),
                message: format!(
                    "{min} is above --max-revenue {max}, so no lead could match; swap them or \
                     drop one"
                ),
            }
            .into());
        }
    }
    let filter = SearchFilter {
        stage: args.stage.clone(),
        salesperson: args.salesperson.clone(),
        team: args.team.clone(),
        lead_type: args.lead_type.map(|t| t.as_str().to_string()),
        min_revenue: args.min_revenue,
        max_revenue: args.max_revenue,
        include_archived: args.include_archived,
    };
    let hits = ctx
        .route()
        .await?
        .search(&args.query, filter, args.limit as usize)
        .await
        .map_err(flag_error)?;

    if ctx.output.json {
        let hits: Vec<_> = hits.iter().map(|hit| hit.to_json()).collect();
        ctx.output
            .json_value(&json!({"query": args.query, "hits": hits}))?;
        return Ok(ExitCode::SUCCESS);
    }
    if hits.is_empty() {
        ctx.output.note("no leads match");
        return Ok(ExitCode::SUCCESS);
    }
    let with_snippets = hits.iter().any(|hit| hit.snippet.is_some());
    let mut header = vec!["id", "name", "customer", "stage", "revenue", "score"];
    if with_snippets {
        header.push("matched message");
    }
    let mut table = ctx.output.table(&header);
    for hit in &hits {
        let revenue = hit
            .payload
            .get("expected_revenue")
            .and_then(serde_json::Value::as_f64)
            .map(format_amount)
            .unwrap_or_default();
        let mut row = vec![
            hit.id.to_string(),
            hit.text("name"),
            hit.text("partner"),
            hit.text("stage"),
            revenue,
            format!("{:.3}", hit.score),
        ];
        if with_snippets {
            row.push(hit.snippet.clone().unwrap_or_default());
        }
        table.add_row(row);
    }
    ctx.output.data(&table.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// Reports a filter name that is not in the index as an invalid value of its flag, which
/// exits 2 like other usage errors.
fn flag_error(err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<FilterError>() {
        Ok(filter) => SettingsError::Invalid {
            name: format!("--{}", filter.field().key),
            message: filter.to_string(),
        }
        .into(),
        Err(err) => err,
    }
}
