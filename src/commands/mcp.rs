//! `crm-vec mcp`: the MCP server on stdin and stdout, optionally with the webhook listener.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use super::Invocation;
use crate::cli::McpArgs;
use crate::index::IndexError;
use crate::mcp::access::IndexAccess;
use crate::mcp::CrmServer;
use crate::owner::host::IndexHost;
use crate::owner::server::OwnerSocket;
use crate::owner::Route;
use crate::serve::{ServeHandle, Shutdown};
use crate::settings::SettingsError;

pub async fn run(ctx: Invocation, args: McpArgs) -> Result<ExitCode> {
    let address = match &args.listen {
        Some(address) => Some(split_address(address)?),
        None => None,
    };
    // Progress bars never reach the terminal here: the tools pass their own reporter, and
    // stdout belongs to the protocol.
    let stop = Arc::new(Shutdown::default());
    let (access, listener) = match address {
        Some((host, port)) => {
            let (access, handle) = start_listener(&ctx, &args, host, port, &stop).await?;
            (access, Some(handle))
        }
        None => (find_index(&ctx).await?, None),
    };
    let access = Arc::new(access);

    let server = CrmServer::new(ctx.settings.clone(), Arc::clone(&access), args.read_only);
    server.warm_up();
    tracing::debug!(read_only = args.read_only, "serving MCP on stdio");
    let served = tokio::select! {
        served = crate::mcp::serve_stdio(server) => served,
        () = crate::serve::wait_for_signal() => Ok(()),
    };

    // The client closed stdin (or the session failed): the listener stops with it. The owner
    // socket goes first, because another process may bind it once this one lets go.
    stop.stop();
    access.close().await;
    if let Some(handle) = listener {
        handle.stopped().await;
    }
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Finds the owner of the index, or opens it. An index locked by a process that is no owner
/// (a `full-rebuild`) does not stop the server: each tool call tries again.
async fn find_index(ctx: &Invocation) -> Result<IndexAccess> {
    let access = IndexAccess::find(ctx.clone());
    match access.route().await {
        Ok(Route::Owner(_)) => {
            tracing::info!("another crm-vec process owns the index; the tools run in it")
        }
        Ok(Route::Local(_)) => {}
        Err(err) if is_locked(&err) => {
            tracing::warn!("{err:#}; each tool call tries to open it again")
        }
        Err(err) => return Err(err),
    }
    Ok(access)
}

fn is_locked(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|cause| matches!(cause.downcast_ref(), Some(IndexError::Locked { .. })))
}

/// Opens the index for this process and starts the webhook listener of `--listen` on it.
async fn start_listener(
    ctx: &Invocation,
    args: &McpArgs,
    host: String,
    port: u16,
    stop: &Arc<Shutdown>,
) -> Result<(IndexAccess, ServeHandle)> {
    let store = crate::owner::open_for_listener(&ctx.settings, "mcp --listen").await?;
    let index = Arc::new(IndexHost::new(ctx.clone(), store));
    index.provider().await?;
    let config = super::serve::listener_config(host, port, &args.listener);
    let handle = crate::serve::start(Arc::clone(&index), config, Arc::clone(stop)).await?;
    let socket = OwnerSocket::open(Arc::clone(&index), "mcp --listen")?;
    eprintln!(
        "crm-vec mcp listening for webhooks on http://{}",
        handle.local_addr()
    );
    let access = IndexAccess::owned(ctx.clone(), index, Some(socket));
    Ok((access, handle))
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
