//! Reading and checking a sentence-transformers model directory: which files must be there,
//! which architectures and pooling modes are supported, and the fingerprint that names the
//! model in the index.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::LocalModelError;

pub const CONFIG_FILE: &str = "config.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const POOLING_FILE: &str = "1_Pooling/config.json";
/// Optional: sentence-transformers keeps `max_seq_length` here.
pub const SENTENCE_CONFIG_FILE: &str = "sentence_bert_config.json";

/// Files every supported model directory has, in the order they are checked.
pub const REQUIRED_FILES: [&str; 4] = [CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE, POOLING_FILE];

/// Token limit when `sentence_bert_config.json` does not set one: the value that all-MiniLM-L6-v2
/// sets there.
pub const DEFAULT_MAX_SEQ_LENGTH: usize = 256;

/// Pooling mode that turns token vectors into one sentence vector, selected by
/// `1_Pooling/config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean of the token vectors under the attention mask.
    Mean,
    /// The vector of the first token (`[CLS]`).
    Cls,
    /// Element-wise maximum over the token vectors under the attention mask.
    Max,
}

/// The fields of `1_Pooling/config.json` that select the pooling mode.
#[derive(Debug, Deserialize)]
struct PoolingConfig {
    word_embedding_dimension: Option<usize>,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
}

/// The fields of `config.json` that decide whether candle's BERT can run the model.
#[derive(Debug, Deserialize)]
struct ArchitectureConfig {
    model_type: Option<String>,
    #[serde(default)]
    architectures: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct SentenceConfig {
    max_seq_length: Option<usize>,
}

/// A model directory whose files are present and whose configuration is supported.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub dir: PathBuf,
    pub config: candle_transformers::models::bert::Config,
    pub pooling: Pooling,
    pub max_seq_length: usize,
    /// The first 12 hex digits of a SHA-256 over every file that shapes the vectors.
    pub fingerprint: String,
}

impl ModelFiles {
    /// Checks the directory and reads its configuration. The weights are hashed but not
    /// loaded.
    pub fn open(dir: &Path) -> Result<ModelFiles, LocalModelError> {
        if !dir.is_dir() {
            return Err(LocalModelError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        for file in REQUIRED_FILES {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(LocalModelError::MissingFile {
                    dir: dir.to_path_buf(),
                    file,
                });
            }
        }

        let config_path = dir.join(CONFIG_FILE);
        let config_text = read_text(&config_path)?;
        check_architecture(&config_path, &config_text)?;
        let config: candle_transformers::models::bert::Config = serde_json::from_str(&config_text)
            .map_err(|err| LocalModelError::InvalidFile {
                path: config_path.clone(),
                message: err.to_string(),
            })?;

        let pooling_path = dir.join(POOLING_FILE);
        let pooling_text = read_text(&pooling_path)?;
        let pooling = parse_pooling(&pooling_path, &pooling_text, config.hidden_size)?;

        let sentence_path = dir.join(SENTENCE_CONFIG_FILE);
        let sentence_text = match std::fs::read_to_string(&sentence_path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(LocalModelError::Read {
                    path: sentence_path,
                    source,
                })
            }
        };
        let max_seq_length = match &sentence_text {
            Some(text) => parse_max_seq_length(&sentence_path, text)?,
            None => DEFAULT_MAX_SEQ_LENGTH,
        }
        .min(config.max_position_embeddings);

        // The weights are hashed on every open: `sha256sum` reads the 90 MB of all-MiniLM-L6-v2
        // in about 0.2 s on a CPU with SHA instructions. A cache keyed by file size and
        // modification time would save that, but weights replaced by others of the same size
        // under a preserved time stamp (fine-tuned weights unpacked from an archive, say) would
        // then silently reuse the old vectors.
        let mut hasher = Sha256::new();
        for part in [&config_text, &pooling_text] {
            hash_part(&mut hasher, part.as_bytes());
        }
        hash_part(
            &mut hasher,
            sentence_text.as_deref().unwrap_or("").as_bytes(),
        );
        hash_file(&mut hasher, &dir.join(TOKENIZER_FILE))?;
        hash_file(&mut hasher, &dir.join(WEIGHTS_FILE))?;
        let digest = hasher.finalize();
        let fingerprint: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();

        Ok(ModelFiles {
            dir: dir.to_path_buf(),
            config,
            pooling,
            max_seq_length,
            fingerprint,
        })
    }

    /// Returns a short name for the model: the directory name, with its parent when the
    /// directory is called just `model` (as in pip wheels that carry a model).
    pub fn display_name(&self) -> String {
        let name = |path: &Path| {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let own = name(&self.dir);
        match self.dir.parent() {
            Some(parent) if own == "model" && !name(parent).is_empty() => {
                format!("{}/{own}", name(parent))
            }
            _ => own,
        }
    }
}

fn read_text(path: &Path) -> Result<String, LocalModelError> {
    std::fs::read_to_string(path).map_err(|source| LocalModelError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Accepts `model_type: "bert"` with BERT architectures only: candle's BERT reads those
/// weights, while RoBERTa, DistilBERT, MPNet and others have other layouts.
fn check_architecture(path: &Path, text: &str) -> Result<(), LocalModelError> {
    let config: ArchitectureConfig =
        serde_json::from_str(text).map_err(|err| LocalModelError::InvalidFile {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
    let type_ok = config.model_type.as_deref() == Some("bert");
    let architectures_ok = config
        .architectures
        .iter()
        .all(|name| name.starts_with("Bert"));
    if type_ok && architectures_ok {
        Ok(())
    } else {
        Err(LocalModelError::UnsupportedArchitecture {
            path: path.to_path_buf(),
            model_type: config.model_type.unwrap_or_else(|| "(missing)".to_string()),
            architectures: config.architectures,
        })
    }
}

fn parse_pooling(path: &Path, text: &str, hidden_size: usize) -> Result<Pooling, LocalModelError> {
    let config: PoolingConfig =
        serde_json::from_str(text).map_err(|err| LocalModelError::InvalidFile {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
    if let Some(dimension) = config.word_embedding_dimension {
        if dimension != hidden_size {
            return Err(LocalModelError::InvalidFile {
                path: path.to_path_buf(),
                message: format!(
                    "word_embedding_dimension is {dimension} but config.json has hidden_size {hidden_size}"
                ),
            });
        }
    }
    let selected: Vec<&str> = [
        (config.pooling_mode_mean_tokens, "pooling_mode_mean_tokens"),
        (config.pooling_mode_cls_token, "pooling_mode_cls_token"),
        (config.pooling_mode_max_tokens, "pooling_mode_max_tokens"),
        (
            config.pooling_mode_mean_sqrt_len_tokens,
            "pooling_mode_mean_sqrt_len_tokens",
        ),
        (
            config.pooling_mode_weightedmean_tokens,
            "pooling_mode_weightedmean_tokens",
        ),
        (config.pooling_mode_lasttoken, "pooling_mode_lasttoken"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| name)
    .collect();
    match selected.as_slice() {
        ["pooling_mode_mean_tokens"] => Ok(Pooling::Mean),
        ["pooling_mode_cls_token"] => Ok(Pooling::Cls),
        ["pooling_mode_max_tokens"] => Ok(Pooling::Max),
        _ => Err(LocalModelError::UnsupportedPooling {
            path: path.to_path_buf(),
            modes: if selected.is_empty() {
                "none".to_string()
            } else {
                selected.join(", ")
            },
        }),
    }
}

fn parse_max_seq_length(path: &Path, text: &str) -> Result<usize, LocalModelError> {
    let config: SentenceConfig =
        serde_json::from_str(text).map_err(|err| LocalModelError::InvalidFile {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
    match config.max_seq_length {
        None => Ok(DEFAULT_MAX_SEQ_LENGTH),
        Some(0) => Err(LocalModelError::InvalidFile {
            path: path.to_path_buf(),
            message: "max_seq_length is 0".to_string(),
        }),
        Some(length) => Ok(length),
    }
}

/// Hashes a length prefix before the bytes, so that moving bytes from one part to the next
/// changes the digest.
fn hash_part(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn hash_file(hasher: &mut Sha256, path: &Path) -> Result<(), LocalModelError> {
    let bytes = std::fs::read(path).map_err(|source| LocalModelError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    hash_part(hasher, &bytes);
    Ok(())
}
