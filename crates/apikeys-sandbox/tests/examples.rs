//! The sandbox writes the wire with its own types; the fragments' examples are the wire as
//! the vendors send it. Every field of every key the sandbox lists must be one the vendor's
//! example has, so a field misspelled on either side fails here instead of passing on both.
//! (A listing may leave out a field the example has: Nuki's lists no `apiKey`.)

use std::collections::BTreeSet;

mod vendors;

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

/// Where a vendor's listing is, how to ask for it, the example it is compared with, and
/// where the keys are in both (a JSON pointer, "" for the body itself).
struct Listing {
    path: String,
    header: (&'static str, String),
    example: Value,
    keys: &'static str,
}

/// The vendor's listing, from the vendor table: a bare array (`list_keys` empty) is
/// compared with an array of the example's one key.
fn listing(sandbox: &Sandbox, vendor: Vendor) -> Listing {
    let secret = sandbox.credential(vendor);
    let (header, value) = vendor.auth_header(secret.expose_secret());
    let example = vendors::listing_example(vendor);
    let keys = vendor.list_keys();
    Listing {
        path: vendor.list_path(sandbox.scopes()),
        header: (header, value),
        example: if keys.is_empty() {
            Value::Array(vec![example])
        } else {
            example
        },
        keys,
    }
}

// issue 23, part 2: every vendor of the table, so a new one is never skipped.
#[tokio::test]
async fn listed_keys_carry_the_field_names_of_the_fragments_examples() {
    let sandbox = Sandbox::start().await.unwrap();
    for &vendor in Vendor::ALL {
        let Listing {
            path,
            header,
            example,
            keys,
        } = listing(&sandbox, vendor);
        let listed = get(&sandbox, vendor, &path, header).await;
        let (Some(listed_keys), Some(example_keys)) = (listed.pointer(keys), example.pointer(keys))
        else {
            panic!("{vendor}: no `{keys}` in {listed} or its example {example}")
        };
        let Some(key) = example_keys.get(0) else {
            panic!("{vendor}: the example lists no key: {example}")
        };
        assert_same_fields(vendor, &listed, listed_keys, &example, key);
        if vendor == Vendor::Automox {
            for listed in listed_keys.as_array().unwrap() {
                assert_known_fields(vendor, &listed["user"], &key["user"]);
            }
        }
    }
}
