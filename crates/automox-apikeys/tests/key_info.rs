//! `KeyInfo::try_from(ApiKey)`, generated from the fragment's `x-apikeys-key-info`.

use automox_apikeys::types::ApiKey;
use automox_apikeys::{Error, KeyInfo};
use chrono::{TimeZone, Utc};
use serde_json::json;

#[test]
fn a_key_becomes_a_key_info_with_its_timestamps_and_one_without_id_is_refused() {
    let key: ApiKey = serde_json::from_value(json!({
        "id": 42, "name": "ci", "is_enabled": false,
        "expires_at": "2026-12-31T23:59:59+0000", "created_at": "2025-11-23T08:41:07+0000"
    }))
    .unwrap();
    let info = KeyInfo::try_from(key).unwrap();
    assert_eq!(info.id, "42");
    assert_eq!(info.name.as_deref(), Some("ci"));
    assert_eq!(info.enabled, Some(false));
    assert_eq!(
        info.created_at,
        Some(Utc.with_ymd_and_hms(2025, 11, 23, 8, 41, 7).unwrap())
    );
    assert_eq!(
        info.expires_at,
        Some(Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap())
    );

    let without_id: ApiKey = serde_json::from_value(json!({"name": "ci"})).unwrap();
    assert!(matches!(
        KeyInfo::try_from(without_id),
        Err(Error::Decode { .. })
    ));
}
