//! What a downstream crate that depends on `sensorbucket-apikeys` alone sees: every name of the
//! public contract is exported here, a list call returns the crate's one `Error`, and that
//! error survives a boxing error type (`anyhow`) and shows no response header.

// The fragment's examples, read from the source: the `testing` feature that exports them
// could be turned on only by the crate depending on itself.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

apikeys_common::public_contract_test! {
    krate: sensorbucket_apikeys,
    base_path: "/api",
    request: ("GET", "/api/api-keys"),
    error: (404, examples::sensorbucket_error_response(), "API Key not found"),
    call: |client| client.list_api_keys().send(),
}
