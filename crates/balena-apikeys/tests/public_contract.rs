//! What a downstream crate that depends on `balena-apikeys` alone sees: every name of the
//! public contract is exported here, a list call returns the crate's one `Error`, and that
//! error survives a boxing error type (`anyhow`) and shows no response header.

// The fragment's examples, read from the source: the `testing` feature that exports them
// could be turned on only by the crate depending on itself.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

apikeys_common::public_contract_test! {
    krate: balena_apikeys,
    base_path: "",
    request: ("GET", "/v7/api_key"),
    error: (400, examples::balena_error(), "Key expiry date should be a valid date"),
    call: |client| client.api_key().get_all().send(),
}
