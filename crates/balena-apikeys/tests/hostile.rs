//! Ids and names from callers that try to escape their place in the URL: the device uuid
//! quoted in the path and the application slug quoted in `$filter`.
//! Each is read back the way balena's parser reads it and must come out unchanged.

use apikeys_common::testing::{HOSTILE_IDS, mock_server};
use balena_apikeys::Client;
use percent_encoding::percent_decode_str;
use serde_json::json;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .api_key("key")
        .build()
        .unwrap()
}

/// Decodes `%20` and `%27` (spaces and quotes, which the parser accepts encoded), leaving
/// every other `%XX` for the literal's own decoding.
fn parser_view(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let triplet = rest.get(i..i + 3).unwrap_or(&rest[i..]);
        match triplet {
            "%20" => out.push(' '),
            "%27" => out.push('\''),
            other => out.push_str(other),
        }
        rest = &rest[i + triplet.len()..];
    }
    out.push_str(rest);
    out
}

/// The string literals in `text`, as the server binds them: `''` is a quote, and the
/// contents are percent-decoded once (`decodeURIComponent`). Also returns the text
/// outside the literals.
fn literals(text: &str) -> (Vec<String>, String) {
    let mut found = Vec::new();
    let mut outside = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            outside.push(c);
            continue;
        }
        let mut inner = String::new();
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    inner.push('\'');
                }
                Some('\'') | None => break,
                Some(c) => inner.push(c),
            }
        }
        outside.push_str("''");
        found.push(
            percent_decode_str(&inner)
                .decode_utf8()
                .unwrap()
                .into_owned(),
        );
    }
    (found, outside)
}

#[tokio::test]
async fn hostile_application_slugs_stay_inside_their_quoted_literals() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/v7/application"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"d": []})))
        .expect(HOSTILE_IDS.len() as u64)
        .mount(&server)
        .await;

    let client = client(&server);
    for slug in HOSTILE_IDS {
        let err = client
            .api_key()
            .get_provisioning_api_keys_by_application(slug)
            .send()
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{slug:?}: {err:?}");
    }

    let requests = server.received_requests().await.unwrap();
    for (request, slug) in requests.iter().zip(HOSTILE_IDS) {
        let query = request.url.query().unwrap();
        let options: Vec<&str> = query.split('&').collect();
        assert_eq!(options.len(), 2, "{slug:?} added an option: {query}");
        assert_eq!(options[0], "$select=actor", "{slug:?}");
        let filter = options[1].strip_prefix("$filter=").unwrap();
        let (found, outside) = literals(&parser_view(filter));
        let expected = slug.to_lowercase();
        assert_eq!(found, [expected.clone(), expected], "{slug:?}: {filter}");
        assert_eq!(outside, "slug eq '' or uuid eq ''", "{slug:?}: {filter}");
    }
}

#[tokio::test]
async fn hostile_device_uuids_stay_inside_the_quoted_path_key() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path_regex("^/v7/device"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"d": []})))
        .mount(&server)
        .await;

    let client = client(&server);
    let mut sent = Vec::new();
    for uuid in HOSTILE_IDS {
        let outcome = client
            .get_device_actor_by_uuid()
            .uuid(uuid)
            .select("actor")
            .send()
            .await;
        match outcome {
            Ok(rows) => {
                assert!(rows.d.is_empty());
                sent.push(uuid);
            }
            Err(e) => panic!("{uuid:?}: {e:?}"),
        }
    }

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), sent.len());
    for (request, uuid) in requests.iter().zip(sent) {
        let raw = request.url.path();
        assert_eq!(request.url.query(), Some("$select=actor"), "{uuid:?}");
        let key = raw
            .strip_prefix("/v7/device(uuid=")
            .and_then(|k| k.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{uuid:?} changed the path: {raw}"));
        // What `check_hostile_ids` asserts, with the key's quotes: one segment, which
        // percent-decodes to the uuid quoted, its own quotes doubled.
        assert!(!key.contains('/'), "{uuid:?} split the path: {raw}");
        let decoded = percent_decode_str(key).decode_utf8().unwrap();
        assert_eq!(decoded, format!("'{}'", uuid.replace('\'', "''")), "{raw}");
        let (found, outside) = literals(key);
        assert_eq!(outside, "''", "{uuid:?}: {raw}");
        assert_eq!(found, [uuid.to_string()], "{uuid:?}: {raw}");
    }
    assert_eq!(requests.len(), HOSTILE_IDS.len(), "every id sent, once");
}

#[tokio::test]
async fn a_quote_in_a_device_uuid_is_doubled_on_the_wire() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path("/v7/device(uuid='x''y%20z')"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"d": []})))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .get_device_actor_by_uuid()
        .uuid("x'y z")
        .send()
        .await
        .unwrap();
}
