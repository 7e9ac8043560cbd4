//! `crm-vec full-rebuild`.

use std::process::ExitCode;

use anyhow::Result;

use super::{exit_for, print_summary, Invocation};
use crate::cli::FullRebuildArgs;

pub async fn run(ctx: &Invocation, args: FullRebuildArgs) -> Result<ExitCode> {
    let route = ctx.route().await?;
    let call = ctx.call(Some("rebuilding"));
    let summary = route.full_rebuild(args.keep_previous, &call).await?;
    print_summary(ctx, "full-rebuild", &summary, None)?;
    Ok(exit_for(&summary))
}
