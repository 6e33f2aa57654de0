//! `apikeys audit` over 5 accounts of 2,000 seeded keys each (one per vendor, in an
//! in-process sandbox), against listing the same keys through the vendor crates in the same
//! run: keys per second and peak memory.
//!
//! The audit is the release `apikeys` binary next to this one (`cargo build --release -p
//! apikeys-cli` first), run as a child with `--all --json` into a pipe that is read and
//! dropped; its peak memory is its peak resident set (`VmHWM`, read from `/proc` while it
//! runs). The direct listing runs here, the five accounts at once like the audit; its peak
//! memory is the client side's peak heap (the counting allocator; the sandbox's threads are
//! not counted) and, for a like-for-like figure, the growth of this process's peak resident
//! set (which also holds the sandbox's work).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apikeys_sandbox::{Sandbox, SeedKey, Vendor};
use chrono::Utc;
use futures::TryStreamExt;

use crate::{alloc, median, mib, vendors};

/// Keys seeded per vendor.
pub(crate) const KEYS: usize = 2_000;
const ROUNDS: usize = 5;

/// Peak resident set of `pid` in bytes (`VmHWM`), if `/proc` says.
pub(crate) fn peak_rss(pid: &str) -> Option<u64> {
    memory(pid, "VmHWM")
}

/// A `/proc/<pid>/status` memory field (`VmRSS`, `VmHWM`) in bytes, if `/proc` says.
pub(crate) fn memory(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets this process's peak resident set to its current one (Linux `clear_refs` 5).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

pub(crate) fn apikeys_binary() -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join("apikeys");
    path.exists().then_some(path)
}

/// Runs the section (outside any runtime: it starts two).
pub fn run() {
    println!("\n## apikeys audit: 5 accounts x {KEYS} keys (sandbox in-process)\n");
    let (sandbox_runtime, sandbox) = start_sandbox();
    let clients = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    clients.block_on(measure(&sandbox));
    drop(clients);
    sandbox_runtime.block_on(sandbox.shutdown());
}

/// A sandbox serving on a runtime of its own, whose one thread the allocator does not count.
pub(crate) fn start_sandbox() -> (tokio::runtime::Runtime, Sandbox) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(alloc::ignore_this_thread)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = runtime.block_on(Sandbox::start()).unwrap();
    (runtime, sandbox)
}

/// The sandbox's vendors as accounts of [`KEYS`] seeded keys each: a config naming them
/// (credentials in `BENCH_KEY_<VENDOR>`, see [`credentials`]) and their lifecycles.
pub(crate) struct Accounts {
    pub config: String,
    pub lifecycles: Vec<Box<dyn apikeys_common::KeyLifecycle>>,
}

pub(crate) fn seed(sandbox: &Sandbox) -> Accounts {
    let now = Utc::now();
    let mut config = String::new();
    let mut lifecycles = Vec::new();
    for &vendor in Vendor::ALL {
        let Some(lifecycle) = vendors::sandbox_lifecycle(sandbox, vendor) else {
            continue;
        };
        let keys = (0..KEYS).map(|i| {
            SeedKey::new(format!("bench-{i}"))
                .created_at(now - chrono::Duration::days(i as i64 % 400))
        });
        sandbox.seed(vendor, keys).unwrap();
        config += &format!(
            "[[account]]\nname = \"{0}\"\nvendor = \"{0}\"\nbase-url = \"{1}\"\n{2}\n\
             credential = {{ env = \"BENCH_KEY_{3}\" }}\n\n",
            vendor.name(),
            sandbox.base_url(vendor),
            vendors::sandbox_scope_toml(sandbox, vendor),
            vendor.name().to_ascii_uppercase(),
        );
        lifecycles.push(lifecycle);
    }
    Accounts { config, lifecycles }
}

/// Gives `cmd` every account's credential, as [`seed`]'s config names them.
pub(crate) fn credentials(cmd: &mut Command, sandbox: &Sandbox) {
    for &vendor in Vendor::ALL {
        cmd.env(
            format!("BENCH_KEY_{}", vendor.name().to_ascii_uppercase()),
            sandbox.credential(vendor).expose_secret(),
        );
    }
}

async fn measure(sandbox: &Sandbox) {
    let Accounts { config, lifecycles } = seed(sandbox);

    // Through the crates: every account at once, every key collected.
    let mut direct = Vec::new();
    let mut total = 0;
    let (mut heap, mut rss) = (0, 0);
    for _ in 0..ROUNDS {
        let base = alloc::current();
        alloc::reset_peak();
        let rss_reset = reset_peak_rss();
        let rss_before = peak_rss("self").unwrap_or(0);
        let started = Instant::now();
        let lists =
            futures::future::join_all(lifecycles.iter().map(|l| l.list().try_collect::<Vec<_>>()))
                .await;
        direct.push(started.elapsed().as_secs_f64());
        heap = heap.max(alloc::peak() - base);
        if rss_reset {
            rss = rss.max(peak_rss("self").unwrap_or(0).saturating_sub(rss_before));
        }
        total = lists.into_iter().map(|l| l.unwrap().len()).sum::<usize>();
    }
    let direct_s = median(&mut direct);

    let Some(binary) = apikeys_binary() else {
        println!(
            "the audit needs the release `apikeys` binary: cargo build --release -p apikeys-cli \
             (direct listing: {total} keys in {:.1} ms, {:.0} keys/s)",
            direct_s * 1e3,
            total as f64 / direct_s
        );
        return;
    };
    let path_dir = config_dir("audit");
    let config_path = path_dir.join("audit.toml");
    std::fs::write(&config_path, &config).unwrap();
    let process = audit_process(&binary, &config_path, sandbox, ROUNDS);
    let (audit_s, audit_rss, records) = (process.median_s, process.peak_rss, process.records);
    let _ = std::fs::remove_dir_all(&path_dir);
    println!(
        "| what                                   |   keys | median ms |    keys/s | peak memory                 |"
    );
    println!(
        "|----------------------------------------|-------:|----------:|----------:|-----------------------------|"
    );
    println!(
        "| vendor crates, 5 lists at once         | {total:>6} | {:>9.1} | {:>9.0} | heap {:>5.1} MiB, RSS +{:>5.1} MiB |",
        direct_s * 1e3,
        total as f64 / direct_s,
        mib(heap),
        rss as f64 / 1048576.0,
    );
    println!(
        "| apikeys audit --all --json (process)   | {records:>6} | {:>9.1} | {:>9.0} | RSS {:>5.1} MiB (whole child)  |",
        audit_s * 1e3,
        records as f64 / audit_s,
        audit_rss as f64 / 1048576.0,
    );
    println!(
        "\naudit / direct: {:.2}x the time ({:.2}x the keys/s); the audit's time includes \
         starting the process, reading the config, the policy and writing the JSON",
        audit_s / direct_s,
        (records as f64 / audit_s) / (total as f64 / direct_s),
    );
}

/// `apikeys audit --all --json` of the config at `config`, `rounds` times.
pub(crate) struct AuditProcess {
    /// The median wall-clock time of a whole process, in seconds.
    pub median_s: f64,
    /// The largest peak resident set of one process, in bytes.
    pub peak_rss: u64,
    /// The records its JSON held.
    pub records: usize,
}

pub(crate) fn audit_process(
    binary: &Path,
    config: &Path,
    sandbox: &Sandbox,
    rounds: usize,
) -> AuditProcess {
    let mut audit = Vec::new();
    let mut audit_rss = 0;
    let mut records = 0;
    for _ in 0..rounds {
        let mut cmd = Command::new(binary);
        cmd.args(["audit", "--all", "--json", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        credentials(&mut cmd, sandbox);
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let pid = child.id().to_string();
        // Poll the child's peak while a thread drains its stdout.
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).map(|_| out)
        });
        let mut peak = 0;
        loop {
            if let Some(rss) = peak_rss(&pid) {
                peak = peak.max(rss);
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        audit.push(started.elapsed().as_secs_f64());
        audit_rss = audit_rss.max(peak);
        let out = reader.join().unwrap().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        records = json.as_array().map_or(0, Vec::len);
    }
    AuditProcess {
        median_s: median(&mut audit),
        peak_rss: audit_rss,
        records,
    }
}

pub(crate) fn config_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("apikeys-bench-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
