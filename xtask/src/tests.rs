use super::*;
use crate::lint::lint;
use crate::vendors::Vendor;

#[test]
fn committed_generated_code_is_fresh() {
    if let Err(message) = codegen_all(&workspace_root(), true, &[]) {
        panic!("{message}");
    }
}

#[test]
fn generation_is_deterministic() {
    let root = workspace_root();
    for vendor in VENDORS {
        assert_eq!(
            codegen::generate(&root, vendor),
            codegen::generate(&root, vendor)
        );
    }
}

#[test]
fn generated_requests_carry_no_api_version_and_encode_backslashes() {
    let root = workspace_root();
    for vendor in VENDORS {
        let code = codegen::generate(&root, vendor).unwrap();
        assert!(!code.contains("\"api-version\""), "{}", vendor.name);
        assert!(
            !code.contains(
                "let mut header_map = ::reqwest::header::HeaderMap::with_capacity(0usize)"
            )
        );
        assert!(
            code.contains("use ::apikeys_common::hooks::encode_path;"),
            "{}",
            vendor.name
        );
        assert!(
            !code.contains("progenitor_client::{encode_path"),
            "{}",
            vendor.name
        );
    }
}

/// What the generated code no longer pays for on every request: an empty header map, a
/// header look-up to add the text charset, a body rebuilt through its field builder, and a
/// re-serialized query for each absent optional parameter.
#[test]
fn generated_requests_skip_per_call_work_that_does_nothing() {
    let root = workspace_root();
    for vendor in VENDORS {
        let code = codegen::generate(&root, vendor).unwrap();
        assert!(
            !code.contains("HeaderMap::with_capacity(0usize)"),
            "{}",
            vendor.name
        );
        assert!(!code.contains("\"text/plain\""), "{}", vendor.name);
        assert!(
            !code.contains("body: Result<types::builder::"),
            "{}",
            vendor.name
        );
    }
    let thingsboard = VENDORS.iter().find(|v| v.name == "thingsboard").unwrap();
    let code = codegen::generate(&root, thingsboard).unwrap();
    assert!(code.contains(".query_some(\"textSearch\", &text_search)"));
    assert!(!code.contains("QueryParam::new(\"textSearch\""));
    // balena's fragment asks for its queries in OData's wire form: none is form-encoded.
    let balena = VENDORS.iter().find(|v| v.name == "balena").unwrap();
    let code = codegen::generate(&root, balena).unwrap();
    assert!(code.contains("(\"$select\", ::apikeys_common::odata::wire_value(&select))"));
    assert!(!code.contains(".query_some(") && !code.contains("QueryParam::new("));
    assert!(code.contains("::apikeys_common::__private::Body<"));
}

const TOY: Vendor = Vendor {
    name: "toy",
    operations: &["get_key"],
    replacements: &[],
    idempotency_overrides: &[],
    prepare_request: None,
    display: "Toy",
    platform: "Toy",
    covers: "get",
    sandbox: crate::vendors::Sandbox {
        base_path: "/toy/api",
        nested: true,
        build_takes_base_url: false,
        scope_doc: "The toy's account.",
        credential_doc: "a token",
        seeded_doc: "one key",
        examples: &["KeyPage"],
        verbs: &[],
        auth_header: ("authorization", "Basic "),
        list_path: "/accounts/{toy.account_id}/keys",
        list_keys: "/keys",
        unauthorized: r#"{"message": "no"}"#,
        unknown_id: "999",
        expires: true,
        disables: false,
        precision_ns: 1_000,
    },
    cli: crate::vendors::Cli {
        about: "Toy: the keys of one account (--account).",
        base_url: "toy_apikeys::BASE_URL",
        base_url_help: "The toy API's URL.",
        api_key_help: "The API key to authenticate with.",
        scope: &[crate::vendors::ScopeArg {
            field: "account",
            flag: None,
            kind: crate::vendors::ArgKind::Required {
                ty: "i64",
                env: "ACCOUNT",
            },
            value_name: "ID",
            help: "The account.",
            demo: "scope.account_id",
        }],
    },
};

/// The sandbox seeds from the examples the rows name: one constant each, and a schema
/// without an `example` is refused.
#[test]
fn the_sandbox_gets_the_examples_each_row_names() {
    use heck::ToShoutySnakeCase;
    let root = workspace_root();
    let text = crate::examples::sandbox(&root, VENDORS).unwrap();
    for vendor in VENDORS {
        assert!(text.contains(&format!("pub(crate) mod {} {{", vendor.name)));
        assert!(!vendor.sandbox.examples.is_empty(), "{}", vendor.name);
        for name in vendor.sandbox.examples {
            let constant = format!("pub(crate) const {}: &str", name.to_shouty_snake_case());
            assert!(text.contains(&constant), "{constant}");
        }
    }
    let mut wrong = VENDORS[0].clone();
    wrong.sandbox.examples = &["NoSuchSchema"];
    let error = crate::examples::sandbox(&root, &[wrong]).unwrap_err();
    assert!(
        error.contains("`NoSuchSchema`, which has no `example`"),
        "{error}"
    );
}

/// A sixth row reaches every derived file: nothing else lists the vendors.
#[test]
fn a_new_row_reaches_the_sandbox_the_cli_and_the_tables() {
    let root = workspace_root();
    let vendors: Vec<Vendor> = VENDORS.iter().chain([&TOY]).map(Vendor::clone).collect();
    let sandbox =
        crate::derived::rust(&root, "sandbox", crate::derived::sandbox(&vendors)).unwrap();
    // issue 23, part 2: the row before the toy is whichever the table ends with.
    let last = VENDORS.last().unwrap();
    let after_last = format!("Vendor::{},\n        Vendor::Toy,\n    ];", last.variant());
    let named_last = format!("{} and Toy", last.display);
    for wanted in [
        after_last.as_str(),
        "#[path = \"toy.rs\"]\nmod toy;",
        "pub use toy::ToyScope;",
        "Vendor::Toy => \"/toy/api\",",
        "let (toy_router, toy_key, toy_scope, toy_seeder) = toy::build();",
        ".nest(Vendor::Toy.base_path(), toy_router)",
        "pub toy: ToyScope,",
        "\"toy\" => Some(Vendor::Toy),",
        "Vendor::Toy => self.toy.seed(keys),",
        "toy: Vec<SeedKey>,",
        "(Vendor::Toy, self.toy),",
    ] {
        assert!(sandbox.contains(wanted), "{wanted}\n{sandbox}");
    }
    let cli = crate::derived::rust(&root, "cli", crate::derived::cli(&vendors)).unwrap();
    for wanted in [
        "#[command(name = \"toy\", after_help = EXIT_CODES)]\n    Toy(ToyArgs),",
        "env = \"APIKEYS_TOY_API_KEY\"",
        "env = \"APIKEYS_TOY_ACCOUNT\"",
        "Scope::Toy { account } => {\n                Box::new(toy_apikeys::KeyScope::new(target.client()?, account))\n            }",
        "let account = required(\"toy\", args.account, \"--account\", \"ACCOUNT\")?;",
        "account: scope.account_id",
        named_last.as_str(),
    ] {
        assert!(cli.contains(wanted), "{wanted}\n{cli}");
    }
    let committed = std::fs::read_to_string(root.join(crate::derived::SANDBOX)).unwrap();
    assert!(!committed.contains("Toy"));

    // issue 23, part 2: the row's test facts reach the cross-vendor tests' generated modules.
    for wanted in [
        "Vendor::Toy => (\"authorization\", format!(\"{}{key}\", \"Basic \")),",
        "Vendor::Toy => format!(\"/accounts/{}/keys\", scopes.toy.account_id),",
        "Vendor::Toy => \"/keys\",",
        r#"Vendor::Toy => "{\"message\": \"no\"}","#,
        "Vendor::Toy => \"999\",",
        "Vendor::Toy => KeyFields {\n                expires: true,\n                disables: false,\n                precision_ns: 1000i64,",
    ] {
        assert!(sandbox.contains(wanted), "{wanted}\n{sandbox}");
    }
    let tests = crate::derived::rust(
        &root,
        "tests",
        crate::derived::sandbox_tests(&vendors).unwrap(),
    )
    .unwrap();
    let compact: String = tests.split_whitespace().collect();
    for wanted in [
        "Vendor::Toy=>{letscope=&scopes.toy;letclient=toy_apikeys::Client::builder(base)",
        "Box::new(toy_apikeys::KeyScope::new(client,scope.account_id))",
        "Vendor::Toy=>toy_apikeys::examples::key_page(),",
    ] {
        assert!(compact.contains(wanted), "{wanted}\n{tests}");
    }
    let cli_tests =
        crate::derived::rust(&root, "tests", crate::derived::cli_tests(&vendors)).unwrap();
    let compact: String = cli_tests.split_whitespace().collect();
    let wanted = "Vendor::Toy=>{letscope=&scopes.toy;vec![(\"account\",toml::Value::try_from(scope.account_id).unwrap())]";
    assert!(compact.contains(wanted), "{wanted}\n{cli_tests}");
}

/// A row whose test facts cannot be generated is refused, naming the vendor and the field.
#[test]
fn a_row_without_its_test_facts_is_refused() {
    let mut no_example = TOY.clone();
    no_example.sandbox.examples = &[];
    let error = crate::derived::sandbox_tests(&[no_example]).unwrap_err();
    assert!(
        error.contains("toy: `sandbox.examples` is empty"),
        "{error}"
    );
    for (path, why) in [
        ("/keys/{other.id}", "may only name fields of its own scope"),
        ("/keys/{toy.id", "a `{` without its `}`"),
        ("/keys/toy.id}", "a `}` without its `{`"),
    ] {
        let mut wrong = TOY.clone();
        wrong.sandbox.list_path = path;
        let tokens = crate::derived::sandbox(&[wrong]).to_string();
        assert!(
            tokens.contains("compile_error")
                && tokens.contains("toy: `list_path` ")
                && tokens.contains(why),
            "{path}: {tokens}"
        );
    }
}

fn fragment(responses: &str, extra: &str) -> serde_yaml::Value {
    let text = format!(
        r#"
openapi: 3.0.3
info: {{title: toy, version: "1"}}
paths:
  /keys/{{id}}:
    get:
      operationId: get_key
      summary: Get a key
      description: Gets a key.
      x-rust-example: "client.get_key().id(\"7\").send().await?;"
      parameters:
        - {{name: id, in: path, required: true, schema: {{type: string}}}}
      responses:
{responses}
components:
  schemas:
    Key: {{type: object, properties: {{id: {{type: string}}}}, example: {{id: k1}}}}
    Problem: {{type: object, properties: {{message: {{type: string}}}}, example: {{message: no}}}}
    Other: {{type: object}}
{extra}
"#
    );
    serde_yaml::from_str(&text).unwrap()
}

const OK: &str = r##"        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Key'}}}}
        4XX: {description: e, content: {application/json: {schema: {$ref: '#/components/schemas/Problem'}}}}"##;

fn problems(doc: &serde_yaml::Value) -> String {
    lint(&TOY, doc).err().unwrap_or_default().join("\n")
}

#[test]
fn a_well_formed_fragment_passes() {
    let facts = lint(&TOY, &fragment(OK, "")).unwrap();
    assert_eq!(facts.error_schema, "Problem");
}

#[test]
fn default_responses_are_refused() {
    let responses = format!("{OK}\n        default: {{description: d}}");
    let found = problems(&fragment(&responses, ""));
    assert!(
        found.contains("operation `get_key` (GET /keys/{id}): declares a `default` response"),
        "{found}"
    );
}

#[test]
fn error_statuses_are_declared_as_ranges() {
    let responses = format!("{OK}\n        '404': {{description: d}}");
    let found = problems(&fragment(&responses, ""));
    assert!(
        found.contains(
            "(GET /keys/{id}): declares the error status `404`: declare errors under 4XX/5XX"
        ),
        "{found}"
    );
}

#[test]
fn two_success_responses_are_refused() {
    let responses = format!("{OK}\n        '202': {{description: accepted}}");
    assert!(problems(&fragment(&responses, "")).contains("2 success responses"));
}

#[test]
fn error_responses_must_share_one_schema() {
    let responses = format!(
        "{OK}\n        5XX: {{description: e, content: {{application/json: {{schema: {{$ref: '#/components/schemas/Other'}}}}}}}}"
    );
    assert!(problems(&fragment(&responses, "")).contains("2 schemas (Other, Problem)"));
}

#[test]
fn closed_response_schemas_are_refused() {
    let mut doc = fragment(OK, "");
    doc["components"]["schemas"]["Key"]["additionalProperties"] = false.into();
    assert!(problems(&doc).contains("schema `Key` is reached from a response"));
}

#[test]
fn operation_ids_must_be_the_sdk_names() {
    let doc = fragment(OK, "");
    let renamed = Vendor {
        operations: &["getKey"],
        ..TOY
    };
    let found = lint(&renamed, &doc).unwrap_err().join("\n");
    assert!(
        found.contains("`get_key` is not one of the vendor SDK's method names"),
        "{found}"
    );
    assert!(
        found.contains("the vendor SDK's `getKey` has no operation"),
        "{found}"
    );
}

#[test]
fn summaries_descriptions_and_version_are_required() {
    let mut doc = fragment(OK, "");
    doc["openapi"] = "3.1.0".into();
    doc["paths"]["/keys/{id}"]["get"]["summary"] = "".into();
    let found = problems(&doc);
    assert!(found.contains("OpenAPI 3.0.x only"), "{found}");
    assert!(found.contains("has no summary"), "{found}");
}

#[test]
fn string_enums_become_open_enums() {
    let doc = fragment(
        OK,
        "    State: {type: string, enum: [ACTIVE, revoked_by-admin]}",
    );
    let facts = lint(&TOY, &doc).unwrap();
    let variants: Vec<_> = facts.open_enums[0]
        .variants
        .iter()
        .map(|(v, _)| v.as_str())
        .collect();
    assert_eq!(variants, ["Active", "RevokedByAdmin"]);
}

#[test]
fn a_progenitor_panic_names_the_operation() {
    // Two success types make progenitor panic; the lint, which would refuse them, is skipped.
    let responses = format!(
        "{OK}\n        '201': {{description: c, content: {{application/json: {{schema: {{$ref: '#/components/schemas/Other'}}}}}}}}"
    );
    let facts = crate::lint::Facts {
        error_schema: "Problem".into(),
        open_enums: Vec::new(),
        operations: Vec::new(),
    };
    let found = codegen::progenitor(&TOY, &facts, &fragment(&responses, "")).unwrap_err();
    assert!(found.contains("at operation `get_key`"), "{found}");
    assert!(found.contains("panicked"), "{found}");
}

#[test]
fn idempotency_follows_the_method_unless_overridden() {
    let vendor = Vendor {
        idempotency_overrides: &[("create_key", false), ("update_key", true)],
        ..TOY
    };
    assert!(vendor.idempotent("get_key", "get"));
    assert!(vendor.idempotent("delete_key", "delete"));
    assert!(
        !vendor.idempotent("create_key", "put"),
        "a PUT that creates"
    );
    assert!(
        vendor.idempotent("update_key", "post"),
        "a POST that updates"
    );
    assert!(!vendor.idempotent("save_key", "post"));
}

/// A fragment whose `Key` has the given properties and example.
fn with_key(properties: &str, example: &str) -> serde_yaml::Value {
    let mut doc = fragment(OK, "");
    doc["components"]["schemas"]["Key"] = serde_yaml::from_str(&format!(
        "{{type: object, required: [id], properties: {properties}, example: {example}}}"
    ))
    .unwrap();
    doc
}

const KEY_PROPERTIES: &str = "{id: {type: string, format: uuid}, enabled: {type: boolean}, \
     expires: {type: string, format: date-time, nullable: true}, \
     tags: {type: array, items: {$ref: '#/components/schemas/Tag'}}}";

fn key_problems(example: &str) -> String {
    let mut doc = with_key(KEY_PROPERTIES, example);
    doc["components"]["schemas"]["Tag"] =
        serde_yaml::from_str("{type: object, properties: {name: {type: string}}}").unwrap();
    problems(&doc)
}

#[test]
fn a_fitting_example_passes() {
    let found = key_problems(
        "{id: 0b9d5f10-a1c2-11f0-8a3b-1f2e3d4c5b6a, enabled: true, expires: null, \
         tags: [{name: ci}]}",
    );
    assert_eq!(found, "");
    let found = key_problems(
        "{id: 0b9d5f10-a1c2-11f0-8a3b-1f2e3d4c5b6a, expires: '2021-12-05T18:21:47+0000'}",
    );
    assert_eq!(found, "");
}

#[test]
fn a_misspelled_field_in_an_example_fails_the_lint() {
    let found = key_problems("{id: 0b9d5f10-a1c2-11f0-8a3b-1f2e3d4c5b6a, tags: [{nmae: ci}]}");
    assert!(
        found.contains(
            "schema `Key`: its example at `$.tags[0].nmae` is not a property the schema declares"
        ),
        "{found}"
    );
}

#[test]
fn a_wrong_type_in_an_example_fails_the_lint() {
    let found = key_problems("{id: 0b9d5f10-a1c2-11f0-8a3b-1f2e3d4c5b6a, enabled: 'false'}");
    assert!(
        found.contains(
            "schema `Key`: its example at `$.enabled` is a string, but the schema says `type: boolean`"
        ),
        "{found}"
    );
}

#[test]
fn nulls_missing_fields_and_formats_are_checked() {
    let found = key_problems("{id: not-a-uuid, enabled: null, expires: 5 December}");
    for expected in [
        "at `$.id` is \"not-a-uuid\", which is not a valid `uuid`",
        "at `$.enabled` is `null`, but the schema is not `nullable`",
        "at `$.expires` is \"5 December\", which is not a valid `date-time`",
    ] {
        assert!(found.contains(expected), "{expected}\n{found}");
    }
    let found = key_problems("{enabled: true}");
    assert!(
        found.contains("lacks the required property `id`"),
        "{found}"
    );
}

#[test]
fn every_response_schema_needs_an_example() {
    let mut doc = fragment(OK, "");
    let key = doc["components"]["schemas"]["Key"]
        .as_mapping_mut()
        .unwrap();
    key.remove("example");
    assert!(
        problems(&doc).contains("schema `Key` is returned by a response and has no `example`"),
        "{}",
        problems(&doc)
    );
}

#[test]
fn an_example_must_fit_one_member_of_a_one_of() {
    let mut doc = fragment(OK, "");
    doc["components"]["schemas"]["Problem"] = serde_yaml::from_str(
        "{oneOf: [{type: string}, {type: object, required: [message], \
          properties: {message: {type: string}}}], example: {message: 7}}",
    )
    .unwrap();
    let found = problems(&doc);
    assert!(
        found.contains("schema `Problem`: its example at `$` fits none of the schema's `oneOf`"),
        "{found}"
    );
    doc["components"]["schemas"]["Problem"]["example"] = "No fields to update".into();
    assert_eq!(problems(&doc), "");
}

/// The proof of issue 23, part 2: a sixth vendor following CONTRIBUTING.md needs no edit to
/// an existing test. A full copy of the workspace built with a throw-away crate and emulator
/// takes far too long on CI's two cores, so this checks the two halves separately and fast:
/// codegen accepts a toy fragment with the shapes a next vendor likely has (basic auth,
/// pages numbered from 1, a negated boolean, one unpaged list) into a temporary root and
/// writes code that parses; and the cross-vendor test files name no count of vendors and
/// no fixed-size vendor array, so they iterate `Vendor::ALL` (the table), and have no
/// per-vendor match arm: each vendor's facts come from its row, through generated code.
#[test]
fn a_sixth_vendor_is_generated_and_the_cross_vendor_tests_cover_it() {
    const SIXTH: Vendor = Vendor {
        name: "sixth",
        operations: &["list_keys", "list_tokens"],
        ..TOY
    };
    let fragment = r##"
openapi: 3.0.3
info: {title: Sixth, version: "1"}
servers: [{url: "https://api.sixth.example", description: the public API}]
paths:
  /keys:
    get:
      operationId: list_keys
      summary: List keys
      description: One page of keys; pages are numbered from 1.
      x-rust-example: "client.list_keys().send().await?;"
      x-apikeys-pagination: {style: page, page: page, size: perpage, default-size: 100, items: keys, start: 1}
      parameters:
        - {name: page, in: query, schema: {type: integer, format: int32}}
        - {name: perpage, in: query, schema: {type: integer, format: int32}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/KeyPage'}}}}
        4XX: {description: e, content: {application/json: {schema: {$ref: '#/components/schemas/Problem'}}}}
  /tokens:
    get:
      operationId: list_tokens
      summary: List tokens
      description: Every token, in one unpaged array.
      x-rust-example: "client.list_tokens().send().await?;"
      x-apikeys-pagination: {style: none, find-by: id}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Key'}}}}}
        4XX: {description: e, content: {application/json: {schema: {$ref: '#/components/schemas/Problem'}}}}
components:
  securitySchemes:
    apiKey: {type: http, scheme: basic, description: "`user:password`."}
  schemas:
    KeyPage:
      description: A page of keys.
      type: object
      required: [keys]
      properties: {keys: {description: The keys., type: array, items: {$ref: '#/components/schemas/Key'}}}
      example: {keys: [{id: 1, name: ci}]}
    Key:
      description: A key.
      type: object
      required: [id]
      x-apikeys-key-info: {id: id, name: name, enabled: {not: revoked}}
      properties:
        id: {description: The id., type: integer, format: int64}
        name: {description: The name., type: string}
        revoked: {description: Whether it is revoked., type: boolean}
      example: {id: 1, name: ci, revoked: false}
    Problem:
      description: An error.
      type: object
      x-apikeys-error: {message: [/message], text: /message}
      properties: {message: {description: What went wrong., type: string}}
      example: {message: no}
"##;
    let root = std::env::temp_dir().join(format!("apikeys-sixth-{}", std::process::id()));
    std::fs::create_dir_all(root.join("openapi")).unwrap();
    std::fs::write(root.join(SIXTH.fragment()), fragment).unwrap();
    let generated = codegen::generate(&root, &SIXTH);
    std::fs::remove_dir_all(&root).unwrap();
    let code = generated.unwrap_or_else(|e| panic!("{e}"));
    syn::parse_file(&code).unwrap();
    let compact: String = code.split_whitespace().collect();
    for wanted in [
        "::apikeys_common::Credential::basic(key)",
        "::apikeys_common::paginate(1u32,",
        "info.enabled=key.revoked.map(|flag|!flag);",
        "pubasyncfnfind(self,id:i64,)",
    ] {
        assert!(compact.contains(wanted), "{wanted}\n{code}");
    }

    let workspace = workspace_root();
    for file in [
        "crates/apikeys-sandbox/tests/seed.rs",
        "crates/apikeys-sandbox/tests/sandbox.rs",
        "crates/apikeys-sandbox/tests/lifecycle.rs",
        "crates/apikeys-sandbox/tests/examples.rs",
        "crates/apikeys-cli/tests/audit.rs",
        "crates/apikeys-cli/tests/cli.rs",
    ] {
        let text = std::fs::read_to_string(workspace.join(file)).unwrap();
        let count = VENDORS.len();
        for counted in [
            format!("(Vendor, String); {count}]"),
            format!("in {count} accounts"),
            format!("{count} of {count} vendors"),
            format!("== {count});"),
        ] {
            assert!(
                !text.contains(&counted),
                "{file} counts the vendors: `{counted}`"
            );
        }
        let names = VENDORS
            .iter()
            .map(|v| format!("\"{}\"", v.name))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(!text.contains(&names), "{file} lists the vendors: {names}");
        // issue 23, part 2: no per-vendor arm: a vendor's facts live in its table row.
        for (at, line) in text.lines().enumerate() {
            let line = line.trim_start().trim_start_matches('(');
            let arm = VENDORS.iter().any(|v| {
                let variant = format!("Vendor::{}", v.variant());
                let name = format!("\"{}\"", v.name);
                [variant, name].iter().any(|pattern| {
                    line.strip_prefix(pattern.as_str()).is_some_and(|rest| {
                        let rest = rest.trim_start();
                        rest.starts_with("=>") || rest.starts_with('|')
                    })
                })
            });
            assert!(!arm, "{file}:{}: a per-vendor arm: `{line}`", at + 1);
        }
        // A wildcard arm over vendors that quietly does nothing skips a new vendor.
        for quiet in ["_ => {}", "_ => String::new()", "_ => &age_only"] {
            assert!(
                !text.contains(quiet),
                "{file}: `{quiet}` skips a new vendor"
            );
        }
    }
}

/// Issue 23, part 2: the binary finds the workspace from where it runs, not where it was built.
#[test]
fn the_workspace_root_is_found_from_a_nested_directory_at_run_time() {
    let here = workspace_root();
    let nested = here.join("crates/nuki-apikeys/src");
    assert_eq!(find_workspace_root(&nested), Ok(here.clone()));
    assert_eq!(find_workspace_root(&here), Ok(here));

    // Another clone: its member's own Cargo.toml (no `[workspace]`) is passed over.
    let clone = std::env::temp_dir().join(format!("apikeys-clone-{}", std::process::id()));
    let member = clone.join("crates/one/src");
    std::fs::create_dir_all(&member).unwrap();
    std::fs::write(
        clone.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/*\"]\n",
    )
    .unwrap();
    std::fs::write(
        clone.join("crates/one/Cargo.toml"),
        "[package]\nname = \"one\"\n",
    )
    .unwrap();
    let found = find_workspace_root(&member);
    std::fs::remove_dir_all(&clone).unwrap();
    assert_eq!(found, Ok(clone));
}

#[test]
fn outside_any_workspace_the_root_finder_says_so() {
    let message = find_workspace_root(Path::new("/")).unwrap_err();
    assert!(
        message.contains("no Cargo.toml with a [workspace] table in /"),
        "{message}"
    );
}
