//! What a downstream crate that depends on `automox-apikeys` alone sees: every name of the
//! public contract is exported here, a list call returns the crate's one `Error`, and that
//! error survives a boxing error type (`anyhow`) and shows no response header.

// The fragment's examples, read from the source: the `testing` feature that exports them
// could be turned on only by the crate depending on itself.
#[path = "../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
mod examples;

apikeys_common::public_contract_test! {
    krate: automox_apikeys,
    base_path: "/api",
    request: ("GET", "/api/users/98765/api_keys"),
    error: (400, examples::automox_error_response(), "API key name already exists"),
    call: |client| client.org(1234).get_user_api_keys().user_id(98765).send(),
}
