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
    /// A hand-written `fn(&mut reqwest::Request) -> Result<(), String>` run on every
    /// request before it is sent, for wire rules the fragment cannot express.
    pub prepare_request: Option<&'static str>,
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

    /// The generated response examples, relative to the workspace root.
    pub fn examples_output(&self) -> String {
        format!("crates/{}-apikeys/src/examples.rs", self.name)
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
        prepare_request: None,
    },
    Vendor {
        name: "sensorbucket",
        operations: &[
            "list_api_keys",
            "create_api_key",
            "get_api_key",
            "revoke_api_key",
        ],
        replacements: &[("ApiKeyToken", "::apikeys_common::Secret")],
        idempotency_overrides: &[],
        prepare_request: None,
    },
    Vendor {
        name: "automox",
        operations: &[
            "create_user_api_key",
            "decrypt_user_api_key",
            "delete_user_api_key",
            "get_organization_api_keys",
            "get_user_api_key",
            "get_user_api_keys",
            "update_user_api_key",
        ],
        replacements: &[
            ("ApiKeySecret", "::apikeys_common::Secret"),
            ("Timestamp", "crate::timestamp::Timestamp"),
        ],
        // Decrypting reads the secret; it changes nothing on the server.
        idempotency_overrides: &[("decrypt_user_api_key", true)],
        prepare_request: None,
    },
    Vendor {
        name: "nuki",
        operations: &[
            "list_api_keys",
            "create_api_key",
            "update_api_key",
            "delete_api_key",
            "get_advanced_api_key",
            "create_advanced_api_key",
            "update_advanced_api_key",
            "delete_advanced_api_key",
            "reactivate_advanced_api_key",
            "list_api_key_tokens",
            "create_api_key_token",
            "update_api_key_token",
            "delete_api_key_token",
        ],
        replacements: &[
            ("AccessToken", "::apikeys_common::Secret"),
            ("ApiKeyValue", "::apikeys_common::Secret"),
            ("ClientSecret", "::apikeys_common::Secret"),
        ],
        // Nuki creates with PUT and updates with POST (its Swagger): creating twice makes
        // two keys or tokens (or a second application); updating or reactivating twice
        // leaves what updating once does.
        idempotency_overrides: &[
            ("create_api_key", false),
            ("create_advanced_api_key", false),
            ("create_api_key_token", false),
            ("update_api_key", true),
            ("update_advanced_api_key", true),
            ("update_api_key_token", true),
            ("reactivate_advanced_api_key", true),
        ],
        prepare_request: None,
    },
    Vendor {
        name: "balena",
        // The wire operations the SDKs' `models.apiKey` methods make; those seven methods are
        // hand-written helpers.
        operations: &[
            "create_named_user_api_key",
            "get_actor_whoami",
            "get_api_keys",
            "count_api_keys",
            "update_api_key",
            "revoke_api_key",
            "get_application_actor",
            "find_application_actor",
            "get_device_actor",
            "get_device_actor_by_uuid",
        ],
        replacements: &[
            ("ApiKeySecret", "::apikeys_common::Secret"),
            ("ApiKeyUpdate", "crate::update::ApiKeyUpdate"),
        ],
        // PATCH of one key by id sets the given fields to given values: sending it twice
        // leaves what sending it once does.
        idempotency_overrides: &[("update_api_key", true)],
        prepare_request: Some("crate::auth::prepare_request"),
    },
    // One row per vendor, in the order of the README's table.
];
