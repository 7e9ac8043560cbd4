//! The embedded index: collections on local disk, searched in-process with qdrant-edge.
//!
//! A store is one directory per collection:
//!
//! ```text
//! <data_dir>/<collection>/
//!     lock                  flock held by the owning process, with its pid and command line
//!     LIVE                  name of the live generation, e.g. `gen-1715000000000`
//!     gen-<unix millis>/
//!         shard/            the qdrant-edge shard (segments, WAL, config)
//!         layout.json       the IndexLayout the shard was created with
//!         state.json        the SyncState that belongs to this generation
//! ```
//!
//! A full rebuild fills a new generation and makes it live by replacing `LIVE` atomically, so
//! readers see either the old index with its sync state or the new one with its own. Only the
//! process holding `lock` opens the store, because qdrant-edge itself takes an exclusive lock on
//! a shard's WAL and a second process could not open it anyway.

mod files;
mod index;
mod lock;
mod query;
mod space;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::Duration;

use qdrant_edge::EdgeShard;

use crate::index::{IndexError, IndexLayout, IndexResult, IndexStore};
use crate::sync::state::SyncState;

use self::files::{io_error, LAYOUT_FILE, STATE_FILE};
pub use self::index::EmbeddedIndex;
use self::lock::StoreLock;

/// Name of the lock file in the collection directory.
const LOCK_FILE: &str = "lock";

/// An embedded store of one collection, owned by this process from [`EmbeddedStore::open`]
/// until it is dropped.
#[derive(Debug)]
pub struct EmbeddedStore {
    collection_dir: PathBuf,
    _lock: StoreLock,
    /// Shards this store has opened, behind a mutex that serializes the store operations so
    /// that a shard is never opened twice (qdrant-edge's WAL lock rejects a second open).
    open: tokio::sync::Mutex<OpenShards>,
}

#[derive(Debug, Default)]
struct OpenShards {
    /// The live index, once [`IndexStore::open_live`] or [`IndexStore::commit`] opened it.
    live: Option<EmbeddedIndex>,
    /// Every generation opened by this store, live or staging, with a weak handle that is
    /// alive while any clone of its index exists. A directory is never deleted while its
    /// shard is open, because dropping the shard flushes into that directory.
    generations: Vec<(PathBuf, Weak<EdgeShard>)>,
}

impl OpenShards {
    fn register(&mut self, index: &EmbeddedIndex) {
        self.generations
            .retain(|(_, shard)| shard.strong_count() > 0);
        self.generations
            .push((index.generation_dir().to_path_buf(), index.downgrade()));
    }

    fn is_open(&self, generation_dir: &Path) -> bool {
        self.generations
            .iter()
            .any(|(dir, shard)| dir == generation_dir && shard.strong_count() > 0)
    }
}

impl EmbeddedStore {
    /// Opens the store of `collection` under `data_dir`, creating its directory if needed, and
    /// takes its lock for the lifetime of the store.
    ///
    /// Waits up to `lock_timeout` while another process (or another `EmbeddedStore` in this
    /// process) holds the lock, then fails with [`IndexError::Locked`] naming the holder's pid
    /// and command line.
    pub fn open(data_dir: &Path, collection: &str, lock_timeout: Duration) -> IndexResult<Self> {
        if collection.is_empty()
            || collection.contains(['/', '\\'])
            || collection == "."
            || collection == ".."
        {
            return Err(IndexError::Incompatible(format!(
                "invalid collection name {collection:?}: use a name without path separators"
            )));
        }

        let collection_dir = data_dir.join(collection);
        std::fs::create_dir_all(&collection_dir).map_err(|err| {
            io_error(
                format!("failed to create {}", collection_dir.display()),
                err,
            )
        })?;

        let lock = StoreLock::acquire(
            &collection_dir.join(LOCK_FILE),
            &collection_dir,
            lock_timeout,
        )?;
        Ok(Self {
            collection_dir,
            _lock: lock,
            open: tokio::sync::Mutex::new(OpenShards::default()),
        })
    }

    /// Returns the directory that contains the collection's generations.
    pub fn collection_dir(&self) -> &Path {
        &self.collection_dir
    }

    fn open_live_blocking(generation_dir: PathBuf) -> IndexResult<EmbeddedIndex> {
        if !generation_dir.is_dir() {
            return Err(IndexError::Incompatible(format!(
                "the live index {} named in {} does not exist; run a full rebuild",
                generation_dir.display(),
                files::LIVE_FILE,
            )));
        }

        let layout_path = generation_dir.join(LAYOUT_FILE);
        let layout: IndexLayout = files::read_json(&layout_path)?.ok_or_else(|| {
            IndexError::Incompatible(format!(
                "{} is missing; run a full rebuild",
                layout_path.display()
            ))
        })?;
        EmbeddedIndex::load(&generation_dir, layout)
    }

    fn create_staging_blocking(
        collection_dir: PathBuf,
        layout: IndexLayout,
    ) -> IndexResult<EmbeddedIndex> {
        let (name, generation_dir) = files::create_generation_dir(&collection_dir)?;
        files::write_json(&generation_dir.join(LAYOUT_FILE), &layout)?;
        let index = EmbeddedIndex::create(&generation_dir, layout)?;
        files::sync_dir(&collection_dir)?;
        tracing::info!(generation = %name, dir = %collection_dir.display(), "created staging index");
        Ok(index)
    }

    /// Makes `staging` live: flushes it, writes its sync state and replaces `LIVE`. Returns the
    /// name of the generation that was live before, if any.
    fn commit_blocking(
        collection_dir: &Path,
        staging: &EmbeddedIndex,
        state: &SyncState,
    ) -> IndexResult<Option<String>> {
        let previous = files::read_live(collection_dir)?;

        staging.optimize_and_flush()?;
        files::write_json(&staging.generation_dir().join(STATE_FILE), state)?;
        files::write_live(collection_dir, &generation_name(staging.generation_dir()))?;
        Ok(previous)
    }

    /// Opens the newest generation other than the live one whose layout is `layout` and that
    /// contains points: what a failed or killed full rebuild left behind. Generations that fail to
    /// open (a rebuild killed while creating its shard) are skipped with a warning.
    fn open_abandoned_blocking(
        collection_dir: &Path,
        layout: &IndexLayout,
    ) -> IndexResult<Option<EmbeddedIndex>> {
        let live = files::read_live(collection_dir)?;
        let mut names: Vec<String> = files::list_generations(collection_dir)?
            .into_iter()
            .filter(|name| Some(name) != live.as_ref())
            .collect();
        names.sort_by_key(|name| std::cmp::Reverse(generation_millis(name)));

        for name in names {
            let dir = collection_dir.join(&name);
            let stored: Option<IndexLayout> = match files::read_json(&dir.join(LAYOUT_FILE)) {
                Ok(stored) => stored,
                Err(err) => {
                    tracing::warn!(
                        generation = %name,
                        error = %err,
                        "skipped an unreadable abandoned index generation"
                    );
                    continue;
                }
            };
            if stored.as_ref() != Some(layout) {
                continue;
            }
            let index = match EmbeddedIndex::load(&dir, layout.clone()) {
                Ok(index) => index,
                Err(err) => {
                    tracing::warn!(
                        generation = %name,
                        error = %err,
                        "skipped an abandoned index generation that failed to open"
                    );
                    continue;
                }
            };
            match index.count_blocking() {
                Ok(0) => continue,
                Ok(points) => {
                    tracing::info!(
                        generation = %name,
                        points,
                        "reusing vectors of an abandoned full rebuild"
                    );
                    return Ok(Some(index));
                }
                Err(err) => {
                    tracing::warn!(
                        generation = %name,
                        error = %err,
                        "skipped an abandoned index generation that failed to count"
                    );
                }
            }
        }
        Ok(None)
    }

    /// Deletes every generation directory except the live one and, with `keep_previous`, the
    /// one that was live before. Directories whose shard is still open in this process are left
    /// for a later commit.
    fn remove_old_generations(
        &self,
        open: &OpenShards,
        live: &str,
        previous: Option<&str>,
        keep_previous: bool,
    ) {
        let names = match files::list_generations(&self.collection_dir) {
            Ok(names) => names,
            Err(err) => {
                tracing::warn!(error = %err, "failed to list old index generations to remove");
                return;
            }
        };

        for name in names {
            let is_kept_previous = keep_previous && previous == Some(name.as_str());
            if name == live || is_kept_previous {
                continue;
            }

            let dir = self.collection_dir.join(&name);
            if open.is_open(&dir) {
                tracing::warn!(
                    dir = %dir.display(),
                    "old index generation is still open in this process, removing it later"
                );
                continue;
            }
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => tracing::info!(dir = %dir.display(), "removed old index generation"),
                Err(err) => tracing::warn!(
                    dir = %dir.display(),
                    error = %err,
                    "failed to remove old index generation"
                ),
            }
        }
    }
}

impl IndexStore for EmbeddedStore {
    type Index = EmbeddedIndex;

    async fn open_live(&self) -> IndexResult<Option<EmbeddedIndex>> {
        let mut open = self.open.lock().await;
        let collection_dir = self.collection_dir.clone();
        let live = run_blocking(move || files::read_live(&collection_dir)).await?;
        let Some(generation_dir) = live.map(|name| self.collection_dir.join(name)) else {
            return Ok(None);
        };

        if let Some(live) = &open.live {
            if live.generation_dir() == generation_dir {
                return Ok(Some(live.clone()));
            }
        }

        let index = run_blocking(move || Self::open_live_blocking(generation_dir)).await?;
        open.register(&index);
        open.live = Some(index.clone());
        Ok(Some(index))
    }

    fn check_room(&self, points: u64, layout: &IndexLayout) -> IndexResult<()> {
        space::check_room(&self.collection_dir, points, layout)
    }

    async fn create_staging(&self, layout: IndexLayout) -> IndexResult<EmbeddedIndex> {
        let mut open = self.open.lock().await;
        let collection_dir = self.collection_dir.clone();
        let index =
            run_blocking(move || Self::create_staging_blocking(collection_dir, layout)).await?;
        open.register(&index);
        Ok(index)
    }

    async fn commit(
        &self,
        staging: EmbeddedIndex,
        state: SyncState,
        keep_previous: bool,
    ) -> IndexResult<()> {
        let mut open = self.open.lock().await;
        if staging.generation_dir().parent() != Some(self.collection_dir.as_path()) {
            return Err(IndexError::Incompatible(format!(
                "cannot commit {}: it is not a generation of {}",
                staging.generation_dir().display(),
                self.collection_dir.display(),
            )));
        }

        let collection_dir = self.collection_dir.clone();
        let committed = staging.clone();
        let previous =
            run_blocking(move || Self::commit_blocking(&collection_dir, &committed, &state))
                .await?;

        let live = generation_name(staging.generation_dir());
        tracing::info!(generation = %live, previous = ?previous, "committed new live index");

        // Replacing the cached live index drops this store's handle on the previous shard.
        open.register(&staging);
        open.live = Some(staging);
        self.remove_old_generations(&open, &live, previous.as_deref(), keep_previous);
        Ok(())
    }

    async fn open_abandoned(&self, layout: &IndexLayout) -> IndexResult<Option<EmbeddedIndex>> {
        let mut open = self.open.lock().await;
        let collection_dir = self.collection_dir.clone();
        let layout = layout.clone();
        let index =
            run_blocking(move || Self::open_abandoned_blocking(&collection_dir, &layout)).await?;
        if let Some(index) = &index {
            open.register(index);
        }
        Ok(index)
    }

    async fn load_state(&self) -> IndexResult<SyncState> {
        let _open = self.open.lock().await;
        let collection_dir = self.collection_dir.clone();
        run_blocking(move || {
            let Some(live) = files::read_live(&collection_dir)? else {
                return Ok(SyncState::default());
            };
            let state = files::read_json(&collection_dir.join(live).join(STATE_FILE))?;
            Ok(state.unwrap_or_default())
        })
        .await
    }

    async fn save_state(&self, state: &SyncState) -> IndexResult<()> {
        let _open = self.open.lock().await;
        let collection_dir = self.collection_dir.clone();
        let state = state.clone();
        run_blocking(move || {
            let Some(live) = files::read_live(&collection_dir)? else {
                return Err(IndexError::Incompatible(format!(
                    "cannot save the sync state: {} has no live index yet; run a full rebuild \
                     first",
                    collection_dir.display(),
                )));
            };
            files::write_json(&collection_dir.join(live).join(STATE_FILE), &state)
        })
        .await
    }

    fn backend(&self) -> &'static str {
        "embedded"
    }

    fn location(&self) -> String {
        self.collection_dir.display().to_string()
    }
}

fn generation_name(generation_dir: &Path) -> String {
    generation_dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the creation time in Unix milliseconds from a generation name, for ordering.
fn generation_millis(name: &str) -> u128 {
    name.strip_prefix(files::GENERATION_PREFIX)
        .and_then(|millis| millis.parse().ok())
        .unwrap_or(0)
}

/// Runs blocking file-system or qdrant-edge work on tokio's blocking thread pool.
async fn run_blocking<T, F>(work: F) -> IndexResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> IndexResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| IndexError::Engine(format!("index task failed: {err}")))?
}
