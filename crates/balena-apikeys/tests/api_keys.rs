//! The seven SDK methods and the wire operations behind them, against a mock balena API,
//! with the requests the JS SDK makes (`balena-io/balena-sdk`, `src/models/api-key.ts`) and
//! bodies in the shapes the server sends. Query strings are compared byte for byte with what
//! the server receives.

use apikeys_common::testing::{CANARY, assert_hidden, mock_server, pagination_end};
use balena_apikeys::odata::{ApiKeyField, Expand, Filter, ODataOptions, Order};
use balena_apikeys::types::{ActorLink, ActorType};
use balena_apikeys::{ApiKeyUpdate, Client, Error};
use chrono::{DateTime, TimeZone, Utc};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJpZCI6NDJ9.callerSessionTokenSignature";

fn client(server: &MockServer) -> Client {
    Client::builder(server.uri()).jwt(TOKEN).build().unwrap()
}

/// Every request carries the caller's token and the crate's user agent, and never
/// progenitor's `api-version` header.
fn authenticated(mock: MockBuilder) -> MockBuilder {
    mock.and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header(
            "user-agent",
            concat!("balena-apikeys/", env!("CARGO_PKG_VERSION")),
        ))
        .and(|request: &Request| !request.headers.contains_key("api-version"))
}

/// The raw query the server saw, byte for byte.
fn exact_query(expected: impl Into<String>) -> impl Match + 'static {
    let expected = expected.into();
    move |request: &Request| request.url.query() == Some(expected.as_str())
}

/// The `$select` every key listing sends when the caller selects no fields: what the model
/// reads, never the secret `key` column that openBalena returns by default.
const MODEL_SELECT: &str = "$select=id,created_at,name,description,expiry_date,is_of__actor";

/// The listing asks for its fields with one `$select`, and `key` is not among them.
fn selects_no_secret() -> impl Match + 'static {
    |request: &Request| {
        let selects: Vec<String> = request
            .url
            .query_pairs()
            .filter(|(name, _)| name == "$select")
            .map(|(_, value)| value.into_owned())
            .collect();
        matches!(selects.as_slice(), [one] if one.split(',').all(|f| f != "key" && f != "*"))
    }
}

fn no_query() -> impl Match + 'static {
    |request: &Request| request.url.query().is_none()
}

fn no_body() -> impl Match + 'static {
    |request: &Request| request.body.is_empty() && !request.headers.contains_key("content-type")
}

/// Every request the server received, as `METHOD path?query`.
async fn log(server: &MockServer) -> Vec<String> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| match r.url.query() {
            Some(q) => format!("{} {}?{q}", r.method, r.url.path()),
            None => format!("{} {}", r.method, r.url.path()),
        })
        .collect()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn d(rows: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "d": rows }))
}

/// The calling user's named keys, as `GET /v7/api_key` answers: the fragment's example.
fn named_user_keys() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(examples::api_key_collection())
}

/// The fragment's `ApiKeySecret` example: the new key `create` answers with.
fn new_secret() -> String {
    examples::api_key_secret().as_str().unwrap().to_owned()
}

/// A user's whoami answer (actor 1111): the fragment's example.
async fn mount_whoami(server: &MockServer) {
    authenticated(Mock::given(method("GET")).and(path("/actor/v1/whoami")))
        .and(no_query())
        .respond_with(ResponseTemplate::new(200).set_body_json(examples::actor_whoami()))
        .expect(1)
        .mount(server)
        .await;
}

fn actor_of(key: &balena_apikeys::types::ApiKey) -> Option<i64> {
    match key.is_of_actor.as_ref()? {
        ActorLink::DeferredRef(r) => Some(r.id),
        ActorLink::Array(actors) => actors.first()?.id,
    }
}

#[tokio::test]
async fn create_posts_name_camel_case_expiry_and_description_and_returns_the_secret() {
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api-key/user/full")))
        .and(no_query())
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "name": "ci-deploy",
            "expiryDate": "2026-12-31T23:59:59Z",
            "description": "Key used by the release pipeline"
        })))
        // The key as a JSON string, quotes and all.
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(examples::api_key_secret().to_string(), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let key = client(&server)
        .api_key()
        .create(
            "ci-deploy",
            Some(at("2026-12-31T23:59:59Z")),
            Some("Key used by the release pipeline"),
        )
        .await
        .unwrap();

    assert_eq!(key.expose_secret(), new_secret());
}

#[tokio::test]
async fn create_without_expiry_sends_null_and_leaves_out_an_empty_description() {
    let server = mock_server().await;
    authenticated(Mock::given(method("POST")).and(path("/api-key/user/full")))
        .and(body_json(json!({"name": "ci-deploy", "expiryDate": null})))
        .respond_with(ResponseTemplate::new(200).set_body_json(examples::api_key_secret()))
        .expect(2)
        .mount(&server)
        .await;

    let keys = client(&server);
    keys.api_key()
        .create("ci-deploy", None, None)
        .await
        .unwrap();
    keys.api_key()
        .create("ci-deploy", None, Some(""))
        .await
        .unwrap();
}

#[tokio::test]
async fn create_refuses_an_empty_or_overlong_name_or_description_without_a_request() {
    let server = mock_server().await;
    let keys = client(&server);
    let long_name = "n".repeat(51);
    let long_description = "d".repeat(151);
    for (name, description) in [
        ("", None),
        (long_name.as_str(), None),
        ("ok", Some(long_description.as_str())),
    ] {
        let err = keys
            .api_key()
            .create(name, None, description)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn the_created_secret_and_the_token_never_show_in_debug_or_serialized_values() {
    let server = mock_server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(CANARY)))
        .mount(&server)
        .await;

    let client = client(&server);
    let key = client.api_key().create("ci", None, None).await.unwrap();
    assert_eq!(
        key.expose_secret(),
        CANARY,
        "the secret is there when asked for"
    );
    assert_hidden(&format!("{key:?}"), CANARY);
    assert_hidden(&format!("{key:#?}"), CANARY);
    assert_hidden(&key.to_string(), CANARY);
    assert_hidden(&serde_json::to_string(&key).unwrap(), CANARY);

    let body = balena_apikeys::types::CreateNamedUserApiKeyRequest::builder()
        .name("ci")
        .expiry_date(None::<DateTime<Utc>>);
    let response = client
        .create_named_user_api_key()
        .body(body)
        .send()
        .await
        .unwrap();
    assert_hidden(&format!("{response:?}"), CANARY);
    assert_hidden(&format!("{client:?}"), TOKEN);
}

#[tokio::test]
async fn get_all_sends_the_sdk_default_order_and_unwraps_the_envelope() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(format!("$orderby=name%20asc&{MODEL_SELECT}")))
        .and(selects_no_secret())
        .and(query_param("$orderby", "name asc"))
        .and(query_param_is_missing("$filter"))
        .and(no_body())
        .respond_with(named_user_keys())
        .expect(1)
        .mount(&server)
        .await;

    let keys = client(&server).api_key().get_all().send().await.unwrap();

    let sent = examples::api_key_collection();
    assert_eq!(
        json!(keys.len()),
        json!(sent["d"].as_array().unwrap().len())
    );
    let first = &keys[0];
    assert_eq!(json!(first.id), sent["d"][0]["id"]);
    assert_eq!(first.id, Some(4870231));
    assert_eq!(first.created_at, Some(at("2025-03-14T10:22:31.418Z")));
    assert_eq!(first.name.as_deref(), Some("ci-deploy"));
    assert_eq!(
        first.description.as_deref(),
        Some("Key used by the release pipeline")
    );
    assert_eq!(first.expiry_date, Some(at("2026-12-31T23:59:59.000Z")));
    assert_eq!(actor_of(first), Some(1111));
    assert_eq!(keys[1].name.as_deref(), sent["d"][1]["name"].as_str());
    // The example's second key has `"description": null, "expiry_date": null`.
    assert!(sent["d"][1]["description"].is_null() && sent["d"][1]["expiry_date"].is_null());
    assert_eq!(
        (keys[1].description.as_ref(), keys[1].expiry_date),
        (None, None)
    );
}

#[tokio::test]
async fn get_all_options_go_out_as_the_js_sdk_sends_them_with_quotes_escaped() {
    let server = mock_server().await;
    // What the JS SDK's `getAll` sends with these options, byte for byte.
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(
            "$orderby=name%20asc&$select=id,name&$top=10&$skip=20\
             &$filter=startswith(name,%27O%27%27Neil%20key%27)",
        ))
        // One level of decoding, as wiremock reads it: the quote is still doubled.
        .and(query_param("$filter", "startswith(name,'O''Neil key')"))
        .respond_with(d(json!([{"id": 5, "name": "O'Neil key"}])))
        .expect(1)
        .mount(&server)
        .await;

    let options = ODataOptions::new()
        .orderby(ApiKeyField::Name, Order::Asc)
        .select([ApiKeyField::Id, ApiKeyField::Name])
        .top(10)
        .skip(20)
        .filter(Filter::startswith(ApiKeyField::Name, "O'Neil key"));
    let keys = client(&server)
        .api_key()
        .get_all()
        .options(options)
        .send()
        .await
        .unwrap();

    assert_eq!(keys[0].name.as_deref(), Some("O'Neil key"));
    assert_eq!(keys[0].created_at, None, "`$select` may drop any field");
}

#[tokio::test]
async fn string_literals_with_quotes_and_url_characters_cannot_break_out_of_the_filter() {
    let server = mock_server().await;
    let expected = format!(
        "$orderby=name%20asc&{MODEL_SELECT}\
         &$filter=name%20eq%20%27it%27%27s%20a%26b%3D1%23x%2By%25%27\
         %20or%20name%20eq%20%27%27%27%27%20or%20name%20eq%20%27%C3%BCn%C3%AF%27"
    );
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(expected))
        .respond_with(d(json!([])))
        .expect(1)
        .mount(&server)
        .await;

    let filter = Filter::eq("name", "it's a&b=1#x+y%")
        .or(Filter::eq("name", "'"))
        .or(Filter::eq("name", "ünï"));
    client(&server)
        .api_key()
        .get_all()
        .options(ODataOptions::new().filter(filter))
        .send()
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    let pairs: Vec<(String, String)> = requests[0].url.query_pairs().into_owned().collect();
    assert_eq!(pairs.len(), 3, "the literals added no option: {pairs:?}");
}

#[tokio::test]
async fn named_user_keys_look_up_the_caller_actor_then_filter_on_it() {
    let server = mock_server().await;
    mount_whoami(&server).await;
    // What the JS SDK's `getAllNamedUserApiKeys` sends, byte for byte.
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(format!(
            "$orderby=name%20asc&{MODEL_SELECT}\
             &$filter=is_of__actor%20eq%201111%20and%20name%20ne%20null"
        )))
        .and(selects_no_secret())
        .respond_with(named_user_keys())
        .expect(1)
        .mount(&server)
        .await;

    let keys = client(&server)
        .api_key()
        .get_all_named_user_api_keys()
        .send()
        .await
        .unwrap();

    assert_eq!(keys.len(), 2);
    assert_eq!(
        log(&server).await,
        [
            "GET /actor/v1/whoami".to_string(),
            format!(
                "GET /v7/api_key?$orderby=name%20asc&{MODEL_SELECT}\
                 &$filter=is_of__actor%20eq%201111%20and%20name%20ne%20null"
            )
        ]
    );
}

// issue 23, part 4: the caller's actor is asked once per client, as the official SDKs do.
#[tokio::test]
async fn named_user_keys_ask_whoami_once_per_client_and_again_after_a_failure() {
    let server = mock_server().await;
    // The first look-up fails; a failure is not remembered.
    authenticated(Mock::given(method("GET")).and(path("/actor/v1/whoami")))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_whoami(&server).await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .respond_with(named_user_keys())
        .expect(3)
        .mount(&server)
        .await;

    let client = client(&server);
    let error = client
        .api_key()
        .get_all_named_user_api_keys()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500), "{error:?}");
    for client in [&client, &client, &client.clone()] {
        let keys = client
            .api_key()
            .get_all_named_user_api_keys()
            .send()
            .await
            .unwrap();
        assert_eq!(keys.len(), 2);
    }
    let whoami = log(&server)
        .await
        .into_iter()
        .filter(|r| r == "GET /actor/v1/whoami")
        .count();
    assert_eq!(whoami, 2, "one failed ask, then one for every later call");
}

#[tokio::test]
async fn named_user_keys_merge_the_callers_options_as_the_sdk_does() {
    let server = mock_server().await;
    mount_whoami(&server).await;
    // What the JS SDK's `getAllNamedUserApiKeys` sends with these options, byte for byte.
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(
            "$orderby=created_at%20desc&$select=id,name,expiry_date\
             &$filter=is_of__actor%20eq%201111%20and%20name%20ne%20null%20and%20expiry_date%20eq%20null",
        ))
        .respond_with(d(json!([{"id": 4870250, "name": "grafana", "expiry_date": null}])))
        .expect(1)
        .mount(&server)
        .await;

    let options = ODataOptions::new()
        .select([ApiKeyField::Id, ApiKeyField::Name, ApiKeyField::ExpiryDate])
        .orderby(ApiKeyField::CreatedAt, Order::Desc)
        .filter(Filter::is_null(ApiKeyField::ExpiryDate));
    let keys = client(&server)
        .api_key()
        .get_all_named_user_api_keys()
        .options(options)
        .send()
        .await
        .unwrap();

    assert_eq!(keys[0].id, Some(4870250));
}

#[tokio::test]
async fn device_keys_by_uuid_look_up_the_device_actor_first() {
    let server = mock_server().await;
    // Every option is encoded as the JS SDK encodes it; the order is the one of its
    // `getAll` (`$orderby` first), which the server does not mind.
    authenticated(
        Mock::given(method("GET")).and(path("/v7/device(uuid='7cf02a69e4d34c9da573914963cf54fd')")),
    )
    .and(exact_query("$select=actor"))
    .respond_with(d(json!([{"actor": {"__id": 7777}}])))
    .expect(1)
    .mount(&server)
    .await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(format!(
            "$orderby=name%20asc&{MODEL_SELECT}&$filter=is_of__actor%20eq%207777"
        )))
        .and(selects_no_secret())
        .respond_with(d(json!([
            {"id": 5123001, "created_at": "2024-11-20T16:40:02.551Z", "name": null, "description": null, "expiry_date": null, "is_of__actor": {"__id": 7777}},
            {"id": 5123877, "created_at": "2025-01-08T09:12:45.900Z", "name": "field-debug", "description": "temporary", "expiry_date": "2025-02-08T09:12:45.900Z", "is_of__actor": {"__id": 7777}}
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let keys = client(&server)
        .api_key()
        .get_device_api_keys_by_device("7cf02a69e4d34c9da573914963cf54fd")
        .send()
        .await
        .unwrap();

    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].name, None);
    assert_eq!(keys[1].expiry_date, Some(at("2025-02-08T09:12:45.900Z")));
    assert!(keys.iter().all(|k| actor_of(k) == Some(7777)));
    assert_eq!(
        log(&server).await,
        [
            "GET /v7/device(uuid='7cf02a69e4d34c9da573914963cf54fd')?$select=actor".to_string(),
            format!(
                "GET /v7/api_key?$orderby=name%20asc&{MODEL_SELECT}&$filter=is_of__actor%20eq%207777"
            )
        ]
    );
}

#[tokio::test]
async fn device_keys_by_numeric_id_read_the_device_by_key() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path("/v7/device(456)")))
        .and(exact_query("$select=actor"))
        .respond_with(d(json!([{"actor": {"__id": 7777}}])))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(format!(
            "$orderby=name%20asc&{MODEL_SELECT}&$filter=is_of__actor%20eq%207777"
        )))
        .and(selects_no_secret())
        .respond_with(d(json!([])))
        .expect(1)
        .mount(&server)
        .await;

    let keys = client(&server)
        .api_key()
        .get_device_api_keys_by_device(456)
        .send()
        .await
        .unwrap();
    assert!(keys.is_empty());
}

#[tokio::test]
async fn an_unknown_device_is_not_found_and_no_keys_are_listed() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/v7/device(456)"))
        .respond_with(d(json!([])))
        .expect(1)
        .mount(&server)
        .await;

    let err = client(&server)
        .api_key()
        .get_device_api_keys_by_device(456)
        .send()
        .await
        .unwrap_err();

    assert!(err.is_not_found(), "{err:?}");
    assert!(err.to_string().contains("device 456"), "{err}");
}

#[tokio::test]
async fn a_device_uuid_that_is_not_full_is_refused_without_a_request() {
    let server = mock_server().await;
    let long = "a".repeat(33);
    for uuid in [
        "7cf02a6",
        "../7cf02a69e4d34c9da573914963cf54",
        "7cf02a69e4d34c9da573914963cf54f'",
        "7cf02a69e4d34c9da573914963cf54fd\n",
        "ünïcødé-ünïcødé-ünïcødé-ü",
        &long,
    ] {
        let err = client(&server)
            .api_key()
            .get_device_api_keys_by_device(uuid)
            .send()
            .await
            .unwrap_err();
        let Error::InvalidRequest(why) = &err else {
            panic!("{uuid}: {err:?}");
        };
        assert_eq!(
            why,
            "get_device_actor_by_uuid: `uuid` must match the pattern \
             `^([0-9a-fA-F]{32}|[0-9a-fA-F]{62})$`",
            "{uuid}"
        );
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn full_device_uuids_of_32_and_62_hexadecimal_characters_are_sent() {
    let server = mock_server().await;
    let long = "aB3".repeat(20) + "f0";
    for uuid in ["7CF02A69e4d34c9da573914963cf54fd", long.as_str()] {
        authenticated(Mock::given(method("GET")).and(path(format!("/v7/device(uuid='{uuid}')"))))
            .and(exact_query("$select=actor"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"d": []})))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .api_key()
            .get_device_api_keys_by_device(uuid)
            .send()
            .await
            .unwrap_err();
        // Sent, and the device is not there.
        assert!(err.is_not_found(), "{uuid}: {err:?}");
    }
}

#[tokio::test]
async fn provisioning_keys_by_application_id_with_select_and_expand() {
    let server = mock_server().await;
    // Both requests byte for byte as the JS SDK sends them.
    authenticated(Mock::given(method("GET")).and(path("/v7/application(123)")))
        .and(exact_query("$select=actor"))
        .respond_with(d(json!([{"actor": {"__id": 5555}}])))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(
            "$orderby=created_at%20desc&$select=id,name,expiry_date\
             &$expand=is_of__actor($select=id)&$filter=is_of__actor%20eq%205555",
        ))
        .respond_with(d(json!([
            {"id": 6001234, "name": null, "expiry_date": "2025-09-30T00:00:00.000Z", "is_of__actor": [{"id": 5555}]}
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let options = ODataOptions::new()
        .orderby(ApiKeyField::CreatedAt, Order::Desc)
        .select([ApiKeyField::Id, ApiKeyField::Name, ApiKeyField::ExpiryDate])
        .expand(Expand::new(ApiKeyField::IsOfActor).options(ODataOptions::new().select(["id"])));
    let keys = client(&server)
        .api_key()
        .get_provisioning_api_keys_by_application(123)
        .options(options)
        .send()
        .await
        .unwrap();

    assert_eq!(keys[0].id, Some(6001234));
    assert_eq!(keys[0].expiry_date, Some(at("2025-09-30T00:00:00.000Z")));
    assert!(matches!(keys[0].is_of_actor, Some(ActorLink::Array(_))));
    assert_eq!(actor_of(&keys[0]), Some(5555));
}

#[tokio::test]
async fn provisioning_keys_by_slug_match_slug_or_uuid_in_lower_case() {
    let server = mock_server().await;
    // The SDKs' `application.get` with `MyOrg/MyApp` (lower-cased, matched against slug or
    // uuid); the SDKs put `$filter` first on the look-up, this client always sends options
    // in one order, which the server does not mind.
    authenticated(Mock::given(method("GET")).and(path("/v7/application")))
        .and(exact_query(
            "$select=actor&$filter=slug%20eq%20%27myorg%2Fmyapp%27%20or%20uuid%20eq%20%27myorg%2Fmyapp%27",
        ))
        .respond_with(d(json!([{"actor": {"__id": 5555}}])))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(
            "$orderby=name%20asc&$select=id\
             &$filter=is_of__actor%20eq%205555%20and%20name%20eq%20%27provisioning%27",
        ))
        .respond_with(d(json!([{"id": 6001234}])))
        .expect(1)
        .mount(&server)
        .await;

    let options = ODataOptions::new()
        .select([ApiKeyField::Id])
        .filter(Filter::eq(ApiKeyField::Name, "provisioning"));
    let keys = client(&server)
        .api_key()
        .get_provisioning_api_keys_by_application("MyOrg/MyApp")
        .options(options)
        .send()
        .await
        .unwrap();
    assert_eq!(keys[0].id, Some(6001234));
}

#[tokio::test]
async fn provisioning_keys_ask_for_the_model_s_fields_and_never_the_secret() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path("/v7/application(123)")))
        .and(exact_query("$select=actor"))
        .respond_with(d(json!([{"actor": {"__id": 5555}}])))
        .expect(1)
        .mount(&server)
        .await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(format!(
            "$orderby=name%20asc&{MODEL_SELECT}&$filter=is_of__actor%20eq%205555"
        )))
        .and(selects_no_secret())
        .respond_with(d(json!([
            {"id": 6001234, "created_at": "2024-11-20T16:40:02.551Z", "name": null, "description": null, "expiry_date": null, "is_of__actor": {"__id": 5555}}
        ])))
        .expect(1)
        .mount(&server)
        .await;

    let keys = client(&server)
        .api_key()
        .get_provisioning_api_keys_by_application(123)
        .send()
        .await
        .unwrap();
    assert_eq!(keys[0].id, Some(6001234));
}

#[tokio::test]
async fn the_generated_listing_asks_for_the_model_s_fields_too() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(format!("{MODEL_SELECT}&$top=1")))
        .and(selects_no_secret())
        .respond_with(named_user_keys())
        .expect(1)
        .mount(&server)
        .await;
    let keys = client(&server).get_api_keys().top(1).send().await.unwrap();
    assert_eq!(keys.d.len(), 2);
}

#[tokio::test]
async fn a_select_of_the_secret_is_refused_before_anything_is_sent() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/v7/device(456)"))
        .respond_with(d(json!([{"actor": {"__id": 7777}}])))
        .expect(1)
        .mount(&server)
        .await;
    let keys = client(&server);
    let with_key = || ODataOptions::new().select([ApiKeyField::Id.as_str(), "key"]);
    let refused = [
        keys.api_key().get_all().options(with_key()).send().await,
        keys.api_key()
            .get_device_api_keys_by_device(456)
            .options(ODataOptions::new().select(["*"]))
            .send()
            .await,
        keys.api_key()
            .get_all()
            .options(with_key())
            .stream()
            .try_collect()
            .await,
        keys.api_key()
            .get_all()
            .options(ODataOptions::new().expand(
                Expand::new(ApiKeyField::IsOfActor).options(ODataOptions::new().select(["key"])),
            ))
            .send()
            .await,
    ];
    let generated = keys.get_api_keys().select("id, key").send().await;
    let refused = refused
        .into_iter()
        .map(|r| r.unwrap_err())
        .chain([generated.unwrap_err()]);
    for e in refused {
        match &e {
            Error::InvalidRequest(why) => assert!(why.contains("`key`"), "{why}"),
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }
    // The device look-up went out; no key listing did.
    assert_eq!(log(&server).await, ["GET /v7/device(456)?$select=actor"]);
}

#[tokio::test]
async fn an_unknown_application_is_not_found_and_an_ambiguous_one_is_refused() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/v7/application"))
        .and(query_param("$filter", "slug eq 'none' or uuid eq 'none'"))
        .respond_with(d(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v7/application"))
        .and(query_param("$filter", "slug eq 'twice' or uuid eq 'twice'"))
        .respond_with(d(json!([{"actor": {"__id": 1}}, {"actor": {"__id": 2}}])))
        .expect(1)
        .mount(&server)
        .await;

    let keys = client(&server);
    let missing = keys
        .api_key()
        .get_provisioning_api_keys_by_application("none")
        .send()
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let ambiguous = keys
        .api_key()
        .get_provisioning_api_keys_by_application("twice")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(ambiguous, Error::InvalidRequest(_)),
        "{ambiguous:?}"
    );
}

#[tokio::test]
async fn update_sends_only_the_given_fields_null_to_clear_and_values_to_set() {
    let server = mock_server().await;
    let cases = [
        // absent: only the name is sent
        (
            ApiKeyUpdate::new().name("renamed"),
            json!({"name": "renamed"}),
        ),
        // null: clears description and expiry, leaves the name
        (
            ApiKeyUpdate::new().clear_description().clear_expiry_date(),
            json!({"description": null, "expiry_date": null}),
        ),
        // values
        (
            ApiKeyUpdate::new()
                .name("ci-deploy-v2")
                .clear_description()
                .expiry_date(Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap()),
            json!({"name": "ci-deploy-v2", "description": null, "expiry_date": "2027-06-30T00:00:00.000Z"}),
        ),
        (
            ApiKeyUpdate::new().description("new desc"),
            json!({"description": "new desc"}),
        ),
    ];
    for (_, body) in &cases {
        authenticated(Mock::given(method("PATCH")).and(path("/v7/api_key(4870231)")))
            .and(no_query())
            .and(header("content-type", "application/json"))
            .and(body_json(body))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
    }

    let keys = client(&server);
    for (changes, _) in cases {
        keys.api_key().update(4870231, changes).await.unwrap();
    }
}

#[tokio::test]
async fn update_refuses_no_changes_or_an_empty_name_without_a_request() {
    let server = mock_server().await;
    let keys = client(&server);
    for changes in [ApiKeyUpdate::new(), ApiKeyUpdate::new().name("")] {
        let err = keys.api_key().update(1, changes).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    }
    assert!(log(&server).await.is_empty());
}

#[tokio::test]
async fn revoke_deletes_one_key_by_id_without_a_body() {
    let server = mock_server().await;
    authenticated(Mock::given(method("DELETE")).and(path("/v7/api_key(4870231)")))
        .and(no_query())
        .and(no_body())
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;

    client(&server).api_key().revoke(4870231).await.unwrap();
}

#[tokio::test]
async fn patch_and_delete_without_a_key_id_are_never_sent() {
    let server = mock_server().await;
    let client = client(&server);

    let patch = client
        .update_api_key()
        .body(ApiKeyUpdate::new().name("all"))
        .send()
        .await
        .unwrap_err();
    let delete = client.revoke_api_key().send().await.unwrap_err();

    assert!(matches!(patch, Error::InvalidRequest(_)), "{patch:?}");
    assert!(matches!(delete, Error::InvalidRequest(_)), "{delete:?}");
    assert!(
        log(&server).await.is_empty(),
        "no keyless PATCH/DELETE reached the server"
    );
}

#[tokio::test]
async fn count_returns_the_number_of_matching_keys() {
    let server = mock_server().await;
    // The `/$count` path segment, answered `{"d": <n>}`.
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key/$count")))
        .and(exact_query(
            "$filter=is_of__actor%20eq%201111%20and%20name%20ne%20null",
        ))
        .respond_with(d(json!(2)))
        .expect(1)
        .mount(&server)
        .await;

    let filter = Filter::eq(ApiKeyField::IsOfActor, 1111).and(Filter::not_null(ApiKeyField::Name));
    let count = client(&server)
        .count_api_keys()
        .filter(filter.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(count.d, 2);
}

#[tokio::test]
async fn whoami_decodes_the_actor_and_keeps_unknown_actor_types() {
    let server = mock_server().await;
    mount_whoami(&server).await;
    Mock::given(method("GET"))
        .and(path("/actor/v1/whoami"))
        .and(header("authorization", "Bearer other"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 9, "actorType": "service", "actorTypeId": 3
        })))
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;

    let me = client(&server).get_actor_whoami().send().await.unwrap();
    assert_eq!((me.id, me.actor_type_id), (1111, 42));
    assert_eq!(me.actor_type, ActorType::User);
    assert_eq!(me.username.as_deref(), Some("jdoe"));
    assert_eq!(me.email.as_deref(), Some("jdoe@example.com"));

    let other = Client::builder(server.uri())
        .api_key("other")
        .build()
        .unwrap();
    let it = other.get_actor_whoami().send().await.unwrap();
    assert_eq!(it.actor_type, ActorType::Unknown("service".into()));
}

#[tokio::test]
async fn stream_pages_with_top_and_skip_keeping_the_filter_on_every_page() {
    let server = mock_server().await;
    mount_whoami(&server).await;
    let pages = [
        ("0", json!([{"id": 1}, {"id": 2}])),
        ("2", json!([{"id": 3}, {"id": 4}])),
        ("4", json!([{"id": 5}])),
    ];
    for (skip, rows) in pages {
        let query = format!(
            "$orderby=name%20asc,id%20asc&{MODEL_SELECT}&$top=2&$skip={skip}\
             &$filter=is_of__actor%20eq%201111%20and%20name%20ne%20null"
        );
        authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
            .and(exact_query(query))
            .and(selects_no_secret())
            .respond_with(d(rows))
            .expect(1)
            .mount(&server)
            .await;
    }

    let keys = client(&server);
    let stream = keys
        .api_key()
        .get_all_named_user_api_keys()
        .options(ODataOptions::new().top(2))
        .stream();
    futures::pin_mut!(stream);
    assert_eq!(stream.next().await.unwrap().unwrap().id, Some(1));
    assert_eq!(
        log(&server).await.len(),
        2,
        "whoami and the first page only, until more is read"
    );
    let rest: Vec<_> = stream.try_collect().await.unwrap();
    let ids: Vec<_> = rest.iter().filter_map(|k| k.id).collect();
    assert_eq!(ids, [2, 3, 4, 5]);
    assert_eq!(log(&server).await.len(), 4, "whoami once, three pages");
}

#[tokio::test]
async fn stream_keeps_an_id_order_the_caller_gave_and_starts_at_the_first_row() {
    let server = mock_server().await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(exact_query(format!(
            "$orderby=id%20desc&{MODEL_SELECT}&$top=100&$skip=0"
        )))
        .and(selects_no_secret())
        .respond_with(d(json!([{"id": 7}])))
        .expect(1)
        .mount(&server)
        .await;

    let keys: Vec<_> = client(&server)
        .api_key()
        .get_all()
        .options(
            ODataOptions::new()
                .orderby(ApiKeyField::Id, Order::Desc)
                .skip(10),
        )
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
}

#[tokio::test]
async fn a_server_answering_the_same_full_page_to_every_skip_ends_the_stream() {
    let server = mock_server().await;
    mount_whoami(&server).await;
    authenticated(Mock::given(method("GET")).and(path("/v7/api_key")))
        .and(query_param("$top", "2"))
        .respond_with(d(json!([{"id": 1}, {"id": 2}])))
        .expect(2)
        .mount(&server)
        .await;

    let keys = client(&server);
    let stream = keys
        .api_key()
        .get_all_named_user_api_keys()
        .options(ODataOptions::new().top(2))
        .stream();
    let (items, why) = pagination_end(stream, 10).await;

    assert_eq!(items, 2, "the first page only: {why}");
    let seen = log(&server).await;
    assert_eq!(seen.len(), 3, "whoami and two pages: {seen:?}");
    assert!(
        seen[1].contains("$skip=0") && seen[2].contains("$skip=2"),
        "{seen:?}"
    );
}
