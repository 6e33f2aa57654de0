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
    /// Operations whose method misleads about idempotency, as (operationId, idempotent).
    /// Otherwise GET, HEAD, PUT, DELETE and OPTIONS are idempotent (and may be retried)
    /// and POST and PATCH are not.
    pub idempotency_overrides: &'static [(&'static str, bool)],
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

    /// Whether sending `operation` (an HTTP `method`, lower case) twice equals sending it once.
    pub fn idempotent(&self, operation: &str, method: &str) -> bool {
        match self
            .idempotency_overrides
            .iter()
            .find(|(id, _)| *id == operation)
        {
            Some((_, idempotent)) => *idempotent,
            None => matches!(method, "get" | "head" | "put" | "delete" | "options"),
        }
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
        // Logging in twice only mints a second token pair.
        idempotency_overrides: &[("login", true)],
    },
    // One row per vendor, in the order of the README's table.
];
