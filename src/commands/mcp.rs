//! `crm-vec mcp`: the MCP server on stdin and stdout, optionally with the webhook listener.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Result};

use super::Invocation;
use crate::cli::McpArgs;
use crate::index::any::AnyStore;
use crate::mcp::CrmServer;
use crate::serve::{Lending, ServeHandle, Shutdown};
use crate::settings::SettingsError;

pub async fn run(ctx: Invocation, args: McpArgs) -> Result<ExitCode> {
    let address = match &args.listen {
        Some(address) => Some(split_address(address)?),
        None => None,
    };
    // Progress bars never reach the terminal here: the tools pass their own reporter, and
    // stdout belongs to the protocol.
    let store = Arc::new(ctx.open_store()?);
    let stop = Arc::new(Shutdown::default());
    let listener = match address {
        Some((host, port)) => Some(start_listener(&ctx, &args, host, port, &store, &stop).await?),
        None => None,
    };

    let server = CrmServer::new(
        ctx,
        store,
        args.read_only,
        listener.as_ref().map(ServeHandle::store_slot),
    )?;
    server.warm_up();
    tracing::debug!(read_only = args.read_only, "serving MCP on stdio");
    let served = crate::mcp::serve_stdio(server).await;

    // The client closed stdin (or the session failed): the listener stops with it.
    stop.stop();
    if let Some(handle) = listener {
        handle.stopped().await;
    }
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Starts the webhook listener of `--listen` on the store the tools use.
async fn start_listener(
    ctx: &Invocation,
    args: &McpArgs,
    host: String,
    port: u16,
    store: &Arc<AnyStore>,
    stop: &Arc<Shutdown>,
) -> Result<ServeHandle> {
    // A running `crm-vec serve` lent this process its index. That listener keeps the index
    // current already, and a second one would take over its owner socket.
    if crate::serve::owner::lent_queue().is_some() {
        bail!(
            "--listen {host}:{port}: `crm-vec serve` already runs on this index and receives \
             its webhooks; drop --listen, or stop serve first"
        );
    }
    let config = super::serve::listener_config(host, port, &args.listener);
    let handle = crate::serve::start(
        &ctx.settings,
        ctx.provider()?,
        config,
        Arc::clone(store),
        // The tools keep the store open, so the index cannot be closed for a loan.
        Lending::Refused,
        Arc::clone(stop),
    )
    .await?;
    eprintln!(
        "crm-vec mcp listening for webhooks on http://{}",
        handle.local_addr()
    );
    Ok(handle)
}

/// Splits `HOST:PORT` (`[::1]:PORT` for IPv6) into its parts.
fn split_address(address: &str) -> Result<(String, u16), SettingsError> {
    let invalid = || SettingsError::Invalid {
        name: "--listen".to_string(),
        message: format!("'{address}' is not HOST:PORT, such as 127.0.0.1:3000"),
    };
    let (host, port) = address.rsplit_once(':').ok_or_else(invalid)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = port.parse().map_err(|_| invalid())?;
    if host.is_empty() {
        return Err(invalid());
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::split_address;

    #[test]
    fn listen_address_splits() {
        assert_eq!(
            split_address("127.0.0.1:3000").unwrap(),
            ("127.0.0.1".to_string(), 3000)
        );
        assert_eq!(
            split_address("[::1]:8069").unwrap(),
            ("::1".to_string(), 8069)
        );
        assert_eq!(
            split_address("localhost:0").unwrap(),
            ("localhost".to_string(), 0)
        );
    }

    #[test]
    fn listen_address_rejects_malformed() {
        assert!(split_address("127.0.0.1").is_err());
        assert!(split_address(":3000").is_err());
        assert!(split_address("127.0.0.1:http").is_err());
        assert!(split_address("127.0.0.1:70000").is_err());
    }
}
