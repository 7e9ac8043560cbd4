//! Stand-ins for the servers crm-vec talks to: Odoo (`odoo`) and the embedding APIs (`embed`),
//! and notices of skipped tests (`skip`). Each test binary uses a subset of their API.
#![allow(dead_code)]

pub mod embed;
pub mod harness;
pub mod odoo;
pub mod skip;
pub mod webhook;
