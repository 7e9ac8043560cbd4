//! Notices of tests that were skipped because something outside the repository is missing (a
//! Qdrant server, the model files).
//!
//! libtest captures what `println!` and `eprintln!` print in a passing test and discards it, so
//! a notice printed that way never shows under plain `cargo test`. These notices are written to
//! the process's stderr handle instead, which capture does not redirect, once per test binary.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;

/// Writes `note: {notice}` to stderr, unless this test binary has written the same notice
/// before.
pub fn notice_once(notice: &str) {
    static SHOWN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut shown = SHOWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if shown.insert(notice.to_string()) {
        let line = format!("note: {notice}\n");
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

/// Writes the notice that `tests` in `tests/{test_file}.rs` were skipped for want of a Qdrant
/// server, with the command that runs them.
pub fn qdrant_server_missing(test_file: &str, tests: &str) {
    notice_once(&format!(
        "skipped {tests} in tests/{test_file}.rs: QDRANT_URL is not set. Run them against a \
         Qdrant server with QDRANT_URL=http://localhost:6334 cargo test --test {test_file} \
         (and QDRANT_API_KEY if the server needs one)"
    ));
}

/// The command that runs the tests of tests/local_model.rs that need the model files.
pub const LOCAL_MODEL_TESTS_COMMAND: &str =
    "CRM_VEC_TEST_MODEL_DIR=\"$(scripts/fetch-test-model.sh)\" \
     cargo test --features local --test local_model";
