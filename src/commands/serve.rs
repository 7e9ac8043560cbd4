//! `crm-vec serve`: resolves the listener's settings and runs it until a stop signal.

use std::process::ExitCode;

use anyhow::Result;

use super::Invocation;
use crate::cli::{ListenerArgs, ServeArgs};
use crate::serve::worker::RetryPolicy;
use crate::serve::{ServeConfig, DEFAULT_HOST, DEFAULT_PORT};
use crate::settings::SettingsError;

pub async fn run(ctx: Invocation, args: ServeArgs) -> Result<ExitCode> {
    let config = config(&ctx, &args)?;
    crate::serve::run(ctx, config).await?;
    Ok(ExitCode::SUCCESS)
}

/// Flags beat HOST and PORT from the environment or `.env`, which beat the defaults.
fn config(ctx: &Invocation, args: &ServeArgs) -> Result<ServeConfig, SettingsError> {
    let host = args
        .host
        .clone()
        .or_else(|| ctx.settings.value("HOST").map(str::to_string))
        .unwrap_or_else(|| DEFAULT_HOST.to_string());
    let port = match (args.port, ctx.settings.value("PORT")) {
        (Some(port), _) => port,
        (None, Some(text)) => text.trim().parse().map_err(|_| SettingsError::Invalid {
            name: "PORT".to_string(),
            message: format!("'{text}' is not a port number (0 to 65535)"),
        })?,
        (None, None) => DEFAULT_PORT,
    };
    Ok(listener_config(host, port, &args.listener))
}

/// Builds the listener's configuration from an address and the flags that `serve` and
/// `mcp --listen` share.
pub(super) fn listener_config(host: String, port: u16, args: &ListenerArgs) -> ServeConfig {
    ServeConfig {
        host,
        port,
        allow_unauthenticated: args.allow_unauthenticated,
        wait_timeout: args.wait_timeout,
        reconcile_every: args.reconcile_every,
        policy: RetryPolicy {
            settle: args.settle_delay,
            not_found_window: args.not_found_window,
            base: args.retry_base,
            max_attempts: args.max_attempts.max(1),
        },
    }
}
