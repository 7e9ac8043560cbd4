//! Tokenizing, running BERT and pooling, on the CPU. Everything here blocks, so the async
//! provider calls it from `tokio::task::spawn_blocking`.

use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::BertModel;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::files::{ModelFiles, Pooling, TOKENIZER_FILE, WEIGHTS_FILE};
use super::LocalModelError;

/// Texts per forward pass. Texts are sorted by token count before they are grouped, so a pass
/// pads little. A larger group gives the matrix products more rows to spread over the cores.
const SUB_BATCH: usize = 16;

/// The loaded tokenizer and weights.
pub struct Engine {
    tokenizer: Tokenizer,
    model: BertModel,
    pooling: Pooling,
    pad_id: u32,
}

impl Engine {
    /// Loads the tokenizer and the weights of a checked model directory.
    pub fn load(files: &ModelFiles) -> Result<Engine, LocalModelError> {
        let tokenizer_path = files.dir.join(TOKENIZER_FILE);
        let mut tokenizer =
            Tokenizer::from_file(&tokenizer_path).map_err(|err| LocalModelError::InvalidFile {
                path: tokenizer_path.clone(),
                message: err.to_string(),
            })?;
        // tokenizer.json often carries a fixed padding and a shorter truncation (all-MiniLM-L6-v2
        // has 128 for both). sentence-transformers replaces them with its max_seq_length and pads
        // per batch, and so does this.
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: files.max_seq_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|err| LocalModelError::InvalidFile {
                path: tokenizer_path.clone(),
                message: err.to_string(),
            })?;
        tokenizer.with_padding(None);

        let weights_path = files.dir.join(WEIGHTS_FILE);
        let bytes = std::fs::read(&weights_path).map_err(|source| LocalModelError::Read {
            path: weights_path.clone(),
            source,
        })?;
        let invalid_weights = |err: candle_core::Error| LocalModelError::InvalidFile {
            path: weights_path.clone(),
            message: err.to_string(),
        };
        let vars = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu)
            .map_err(invalid_weights)?;
        let model = BertModel::load(vars, &files.config).map_err(invalid_weights)?;

        Ok(Engine {
            tokenizer,
            model,
            pooling: files.pooling,
            pad_id: files.config.pad_token_id as u32,
        })
    }

    /// Embeds texts into L2-normalised vectors, in input order. Returns the vectors and the
    /// number of forward passes run.
    pub fn embed(&self, texts: &[String]) -> Result<(Vec<Vec<f32>>, u64), LocalModelError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|err| LocalModelError::Inference(format!("tokenization failed: {err}")))?;
        let token_ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();

        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| token_ids[i].len());

        let mut vectors = vec![Vec::new(); texts.len()];
        let mut passes = 0;
        for group in order.chunks(SUB_BATCH) {
            let rows: Vec<&[u32]> = group.iter().map(|&i| token_ids[i]).collect();
            let pooled = self.forward(&rows).map_err(inference_error)?;
            passes += 1;
            for (&i, vector) in group.iter().zip(pooled) {
                vectors[i] = vector;
            }
        }
        Ok((vectors, passes))
    }

    /// Runs one padded batch through the model and pools it.
    fn forward(&self, rows: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(rows.len() * width);
        let mut mask = Vec::with_capacity(rows.len() * width);
        for row in rows {
            ids.extend_from_slice(row);
            ids.extend(std::iter::repeat_n(self.pad_id, width - row.len()));
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            mask.extend(std::iter::repeat_n(0u32, width - row.len()));
        }
        let shape = (rows.len(), width);
        let ids = Tensor::from_vec(ids, shape, &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, shape, &Device::Cpu)?;
        let token_types = ids.zeros_like()?;

        // (batch, tokens, hidden)
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;
        let pooled = pool(&hidden, &mask, self.pooling)?;
        // Clamped like torch.nn.functional.normalize, so an all-zero vector stays zero.
        let norm = pooled
            .sqr()?
            .sum_keepdim(1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        pooled.broadcast_div(&norm)?.to_vec2::<f32>()
    }
}

/// Pools token vectors as sentence-transformers' `Pooling` module does.
fn pool(hidden: &Tensor, mask: &Tensor, pooling: Pooling) -> candle_core::Result<Tensor> {
    // (batch, tokens, 1), 1.0 for real tokens and 0.0 for padding.
    let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    match pooling {
        Pooling::Cls => hidden.i((.., 0)),
        Pooling::Mean => {
            let sum = hidden.broadcast_mul(&weights)?.sum(1)?;
            let count = weights.sum(1)?.clamp(1e-9f32, f32::MAX)?;
            sum.broadcast_div(&count)
        }
        Pooling::Max => {
            // Padding tokens get -1e9 added so they never win the maximum (sentence-transformers
            // sets them to -1e9).
            let padding = ((weights.ones_like()? - &weights)? * -1e9)?;
            hidden.broadcast_add(&padding)?.max(1)
        }
    }
}

fn inference_error(err: candle_core::Error) -> LocalModelError {
    LocalModelError::Inference(err.to_string())
}
