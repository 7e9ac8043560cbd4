//! On-disk bookkeeping of an embedded store: the `LIVE` pointer, generation directories and
//! JSON files written atomically.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::index::{IndexError, IndexResult};

/// File in the collection directory that names the live generation directory.
pub(super) const LIVE_FILE: &str = "LIVE";
/// Prefix of generation directory names, followed by the creation time in Unix milliseconds.
pub(super) const GENERATION_PREFIX: &str = "gen-";
/// Subdirectory of a generation that contains the qdrant-edge shard.
pub(super) const SHARD_DIR: &str = "shard";
/// Sync state of a generation.
pub(super) const STATE_FILE: &str = "state.json";
/// Vector layout of a generation.
pub(super) const LAYOUT_FILE: &str = "layout.json";

pub(super) fn io_error(context: impl Into<String>, source: io::Error) -> IndexError {
    IndexError::Io {
        context: context.into(),
        source,
    }
}

/// Reads the generation name stored in `LIVE`, or `None` when the file does not exist.
pub(super) fn read_live(collection_dir: &Path) -> IndexResult<Option<String>> {
    let path = collection_dir.join(LIVE_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_error(format!("failed to read {}", path.display()), err)),
    };

    let name = text.trim();
    if !is_generation_name(name) {
        return Err(IndexError::Incompatible(format!(
            "{} contains {name:?}, which is not a generation directory name \
             ({GENERATION_PREFIX}<unix millis>); restore the file or run a full rebuild",
            path.display(),
        )));
    }
    Ok(Some(name.to_string()))
}

/// Points `LIVE` at `generation`, atomically.
pub(super) fn write_live(collection_dir: &Path, generation: &str) -> IndexResult<()> {
    write_atomic(
        &collection_dir.join(LIVE_FILE),
        format!("{generation}\n").as_bytes(),
    )
}

/// Checks that `name` is `gen-` followed by digits, so that it cannot point outside the store.
pub(super) fn is_generation_name(name: &str) -> bool {
    name.strip_prefix(GENERATION_PREFIX)
        .is_some_and(|millis| !millis.is_empty() && millis.bytes().all(|b| b.is_ascii_digit()))
}

/// Creates a new, empty generation directory named after the current time in Unix milliseconds.
///
/// When a directory of that name exists already (two rebuilds within one millisecond, or a clock
/// that went back), the next free millisecond is used.
pub(super) fn create_generation_dir(collection_dir: &Path) -> IndexResult<(String, PathBuf)> {
    let mut millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());

    loop {
        let name = format!("{GENERATION_PREFIX}{millis}");
        let path = collection_dir.join(&name);
        match fs::create_dir(&path) {
            Ok(()) => return Ok((name, path)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => millis += 1,
            Err(err) => {
                return Err(io_error(
                    format!("failed to create {}", path.display()),
                    err,
                ))
            }
        }
    }
}

/// Lists the names of all generation directories in the collection directory.
pub(super) fn list_generations(collection_dir: &Path) -> IndexResult<Vec<String>> {
    let context = || format!("failed to list {}", collection_dir.display());
    let mut names = Vec::new();
    for entry in fs::read_dir(collection_dir).map_err(|err| io_error(context(), err))? {
        let entry = entry.map_err(|err| io_error(context(), err))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if is_generation_name(&name) && entry.path().is_dir() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Reads a JSON file, or returns `None` when it does not exist.
pub(super) fn read_json<T: DeserializeOwned>(path: &Path) -> IndexResult<Option<T>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_error(format!("failed to read {}", path.display()), err)),
    };
    let value = serde_json::from_slice(&bytes).map_err(|err| {
        IndexError::Incompatible(format!("{} is not valid: {err}", path.display()))
    })?;
    Ok(Some(value))
}

/// Writes a value as pretty-printed JSON, atomically.
pub(super) fn write_json<T: Serialize>(path: &Path, value: &T) -> IndexResult<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|err| {
        IndexError::Engine(format!("failed to serialize {}: {err}", path.display()))
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Replaces `path` with `contents` so that readers, and the disk after a crash, see either the
/// old or the new file. It writes a temporary file beside `path`, fsyncs it, renames it over
/// `path` and then fsyncs the directory.
///
/// The temporary name is fixed, which is safe because only the holder of the store lock writes.
pub(super) fn write_atomic(path: &Path, contents: &[u8]) -> IndexResult<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp_path = dir.join(format!(".{file_name}.tmp"));
    let context = |action: &str| format!("failed to {action} {}", temp_path.display());

    let mut file = File::create(&temp_path).map_err(|err| io_error(context("create"), err))?;
    file.write_all(contents)
        .map_err(|err| io_error(context("write"), err))?;
    file.sync_all()
        .map_err(|err| io_error(context("fsync"), err))?;
    drop(file);

    fs::rename(&temp_path, path).map_err(|err| {
        io_error(
            format!(
                "failed to rename {} to {}",
                temp_path.display(),
                path.display()
            ),
            err,
        )
    })?;
    sync_dir(dir)
}

/// Fsyncs a directory, so that a rename or a new entry in it survives a power loss.
pub(super) fn sync_dir(dir: &Path) -> IndexResult<()> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|err| io_error(format!("failed to fsync {}", dir.display()), err))
}
