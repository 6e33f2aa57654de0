//! What a downstream crate that depends on `thingsboard-apikeys` alone sees: every name of the
//! public contract is exported here, a list call returns the crate's one `Error`, and that
//! error survives a boxing error type (`anyhow`) and shows no response header.

// The fragment's examples, read from the source: the `testing` feature that exports them
// could be turned on only by the crate depending on itself.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

apikeys_common::public_contract_test! {
    krate: thingsboard_apikeys,
    base_path: "",
    request: ("GET", "/api/apiKeys/5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10"),
    error: (404, examples::thingsboard_error_response(), "Requested item wasn't found!"),
    call: |client| client
        .get_user_api_keys()
        .user_id("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10".to_string())
        .page_size(10)
        .page(0)
        .send(),
}
