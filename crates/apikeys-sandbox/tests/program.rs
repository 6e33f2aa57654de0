//! What the `apikeys-sandbox` program prints is enough to write a test against it: the
//! ThingsBoard credential's own key id, and balena keys that may do less than the credential.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use apikeys_common::RetryPolicy;

/// The running program and what it printed up to "Press Ctrl-C"; killed when dropped.
struct Program {
    child: Child,
    output: String,
}

impl Program {
    fn start() -> Program {
        let mut child = Command::new(env!("CARGO_BIN_EXE_apikeys-sandbox"))
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut output = Vec::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            let done = line.starts_with("Press Ctrl-C");
            output.push(line);
            if done {
                break;
            }
        }
        Program {
            child,
            output: output.join("\n"),
        }
    }

    /// The value printed as `  label: value` in the section headed `vendor`.
    fn field(&self, vendor: &str, label: &str) -> String {
        let section = self
            .output
            .split("\n\n")
            .find(|section| section.lines().next() == Some(vendor))
            .unwrap_or_else(|| panic!("no section `{vendor}` in:\n{}", self.output));
        section
            .lines()
            .filter_map(|line| line.trim().split_once(':'))
            .find(|(name, _)| name.trim() == label)
            .map(|(_, value)| value.trim().to_string())
            .unwrap_or_else(|| panic!("no `{label}` for {vendor} in:\n{section}"))
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text between `before` and the next `after` in `text`.
fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("no `{before}` in {text}"))
        + before.len();
    let rest = &text[start..];
    &rest[..rest
        .find(after)
        .unwrap_or_else(|| panic!("no `{after}` in {rest}"))]
}

#[tokio::test]
async fn the_printed_thingsboard_key_is_the_credentials_own() {
    let program = Program::start();
    let scope = program.field("thingsboard", "scope");
    let user: uuid::Uuid = between(&scope, "user ", " (").parse().unwrap();
    let key: uuid::Uuid = between(&scope, "(key ", ";").parse().unwrap();
    let client = thingsboard_apikeys::Client::builder(program.field("thingsboard", "base URL"))
        .api_key(program.field("thingsboard", "credential"))
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    let list = || {
        client
            .get_user_api_keys()
            .user_id(user)
            .page_size(100)
            .send()
    };
    let keys = list().await.unwrap();
    assert!(keys.data.iter().any(|k| k.id.id == key), "{keys:?}");

    // Revoking that key with itself works, and the credential is then refused.
    client.delete_api_key().id(key).send().await.unwrap();
    let e = list().await.unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
}

#[tokio::test]
async fn the_printed_balena_keys_may_do_less_than_the_credential() {
    let program = Program::start();
    let base_url = program.field("balena", "base URL");
    let client = |label: &str| {
        balena_apikeys::Client::builder(&base_url)
            .api_key(program.field("balena", label))
            .retry(RetryPolicy::disabled())
            .build()
            .unwrap()
    };
    let credential = client("credential");
    let read_only = client("read-only API key");
    let all = credential.api_key().get_all().send().await.unwrap();
    let read = read_only.api_key().get_all().send().await.unwrap();
    assert_eq!(read.len(), all.len());
    let e = read_only
        .api_key()
        .create("from-a-test", None, None)
        .await
        .unwrap_err();
    assert!(e.is_unauthorized(), "{e:?}");
    // The credential, a session token, may create.
    credential
        .api_key()
        .create("from-a-test", None, None)
        .await
        .unwrap();

    // The device and provisioning keys are keys of the sandbox's, and read no user keys.
    for label in ["device key", "provisioning key"] {
        let e = client(label).api_key().get_all().send().await;
        assert!(
            e.as_ref().map_or(true, |keys| keys.is_empty()),
            "{label}: {e:?}"
        );
    }
    let me = client("device key")
        .get_actor_whoami()
        .send()
        .await
        .unwrap();
    assert_eq!(me.actor_type, balena_apikeys::types::ActorType::Device);
}
