//! `crm-vec full-rebuild`.

use std::process::ExitCode;

use anyhow::Result;

use super::{exit_for, print_summary, Invocation};
use crate::cli::FullRebuildArgs;

pub async fn run(ctx: &Invocation, args: FullRebuildArgs) -> Result<ExitCode> {
    let sync = ctx.sync_context(ctx.output.reporter("rebuilding")).await?;
    let summary = crate::sync::full_rebuild(&sync, args.keep_previous).await?;
    print_summary(ctx, "full-rebuild", &summary, None)?;
    Ok(exit_for(&summary))
}
