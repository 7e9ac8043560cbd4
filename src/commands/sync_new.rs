//! `crm-vec sync-new`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use super::Invocation;
use crate::cli::SyncNewArgs;
use crate::sync::incremental::Changes;
use crate::sync::{SyncNewOptions, SyncNewReport};

/// Ids listed per action in the text output of a dry run; `--json` lists them all.
const IDS_SHOWN: usize = 50;

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
    } else if let Some(changes) = &report.changes {
        print_changes(ctx, changes)?;
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

/// Prints what a dry run would change, one line per action, on stdout.
fn print_changes(ctx: &Invocation, changes: &Changes) -> Result<()> {
    let actions = [
        ("would embed and write", ["lead", "leads"], &changes.embed),
        (
            "would update the payload of",
            ["lead", "leads"],
            &changes.payload_update,
        ),
        (
            "would remove",
            ["archived lead", "archived leads"],
            &changes.remove,
        ),
        (
            "would prune",
            ["point whose lead is gone", "points whose lead is gone"],
            &changes.prune,
        ),
        (
            "would repair",
            [
                "lead missing from the index",
                "leads missing from the index",
            ],
            &changes.repair,
        ),
        (
            "would refresh the payload of",
            ["lead", "leads"],
            &changes.refresh,
        ),
    ];
    let mut printed = false;
    for (verb, [singular, plural], ids) in actions {
        if ids.is_empty() {
            continue;
        }
        let noun = if ids.len() == 1 { singular } else { plural };
        let line = format!("{verb} {} {noun}: {}", ids.len(), id_list(ids));
        ctx.output.data(&line)?;
        printed = true;
    }
    if !printed {
        ctx.output.data("nothing would change")?;
    }
    Ok(())
}

/// Formats the first ids, comma-separated, and how many more there are.
fn id_list(ids: &[u64]) -> String {
    let shown: Vec<String> = ids.iter().take(IDS_SHOWN).map(u64::to_string).collect();
    let mut text = shown.join(", ");
    if ids.len() > IDS_SHOWN {
        text.push_str(&format!(" and {} more (see --json)", ids.len() - IDS_SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_id_lists_are_cut() {
        let ids: Vec<u64> = (1..=52).collect();
        let text = id_list(&ids);
        assert!(text.starts_with("1, 2, 3, "), "{text}");
        assert!(text.ends_with(", 49, 50 and 2 more (see --json)"), "{text}");
    }
}
