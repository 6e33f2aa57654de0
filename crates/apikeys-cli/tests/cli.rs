//! The `apikeys` binary, run against a sandbox started in the test.

mod common;

use apikeys_sandbox::Vendor;
use assert_cmd::Command;
use common::{Running, apikeys, tempdir, text};
use predicates::prelude::*;
use serde_json::Value;

/// A sandbox running on its own runtime for as long as the test holds it.
struct Fixture {
    sandbox: Running,
}

impl Fixture {
    fn start() -> Fixture {
        let sandbox = Running::start();
        Fixture { sandbox }
    }

    /// `apikeys <vendor> <args...>` against the sandbox, authenticated with `api_key`
    /// through the vendor's environment variable.
    fn run_with_key(&self, vendor: Vendor, api_key: &str, args: &[&str]) -> Command {
        let mut cmd = apikeys();
        let name = vendor.name();
        cmd.arg(name).args(args);
        cmd.arg("--base-url").arg(self.sandbox.base_url(vendor));
        // The vendor table's scope flags, as the CLI's demo passes them.
        for (flag, value) in common::vendors::scope(&self.sandbox, vendor) {
            cmd.arg(format!("--{flag}")).arg(common::flag_value(&value));
        }
        cmd.env(
            format!("APIKEYS_{}_API_KEY", name.to_ascii_uppercase()),
            api_key,
        );
        cmd
    }

    /// `apikeys <vendor> <args...>` with the sandbox's credential.
    fn run(&self, vendor: Vendor, args: &[&str]) -> Command {
        let key = self.sandbox.credential(vendor);
        self.run_with_key(vendor, key.expose_secret(), args)
    }

    /// The keys `list --json` reports.
    fn list(&self, vendor: Vendor) -> Vec<Value> {
        let out = self.run(vendor, &["list", "--json"]).assert().success();
        let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        json.as_array().unwrap().clone()
    }
}

/// The binary, with no `APIKEYS_*` variable of the caller's leaking in.
#[test]
fn demo_runs_the_lifecycle_at_every_vendor() {
    let out = apikeys().arg("demo").assert().success();
    let stdout = text(&out.get_output().stdout);
    for &vendor in Vendor::ALL {
        assert!(
            stdout.contains(vendor.name()),
            "{vendor} missing:\n{stdout}"
        );
    }
    // issue 23, part 2: every vendor of the table, however many.
    let all = Vendor::ALL.len();
    assert!(
        stdout.contains(&format!("{all} of {all} vendors")),
        "{stdout}"
    );
    assert!(stdout.contains("secret: received, not shown"), "{stdout}");
    assert!(!stdout.contains("FAILED"), "{stdout}");
}

#[test]
fn demo_json_reports_every_step_ok() {
    let out = apikeys().args(["demo", "--json"]).assert().success();
    let reports: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let reports = reports.as_array().unwrap();
    let vendors: Vec<&str> = reports
        .iter()
        .map(|r| r["vendor"].as_str().unwrap())
        .collect();
    let all: Vec<&str> = Vendor::ALL.iter().map(|v| v.name()).collect();
    assert_eq!(vendors, all);
    for report in reports {
        assert_eq!(report["ok"], true, "{report}");
        let steps: Vec<&str> = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["step"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["create", "list", "rotate", "revoke", "list"]);
    }
}

#[test]
fn list_json_is_a_json_array_of_keys_at_every_vendor() {
    let fixture = Fixture::start();
    for &vendor in Vendor::ALL {
        let keys = fixture.list(vendor);
        assert!(!keys.is_empty(), "{vendor}: the sandbox seeds keys");
        for key in keys {
            assert!(key["id"].is_string(), "{vendor}: {key}");
            for field in ["name", "enabled", "created_at", "expires_at"] {
                assert!(key.get(field).is_some(), "{vendor}: {field} in {key}");
            }
        }
    }
}

#[test]
fn list_prints_a_table_with_the_documented_columns() {
    let fixture = Fixture::start();
    let out = fixture.run(Vendor::Nuki, &["list"]).assert().success();
    let stdout = text(&out.get_output().stdout);
    for column in ["id", "name", "enabled", "created", "expires"] {
        assert!(stdout.contains(column), "{column}:\n{stdout}");
    }
    // No spinner when stderr is not a terminal.
    assert!(out.get_output().stderr.is_empty());
}

#[test]
fn a_bad_credential_exits_3_with_a_clear_message_and_never_shows_it() {
    let fixture = Fixture::start();
    let canary = "canary-bad-credential-7f3a9c";
    for &vendor in Vendor::ALL {
        for args in [
            &["list"][..],
            &["create", "--name", "x", "--show-secret"][..],
        ] {
            let out = fixture.run_with_key(vendor, canary, args).assert().code(3);
            let (stdout, stderr) = (
                text(&out.get_output().stdout),
                text(&out.get_output().stderr),
            );
            assert!(stdout.is_empty(), "{vendor}: {stdout}");
            assert_eq!(stderr.lines().count(), 1, "{vendor}: one line: {stderr}");
            assert!(
                stderr.starts_with(&format!("apikeys: {}: ", vendor.name())),
                "{vendor}: {stderr}"
            );
            assert!(stderr.contains("credential"), "{vendor}: {stderr}");
            assert!(!stdout.contains(canary) && !stderr.contains(canary));
        }
    }
}

#[test]
fn a_bad_credential_on_the_command_line_is_not_echoed_either() {
    let fixture = Fixture::start();
    let canary = "canary-flag-credential-91b2";
    let mut cmd = fixture.run_with_key(Vendor::Balena, "", &["list"]);
    cmd.env_remove("APIKEYS_BALENA_API_KEY")
        .args(["--api-key", canary]);
    cmd.assert()
        .code(3)
        .stdout(predicate::str::contains(canary).not())
        .stderr(predicate::str::contains(canary).not());
}

#[test]
fn create_show_secret_prints_the_secret_once_alone_on_the_last_line() {
    let fixture = Fixture::start();
    for &vendor in Vendor::ALL {
        let out = fixture
            .run(vendor, &["create", "--name", "cli-test", "--show-secret"])
            .assert()
            .success();
        let stdout = text(&out.get_output().stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        let secret = *lines.last().unwrap();
        assert!(
            secret.len() >= 8 && !secret.contains(' '),
            "{vendor}: {stdout}"
        );
        assert_eq!(stdout.matches(secret).count(), 1, "{vendor}: {stdout}");
        assert!(!text(&out.get_output().stderr).contains(secret));
        // The first line names the new key, which the list now has.
        let listed = fixture.list(vendor);
        let id = listed
            .iter()
            .map(|key| key["id"].as_str().unwrap().to_string())
            .find(|id| lines[0].contains(id.as_str()))
            .unwrap_or_else(|| panic!("{vendor}: no listed id in {:?}", lines[0]));
        assert!(!secret.contains(&id) || secret.len() > id.len());
    }
}

#[test]
fn the_shown_secret_is_a_working_credential() {
    // A ThingsBoard key of the user authenticates as that user.
    let fixture = Fixture::start();
    let out = fixture
        .run(
            Vendor::ThingsBoard,
            &["create", "--name", "cli-login", "--show-secret"],
        )
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    let secret = stdout.lines().last().unwrap().to_string();
    fixture
        .run_with_key(Vendor::ThingsBoard, &secret, &["list", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("cli-login"));
}

#[test]
fn create_without_a_secret_destination_exits_2_and_creates_nothing() {
    let fixture = Fixture::start();
    for &vendor in Vendor::ALL {
        let before = fixture.list(vendor).len();
        let out = fixture
            .run(vendor, &["create", "--name", "x"])
            .assert()
            .code(2);
        let stderr = text(&out.get_output().stderr);
        assert!(
            stderr.contains("--secret-file") && stderr.contains("--show-secret"),
            "{stderr}"
        );
        fixture
            .run(vendor, &["rotate", "--old", "1", "--name", "x", "--json"])
            .assert()
            .code(2);
        assert_eq!(fixture.list(vendor).len(), before, "{vendor}");
    }
}

#[test]
fn create_json_with_show_secret_gives_the_secret_as_a_field() {
    let fixture = Fixture::start();
    let out = fixture
        .run(
            Vendor::Automox,
            &["create", "--name", "json-secret", "--json", "--show-secret"],
        )
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["key"]["name"], "json-secret");
    let secret = json["secret"].as_str().unwrap();
    assert!(secret.len() >= 8, "{json}");
}

#[test]
fn create_secret_file_is_0600_and_never_overwritten_without_force() {
    let fixture = Fixture::start();
    let dir = tempdir();
    let file = dir.join("secret");
    let path = file.to_str().unwrap();
    let out = fixture
        .run(
            Vendor::ThingsBoard,
            &["create", "--name", "to-file", "--secret-file", path],
        )
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    let secret = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(secret.len() >= 8 && !stdout.contains(&secret), "{stdout}");
    assert_eq!(mode(&file), 0o600);
    // It authenticates.
    fixture
        .run_with_key(Vendor::ThingsBoard, &secret, &["list", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("to-file"));

    let before = fixture.list(Vendor::ThingsBoard).len();
    fixture
        .run(
            Vendor::ThingsBoard,
            &["create", "--name", "again", "--secret-file", path],
        )
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(fixture.list(Vendor::ThingsBoard).len(), before);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), secret);

    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    fixture
        .run(
            Vendor::ThingsBoard,
            &[
                "create",
                "--name",
                "again",
                "--secret-file",
                path,
                "--force",
            ],
        )
        .assert()
        .success();
    assert_ne!(std::fs::read_to_string(&file).unwrap().trim(), secret);
    assert_eq!(mode(&file), 0o600);
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_unknown_key_exits_4() {
    let fixture = Fixture::start();
    for &vendor in Vendor::ALL {
        let unknown = vendor.unknown_id();
        fixture
            .run(vendor, &["get", unknown])
            .assert()
            .code(4)
            .stderr(predicate::str::starts_with(format!(
                "apikeys: {}: ",
                vendor.name()
            )))
            .stderr(predicate::str::contains("not found"));
    }
    fixture
        .run(Vendor::Nuki, &["revoke", "999999999"])
        .assert()
        .code(4);
}

#[test]
fn rotate_replaces_the_key_and_revoke_removes_it() {
    let fixture = Fixture::start();
    for &vendor in Vendor::ALL {
        let out = fixture
            .run(
                vendor,
                &["create", "--name", "to-rotate", "--json", "--show-secret"],
            )
            .assert()
            .success();
        let created: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let old = created["key"]["id"].as_str().unwrap().to_string();

        let out = fixture
            .run(
                vendor,
                &[
                    "rotate",
                    "--old",
                    &old,
                    "--name",
                    "rotated",
                    "--json",
                    "--show-secret",
                ],
            )
            .assert()
            .success();
        let rotated: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        assert_eq!(rotated["old"], old.as_str(), "{rotated}");
        let new = rotated["new"]["id"].as_str().unwrap().to_string();
        assert!(rotated["secret"].as_str().is_some(), "{rotated}");
        assert_ne!(old, new);

        fixture.run(vendor, &["get", &old]).assert().code(4);
        fixture.run(vendor, &["get", &new]).assert().success();
        fixture
            .run(vendor, &["revoke", &new])
            .assert()
            .success()
            .stdout(predicate::str::contains(&new));
        fixture.run(vendor, &["get", &new]).assert().code(4);
    }
}

#[test]
fn rotating_an_unknown_key_exits_4_and_creates_nothing() {
    let fixture = Fixture::start();
    let dir = tempdir();
    for &vendor in Vendor::ALL {
        let unknown = vendor.unknown_id();
        let before = fixture.list(vendor).len();
        let file = dir.join(format!("{}-secret", vendor.name()));
        let out = fixture
            .run(
                vendor,
                &[
                    "rotate",
                    "--old",
                    unknown,
                    "--name",
                    "never",
                    "--secret-file",
                    file.to_str().unwrap(),
                ],
            )
            .assert()
            .code(4);
        let stderr = text(&out.get_output().stderr);
        assert!(
            stderr.contains("rotation failed at the check step"),
            "{vendor}: {stderr}"
        );
        assert_eq!(
            fixture.list(vendor).len(),
            before,
            "{vendor}: nothing created"
        );
        assert!(!file.exists(), "{vendor}");
    }
}

#[test]
fn rotate_writes_a_0600_secret_file_that_authenticates_and_revokes_the_old_key() {
    let fixture = Fixture::start();
    let dir = tempdir();
    let out = fixture
        .run(
            Vendor::ThingsBoard,
            &["create", "--name", "old-one", "--json", "--show-secret"],
        )
        .assert()
        .success();
    let created: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let old = created["key"]["id"].as_str().unwrap().to_string();
    let file = dir.join("rotated");
    let out = fixture
        .run(
            Vendor::ThingsBoard,
            &[
                "rotate",
                "--old",
                &old,
                "--name",
                "new-one",
                "--secret-file",
                file.to_str().unwrap(),
            ],
        )
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    assert_eq!(mode(&file), 0o600);
    let secret = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(!stdout.contains(&secret), "{stdout}");
    fixture
        .run_with_key(Vendor::ThingsBoard, &secret, &["list", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("new-one"));
    fixture
        .run(Vendor::ThingsBoard, &["get", &old])
        .assert()
        .code(4);
}

#[test]
fn balena_revoke_of_an_unknown_id_exits_4() {
    let fixture = Fixture::start();
    fixture
        .run(Vendor::Balena, &["revoke", "999999999"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("not found"));
}

#[test]
fn a_name_with_an_escape_sequence_never_reaches_the_terminal() {
    let fixture = Fixture::start();
    let name = "evil\u{1b}]0;pwned\u{7}\u{1b}[31mred\r";
    for vendor in [Vendor::ThingsBoard, Vendor::Balena] {
        let out = fixture
            .run(vendor, &["create", "--name", name, "--show-secret"])
            .assert()
            .success();
        assert!(!out.get_output().stdout.contains(&0x1b));
        let out = fixture.run(vendor, &["list"]).assert().success();
        let stdout = &out.get_output().stdout;
        assert!(
            !stdout.contains(&0x1b) && !stdout.contains(&0x07),
            "{vendor}"
        );
        // Shown, as an escape (issue 22, case 11), rather than dropped.
        assert!(text(stdout).contains("evil\\u{1b}]0;"), "{vendor}");
    }
}

// issue 22, case 9: a closed stdout is reported and never exits 0 (10 when the command
// otherwise succeeded; tests/exit_codes.rs shows a failure keeping its own code).
#[test]
fn a_closed_pipe_is_reported_and_exits_10() {
    use std::process::Stdio;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("apikeys"))
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before the demo writes its first byte (`| head -0`; `head -1`
    // differs only in how much fits the pipe first).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(10), "{:?}", out.status);
    assert!(
        text(&out.stderr).contains("apikeys: demo: could not write to stdout"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn tables_fit_100_columns_without_breaking_ids() {
    let fixture = Fixture::start();
    let long = "a name long enough to need wrapping in any table that fits a hundred columns";
    let out = fixture
        .run(
            Vendor::ThingsBoard,
            &["create", "--name", long, "--json", "--show-secret"],
        )
        .assert()
        .success();
    let created: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let id = created["key"]["id"].as_str().unwrap().to_string();
    let out = fixture
        .run(Vendor::ThingsBoard, &["list"])
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    for line in stdout.lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
    assert!(stdout.contains(&id), "{stdout}");
}

#[test]
fn json_errors_are_json_on_stderr() {
    let fixture = Fixture::start();
    let out = fixture
        .run(Vendor::Nuki, &["get", "999999999", "--json"])
        .assert()
        .code(4);
    let error: Value = serde_json::from_slice(&out.get_output().stderr).unwrap();
    assert_eq!(error["error"]["exit_code"], 4);
    assert_eq!(error["error"]["vendor"], "nuki");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
}

#[test]
fn the_credential_comes_from_a_file_or_stdin() {
    let fixture = Fixture::start();
    let key = fixture.sandbox.credential(Vendor::Nuki);
    let dir = tempdir();
    let file = dir.join("key");
    std::fs::write(&file, format!("{}\n", key.expose_secret())).unwrap();
    let base = fixture.sandbox.base_url(Vendor::Nuki);
    apikeys()
        .args(["nuki", "list", "--base-url", &base, "--api-key-file"])
        .arg(&file)
        .assert()
        .success();
    apikeys()
        .args(["nuki", "list", "--base-url", &base, "--api-key", "-"])
        .write_stdin(format!("{}\n", key.expose_secret()))
        .assert()
        .success();
}

#[test]
fn a_refused_credential_names_the_vendors_variable() {
    let fixture = Fixture::start();
    fixture
        .run_with_key(Vendor::ThingsBoard, "not-a-key-at-all", &["list"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("APIKEYS_THINGSBOARD_API_KEY"))
        .stderr(predicate::str::contains("<VENDOR>").not());
}

#[test]
fn plain_http_is_refused_naming_the_flag_and_allowed_with_it() {
    apikeys()
        .args(["balena", "list", "--base-url", "http://example.invalid"])
        .env("APIKEYS_BALENA_API_KEY", "some-balena-key")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--allow-insecure-http"));
    // With the flag the request is made (and fails only because the host does not exist).
    apikeys()
        .args(["balena", "list", "--timeout", "5", "--allow-insecure-http"])
        .args(["--base-url", "http://example.invalid"])
        .env("APIKEYS_BALENA_API_KEY", "some-balena-key")
        .assert()
        .code(6);
}

#[test]
fn an_empty_name_is_refused_in_the_users_words() {
    let fixture = Fixture::start();
    let out = fixture
        .run(
            Vendor::ThingsBoard,
            &["create", "--name", "", "--show-secret"],
        )
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("--name cannot be empty"), "{stderr}");
    assert!(!stderr.contains("conversion"), "{stderr}");
}

#[test]
fn update_renames_a_key() {
    let fixture = Fixture::start();
    let out = fixture
        .run(
            Vendor::Balena,
            &["create", "--name", "before", "--json", "--show-secret"],
        )
        .assert()
        .success();
    let created: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let id = created["key"]["id"].as_str().unwrap().to_string();
    let out = fixture
        .run(
            Vendor::Balena,
            &["update", &id, "--name", "after", "--json"],
        )
        .assert()
        .success();
    let updated: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(updated["name"], "after");
}

#[test]
fn invalid_input_exits_2() {
    // clap's own errors
    apikeys().args(["nuki", "frobnicate"]).assert().code(2);
    apikeys()
        .args(["thingsboard", "list", "--user-id", "not-a-uuid"])
        .assert()
        .code(2);
    // no credential
    apikeys()
        .args(["nuki", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("APIKEYS_NUKI_API_KEY"));
    // no scope
    apikeys()
        .args(["automox", "list", "--org", "1"])
        .env("APIKEYS_AUTOMOX_API_KEY", "k")
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("apikeys: automox: --user-id"));
    // a new sensorbucket key without a permission
    apikeys()
        .args(["sensorbucket", "create", "--name", "n", "--tenant-id", "1"])
        .env("APIKEYS_SENSORBUCKET_API_KEY", "k")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--permission"));
    // a base URL that would send the credential in clear text
    apikeys()
        .args(["balena", "list", "--base-url", "http://example.com"])
        .env("APIKEYS_BALENA_API_KEY", "secret-in-env")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("secret-in-env").not());
}

#[test]
fn an_unreachable_server_exits_6() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    apikeys()
        .args(["nuki", "list", "--timeout", "5"])
        .args(["--base-url", &format!("http://127.0.0.1:{port}")])
        .env("APIKEYS_NUKI_API_KEY", "unreachable-key")
        .assert()
        .code(6)
        .stderr(predicate::str::starts_with(
            "apikeys: nuki: could not talk to the server",
        ));
}

#[test]
fn help_documents_the_exit_codes_and_hides_the_credential() {
    let out = apikeys()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("6  network"));
    drop(out);
    apikeys()
        .args(["nuki", "--help"])
        .env("APIKEYS_NUKI_API_KEY", "help-canary-secret")
        .assert()
        .success()
        .stdout(predicate::str::contains("APIKEYS_NUKI_API_KEY"))
        .stdout(predicate::str::contains("help-canary-secret").not());
}

/// A server on loopback that answers every request 429 with a `Retry-After` longer than
/// any retry budget, the way Nuki throttles.
fn throttling_server() -> String {
    use std::io::{Read, Write};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0; 8192];
            let _ = stream.read(&mut request);
            let body = r#"{"detailMessage":"Too many requests"}"#;
            let response = format!(
                "HTTP/1.1 429 Too Many Requests\r\nretry-after: 3600\r\n\
                 content-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_throttled_request_exits_5_and_says_to_try_later() {
    let base_url = throttling_server();
    apikeys()
        .args(["nuki", "list", "--base-url", &base_url])
        .env("APIKEYS_NUKI_API_KEY", "nuki-throttled-key")
        .assert()
        .code(5)
        .stderr(predicate::str::starts_with("apikeys: nuki: rate limited"))
        .stderr(predicate::str::contains("Too many requests"))
        .stderr(predicate::str::contains("nuki-throttled-key").not());
}

#[test]
fn automox_says_plainly_that_a_user_holds_at_most_10_active_keys() {
    let fixture = Fixture::start();
    let mut refused = None;
    for n in 0..12 {
        let name = format!("key-{n}");
        let out = fixture
            .run(
                Vendor::Automox,
                &["create", "--name", &name, "--show-secret"],
            )
            .assert();
        if out.get_output().status.code() != Some(0) {
            refused = Some(out.code(2));
            break;
        }
    }
    let out = refused.expect("the sandbox refuses an 11th active key");
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("at most 10 active API keys"), "{stderr}");
}

#[test]
fn a_secret_file_that_cannot_be_created_is_refused_before_any_key_is() {
    let fixture = Fixture::start();
    let out = fixture
        .run(
            Vendor::Nuki,
            &["create", "--name", "keep-me", "--json", "--show-secret"],
        )
        .assert()
        .success();
    let created: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let old = created["key"]["id"].as_str().unwrap().to_string();
    let before = fixture.list(Vendor::Nuki).len();
    let nowhere = tempdir().join("no-such-dir").join("secret");
    let out = fixture
        .run(
            Vendor::Nuki,
            &[
                "rotate",
                "--old",
                &old,
                "--name",
                "unwritable",
                "--secret-file",
                nowhere.to_str().unwrap(),
            ],
        )
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("could not create the --secret-file"),
        "{stderr}"
    );
    // The file is opened before the key is created: no key was.
    let listed = fixture.list(Vendor::Nuki);
    assert_eq!(listed.len(), before, "{listed:?}");
    fixture.run(Vendor::Nuki, &["get", &old]).assert().success();
}

#[test]
fn completions_print_a_script_for_the_shell() {
    apikeys()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_apikeys()"))
        .stdout(predicate::str::contains("complete -F _apikeys"))
        .stdout(predicate::str::contains("thingsboard"))
        .stdout(predicate::str::contains("rotate"));
    for shell in ["zsh", "fish", "powershell"] {
        apikeys()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("apikeys"));
    }
    apikeys().args(["completions", "tcsh"]).assert().code(2);
}
