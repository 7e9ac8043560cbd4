//! Benchmarks crm-vec against the Odoo and embedding stand-ins, with a sequential baseline in the
//! same run. Figures and method: BENCHMARKS.md.
//!
//! ```text
//! CARGO_TARGET_DIR=target-bench cargo build --release --bins --examples
//! target-bench/release/examples/bench --scenario all --leads 6000,100000 --baseline-sample 200,1000
//! ```
//!
//! crm-vec runs as the release binary next to this example's directory (`<target>/release/
//! crm-vec`), one child process per command, so wall time and peak RSS are those of the real
//! command. Peak RSS is the kernel's `ru_maxrss` of that child, read by a small helper process
//! that spawns it (see `measure_child`).

#[path = "../tests/support/embed.rs"]
#[allow(dead_code)]
mod embed;
#[path = "../tests/support/odoo.rs"]
#[allow(dead_code)]
mod odoo;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use clap::Parser as _;
use embed::{EmbedConfig, EmbedStandIn};
use odoo::{OdooStandIn, StandInConfig};
use serde_json::{json, Map, Value};

use crm_vec::index::embedded::EmbeddedStore;
use crm_vec::index::{IndexStore, Point, SearchFilter, VectorIndex};

const USAGE: &str = "\
Usage: bench [--scenario LIST] [--leads LIST] [--runs N] [--baseline-sample LIST] [--seed N]
             [--rpm N] [--rpm-limit N] [--settle-delay DURATION] [--bin PATH]

Scenarios (comma-separated, or all): rebuild, unchanged, sync-new, webhook, search, rpm.
  rebuild    full-rebuild wall time, leads/s, peak RSS; its stages alone; sequential baseline
  unchanged  full-rebuild again on unchanged data: wall time and embedding requests
  sync-new   sync-new with 1% of the leads changed
  webhook    crm-vec serve: answer latency of 200 concurrent senders, time to searchable
  search     crm-vec search, sparse only and hybrid, as a process and in-process
  rpm        one full-rebuild with the embedding stand-in limited to --rpm-limit requests/min

Options:
  --leads LIST            dataset sizes, comma-separated (default 6000,100000)
  --runs N                runs per figure at up to 10,000 leads; one run above (default 3)
  --baseline-sample LIST  leads the sequential baseline syncs, then extrapolated; one value per
                          --leads size, or one value for all (default 200 up to 10,000 leads,
                          1000 above)
  --seed N                dataset seed (default 42)
  --rpm N                 embedding stand-in limit of requests per minute in every scenario
                          (default none)
  --rpm-limit N           the limit of requests per minute in the rpm scenario (default 2000)
  --settle-delay D        serve's settle delay in the webhook scenario (default 2s)
  --webhook-leads N       dataset size of the webhook scenario (default 6000)
  --bounds on|off         off skips the stages-alone replay and the baseline (default on)
  --bin PATH              crm-vec binary (default: <target>/release/crm-vec)";

const ODOO_LATENCY: Duration = Duration::from_millis(30);
const ODOO_LATENCY_PER_RECORD: Duration = Duration::from_micros(50);
const EMBED_LATENCY: Duration = Duration::from_millis(200);
const EMBED_LATENCY_PER_TOKEN: Duration = Duration::from_micros(20);
const DIMENSION: usize = 256;
/// The pipeline's embedding concurrency (`DEFAULT_EMBED_CONCURRENCY`), used for its lower bound.
const EMBED_CONCURRENCY: usize = crm_vec::sync::DEFAULT_EMBED_CONCURRENCY;
const COLLECTION: &str = "odoo_crm_leads";
const WEBHOOK_SECRET: &str = "bench-webhook-secret";
const SENDERS: usize = 200;
const POSTS_PER_SENDER: usize = 5;
const SEARCHABLE_LEADS: usize = 20;

const QUERIES: &[&str] = &[
    "office furniture for a training room",
    "quote for chairs and desks",
    "interested in your services",
    "need a design consultation",
    "customer asked for a discount",
    "delivery date of the order",
    "meeting next week about the proposal",
    "renovation of the open space",
    "price list for large companies",
    "follow up after the trade show",
];

struct Options {
    scenarios: Vec<String>,
    leads: Vec<usize>,
    runs: usize,
    /// Sample sizes of the sequential baseline, one per entry of `leads` or one for all; empty
    /// for the default.
    baseline_samples: Vec<usize>,
    seed: u64,
    rpm: Option<u32>,
    rpm_limit: u32,
    settle_delay: String,
    webhook_leads: usize,
    /// Whether rebuilds are followed by their stages alone and the sequential baseline.
    bounds: bool,
    bin: PathBuf,
}

fn parse_options() -> Result<Options, String> {
    let default_bin = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("crm-vec")))
        .unwrap_or_else(|| PathBuf::from("crm-vec"));
    let mut options = Options {
        scenarios: vec!["all".into()],
        leads: vec![6_000, 100_000],
        runs: 3,
        baseline_samples: Vec::new(),
        seed: 42,
        rpm: None,
        rpm_limit: 2_000,
        settle_delay: "2s".into(),
        webhook_leads: 6_000,
        bounds: true,
        bin: default_bin,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("missing value for {arg}"))?;
        let number = |what: &str| -> Result<usize, String> {
            value
                .replace('_', "")
                .parse()
                .map_err(|_| format!("invalid {what} {value:?}: expected a whole number"))
        };
        match arg.as_str() {
            "--scenario" => options.scenarios = value.split(',').map(str::to_string).collect(),
            "--leads" => {
                options.leads = value
                    .split(',')
                    .map(|n| n.replace('_', "").parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| format!("invalid --leads {value:?}: expected e.g. 6000,100000"))?
            }
            "--runs" => options.runs = number("--runs")?.max(1),
            "--baseline-sample" => {
                options.baseline_samples = value
                    .split(',')
                    .map(|n| n.replace('_', "").parse::<usize>().map(|n| n.max(1)))
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        format!("invalid --baseline-sample {value:?}: expected e.g. 200,1000")
                    })?
            }
            "--seed" => options.seed = number("--seed")? as u64,
            "--rpm" => options.rpm = Some(number("--rpm")? as u32),
            "--rpm-limit" => options.rpm_limit = number("--rpm-limit")?.max(1) as u32,
            "--settle-delay" => options.settle_delay = value,
            "--webhook-leads" => options.webhook_leads = number("--webhook-leads")?,
            "--bin" => options.bin = PathBuf::from(value),
            "--bounds" => {
                options.bounds = match value.as_str() {
                    "on" => true,
                    "off" => false,
                    _ => return Err(format!("invalid --bounds {value:?}: expected on or off")),
                }
            }
            _ => return Err(format!("unknown option {arg:?}\n\n{USAGE}")),
        }
    }
    let sizes = options.baseline_samples.len();
    if sizes > 1 && sizes != options.leads.len() {
        return Err(format!(
            "invalid --baseline-sample: {sizes} values for {} --leads sizes; give one value, or \
             one per size",
            options.leads.len()
        ));
    }
    Ok(options)
}

impl Options {
    fn wants(&self, scenario: &str) -> bool {
        self.scenarios.iter().any(|s| s == "all" || s == scenario)
    }

    fn runs_for(&self, leads: usize) -> usize {
        if leads > 10_000 {
            1
        } else {
            self.runs
        }
    }

    /// Picks the sequential baseline's sample size for a dataset of `leads`, at most `leads`.
    fn baseline_sample_for(&self, leads: usize) -> usize {
        let position = self.leads.iter().position(|&size| size == leads);
        let sample = match self.baseline_samples.as_slice() {
            [] if leads > 10_000 => 1_000,
            [] => 200,
            [one] => *one,
            samples => position.map_or(samples[0], |at| samples[at]),
        };
        sample.min(leads)
    }
}

// ---------------------------------------------------------------------------------------------
// Dataset

/// SplitMix64: a tiny deterministic generator, so that a seed gives the same dataset anywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn data_file(name: &str) -> Vec<Map<String, Value>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/odoo-demo")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("could not read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid: {e}", path.display()))
}

/// `2026-03-01 00:00:00` plus `seconds`, as Odoo writes datetimes (stays within March).
fn march_datetime(seconds: u64) -> String {
    let day = 1 + seconds / 86_400;
    let rest = seconds % 86_400;
    format!(
        "2026-03-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Generates `count` leads from the demo vocabulary: each takes its fields from randomly chosen
/// demo leads and a description of two to four paragraphs of demo chatter bodies.
fn generate_leads(count: usize, seed: u64) -> Vec<Map<String, Value>> {
    let demo = data_file("crm_lead.json");
    let bodies: Vec<String> = data_file("mail_message.json")
        .iter()
        .filter_map(|m| m.get("body").and_then(Value::as_str).map(str::to_string))
        .collect();
    let names: Vec<&str> = demo.iter().filter_map(|l| l["name"].as_str()).collect();
    let mut tags: Vec<u64> = demo
        .iter()
        .flat_map(|l| l["tag_ids"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t.as_u64())
        .collect();
    tags.sort_unstable();
    tags.dedup();
    let seconds_apart = (23 * 86_400 / count.max(1) as u64).max(1);
    let mut rng = Rng(seed);
    (1..=count as u64)
        .map(|id| {
            let mut lead = rng.pick(&demo).clone();
            for field in [
                "partner_name",
                "contact_name",
                "email_from",
                "city",
                "country_id",
            ] {
                lead.insert(field.into(), rng.pick(&demo)[field].clone());
            }
            for field in ["stage_id", "user_id", "team_id", "type", "priority"] {
                lead.insert(field.into(), rng.pick(&demo)[field].clone());
            }
            let name = format!("{} {}", rng.pick(&names), rng.pick(&names));
            let lead_tags: Vec<u64> = (0..1 + rng.below(3)).map(|_| *rng.pick(&tags)).collect();
            let paragraphs = 2 + rng.below(3);
            let mut description = String::new();
            for _ in 0..paragraphs {
                description.push_str(rng.pick(&bodies).as_str());
                description.push('\n');
            }
            description.push_str(&format!(
                "<p>Budget about {} EUR; decision expected in week {}.</p>",
                1_000 * (1 + rng.below(200)),
                1 + rng.below(52)
            ));
            let written = march_datetime(id * seconds_apart);
            lead.insert("id".into(), json!(id));
            lead.insert("name".into(), json!(name));
            lead.insert("active".into(), json!(true));
            lead.insert("tag_ids".into(), json!(lead_tags));
            lead.insert("description".into(), json!(description));
            lead.insert(
                "expected_revenue".into(),
                json!((rng.below(500) * 1_000) as f64),
            );
            lead.insert("probability".into(), json!(rng.below(100) as f64));
            lead.insert("create_date".into(), json!(written.clone()));
            lead.insert("write_date".into(), json!(written));
            lead
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Processes

struct Measured {
    wall: Duration,
    /// The child's peak resident set in KiB: `ru_maxrss` from `wait4` in the measuring helper.
    max_rss_kib: u64,
    /// The helper's own peak resident set when it spawned the child, in KiB. `max_rss_kib` is
    /// never below it, so a figure this low is the helper's, not crm-vec's.
    helper_rss_kib: u64,
    stdout: String,
    stderr: String,
    code: i32,
}

impl Measured {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or(Value::Null)
    }
}

/// The environment of one crm-vec process against the stand-ins.
#[derive(Clone)]
struct Env {
    bin: PathBuf,
    vars: Vec<(String, String)>,
}

impl Env {
    fn new(bin: &Path, odoo: &OdooStandIn, embed: &EmbedStandIn, data_dir: &Path) -> Env {
        let vars = [
            ("ODOO_URL", odoo.url()),
            ("ODOO_DB", "crm".into()),
            ("ODOO_USERNAME", "admin".into()),
            ("ODOO_PASSWORD", "admin-password".into()),
            ("VOYAGE_API_KEY", "test-voyage-key-xyz".into()),
            ("VOYAGE_BASE_URL", embed.voyage_base_url()),
            ("VOYAGE_DIMENSION", DIMENSION.to_string()),
            ("CRM_VEC_DATA_DIR", data_dir.display().to_string()),
            ("WEBHOOK_SECRET", WEBHOOK_SECRET.into()),
            ("CRM_VEC_LOCK_TIMEOUT", "30".into()),
        ];
        Env {
            bin: bin.to_path_buf(),
            vars: vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }

    fn with(&self, name: &str, value: &str) -> Env {
        let mut env = self.clone();
        env.vars.retain(|(k, _)| k != name);
        env.vars.push((name.into(), value.into()));
        env
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn command(&self, args: &[&str]) -> Command {
        self.seal(Command::new(&self.bin), args)
    }

    /// Builds the command that runs crm-vec under the measuring helper, which writes the child's
    /// peak RSS to `report`.
    fn measured_command(&self, args: &[&str], report: &Path) -> Command {
        let helper = std::env::current_exe().expect("the path of the bench binary");
        let mut command = Command::new(helper);
        command.arg(MEASURE_CHILD).arg(report).arg(&self.bin);
        self.seal(command, args)
    }

    fn seal(&self, mut command: Command, args: &[&str]) -> Command {
        // A sealed environment: nothing from the caller's shell or a .env file leaks in.
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .env("RUST_LOG", "warn")
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .current_dir(std::env::temp_dir())
            .args(["--no-progress", "--color", "never"])
            .args(args);
        command
    }

    /// Runs crm-vec to completion and measures its wall time and peak RSS. The wall time
    /// includes the start and exit of the measuring helper.
    fn run(&self, args: &[&str]) -> Measured {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let report = std::env::temp_dir().join(format!(
            "crm-vec-bench-{}-rss-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::SeqCst)
        ));
        let started = Instant::now();
        let mut child = self
            .measured_command(args, &report)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", self.bin.display()));
        let mut out = child.stdout.take().expect("stdout is piped");
        let mut err = child.stderr.take().expect("stderr is piped");
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            text
        });
        let err = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        });
        let (code, _rusage) = wait4(child.id());
        let wall = started.elapsed();
        // The child is reaped by wait4; dropping the handle does not wait again.
        drop(child);

        let figures: Vec<u64> = std::fs::read_to_string(&report)
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let _ = std::fs::remove_file(&report);
        Measured {
            wall,
            max_rss_kib: figures.first().copied().unwrap_or(0),
            helper_rss_kib: figures.get(1).copied().unwrap_or(0),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
            code,
        }
    }

    fn run_ok(&self, args: &[&str]) -> Measured {
        let measured = self.run(args);
        if measured.code != 0 {
            panic!(
                "crm-vec {} exited with {}:\n{}",
                args.join(" "),
                measured.code,
                measured.stderr
            );
        }
        measured
    }
}

/// First argument that makes the bench binary the measuring helper of one crm-vec process.
const MEASURE_CHILD: &str = "--measure-child";

/// Runs `bench --measure-child REPORT BIN ARGS...`: spawns `BIN ARGS...` with this process's
/// environment and output, writes the child's `ru_maxrss` and this helper's own VmHWM (KiB) to
/// REPORT, and exits with the child's exit code.
///
/// On Linux `ru_maxrss` of a child includes the high-water mark of the process that spawned it,
/// because exec folds the old address space's mark into it (`exec_mmap` in the kernel's
/// fs/exec.c). Spawned from the harness, which contains the dataset and the request logs, every
/// figure would be the harness's. Spawned from this helper, it is crm-vec's own peak unless that
/// is below the helper's own (7 MiB in a smoke run on Linux x86-64). Polling the child's VmHWM
/// instead misses processes that exit within a few milliseconds on a loaded machine.
fn measure_child(args: &[String]) -> ! {
    let [report, bin, rest @ ..] = args else {
        eprintln!("bench: usage: bench {MEASURE_CHILD} REPORT BIN [ARGS...]");
        std::process::exit(2);
    };
    let helper_kib = vm_hwm_kib(std::process::id()).unwrap_or(0);
    let child = Command::new(bin).args(rest).spawn().unwrap_or_else(|e| {
        eprintln!("bench: could not start {bin}: {e}");
        std::process::exit(127);
    });
    let (code, rusage) = wait4(child.id());
    // Linux reports ru_maxrss in KiB.
    let figures = format!("{} {helper_kib}", rusage.ru_maxrss);
    if let Err(e) = std::fs::write(report, figures) {
        eprintln!("bench: could not write the peak RSS to {report}: {e}");
    }
    std::process::exit(code);
}

/// Waits for `pid` and returns its exit code and resource usage (the OS's own accounting).
fn wait4(pid: u32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; pid is our own child.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut rusage) };
    assert_eq!(
        waited,
        pid as libc::pid_t,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    // A child killed by a signal gets 128 + the signal number, as shells report it.
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        -1
    };
    (code, rusage)
}

/// Peak RSS of a running process from /proc/PID/status (VmHWM), in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn du_bytes(dir: &Path) -> u64 {
    let output = Command::new("du")
        .args(["-sb"])
        .arg(dir)
        .output()
        .expect("run du");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("crm-vec-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics and report

fn median(values: &[f64]) -> f64 {
    percentile(values, 50.0)
}

/// Nearest-rank percentile.
fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn list(values: &[f64], digits: usize) -> String {
    values
        .iter()
        .map(|v| format!("{v:.digits$}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every figure, keyed by scenario and size, printed as JSON at the end.
#[derive(Default)]
struct Report(BTreeMap<String, Value>);

impl Report {
    fn add(&mut self, key: &str, value: Value) {
        println!(
            "\n## {key}\n{}",
            serde_json::to_string_pretty(&value).unwrap()
        );
        self.0.insert(key.into(), value);
    }
}

// ---------------------------------------------------------------------------------------------
// Stand-ins

fn start_odoo(leads: Vec<Map<String, Value>>) -> OdooStandIn {
    OdooStandIn::start_with_leads(
        StandInConfig {
            latency: ODOO_LATENCY,
            latency_per_record: ODOO_LATENCY_PER_RECORD,
            ..StandInConfig::default()
        },
        leads,
    )
}

fn start_embed(rpm: Option<u32>) -> EmbedStandIn {
    EmbedStandIn::start(EmbedConfig {
        latency: EMBED_LATENCY,
        latency_per_token: EMBED_LATENCY_PER_TOKEN,
        requests_per_minute: rpm,
        ..EmbedConfig::default()
    })
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("build an HTTP client")
}

/// Sends the Odoo requests of a run again, one after the other as the page reader does.
fn replay_odoo(odoo: &OdooStandIn, requests: &[odoo::RecordedRequest]) -> Duration {
    let http = client();
    let started = Instant::now();
    for request in requests {
        let mut builder = http
            .post(format!("{}{}", odoo.url(), request.path))
            .body(request.body.clone());
        for name in ["Content-Type", "Authorization", "Cookie"] {
            if let Some(value) = request.header(name) {
                builder = builder.header(name, value);
            }
        }
        let answer = builder.send().expect("replay an Odoo request");
        let _ = answer.bytes();
    }
    started.elapsed()
}

/// Sends the embedding requests of a run again, `concurrency` at a time.
fn replay_embed(
    embed: &EmbedStandIn,
    requests: &[embed::EmbedRequest],
    concurrency: usize,
) -> Duration {
    let requests: Vec<(String, String, Option<String>)> = requests
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| {
            (
                r.path.clone(),
                r.body.clone(),
                r.header("Authorization").map(str::to_string),
            )
        })
        .collect();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..concurrency {
            scope.spawn(|| {
                let http = client();
                loop {
                    let at = next.fetch_add(1, Ordering::SeqCst);
                    let Some((path, body, auth)) = requests.get(at) else {
                        return;
                    };
                    let mut builder = http
                        .post(format!("{}{}", embed.url(), path))
                        .header("Content-Type", "application/json")
                        .body(body.clone());
                    if let Some(auth) = auth {
                        builder = builder.header("Authorization", auth);
                    }
                    let answer = builder.send().expect("replay an embedding request");
                    assert!(answer.status().is_success(), "replayed request failed");
                    let _ = answer.bytes();
                }
            });
        }
    });
    started.elapsed()
}

// ---------------------------------------------------------------------------------------------
// Sequential baseline

fn invocation(env: &Env) -> crm_vec::commands::Invocation {
    let mut layers = crm_vec::settings::Layers::default();
    for (name, value) in &env.vars {
        layers.env.insert(name.clone(), value.clone());
    }
    let settings = crm_vec::settings::Settings::resolve(&layers).expect("valid bench settings");
    let cli = crm_vec::cli::Cli::try_parse_from(["crm-vec", "--quiet", "status"])
        .expect("parse a command line");
    crm_vec::commands::Invocation {
        settings,
        output: crm_vec::output::Output::new(&cli.global),
    }
}

/// The shape of a naive sync, per lead: read it, read its chatter, embed its text, upsert its
/// point. It builds documents with crm-vec's own code and writes to the same embedded index
/// engine, so the difference to a rebuild is the pipeline alone. Returns the time per lead.
fn sequential_baseline(env: &Env, ids: &[u64]) -> Duration {
    let runtime = tokio::runtime::Runtime::new().expect("start a runtime");
    runtime.block_on(async {
        let invocation = invocation(env);
        let provider = invocation
            .provider()
            .expect("provider settings")
            .expect("a provider");
        let data_dir = PathBuf::from(env.value("CRM_VEC_DATA_DIR").unwrap());
        let store =
            EmbeddedStore::open(&data_dir, COLLECTION, Duration::ZERO).expect("open the index");
        let odoo = invocation.connect_odoo().await.expect("connect to Odoo");
        let bm25 = crm_vec::embed::Bm25::new();
        let layout = crm_vec::sync::layout_for(Some(&provider), Some(DIMENSION));
        let index = store
            .create_staging(layout)
            .await
            .expect("create a collection");
        let fields: Vec<String> = odoo
            .fields_for("crm.lead", crm_vec::sync::document::LEAD_FIELDS)
            .await
            .expect("lead fields");
        // Tag names once, as a script would; the rest is read per lead.
        let mut lookups = crm_vec::sync::Lookups::default();
        let tags = odoo
            .search_read(
                "crm.tag",
                json!([]),
                &["id".into(), "name".into()],
                None,
                None,
                0,
            )
            .await
            .expect("tags");
        for tag in tags {
            if let (Some(id), Some(name)) = (tag["id"].as_u64(), tag["name"].as_str()) {
                lookups.tags.insert(id, name.to_string());
            }
        }
        let model = provider.model().to_string();
        let started = Instant::now();
        for id in ids {
            let records = odoo.read("crm.lead", &[*id], &fields).await.expect("read");
            let messages = crm_vec::sync::messages::fetch_messages(
                &odoo,
                &[*id],
                crm_vec::sync::messages::DEFAULT_MESSAGES_PER_LEAD,
            )
            .await
            .expect("messages");
            let lead_messages = messages.get(id).cloned().unwrap_or_default();
            let doc = crm_vec::sync::build_document(&records[0], &lookups, &lead_messages, &model)
                .expect("a document");
            let vector = provider
                .embed(
                    std::slice::from_ref(&doc.text),
                    crm_vec::embed::InputType::Document,
                )
                .await
                .expect("embed")
                .pop();
            index
                .upsert(vec![Point {
                    id: doc.id,
                    dense: vector,
                    sparse: bm25.embed_document(&doc.keyword_text()),
                    payload: doc.payload,
                }])
                .await
                .expect("upsert");
        }
        started.elapsed() / ids.len() as u32
    })
}

// ---------------------------------------------------------------------------------------------
// Scenarios

struct Stand {
    odoo: OdooStandIn,
    embed: EmbedStandIn,
    leads: usize,
}

impl Stand {
    fn start(leads: usize, options: &Options) -> Stand {
        let generated = Instant::now();
        let data = generate_leads(leads, options.seed);
        let odoo = start_odoo(data);
        println!(
            "# {leads} leads generated and served in {:.1}s",
            secs(generated.elapsed())
        );
        Stand {
            odoo,
            embed: start_embed(options.rpm),
            leads,
        }
    }

    fn env(&self, options: &Options, data_dir: &Path) -> Env {
        Env::new(&options.bin, &self.odoo, &self.embed, data_dir)
    }

    fn clear(&self) {
        self.odoo.clear_requests();
        self.embed.reset_counters();
    }
}

fn summary_count(measured: &Measured, key: &str) -> u64 {
    measured.json()[key].as_u64().unwrap_or(0)
}

/// Scenario 1: full rebuilds into a fresh data dir, each followed by its stages alone; then the
/// sequential baseline on a sample. Returns the data dir of the last run, with its index.
fn rebuild(stand: &Stand, options: &Options, report: &mut Report) -> TempDir {
    let runs = options.runs_for(stand.leads);
    let (mut walls, mut rss, mut odoo_alone, mut embed_alone, mut ratios) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut requests = (0, 0);
    let mut dir = TempDir::new(&format!("rebuild-{}", stand.leads));
    for run in 0..runs {
        dir = TempDir::new(&format!("rebuild-{}-{run}", stand.leads));
        let env = stand.env(options, &dir.0);
        stand.clear();
        let measured = env.run_ok(&["full-rebuild", "--json"]);
        assert_eq!(
            summary_count(&measured, "upserted"),
            stand.leads as u64,
            "every lead is indexed: {}",
            measured.stdout
        );
        let odoo_requests = stand.odoo.requests();
        let embed_requests = stand.embed.requests();
        requests = (odoo_requests.len(), embed_requests.len());
        stand.clear();
        if !options.bounds {
            println!(
                "run {}: rebuild {:.2}s, peak RSS {:.1} MiB",
                run + 1,
                secs(measured.wall),
                mib(measured.max_rss_kib)
            );
            walls.push(secs(measured.wall));
            rss.push(mib(measured.max_rss_kib));
            continue;
        }
        let odoo_stage = replay_odoo(&stand.odoo, &odoo_requests);
        drop(odoo_requests);
        let embed_stage = replay_embed(&stand.embed, &embed_requests, EMBED_CONCURRENCY);
        drop(embed_requests);
        let bound = odoo_stage.max(embed_stage);
        println!(
            "run {}: rebuild {:.2}s, Odoo alone {:.2}s, embedding alone {:.2}s, peak RSS {:.1} MiB",
            run + 1,
            secs(measured.wall),
            secs(odoo_stage),
            secs(embed_stage),
            mib(measured.max_rss_kib)
        );
        walls.push(secs(measured.wall));
        rss.push(mib(measured.max_rss_kib));
        odoo_alone.push(secs(odoo_stage));
        embed_alone.push(secs(embed_stage));
        ratios.push(secs(measured.wall) / secs(bound));
    }
    stand.clear();

    let sample = if options.bounds {
        options.baseline_sample_for(stand.leads)
    } else {
        0
    };
    let per_lead = match stand.leads.checked_div(sample) {
        Some(step) => {
            let ids: Vec<u64> = (0..sample).map(|i| (i * step + 1) as u64).collect();
            let baseline_dir = TempDir::new(&format!("baseline-{}", stand.leads));
            sequential_baseline(&stand.env(options, &baseline_dir.0), &ids)
        }
        None => Duration::ZERO,
    };
    let baseline_total = secs(per_lead) * stand.leads as f64;
    stand.clear();

    let wall = median(&walls);
    report.add(
        &format!("full-rebuild {} leads", stand.leads),
        json!({
            "runs": runs,
            "wall_s": list(&walls, 2),
            "wall_s_median": wall,
            "leads_per_s_median": stand.leads as f64 / wall,
            "peak_rss_mib": list(&rss, 1),
            "peak_rss_mib_median": median(&rss),
            "odoo_requests": requests.0,
            "embedding_requests": requests.1,
            "odoo_stage_alone_s": list(&odoo_alone, 2),
            "embedding_stage_alone_s": list(&embed_alone, 2),
            "ratio_to_slowest_stage": list(&ratios, 3),
            "ratio_to_slowest_stage_median": median(&ratios),
            "baseline_sample_leads": sample,
            "baseline_ms_per_lead": ms(per_lead),
            "baseline_extrapolated_s": baseline_total,
            "speedup_vs_baseline": baseline_total / wall,
        }),
    );
    dir
}

/// Scenario 2: full-rebuild again on unchanged data.
fn unchanged(stand: &Stand, options: &Options, dir: &TempDir, report: &mut Report) {
    let env = stand.env(options, &dir.0);
    let (mut walls, mut rss, mut embeds, mut embedded) = (vec![], vec![], vec![], vec![]);
    for _ in 0..options.runs_for(stand.leads) {
        stand.clear();
        let measured = env.run_ok(&["full-rebuild", "--json"]);
        walls.push(secs(measured.wall));
        rss.push(mib(measured.max_rss_kib));
        embeds.push(stand.embed.request_count() as f64);
        embedded.push(summary_count(&measured, "embedded") as f64);
    }
    stand.clear();
    report.add(
        &format!("full-rebuild unchanged {} leads", stand.leads),
        json!({
            "wall_s": list(&walls, 2),
            "wall_s_median": median(&walls),
            "peak_rss_mib_median": median(&rss),
            "embedding_requests": list(&embeds, 0),
            "texts_embedded": list(&embedded, 0),
        }),
    );
}

/// Scenario 3: sync-new after 1% of the leads changed their description.
fn sync_new(stand: &Stand, options: &Options, dir: &TempDir, report: &mut Report) {
    let env = stand.env(options, &dir.0);
    let changed = (stand.leads / 100).max(1);
    let (mut walls, mut rss, mut embeds, mut embedded) = (vec![], vec![], vec![], vec![]);
    for run in 0..options.runs_for(stand.leads) {
        // The overlap window re-reads the previous run's changes; a clock step keeps the
        // write_dates of each run apart.
        stand.odoo.advance_clock(Duration::from_secs(3_600));
        let step = stand.leads / changed;
        for i in 0..changed {
            let id = (i * step + 1 + run) as u64;
            let mut lead = stand.odoo.lead(id).expect("lead exists");
            let description = format!(
                "{}<p>Follow-up {run}: the customer asked for a new quote.</p>",
                lead.remove("description")
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            );
            stand
                .odoo
                .update_lead(id, json!({ "description": description }));
        }
        stand.clear();
        let measured = env.run_ok(&["sync-new", "--json"]);
        walls.push(secs(measured.wall));
        rss.push(mib(measured.max_rss_kib));
        embeds.push(stand.embed.request_count() as f64);
        embedded.push(summary_count(&measured, "embedded") as f64);
    }
    stand.clear();
    report.add(
        &format!("sync-new 1% changed {} leads", stand.leads),
        json!({
            "changed_leads": changed,
            "wall_s": list(&walls, 2),
            "wall_s_median": median(&walls),
            "peak_rss_mib_median": median(&rss),
            "embedding_requests": list(&embeds, 0),
            "texts_embedded": list(&embedded, 0),
        }),
    );
}

/// Scenario `rpm`: one full-rebuild into a fresh data dir while the embedding stand-in rejects
/// requests beyond `--rpm-limit` in any 60 s with 429, so crm-vec's retries are part of the time.
fn rpm_limited(stand: &Stand, options: &Options, report: &mut Report) {
    let dir = TempDir::new(&format!("rpm-{}", stand.leads));
    let env = stand.env(options, &dir.0);
    stand.clear();

    stand.embed.set_requests_per_minute(Some(options.rpm_limit));
    let measured = env.run_ok(&["full-rebuild", "--json"]);
    stand.embed.set_requests_per_minute(options.rpm);

    assert_eq!(
        summary_count(&measured, "upserted"),
        stand.leads as u64,
        "every lead is indexed: {}",
        measured.stdout
    );
    let requests = stand.embed.requests();
    let rejected = requests.iter().filter(|r| r.status == 429).count();
    stand.clear();

    let wall = secs(measured.wall);
    report.add(
        &format!(
            "full-rebuild rpm {} {} leads",
            options.rpm_limit, stand.leads
        ),
        json!({
            "requests_per_minute_limit": options.rpm_limit,
            "wall_s": wall,
            "leads_per_s": stand.leads as f64 / wall,
            "peak_rss_mib": mib(measured.max_rss_kib),
            "embedding_requests": requests.len(),
            "embedding_requests_rejected_429": rejected,
            "embedding_requests_per_minute_mean": requests.len() as f64 / (wall / 60.0),
        }),
    );
}

/// Scenario 5: `crm-vec search` as a process, and the library's search in-process.
fn search(stand: &Stand, options: &Options, dir: &TempDir, report: &mut Report) {
    let env = stand.env(options, &dir.0);
    let sparse_env = env.with("EMBEDDINGS_PROVIDER", "none");
    let rounds = options.runs_for(stand.leads);
    let process = |env: &Env| {
        let (mut latencies, mut rss) = (vec![], vec![]);
        for _ in 0..rounds {
            for query in QUERIES {
                let measured = env.run_ok(&["search", query, "--json"]);
                latencies.push(ms(measured.wall));
                rss.push(mib(measured.max_rss_kib));
            }
        }
        (latencies, rss)
    };
    stand.clear();
    let (sparse, sparse_rss) = process(&sparse_env);
    let (hybrid, hybrid_rss) = process(&env);
    let empty = TempDir::new("empty-index");
    let empty_env = stand
        .env(options, &empty.0)
        .with("EMBEDDINGS_PROVIDER", "none");
    let (mut empty_rss, mut helper_rss) = (vec![], vec![]);
    for _ in 0..5 {
        let measured = empty_env.run_ok(&["search", QUERIES[0], "--json"]);
        empty_rss.push(mib(measured.max_rss_kib));
        helper_rss.push(mib(measured.helper_rss_kib));
    }

    // In-process: one open store, many searches; hybrid with the stand-in's latency and without.
    let runtime = tokio::runtime::Runtime::new().expect("start a runtime");
    let invocation = invocation(&env);
    let provider = invocation
        .provider()
        .expect("provider")
        .expect("a provider");
    let store =
        EmbeddedStore::open(&dir.0, COLLECTION, Duration::from_secs(30)).expect("open the index");
    let bm25 = crm_vec::embed::Bm25::new();
    let in_process = |provider: Option<&crm_vec::embed::Provider>, count: usize| {
        let mut latencies = vec![];
        for i in 0..count {
            let query = QUERIES[i % QUERIES.len()];
            let started = Instant::now();
            let hits = runtime
                .block_on(crm_vec::sync::search::search(
                    &store,
                    provider,
                    &bm25,
                    query,
                    SearchFilter::default(),
                    10,
                ))
                .expect("search");
            latencies.push(ms(started.elapsed()));
            assert!(!hits.is_empty(), "the query {query:?} finds leads");
        }
        latencies
    };
    let lib_sparse = in_process(None, 200);
    let lib_hybrid = in_process(Some(&provider), 30);
    stand.embed.set_latency(Duration::ZERO, Duration::ZERO);
    let lib_hybrid_instant = in_process(Some(&provider), 200);
    stand
        .embed
        .set_latency(EMBED_LATENCY, EMBED_LATENCY_PER_TOKEN);
    drop(store);
    stand.clear();

    let stats = |values: &[f64]| json!({"n": values.len(), "p50_ms": percentile(values, 50.0), "p99_ms": percentile(values, 99.0), "max_ms": max(values)});
    report.add(
        &format!("search {} leads", stand.leads),
        json!({
            "process_sparse": stats(&sparse),
            "process_hybrid": stats(&hybrid),
            "in_process_sparse": stats(&lib_sparse),
            "in_process_hybrid": stats(&lib_hybrid),
            "in_process_hybrid_embedding_latency_0": stats(&lib_hybrid_instant),
            "peak_rss_mib_search_sparse_median": median(&sparse_rss),
            "peak_rss_mib_search_hybrid_median": median(&hybrid_rss),
            "peak_rss_mib_search_empty_index_median": median(&empty_rss),
            "peak_rss_mib_measuring_helper_median": median(&helper_rss),
            "index_share_of_rss_mib": median(&sparse_rss) - median(&empty_rss),
            "index_on_disk_mib": du_bytes(&dir.0) as f64 / 1_048_576.0,
        }),
    );
}

/// One HTTP/1.1 exchange as Odoo's python-requests sends it: Connection close, 1 s timeout.
fn post_like_odoo(addr: SocketAddr, target: &str, body: &str) -> Result<u16, String> {
    let timeout = Duration::from_secs(1);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    let request = format!(
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: python-requests/2.31.0\r\n\
         Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))
}

fn queue_idle(addr: SocketAddr) -> bool {
    let http = client();
    let status: Value = http
        .get(format!("http://{addr}/webhook/status"))
        .header("x-webhook-secret", WEBHOOK_SECRET)
        .send()
        .and_then(|r| r.json())
        .unwrap_or(Value::Null);
    status["queue"]["pending"] == 0 && status["queue"]["in_flight"] == 0
}

/// A word the BM25 tokenizer keeps whole and no generated lead contains.
fn marker(n: usize) -> String {
    let mut word = String::from("zyqx");
    let mut n = n;
    for _ in 0..4 {
        word.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    word
}

/// Scenario 4: `crm-vec serve` under 200 concurrent senders, then time to searchable.
fn webhook(stand: &Stand, options: &Options, dir: &TempDir, report: &mut Report) {
    let env = stand.env(options, &dir.0);
    let mut child = env
        .command(&[
            "serve",
            "--port",
            "0",
            "--settle-delay",
            &options.settle_delay,
            "--reconcile-every",
            "0",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crm-vec serve");
    let pid = child.id();
    let stderr = child.stderr.take().expect("stderr is piped");
    let (found, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = found.send(rest.trim().to_string());
            }
        }
    });
    let addr: SocketAddr = address
        .recv_timeout(Duration::from_secs(60))
        .expect("serve prints its address")
        .parse()
        .expect("a socket address");
    let target = format!("/webhook/sync?token={WEBHOOK_SECRET}");
    stand.clear();

    let latencies = Mutex::new(Vec::new());
    let failures = AtomicUsize::new(0);
    let barrier = Barrier::new(SENDERS);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for sender in 0..SENDERS {
            let (latencies, failures, barrier, target) = (&latencies, &failures, &barrier, &target);
            scope.spawn(move || {
                barrier.wait();
                for post in 0..POSTS_PER_SENDER {
                    let id = 1 + (sender * POSTS_PER_SENDER + post) % stand.leads;
                    let body = format!(
                        r#"{{"_action": "Send Webhook Notification(#231)", "_id": {id}, "_model": "crm.lead"}}"#
                    );
                    let sent = Instant::now();
                    match post_like_odoo(addr, target, &body) {
                        Ok(status) if status < 300 => {
                            latencies.lock().unwrap().push(ms(sent.elapsed()))
                        }
                        _ => {
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            });
        }
    });
    let burst = started.elapsed();
    let latencies = latencies.into_inner().unwrap();
    let drain_started = Instant::now();
    while !queue_idle(addr) && drain_started.elapsed() < Duration::from_secs(600) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let drained = started.elapsed();
    let burst_embeds = stand.embed.request_count();

    // Time to indexed: one lead at a time, rename it, post its webhook, and poll the queue
    // status until the event is done. The lead is then in the listener's open index, which is
    // what its searches (MCP, commands from other processes) read.
    let mut to_indexed = vec![];
    for k in 0..SEARCHABLE_LEADS {
        let id = (1 + k * 37 % stand.leads) as u64;
        stand
            .odoo
            .update_lead(id, json!({ "name": format!("Renewal {}", marker(k)) }));
        let body = format!(r#"{{"_action": "bench", "_id": {id}, "_model": "crm.lead"}}"#);
        let posted = Instant::now();
        post_like_odoo(addr, &target, &body).expect("post a webhook");
        std::thread::sleep(Duration::from_millis(5));
        while !queue_idle(addr) && posted.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(10));
        }
        to_indexed.push(ms(posted.elapsed()));
    }

    // Time to searchable from another process: rename leads to unique words, post their
    // webhooks at once, and poll `crm-vec search`, which runs in the listener that owns the
    // index.
    let mut to_searchable = vec![];
    let search_env = env.with("EMBEDDINGS_PROVIDER", "none");
    let mut poll_costs = vec![];
    let mut waiting: BTreeMap<u64, (String, Instant)> = BTreeMap::new();
    for k in 0..5 {
        let id = (1 + (SEARCHABLE_LEADS + k) * 37 % stand.leads) as u64;
        let word = marker(SEARCHABLE_LEADS + k);
        stand
            .odoo
            .update_lead(id, json!({ "name": format!("Renewal {word}") }));
        let body = format!(r#"{{"_action": "bench", "_id": {id}, "_model": "crm.lead"}}"#);
        post_like_odoo(addr, &target, &body).expect("post a webhook");
        waiting.insert(id, (word, Instant::now()));
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while !waiting.is_empty() && Instant::now() < deadline {
        let words: Vec<&str> = waiting.values().map(|(w, _)| w.as_str()).collect();
        let query = words.join(" ");
        let measured = search_env.run(&["search", &query, "--limit", "100", "--json"]);
        poll_costs.push(ms(measured.wall));
        let hits = measured.json();
        let seen = Instant::now();
        for hit in hits["hits"].as_array().into_iter().flatten() {
            let id = hit["id"].as_u64().unwrap_or(0);
            let name = hit["name"].as_str().unwrap_or_default().to_string();
            if let Some((word, posted)) = waiting.get(&id) {
                if name.contains(word.as_str()) {
                    to_searchable.push(ms(seen - *posted));
                    waiting.remove(&id);
                }
            }
        }
    }
    if !waiting.is_empty() {
        println!("{} leads not searchable within 180 s", waiting.len());
    }
    let serve_hwm = vm_hwm_kib(pid);
    let _ = child.kill();
    let _ = child.wait();
    stand.clear();

    report.add(
        &format!("webhook {} leads", stand.leads),
        json!({
            "senders": SENDERS,
            "posts": SENDERS * POSTS_PER_SENDER,
            "answered_2xx": latencies.len(),
            "failed_or_timed_out": failures.load(Ordering::SeqCst),
            "answer_p50_ms": percentile(&latencies, 50.0),
            "answer_p99_ms": percentile(&latencies, 99.0),
            "answer_max_ms": max(&latencies),
            "burst_s": secs(burst),
            "queue_drained_after_s": secs(drained),
            "embedding_requests_for_burst": burst_embeds,
            "settle_delay": options.settle_delay,
            "to_indexed_n": to_indexed.len(),
            "to_indexed_p50_ms": percentile(&to_indexed, 50.0),
            "to_indexed_p99_ms": percentile(&to_indexed, 99.0),
            "to_indexed_max_ms": max(&to_indexed),
            "to_searchable_by_other_process_n": to_searchable.len(),
            "to_searchable_p50_ms": percentile(&to_searchable, 50.0),
            "to_searchable_p99_ms": percentile(&to_searchable, 99.0),
            "other_process_search_p50_ms": percentile(&poll_costs, 50.0),
            "serve_peak_rss_mib_vmhwm": serve_hwm.map(mib),
        }),
    );
}

/// Runs the scenarios that need a built index, on the index of the last rebuild.
fn index_scenarios(stand: &Stand, options: &Options, report: &mut Report) {
    let dir = if options.wants("rebuild") {
        rebuild(stand, options, report)
    } else {
        let dir = TempDir::new(&format!("index-{}", stand.leads));
        stand.env(options, &dir.0).run_ok(&["full-rebuild"]);
        stand.clear();
        dir
    };
    if options.wants("search") {
        search(stand, options, &dir, report);
    }
    if options.wants("unchanged") {
        unchanged(stand, options, &dir, report);
    }
    if options.wants("sync-new") {
        sync_new(stand, options, &dir, report);
    }
    if options.wants("webhook") && stand.leads == options.webhook_leads {
        webhook(stand, options, &dir, report);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(MEASURE_CHILD) {
        measure_child(&args[1..]);
    }
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("bench: {message}");
            std::process::exit(2);
        }
    };
    if !options.bin.is_file() {
        eprintln!(
            "bench: no crm-vec binary at {}; build it with `cargo build --release --bins \
             --examples` or pass --bin",
            options.bin.display()
        );
        std::process::exit(2);
    }
    println!(
        "# crm-vec bench: {} cores, Odoo {:?} + {:?}/record, embeddings {:?} + {:?}/token, rpm {:?}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        ODOO_LATENCY,
        ODOO_LATENCY_PER_RECORD,
        EMBED_LATENCY,
        EMBED_LATENCY_PER_TOKEN,
        options.rpm
    );
    let mut report = Report::default();
    let started = Instant::now();
    for &leads in &options.leads {
        let needs_index = ["rebuild", "unchanged", "sync-new", "search"]
            .iter()
            .any(|s| options.wants(s))
            || (options.wants("webhook") && leads == options.webhook_leads);
        if !needs_index && !options.wants("rpm") {
            continue;
        }
        let stand = Stand::start(leads, &options);
        if needs_index {
            index_scenarios(&stand, &options, &mut report);
        }
        if options.wants("rpm") {
            rpm_limited(&stand, &options, &mut report);
        }
        println!("# {leads} leads done after {:.0}s", secs(started.elapsed()));
    }
    let all = Value::Object(report.0.into_iter().collect::<Map<String, Value>>());
    println!("\n# all figures\n{}", serde_json::to_string(&all).unwrap());
}
