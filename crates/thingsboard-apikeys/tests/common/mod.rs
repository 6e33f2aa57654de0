//! Every operation once, as a table, for the tests that run the same check on each.

use apikeys_common::testing::OperationCase;
use thingsboard_apikeys::types::SaveApiKeyRequest;
use thingsboard_apikeys::{Client, LoginRequest};
use uuid::{Uuid, uuid};

// The fragment's examples, which the `testing` feature exposes as `examples`, read from the
// source: the crate's own tests could turn the feature on only by depending on the crate
// itself, which does not publish.
#[path = "../../src/examples.rs"]
#[allow(dead_code)]
#[rustfmt::skip]
pub mod examples;

/// The user and key of the fragment's examples.
pub const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
pub const KEY: Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

/// Every operation, with a valid 200 body (the fragment's example; `None` when it reads no
/// body).
pub fn operations() -> Vec<OperationCase<Client>> {
    vec![
        OperationCase {
            operation: "login",
            method: "POST",
            path: "/api/auth/login".into(),
            status: 200,
            also_decodes: &[],
            valid: Some(examples::login_response()),
            call: |c| {
                Box::pin(async move {
                    let body = LoginRequest::new("u@example.com", "pw");
                    c.login().body(body).send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "save_api_key",
            method: "POST",
            path: "/api/apiKey".into(),
            status: 200,
            also_decodes: &[],
            valid: Some(examples::api_key()),
            call: |c| {
                Box::pin(async move {
                    let body = SaveApiKeyRequest::builder()
                        .user_id(USER)
                        .description("d")
                        .enabled(true);
                    c.save_api_key().body(body).send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "enable_api_key",
            method: "PUT",
            path: format!("/api/apiKey/{KEY}/enabled/true"),
            status: 200,
            also_decodes: &[],
            valid: Some(examples::api_key_info()),
            call: |c| {
                Box::pin(async move {
                    let request = c.enable_api_key().id(KEY).enabled_value(true);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "update_api_key_description",
            method: "PUT",
            path: format!("/api/apiKey/{KEY}/description"),
            status: 200,
            also_decodes: &[],
            valid: Some(examples::api_key_info()),
            call: |c| {
                Box::pin(async move {
                    let request = c.update_api_key_description().id(KEY).body("new");
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "get_user_api_keys",
            method: "GET",
            path: format!("/api/apiKeys/{USER}"),
            status: 200,
            also_decodes: &[],
            valid: Some(examples::page_data_api_key_info()),
            call: |c| {
                Box::pin(async move {
                    let request = c
                        .get_user_api_keys()
                        .user_id(USER.to_string())
                        .page(0)
                        .page_size(10);
                    request.send().await.map(drop)
                })
            },
        },
        OperationCase {
            operation: "delete_api_key",
            method: "DELETE",
            path: format!("/api/apiKey/{KEY}"),
            status: 200,
            also_decodes: &[],
            valid: None,
            call: |c| Box::pin(async move { c.delete_api_key().id(KEY).send().await.map(drop) }),
        },
    ]
}
