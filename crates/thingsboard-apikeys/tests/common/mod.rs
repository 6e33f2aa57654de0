//! Every operation once, as a table, for the tests that run the same check on each.

use apikeys_common::testing::OperationCase;
use serde_json::{Value, json};
use thingsboard_apikeys::types::SaveApiKeyRequest;
use thingsboard_apikeys::{Client, LoginRequest};
use uuid::{Uuid, uuid};

pub const USER: Uuid = uuid!("5f3a1c20-8b2e-11f0-9d41-6b1e2a7c4d10");
pub const KEY: Uuid = uuid!("a81c0e70-c8d4-11f0-8a3b-1f2e3d4c5b6a");

fn key_info() -> Value {
    json!({
        "id": {"entityType": "API_KEY", "id": KEY}, "createdTime": 1763891234567_i64,
        "tenantId": {"entityType": "TENANT", "id": "1e3f7b40-8b2e-11f0-9d41-6b1e2a7c4d10"},
        "userId": {"entityType": "USER", "id": USER}, "expirationTime": 0,
        "description": "CI deploy key", "enabled": true, "expired": false
    })
}

/// Every operation, with a valid 200 body (`None` when it reads no body).
pub fn operations() -> Vec<OperationCase<Client>> {
    let mut created = key_info();
    created["value"] = json!("tb_secret");
    let page = json!({"data": [key_info()], "totalPages": 1, "totalElements": 1, "hasNext": false});
    vec![
        OperationCase {
            operation: "login",
            method: "POST",
            path: "/api/auth/login".into(),
            status: 200,
            also_decodes: &[],
            valid: Some(json!({"token": "a.b.c", "refreshToken": "d.e.f"})),
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
            valid: Some(created),
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
            valid: Some(key_info()),
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
            valid: Some(key_info()),
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
            valid: Some(page),
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
