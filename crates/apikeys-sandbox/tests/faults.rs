//! Fault injection (issue 22, "Sandbox faults"): rules set from Rust, over HTTP and by the
//! binary's `--faults`, hitting exactly the calls they say, seen from a real HTTP client.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use apikeys_common::{Error, KeyLifecycle, NewKey, RetryPolicy};
use apikeys_sandbox::{Fault, FaultRule, Sandbox, Vendor};
use futures::TryStreamExt;
use serde_json::{Value, json};

/// ThingsBoard's lifecycle over the seeded user, without retries.
fn thingsboard(sandbox: &Sandbox) -> thingsboard_apikeys::KeyScope {
    let client = thingsboard_apikeys::Client::builder(sandbox.base_url(Vendor::ThingsBoard))
        .api_key(sandbox.credential(Vendor::ThingsBoard))
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    thingsboard_apikeys::KeyScope::new(client, sandbox.scopes().thingsboard.user_id)
}

async fn names(lifecycle: &dyn KeyLifecycle) -> Vec<String> {
    let keys: Vec<_> = lifecycle.list().try_collect().await.unwrap();
    keys.into_iter().filter_map(|k| k.name).collect()
}

/// `get_user_api_keys` (the `list` verb), sent with reqwest.
async fn list_call(sandbox: &Sandbox) -> reqwest::Result<reqwest::Response> {
    let user = sandbox.scopes().thingsboard.user_id;
    reqwest::Client::new()
        .get(format!(
            "{}/api/apiKeys/{user}?pageSize=100&page=0",
            sandbox.base_url(Vendor::ThingsBoard)
        ))
        .header(
            "X-Authorization",
            format!(
                "ApiKey {}",
                sandbox.credential(Vendor::ThingsBoard).expose_secret()
            ),
        )
        .send()
        .await
}

/// `save_api_key` (the `create` verb) of a key described `name`, sent with reqwest.
async fn create_call(sandbox: &Sandbox, name: &str) -> reqwest::Result<reqwest::Response> {
    let user = sandbox.scopes().thingsboard.user_id;
    reqwest::Client::new()
        .post(format!(
            "{}/api/apiKey",
            sandbox.base_url(Vendor::ThingsBoard)
        ))
        .header(
            "X-Authorization",
            format!(
                "ApiKey {}",
                sandbox.credential(Vendor::ThingsBoard).expose_secret()
            ),
        )
        .json(&json!({
            "description": name,
            "enabled": true,
            "userId": {"entityType": "USER", "id": user},
        }))
        .send()
        .await
}

fn fired(sandbox: &Sandbox) -> Vec<(u64, u64)> {
    sandbox
        .faults()
        .iter()
        .map(|f| (f.matched, f.fired))
        .collect()
}

// issue 22, "Sandbox faults": a status with Retry-After hits exactly the first N calls.
#[tokio::test]
async fn a_status_rule_hits_the_first_n_calls_then_stops() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox
        .set_faults([FaultRule::new(
            Vendor::ThingsBoard,
            "list",
            Fault::status_with_retry_after(503, "3"),
        )
        .first(2)])
        .unwrap();
    for _ in 0..2 {
        let response = list_call(&sandbox).await.unwrap();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "3");
        // ThingsBoard's own error body, so its client reads it as an API error.
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 503);
        assert_eq!(body["errorCode"], 2);
    }
    for _ in 0..2 {
        assert_eq!(list_call(&sandbox).await.unwrap().status(), 200);
    }
    assert_eq!(fired(&sandbox), [(4, 2)]);
    // The vendor crate sees the typed API error with the server's Retry-After.
    sandbox
        .set_faults([FaultRule::new(
            Vendor::ThingsBoard,
            "get_user_api_keys",
            Fault::status_with_retry_after(429, "7"),
        )
        .first(1)])
        .unwrap();
    let scope = thingsboard(&sandbox);
    match scope.list().try_collect::<Vec<_>>().await {
        Err(Error::Api(api)) => {
            assert_eq!(api.status.as_u16(), 429);
            assert_eq!(api.retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("not the injected 429: {other:?}"),
    }
    assert_eq!(names(&scope).await.len(), 2, "the seeded keys");
}

// issue 22, "Sandbox faults": `every` hits every call, and DELETE clears the rules.
#[tokio::test]
async fn an_every_rule_hits_every_call_until_cleared() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox
        .set_faults([FaultRule::new(Vendor::ThingsBoard, "list", Fault::status(500)).every()])
        .unwrap();
    for _ in 0..5 {
        assert_eq!(list_call(&sandbox).await.unwrap().status(), 500);
    }
    assert_eq!(fired(&sandbox), [(5, 5)]);
    let http = reqwest::Client::new();
    let route = format!("http://{}/_sandbox/faults", sandbox.addr());
    assert_eq!(http.delete(&route).send().await.unwrap().status(), 204);
    assert!(sandbox.faults().is_empty());
    assert_eq!(list_call(&sandbox).await.unwrap().status(), 200);
    let listed: Value = http.get(&route).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, json!([]));
}

// issue 22, "Sandbox faults": skip K, "the 2nd create fails"; a delay then serves the call.
#[tokio::test]
async fn skip_lets_calls_pass_before_the_rule_hits() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox
        .set_faults([
            FaultRule::new(Vendor::ThingsBoard, "create", Fault::status(500))
                .skip(1)
                .first(1),
            FaultRule::new(
                Vendor::ThingsBoard,
                "revoke",
                Fault::delay(Duration::from_millis(300)),
            ),
        ])
        .unwrap();
    let statuses = [
        create_call(&sandbox, "one").await.unwrap().status(),
        create_call(&sandbox, "two").await.unwrap().status(),
        create_call(&sandbox, "three").await.unwrap().status(),
    ];
    assert_eq!(statuses.map(|s| s.as_u16()), [200, 500, 200]);
    let scope = thingsboard(&sandbox);
    let listed = names(&scope).await;
    assert!(listed.contains(&"one".to_string()) && listed.contains(&"three".to_string()));
    assert!(!listed.contains(&"two".to_string()), "{listed:?}");
    let keys: Vec<_> = scope.list().try_collect().await.unwrap();
    let one = keys
        .iter()
        .find(|k| k.name.as_deref() == Some("one"))
        .unwrap();
    let started = Instant::now();
    scope.revoke(&one.id).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(!names(&scope).await.contains(&"one".to_string()));
    assert_eq!(fired(&sandbox), [(3, 1), (1, 1)]);
}

/// Whether a reqwest outcome is a transport error (no HTTP answer at all): hyper's
/// "connection closed before message completed".
fn is_transport_error(result: &reqwest::Result<reqwest::Response>) -> bool {
    let Err(error) = result else {
        return false;
    };
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    error.status().is_none() && chain.contains("connection closed before message completed")
}

// issue 22, "Sandbox faults": `drop` closes the connection before the handler runs: the
// client gets a transport error, not a response, and no key is created.
#[tokio::test]
async fn drop_closes_the_connection_and_nothing_is_created() {
    let sandbox = Sandbox::start().await.unwrap();
    let scope = thingsboard(&sandbox);
    let before = names(&scope).await;
    sandbox
        .set_faults([FaultRule::new(Vendor::ThingsBoard, "save_api_key", Fault::Drop).first(1)])
        .unwrap();
    let result = create_call(&sandbox, "dropped").await;
    assert!(is_transport_error(&result), "{result:?}");
    assert_eq!(names(&scope).await, before);
    // Through the vendor crate, the same is a transport error, not an API error.
    sandbox
        .set_faults([FaultRule::new(Vendor::ThingsBoard, "create", Fault::Drop)])
        .unwrap();
    let created = scope.create(&NewKey::named("dropped too")).await;
    assert!(matches!(created, Err(Error::Transport(_))), "{created:?}");
    assert_eq!(names(&scope).await, before);
    // The server still serves new connections.
    sandbox.clear_faults();
    assert_eq!(create_call(&sandbox, "after").await.unwrap().status(), 200);
}

// issue 22, "Sandbox faults": `commit_then_drop` on a create: a transport error AND the key
// exists afterwards.
#[tokio::test]
async fn commit_then_drop_creates_the_key_and_loses_the_answer() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox
        .set_faults([FaultRule::new(Vendor::ThingsBoard, "create", Fault::CommitThenDrop).first(1)])
        .unwrap();
    let result = create_call(&sandbox, "committed").await;
    assert!(is_transport_error(&result), "{result:?}");
    let scope = thingsboard(&sandbox);
    assert!(names(&scope).await.contains(&"committed".to_string()));
    assert_eq!(fired(&sandbox), [(1, 1)]);
}

// issue 22, "Sandbox faults": rules by lifecycle verb and by operationId, at another vendor,
// seen through its crate; GET lists the rules with their counts.
#[tokio::test]
async fn rules_name_verbs_and_operation_ids_and_get_counts_them() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = automox_apikeys::Client::builder(sandbox.base_url(Vendor::Automox))
        .api_key(sandbox.credential(Vendor::Automox))
        .retry(RetryPolicy::disabled())
        .build()
        .unwrap();
    let scopes = sandbox.scopes();
    let scope =
        automox_apikeys::KeyScope::new(client, scopes.automox.org_id, scopes.automox.user_id);
    let http = reqwest::Client::new();
    let route = format!("http://{}/_sandbox/faults", sandbox.addr());
    let rules = json!([
        {"vendor": "automox", "operation": "create_user_api_key", "fault": "status",
         "status": 503, "times": 1},
        {"vendor": "automox", "operation": "revoke", "fault": "status", "status": 404},
        {"vendor": "nuki", "operation": "create", "fault": "drop"},
    ]);
    let set = http.post(&route).json(&rules).send().await.unwrap();
    assert_eq!(set.status(), 200);
    match scope.create(&NewKey::named("first")).await {
        Err(Error::Api(api)) => assert_eq!(api.status.as_u16(), 503),
        other => panic!("not the injected 503: {other:?}"),
    }
    let created = scope.create(&NewKey::named("second")).await.unwrap();
    match scope.revoke(&created.key.id).await {
        Err(Error::Api(api)) => assert_eq!(api.status.as_u16(), 404),
        other => panic!("not the injected 404: {other:?}"),
    }
    let listed: Value = http.get(&route).send().await.unwrap().json().await.unwrap();
    let counts: Vec<(String, u64, u64)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"]["operation"].as_str().unwrap().to_string(),
                f["matched"].as_u64().unwrap(),
                f["fired"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("create_user_api_key".to_string(), 2, 1),
            ("revoke".to_string(), 1, 1),
            ("create".to_string(), 0, 0),
        ]
    );
    assert_eq!(listed[0]["rule"], rules[0]);
}

// issue 22, "Sandbox faults": bad rules are refused with 400 and a message naming the
// field, and the rules in force stay.
#[tokio::test]
async fn bad_rules_are_refused_with_400_and_the_field() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox
        .set_faults([FaultRule::new(Vendor::Nuki, "list", Fault::Drop)])
        .unwrap();
    let http = reqwest::Client::new();
    let route = format!("http://{}/_sandbox/faults", sandbox.addr());
    for (body, wanted) in [
        (
            r#"[{"vendor":"thingsboard","operation":"list","fault":"status","status":600}]"#,
            "rule 1: `status` must be a whole number from 200 to 599, not 600",
        ),
        (
            r#"[{"vendor":"nuki","operation":"list","fault":"drop"},
                {"vendor":"nuki","operation":"list","fault":"delay","delay_ms":120000}]"#,
            "rule 2: `delay_ms` must be a whole number from 0 to 60000",
        ),
        (
            r#"[{"vendor":"nuki","operation":"rotate","fault":"drop"}]"#,
            "rule 1: `operation` `rotate` is no operation of nuki",
        ),
        ("not json", "not a JSON array of fault rules"),
    ] {
        let response = http.post(&route).body(body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let text = response.text().await.unwrap();
        assert!(text.contains(wanted), "{body}: {text}");
    }
    assert_eq!(sandbox.faults().len(), 1);
    assert_eq!(sandbox.faults()[0].rule.operation, "list");
}

// issue 22, "Sandbox faults": `apikeys-sandbox --faults FILE` loads the rules at start, and
// refuses a bad file naming the field.
#[tokio::test]
async fn the_binary_loads_its_faults_file_at_start() {
    let dir = std::env::temp_dir().join(format!("apikeys-sandbox-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("faults.json");
    std::fs::write(
        &file,
        r#"[{"vendor": "thingsboard", "operation": "list", "fault": "status",
             "status": 503, "retry_after": "2", "times": 1}]"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apikeys-sandbox"))
        .args(["--port", "0", "--faults"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let root = first
        .strip_prefix("apikeys-sandbox listening on ")
        .unwrap()
        .to_string();
    let mut output = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        output.push(line);
        if done {
            break;
        }
    }
    let text = output.join("\n");
    assert!(
        text.contains("fault rules: 1 from the faults file"),
        "{text}"
    );
    let http = reqwest::Client::new();
    // The rule applies before authentication: any list call gets the 503.
    let response = http
        .get(format!(
            "{root}/thingsboard/api/apiKeys/{}?pageSize=1&page=0",
            uuid::Uuid::new_v4()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");
    let listed: Value = http
        .get(format!("{root}/_sandbox/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["fired"], 1);
    child.kill().unwrap();
    child.wait().unwrap();

    std::fs::write(
        &file,
        r#"[{"vendor": "thingsboard", "operation": "list", "fault": "status", "status": 42}]"#,
    )
    .unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_apikeys-sandbox"))
        .args(["--port", "0", "--faults"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("faults.json") && stderr.contains("`status`"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every vendor's lifecycle over the sandbox's seeded scope, without retries.
fn lifecycles(sandbox: &Sandbox) -> Vec<(Vendor, Box<dyn KeyLifecycle>)> {
    let scopes = sandbox.scopes();
    let retry = RetryPolicy::disabled;
    let key = |vendor| sandbox.credential(vendor);
    let url = |vendor| sandbox.base_url(vendor);
    vec![
        (Vendor::ThingsBoard, Box::new(thingsboard(sandbox))),
        (
            Vendor::SensorBucket,
            Box::new(sensorbucket_apikeys::KeyScope::new(
                sensorbucket_apikeys::Client::builder(url(Vendor::SensorBucket))
                    .api_key(key(Vendor::SensorBucket))
                    .retry(retry())
                    .build()
                    .unwrap(),
                scopes.sensorbucket.tenant_id,
                vec![sensorbucket_apikeys::types::Permission::ReadDevices],
            )),
        ),
        (
            Vendor::Nuki,
            Box::new(nuki_apikeys::KeyScope::new(
                nuki_apikeys::Client::builder(url(Vendor::Nuki))
                    .api_key(key(Vendor::Nuki))
                    .retry(retry())
                    .build()
                    .unwrap(),
            )),
        ),
        (
            Vendor::Balena,
            Box::new(balena_apikeys::KeyScope::new(
                balena_apikeys::Client::builder(url(Vendor::Balena))
                    .jwt(key(Vendor::Balena))
                    .retry(retry())
                    .build()
                    .unwrap(),
            )),
        ),
        (
            Vendor::Automox,
            Box::new(automox_apikeys::KeyScope::new(
                automox_apikeys::Client::builder(url(Vendor::Automox))
                    .api_key(key(Vendor::Automox))
                    .retry(retry())
                    .build()
                    .unwrap(),
                scopes.automox.org_id,
                scopes.automox.user_id,
            )),
        ),
    ]
}

fn is_injected(result: Result<impl std::fmt::Debug, Error>, status: u16) -> bool {
    matches!(&result, Err(Error::Api(api)) if api.status.as_u16() == status)
}

// issue 22, "Sandbox faults": the verbs `list`, `create` and `revoke` hit, at every vendor,
// the call its crate's lifecycle makes for them, and nothing else.
#[tokio::test]
async fn verbs_hit_every_vendors_lifecycle_calls() {
    let sandbox = Sandbox::start().await.unwrap();
    for (vendor, lifecycle) in lifecycles(&sandbox) {
        let rule =
            |verb: &str, status: u16| FaultRule::new(vendor, verb, Fault::status(status)).first(1);
        sandbox.set_faults([rule("list", 502)]).unwrap();
        let listed = lifecycle.list().try_collect::<Vec<_>>().await;
        assert!(is_injected(listed, 502), "{vendor} list");
        sandbox.set_faults([rule("create", 503)]).unwrap();
        assert!(
            is_injected(lifecycle.create(&NewKey::named("faulty")).await, 503),
            "{vendor} create"
        );
        // The rule is spent: the next create and the listing work.
        let created = lifecycle.create(&NewKey::named("fine")).await.unwrap();
        sandbox.set_faults([rule("revoke", 500)]).unwrap();
        assert!(
            is_injected(lifecycle.revoke(&created.key.id).await, 500),
            "{vendor} revoke"
        );
        assert_eq!(fired(&sandbox), [(1, 1)], "{vendor}");
        lifecycle.revoke(&created.key.id).await.unwrap();
    }
}
