//! The vendor table: the one hand-written list of vendors. Every other list (the sandbox's
//! `Vendor` enum and mounts, the CLI's vendor subcommands, the README tables) is generated
//! from it by `cargo xtask codegen`. Adding a vendor is adding a row (see CONTRIBUTING.md).

/// How one vendor's client is generated.
#[derive(Clone)]
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
    /// The vendor's name as it writes it (`ThingsBoard`, `balena`); its Rust variant is
    /// this with the first letter upper-cased and anything but letters and digits dropped.
    pub display: &'static str,
    /// The root README's row: the platform, and what the crate covers.
    pub platform: &'static str,
    pub covers: &'static str,
    /// How the sandbox serves the vendor.
    pub sandbox: Sandbox,
    /// How the `apikeys` CLI reaches the vendor.
    pub cli: Cli,
}

/// The vendor's emulator, `crates/apikeys-sandbox/src/<name>.rs`: a
/// `pub(crate) fn build() -> (axum::Router, Secret, <Variant>Scope, Seeder)` (with
/// `(base_url: &str)` when `build_takes_base_url`), the `pub struct <Variant>Scope` (with
/// `Display`), the `pub(crate) struct Seeder` with
/// `fn seed(&self, Vec<SeedKey>) -> Result<Vec<String>, SeedError>`, and
/// `pub(crate) fn fault_response(StatusCode, &str) -> Response`, the vendor's error body
/// for an injected fault.
#[derive(Clone)]
pub struct Sandbox {
    /// The path of the vendor's base URL on the sandbox's server.
    pub base_path: &'static str,
    /// Whether the router is nested under `base_path`; otherwise its routes carry the
    /// prefix themselves and it is merged.
    pub nested: bool,
    /// Whether `build` takes the vendor's base URL (for links the server writes).
    pub build_takes_base_url: bool,
    /// What the seeded scope holds (the `Scopes` field's doc).
    pub scope_doc: &'static str,
    /// The sandbox README's row: the credential, and what is seeded.
    pub credential_doc: &'static str,
    pub seeded_doc: &'static str,
    /// The fragment's schemas whose `example`s the emulator seeds its data from, written
    /// to `crates/apikeys-sandbox/src/examples.rs` as JSON text.
    pub examples: &'static [&'static str],
    /// The lifecycle verbs (`list`, `get`, `create`, `update`, `revoke`) that the sandbox's
    /// fault rules accept besides the fragment's `operationId`s, as (verb, operationId): the
    /// operation the vendor crate's `KeyLifecycle` method mainly calls.
    pub verbs: &'static [(&'static str, &'static str)],
    /// The header the credential is sent in, and what comes before the key in it.
    pub auth_header: (&'static str, &'static str),
    /// The key listing's path under the base URL; `{thingsboard.user_id}` stands for that
    /// field of the seeded `Scopes`. The first of `examples` is what it answers (a bare
    /// array of it when `list_keys` is empty).
    pub list_path: &'static str,
    /// Where the keys are in the listing and in that example: a JSON pointer, `""` when the
    /// listing is a bare array.
    pub list_keys: &'static str,
    /// JSON whose fields the vendor's 401 body has (a subset); `""`: the body is empty.
    pub unauthorized: &'static str,
    /// A well-formed key id that no seeded key has (the vendor answers "not found").
    pub unknown_id: &'static str,
    /// What the vendor's keys can hold: an expiry, a disabled state.
    pub expires: bool,
    pub disables: bool,
    /// The tick of the vendor's clock, in nanoseconds: times are cut to it.
    pub precision_ns: i64,
}

/// The vendor's subcommand of the `apikeys` CLI.
#[derive(Clone)]
pub struct Cli {
    /// The subcommand's one-line help.
    pub about: &'static str,
    /// The `--base-url` default, a Rust expression (a string literal or a `BASE_URL`).
    pub base_url: &'static str,
    pub base_url_help: &'static str,
    pub api_key_help: &'static str,
    /// The arguments of `<crate>::KeyScope::new(client, ...)` after the client, in order.
    pub scope: &'static [ScopeArg],
}

/// One argument of the lifecycle scope's constructor, read from a flag.
#[derive(Clone)]
pub struct ScopeArg {
    /// The field and constructor argument (`user_id`); the flag is its kebab case
    /// unless `flag` says otherwise.
    pub field: &'static str,
    pub flag: Option<&'static str>,
    pub kind: ArgKind,
    pub value_name: &'static str,
    pub help: &'static str,
    /// The value the CLI's demo passes, a Rust expression over `scope`, the sandbox's
    /// seeded scope of the vendor.
    pub demo: &'static str,
}

#[derive(Clone)]
pub enum ArgKind {
    /// One value of a `FromStr` type, required, also read from `APIKEYS_<VENDOR>_<ENV>`.
    Required { ty: &'static str, env: &'static str },
    /// A list of `From<&str>` items (repeat the flag or separate with commas), upper-cased;
    /// at least one is needed to create a key (create, rotate), `example` names one.
    ForNewKeys {
        item: &'static str,
        example: &'static str,
    },
}

impl Vendor {
    /// The Rust type name: `ThingsBoard`, `Balena`.
    pub fn variant(&self) -> String {
        let mut chars = self.display.chars().filter(|c| c.is_ascii_alphanumeric());
        let first = chars.next().map(|c| c.to_ascii_uppercase());
        first.into_iter().chain(chars).collect()
    }

    /// The crate's name as Rust spells it: `thingsboard_apikeys`.
    pub fn crate_ident(&self) -> String {
        format!("{}_apikeys", self.name)
    }

    /// The fragment, relative to the workspace root.
    pub fn fragment(&self) -> String {
        format!("openapi/{}.yaml", self.name)
    }

    /// The fragment under `root`, read and parsed; an error names the file.
    pub fn load_fragment(&self, root: &std::path::Path) -> Result<serde_yaml::Value, String> {
        let fragment = self.fragment();
        let text = std::fs::read_to_string(root.join(&fragment))
            .map_err(|e| format!("{fragment}: cannot read: {e}"))?;
        serde_yaml::from_str(&text).map_err(|e| format!("{fragment}: not valid YAML: {e}"))
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
        display: "ThingsBoard",
        platform: "ThingsBoard (IoT)",
        covers: "save, enable/disable, list a user's keys (paged, as a stream), update description, delete, log in",
        sandbox: Sandbox {
            base_path: "/thingsboard",
            nested: true,
            build_takes_base_url: false,
            scope_doc: "ThingsBoard's tenant and user.",
            credential_doc: "API key `tb_…` (`X-Authorization: ApiKey …`)",
            seeded_doc: "tenant, user `tenant@thingsboard.org` / `tenant`, the keys of the `PageDataApiKeyInfo` example (the first is the credential, never expiring; one disabled)",
            examples: &["PageDataApiKeyInfo"],
            verbs: &[
                ("list", "get_user_api_keys"),
                ("get", "get_user_api_keys"),
                ("create", "save_api_key"),
                ("update", "update_api_key_description"),
                ("update", "enable_api_key"),
                ("revoke", "delete_api_key"),
            ],
            auth_header: ("x-authorization", "ApiKey "),
            list_path: "/api/apiKeys/{thingsboard.user_id}?pageSize=10&page=0",
            list_keys: "/data",
            unauthorized: r#"{"status": 401, "errorCode": 10}"#,
            unknown_id: "00000000-0000-4000-8000-000000000000",
            expires: true,
            disables: true,
            precision_ns: 1_000_000,
        },
        cli: Cli {
            about: "ThingsBoard: the API keys of one user (--user-id).",
            base_url: "\"https://thingsboard.cloud\"",
            base_url_help: "The ThingsBoard server's root URL.",
            api_key_help: "The API key to authenticate with.",
            scope: &[ScopeArg {
                field: "user_id",
                flag: None,
                kind: ArgKind::Required {
                    ty: "uuid::Uuid",
                    env: "USER_ID",
                },
                value_name: "UUID",
                help: "The user whose keys to manage (a UUID).",
                demo: "scope.user_id",
            }],
        },
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
        display: "SensorBucket",
        platform: "SensorBucket",
        covers: "create, get, list (cursor-paged, as a stream), revoke",
        sandbox: Sandbox {
            base_path: "/sensorbucket/api",
            nested: true,
            build_takes_base_url: true,
            scope_doc: "SensorBucket's tenant.",
            credential_doc: "key token (`Authorization: Bearer …`)",
            seeded_doc: "tenant 19 with the name and the keys of the `ListApiKeys200Response` example (the first is the credential, never expiring), archived tenant 20",
            examples: &["ListApiKeys200Response"],
            verbs: &[
                ("list", "list_api_keys"),
                ("get", "get_api_key"),
                ("create", "create_api_key"),
                ("revoke", "revoke_api_key"),
            ],
            auth_header: ("authorization", "Bearer "),
            list_path: "/api-keys?tenant_id={sensorbucket.tenant_id}",
            list_keys: "/data",
            unauthorized: r#"{"error": {"code": 401}}"#,
            unknown_id: "999999999",
            expires: true,
            disables: false,
            precision_ns: 1_000,
        },
        cli: Cli {
            about: "SensorBucket: the API keys of one tenant (--tenant-id; --permission for new keys).",
            base_url: "sensorbucket_apikeys::BASE_URL",
            base_url_help: "The SensorBucket API's URL, `/api` prefix included.",
            api_key_help: "The API key to authenticate with.",
            scope: &[
                ScopeArg {
                    field: "tenant_id",
                    flag: None,
                    kind: ArgKind::Required {
                        ty: "i64",
                        env: "TENANT_ID",
                    },
                    value_name: "ID",
                    help: "The tenant whose keys to manage.",
                    demo: "scope.tenant_id",
                },
                ScopeArg {
                    field: "permissions",
                    flag: Some("permission"),
                    kind: ArgKind::ForNewKeys {
                        item: "sensorbucket_apikeys::types::Permission",
                        example: "READ_DEVICES",
                    },
                    value_name: "PERMISSION",
                    help: "A permission to give new keys (create, rotate), e.g. READ_DEVICES; repeat the flag or separate with commas.",
                    demo: "vec![sensorbucket_apikeys::types::Permission::ReadDevices]",
                },
            ],
        },
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
        display: "Nuki",
        platform: "Nuki Web API",
        covers: "keys, advanced keys (incl. reactivate), key tokens: all 13 operations",
        sandbox: Sandbox {
            base_path: "/nuki",
            nested: true,
            build_takes_base_url: false,
            scope_doc: "Nuki's account and seeded API key.",
            credential_doc: "access token of a key token with the `account` scope",
            seeded_doc: "account 987654321, key 1010101010 as in the `ApiKey` example, with the credential's token, the `ApiKeyToken` example's token and the `AdvancedApiKey` example's advanced key (its webhooks deactivated), and key 1010101011",
            examples: &["ApiKey", "AdvancedApiKey", "ApiKeyToken"],
            verbs: &[
                ("list", "list_api_keys"),
                ("get", "list_api_keys"),
                ("create", "create_api_key"),
                ("update", "update_api_key"),
                ("revoke", "delete_api_key"),
            ],
            auth_header: ("authorization", "Bearer "),
            // Nuki lists a bare array of keys; the example is one key.
            list_path: "/api/key",
            list_keys: "",
            unauthorized: r#"{"code": 401, "reasonPhrase": "Unauthorized"}"#,
            unknown_id: "999999999",
            expires: false,
            disables: false,
            precision_ns: 1_000_000,
        },
        cli: Cli {
            about: "Nuki Web: the API keys of the account the token belongs to.",
            base_url: "nuki_apikeys::BASE_URL",
            base_url_help: "The Nuki Web API's URL.",
            api_key_help: "The API token to authenticate with.",
            scope: &[],
        },
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
        replacements: &[("ApiKeySecret", "::apikeys_common::Secret")],
        // PATCH of one key by id sets the given fields to given values: sending it twice
        // leaves what sending it once does.
        idempotency_overrides: &[("update_api_key", true)],
        prepare_request: None,
        display: "balena",
        platform: "balena cloud / openBalena",
        covers: "create, get all, named user keys, device keys, provisioning keys (with typed OData options, as streams), revoke, update",
        sandbox: Sandbox {
            // At the host root, as `api.balena-cloud.com` is (both official SDKs resolve its
            // paths against the root); `/balena` still answers for older clients. Its paths
            // hold parentheses and quotes, matched by hand, so it is merged, not nested.
            base_path: "",
            nested: false,
            build_takes_base_url: false,
            scope_doc: "balena's user, fleet and device.",
            credential_doc: "a user session token (JWT)",
            seeded_doc: "user 42 (actor 1111) named as in the `ActorWhoami` example, with the `ApiKeyCollection` example's named keys and a legacy unnamed key, fleet 123 `sandbox/fleet` with a provisioning key, device 456 with a device key; `scopes().balena.api_key` is the last of those named keys (never expiring), which may only read, `provisioning_key` and `device_key` the fleet's and the device's keys",
            examples: &["ApiKeyCollection", "ActorWhoami"],
            verbs: &[
                ("list", "get_api_keys"),
                ("get", "get_api_keys"),
                ("create", "create_named_user_api_key"),
                ("update", "update_api_key"),
                ("revoke", "revoke_api_key"),
            ],
            auth_header: ("authorization", "Bearer "),
            // Without `$select` openBalena also sends each key's secret `key` and `modified_at`,
            // which the fragment leaves out on purpose: the fields the crate asks for.
            list_path: "/v7/api_key?$select=id,created_at,name,description,expiry_date,is_of__actor",
            list_keys: "/d",
            unauthorized: "",
            unknown_id: "999999999",
            expires: true,
            disables: false,
            precision_ns: 1_000_000,
        },
        cli: Cli {
            about: "balena: the named API keys of the user the key belongs to.",
            base_url: "\"https://api.balena-cloud.com\"",
            base_url_help: "The balena API's URL (balenaCloud, or your openBalena's `https://api.<domain>`).",
            api_key_help: "The API key or session token to authenticate with.",
            scope: &[],
        },
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
        display: "Automox",
        platform: "Automox console",
        covers: "create, decrypt, delete, get, list for user and org (paged, as streams), update",
        sandbox: Sandbox {
            base_path: "/automox/api",
            nested: true,
            build_takes_base_url: false,
            scope_doc: "Automox's organization and user.",
            credential_doc: "key secret (`Authorization: Bearer …`)",
            seeded_doc: "organization 1234, user 98765 as in the `ApiKeyPage` example, with its keys (the first is the credential, never expiring; one disabled), user 98766 with 1",
            examples: &["ApiKeyPage"],
            verbs: &[
                ("list", "get_user_api_keys"),
                ("get", "get_user_api_key"),
                ("create", "create_user_api_key"),
                ("update", "update_user_api_key"),
                ("revoke", "delete_user_api_key"),
            ],
            auth_header: ("authorization", "Bearer "),
            list_path: "/users/{automox.user_id}/api_keys?o={automox.org_id}",
            list_keys: "/results",
            unauthorized: r#"{"errors": ["Unauthorized"]}"#,
            unknown_id: "999999999",
            expires: true,
            disables: true,
            precision_ns: 1_000_000_000,
        },
        cli: Cli {
            about: "Automox: the API keys of one user in one organization (--org, --user-id).",
            base_url: "automox_apikeys::BASE_URL",
            base_url_help: "The Automox console API's URL.",
            api_key_help: "The API key to authenticate with.",
            scope: &[
                ScopeArg {
                    field: "org",
                    flag: None,
                    kind: ArgKind::Required {
                        ty: "i64",
                        env: "ORG",
                    },
                    value_name: "ID",
                    help: "The organization the user belongs to.",
                    demo: "scope.org_id",
                },
                ScopeArg {
                    field: "user_id",
                    flag: None,
                    kind: ArgKind::Required {
                        ty: "i64",
                        env: "USER_ID",
                    },
                    value_name: "ID",
                    help: "The user whose keys to manage.",
                    demo: "scope.user_id",
                },
            ],
        },
    },
    // One row per vendor, in the order of the README's table.
];
