//! The exclusive lock that makes one process the owner of an embedded store.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::index::{IndexError, IndexResult};

use super::files::io_error;

/// Interval between two attempts to take a lock that another process holds.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// An exclusive `flock` on the store's lock file, released when the value is dropped or the
/// process exits.
#[derive(Debug)]
pub(super) struct StoreLock {
    /// The open lock file. Keeping it open keeps the lock.
    _file: File,
}

impl StoreLock {
    /// Takes the lock on `path`, waiting up to `timeout` while another open file description
    /// holds it, then records this process's pid and command line in the file.
    ///
    /// `locked_path` is the path reported in [`IndexError::Locked`].
    pub(super) fn acquire(path: &Path, locked_path: &Path, timeout: Duration) -> IndexResult<Self> {
        // Opened without truncation: the current holder's pid and command line must stay
        // readable until this process owns the lock.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|err| io_error(format!("failed to open {}", path.display()), err))?;

        let deadline = Instant::now() + timeout;
        let mut logged_wait = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(err)) => {
                    return Err(io_error(format!("failed to lock {}", path.display()), err));
                }
            }

            if Instant::now() >= deadline {
                let mut holder = describe_holder(&mut file);
                if holder.is_empty() {
                    // The holder writes its pid just after taking the lock; give it a moment.
                    thread::sleep(Duration::from_millis(100));
                    holder = describe_holder(&mut file);
                }
                return Err(IndexError::Locked {
                    path: locked_path.display().to_string(),
                    holder,
                });
            }
            if !logged_wait {
                tracing::info!(
                    path = %locked_path.display(),
                    holder = %describe_holder(&mut file),
                    timeout_ms = timeout.as_millis() as u64,
                    "index is locked by another process, waiting"
                );
                logged_wait = true;
            }
            thread::sleep(POLL_INTERVAL.min(deadline.saturating_duration_since(Instant::now())));
        }

        record_holder(&mut file)
            .map_err(|err| io_error(format!("failed to write {}", path.display()), err))?;
        Ok(Self { _file: file })
    }
}

/// Replaces the lock file's contents with `<pid>\n<command line>\n`.
fn record_holder(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{}\n{}", std::process::id(), command_line())?;
    file.sync_all()
}

/// Formats the holder recorded in the lock file as ` (pid 1234: crm-vec full-rebuild)`, or an
/// empty string when the file has no holder yet.
fn describe_holder(file: &mut File) -> String {
    let mut text = String::new();
    if file.seek(SeekFrom::Start(0)).is_err() || file.read_to_string(&mut text).is_err() {
        return String::new();
    }

    let mut lines = text.lines();
    let pid = lines.next().unwrap_or("").trim();
    let command = lines.next().unwrap_or("").trim();
    match (pid.is_empty(), command.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!(" (pid {pid})"),
        (false, false) => format!(" (pid {pid}: {command})"),
    }
}

/// Words in an option name that mark its value as a secret, which the lock file must not show.
const SECRET_OPTION_WORDS: [&str; 4] = ["password", "secret", "key", "token"];

fn command_line() -> String {
    redacted_command_line(std::env::args())
}

/// Joins the program's file name and its arguments with spaces, replacing the values of options
/// such as `--odoo-password` with `***`.
fn redacted_command_line(args: impl IntoIterator<Item = String>) -> String {
    let mut args = args.into_iter();
    let program = args
        .next()
        .map(|arg0| {
            PathBuf::from(&arg0)
                .file_name()
                .map_or(arg0.clone(), |name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_default();

    let mut words = vec![program];
    let mut hide_next = false;
    for arg in args {
        if hide_next {
            words.push("***".to_string());
            hide_next = false;
            continue;
        }

        let is_secret_option = |name: &str| {
            let name = name.to_ascii_lowercase();
            name.starts_with('-') && SECRET_OPTION_WORDS.iter().any(|word| name.contains(word))
        };
        match arg.split_once('=') {
            Some((name, _)) if is_secret_option(name) => words.push(format!("{name}=***")),
            Some(_) => words.push(arg),
            None => {
                hide_next = is_secret_option(&arg);
                words.push(arg);
            }
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::redacted_command_line;

    fn redact(args: &[&str]) -> String {
        redacted_command_line(args.iter().map(|arg| arg.to_string()))
    }

    #[test]
    fn command_line_keeps_subcommand() {
        assert_eq!(
            redact(&["/usr/local/bin/crm-vec", "-v", "full-rebuild"]),
            "crm-vec -v full-rebuild"
        );
    }

    #[test]
    fn command_line_hides_secret_values() {
        assert_eq!(
            redact(&["crm-vec", "--odoo-password", "hunter2", "sync-new"]),
            "crm-vec --odoo-password *** sync-new"
        );
        assert_eq!(
            redact(&["crm-vec", "--qdrant-api-key=abc", "search", "acme"]),
            "crm-vec --qdrant-api-key=*** search acme"
        );
        assert_eq!(
            redact(&[
                "crm-vec",
                "--webhook-secret",
                "s3",
                "--data-dir=/tmp/x",
                "serve"
            ]),
            "crm-vec --webhook-secret *** --data-dir=/tmp/x serve"
        );
    }
}
