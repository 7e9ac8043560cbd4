//! crm-vec keeps a vector index of Odoo CRM leads in step with Odoo, so that people and AI
//! assistants can search the pipeline by meaning and filter by stage, salesperson or revenue.
//!
//! The binary (`main.rs`) parses the command line and calls [`commands`]; every way in calls
//! the same [`sync`] core, which reads from [`odoo`], embeds with [`embed`] and writes to
//! [`index`].

pub mod cli;
pub mod commands;
pub mod embed;
pub mod index;
pub mod mcp;
pub mod odoo;
pub mod output;
pub mod owner;
pub mod secret;
pub mod serve;
pub mod settings;
pub mod sync;
