//! Hostile servers, the examples of a misbehaving server that must end in a typed error:
//! a `Retry-After` no client can wait for, secrets echoed in any shape, and an id too long
//! for any URL. (Endless pagination is in api_keys.rs, next to the other stream tests.)

mod common;

use apikeys_common::testing::{
    CANARY, HOSTILE_RETRY_AFTER, check_oversized_id, check_retry_after_storms, check_secret_echoes,
    secret_echoes,
};
use common::operations;
use thingsboard_apikeys::Client;

#[tokio::test]
async fn a_retry_after_storm_ends_every_operation_in_its_typed_error() {
    let expected = operations().len() * 2 * HOSTILE_RETRY_AFTER.len();
    assert_eq!(check_retry_after_storms("", operations()).await, expected);
}

#[tokio::test]
async fn secrets_echoed_in_any_shape_reach_no_error_or_log() {
    let expected = operations().len() * 3 * secret_echoes(CANARY).len();
    assert_eq!(check_secret_echoes("", operations()).await, expected);
}

#[tokio::test]
async fn a_100_kb_user_id_is_refused_before_sending() {
    let sent = check_oversized_id::<Client>("", |client, id| {
        Box::pin(async move {
            let request = client.get_user_api_keys().user_id(id).page_size(1).page(0);
            request.send().await.map(drop)
        })
    })
    .await;
    assert_eq!(sent, 0);
}
