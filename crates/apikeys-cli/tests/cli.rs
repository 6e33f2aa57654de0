//! The `apikeys` binary, run against a sandbox started in the test.

use apikeys_sandbox::{Sandbox, Vendor};
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// A sandbox running on its own runtime for as long as the test holds it.
struct Fixture {
    sandbox: Sandbox,
    // Declared after the sandbox: dropped last, so the server stops inside its runtime.
    _runtime: tokio::runtime::Runtime,
}

impl Fixture {
    fn start() -> Fixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = runtime.block_on(Sandbox::start()).unwrap();
        Fixture {
            sandbox,
            _runtime: runtime,
        }
    }

    /// `apikeys <vendor> <args...>` against the sandbox, authenticated with `api_key`
    /// through the vendor's environment variable.
    fn run_with_key(&self, vendor: Vendor, api_key: &str, args: &[&str]) -> Command {
        let mut cmd = apikeys();
        let name = vendor.name();
        cmd.arg(name).args(args);
        cmd.arg("--base-url").arg(self.sandbox.base_url(vendor));
        let scopes = self.sandbox.scopes();
        match vendor {
            Vendor::ThingsBoard => {
                cmd.arg("--user-id")
                    .arg(scopes.thingsboard.user_id.to_string());
            }
            Vendor::SensorBucket => {
                cmd.arg("--tenant-id")
                    .arg(scopes.sensorbucket.tenant_id.to_string())
                    .arg("--permission")
                    .arg("READ_DEVICES");
            }
            Vendor::Automox => {
                cmd.arg("--org")
                    .arg(scopes.automox.org_id.to_string())
                    .arg("--user-id")
                    .arg(scopes.automox.user_id.to_string());
            }
            Vendor::Nuki | Vendor::Balena => {}
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
fn apikeys() -> Command {
    let mut cmd = Command::cargo_bin("apikeys").unwrap();
    for (name, _) in std::env::vars() {
        if name.starts_with("APIKEYS_") {
            cmd.env_remove(name);
        }
    }
    cmd.timeout(std::time::Duration::from_secs(60));
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn demo_runs_the_lifecycle_at_every_vendor() {
    let out = apikeys().arg("demo").assert().success();
    let stdout = text(&out.get_output().stdout);
    for vendor in Vendor::ALL {
        assert!(
            stdout.contains(vendor.name()),
            "{vendor} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("5 of 5 vendors"), "{stdout}");
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
    assert_eq!(
        vendors,
        ["thingsboard", "sensorbucket", "nuki", "balena", "automox"]
    );
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
    for vendor in Vendor::ALL {
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
    for vendor in Vendor::ALL {
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
    for vendor in Vendor::ALL {
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
fn create_without_show_secret_says_it_was_not_printed() {
    let fixture = Fixture::start();
    let out = fixture
        .run(Vendor::Automox, &["create", "--name", "quiet"])
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    assert!(
        stdout.contains("shown once") && stdout.contains("not printed"),
        "{stdout}"
    );
    assert!(stdout.contains("--show-secret"), "{stdout}");

    let out = fixture
        .run(
            Vendor::Automox,
            &["create", "--name", "quiet-json", "--json"],
        )
        .assert()
        .success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["key"]["name"], "quiet-json");
    assert!(json.get("secret").is_none(), "{json}");
}

#[test]
fn an_unknown_key_exits_4() {
    let fixture = Fixture::start();
    for vendor in Vendor::ALL {
        let unknown = match vendor {
            Vendor::ThingsBoard => "00000000-0000-4000-8000-000000000000",
            _ => "999999999",
        };
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
    for vendor in Vendor::ALL {
        let out = fixture
            .run(vendor, &["create", "--name", "to-rotate", "--json"])
            .assert()
            .success();
        let created: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let old = created["key"]["id"].as_str().unwrap().to_string();

        let out = fixture
            .run(
                vendor,
                &["rotate", "--old", &old, "--name", "rotated", "--json"],
            )
            .assert()
            .success();
        let rotated: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
        let new = rotated["key"]["id"].as_str().unwrap().to_string();
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
fn a_failed_rotation_names_the_step_and_exits_with_its_cause() {
    // The old key does not exist: the new key is created and confirmed, the revoke fails.
    let fixture = Fixture::start();
    let out = fixture
        .run(
            Vendor::Nuki,
            &["rotate", "--old", "999999999", "--name", "half-rotated"],
        )
        .assert()
        .code(4);
    let stdout = text(&out.get_output().stdout);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("rotation failed at the revoke step"),
        "{stderr}"
    );
    assert!(stdout.contains("nuki key "), "the new key's id: {stdout}");
    assert!(stdout.contains("not printed"), "{stdout}");
}

#[test]
fn update_renames_a_key() {
    let fixture = Fixture::start();
    let out = fixture
        .run(Vendor::Balena, &["create", "--name", "before", "--json"])
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
