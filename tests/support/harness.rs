//! Runs the built `crm-vec` binary in a sealed environment: an empty temporary HOME and data
//! directory, no inherited configuration, no colour, no progress bars, a fixed width.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use crm_vec::index::server::{QdrantSettings, ServerStore};
use crm_vec::secret::Secret;
use serde_json::Value;

use super::embed::EmbedStandIn;
use super::odoo::{OdooStandIn, StandInConfig};

static NEXT_SANDBOX: AtomicU64 = AtomicU64::new(0);

/// A temporary working directory with its own data directory and environment.
pub struct Sandbox {
    pub dir: PathBuf,
    env: Vec<(String, String)>,
    /// The collection [`Sandbox::use_backend_from_env`] picked on a Qdrant server.
    server_collection: Option<ServerCollection>,
}

/// A collection name on a Qdrant server that belongs to one sandbox.
struct ServerCollection {
    settings: QdrantSettings,
    name: String,
}

impl ServerCollection {
    /// Deletes the alias, the lead collections and the state collection that crm-vec made
    /// under this name, and reports a failure on stderr.
    fn delete(self) {
        let ServerCollection { settings, name } = self;
        let store = match ServerStore::open(settings, &name) {
            Ok(store) => store,
            Err(err) => return report_cleanup_failure(&name, &err.to_string()),
        };
        // Drop may run inside a test's runtime, which cannot block on another future.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| err.to_string())?;
            runtime
                .block_on(store.delete_everything())
                .map_err(|err| err.to_string())
        });
        match cleanup.join() {
            Ok(Ok(())) => {}
            Ok(Err(message)) => report_cleanup_failure(&name, &message),
            Err(_) => report_cleanup_failure(&name, "the cleanup thread panicked"),
        }
    }
}

/// Writes straight to stderr, past libtest's capture, because a passing test would hide it.
fn report_cleanup_failure(collection: &str, message: &str) {
    let line = format!(
        "warning: failed to delete the Qdrant collections of test collection {collection}: \
         {message}\n"
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// What one run of the binary printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not JSON ({err}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Everything the run printed, for secret checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let n = NEXT_SANDBOX.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "crm-vec-test-{}-{}-{n}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(dir.join("home")).expect("create sandbox");
        let env = vec![
            ("HOME".to_string(), dir.join("home").display().to_string()),
            (
                "CRM_VEC_DATA_DIR".to_string(),
                dir.join("data").display().to_string(),
            ),
            ("NO_COLOR".to_string(), "1".to_string()),
            ("COLUMNS".to_string(), "120".to_string()),
        ];
        Sandbox {
            dir,
            env,
            server_collection: None,
        }
    }

    /// A sandbox already pointed at an Odoo stand-in with its password.
    pub fn for_odoo(odoo: &OdooStandIn) -> Sandbox {
        let mut sandbox = Sandbox::new();
        sandbox.use_odoo(odoo, &odoo.config().password);
        sandbox
    }

    /// A sandbox on the index backend under test: a Qdrant server when the test process has
    /// `QDRANT_URL`, with a collection of its own, else the embedded index.
    pub fn on_backend() -> Sandbox {
        let mut sandbox = Sandbox::new();
        sandbox.use_backend_from_env();
        sandbox
    }

    /// [`Sandbox::for_odoo`] on the index backend under test.
    pub fn for_odoo_on_backend(odoo: &OdooStandIn) -> Sandbox {
        let mut sandbox = Sandbox::for_odoo(odoo);
        sandbox.use_backend_from_env();
        sandbox
    }

    /// Passes `QDRANT_URL` and `QDRANT_API_KEY` through and picks a collection name no other
    /// sandbox uses, so that runs against a shared server do not meet. Dropping the sandbox
    /// deletes what crm-vec created on the server under that name.
    pub fn use_backend_from_env(&mut self) {
        let Ok(url) = std::env::var("QDRANT_URL") else {
            return;
        };
        self.set("QDRANT_URL", &url);
        let api_key = std::env::var("QDRANT_API_KEY").ok();
        if let Some(key) = &api_key {
            self.set("QDRANT_API_KEY", key);
        }
        let n = NEXT_SANDBOX.fetch_add(1, Ordering::SeqCst);
        let collection = format!("crm_vec_test_{}_{n}", std::process::id());
        self.set("COLLECTION", &collection);
        self.server_collection = Some(ServerCollection {
            settings: QdrantSettings::new(url, api_key.map(Secret::new)),
            name: collection,
        });
    }

    /// Returns the collection name [`Sandbox::use_backend_from_env`] picked, if it picked one.
    pub fn server_collection(&self) -> Option<&str> {
        self.server_collection
            .as_ref()
            .map(|collection| collection.name.as_str())
    }

    /// `"qdrant"` when tests run against a server, else `"embedded"`.
    pub fn expected_backend() -> &'static str {
        if std::env::var_os("QDRANT_URL").is_some() {
            "qdrant"
        } else {
            "embedded"
        }
    }

    /// Points the sandbox at an Odoo stand-in, logging in with `password` (or an API key).
    pub fn use_odoo(&mut self, odoo: &OdooStandIn, password: &str) {
        let config: StandInConfig = odoo.config();
        self.set("ODOO_URL", &odoo.url());
        self.set("ODOO_DB", &config.database);
        self.set("ODOO_USERNAME", &config.login);
        self.set("ODOO_PASSWORD", password);
    }

    /// Points the sandbox at the Voyage half of an embedding stand-in.
    pub fn use_voyage(&mut self, embed: &EmbedStandIn, api_key: &str) {
        self.set("VOYAGE_API_KEY", api_key);
        self.set("VOYAGE_BASE_URL", &embed.voyage_base_url());
        self.set("VOYAGE_DIMENSION", "256");
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.env.retain(|(key, _)| key != name);
        self.env.push((name.to_string(), value.to_string()));
    }

    pub fn unset(&mut self, name: &str) {
        self.env.retain(|(key, _)| key != name);
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Writes a `.env` file into the working directory.
    pub fn write_dotenv(&self, text: &str) {
        std::fs::write(self.dir.join(".env"), text).expect("write .env");
    }

    /// The command, ready to run, for tests that need to hold the process.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run crm-vec");
        to_run(output)
    }

    /// Runs the binary, expects exit 0 and returns its JSON output.
    pub fn json(&self, args: &[&str]) -> Value {
        let run = self.run(args);
        assert_eq!(
            run.code,
            0,
            "crm-vec {args:?} failed:\n{}",
            run.all_output()
        );
        run.json()
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(collection) = self.server_collection.take() {
            collection.delete();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn to_run(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The binary under test, built by cargo for integration tests.
pub fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_crm-vec"))
}

/// Ids of the hits of a `search --json` answer, in order.
pub fn hit_ids(search: &Value) -> Vec<u64> {
    search["hits"]
        .as_array()
        .map(|hits| hits.iter().filter_map(|hit| hit["id"].as_u64()).collect())
        .unwrap_or_default()
}
