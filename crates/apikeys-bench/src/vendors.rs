//! One list and one create per vendor, each sent two ways: through the vendor crate, and as
//! the same request with a bare `reqwest::Client` and `serde_json`, decoded into the same
//! generated type; and the server's canned answers to them. The benchmark's one file that
//! names the vendors: it measures the vendors it lists here.

use std::hint::black_box;

use apikeys_common::{RetryPolicy, Vendor as _};
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use hyper::{Method, StatusCode};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::{Uuid, uuid};

/// Keys in a canned list response.
pub const LIST_LEN: usize = 20;
/// Keys per page while streaming, and pages in all (100,000 keys).
pub const STREAM_PAGE_SIZE: usize = 1000;
pub const STREAM_PAGES: usize = 100;
pub const TB_USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
/// The ThingsBoard user whose keys are served as 100 pages of 1,000.
pub const STREAM_USER: Uuid = uuid!("0b1e2a7c-0000-4000-8000-000000100000");
pub const SB_TENANT: i64 = 19;
pub const AUTOMOX_USER: i64 = 98765;
pub const AUTOMOX_ORG: i64 = 1234;
const CALLER_KEY: &str = "bench_callerKeyUsedForEveryRequest0123456789abcdefABCDEF";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VendorId {
    ThingsBoard,
    SensorBucket,
    Nuki,
    Balena,
    Automox,
}

pub const VENDORS: [VendorId; 5] = [
    VendorId::ThingsBoard,
    VendorId::SensorBucket,
    VendorId::Nuki,
    VendorId::Balena,
    VendorId::Automox,
];

impl VendorId {
    pub fn name(self) -> &'static str {
        match self {
            VendorId::ThingsBoard => "thingsboard",
            VendorId::SensorBucket => "sensorbucket",
            VendorId::Nuki => "nuki",
            VendorId::Balena => "balena",
            VendorId::Automox => "automox",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    List,
    Create,
}

#[derive(Clone, Copy, Debug)]
pub struct Op {
    pub vendor: VendorId,
    pub kind: Kind,
}

impl Op {
    pub fn label(self) -> String {
        let kind = match self.kind {
            Kind::List => "list",
            Kind::Create => "create",
        };
        format!("{} {kind}", self.vendor.name())
    }
}

/// How a request is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Through the vendor crate.
    Crate,
    /// Bare reqwest + serde_json.
    Bare,
}

/// A bare client as a careful user would build one: shared, with the vendor crate's
/// user agent and timeouts.
fn bare_client(user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(apikeys_common::DEFAULT_TIMEOUT)
        .connect_timeout(apikeys_common::DEFAULT_CONNECT_TIMEOUT)
        .build()
        .unwrap()
}

/// Every client, bare client and request body, built once.
pub struct Ctx {
    base: String,
    pub tb: thingsboard_apikeys::Client,
    sb: sensorbucket_apikeys::Client,
    nuki: nuki_apikeys::Client,
    balena: balena_apikeys::Client,
    automox: automox_apikeys::Client,
    bare: [reqwest::Client; 5],
    tb_auth: HeaderValue,
    bearer: HeaderValue,
    tb_create: thingsboard_apikeys::types::SaveApiKeyRequest,
    sb_create: sensorbucket_apikeys::types::CreateApiKeyRequest,
    nuki_create: nuki_apikeys::types::ApiKeyCreate,
    balena_create: balena_apikeys::types::CreateNamedUserApiKeyRequest,
    automox_create: automox_apikeys::types::CreateApiKey,
}

impl Ctx {
    /// Clients of the server at `base` (`http://127.0.0.1:port`), retrying as `retry` says.
    pub fn new(base: &str, retry: RetryPolicy) -> Self {
        let expiry = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        let api = format!("{base}/api");
        let mut tb_auth = HeaderValue::from_str(&format!("ApiKey {CALLER_KEY}")).unwrap();
        tb_auth.set_sensitive(true);
        let mut bearer = HeaderValue::from_str(&format!("Bearer {CALLER_KEY}")).unwrap();
        bearer.set_sensitive(true);
        Ctx {
            base: base.to_string(),
            tb: thingsboard_apikeys::Client::builder(base)
                .api_key(CALLER_KEY)
                .retry(retry.clone())
                .build()
                .unwrap(),
            sb: sensorbucket_apikeys::Client::builder(&api)
                .api_key(CALLER_KEY)
                .retry(retry.clone())
                .build()
                .unwrap(),
            nuki: nuki_apikeys::Client::builder(base)
                .api_key(CALLER_KEY)
                .retry(retry.clone())
                .build()
                .unwrap(),
            balena: balena_apikeys::Client::builder(base)
                .api_key(CALLER_KEY)
                .retry(retry.clone())
                .build()
                .unwrap(),
            automox: automox_apikeys::Client::builder(&api)
                .api_key(CALLER_KEY)
                .retry(retry)
                .build()
                .unwrap(),
            bare: [
                bare_client(thingsboard_apikeys::Client::USER_AGENT),
                bare_client(sensorbucket_apikeys::Client::USER_AGENT),
                bare_client(nuki_apikeys::Client::USER_AGENT),
                bare_client(balena_apikeys::Client::USER_AGENT),
                bare_client(automox_apikeys::Client::USER_AGENT),
            ],
            tb_auth,
            bearer,
            tb_create: thingsboard_apikeys::types::SaveApiKeyRequest::builder()
                .user_id(TB_USER)
                .description("CI deploy key")
                .enabled(true)
                .expiration_time(1798761600000_i64)
                .try_into()
                .unwrap(),
            sb_create: sensorbucket_apikeys::types::CreateApiKeyRequest::builder()
                .name("Device Beheerder")
                .tenant_id(SB_TENANT)
                .permissions(vec![
                    sensorbucket_apikeys::types::Permission::ReadDevices,
                    sensorbucket_apikeys::types::Permission::WriteDevices,
                    sensorbucket_apikeys::types::Permission::ReadMeasurements,
                ])
                .expiration_date(Some(expiry))
                .try_into()
                .unwrap(),
            nuki_create: nuki_apikeys::types::ApiKeyCreate::builder()
                .description("Home automation integration".to_string())
                .redirect_uris(vec!["https://example.com/oauth/nuki/callback".to_string()])
                .try_into()
                .unwrap(),
            balena_create: balena_apikeys::types::CreateNamedUserApiKeyRequest {
                name: "ci-deploy".try_into().unwrap(),
                expiry_date: Some(expiry),
                description: Some("Key used by the release pipeline".try_into().unwrap()),
            },
            automox_create: automox_apikeys::types::CreateApiKey {
                name: "ci-pipeline".into(),
                expires_at: Some(automox_apikeys::Timestamp::from(expiry)),
            },
        }
    }

    /// Sends `op` once `via` the crate or bare reqwest; returns how many keys came back.
    pub async fn call(&self, op: Op, via: Via) -> usize {
        let n = match via {
            Via::Crate => self.through_crate(op).await,
            Via::Bare => self.bare(op).await,
        };
        black_box(n)
    }

    async fn through_crate(&self, op: Op) -> usize {
        use Kind::{Create, List};
        use VendorId::*;
        match (op.vendor, op.kind) {
            (ThingsBoard, List) => {
                let page = self.tb.get_user_api_keys().user_id(TB_USER).page(0);
                page.page_size(LIST_LEN as u32)
                    .send()
                    .await
                    .unwrap()
                    .data
                    .len()
            }
            (ThingsBoard, Create) => {
                let key = self.tb.save_api_key().body(self.tb_create.clone());
                usize::from(key.send().await.unwrap().enabled)
            }
            (SensorBucket, List) => {
                let list = self.sb.list_api_keys().limit(LIST_LEN as u64);
                let list = list.tenant_id(SB_TENANT).send().await.unwrap();
                list.data.len()
            }
            (SensorBucket, Create) => {
                let key = self.sb.create_api_key().body(self.sb_create.clone());
                key.send().await.unwrap().api_key.expose_secret().len()
            }
            (Nuki, List) => self.nuki.list_api_keys().send().await.unwrap().len(),
            (Nuki, Create) => {
                let key = self.nuki.create_api_key().body(self.nuki_create.clone());
                key.send().await.unwrap().api_key_id as usize
            }
            (Balena, List) => {
                let list = self.balena.get_api_keys().orderby("name asc");
                list.send().await.unwrap().d.len()
            }
            (Balena, Create) => {
                let key = self.balena.create_named_user_api_key();
                let key = key.body(self.balena_create.clone()).send().await.unwrap();
                key.expose_secret().len()
            }
            (Automox, List) => {
                let list = self.automox.get_user_api_keys().user_id(AUTOMOX_USER);
                let list = list.o(AUTOMOX_ORG).page(0).limit(LIST_LEN as u64);
                list.send().await.unwrap().results.len()
            }
            (Automox, Create) => {
                let key = self.automox.create_user_api_key().user_id(AUTOMOX_USER);
                let key = key.o(AUTOMOX_ORG).body(self.automox_create.clone());
                usize::from(key.send().await.unwrap().is_enabled == Some(true))
            }
        }
    }

    /// The same requests, byte for byte (see `check_same_requests`), without the crate.
    async fn bare(&self, op: Op) -> usize {
        use Kind::{Create, List};
        use VendorId::*;
        let base = &self.base;
        let json = HeaderValue::from_static("application/json");
        let http = &self.bare[VENDORS.iter().position(|v| *v == op.vendor).unwrap()];
        let bearer = self.bearer.clone();
        match (op.vendor, op.kind) {
            (ThingsBoard, List) => {
                let url = format!("{base}/api/apiKeys/{TB_USER}");
                let request = http.get(url).header(ACCEPT, json);
                let request = request.query(&[("page", 0), ("pageSize", LIST_LEN)]);
                let request = request.header("x-authorization", self.tb_auth.clone());
                let page: thingsboard_apikeys::types::PageDataApiKeyInfo = fetch(request).await;
                page.data.len()
            }
            (ThingsBoard, Create) => {
                let url = format!("{base}/api/apiKey");
                let request = http.post(url).header(ACCEPT, json).json(&self.tb_create);
                let request = request.header("x-authorization", self.tb_auth.clone());
                let key: thingsboard_apikeys::types::ApiKey = fetch(request).await;
                usize::from(key.enabled)
            }
            (SensorBucket, List) => {
                let url = format!("{base}/api/api-keys");
                let request = http.get(url).header(ACCEPT, json);
                let request =
                    request.query(&[("limit", LIST_LEN as i64), ("tenant_id", SB_TENANT)]);
                let list: sensorbucket_apikeys::types::ListApiKeys200Response =
                    fetch(request.header(AUTHORIZATION, bearer)).await;
                list.data.len()
            }
            (SensorBucket, Create) => {
                let url = format!("{base}/api/api-keys");
                let request = http.post(url).header(ACCEPT, json).json(&self.sb_create);
                let key: sensorbucket_apikeys::types::ApiKeyCreated =
                    fetch(request.header(AUTHORIZATION, bearer)).await;
                key.api_key.expose_secret().len()
            }
            (Nuki, List) => {
                let url = format!("{base}/api/key");
                let request = http.get(url).header(ACCEPT, json);
                let keys: Vec<nuki_apikeys::types::ApiKey> =
                    fetch(request.header(AUTHORIZATION, bearer)).await;
                keys.len()
            }
            (Nuki, Create) => {
                let url = format!("{base}/api/key");
                let request = http.put(url).header(ACCEPT, json).json(&self.nuki_create);
                let key: nuki_apikeys::types::ApiKey =
                    fetch(request.header(AUTHORIZATION, bearer)).await;
                key.api_key_id as usize
            }
            (Balena, List) => {
                // balena's OData form (`%20`, `$` unescaped), as the crate sends it.
                let url = format!(
                    "{base}/v7/api_key?$orderby=name%20asc&$select=id,created_at,name,description,expiry_date,is_of__actor"
                );
                let request = http.get(url).header(ACCEPT, json);
                let list: balena_apikeys::types::ApiKeyCollection =
                    fetch(request.header(AUTHORIZATION, bearer)).await;
                list.d.len()
            }
            (Balena, Create) => {
                let url = format!("{base}/api-key/user/full");
                let request = http
                    .post(url)
                    .header(ACCEPT, json)
                    .json(&self.balena_create);
                let key: apikeys_common::Secret =
                    fetch(request.header(AUTHORIZATION, bearer)).await;
                key.expose_secret().len()
            }
            (Automox, List) => {
                let url = format!("{base}/api/users/{AUTOMOX_USER}/api_keys");
                let request = http.get(url).header(ACCEPT, json);
                let request =
                    request.query(&[("limit", LIST_LEN as i64), ("o", AUTOMOX_ORG), ("page", 0)]);
                let page: automox_apikeys::types::ApiKeyPage =
                    fetch(request.header(AUTHORIZATION, bearer)).await;
                page.results.len()
            }
            (Automox, Create) => {
                let url = format!("{base}/api/users/{AUTOMOX_USER}/api_keys");
                let request = http
                    .post(url)
                    .header(ACCEPT, json)
                    .query(&[("o", AUTOMOX_ORG)]);
                let request = request.json(&self.automox_create);
                let key: automox_apikeys::types::ApiKey =
                    fetch(request.header(AUTHORIZATION, bearer)).await;
                usize::from(key.is_enabled == Some(true))
            }
        }
    }
}

/// One canned answer of the benchmark's server.
pub struct Route {
    pub method: Method,
    pub path: String,
    pub status: StatusCode,
    pub body: Bytes,
}

/// What the benchmark's server answers: each list and create above, and the pages of
/// ThingsBoard keys streamed from `stream_path` (`page=N`, the last one `hasNext: false`).
pub struct Answers {
    pub routes: Vec<Route>,
    pub stream_path: String,
    /// Every streamed page: each holds other keys, as a stream refuses a page that repeats
    /// one before it.
    pub stream_pages: Vec<Bytes>,
}

fn bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap())
}

/// Item `n` of a ThingsBoard page: the fragment's `ApiKeyInfo` example, numbered.
fn tb_key(n: usize) -> Value {
    let mut key = thingsboard_apikeys::examples::api_key_info();
    key["id"]["id"] = json!(format!("a81c0e70-c8d4-11f0-8a3b-{n:012x}"));
    key["userId"]["id"] = json!(TB_USER);
    key["description"] = json!(format!("CI deploy key {n}"));
    key["enabled"] = json!(true);
    key
}

/// A page of `len` keys from key `first` on.
fn tb_page(first: usize, len: usize, has_next: bool) -> Value {
    json!({
        "data": (first..first + len).map(tb_key).collect::<Vec<_>>(),
        "totalPages": STREAM_PAGES,
        "totalElements": STREAM_PAGES * STREAM_PAGE_SIZE,
        "hasNext": has_next
    })
}

/// `example` with its `id` field raised by `n` and ` n` appended to its `name` field.
fn numbered(mut example: Value, id: &str, name: &str, n: usize) -> Value {
    let first = example[id].as_i64().unwrap();
    example[id] = json!(first + n as i64);
    let base = example[name].as_str().unwrap().to_owned();
    example[name] = json!(format!("{base} {n}"));
    example
}

/// Every body is a fragment's example (`<vendor>_apikeys::examples`), lists of `LIST_LEN`
/// of its keys numbered; with `streams`, the pages of keys to stream too.
pub fn answers(streams: bool) -> Answers {
    let sb_list = sensorbucket_apikeys::examples::list_api_keys200_response();
    let sb_key = |n| numbered(sb_list["data"][0].clone(), "id", "name", n);
    let nuki_key = |n| {
        numbered(
            nuki_apikeys::examples::api_key(),
            "apiKeyId",
            "description",
            n,
        )
    };
    let balena_list = balena_apikeys::examples::api_key_collection();
    let balena_key = |n| numbered(balena_list["d"][0].clone(), "id", "name", n);
    let automox_key = |n| {
        let key = numbered(automox_apikeys::examples::api_key(), "id", "name", n);
        assert_eq!(key["user"]["id"], AUTOMOX_USER);
        key
    };
    let list = |f: &dyn Fn(usize) -> Value| (0..LIST_LEN).map(f).collect::<Vec<_>>();
    let route = |method: Method, path: String, status: StatusCode, body: Bytes| Route {
        method,
        path,
        status,
        body,
    };
    let ok = StatusCode::OK;
    let automox = format!("/api/users/{AUTOMOX_USER}/api_keys");
    Answers {
        routes: vec![
            route(
                Method::GET,
                format!("/api/apiKeys/{TB_USER}"),
                ok,
                bytes(&tb_page(0, LIST_LEN, false)),
            ),
            route(
                Method::POST,
                "/api/apiKey".into(),
                ok,
                bytes(&thingsboard_apikeys::examples::api_key()),
            ),
            route(
                Method::GET,
                "/api/api-keys".into(),
                ok,
                bytes(&json!({
                    "links": {"previous": "", "next": ""},
                    "page_size": LIST_LEN,
                    "total_count": LIST_LEN,
                    "data": list(&sb_key)
                })),
            ),
            route(
                Method::POST,
                "/api/api-keys".into(),
                StatusCode::CREATED,
                // Go's encoder ends the body with a newline.
                Bytes::from(format!(
                    "{}\n",
                    sensorbucket_apikeys::examples::api_key_created()
                )),
            ),
            route(
                Method::GET,
                "/api/key".into(),
                ok,
                bytes(&json!(list(&nuki_key))),
            ),
            route(
                Method::PUT,
                "/api/key".into(),
                ok,
                bytes(&nuki_apikeys::examples::api_key()),
            ),
            route(
                Method::GET,
                "/v7/api_key".into(),
                ok,
                bytes(&json!({ "d": list(&balena_key) })),
            ),
            route(
                Method::POST,
                "/api-key/user/full".into(),
                ok,
                bytes(&balena_apikeys::examples::api_key_secret()),
            ),
            route(
                Method::GET,
                automox.clone(),
                ok,
                bytes(&json!({"size": LIST_LEN, "results": list(&automox_key)})),
            ),
            route(
                Method::POST,
                automox,
                ok,
                bytes(&automox_apikeys::examples::api_key()),
            ),
        ],
        stream_path: format!("/api/apiKeys/{STREAM_USER}"),
        stream_pages: (0..if streams { STREAM_PAGES } else { 0 })
            .map(|page| {
                let has_next = page + 1 < STREAM_PAGES;
                bytes(&tb_page(
                    page * STREAM_PAGE_SIZE,
                    STREAM_PAGE_SIZE,
                    has_next,
                ))
            })
            .collect(),
    }
}

/// Sends, checks the status, reads the body and decodes it: what a bare caller must do.
async fn fetch<T: DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let body = response.bytes().await.unwrap();
    serde_json::from_slice(&body).unwrap()
}

/// Each vendor's key lifecycle in the sandbox's seeded scope, through its crate (the audit
/// benchmark's direct listing).
pub fn sandbox_lifecycle(
    sandbox: &apikeys_sandbox::Sandbox,
    vendor: apikeys_sandbox::Vendor,
) -> Option<Box<dyn apikeys_common::KeyLifecycle>> {
    use apikeys_sandbox::Vendor as V;
    fn client<C: apikeys_common::Vendor>(base: &str, key: apikeys_common::Secret) -> C {
        apikeys_common::ClientBuilder::<C>::new(base)
            .api_key(key)
            .build()
            .expect("a loopback client")
    }
    let (base, key) = (sandbox.base_url(vendor), sandbox.credential(vendor));
    let scopes = sandbox.scopes();
    Some(match vendor {
        V::ThingsBoard => Box::new(thingsboard_apikeys::KeyScope::new(
            client(&base, key),
            scopes.thingsboard.user_id,
        )),
        V::SensorBucket => Box::new(sensorbucket_apikeys::KeyScope::new(
            client(&base, key),
            scopes.sensorbucket.tenant_id,
            Vec::new(),
        )),
        V::Nuki => Box::new(nuki_apikeys::KeyScope::new(client(&base, key))),
        V::Balena => Box::new(balena_apikeys::KeyScope::new(client(&base, key))),
        V::Automox => Box::new(automox_apikeys::KeyScope::new(
            client(&base, key),
            scopes.automox.org_id,
            scopes.automox.user_id,
        )),
        _ => return None,
    })
}

/// The `scope = ...` line of an `apikeys audit` account in the sandbox's seeded scope.
pub fn sandbox_scope_toml(
    sandbox: &apikeys_sandbox::Sandbox,
    vendor: apikeys_sandbox::Vendor,
) -> String {
    use apikeys_sandbox::Vendor as V;
    let scopes = sandbox.scopes();
    match vendor {
        V::ThingsBoard => format!("scope = {{ user-id = \"{}\" }}", scopes.thingsboard.user_id),
        V::SensorBucket => format!(
            "scope = {{ tenant-id = {} }}",
            scopes.sensorbucket.tenant_id
        ),
        V::Automox => format!(
            "scope = {{ org = {}, user-id = {} }}",
            scopes.automox.org_id, scopes.automox.user_id
        ),
        _ => String::new(),
    }
}
