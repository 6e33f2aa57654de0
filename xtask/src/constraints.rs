//! The bounds a fragment puts on requests (`minimum`, `maxLength`, `minItems`, …), for the
//! generated clients to check before sending.
//!
//! progenitor turns some of them into types (`minimum: 1` becomes `NonZeroU64`, a
//! `maxLength` on a body property a checked newtype) and drops the others, and a
//! hand-written replacement type keeps none. So every bound of every query parameter, path
//! parameter, JSON body and top-level body property goes into the operation's row of the
//! `generated_client!` table, and `apikeys_common::hooks::pre` checks them on the built
//! request. A bound that cannot be checked there (a bound nested inside a body property, a
//! header, a `pattern` Rust's regex would read differently from ECMA-262) fails generation
//! instead of being dropped.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::lint::resolve;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// Bound keywords, each with whether it bounds a number.
const KEYWORDS: &[(&str, bool)] = &[
    ("minimum", true),
    ("maximum", true),
    ("minLength", false),
    ("maxLength", false),
    ("minItems", false),
    ("maxItems", false),
    ("minProperties", false),
    ("maxProperties", false),
    ("uniqueItems", false),
];

/// Keywords that bound a request but are not checked: refused, so none is silently dropped.
const UNCHECKED: &[(&str, &str)] = &[(
    "multipleOf",
    "teach xtask/src/constraints.rs and apikeys-common's constraints.rs to check it",
)];

/// One bound on one field, as `apikeys_common::hooks::Constraint` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// `Query`, `Path`, `Body` or `Property`: a variant of `hooks::Location`.
    pub location: &'static str,
    /// The wire name; empty for the body itself.
    pub field: String,
    /// A variant of `hooks::Rule`.
    pub rule: &'static str,
    /// The variant's argument.
    pub value: Arg,
}

/// A rule's argument: a number or count, `uniqueItems`' flag, or a `pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Int(i64),
    Flag(bool),
    Text(String),
}

impl Bound {
    fn is_numeric(&self) -> bool {
        matches!(self.value, Arg::Int(_)) && self.rule.ends_with("imum")
    }

    /// `(Query, "limit", Maximum(500))`, a row of `generated_client!`'s table.
    pub fn tokens(&self) -> TokenStream {
        let location = format_ident!("{}", self.location);
        let rule = format_ident!("{}", self.rule);
        let field = &self.field;
        match &self.value {
            Arg::Int(n) => {
                let n = Literal::i64_unsuffixed(*n);
                quote!((#location, #field, #rule(#n)))
            }
            Arg::Flag(b) => quote!((#location, #field, #rule(#b))),
            Arg::Text(text) => quote!((#location, #field, #rule(#text))),
        }
    }
}

/// Every operation's bounds, by operationId (operations without bounds included, empty).
/// The error lists every bound that cannot be checked.
pub fn collect(doc: &Value) -> Result<BTreeMap<String, Vec<Bound>>, Vec<String>> {
    let mut all = BTreeMap::new();
    let mut problems = Vec::new();
    let paths = doc.get("paths").and_then(Value::as_mapping);
    for (path, item) in paths.into_iter().flatten() {
        let path = path.as_str().unwrap_or_default();
        let shared = item.get("parameters").and_then(Value::as_sequence);
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let mut found = Vec::new();
            let mut problem =
                |what: String| problems.push(format!("operation `{id}` ({path}): {what}"));
            for param in parameters(doc, op, shared) {
                parameter(doc, param, &mut found, &mut problem);
            }
            if let Some(body) = op.get("requestBody") {
                request_body(doc, resolve(doc, body), &mut found, &mut problem);
            }
            all.insert(id.to_string(), found);
        }
    }
    if problems.is_empty() {
        Ok(all)
    } else {
        Err(problems)
    }
}

/// The operation's parameters and those of its path not overridden (same name and `in`).
fn parameters<'a>(doc: &'a Value, op: &'a Value, shared: Option<&'a Vec<Value>>) -> Vec<&'a Value> {
    let own: Vec<&Value> = op
        .get("parameters")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .collect();
    let same = |a: &Value, b: &Value| a.get("name") == b.get("name") && a.get("in") == b.get("in");
    let inherited: Vec<&Value> = shared
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .filter(|p| !own.iter().any(|o| same(o, p)))
        .collect();
    own.into_iter().chain(inherited).collect()
}

fn parameter(doc: &Value, param: &Value, found: &mut Vec<Bound>, problem: &mut impl FnMut(String)) {
    let name = param
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let place = param.get("in").and_then(Value::as_str).unwrap_or_default();
    let at = format!("parameter `{name}` (in {place})");
    let media = param.get("content").and_then(Value::as_mapping);
    let in_content = media.into_iter().flat_map(|m| m.values());
    if in_content
        .filter_map(|m| m.get("schema"))
        .any(|s| constrained(doc, s, 0))
    {
        problem(format!(
            "{at}: bounds inside `content` are not checked; use `schema`"
        ));
        return;
    }
    let Some(schema) = param.get("schema").map(|s| resolve(doc, s)) else {
        return;
    };
    let location = match place {
        "query" => "Query",
        "path" => "Path",
        _ => {
            if own(schema).next().is_some() || nested(doc, schema, 0) {
                problem(format!(
                    "{at}: bounds on {place} parameters are not checked"
                ));
            }
            return;
        }
    };
    if schema.get("type").and_then(Value::as_str) == Some("array")
        && (own(schema).next().is_some() || nested(doc, schema, 0))
    {
        problem(format!("{at}: bounds on array parameters are not checked"));
        return;
    }
    if nested(doc, schema, 0) {
        problem(format!(
            "{at}: bounds inside its schema's sub-schemas are not checked"
        ));
    }
    bounds(schema, location, name, &at, found, problem);
}

fn request_body(
    doc: &Value,
    body: &Value,
    found: &mut Vec<Bound>,
    problem: &mut impl FnMut(String),
) {
    let content = body.get("content").and_then(Value::as_mapping);
    for (media, entry) in content.into_iter().flatten() {
        let media = media.as_str().unwrap_or_default();
        let Some(schema) = entry.get("schema").map(|s| resolve(doc, s)) else {
            continue;
        };
        let json = media == "application/json" || media.ends_with("+json");
        if !json {
            if own(schema).next().is_some() || nested(doc, schema, 0) {
                problem(format!(
                    "the `{media}` request body: bounds are checked on JSON bodies only"
                ));
            }
            continue;
        }
        bounds(schema, "Body", "", "the request body", found, problem);
        for key in [
            "items",
            "additionalProperties",
            "allOf",
            "oneOf",
            "anyOf",
            "not",
        ] {
            if schema.get(key).is_some_and(|s| constrained(doc, s, 0)) {
                problem(format!(
                    "the request body's `{key}`: bounds there are not checked; only those \
                     of the body and of its top-level properties are"
                ));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_mapping);
        for (name, property) in properties.into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            let property = resolve(doc, property);
            let at = format!("body property `{name}`");
            if nested(doc, property, 0) {
                problem(format!(
                    "{at}: bounds inside it are not checked; only those of top-level \
                     properties are"
                ));
            }
            bounds(property, "Property", name, &at, found, problem);
        }
    }
}

/// The bound keywords `schema` itself carries (not its sub-schemas').
fn own(schema: &Value) -> impl Iterator<Item = &str> {
    KEYWORDS
        .iter()
        .map(|(k, _)| *k)
        .chain(UNCHECKED.iter().map(|(k, _)| *k))
        .chain(["pattern"])
        .filter(|k| !matches!(schema.get(*k), None | Some(Value::Bool(false))))
}

/// Whether any sub-schema of `schema` (following `$ref`s) carries a bound.
fn nested(doc: &Value, schema: &Value, depth: usize) -> bool {
    let schema = resolve(doc, schema);
    let subs = ["items", "additionalProperties", "not"]
        .iter()
        .filter_map(|k| schema.get(*k))
        .chain(
            ["allOf", "oneOf", "anyOf"]
                .iter()
                .filter_map(|k| schema.get(*k).and_then(Value::as_sequence))
                .flatten(),
        )
        .chain(
            schema
                .get("properties")
                .and_then(Value::as_mapping)
                .into_iter()
                .flat_map(|m| m.values()),
        );
    subs.into_iter().any(|sub| constrained(doc, sub, depth + 1))
}

/// Whether `schema` or any of its sub-schemas carries a bound. Recursive schemas end at a
/// depth no fragment reaches.
fn constrained(doc: &Value, schema: &Value, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    let schema = resolve(doc, schema);
    own(schema).next().is_some() || nested(doc, schema, depth)
}

/// Reads the bound keywords of `schema` into `found`.
fn bounds(
    schema: &Value,
    location: &'static str,
    field: &str,
    at: &str,
    found: &mut Vec<Bound>,
    problem: &mut impl FnMut(String),
) {
    for (keyword, why) in UNCHECKED {
        let set = match schema.get(*keyword) {
            Some(Value::Bool(b)) => *b,
            Some(_) => true,
            None => false,
        };
        if set {
            problem(format!(
                "{at}: `{keyword}` is not checked before sending: {why}"
            ));
        }
    }
    if let Some(value) = schema.get("pattern") {
        match value.as_str().map(pattern) {
            Some(Ok(text)) => found.push(Bound {
                location,
                field: field.to_string(),
                rule: "Pattern",
                value: Arg::Text(text.to_string()),
            }),
            Some(Err(why)) => problem(format!("{at}: `pattern: {}` {why}", show(value))),
            None => problem(format!("{at}: `pattern: {}` is not a string", show(value))),
        }
    }
    for (keyword, numeric) in KEYWORDS {
        let Some(value) = schema.get(*keyword) else {
            continue;
        };
        let rule = match *keyword {
            "minimum" if exclusive(schema, "exclusiveMinimum") => "ExclusiveMinimum",
            "maximum" if exclusive(schema, "exclusiveMaximum") => "ExclusiveMaximum",
            other => rule_name(other),
        };
        if *keyword == "uniqueItems" {
            match value.as_bool() {
                Some(true) => found.push(Bound {
                    location,
                    field: field.to_string(),
                    rule: "UniqueItems",
                    value: Arg::Flag(true),
                }),
                Some(false) => {}
                None => problem(format!(
                    "{at}: `uniqueItems: {}` is not a boolean",
                    show(value)
                )),
            }
            continue;
        }
        let value = match value.as_i64() {
            Some(v) if *numeric || v >= 0 => v,
            _ if *numeric => {
                problem(format!(
                    "{at}: `{keyword}: {}` is not an integer; only integer bounds are checked",
                    show(value)
                ));
                continue;
            }
            _ => {
                problem(format!("{at}: `{keyword}: {}` is not a count", show(value)));
                continue;
            }
        };
        found.push(Bound {
            location,
            field: field.to_string(),
            rule,
            value: Arg::Int(value),
        });
    }
    for (flag, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if exclusive(schema, flag) && schema.get(bound).is_none() {
            problem(format!("{at}: `{flag}: true` without `{bound}`"));
        }
    }
}

/// `text` when Rust's `regex` compiles it and reads it as ECMA-262 (the fragment's regex
/// dialect) does. Only a plain subset is let through: literals, positive bracketed classes
/// of literals and ranges, groups without flags, alternation, repetition, and `^`/`$`. The
/// rest (`.`, `\d`, `\w`, `\s`, `\b`, negated classes, flags, `\p{…}`, characters beyond the
/// BMP, which ECMA-262 reads as two code units) differs between the two or is missing from
/// one of them, and is refused.
fn pattern(text: &str) -> Result<&str, String> {
    use regex_syntax::ast::{self, Ast, ClassSet, ClassSetItem, GroupKind, LiteralKind};

    fn literal(lit: &ast::Literal) -> bool {
        matches!(lit.kind, LiteralKind::Verbatim | LiteralKind::Meta) && u32::from(lit.c) < 0x1_0000
    }
    fn item(set: &ClassSetItem) -> bool {
        match set {
            ClassSetItem::Literal(lit) => literal(lit),
            ClassSetItem::Range(range) => literal(&range.start) && literal(&range.end),
            ClassSetItem::Union(union) => union.items.iter().all(item),
            _ => false,
        }
    }
    fn plain(node: &Ast) -> bool {
        match node {
            Ast::Empty(_) => true,
            Ast::Literal(lit) => literal(lit),
            Ast::Assertion(a) => matches!(
                a.kind,
                ast::AssertionKind::StartLine | ast::AssertionKind::EndLine
            ),
            Ast::ClassBracketed(class) => {
                !class.negated && matches!(&class.kind, ClassSet::Item(i) if item(i))
            }
            Ast::Repetition(rep) => plain(&rep.ast),
            Ast::Group(group) => {
                let bare = match &group.kind {
                    GroupKind::CaptureIndex(_) => true,
                    GroupKind::NonCapturing(flags) => flags.items.is_empty(),
                    GroupKind::CaptureName { .. } => false,
                };
                bare && plain(&group.ast)
            }
            Ast::Alternation(alt) => alt.asts.iter().all(plain),
            Ast::Concat(concat) => concat.asts.iter().all(plain),
            _ => false,
        }
    }
    let ast = ast::parse::Parser::new()
        .parse(text)
        .map_err(|e| format!("does not compile: {e}"))?;
    regex::Regex::new(text).map_err(|e| format!("does not compile: {e}"))?;
    if plain(&ast) {
        Ok(text)
    } else {
        Err(
            "uses what Rust's regex reads differently from ECMA-262 or lacks (only literals, \
             positive classes of literals and ranges, groups, `|`, repetitions, `^` and `$` \
             are checked)"
                .to_string(),
        )
    }
}

/// Removes every schema's `pattern` from the document handed to progenitor. Its types crate
/// would turn a patterned string into a newtype checked with `regress` (one more dependency,
/// an `unwrap` in the generated code, and a setter message that names neither the wire
/// field nor the pattern); the operation's table checks the pattern before sending instead,
/// with the same refusal as every other bound, and the field stays a `String`.
pub fn strip_patterns(doc: &mut Value) {
    match doc {
        Value::Mapping(map) => {
            // A property named `pattern` holds a schema, not a string: it stays.
            if map.get("pattern").is_some_and(Value::is_string) {
                map.remove("pattern");
            }
            for (key, value) in map.iter_mut() {
                let key = key.as_str().unwrap_or_default();
                if !matches!(key, "example" | "examples") && !key.starts_with("x-") {
                    strip_patterns(value);
                }
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(strip_patterns),
        _ => {}
    }
}

fn exclusive(schema: &Value, flag: &str) -> bool {
    schema.get(flag).and_then(Value::as_bool) == Some(true)
}

fn rule_name(keyword: &str) -> &'static str {
    match keyword {
        "minimum" => "Minimum",
        "maximum" => "Maximum",
        "minLength" => "MinLength",
        "maxLength" => "MaxLength",
        "minItems" => "MinItems",
        "maxItems" => "MaxItems",
        "minProperties" => "MinProperties",
        _ => "MaxProperties",
    }
}

fn show(value: &Value) -> String {
    serde_yaml::to_string(value)
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// progenitor types some numeric bounds (`minimum: 1` as `NonZeroU32`), and its builder's
/// setter then refuses a value with "conversion to `:: std :: num :: NonZeroU32` for
/// page_size failed". Those messages are rewritten to name the wire field and its bounds,
/// as the checks on the wire do.
pub fn name_bounds_in_setters(file: &mut syn::File, all: &BTreeMap<String, Vec<Bound>>) {
    let Ok(items) = crate::codegen::module_items(file, "builder") else {
        return;
    };
    for item in items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let self_ty = &block.self_ty;
        let builder = quote!(#self_ty).to_string();
        let Some((id, found)) = all
            .iter()
            .find(|(id, _)| builder.split(' ').next() == Some(&id.to_upper_camel_case()))
        else {
            continue;
        };
        for member in &mut block.items {
            let syn::ImplItem::Fn(setter) = member else {
                continue;
            };
            let numeric: Vec<&Bound> = found
                .iter()
                .filter(|b| {
                    matches!(b.location, "Query" | "Path")
                        && b.is_numeric()
                        && setter.sig.ident == b.field.to_snake_case()
                })
                .collect();
            let Some(first) = numeric.first() else {
                continue;
            };
            let ranges: Vec<String> = numeric.iter().map(|b| describe(b)).collect();
            let message = format!("{id}: `{}` must be {}", first.field, ranges.join(" and "));
            syn::visit_mut::VisitMut::visit_impl_item_fn_mut(&mut Rewrite(&message), setter);
        }
    }
}

fn describe(bound: &Bound) -> String {
    let what = match bound.rule {
        "Minimum" => "at least",
        "ExclusiveMinimum" => "greater than",
        "Maximum" => "at most",
        _ => "less than",
    };
    match &bound.value {
        Arg::Int(n) => format!("{what} {n}"),
        Arg::Flag(_) | Arg::Text(_) => what.to_string(),
    }
}

/// Replaces progenitor's "conversion to `T` for x failed" text, keeping `T`: a value can
/// also fail to convert for being out of `T`'s range.
struct Rewrite<'m>(&'m str);

impl syn::visit_mut::VisitMut for Rewrite<'_> {
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        let text = lit.value();
        let Some(rest) = text.strip_prefix("conversion to `") else {
            return;
        };
        let ty: String = rest
            .split('`')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let ty = ty.rsplit("::").next().unwrap_or_default();
        *lit = syn::LitStr::new(&format!("{} (`{ty}`)", self.0), lit.span());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    const TOY: &str = r##"
openapi: 3.0.3
info: {title: toy, version: "1"}
paths:
  /keys/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string, maxLength: 36}}
    get:
      operationId: get_key
      parameters:
        - $ref: '#/components/parameters/Limit'
        - {name: page, in: query, schema: {type: integer, minimum: 0, exclusiveMinimum: true}}
        - {name: tag, in: query, schema: {type: string, minLength: 2}}
        - {name: rate, in: query, schema: {type: integer, maximum: 10, exclusiveMaximum: true}}
      responses: {'200': {description: ok}}
    post:
      operationId: make_key
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer, minimum: -5}}
      requestBody:
        $ref: '#/components/requestBodies/NewKey'
      responses: {'200': {description: ok}}
    delete:
      operationId: drop_key
      responses: {'200': {description: ok}}
components:
  parameters:
    Limit:
      name: limit
      in: query
      schema: {type: integer, minimum: 1, maximum: 500}
  requestBodies:
    NewKey:
      content:
        application/json:
          schema: {$ref: '#/components/schemas/NewKey'}
  schemas:
    Name: {type: string, minLength: 1, maxLength: 50}
    NewKey:
      type: object
      minProperties: 1
      maxProperties: 3
      properties:
        name: {$ref: '#/components/schemas/Name'}
        scopes: {type: array, minItems: 1, maxItems: 4, uniqueItems: true, items: {type: string}}
"##;

    fn bound(location: &'static str, field: &str, rule: &'static str, value: i64) -> Bound {
        Bound {
            location,
            field: field.into(),
            rule,
            value: Arg::Int(value),
        }
    }

    #[test]
    fn every_kind_of_bound_is_found_with_its_wire_name() {
        let all = collect(&doc(TOY)).unwrap();
        assert_eq!(
            all["get_key"],
            [
                bound("Query", "limit", "Minimum", 1),
                bound("Query", "limit", "Maximum", 500),
                bound("Query", "page", "ExclusiveMinimum", 0),
                bound("Query", "tag", "MinLength", 2),
                bound("Query", "rate", "ExclusiveMaximum", 10),
                // Inherited from the path item.
                bound("Path", "id", "MaxLength", 36),
            ]
        );
        assert_eq!(
            all["make_key"],
            [
                // Overrides the path item's `id`.
                bound("Path", "id", "Minimum", -5),
                bound("Body", "", "MinProperties", 1),
                bound("Body", "", "MaxProperties", 3),
                bound("Property", "name", "MinLength", 1),
                bound("Property", "name", "MaxLength", 50),
                bound("Property", "scopes", "MinItems", 1),
                bound("Property", "scopes", "MaxItems", 4),
                Bound {
                    value: Arg::Flag(true),
                    ..bound("Property", "scopes", "UniqueItems", 0)
                },
            ]
        );
        assert_eq!(all["drop_key"], [bound("Path", "id", "MaxLength", 36)]);
        let row = all["make_key"][0].tokens().to_string();
        assert_eq!(row, r#"(Path , "id" , Minimum (- 5))"#);
    }

    fn refused(schema_yaml: &str) -> Vec<String> {
        let text = format!(
            r##"
openapi: 3.0.3
info: {{title: toy, version: "1"}}
paths:
  /keys:
    post:
      operationId: make_key
      requestBody:
        content:
          application/json:
            schema: {schema_yaml}
      responses: {{'200': {{description: ok}}}}
"##
        );
        collect(&doc(&text)).unwrap_err()
    }

    #[test]
    fn bounds_that_cannot_be_checked_fail_generation() {
        let why = refused("{type: object, properties: {n: {type: integer, multipleOf: 2}}}");
        assert!(
            why[0].contains("make_key") && why[0].contains("`multipleOf`"),
            "{why:?}"
        );
        let why = refused(
            "{type: object, properties: {tags: {type: array, items: {type: string, maxLength: 3}}}}",
        );
        assert!(why[0].contains("`tags`: bounds inside it"), "{why:?}");
        let why = refused("{type: object, properties: {n: {type: number, maximum: 0.5}}}");
        assert!(why[0].contains("only integer bounds"), "{why:?}");
        let why =
            refused("{type: object, properties: {n: {type: integer, exclusiveMinimum: true}}}");
        assert!(why[0].contains("without `minimum`"), "{why:?}");
        let why = refused(
            "{type: array, items: {type: object, properties: {n: {type: integer, minimum: 1}}}}",
        );
        assert!(why[0].contains("`items`"), "{why:?}");

        let header = TOY.replace(
            "in: query, schema: {type: string, minLength: 2}",
            "in: header, schema: {type: string, minLength: 2}",
        );
        let why = collect(&doc(&header)).unwrap_err();
        assert!(why[0].contains("`tag` (in header)"), "{why:?}");
    }

    #[test]
    fn patterns_go_into_the_table_and_those_rust_reads_otherwise_fail_generation() {
        let body = |pattern: &str| {
            format!(
                "{{type: object, properties: {{name: {{type: string, pattern: '{pattern}'}}}}}}"
            )
        };
        let text = TOY.replace(
            "{name: tag, in: query, schema: {type: string, minLength: 2}}",
            "{name: tag, in: query, schema: {type: string, pattern: '^(a|[b-dX]{2,3}\\.)+$'}}",
        );
        let all = collect(&doc(&text)).unwrap();
        let tag = all["get_key"].iter().find(|b| b.field == "tag").unwrap();
        assert_eq!(
            tag.tokens().to_string(),
            r#"(Query , "tag" , Pattern ("^(a|[b-dX]{2,3}\\.)+$"))"#
        );
        for (pattern, why) in [
            ("^(a$", "does not compile"),
            // ECMA-262 has lookahead and backreferences; Rust's regex has neither.
            ("^(?=a)", "does not compile"),
            ("^(a)\\1$", "does not compile"),
            // Unicode in Rust, ASCII in ECMA-262.
            ("^\\d+$", "reads differently"),
            ("^\\w$", "reads differently"),
            ("a\\b", "reads differently"),
            // ECMA-262's `.` does not match `\r`, nor its `[^a]` a character beyond the BMP.
            ("^.$", "reads differently"),
            ("^[^a]$", "reads differently"),
            ("(?i)a", "reads differently"),
            ("\\p{Greek}", "reads differently"),
            ("[[:alpha:]]", "reads differently"),
        ] {
            let why_ = refused(&body(pattern));
            assert!(
                why_[0].contains("body property `name`") && why_[0].contains(why),
                "{pattern}: {why_:?}"
            );
        }
        let why = refused("{type: object, properties: {name: {type: string, pattern: 5}}}");
        assert!(why[0].contains("is not a string"), "{why:?}");
    }

    #[test]
    fn progenitor_sees_no_pattern_and_a_property_named_pattern_stays() {
        let mut fragment = doc(
            "{a: {type: string, pattern: '^a$'}, properties: {pattern: {type: string}}, \
             example: {pattern: x}, items: [{pattern: '^b$'}]}",
        );
        strip_patterns(&mut fragment);
        assert_eq!(
            fragment,
            doc(
                "{a: {type: string}, properties: {pattern: {type: string}}, \
                 example: {pattern: x}, items: [{}]}"
            )
        );
    }

    #[test]
    fn setter_messages_name_the_wire_field_and_its_bounds() {
        let mut file: syn::File = syn::parse_quote! {
            pub mod builder {
                impl<'a> GetKey<'a> {
                    pub fn limit<V>(mut self, value: V) -> Self {
                        self.limit = value.try_into().map(Some).map_err(|_| {
                            "conversion to `:: std :: num :: NonZeroU64` for limit failed"
                                .to_string()
                        });
                        self
                    }
                    pub fn tag<V>(mut self, value: V) -> Self {
                        self.tag = value
                            .try_into()
                            .map_err(|_| "conversion to `String` for tag failed".to_string());
                        self
                    }
                }
            }
        };
        let all = collect(&doc(TOY)).unwrap();
        name_bounds_in_setters(&mut file, &all);
        let code = quote!(#file).to_string();
        assert!(
            code.contains(
                r#""get_key: `limit` must be at least 1 and at most 500 (`NonZeroU64`)""#
            ),
            "{code}"
        );
        // No numeric bound on `tag`: progenitor's text stays.
        assert!(code.contains("for tag failed"), "{code}");
    }
}
