//! `apikeys audit --html FILE`: the page's content for a seeded sandbox, hostile names,
//! the file's writing, its rendering in headless Chromium, and its size at scale.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use apikeys_sandbox::{SeedKey, Vendor};
use chrono::Utc;
use common::accounts::Fixture;
use common::{Running, apikeys, tempdir, text};
use serde_json::Value;

/// The browsers tried, by the names distributions give them: Debian's `chromium` (which
/// `.ci/run` installs), Ubuntu's `chromium-browser`, Google's `google-chrome`.
const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// The first of [`BROWSERS`] that starts.
fn browser() -> Option<&'static str> {
    BROWSERS.into_iter().find(|name| {
        std::process::Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// `apikeys audit --sandbox --all --json --html <dir>/report.html`: the page and the records.
fn sandbox_report(dir: &Path) -> (PathBuf, String, Vec<Value>) {
    let path = dir.join("report.html");
    let out = apikeys()
        .args(["audit", "--sandbox", "--all", "--json", "--html"])
        .arg(&path)
        .assert()
        .code(7);
    let records: Vec<Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let page = std::fs::read_to_string(&path).unwrap();
    (path, page, records)
}

/// Chromium's rendered DOM of `page` (`None`: chromium is not installed); killed after a
/// minute.
fn rendered(page: &Path, dir: &Path) -> Option<String> {
    let Some(browser) = browser() else {
        eprintln!("skipped: none of {BROWSERS:?} is installed (apt-get install chromium)");
        return None;
    };
    let dom = dir.join("dom.html");
    let mut child = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
        ])
        .args(["--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&dom).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium: {status}");
            break;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(std::fs::read_to_string(dom).unwrap())
}

#[test]
fn the_sandbox_report_shows_every_account_and_key_and_renders_in_chromium() {
    let dir = tempdir();
    let (path, page, records) = sandbox_report(&dir);
    assert!(!records.is_empty());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    // Self-contained: no script, no external asset (the SVG namespace is a name, not a load).
    assert!(!page.contains("<script"), "a script in the page");
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "{external} in the page");
    }
    for part in [
        "Summary",
        "max age",
        "365d",
        "expiring within",
        "14d",
        "<svg",
        "today",
        "never expires",
        "too-old",
        "expired",
        "expiring",
        "disabled",
    ] {
        assert!(page.contains(part), "{part} missing");
    }
    for record in &records {
        for field in ["account", "id"] {
            let value = record[field].as_str().unwrap();
            assert!(page.contains(value), "{field} {value} missing");
        }
    }
    let Some(dom) = rendered(&path, &dir) else {
        return;
    };
    assert!(dom.contains("<svg"), "no SVG in the rendered DOM");
    assert!(
        dom.contains("<rect"),
        "no timeline bars in the rendered DOM"
    );
    assert!(dom.contains("<line class=\"today\""), "no today line");
    for record in &records {
        for field in ["account", "id"] {
            let value = record[field].as_str().unwrap();
            assert!(dom.contains(value), "{field} {value} not rendered");
        }
    }
}

#[test]
fn hostile_names_are_escaped_and_sanitised_and_no_secret_is_written() {
    let sandbox = Running::start();
    let long = "x".repeat(5000);
    let names = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "it's \u{202e}gnp.exe\u{7}",
        long.as_str(),
    ];
    sandbox
        .seed(
            Vendor::ThingsBoard,
            names.iter().map(|name| SeedKey::new(*name)),
        )
        .unwrap();
    let dir = tempdir();
    let config = dir.join("config.toml");
    common::thingsboard_config(&sandbox, &config, "TB_KEY");
    let path = dir.join("report.html");
    apikeys()
        .args(["audit", "--all", "--config"])
        .arg(&config)
        .arg("--html")
        .arg(&path)
        .env("TB_KEY", sandbox.thingsboard_key())
        .assert()
        .code(0);
    let page = std::fs::read_to_string(&path).unwrap();
    assert!(!page.contains("<script>alert"), "a script tag got through");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<img"), "an img tag got through");
    assert!(page.contains("&quot;&gt;&lt;img"));
    assert!(!page.contains('\u{202e}') && !page.contains('\u{7}'));
    assert!(
        page.contains("\\u{202e}gnp.exe\\u{7}"),
        "bidi and bell not shown"
    );
    assert!(!page.contains(&"x".repeat(200)), "a long name not cut");
    assert!(page.contains(&format!("{}…", "x".repeat(199))));
    assert!(
        !page.contains(&sandbox.thingsboard_key()),
        "the credential is in the page"
    );
}

#[test]
fn a_symbolic_link_at_the_file_is_refused_and_a_file_is_replaced() {
    let dir = tempdir();
    let target = dir.join("target.txt");
    std::fs::write(&target, "untouched").unwrap();
    let link = dir.join("report.html");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = apikeys()
        .args(["audit", "--sandbox", "--html"])
        .arg(&link)
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("is a symbolic link: --html replaces only a regular file"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // A regular file is replaced, and nothing temporary is left beside it.
    std::fs::remove_file(&link).unwrap();
    std::fs::write(&link, "old").unwrap();
    apikeys()
        .args(["audit", "--sandbox", "--html"])
        .arg(&link)
        .assert()
        .code(7);
    assert!(
        std::fs::read_to_string(&link)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A clean run that cannot write the page exits with the output failure.
    apikeys()
        .args([
            "audit",
            "--sandbox",
            "--max-age",
            "100000d",
            "--expiring-within",
            "1s",
        ])
        .args(["--disabled-keys=false", "--html"])
        .arg(dir.join("missing").join("report.html"))
        .assert()
        .failure();
}

/// 2,000 keys in each of the five vendors: the page stays usable (the timeline draws 200
/// bars per account, the table every key); its size and time are printed.
#[test]
fn five_accounts_of_two_thousand_keys_make_a_usable_page() {
    let f = Fixture::start();
    let now = Utc::now();
    for &vendor in Vendor::ALL {
        let keys = (0..2000).map(|i| {
            SeedKey::new(format!("key-{i}")).created_at(now - chrono::Duration::days(i % 900))
        });
        f.sandbox.seed(vendor, keys).unwrap();
    }
    let path = f.dir.join("report.html");
    let mut cmd = f.audit(&f.every_vendor());
    cmd.args(["--max-age", "365d", "--html"]).arg(&path);
    let started = Instant::now();
    cmd.assert().code(7);
    let took = started.elapsed();
    let page = std::fs::read_to_string(&path).unwrap();
    eprintln!(
        "5 accounts x 2000 keys: page {} bytes, audit with --html {took:?}",
        page.len()
    );
    // The sandbox's own seeded keys come on top of the 2,000.
    assert!(page.matches("<tr><td><code>").count() >= 5 * 2000);
    assert_eq!(page.matches("class=\"bar ").count(), 5 * 200);
    assert_eq!(page.matches("The timeline draws 200 of 20").count(), 5);
}
