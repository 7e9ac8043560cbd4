//! Sync state kept beside the index: the checkpoint of the incremental scan and the outcome of
//! the last runs. A full rebuild replaces it in the same step that makes the new index live.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Position of the incremental scan: the newest `write_date` read and the greatest lead id
/// read in that second. The next scan starts `overlap` before that second.
///
/// `write_date` is Odoo's `YYYY-MM-DD HH:MM:SS` in UTC, truncated to the second as RPC returns
/// it, while Odoo stores microseconds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Checkpoint {
    pub write_date: String,
    pub id: u64,
}

/// The outcome of one run of a sync command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// When the run ended, RFC 3339 in UTC.
    pub at: String,
    pub ok: bool,
    /// The JSON summary the command printed.
    pub summary: Value,
}

/// Everything crm-vec remembers between runs, stored with the live collection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    pub checkpoint: Option<Checkpoint>,
    pub last_full_rebuild: Option<RunRecord>,
    pub last_sync_new: Option<RunRecord>,
}
