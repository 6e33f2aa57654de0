//! Checks a fragment against what the project and progenitor 0.15 need, before generating.
//!
//! Each rule exists because progenitor refuses, panics on, or silently mis-generates the
//! shape it forbids (as progenitor 0.15 and typify 0.8 behave, in `oxidecomputer/progenitor`
//! and `oxidecomputer/typify`), or because the hand layer relies
//! on it (one error schema per vendor), or the docs do (every operation carries an
//! `x-rust-example`, the body of an async fn with `client` in scope, which becomes a
//! compiled doctest). Messages name the operation at fault. Response examples are checked
//! against their schemas in `examples.rs`.

use std::collections::{BTreeSet, HashSet};

use heck::ToUpperCamelCase;
use serde_yaml::{Mapping, Value};

use crate::vendors::Vendor;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// What generation needs to know from a fragment that passed the lint.
#[derive(Debug)]
pub struct Facts {
    /// The component schema every error response uses.
    pub error_schema: String,
    /// Component string enums, generated as open enums.
    pub open_enums: Vec<OpenEnum>,
    /// Every operation, for the request hooks.
    pub operations: Vec<Operation>,
}

/// An operation as the request hooks see it.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub path: String,
    pub idempotent: bool,
}

/// A string enum that keeps values it does not know.
#[derive(Debug)]
pub struct OpenEnum {
    pub name: String,
    pub doc: Option<String>,
    /// (Rust variant name, wire value)
    pub variants: Vec<(String, String)>,
}

/// Lints `doc`, the parsed fragment of `vendor`. Returns every problem found, not only the first.
pub fn lint(vendor: &Vendor, doc: &Value) -> Result<Facts, Vec<String>> {
    let mut problems = Vec::new();
    let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.0.") {
        problems.push(format!(
            "`openapi: {version}`: progenitor reads OpenAPI 3.0.x only; curate a 3.0 fragment"
        ));
    }

    let mut seen_ids = BTreeSet::new();
    let mut templates = Vec::new();
    let mut error_schemas: BTreeSet<String> = BTreeSet::new();
    let mut response_schemas = Vec::new();
    let paths = doc.get("paths").and_then(Value::as_mapping);
    for (path, item) in paths.into_iter().flatten() {
        let path = key(path);
        let Some(item) = item.as_mapping() else {
            continue;
        };
        for (method, op) in item {
            let method = key(method);
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let id = op.get("operationId").and_then(Value::as_str);
            let at = match id {
                Some(id) => format!("operation `{id}` ({} {path})", method.to_uppercase()),
                None => format!("operation {} {path}", method.to_uppercase()),
            };
            let mut problem = |what: String| problems.push(format!("{at}: {what}"));
            if let Some(id) = id {
                let idempotent = vendor.idempotent(id, &method);
                templates.push(Operation {
                    id: id.to_string(),
                    path: path.clone(),
                    idempotent,
                });
            }
            match id {
                Some(id) if !seen_ids.insert(id.to_string()) => {
                    problem("its operationId is used twice".into())
                }
                Some(id) if !vendor.operations.contains(&id) => problem(format!(
                    "`{id}` is not one of the vendor SDK's method names listed in the xtask"
                )),
                Some(_) => {}
                None => problem("has no operationId".into()),
            }
            for field in ["summary", "description", "x-rust-example"] {
                if op
                    .get(field)
                    .and_then(Value::as_str)
                    .is_none_or(|s| s.trim().is_empty())
                {
                    problem(format!("has no {field}"));
                }
            }
            lint_parameters(doc, op, &mut problem);
            if let Some(body) = op.get("requestBody") {
                let body = resolve(doc, body);
                let types = body
                    .get("content")
                    .and_then(Value::as_mapping)
                    .map_or(0, Mapping::len);
                if types != 1 {
                    problem(format!(
                        "its request body has {types} media types; progenitor needs exactly one"
                    ));
                }
            }

            let responses = op.get("responses").and_then(Value::as_mapping);
            let mut successes = 0;
            let mut errors = 0;
            for (status, response) in responses.into_iter().flatten() {
                let status = key(status);
                let response = resolve(doc, response);
                let content = response.get("content").and_then(Value::as_mapping);
                if status == "default" {
                    problem(
                        "declares a `default` response; progenitor panics on it: use 4XX/5XX"
                            .into(),
                    );
                } else if status.starts_with('2') {
                    successes += 1;
                    if content.is_some_and(|c| c.len() > 1) {
                        problem(format!(
                            "its {status} response has more than one media type"
                        ));
                    }
                    for media in content.into_iter().flatten().map(|(_, m)| m) {
                        if let Some(schema) = media.get("schema") {
                            response_schemas.push(schema.clone());
                        }
                    }
                } else if status == "4XX" || status == "5XX" {
                    errors += 1;
                    let schema = content
                        .and_then(|c| c.get("application/json"))
                        .and_then(|m| m.get("schema"))
                        .and_then(|s| s.get("$ref"))
                        .and_then(Value::as_str);
                    match schema.and_then(|r| r.strip_prefix("#/components/schemas/")) {
                        Some(name) => {
                            error_schemas.insert(name.to_string());
                        }
                        None => problem(format!(
                            "its {status} response needs an application/json `$ref` to the \
                             vendor's error schema"
                        )),
                    }
                } else if status.starts_with('4') || status.starts_with('5') {
                    problem(format!(
                        "declares the error status `{status}`: declare errors under 4XX/5XX, \
                         where they share the vendor's error schema"
                    ));
                } else {
                    problem(format!("declares an unexpected response status `{status}`"));
                }
            }
            if successes != 1 {
                problem(format!(
                    "declares {successes} success responses; progenitor needs exactly one"
                ));
            }
            if errors == 0 {
                problem("declares no 4XX/5XX error response".into());
            }
        }
    }
    for missing in vendor
        .operations
        .iter()
        .filter(|id| !seen_ids.contains(**id))
    {
        problems.push(format!(
            "the vendor SDK's `{missing}` has no operation in the fragment"
        ));
    }
    if error_schemas.len() > 1 {
        problems.push(format!(
            "error responses use {} schemas ({}); a vendor has one error schema",
            error_schemas.len(),
            error_schemas.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }

    crate::examples::lint(doc, &response_schemas, &error_schemas, &mut problems);
    for name in closed_schemas(doc, response_schemas) {
        problems.push(format!(
            "schema `{name}` is reached from a response and has `additionalProperties: false`; \
             a server that adds a field would then fail every call"
        ));
    }

    let open_enums = open_enums(doc, &mut problems);
    match error_schemas.into_iter().next() {
        Some(error_schema) if problems.is_empty() => Ok(Facts {
            error_schema,
            open_enums,
            operations: templates,
        }),
        _ => Err(problems),
    }
}

fn lint_parameters(doc: &Value, op: &Value, problem: &mut impl FnMut(String)) {
    let parameters = op.get("parameters").and_then(Value::as_sequence);
    for parameter in parameters.into_iter().flatten() {
        let parameter = resolve(doc, parameter);
        let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
        if parameter.get("in").and_then(Value::as_str) == Some("cookie") {
            problem(format!(
                "parameter `{name}` is a cookie; progenitor refuses cookie parameters"
            ));
        }
        if parameter.get("style").and_then(Value::as_str) == Some("deepObject") {
            problem(format!(
                "parameter `{name}` uses `style: deepObject`, which progenitor refuses"
            ));
        }
    }
}

/// Names of component schemas reachable from `roots` that forbid unknown properties
/// (`inline` for a schema written in place).
fn closed_schemas(doc: &Value, roots: Vec<Value>) -> Vec<String> {
    let mut found = Vec::new();
    let mut visited = HashSet::new();
    let mut stack: Vec<(String, Value)> = roots.into_iter().map(|v| ("inline".into(), v)).collect();
    while let Some((name, schema)) = stack.pop() {
        let mut refs = Vec::new();
        if forbids_unknown(&schema, &mut refs) {
            found.push(name);
        }
        for target in refs {
            let Some(component) = target.strip_prefix("#/components/schemas/") else {
                continue;
            };
            if visited.insert(component.to_string())
                && let Some(schema) = component_schema(doc, component)
            {
                stack.push((component.to_string(), schema.clone()));
            }
        }
    }
    found.sort();
    found
}

/// Whether `value` says `additionalProperties: false` anywhere; collects the `$ref`s it holds.
fn forbids_unknown(value: &Value, refs: &mut Vec<String>) -> bool {
    match value {
        Value::Mapping(map) => {
            let mut closed = false;
            for (k, v) in map {
                match (key(k).as_str(), v) {
                    ("additionalProperties", Value::Bool(false)) => closed = true,
                    ("$ref", Value::String(target)) => refs.push(target.clone()),
                    _ => closed |= forbids_unknown(v, refs),
                }
            }
            closed
        }
        Value::Sequence(items) => items
            .iter()
            .fold(false, |acc, v| forbids_unknown(v, refs) | acc),
        _ => false,
    }
}

fn open_enums(doc: &Value, problems: &mut Vec<String>) -> Vec<OpenEnum> {
    let schemas = doc
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_mapping);
    let mut enums = Vec::new();
    for (name, schema) in schemas.into_iter().flatten() {
        let name = key(name);
        let (Some("string"), Some(values)) = (
            schema.get("type").and_then(Value::as_str),
            schema.get("enum").and_then(Value::as_sequence),
        ) else {
            continue;
        };
        let mut variants = Vec::new();
        let mut idents = HashSet::new();
        for value in values {
            let Some(value) = value.as_str() else {
                problems.push(format!("enum `{name}` has a value that is not a string"));
                continue;
            };
            let ident = value.to_upper_camel_case();
            let valid = ident.starts_with(|c: char| c.is_ascii_alphabetic())
                && ident.chars().all(|c| c.is_ascii_alphanumeric());
            if !valid || ident == "Unknown" || !idents.insert(ident.clone()) {
                problems.push(format!(
                    "enum `{name}`: value `{value}` gives no distinct Rust variant name"
                ));
            }
            variants.push((ident, value.to_string()));
        }
        let doc = schema
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string);
        enums.push(OpenEnum {
            name,
            doc,
            variants,
        });
    }
    enums
}

pub(crate) fn component_schema<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    doc.get("components")?.get("schemas")?.get(name)
}

/// Follows a `#/components/...` reference to what it names (the value itself otherwise).
/// `value`, or what its `$ref` points to in the fragment, following a chain of references
/// (at most 8, so a cycle cannot loop).
pub(crate) fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..8 {
        let Some(target) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let mut node = doc;
        for part in target.trim_start_matches("#/").split('/') {
            match node.get(part) {
                Some(next) => node = next,
                None => return value,
            }
        }
        value = node;
    }
    value
}

/// Every schema of `components.schemas`, by name.
pub(crate) fn schemas(doc: &Value) -> impl Iterator<Item = (String, &Value)> {
    doc.get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .map(|(name, schema)| (key(name), schema))
}

/// Every schema that carries `extension`: its name, the schema and the extension's value.
pub(crate) fn schemas_with<'d>(
    doc: &'d Value,
    extension: &'d str,
) -> impl Iterator<Item = (String, &'d Value, &'d Value)> {
    schemas(doc).filter_map(move |(name, schema)| Some((name, schema, schema.get(extension)?)))
}

/// Every operation that carries `extension`: its `operationId`, the operation and the
/// extension's value; an operation without an `operationId` is refused.
pub(crate) fn operations_with<'d>(
    doc: &'d Value,
    extension: &str,
) -> Result<Vec<(&'d str, &'d Value, &'d Value)>, String> {
    let operations = doc
        .get("paths")
        .and_then(Value::as_mapping)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_mapping)
        .flat_map(|item| item.values());
    let mut out = Vec::new();
    for op in operations {
        let Some(value) = op.get(extension) else {
            continue;
        };
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or(format!(
                "an operation with `{extension}` has no operationId"
            ))?;
        out.push((id, op, value));
    }
    Ok(out)
}

pub(crate) fn key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}
