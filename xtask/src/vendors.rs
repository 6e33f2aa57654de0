//! The vendor table: one row per generated client. Adding a vendor is adding a row.

/// How one vendor's client is generated.
pub struct Vendor {
    /// Short name: the fragment is `openapi/<name>.yaml`, the crate `crates/<name>-apikeys`.
    pub name: &'static str,
    /// The vendor SDK's method names. The fragment's `operationId`s must be exactly these,
    /// so every SDK operation is covered and named as the SDK's users know it.
    pub operations: &'static [&'static str],
    /// Schemas swapped for hand-written types, as (schema name, Rust path). String enums
    /// need no row: every one becomes an open enum on its own.
    pub replacements: &'static [(&'static str, &'static str)],
}

impl Vendor {
    /// The fragment, relative to the workspace root.
    pub fn fragment(&self) -> String {
        format!("openapi/{}.yaml", self.name)
    }

    /// The generated file, relative to the workspace root.
    pub fn output(&self) -> String {
        format!("crates/{}-apikeys/src/generated.rs", self.name)
    }
}

pub const VENDORS: &[Vendor] = &[
    Vendor {
        name: "thingsboard",
        operations: &[
            "login",
            "save_api_key",
            "enable_api_key",
            "get_user_api_keys",
            "update_api_key_description",
            "delete_api_key",
        ],
        replacements: &[
            ("ApiKeyValue", "crate::auth::ApiKeyValue"),
            ("Jwt", "::apikeys_common::Secret"),
            ("LoginRequest", "crate::auth::LoginRequest"),
        ],
    },
    // One row per vendor, in the order of the README's table.
];
