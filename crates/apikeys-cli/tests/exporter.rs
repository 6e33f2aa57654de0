//! `apikeys exporter`: the audit served to Prometheus, audited in the background.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apikeys_sandbox::{Fault, FaultRule, SeedKey, Vendor};
use chrono::Utc;
use common::accounts::Fixture;
use common::openmetrics::{Sample, parse, promtool_complaint};

/// A running exporter, killed when dropped; its stderr collected as it comes.
struct Exporter {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Exporter {
    /// `apikeys exporter --config <f's every vendor> --listen 127.0.0.1:0 <args>`, once it
    /// says where it listens.
    fn start(f: &Fixture, args: &[&str]) -> Exporter {
        let config = f.write("exporter.toml", &f.every_vendor());
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("apikeys"))
            .args(["exporter", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .args(args)
            .envs(f.credentials())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            while let Some(Ok(line)) = lines.next() {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
                }
                collected.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no address: {}", stderr.lock().unwrap()));
        Exporter {
            child,
            addr,
            stderr,
        }
    }

    /// `GET path`: the status, the headers (names lower case) and the body.
    fn get(&self, path: &str) -> (u16, BTreeMap<String, String>, String) {
        get(self.addr, path)
    }

    fn metrics(&self) -> (String, Vec<Sample>) {
        let (status, headers, body) = self.get("/metrics");
        assert_eq!(status, 200);
        assert_eq!(
            headers["content-type"],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let samples = parse(&body);
        (body, samples)
    }

    /// The metrics once an audit newer than `after` (a last-audit timestamp) has ended.
    fn after_audit(&self, after: i64) -> (String, Vec<Sample>) {
        let start = Instant::now();
        loop {
            let (body, samples) = self.metrics();
            if value(
                &samples,
                "apikeys_exporter_last_audit_timestamp_seconds",
                "",
            )
            .is_some_and(|at| at.parse::<i64>().unwrap() > after)
            {
                return (body, samples);
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no audit: {}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` of `addr` by hand: the status, the headers (names lower case) and the body.
/// HTTP/1.0, so that no server (Prometheus is one) answers in chunks.
fn get(addr: SocketAddr, path: &str) -> (u16, BTreeMap<String, String>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", addr).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    (status.parse().unwrap(), headers, body.to_string())
}

/// The value of `name`'s sample for `account` ("" for one without labels).
fn value(samples: &[Sample], name: &str, account: &str) -> Option<String> {
    samples
        .iter()
        .find(|s| s.name == name && s.label("account") == account)
        .map(|s| s.value.clone())
}

/// The key series (name, account, key id, finding) and their values.
fn key_series(samples: &[Sample]) -> BTreeMap<(String, String, String, String), String> {
    samples
        .iter()
        .filter(|s| s.name.starts_with("apikeys_key_"))
        .map(|s| {
            let labels = (
                s.name.clone(),
                s.label("account").to_string(),
                s.label("key_id").to_string(),
                s.label("finding").to_string(),
            );
            (labels, s.value.clone())
        })
        .collect()
}

/// Counts every vendor's list calls: a rule that waits no time hits every one.
fn count_lists(f: &Fixture) {
    f.sandbox
        .set_faults(
            Vendor::ALL
                .iter()
                .map(|&v| FaultRule::new(v, "list", Fault::delay(Duration::ZERO))),
        )
        .unwrap();
}

fn lists(f: &Fixture) -> u64 {
    f.sandbox.faults().iter().map(|rule| rule.matched).sum()
}

#[test]
fn the_exporter_serves_what_the_audit_finds_and_scrapes_never_audit() {
    let f = Fixture::start();
    let now = Utc::now();
    f.sandbox
        .seed(
            Vendor::ThingsBoard,
            [
                SeedKey::new("old").created_at(now - chrono::Duration::days(400)),
                SeedKey::new("off").enabled(false),
            ],
        )
        .unwrap();
    count_lists(&f);
    let policy = ["--max-age", "90d", "--disabled-keys"];
    let mut args = vec!["--interval", "1h"];
    args.extend(policy);
    let exporter = Exporter::start(&f, &args);

    let (status, _, body) = exporter.get("/-/healthy");
    assert_eq!(
        (status, body.as_str()),
        (200, "apikeys exporter is healthy.\n")
    );
    assert_eq!(exporter.get("/nothing").0, 404);

    let (document, samples) = exporter.after_audit(0);
    if let Some(complaint) = promtool_complaint(&document) {
        panic!("promtool check metrics: {complaint}\n{document}");
    }
    assert_eq!(
        value(&samples, "apikeys_exporter_audit_interval_seconds", ""),
        Some("3600.0".into())
    );
    for &vendor in Vendor::ALL {
        assert_eq!(
            value(&samples, "apikeys_account_up", vendor.name()),
            Some("1".into())
        );
    }
    // The same key series as `audit --format openmetrics` with the same policy.
    let out = f
        .audit(&f.every_vendor())
        .args(["--format", "openmetrics"])
        .args(policy)
        .assert()
        .code(7);
    let audited = parse(&common::text(&out.get_output().stdout));
    assert_eq!(key_series(&samples), key_series(&audited));
    assert!(
        samples
            .iter()
            .any(|s| s.name == "apikeys_key_finding" && s.label("finding") == "disabled")
    );
    for (_, secret) in f.credentials() {
        assert!(!document.contains(&secret));
        assert!(!exporter.stderr.lock().unwrap().contains(&secret));
    }

    // Scrapes are served from the last audit: no vendor is asked again.
    let before = lists(&f);
    assert!(before >= Vendor::ALL.len() as u64, "{before}");
    for _ in 0..20 {
        exporter.metrics();
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(lists(&f), before, "a scrape started an audit");
}

#[test]
fn a_scrape_never_waits_for_an_audit_and_a_failed_account_keeps_its_keys() {
    let f = Fixture::start();
    // The first audit's Nuki list waits two seconds.
    f.sandbox
        .set_faults([
            FaultRule::new(Vendor::Nuki, "list", Fault::delay(Duration::from_secs(2))).first(1),
        ])
        .unwrap();
    let exporter = Exporter::start(&f, &["--interval", "1s", "--allow-short-interval"]);

    // Before the first audit ends: every account down, nothing about keys, at once.
    let start = Instant::now();
    let (document, samples) = exporter.metrics();
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    assert!(
        value(
            &samples,
            "apikeys_exporter_last_audit_timestamp_seconds",
            ""
        )
        .is_none(),
        "{document}"
    );
    for &vendor in Vendor::ALL {
        assert_eq!(
            value(&samples, "apikeys_account_up", vendor.name()),
            Some("0".into())
        );
    }
    assert!(!document.contains("\napikeys_key_"), "{document}");
    assert!(
        !document.contains("\napikeys_account_last_success"),
        "{document}"
    );
    let build = samples
        .iter()
        .find(|s| s.name == "apikeys_exporter_build_info");
    assert_eq!(
        build.map(|s| (s.label("version"), s.value.as_str())),
        Some((env!("CARGO_PKG_VERSION"), "1"))
    );

    let (_, first) = exporter.after_audit(0);
    let nuki = |samples: &[Sample]| {
        key_series(samples)
            .into_iter()
            .filter(|((_, account, _, _), _)| account == "nuki")
            .collect::<BTreeMap<_, _>>()
    };
    let nuki_keys = nuki(&first);
    assert!(!nuki_keys.is_empty());
    let success = value(
        &first,
        "apikeys_account_last_success_timestamp_seconds",
        "nuki",
    )
    .unwrap();
    assert_eq!(
        value(&first, "apikeys_account_up", "nuki"),
        Some("1".into())
    );

    // Nuki now refuses the credential: down, its keys kept, its last success unchanged.
    f.sandbox
        .set_faults([FaultRule::new(Vendor::Nuki, "list", Fault::status(401))])
        .unwrap();
    let refused_at = Utc::now().timestamp();
    let (document, later) = exporter.after_audit(refused_at);
    assert_eq!(
        value(&later, "apikeys_account_up", "nuki"),
        Some("0".into())
    );
    assert_eq!(nuki(&later), nuki_keys);
    assert_eq!(
        value(
            &later,
            "apikeys_account_last_success_timestamp_seconds",
            "nuki"
        ),
        Some(success)
    );
    assert_eq!(
        value(&later, "apikeys_account_up", "balena"),
        Some("1".into())
    );
    assert!(promtool_complaint(&document).is_none());
    assert!(
        exporter
            .stderr
            .lock()
            .unwrap()
            .contains("account `nuki` (nuki) could not be audited: the credential was refused")
    );
}

#[test]
fn sigterm_stops_it_gracefully_and_short_intervals_are_refused() {
    let f = Fixture::start();
    let mut exporter = Exporter::start(&f, &["--interval", "1h"]);
    exporter.metrics();
    let status = Command::new("kill")
        .args(["-TERM", &exporter.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = exporter.child.try_wait().unwrap() {
            break exit;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0));
    std::thread::sleep(Duration::from_millis(100));
    assert!(exporter.stderr.lock().unwrap().contains("stopped"));

    let config = f.every_vendor();
    for interval in ["59s", "1s", "0s"] {
        f.command("exporter", &config)
            .args(["--interval", interval, "--listen", "127.0.0.1:0"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("--interval must be at least 60s"));
    }
    common::apikeys()
        .args(["exporter", "--help"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "The metrics name every key and its id",
        ))
        .stdout(predicates::str::contains(
            "Exits 0 once stopped by Ctrl-C or SIGTERM",
        ));
    // A port in use is a failure to start, not a hang.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    f.command("exporter", &config)
        .args(["--listen", &addr])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("could not listen on"));
}

/// A Prometheus server (Debian's `prometheus` package, which `.ci/run` installs) on a free
/// loopback port, scraping `target` every second as job `apikeys`, with the shipped alerting
/// rules evaluated every second; killed when dropped.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Prometheus {
    /// `None`, saying why, when Prometheus is not installed.
    fn start(dir: &std::path::Path, target: SocketAddr) -> Option<Prometheus> {
        if Command::new("prometheus")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipped: prometheus is not installed (apt-get install prometheus)");
            return None;
        }
        let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../contrib/prometheus/apikeys.rules.yml")
            .canonicalize()
            .expect("the shipped rules, contrib/prometheus/apikeys.rules.yml");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 rule_files: [{rules:?}]\n\
                 scrape_configs:\n  - job_name: apikeys\n    static_configs:\n      \
                 - targets: [\"{target}\"]\n"
            ),
        )
        .unwrap();
        // A port free a moment ago; should another process take it first, the readiness
        // wait below fails with Prometheus's log.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let log = dir.join("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Some(Prometheus { child, addr, log })
    }

    /// Asks the HTTP API `path` until `done` holds of the answer's `data`, for a minute.
    fn wait_for(&self, path: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let start = Instant::now();
        let mut last = None;
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(stream) = TcpStream::connect(self.addr) {
                drop(stream);
                let (status, _, body) = get(self.addr, path);
                if status == 200 {
                    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
                    if done(&answer["data"]) {
                        return answer["data"].clone();
                    }
                    last = Some(answer);
                }
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "{path}: not within a minute; last answer {last:?}\nprometheus' log:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (account, key id) of a Prometheus series or alert.
fn account_and_key(labels: &serde_json::Value) -> (String, String) {
    let label = |name: &str| labels[name].as_str().unwrap_or_default().to_string();
    (label("account"), label("key_id"))
}

#[test]
fn prometheus_stores_what_the_audit_says_and_the_shipped_rules_fire_for_the_flagged_keys() {
    let f = Fixture::start();
    let now = Utc::now();
    let days = chrono::Duration::days;
    for &vendor in Vendor::ALL {
        for key in [
            SeedKey::new("e2e-old").created_at(now - days(400)),
            SeedKey::new("e2e-expired")
                .created_at(now - days(60))
                .expires_at(now - days(1)),
            // A name the exposition format must escape and Prometheus must give back whole.
            SeedKey::new("e2e \"expiring\" \\ {soon}")
                .created_at(now - days(20))
                .expires_at(now + days(3)),
            SeedKey::new("e2e-later")
                .created_at(now - days(20))
                .expires_at(now + days(300)),
        ] {
            match f.sandbox.seed(vendor, [key]) {
                Ok(_) | Err(apikeys_sandbox::SeedError::Unsupported { .. }) => {}
                Err(error) => panic!("{vendor}: {error}"),
            }
        }
    }
    let policy = ["--max-age", "365d", "--expiring-within", "14d"];

    // What the audit says: each key's expiry, and which keys each rule must fire for.
    let out = f
        .audit(&f.every_vendor())
        .args(["--all", "--json"])
        .args(policy)
        .assert()
        .code(7);
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let mut expiries = BTreeMap::new();
    let mut flagged: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for record in &records {
        let key = (
            record["account"].as_str().unwrap().to_string(),
            record["id"].as_str().unwrap().to_string(),
        );
        if let Some(expires) = record["expires_at"].as_str() {
            let expires: chrono::DateTime<Utc> = expires.parse().unwrap();
            let name = record["name"].as_str().unwrap_or_default().to_string();
            expiries.insert(key.clone(), (name, expires.timestamp().to_string()));
        }
        for finding in record["findings"].as_array().unwrap() {
            let alert = match finding.as_str().unwrap() {
                "expired" => "ApiKeyExpired",
                "expiring" => "ApiKeyExpiringSoon",
                "too-old" => "ApiKeyTooOld",
                _ => continue,
            };
            flagged.entry(alert).or_default().push(key.clone());
        }
    }
    // Each vendor that can hold an expiry gave three, and each rule has keys to fire for.
    assert!(expiries.len() >= 9, "{records:?}");
    assert_eq!(flagged.len(), 3, "{records:?}");

    let mut args = vec!["--interval", "1h"];
    args.extend(policy);
    let exporter = Exporter::start(&f, &args);
    let dir = common::tempdir();
    let Some(prometheus) = Prometheus::start(&dir, exporter.addr) else {
        return;
    };

    let stored = prometheus.wait_for(
        "/api/v1/query?query=apikeys_key_expiry_timestamp_seconds",
        |data| data["result"].as_array().map(Vec::len) == Some(expiries.len()),
    );
    let mut series = BTreeMap::new();
    for one in stored["result"].as_array().unwrap() {
        let labels = &one["metric"];
        assert_eq!(labels["job"], "apikeys", "{one}");
        assert_eq!(labels["instance"], exporter.addr.to_string(), "{one}");
        assert_eq!(labels["vendor"], labels["account"], "{one}");
        let name = labels["key_name"].as_str().unwrap().to_string();
        let value = one["value"][1].as_str().unwrap().to_string();
        series.insert(account_and_key(labels), (name, value));
    }
    assert_eq!(series, expiries);

    // Prometheus evaluates the shipped rules on those series: firing for the keys the audit
    // flags, and for no other.
    let expected: usize = flagged.values().map(Vec::len).sum();
    let alerts = prometheus.wait_for("/api/v1/alerts", |data| {
        data["alerts"].as_array().is_some_and(|alerts| {
            alerts.iter().filter(|a| a["state"] == "firing").count() == expected
        })
    });
    let mut fired: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    // Pending ones are left out: the exporter-absent rule, say, until the first scrape.
    for alert in alerts["alerts"].as_array().unwrap() {
        if alert["state"] != "firing" {
            continue;
        }
        let name = alert["labels"]["alertname"].as_str().unwrap();
        let name = *flagged
            .keys()
            .find(|flagged| **flagged == name)
            .unwrap_or_else(|| panic!("an alert no key calls for: {alert}"));
        fired
            .entry(name)
            .or_default()
            .push(account_and_key(&alert["labels"]));
    }
    for keys in fired.values_mut().chain(flagged.values_mut()) {
        keys.sort();
    }
    assert_eq!(fired, flagged);
}
