//! `crm-vec delete ID…`.

use std::process::ExitCode;

use anyhow::Result;

use super::sync_record::print_outcomes;
use super::{exit_for, print_summary, Invocation};
use crate::cli::IdsArgs;

pub async fn run(ctx: &Invocation, args: IdsArgs) -> Result<ExitCode> {
    let route = ctx.route().await?;
    let (summary, outcomes) = route.delete(&args.ids, &ctx.call(None)).await?;
    print_outcomes(ctx, &outcomes)?;
    print_summary(
        ctx,
        "delete",
        &summary,
        Some(("records", serde_json::to_value(&outcomes)?)),
    )?;
    Ok(exit_for(&summary))
}
