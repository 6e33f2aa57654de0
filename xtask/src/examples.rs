//! Response examples: every schema a response returns carries an `example` of the body the
//! vendor sends, checked here against its schema (a misspelled field name, a wrong type, a
//! `null` the schema does not allow or a missing required field fails the lint), and written
//! to `crates/<vendor>-apikeys/src/examples.rs` for the crate's tests and mock servers.

use std::collections::BTreeSet;
use std::path::Path;

use heck::{ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value as Json;
use serde_yaml::Value;

use crate::lint::{component_schema, key};
use crate::vendors::Vendor;

/// The sandbox's seed examples, relative to the workspace root.
pub const SANDBOX: &str = "crates/apikeys-sandbox/src/examples.rs";

/// Requires an `example` on every schema a response returns (`roots`: the responses' schemas,
/// `errors`: the error schemas' names), and checks every `example` of every component schema,
/// at any depth, against the schema it belongs to.
pub fn lint(doc: &Value, roots: &[Value], errors: &BTreeSet<String>, problems: &mut Vec<String>) {
    let mut needed = BTreeSet::new();
    for root in roots {
        // A list written in place (`type: array, items: {$ref}`) returns its items' schema.
        let named = root.get("$ref").or_else(|| root.get("items")?.get("$ref"));
        match named.and_then(Value::as_str).and_then(component_name) {
            Some(name) => {
                needed.insert(name.to_string());
            }
            None if root.get("example").is_none() => problems.push(
                "a response schema written in place has no `example` of the body".to_string(),
            ),
            None => check_node(doc, "a response schema written in place", root, problems),
        }
    }
    needed.extend(errors.iter().cloned());
    for name in &needed {
        match component_schema(doc, name) {
            Some(schema) if schema.get("example").is_some() => {}
            Some(_) => problems.push(format!(
                "schema `{name}` is returned by a response and has no `example` of the body \
                 the vendor sends"
            )),
            None => problems.push(format!("schema `{name}` is referenced but not declared")),
        }
    }
    let schemas = doc
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_mapping);
    for (name, schema) in schemas.into_iter().flatten() {
        check_node(doc, &format!("schema `{}`", key(name)), schema, problems);
    }
}

/// Checks the `example` of `schema` and of every schema written inside it.
fn check_node(doc: &Value, at: &str, schema: &Value, problems: &mut Vec<String>) {
    if let Some(example) = schema.get("example") {
        match serde_json::to_value(example) {
            Ok(value) => check(doc, schema, &value, "$", 0, &mut |path, what| {
                problems.push(format!("{at}: its example at `{path}` {what}"))
            }),
            Err(e) => problems.push(format!("{at}: its example is not JSON: {e}")),
        }
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_mapping) {
        for (name, property) in properties {
            check_node(
                doc,
                &format!("{at}, property `{}`", key(name)),
                property,
                problems,
            );
        }
    }
    if let Some(items) = schema.get("items") {
        check_node(doc, &format!("{at}, items"), items, problems);
    }
    for member in schema
        .get("allOf")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        check_node(doc, &format!("{at}, allOf"), member, problems);
    }
}

/// What a schema allows, with `$ref`s followed and `allOf` members merged.
#[derive(Default)]
pub(crate) struct Flat<'a> {
    pub(crate) ty: Option<&'a str>,
    pub(crate) format: Option<&'a str>,
    pub(crate) values: Option<&'a [Value]>,
    nullable: bool,
    /// Any of `pattern`, `minLength`, `maxLength`, `minItems`, `maxItems`.
    pub(crate) bounded: bool,
    pub(crate) properties: Vec<(String, &'a Value)>,
    pub(crate) required: Vec<String>,
    pub(crate) items: Option<&'a Value>,
    /// `additionalProperties`: absent (undeclared names are refused), `true` or a schema.
    additional: Option<&'a Value>,
    /// `oneOf`/`anyOf` members: the value must fit one of them.
    pub(crate) choices: Vec<&'a Value>,
}

pub(crate) fn flatten<'a>(doc: &'a Value, schema: &'a Value, flat: &mut Flat<'a>, depth: usize) {
    if depth > 16 {
        return;
    }
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        if let Some(next) = component_name(target).and_then(|name| component_schema(doc, name)) {
            flatten(doc, next, flat, depth + 1);
        }
        return;
    }
    let text = |field: &str| schema.get(field).and_then(Value::as_str);
    flat.ty = flat.ty.or(text("type"));
    flat.format = flat.format.or(text("format"));
    if let Some(values) = schema.get("enum").and_then(Value::as_sequence) {
        flat.values = Some(values);
    }
    flat.nullable |= schema.get("nullable").and_then(Value::as_bool) == Some(true);
    flat.bounded |= ["pattern", "minLength", "maxLength", "minItems", "maxItems"]
        .iter()
        .any(|field| schema.get(field).is_some());
    for field in ["oneOf", "anyOf"] {
        flat.choices.extend(
            schema
                .get(field)
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten(),
        );
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_mapping) {
        flat.properties
            .extend(properties.iter().map(|(name, p)| (key(name), p)));
    }
    if let Some(required) = schema.get("required").and_then(Value::as_sequence) {
        flat.required
            .extend(required.iter().filter_map(Value::as_str).map(String::from));
    }
    flat.items = flat.items.or(schema.get("items"));
    match schema.get("additionalProperties") {
        Some(Value::Bool(false)) | None => {}
        Some(other) => flat.additional = Some(other),
    }
    for member in schema
        .get("allOf")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        flatten(doc, member, flat, depth + 1);
    }
}

/// Checks `value` (at JSON path `path`) against `schema`, reporting each problem found.
fn check(
    doc: &Value,
    schema: &Value,
    value: &Json,
    path: &str,
    depth: usize,
    report: &mut dyn FnMut(&str, String),
) {
    let mut flat = Flat::default();
    flatten(doc, schema, &mut flat, 0);
    if depth > 32 {
        return;
    }
    if value.is_null() {
        if !flat.nullable {
            report(path, "is `null`, but the schema is not `nullable`".into());
        }
        return;
    }
    if !flat.choices.is_empty() {
        let fits = |choice: &Value| {
            let mut fine = true;
            check(doc, choice, value, path, depth + 1, &mut |_, _| {
                fine = false
            });
            fine
        };
        if !flat.choices.iter().any(|choice| fits(choice)) {
            report(
                path,
                "fits none of the schema's `oneOf`/`anyOf` members".into(),
            );
        }
    }
    if let Some(values) = flat.values
        && !values
            .iter()
            .any(|v| serde_json::to_value(v).is_ok_and(|v| v == *value))
    {
        report(path, format!("is {value}, not one of the schema's `enum`"));
    }
    let ty = match flat.ty {
        Some(ty) => ty,
        None if !flat.properties.is_empty() => "object",
        None => return,
    };
    let fits = match ty {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    };
    if !fits {
        report(
            path,
            format!("is {}, but the schema says `type: {ty}`", kind(value)),
        );
        return;
    }
    if let Some(why) = flat.format.and_then(|format| bad_format(format, value)) {
        report(path, why);
    }
    match value {
        Json::Array(items) => {
            if let Some(item_schema) = flat.items {
                for (index, item) in items.iter().enumerate() {
                    let at = format!("{path}[{index}]");
                    check(doc, item_schema, item, &at, depth + 1, report);
                }
            }
        }
        Json::Object(fields) => {
            for name in &flat.required {
                if !fields.contains_key(name) {
                    report(path, format!("lacks the required property `{name}`"));
                }
            }
            for (name, field) in fields {
                let at = format!("{path}.{name}");
                let declared = flat.properties.iter().find(|(n, _)| n == name);
                match (declared, flat.additional) {
                    (Some((_, property)), _) => check(doc, property, field, &at, depth + 1, report),
                    (None, Some(Value::Bool(true))) => {}
                    (None, Some(extra)) => check(doc, extra, field, &at, depth + 1, report),
                    (None, None) => report(
                        &at,
                        "is not a property the schema declares (misspelled, or missing from the \
                         schema?)"
                            .into(),
                    ),
                }
            }
        }
        _ => {}
    }
}

/// Why `value` does not have the `format`, for the formats cheap to check.
fn bad_format(format: &str, value: &Json) -> Option<String> {
    let fits = match (format, value) {
        ("int32", Json::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        ("int64", Json::Number(n)) => n.is_i64(),
        ("uuid", Json::String(s)) => is_uuid(s),
        ("date-time", Json::String(s)) => is_date_time(s),
        ("date", Json::String(s)) => is_date(s),
        ("email", Json::String(s)) => s
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.')),
        _ => true,
    };
    (!fits).then(|| format!("is {value}, which is not a valid `{format}`"))
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn digits(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_digit())
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 10
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && s.split('-').all(|part| !part.is_empty() && digits(part))
}

/// `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z`, `±HH:MM` or `±HHMM` (some servers,
/// Automox's among them, write the offset without a colon).
fn is_date_time(s: &str) -> bool {
    let (Some(date), Some(rest)) = (s.get(..10), s.get(10..)) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix('T') else {
        return false;
    };
    let Some((time, zone)) = rest.find(['Z', '+', '-']).map(|at| rest.split_at(at)) else {
        return false;
    };
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let clock_ok = clock.len() == 8
        && clock.split(':').count() == 3
        && clock.split(':').all(|part| part.len() == 2 && digits(part));
    let zone_ok = zone == "Z"
        || (zone.len() == 6
            && zone.get(3..4) == Some(":")
            && zone.get(1..3).is_some_and(digits)
            && zone.get(4..).is_some_and(digits))
        || (zone.len() == 5 && zone.get(1..).is_some_and(digits));
    is_date(date) && clock_ok && !fraction.is_empty() && digits(fraction) && zone_ok
}

fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_f64() => "a number",
        Json::Number(_) => "an integer",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// `crates/<vendor>-apikeys/src/examples.rs`: one function per component schema with an
/// `example`, returning it as a `serde_json::Value`, in the fragment's order.
pub fn generate(root: &Path, vendor: &Vendor) -> Result<String, String> {
    let fragment = vendor.fragment();
    let doc = vendor.load_fragment(root)?;
    let mut out = format!(
        "// @generated by `cargo xtask codegen` from {fragment}.\n\
         // Do not edit by hand: change the fragment's `example`s, then run `cargo xtask codegen`.\n\
         \n\
         //! The `example` of each schema in `{fragment}`: the bodies the vendor sends,\n\
         //! checked against their schemas by `cargo xtask codegen`, for tests and mock servers.\n"
    );
    let schemas = doc
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_mapping);
    for (name, schema) in schemas.into_iter().flatten() {
        let Some(example) = schema.get("example") else {
            continue;
        };
        let name = key(name);
        let value = serde_json::to_value(example)
            .map_err(|e| format!("{fragment}: schema `{name}`: its example is not JSON: {e}"))?;
        let mut body = String::new();
        write_json(&value, 1, &mut body);
        out.push_str(&format!(
            "\n/// The example of `{name}`.\n\
             pub fn {}() -> serde_json::Value {{\n    serde_json::json!({body})\n}}\n",
            name.to_snake_case()
        ));
    }
    Ok(out)
}

/// `crates/apikeys-sandbox/src/examples.rs`: for each vendor a module with the `example`s of
/// the schemas its row's `sandbox.examples` names, as JSON text. The sandbox seeds its data
/// from them with its own types, and does not depend on the vendor crates it checks.
pub fn sandbox(root: &Path, vendors: &[Vendor]) -> Result<String, String> {
    let mut modules = TokenStream::new();
    for vendor in vendors {
        let fragment = vendor.fragment();
        let doc = vendor.load_fragment(root)?;
        let mut consts = TokenStream::new();
        for name in vendor.sandbox.examples {
            let example = component_schema(&doc, name)
                .and_then(|schema| schema.get("example"))
                .ok_or_else(|| {
                    format!("{fragment}: the sandbox seeds from `{name}`, which has no `example`")
                })?;
            let json = serde_json::to_value(example)
                .and_then(|value| serde_json::to_string_pretty(&value))
                .map_err(|e| {
                    format!("{fragment}: schema `{name}`: its example is not JSON: {e}")
                })?;
            let literal =
                raw_string(&json).map_err(|e| format!("{fragment}: schema `{name}`: {e}"))?;
            let ident = format_ident!("{}", name.to_shouty_snake_case());
            let doc = format!(" The example of `{name}`.");
            consts.extend(quote! {
                #[doc = #doc]
                pub(crate) const #ident: &str = #literal;
            });
        }
        let operations = operations(vendor, &doc)?;
        let module = format_ident!("{}", vendor.name);
        let doc = format!(" From `{fragment}`.");
        modules.extend(quote! {
            #[doc = #doc]
            pub(crate) mod #module {
                #consts
                /// The fragment's operations, for the sandbox's fault rules.
                pub(crate) const OPERATIONS: &[crate::faults::Operation] = &[#operations];
            }
        });
    }
    let arms = vendors.iter().map(|v| {
        let variant = format_ident!("{}", v.variant());
        let module = format_ident!("{}", v.name);
        quote!(crate::Vendor::#variant => #module::OPERATIONS,)
    });
    let tokens = quote! {
        //! The fragments' `example`s the emulators seed their keys, users and tenants from,
        //! as JSON text, checked against their schemas by `cargo xtask codegen`; and their
        //! operations, which the fault rules name.
        #modules

        /// The operations of `vendor`'s fragment, with the lifecycle verbs that name them.
        pub(crate) fn operations(vendor: crate::Vendor) -> &'static [crate::faults::Operation] {
            match vendor {
                #(#arms)*
            }
        }
    };
    let header = "// @generated by `cargo xtask codegen` from openapi/*.yaml and xtask/src/vendors.rs.\n\
                  // Do not edit by hand: change the fragments' `example`s, then run `cargo xtask codegen`.\n\
                  \n";
    crate::derived::rust_with_header(root, SANDBOX, header, tokens)
}

/// The lifecycle verbs a row's `sandbox.verbs` may name.
const VERBS: &[&str] = &["list", "get", "create", "update", "revoke"];

/// The fragment's operations as `crate::faults::Operation`s (method, path, operationId and
/// the verbs of the row's `sandbox.verbs` naming it), in the fragment's order. A verb that is
/// unknown or names no operation of the fragment is refused.
fn operations(vendor: &Vendor, doc: &Value) -> Result<TokenStream, String> {
    let fragment = vendor.fragment();
    for (verb, id) in vendor.sandbox.verbs {
        if !VERBS.contains(verb) {
            return Err(format!(
                "{}: sandbox verb `{verb}` is none of {VERBS:?}",
                vendor.name
            ));
        }
        let found = doc
            .get("paths")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(_, item)| item.as_mapping())
            .flatten()
            .any(|(_, op)| op.get("operationId").and_then(Value::as_str) == Some(id));
        if !found {
            return Err(format!(
                "{}: sandbox verb `{verb}` names `{id}`, which {fragment} has no operation for",
                vendor.name
            ));
        }
    }
    let mut out = TokenStream::new();
    let paths = doc
        .get("paths")
        .and_then(Value::as_mapping)
        .ok_or_else(|| format!("{fragment}: no `paths`"))?;
    for (path, item) in paths {
        let path = path
            .as_str()
            .ok_or_else(|| format!("{fragment}: a path that is not text"))?;
        let Some(item) = item.as_mapping() else {
            continue;
        };
        for (method, op) in item {
            let Some(method) = method.as_str().filter(|m| {
                matches!(
                    *m,
                    "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
                )
            }) else {
                continue;
            };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{fragment}: {method} {path} has no operationId"))?;
            let method = method.to_uppercase();
            let verbs = vendor
                .sandbox
                .verbs
                .iter()
                .filter(|(_, named)| *named == id)
                .map(|(verb, _)| *verb);
            out.extend(quote! {
                crate::faults::Operation {
                    method: #method,
                    path: #path,
                    id: #id,
                    verbs: &[#(#verbs),*],
                },
            });
        }
    }
    Ok(out)
}

/// `text` as a raw string literal, with enough `#`s that no `"#…` inside ends it.
fn raw_string(text: &str) -> Result<TokenStream, String> {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
        .parse()
        .map_err(|e| format!("cannot write its example as a string literal: {e}"))
}

/// `value` as the input of `serde_json::json!`, indented by four spaces per `level`.
fn write_json(value: &Json, level: usize, out: &mut String) {
    let indent = "    ".repeat(level + 1);
    let close = "    ".repeat(level);
    match value {
        Json::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&indent);
                write_json(item, level + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&close);
            out.push(']');
        }
        Json::Object(fields) if !fields.is_empty() => {
            out.push_str("{\n");
            for (name, field) in fields {
                out.push_str(&format!("{indent}{name:?}: "));
                write_json(field, level + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&close);
            out.push('}');
        }
        // A Rust string literal (`Debug` escapes as Rust does), not JSON's escapes.
        Json::String(s) => out.push_str(&format!("{s:?}")),
        // Unsuffixed integer literals are `i32`: a larger one needs its type.
        Json::Number(n) if n.as_i64().is_some_and(|n| i32::try_from(n).is_err()) => {
            out.push_str(&format!("{n}_i64"))
        }
        Json::Number(n) if n.is_u64() && !n.is_i64() => out.push_str(&format!("{n}_u64")),
        other => out.push_str(&other.to_string()),
    }
}

fn component_name(target: &str) -> Option<&str> {
    target.strip_prefix("#/components/schemas/")
}
