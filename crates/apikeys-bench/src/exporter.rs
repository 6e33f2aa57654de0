//! `apikeys exporter` over the audit section's accounts (5 x 2,000 seeded keys, in an
//! in-process sandbox): scrape latency while an audit runs against scrapes between audits,
//! the exporter's memory, its audit time against `apikeys audit` of the same accounts, and
//! the series count and exposition size per 1,000 keys.
//!
//! The exporter is the release `apikeys` binary next to this one (`cargo build --release -p
//! apikeys-cli` first), run as a child auditing every second (`--allow-short-interval`, the
//! hidden flag its tests use), scraped one request after the other for [`SCRAPING`]. Whether
//! a scrape overlapped an audit is read off the sandbox: a zero-delay fault rule on every
//! vendor's list counts the listing calls, and a scrape during which that count moved ran
//! while the exporter was listing keys.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apikeys_sandbox::{Fault, FaultRule, Vendor};

use crate::audit::{self, KEYS, apikeys_binary, config_dir, credentials, memory, peak_rss};
use crate::median;

/// How long the scrapes go on.
const SCRAPING: Duration = Duration::from_secs(15);
/// `apikeys audit` runs of the same accounts, for its median.
const AUDIT_ROUNDS: usize = 5;

/// Runs the section (outside any runtime: it starts two).
pub fn run() {
    println!("\n## apikeys exporter: 5 accounts x {KEYS} keys (sandbox in-process)\n");
    let Some(binary) = apikeys_binary() else {
        println!(
            "the exporter needs the release `apikeys` binary: cargo build --release -p apikeys-cli"
        );
        return;
    };
    let (sandbox_runtime, sandbox) = audit::start_sandbox();
    let accounts = audit::seed(&sandbox);
    let dir = config_dir("exporter");
    let config = dir.join("accounts.toml");
    std::fs::write(&config, &accounts.config).unwrap();

    let process = audit::audit_process(&binary, &config, &sandbox, AUDIT_ROUNDS);

    sandbox
        .set_faults(
            Vendor::ALL
                .iter()
                .map(|&vendor| FaultRule::new(vendor, "list", Fault::delay(Duration::ZERO))),
        )
        .unwrap();
    let list_calls = || -> u64 { sandbox.faults().iter().map(|rule| rule.matched).sum() };

    let mut cmd = Command::new(&binary);
    cmd.args([
        "exporter",
        "--listen",
        "127.0.0.1:0",
        "--allow-short-interval",
    ])
    .args(["--interval", "1s", "--config"])
    .arg(&config)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    credentials(&mut cmd, &sandbox);
    let mut exporter = cmd.spawn().unwrap();
    let pid = exporter.id().to_string();
    let url = listening(&mut exporter) + "/metrics";

    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let scrape = |url: &str| {
        client_runtime.block_on(async {
            let response = client.get(url).send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.text().await.unwrap()
        })
    };
    // The first audit's document: every account with a last success.
    let accounts_count = accounts.lifecycles.len();
    let first = Instant::now();
    let full = loop {
        let document = scrape(&url);
        if values(&document, "apikeys_account_last_success_timestamp_seconds").count()
            == accounts_count
        {
            break document;
        }
        assert!(
            first.elapsed() < Duration::from_secs(60),
            "no audit within a minute"
        );
        std::thread::sleep(Duration::from_millis(5));
    };

    let mut during = Vec::new();
    let mut between = Vec::new();
    let mut audit_seconds = Vec::new();
    let mut last_audit = String::new();
    let mut calls_before = list_calls();
    let started = Instant::now();
    while started.elapsed() < SCRAPING {
        let sent = Instant::now();
        let document = scrape(&url);
        let took = sent.elapsed().as_secs_f64() * 1e3;
        let calls = list_calls();
        if calls == calls_before {
            &mut between
        } else {
            &mut during
        }
        .push(took);
        calls_before = calls;
        // Each audit's document once: its accounts were listed at once, so the audit took
        // as long as the slowest.
        let stamp = values(&document, "apikeys_exporter_last_audit_timestamp_seconds")
            .next()
            .unwrap_or_default();
        if stamp != last_audit {
            last_audit = stamp;
            let slowest = values(&document, "apikeys_account_audit_duration_seconds")
                .filter_map(|v| v.parse::<f64>().ok())
                .fold(0.0, f64::max);
            audit_seconds.push(slowest);
        }
    }
    let mib = |bytes: Option<u64>| bytes.map_or(f64::NAN, |b| b as f64 / 1048576.0);
    let (rss_now, rss_peak) = (mib(memory(&pid, "VmRSS")), mib(peak_rss(&pid)));
    let _ = exporter.kill();
    let _ = exporter.wait();
    sandbox.clear_faults();
    drop(client_runtime);
    sandbox_runtime.block_on(sandbox.shutdown());
    let _ = std::fs::remove_dir_all(&dir);

    let keys: f64 = values(&full, "apikeys_account_keys")
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    let series = full
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .count();
    let per_thousand = |n: f64| n * 1000.0 / keys;
    let (during_p50, during_p99) = (median(&mut during), percentile(&mut during, 0.99));
    let (between_p50, between_p99) = (median(&mut between), percentile(&mut between, 0.99));
    let header = format!(
        "scrapes of /metrics ({:.0} KiB each)",
        full.len() as f64 / 1024.0
    );
    println!("| {header:<40} | count | p50 ms | p99 ms |");
    println!(
        "| between audits (the baseline)            | {:>5} | {between_p50:>6.2} | {between_p99:>6.2} |",
        between.len()
    );
    println!(
        "| while an audit lists the keys            | {:>5} | {during_p50:>6.2} | {during_p99:>6.2} |",
        during.len()
    );
    println!(
        "\nwhile auditing / between: p50 {:.2}x, p99 {:.2}x",
        during_p50 / between_p50,
        during_p99 / between_p99
    );
    println!(
        "exporter memory: {rss_now:.1} MiB resident after {} audits, peak {rss_peak:.1} MiB \
         (`apikeys audit --all --json`, one run: peak {:.1} MiB)",
        audit_seconds.len(),
        process.peak_rss as f64 / 1048576.0
    );
    println!(
        "audit time: exporter {:.1} ms (median of {} audits, its own \
         apikeys_account_audit_duration_seconds) against `apikeys audit --all --json` {:.1} ms \
         (median of {AUDIT_ROUNDS} processes, start to exit, {} records)",
        median(&mut audit_seconds) * 1e3,
        audit_seconds.len(),
        process.median_s * 1e3,
        process.records
    );
    println!(
        "exposition: {keys:.0} keys, {series} series, {} bytes; per 1,000 keys {:.0} series, \
         {:.1} KiB",
        full.len(),
        per_thousand(series as f64),
        per_thousand(full.len() as f64) / 1024.0
    );
}

/// Reads the exporter's stderr until it says where it listens; returns `http://ADDR`.
fn listening(exporter: &mut std::process::Child) -> String {
    let stderr = exporter.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the exporter ended before it listened")
            .unwrap();
        if let Some(address) = line.split("listening on ").nth(1) {
            break address.trim().to_string();
        }
    };
    // Keep draining: a full pipe would stop the exporter.
    std::thread::spawn(move || lines.for_each(drop));
    address
}

/// The values of every sample of metric `name` in an exposition document, as written.
fn values<'a>(document: &'a str, name: &'a str) -> impl Iterator<Item = String> + 'a {
    document
        .lines()
        .filter(move |line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })
        .filter_map(|line| line.rsplit(' ').next().map(str::to_string))
}

/// The `q` quantile (0 to 1) of `samples` by the nearest rank; NaN when there are none.
fn percentile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}
