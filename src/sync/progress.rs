//! Progress reporting, behind a trait so that the sync core never draws anything itself:
//! the CLI passes a terminal progress bar, `serve` and `mcp` pass their own sinks or none.

/// Receives progress of a long run.
pub trait Reporter: Send + Sync {
    /// A run of `total` leads (when known) begins.
    fn start(&self, total: Option<u64>);
    /// `count` more leads are done.
    fn advance(&self, count: u64);
    /// The run ended, successfully or not.
    fn finish(&self);
}

/// A reporter that discards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Reporter for NoProgress {
    fn start(&self, _total: Option<u64>) {}
    fn advance(&self, _count: u64) {}
    fn finish(&self) {}
}
