//! Runs the Odoo stand-in with the CRM demo data, so that crm-vec can be tried without an Odoo.
//!
//! ```text
//! cargo run --example odoo_demo -- --version 17 --port 8069
//! ```
//!
//! Prints the `.env` lines to connect with, then serves until Ctrl-C.

#[path = "../tests/support/odoo.rs"]
#[allow(dead_code)]
mod odoo;

use odoo::{OdooStandIn, OdooVersion, StandInConfig};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
Usage: cargo run --example odoo_demo -- [--version 16|17|18|19] [--port PORT] [--latency-ms MS]

Serves Odoo's CRM demo data (44 leads) on 127.0.0.1 the way the chosen Odoo version answers
/jsonrpc (and JSON-2 on 19), until Ctrl-C.

Options:
  --version N       Odoo major version to imitate: 16, 17, 18 or 19 (default 17)
  --port PORT       TCP port on 127.0.0.1 (default 8069; 0 picks a free port)
  --latency-ms MS   delay added to every answer, in milliseconds (default 0)
  -h, --help        print this help";

struct Options {
    version: OdooVersion,
    port: u16,
    latency: Duration,
}

fn parse_options(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        version: OdooVersion::V17,
        port: 8069,
        latency: Duration::ZERO,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (name, inline_value) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Ok(None);
        }
        if !matches!(name.as_str(), "--version" | "--port" | "--latency-ms") {
            return Err(format!("unknown option {arg:?}"));
        }
        let value = match inline_value.or_else(|| args.next()) {
            Some(value) => value,
            None => return Err(format!("missing value for {name}")),
        };
        match name.as_str() {
            "--version" => {
                let major: u32 = value.parse().map_err(|_| {
                    format!("invalid --version {value:?}: expected 16, 17, 18 or 19")
                })?;
                options.version = OdooVersion::from_major(major).ok_or_else(|| {
                    format!("invalid --version {value:?}: expected 16, 17, 18 or 19")
                })?;
            }
            "--port" => {
                options.port = value
                    .parse()
                    .map_err(|_| format!("invalid --port {value:?}: expected 0..=65535"))?;
            }
            _ => {
                let milliseconds: u64 = value.parse().map_err(|_| {
                    format!(
                        "invalid --latency-ms {value:?}: expected a whole number of milliseconds"
                    )
                })?;
                options.latency = Duration::from_millis(milliseconds);
            }
        }
    }
    Ok(Some(options))
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = StandInConfig {
        version: options.version,
        latency: options.latency,
        ..StandInConfig::default()
    };
    let stand_in = match OdooStandIn::start_on_port(config.clone(), options.port) {
        Ok(stand_in) => stand_in,
        Err(message) => {
            eprintln!("error: {message}. Choose another --port, or --port 0 for a free one.");
            return ExitCode::FAILURE;
        }
    };
    // 19.0's JSON-2 accepts only the API key; the key also works in the JSON-RPC password slot.
    let (password, other_name, other) = if options.version.has_json2() {
        (&config.api_key, "password", &config.password)
    } else {
        (&config.password, "API key", &config.api_key)
    };
    println!(
        "Odoo {}.0 stand-in with the CRM demo data. Add these lines to .env:",
        options.version.major()
    );
    println!();
    println!("ODOO_URL={}", stand_in.url());
    println!("ODOO_DB={}", config.database);
    println!("ODOO_USERNAME={}", config.login);
    println!("ODOO_PASSWORD={password}");
    println!();
    println!(
        "(The {other_name} {other:?} is accepted as ODOO_PASSWORD too.) Press Ctrl-C to stop."
    );

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: failed to start the signal handler: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = runtime.block_on(tokio::signal::ctrl_c()) {
        eprintln!("error: failed to wait for Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }
    let served = stand_in.requests().len();
    stand_in.stop();
    println!("Stopped after {served} requests.");
    ExitCode::SUCCESS
}
