//! Ids and names from callers that try to escape their place in the URL: the device uuid
//! quoted in the path, refused unless it is a full uuid (hexadecimal, so no `'` can end
//! its quotes), and the application slug quoted in `$filter`, read back the way balena's
//! parser reads it, which must come out unchanged.

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

/// What refuses every uuid that is not 32 or 62 hexadecimal characters, `'` included.
const REFUSED: &str =
    "get_device_actor_by_uuid: `uuid` must match the pattern `^([0-9a-fA-F]{32}|[0-9a-fA-F]{62})$`";

#[tokio::test]
async fn hostile_device_uuids_are_refused_before_sending() {
    let server = mock_server().await;
    Mock::given(method("GET"))
        .and(path_regex("device"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"d": []})))
        .mount(&server)
        .await;

    // The check finds the uuid whatever the base path, so no `'` can reach the quotes.
    for base in ["", "/base", "/a//b", "/x/", "/v7/device(uuid='"] {
        let client = Client::builder(format!("{}{base}", server.uri()))
            .api_key("key")
            .build()
            .unwrap();
        for uuid in HOSTILE_IDS {
            let err = client
                .get_device_actor_by_uuid()
                .uuid(uuid)
                .select("actor")
                .send()
                .await
                .unwrap_err();
            match &err {
                balena_apikeys::Error::InvalidRequest(why) => {
                    // `\` and the like are refused by the path check, which runs first.
                    assert!(
                        why == REFUSED || why.contains("path parameter"),
                        "{base} {uuid:?}: {why}"
                    );
                }
                other => panic!("{base} {uuid:?}: {other:?}"),
            }
        }
    }
    let requests = server.received_requests().await.unwrap();
    assert!(requests.is_empty(), "{requests:?}");
}

#[tokio::test]
async fn a_quote_in_a_device_uuid_is_refused_before_sending() {
    let server = mock_server().await;
    for uuid in [
        "x'y z",
        "7cf02a69e4d34c9da573914963cf54f'",
        "'') or (1 eq 1",
    ] {
        let err = client(&server)
            .get_device_actor_by_uuid()
            .uuid(uuid)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, balena_apikeys::Error::InvalidRequest(why) if why == REFUSED),
            "{uuid:?}: {err:?}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
