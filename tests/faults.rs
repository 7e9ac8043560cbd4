//! Faults during runs: Odoo outages, a failing embedding provider, processes killed with
//! SIGKILL, and a data directory that is read-only or full. After each, the index must open and
//! hold a whole state (the old one or the new one), and the next run must pick up the work.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::embed::{EmbedConfig, EmbedStandIn};
use support::harness::{hit_ids, to_run, Sandbox};
use support::odoo::{OdooStandIn, StandInConfig};
use support::webhook::{odoo_body, post_like_odoo, Listener};

const VOYAGE_KEY: &str = "test-voyage-key-xyz";
/// Active demo leads (44 leads, 5 of them lost and so archived).
const DEMO_ACTIVE: u64 = 39;

fn voyage_sandbox(odoo: &OdooStandIn, embed: &EmbedStandIn) -> Sandbox {
    let mut sandbox = Sandbox::for_odoo(odoo);
    sandbox.use_voyage(embed, VOYAGE_KEY);
    sandbox
}

fn status(sandbox: &Sandbox) -> Value {
    sandbox.json(&["status", "--json"])
}

fn points(sandbox: &Sandbox) -> u64 {
    status(sandbox)["index"]["points"]
        .as_u64()
        .expect("status reports the number of points")
}

fn add_leads(odoo: &OdooStandIn, count: usize, name: &str) {
    for n in 0..count {
        odoo.create_lead(json!({
            "name": format!("{name} {n}"),
            "description": format!("<p>Imported lead {n} about {name}</p>"),
        }));
    }
}

/// Kills `child` with SIGKILL once `ready` returns true, or panics after 60 s.
fn kill_9_when(mut child: Child, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        if let Ok(Some(status)) = child.try_wait() {
            let output = child.wait_with_output().expect("collect output");
            panic!(
                "the run ended ({status}) before {what}:\n{}",
                to_run(output).all_output()
            );
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("send SIGKILL");
    child.wait().expect("reap the killed run");
}

#[test]
fn odoo_502_mid_rebuild_reuses_vectors() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.set("CRM_VEC_PAGE_SIZE", "50");
    sandbox.json(&["full-rebuild", "--json"]);
    add_leads(&odoo, 300, "Bulk order of standing desks");
    embed.reset_counters();

    // Connecting, the newest write date, the count, the lookups and the fields come first;
    // 20 calls reach well into the pages, and 344 leads make 7 pages of 50.
    odoo.fail_after(20, 502);
    let failed = sandbox.run(&["full-rebuild", "--json"]);
    odoo.clear_faults();
    assert_eq!(failed.code, 1, "{}", failed.all_output());
    assert!(
        failed.stderr.contains("of page"),
        "the error names the page: {}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("502"),
        "the error names the status: {}",
        failed.stderr
    );
    let embedded_before_failure = embed.texts_embedded() as u64;
    assert_eq!(points(&sandbox), DEMO_ACTIVE, "the old index is still live");
    // The query is embedded too, so it is counted after the count above.
    let old_hits = hit_ids(&sandbox.json(&["search", "standing desks", "--json"]));
    assert!(
        old_hits.iter().all(|id| *id <= 44),
        "only old leads are searchable: {old_hits:?}"
    );

    assert!(
        embedded_before_failure > 0,
        "the failed run embedded some new leads before Odoo failed"
    );
    embed.reset_counters();
    let rebuilt = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(rebuilt["upserted"], json!(DEMO_ACTIVE + 300));
    assert_eq!(
        embed.texts_embedded() as u64,
        300 - embedded_before_failure,
        "only the leads the failed run did not embed are embedded again"
    );
    assert_eq!(
        rebuilt["reused"],
        json!(DEMO_ACTIVE + embedded_before_failure)
    );
    assert_eq!(points(&sandbox), DEMO_ACTIVE + 300);
}

#[test]
fn embedding_429_with_retry_after_is_waited_out() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let sandbox = voyage_sandbox(&odoo, &embed);

    embed.fail_next(1, 429, Some(2));
    let started = Instant::now();
    let rebuilt = sandbox.json(&["full-rebuild", "--json"]);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "the retry waited for Retry-After: {:?}",
        started.elapsed()
    );
    assert_eq!(rebuilt["embedded"], json!(DEMO_ACTIVE));
    assert_eq!(embed.texts_embedded() as u64, DEMO_ACTIVE);
    assert_eq!(points(&sandbox), DEMO_ACTIVE);
}

#[test]
fn embedding_500s_are_retried_until_they_stop() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let sandbox = voyage_sandbox(&odoo, &embed);

    // Five attempts per request: three failures and one success fit.
    embed.fail_next(3, 500, None);
    let rebuilt = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(rebuilt["embedded"], json!(DEMO_ACTIVE));
    assert_eq!(
        embed.request_count(),
        4,
        "three failed attempts, then one batch"
    );
    assert_eq!(points(&sandbox), DEMO_ACTIVE);
}

/// Starts an embedding stand-in that delays the requests chosen by `set_timeout_next` by 3 s,
/// and a sandbox whose embedding requests time out after `timeout` seconds.
fn timing_out(odoo: &OdooStandIn, timeout: &str) -> (EmbedStandIn, Sandbox) {
    let embed = EmbedStandIn::start(EmbedConfig {
        timeout_hold: Duration::from_secs(3),
        ..EmbedConfig::default()
    });
    let mut sandbox = voyage_sandbox(odoo, &embed);
    sandbox.set("EMBEDDINGS_TIMEOUT", timeout);
    (embed, sandbox)
}

#[test]
fn embedding_timeouts_are_retried() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let (embed, sandbox) = timing_out(&odoo, "0.5");

    embed.set_timeout_next(2);
    let started = Instant::now();
    let rebuilt = sandbox.json(&["full-rebuild", "--json"]);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "the client gave up on held requests before the stand-in answered them: {:?}",
        started.elapsed()
    );
    assert_eq!(rebuilt["embedded"], json!(DEMO_ACTIVE));
    assert_eq!(
        embed.request_count(),
        3,
        "two timed-out attempts, then one batch"
    );
    assert_eq!(points(&sandbox), DEMO_ACTIVE);
}

#[test]
fn embedding_timeouts_keep_old_index() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let (embed, sandbox) = timing_out(&odoo, "0.3");
    sandbox.json(&["full-rebuild", "--json"]);
    add_leads(&odoo, 20, "Standing desk order");
    let checkpoint = status(&sandbox)["sync"]["checkpoint"].clone();

    embed.set_timeout_next(1_000);
    let failed = sandbox.run(&["full-rebuild", "--json"]);
    assert_eq!(failed.code, 1, "{}", failed.all_output());
    assert!(
        failed.stderr.contains("timed out"),
        "the timeout is named: {}",
        failed.stderr
    );
    assert!(!failed.all_output().contains(VOYAGE_KEY));
    assert_eq!(
        embed.request_count(),
        1 + 5,
        "one first batch, then five attempts"
    );
    assert_eq!(points(&sandbox), DEMO_ACTIVE, "the old index is still live");
    assert_eq!(status(&sandbox)["sync"]["checkpoint"], checkpoint);
}

#[test]
fn embedding_outage_leaves_no_partial_index() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.set("CRM_VEC_PAGE_SIZE", "50");
    sandbox.json(&["full-rebuild", "--json"]);
    add_leads(&odoo, 200, "Conference table order");
    let checkpoint = status(&sandbox)["sync"]["checkpoint"].clone();

    embed.fail_next(1_000, 500, None);
    let failed = sandbox.run(&["full-rebuild", "--json"]);
    assert_eq!(failed.code, 1, "{}", failed.all_output());
    assert!(
        failed.stderr.contains("Internal server error"),
        "the provider's message is shown: {}",
        failed.stderr
    );
    assert!(!failed.all_output().contains(VOYAGE_KEY));
    embed.reset_counters();
    assert_eq!(points(&sandbox), DEMO_ACTIVE, "the old index is still live");
    assert_eq!(status(&sandbox)["sync"]["checkpoint"], checkpoint);
    let hits = hit_ids(&sandbox.json(&["search", "conference table order", "--json"]));
    assert!(hits.iter().all(|id| *id <= 44), "{hits:?}");
}

#[test]
fn kill_9_during_full_rebuild_keeps_old_index() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.set("CRM_VEC_PAGE_SIZE", "20");
    sandbox.json(&["full-rebuild", "--json"]);
    let before = status(&sandbox)["sync"].clone();
    add_leads(&odoo, 200, "Warehouse shelving quote");
    embed.reset_counters();
    embed.set_latency(Duration::from_millis(100), Duration::ZERO);

    let child = sandbox
        .command(&["full-rebuild", "--json"])
        .spawn()
        .expect("start full-rebuild");
    kill_9_when(child, "three embedding requests", || {
        embed.texts_embedded() >= 3
    });
    embed.set_latency(Duration::ZERO, Duration::ZERO);

    let after = status(&sandbox);
    assert_eq!(after["index"]["points"], json!(DEMO_ACTIVE));
    assert_eq!(after["sync"]["checkpoint"], before["checkpoint"]);
    assert_eq!(
        after["sync"]["last_full_rebuild"],
        before["last_full_rebuild"]
    );
    let hits = hit_ids(&sandbox.json(&["search", "warehouse shelving quote", "--json"]));
    assert!(hits.iter().all(|id| *id <= 44), "old state only: {hits:?}");

    let rebuilt = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(rebuilt["upserted"], json!(DEMO_ACTIVE + 200));
    assert_eq!(points(&sandbox), DEMO_ACTIVE + 200);
}

#[test]
fn kill_9_during_sync_new_resumes() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.set("CRM_VEC_PAGE_SIZE", "20");
    sandbox.json(&["full-rebuild", "--json"]);
    let checkpoint = status(&sandbox)["sync"]["checkpoint"].clone();
    add_leads(&odoo, 200, "Reception desk inquiry");
    embed.reset_counters();
    embed.set_latency(Duration::from_millis(100), Duration::ZERO);

    let child = sandbox
        .command(&["sync-new", "--json"])
        .spawn()
        .expect("start sync-new");
    kill_9_when(child, "three embedding requests", || {
        embed.texts_embedded() >= 3
    });
    embed.set_latency(Duration::ZERO, Duration::ZERO);

    let after = status(&sandbox);
    assert_eq!(
        after["sync"]["checkpoint"], checkpoint,
        "the checkpoint did not move"
    );
    let partial = after["index"]["points"].as_u64().unwrap();
    assert!(
        (DEMO_ACTIVE..=DEMO_ACTIVE + 200).contains(&partial),
        "the index opens with old points plus whole new ones: {partial}"
    );

    let resumed = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(resumed["failed"], json!(0));
    let after = status(&sandbox);
    assert_eq!(after["index"]["points"], json!(DEMO_ACTIVE + 200));
    assert_eq!(after["sync"]["backlog"], json!(0));
    assert_ne!(after["sync"]["checkpoint"], checkpoint);
}

#[test]
fn kill_9_during_serve_backlog_resumes_queue() {
    const SECRET: &str = "webhook-secret-4f9a1c";
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.json(&["full-rebuild", "--json"]);
    sandbox.set("WEBHOOK_SECRET", SECRET);
    let fast = ["--settle-delay", "0s", "--reconcile-every", "0"];
    let mut listener = Listener::start(&sandbox, &fast);

    let leads: Vec<u64> = (1..=30)
        .filter(|id| ![7, 9, 11, 12, 28].contains(id))
        .collect();
    for id in &leads {
        odoo.update_lead(*id, json!({"name": format!("Restart survivor {id}")}));
    }
    embed.reset_counters();
    embed.set_latency(Duration::from_millis(300), Duration::ZERO);
    let path = format!("/webhook/sync?token={SECRET}");
    for id in &leads {
        let body = odoo_body("Send Webhook Notification(#12)", *id);
        let answer = post_like_odoo(listener.addr, &path, &body).expect("an answer");
        assert_eq!(answer.status, 202, "{}", answer.text);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while embed.request_count() == 0 {
        assert!(Instant::now() < deadline, "no embedding request was sent");
        std::thread::sleep(Duration::from_millis(10));
    }
    listener.kill_9();
    embed.set_latency(Duration::ZERO, Duration::ZERO);

    let points_after_kill = points(&sandbox);
    assert_eq!(
        points_after_kill, DEMO_ACTIVE,
        "the index opens, still whole"
    );

    let listener = Listener::start(&sandbox, &fast);
    let idle = listener.wait_idle(Some(SECRET), Duration::from_secs(30));
    assert_eq!(idle["queue"]["failed"], json!(0), "{idle}");
    drop(listener);
    let found = hit_ids(&sandbox.json(&["search", "restart survivor", "--limit", "100", "--json"]));
    for id in &leads {
        assert!(
            found.contains(id),
            "lead {id} is current after the restart: {found:?}"
        );
    }
}

/// A mount made by a test, unmounted when dropped.
struct Mount {
    target: PathBuf,
}

impl Mount {
    /// Runs `mount ARGS`, or returns `None` with a note when this machine does not allow it
    /// (no root, no loop devices, a container without the capability).
    fn new(args: &[&str], target: &Path) -> Option<Mount> {
        let output = Command::new("mount").args(args).output().ok()?;
        if !output.status.success() {
            support::skip::notice_once(&format!(
                "skipped a file-system fault test in tests/faults.rs: mount {args:?} failed \
                 (it needs root): {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
            return None;
        }
        Some(Mount {
            target: target.to_path_buf(),
        })
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.target).status();
    }
}

/// Mounts `dir` over itself read-only. Permission bits do not stop root, a read-only mount does.
fn read_only(dir: &Path) -> Option<(Mount, Mount)> {
    let path = dir.to_str().expect("a UTF-8 path");
    let bind = Mount::new(&["--bind", path, path], dir)?;
    let remount = Mount::new(&["-o", "remount,bind,ro", path], dir)?;
    Some((remount, bind))
}

fn assert_clear_failure(output: &str, expected: &str) {
    assert!(
        output.contains(expected),
        "expected {expected:?} in:\n{output}"
    );
    assert!(!output.contains("panicked"), "{output}");
    assert!(!output.contains("admin-password"), "{output}");
}

#[test]
fn read_only_data_dir_fails_clearly() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    let data_dir = sandbox.data_dir();
    let files_before = list_files(&data_dir);

    let Some(mounts) = read_only(&data_dir) else {
        return;
    };
    for args in [
        &["full-rebuild", "--json"][..],
        &["sync-new", "--json"],
        &["sync-record", "3", "--json"],
    ] {
        let run = sandbox.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.all_output());
        assert_clear_failure(&run.stderr, "Read-only file system");
    }
    drop(mounts);

    assert_eq!(list_files(&data_dir), files_before, "nothing was written");
    assert_eq!(points(&sandbox), DEMO_ACTIVE);
}

#[test]
fn full_disk_keeps_old_index() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = voyage_sandbox(&odoo, &embed);
    let image = sandbox.dir.join("disk.img");
    let data_dir = sandbox.data_dir();
    std::fs::create_dir_all(&data_dir).unwrap();
    let file = std::fs::File::create(&image).unwrap();
    file.set_len(64 * 1024 * 1024).unwrap();
    let mkfs = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-m", "0"])
        .arg(&image)
        .output();
    if !mkfs.as_ref().is_ok_and(|output| output.status.success()) {
        support::skip::notice_once(&format!(
            "skipped a file-system fault test in tests/faults.rs: mkfs.ext4 is not available: \
             {mkfs:?}"
        ));
        return;
    }
    let Some(_disk) = Mount::new(
        &[
            "-o",
            "loop",
            image.to_str().unwrap(),
            data_dir.to_str().unwrap(),
        ],
        &data_dir,
    ) else {
        return;
    };
    sandbox.set("CRM_VEC_PAGE_SIZE", "50");
    sandbox.json(&["full-rebuild", "--json"]);
    add_leads(&odoo, 300, "Meeting room acoustic panels");

    // Fill what is left, keeping a few kilobytes so that the lock file can still be written.
    // The image has no blocks reserved for root (`-m 0`), which root could otherwise fill.
    let filler = data_dir.join("filler");
    let free = free_bytes(&data_dir);
    assert!(
        free > 64 * 1024,
        "the first rebuild left room: {free} bytes"
    );
    let fill = Command::new("fallocate")
        .args(["-l", &(free.saturating_sub(64 * 1024)).to_string()])
        .arg(&filler)
        .status()
        .expect("run fallocate");
    assert!(fill.success());

    let checkpoint = status(&sandbox)["sync"]["checkpoint"].clone();
    let files_before = list_files_except(&data_dir, &[&filler, &data_dir.join("lost+found")]);
    for args in [&["full-rebuild", "--json"][..], &["sync-new", "--json"]] {
        let failed = sandbox.run(args);
        assert_eq!(failed.code, 1, "{args:?}: {}", failed.all_output());
        assert_clear_failure(&failed.stderr, "not enough free space for the index");
        assert!(
            failed.stderr.contains("hint: free space"),
            "{args:?}: {}",
            failed.stderr
        );
    }
    let files_after = list_files_except(&data_dir, &[&filler, &data_dir.join("lost+found")]);
    let added: Vec<_> = files_after
        .iter()
        .filter(|file| !files_before.contains(file))
        .collect();
    let removed: Vec<_> = files_before
        .iter()
        .filter(|file| !files_after.contains(file))
        .collect();
    assert!(added.is_empty(), "files added or resized: {added:?}");
    assert!(removed.is_empty(), "files removed or resized: {removed:?}");
    assert_eq!(status(&sandbox)["sync"]["checkpoint"], checkpoint);
    std::fs::remove_file(&filler).unwrap();

    assert_eq!(points(&sandbox), DEMO_ACTIVE, "the old index is still live");
    let rebuilt = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(rebuilt["upserted"], json!(DEMO_ACTIVE + 300));
}

#[test]
fn sigbus_exits_one_with_a_message() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    let mut listener = Listener::start(&sandbox, &["--reconcile-every", "0"]);

    // A page fault on a memory-mapped file of a full disk raises SIGBUS in the writing thread.
    // A SIGBUS sent from outside reaches the same handler.
    let pid = listener.child.id().to_string();
    let sent = Command::new("kill")
        .args(["-BUS", &pid])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = listener.child.try_wait().expect("poll serve") {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not exit after SIGBUS");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1), "{}", listener.stderr());
    // The stderr reader thread may still be draining the pipe.
    std::thread::sleep(Duration::from_millis(200));
    let stderr = listener.stderr();
    assert!(
        stderr.contains("error: the index failed with SIGBUS"),
        "{stderr}"
    );
    assert!(
        stderr.contains("file system of CRM_VEC_DATA_DIR is full"),
        "{stderr}"
    );
    drop(listener);
    assert_eq!(points(&sandbox), DEMO_ACTIVE, "the index opens afterwards");
}

/// Lists every file under `dir` with its size, sorted.
fn list_files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                files.push((entry.path(), meta.len()));
            }
        }
    }
    files.sort();
    files
}

/// Lists the files under `dir` like [`list_files`], leaving out `skip` and everything under it.
/// It also leaves out the lock file, which every run rewrites with its process id, and
/// `state.json`, which records each run's outcome through an atomic rename.
fn list_files_except(dir: &Path, skip: &[&Path]) -> Vec<(PathBuf, u64)> {
    list_files(dir)
        .into_iter()
        .filter(|(path, _)| !skip.iter().any(|skipped| path.starts_with(skipped)))
        .filter(|(path, _)| {
            path.file_name()
                .is_none_or(|name| name != "lock" && name != "state.json")
        })
        .collect()
}

/// Free bytes on the file system of `dir`, from `df`.
fn free_bytes(dir: &Path) -> u64 {
    let output = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .expect("run df");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .expect("df prints the free bytes")
}
