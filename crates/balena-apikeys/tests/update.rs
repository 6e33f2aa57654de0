//! `ApiKeyUpdate`, generated from the fragment's `x-apikeys-patch`: each field absent (left
//! as it is), `null` (cleared) or a value, as the JS SDK's `update` sends it.

use balena_apikeys::ApiKeyUpdate;
use chrono::{TimeZone, Utc};
use serde_json::json;

#[test]
fn absent_null_and_value_are_three_different_bodies() {
    let at = Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap();
    let full = ApiKeyUpdate::new()
        .name("ci-deploy-v2")
        .clear_description()
        .expiry_date(at);
    assert_eq!(
        serde_json::to_value(&full).unwrap(),
        json!({"name": "ci-deploy-v2", "description": null, "expiry_date": "2027-06-30T00:00:00.000Z"})
    );
    assert_eq!(
        serde_json::to_string(&ApiKeyUpdate::new().name("ci-deploy-v2").clear_description())
            .unwrap(),
        r#"{"name":"ci-deploy-v2","description":null}"#
    );
    assert_eq!(
        serde_json::to_value(ApiKeyUpdate::new()).unwrap(),
        json!({})
    );
    assert_eq!(
        serde_json::to_value(ApiKeyUpdate::new().description("d").clear_expiry_date()).unwrap(),
        json!({"description": "d", "expiry_date": null})
    );
    let round: ApiKeyUpdate = serde_json::from_value(
        json!({"description": null, "expiry_date": "2027-06-30T00:00:00.000Z"}),
    )
    .unwrap();
    assert_eq!(round.name, None);
    assert_eq!(round.description, Some(None));
    assert_eq!(round.expiry_date, Some(Some(at)));
    assert_eq!(
        round,
        ApiKeyUpdate::new().clear_description().expiry_date(at)
    );
}

#[test]
fn only_an_update_without_fields_is_empty() {
    assert!(ApiKeyUpdate::new().is_empty());
    assert!(ApiKeyUpdate::default().is_empty());
    assert!(!ApiKeyUpdate::new().name("n").is_empty());
    assert!(!ApiKeyUpdate::new().clear_description().is_empty());
    assert!(!ApiKeyUpdate::new().clear_expiry_date().is_empty());
}
