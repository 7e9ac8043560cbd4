//! `crm-vec sync-new`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use super::Invocation;
use crate::cli::SyncNewArgs;
use crate::sync::{SyncNewOptions, SyncNewReport};

pub async fn run(ctx: &Invocation, args: SyncNewArgs) -> Result<ExitCode> {
    let route = ctx.route().await?;
    let options = SyncNewOptions {
        overlap: Duration::from_secs(args.overlap),
        since: args.since,
        prune: !args.no_prune,
        refresh_payload: args.refresh_payload,
        dry_run: args.dry_run,
    };
    let report = route.sync_new(&options, &ctx.call(Some("syncing"))).await?;
    print_report(ctx, &report)?;
    Ok(if report.summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(ctx: &Invocation, report: &SyncNewReport) -> Result<()> {
    if ctx.output.json {
        ctx.output.json_value(&serde_json::to_value(report)?)?;
    }
    let summary = &report.summary;
    let verb = if report.dry_run {
        "sync-new (dry run, nothing written)"
    } else {
        "sync-new"
    };
    let checkpoint = report
        .checkpoint
        .as_ref()
        .map(|c| format!("{} id {}", c.write_date, c.id))
        .unwrap_or_else(|| "none".to_string());
    ctx.output.note(&format!(
        "{verb}: {} fetched, {} upserted, {} embedded, {} deleted ({} pruned), {} repaired, \
         {} skipped, {} failed in {:.1}s; checkpoint {checkpoint}",
        summary.fetched,
        summary.upserted,
        summary.embedded,
        summary.deleted,
        report.pruned,
        report.repaired,
        summary.skipped,
        summary.failed,
        summary.duration_ms as f64 / 1000.0
    ));
    Ok(())
}
