//! `crm-vec sync-record ID…`.

use std::process::ExitCode;

use anyhow::Result;

use super::{exit_for, print_summary, Invocation};
use crate::cli::IdsArgs;
use crate::sync::{RecordOutcome, RecordStatus};

pub async fn run(ctx: &Invocation, args: IdsArgs) -> Result<ExitCode> {
    let route = ctx.route().await?;
    let (summary, outcomes) = route.sync_records(&args.ids, &ctx.call(None)).await?;
    print_outcomes(ctx, &outcomes)?;
    print_summary(
        ctx,
        "sync-record",
        &summary,
        Some(("records", serde_json::to_value(&outcomes)?)),
    )?;
    Ok(exit_for(&summary))
}

/// Prints one line per lead, unless `--json` carries them.
pub(super) fn print_outcomes(ctx: &Invocation, outcomes: &[RecordOutcome]) -> Result<()> {
    if ctx.output.json {
        return Ok(());
    }
    for outcome in outcomes {
        let text = match outcome.status {
            RecordStatus::Synced => "synced",
            RecordStatus::Unchanged => "unchanged",
            RecordStatus::Archived => "archived in Odoo; left out of the index",
            RecordStatus::NotFound => "not found in Odoo; left out of the index",
            RecordStatus::Deleted => "deleted from the index",
            RecordStatus::Absent => "not in the index",
        };
        ctx.output.data(&format!("{}\t{text}", outcome.id))?;
    }
    Ok(())
}
