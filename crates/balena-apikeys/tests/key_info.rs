//! `KeyInfo::try_from(ApiKey)`, generated from the fragment's `x-apikeys-key-info`.

use balena_apikeys::types::ApiKey;
use balena_apikeys::{Error, KeyInfo};
use chrono::{TimeZone, Utc};
use serde_json::json;

#[test]
fn a_key_row_becomes_a_key_info_and_one_without_id_is_refused() {
    let row: ApiKey = serde_json::from_value(json!({
        "id": 4870231, "created_at": "2025-03-14T10:22:31.418Z", "name": "ci-deploy",
        "description": "pipeline", "expiry_date": null, "is_of__actor": {"__id": 1111}
    }))
    .unwrap();
    let info = KeyInfo::try_from(row).unwrap();
    assert_eq!(info.id, "4870231");
    assert_eq!(info.name.as_deref(), Some("ci-deploy"));
    assert_eq!(
        info.created_at,
        Some(
            Utc.with_ymd_and_hms(2025, 3, 14, 10, 22, 31).unwrap()
                + chrono::Duration::milliseconds(418)
        )
    );
    assert_eq!(info.expires_at, None);
    assert_eq!(info.enabled, None, "balena keys have no enabled flag");

    let without_id: ApiKey = serde_json::from_value(json!({"name": "x"})).unwrap();
    let error = KeyInfo::try_from(without_id).unwrap_err();
    assert!(
        matches!(&error, Error::Decode { reason, .. } if reason.contains("`id`")),
        "{error:?}"
    );
}
