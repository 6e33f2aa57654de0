//! The sandbox writes the wire with its own types; the fragments' examples are the wire as
//! the vendors send it. Every field of every key the sandbox lists must be one the vendor's
//! example has, so a field misspelled on either side fails here instead of passing on both.
//! (A listing may leave out a field the example has: Nuki's lists no `apiKey`.)

use std::collections::BTreeSet;

use apikeys_sandbox::{Sandbox, Vendor};
use serde_json::Value;

fn names(value: &Value) -> BTreeSet<&str> {
    let Some(fields) = value.as_object() else {
        panic!("not an object: {value}")
    };
    fields.keys().map(String::as_str).collect()
}

/// `GET path` on the vendor's base URL with one authorization header, as JSON.
async fn get(sandbox: &Sandbox, vendor: Vendor, path: &str, header: (&str, String)) -> Value {
    let url = format!("{}{path}", sandbox.base_url(vendor));
    let response = reqwest::Client::new()
        .get(&url)
        .header(header.0, header.1)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{url}: {response:?}");
    response.json().await.unwrap()
}

/// Every field of `listed` is one `example` has.
fn assert_known_fields(vendor: Vendor, listed: &Value, example: &Value) {
    let unknown: Vec<_> = names(listed).difference(&names(example)).copied().collect();
    assert!(
        unknown.is_empty(),
        "{vendor}: {unknown:?} in {listed} are not in the example {example}"
    );
}

/// The listing's envelope has only the example's fields, and every listed key only those of
/// the example's first key.
fn assert_same_fields(vendor: Vendor, listed: &Value, keys: &Value, example: &Value, key: &Value) {
    if listed.is_object() {
        assert_known_fields(vendor, listed, example);
    }
    let keys = keys.as_array().unwrap();
    assert!(!keys.is_empty(), "{vendor}: the sandbox lists no key");
    for listed in keys {
        assert_known_fields(vendor, listed, key);
    }
}

#[tokio::test]
async fn listed_keys_carry_the_field_names_of_the_fragments_examples() {
    let sandbox = Sandbox::start().await.unwrap();
    let scopes = sandbox.scopes();
    let bearer = |vendor| {
        let credential = sandbox.credential(vendor);
        (
            "authorization",
            format!("Bearer {}", credential.expose_secret()),
        )
    };

    let path = format!(
        "/api/apiKeys/{}?pageSize=10&page=0",
        scopes.thingsboard.user_id
    );
    let credential = sandbox.credential(Vendor::ThingsBoard);
    let header = (
        "x-authorization",
        format!("ApiKey {}", credential.expose_secret()),
    );
    let page = get(&sandbox, Vendor::ThingsBoard, &path, header).await;
    let example = thingsboard_apikeys::examples::page_data_api_key_info();
    assert_same_fields(
        Vendor::ThingsBoard,
        &page,
        &page["data"],
        &example,
        &example["data"][0],
    );

    let path = format!("/api-keys?tenant_id={}", scopes.sensorbucket.tenant_id);
    let page = get(
        &sandbox,
        Vendor::SensorBucket,
        &path,
        bearer(Vendor::SensorBucket),
    )
    .await;
    let example = sensorbucket_apikeys::examples::list_api_keys200_response();
    assert_same_fields(
        Vendor::SensorBucket,
        &page,
        &page["data"],
        &example,
        &example["data"][0],
    );

    let list = get(&sandbox, Vendor::Nuki, "/api/key", bearer(Vendor::Nuki)).await;
    let example = nuki_apikeys::examples::api_key();
    assert_same_fields(Vendor::Nuki, &list, &list, &example, &example);

    // Without `$select` openBalena also sends each key's secret `key` and `modified_at`,
    // which the fragment leaves out on purpose: ask for the fields the crate asks for.
    let path = "/v7/api_key?$select=id,created_at,name,description,expiry_date,is_of__actor";
    let list = get(&sandbox, Vendor::Balena, path, bearer(Vendor::Balena)).await;
    let example = balena_apikeys::examples::api_key_collection();
    assert_same_fields(
        Vendor::Balena,
        &list,
        &list["d"],
        &example,
        &example["d"][0],
    );

    let path = format!(
        "/users/{}/api_keys?o={}",
        scopes.automox.user_id, scopes.automox.org_id
    );
    let page = get(&sandbox, Vendor::Automox, &path, bearer(Vendor::Automox)).await;
    let example = automox_apikeys::examples::api_key_page();
    assert_same_fields(
        Vendor::Automox,
        &page,
        &page["results"],
        &example,
        &example["results"][0],
    );
    for key in page["results"].as_array().unwrap() {
        assert_known_fields(
            Vendor::Automox,
            &key["user"],
            &example["results"][0]["user"],
        );
    }
}
