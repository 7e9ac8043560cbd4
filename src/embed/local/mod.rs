//! A sentence-embedding model run in-process on the CPU with candle: no API key, and lead text
//! never leaves the machine.
//!
//! The model is a sentence-transformers directory (`config.json`, `tokenizer.json`,
//! `model.safetensors`, `1_Pooling/config.json`) of a BERT model such as all-MiniLM-L6-v2.
//! The directory is checked when the provider is built, and the weights are loaded on the first
//! request, so a run that reuses every stored vector never loads them.

mod files;
mod inference;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use files::{Pooling, REQUIRED_FILES};

use files::ModelFiles;
use inference::Engine;

/// Texts per call to [`LocalModel::embed`].
const BATCH_SIZE: usize = 64;

/// Errors of the local model, each naming the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum LocalModelError {
    #[error("the model directory {path} does not exist or is not a directory (set EMBEDDINGS_MODEL_DIR to a sentence-transformers model directory)")]
    NotADirectory { path: PathBuf },
    #[error("the model directory {dir} has no {file}; a sentence-transformers model directory has config.json, tokenizer.json, model.safetensors and 1_Pooling/config.json")]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("unsupported model in {path}: model_type is '{model_type}' and architectures are {architectures:?}; only BERT models (model_type \"bert\") are supported")]
    UnsupportedArchitecture {
        path: PathBuf,
        model_type: String,
        architectures: Vec<String>,
    },
    #[error("unsupported pooling in {path}: {modes}; exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token or pooling_mode_max_tokens must be true")]
    UnsupportedPooling { path: PathBuf, modes: String },
    #[error("invalid {path}: {message}")]
    InvalidFile { path: PathBuf, message: String },
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("local model inference failed: {0}")]
    Inference(String),
}

/// A sentence-embedding model on the CPU. Clones share the loaded weights.
#[derive(Clone)]
pub struct LocalModel {
    shared: Arc<Shared>,
}

struct Shared {
    files: ModelFiles,
    /// `local:` and the fingerprint of the model files; see [`LocalModel::model`].
    model_id: String,
    /// The loaded model, `None` until the first request. The lock also runs one batch at a
    /// time: candle already spreads each matrix product over every core, so parallel batches
    /// would only compete for them.
    engine: Mutex<Option<Engine>>,
    /// Forward passes run by this process.
    inferences: AtomicU64,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("dir", &self.shared.files.dir)
            .field("model", &self.shared.model_id)
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Checks a model directory and reads its configuration. The weights are hashed here (to
    /// name the model) but loaded only by the first [`Self::embed`].
    pub fn open(dir: &Path) -> Result<LocalModel, LocalModelError> {
        let files = ModelFiles::open(dir)?;
        let model_id = format!("local:{}", files.fingerprint);
        Ok(LocalModel {
            shared: Arc::new(Shared {
                files,
                model_id,
                engine: Mutex::new(None),
                inferences: AtomicU64::new(0),
            }),
        })
    }

    /// The model name stored with each point: `local:` and a hash of the model files. The
    /// same files in another directory keep the stored vectors, and changed files invalidate
    /// them.
    pub fn model(&self) -> &str {
        &self.shared.model_id
    }

    /// Returns a short readable name for the model, for display only: the directory name, with
    /// its parent when the directory is called just `model`.
    pub fn display_name(&self) -> String {
        self.shared.files.display_name()
    }

    /// The vector dimension, the model's `hidden_size`.
    pub fn dimension(&self) -> usize {
        self.shared.files.config.hidden_size
    }

    /// The token limit; longer texts are cut to it.
    pub fn max_seq_length(&self) -> usize {
        self.shared.files.max_seq_length
    }

    pub fn pooling(&self) -> Pooling {
        self.shared.files.pooling
    }

    pub fn model_dir(&self) -> &Path {
        &self.shared.files.dir
    }

    /// Forward passes this process has run, for tests and logs.
    pub fn inference_count(&self) -> u64 {
        self.shared.inferences.load(Ordering::Relaxed)
    }

    /// Splits texts into batches of at most 64 texts, as index ranges.
    pub fn plan_batches(&self, texts: &[String]) -> Vec<std::ops::Range<usize>> {
        (0..texts.len())
            .step_by(BATCH_SIZE)
            .map(|start| start..(start + BATCH_SIZE).min(texts.len()))
            .collect()
    }

    /// Embeds texts into L2-normalised vectors, in input order, on a blocking thread.
    /// Documents and queries are embedded the same way, as sentence-transformers does for
    /// models without prompts.
    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LocalModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let shared = Arc::clone(&self.shared);
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || shared.embed_blocking(&texts))
            .await
            .map_err(|err| {
                LocalModelError::Inference(format!("the inference task failed: {err}"))
            })?
    }

    /// Embeds texts on the calling thread, which it blocks.
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LocalModelError> {
        self.shared.embed_blocking(texts)
    }
}

impl Shared {
    fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LocalModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // A panic inside candle poisons the lock but leaves no half-written state behind: the
        // engine is only read.
        let mut guard = self.engine.lock().unwrap_or_else(|err| err.into_inner());
        let engine = match &mut *guard {
            Some(engine) => engine,
            empty @ None => {
                let started = Instant::now();
                let loaded = Engine::load(&self.files)?;
                tracing::debug!(
                    "local model: loaded {} in {} ms",
                    self.files.dir.display(),
                    started.elapsed().as_millis()
                );
                empty.insert(loaded)
            }
        };
        let started = Instant::now();
        let (vectors, passes) = engine.embed(texts)?;
        self.inferences.fetch_add(passes, Ordering::Relaxed);
        tracing::debug!(
            "local model: ran inference on {} texts ({passes} forward passes) in {} ms",
            texts.len(),
            started.elapsed().as_millis()
        );
        Ok(vectors)
    }
}

#[cfg(test)]
mod tests;
