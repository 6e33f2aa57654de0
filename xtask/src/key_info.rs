//! The conversion of a vendor's key schema to `apikeys_common::KeyInfo`, from its
//! `x-apikeys-key-info` extension, so that no lifecycle writes it by hand: `impl From<Key>
//! for KeyInfo`, or `TryFrom` (an `Error::Decode`) when the id may be missing.
//!
//! ```yaml
//! ApiKey:
//!   x-apikeys-key-info:
//!     id: id                  # an integer or string property (written in decimal / as is)
//!     name: name              # (optional) a string
//!     enabled: is_enabled     # (optional) a boolean, or `{not: is_revoked}`: its negation
//!     created_at: created_at  # (optional) a `date-time` string, or a schema that converts
//!     expires_at: expiry_date #   `Into<DateTime<Utc>>` (a hand-written replacement)
//! ```
//!
//! A property that is not `required`, or `nullable`, is an `Option` in the generated type
//! and stays `None` in `KeyInfo` when absent; a missing id is refused.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::lint::{key, resolve, schemas_with};

const EXTENSION: &str = "x-apikeys-key-info";
const KEYS: &[&str] = &["id", "name", "enabled", "created_at", "expires_at"];

/// Every conversion the fragment asks for, for the generated `types` module.
pub fn key_infos(doc: &Value) -> Result<Vec<TokenStream>, String> {
    schemas_with(doc, EXTENSION)
        .map(|(name, schema, extension)| {
            conversion(doc, &name, schema, extension)
                .map_err(|why| format!("{EXTENSION} of schema `{name}`: {why}"))
        })
        .collect()
}

/// What a `KeyInfo` field takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Id,
    Text,
    Bool,
    Date,
}

fn conversion(
    doc: &Value,
    schema: &str,
    body: &Value,
    extension: &Value,
) -> Result<TokenStream, String> {
    let map = extension.as_mapping().ok_or("not a mapping")?;
    if let Some(unknown) = map.keys().map(key).find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown key `{unknown}` (known: {})",
            KEYS.join(", ")
        ));
    }
    let properties = body
        .get("properties")
        .and_then(Value::as_mapping)
        .ok_or("the schema has no properties")?;
    let required: Vec<&str> = body
        .get("required")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let ty = format_ident!("{}", schema.to_upper_camel_case());
    let mut id = None;
    let mut sets = Vec::new();
    for target in KEYS {
        let Some(wire) = map.get(*target) else {
            continue;
        };
        let (wire, negated) = wire_name(target, wire)?;
        let at = |why: &str| {
            if negated {
                format!("`{target}: {{not: {wire}}}`: {why}")
            } else {
                format!("`{target}: {wire}`: {why}")
            }
        };
        let property = properties
            .get(wire)
            .ok_or_else(|| at("the schema has no such property"))?;
        let kind = match *target {
            "id" => Kind::Id,
            "name" => Kind::Text,
            "enabled" => Kind::Bool,
            _ => Kind::Date,
        };
        let converts = accepts(doc, property, kind).map_err(|why| at(&why))?;
        let field: syn::Ident =
            syn::parse_str(&wire.to_snake_case()).map_err(|_| at("gives no Rust field name"))?;
        let optional = !required.contains(&wire)
            || property.get("nullable").and_then(Value::as_bool) == Some(true);
        let target = format_ident!("{target}");
        let value = match (optional, converts, negated) {
            (true, _, true) => quote!(key.#field.map(|flag| !flag)),
            (false, _, true) => quote!(::std::option::Option::Some(!key.#field)),
            (true, false, _) => quote!(key.#field),
            (true, true, _) => quote!(key.#field.map(::std::convert::Into::into)),
            (false, false, _) => quote!(::std::option::Option::Some(key.#field)),
            (false, true, _) => quote!(::std::option::Option::Some(key.#field.into())),
        };
        if kind == Kind::Id {
            let reason = format!("a `{schema}` came without its `{wire}`");
            id = Some(if optional {
                quote!(key.#field.ok_or_else(|| ::apikeys_common::Error::Decode {
                    reason: #reason.into(),
                    excerpt: ::std::string::String::new(),
                })?)
            } else {
                quote!(key.#field)
            });
            continue;
        }
        sets.push(quote!(info.#target = #value;));
    }
    let id = id.ok_or("`id` is missing: every key has one")?;
    let fallible = id.to_string().contains("ok_or_else");
    let doc = format!(
        "A `{schema}` as every vendor describes a key, as the fragment's `{EXTENSION}` says."
    );
    let fill = quote! {
        let mut info = ::apikeys_common::KeyInfo::new(#id.to_string());
        #(#sets)*
    };
    Ok(if fallible {
        quote! {
            #[doc = #doc]
            impl ::std::convert::TryFrom<#ty> for ::apikeys_common::KeyInfo {
                type Error = ::apikeys_common::Error;

                fn try_from(key: #ty) -> ::std::result::Result<Self, ::apikeys_common::Error> {
                    #fill
                    Ok(info)
                }
            }
        }
    } else {
        quote! {
            #[doc = #doc]
            impl ::std::convert::From<#ty> for ::apikeys_common::KeyInfo {
                fn from(key: #ty) -> Self {
                    #fill
                    info
                }
            }
        }
    })
}

/// The property a field names, and whether it is negated: `enabled: {not: isRevoked}`.
fn wire_name<'a>(target: &str, wire: &'a Value) -> Result<(&'a str, bool), String> {
    if let Some(name) = wire.as_str() {
        return Ok((name, false));
    }
    let not = wire
        .as_mapping()
        .filter(|map| map.len() == 1)
        .and_then(|map| map.get("not"))
        .ok_or(format!(
            "`{target}`: not a property name (nor `{{not: property}}`)"
        ))?;
    let name = not
        .as_str()
        .ok_or(format!("`{target}: {{not: ..}}`: not a property name"))?;
    if target != "enabled" {
        return Err(format!(
            "`{target}: {{not: {name}}}`: only `enabled` may be a negated boolean"
        ));
    }
    Ok((name, true))
}

/// Whether `property` can fill a field of `kind`; `Ok(true)` when its type is a schema of
/// its own, converted with `Into`.
fn accepts(doc: &Value, property: &Value, kind: Kind) -> Result<bool, String> {
    let reference = property
        .get("allOf")
        .and_then(Value::as_sequence)
        .filter(|all| all.len() == 1)
        .and_then(|all| all.first())
        .unwrap_or(property);
    if reference.get("$ref").is_some() {
        return match (kind, resolve(doc, reference).get("$ref")) {
            (Kind::Date, None) => Ok(true),
            _ => Err("only a date may be a schema of its own (converted with `Into`)".into()),
        };
    }
    let text = |k: &str| property.get(k).and_then(Value::as_str);
    match (kind, text("type"), text("format")) {
        (Kind::Id, Some("integer"), _) | (Kind::Id, Some("string"), None | Some("uuid")) => {
            Ok(false)
        }
        (Kind::Text, Some("string"), None) => Ok(false),
        (Kind::Bool, Some("boolean"), _) => Ok(false),
        (Kind::Date, Some("string"), Some("date-time")) => Ok(false),
        _ => Err(format!(
            "a property of type `{}` cannot fill it",
            text("type").unwrap_or("(none)")
        )),
    }
}

/// Puts each conversion into the generated `types` module, beside its schema.
pub fn add(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    crate::codegen::add_to_module(file, "types", key_infos(doc)?, "a `KeyInfo` conversion")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(extension: &str) -> Result<String, String> {
        let doc: Value = serde_yaml::from_str(&format!(
            "components: {{schemas: {{\
               Stamp: {{type: string}}, \
               ApiKey: {{x-apikeys-key-info: {extension}, required: [keyId, label, revoked], properties: {{\
                 keyId: {{type: integer}}, maybeId: {{type: string, format: uuid}}, \
                 label: {{type: string}}, note: {{type: string}}, on: {{type: boolean}}, \
                 made: {{type: string, format: date-time}}, \
                 until: {{type: string, format: date-time, nullable: true}}, \
                 stamp: {{allOf: [{{$ref: '#/components/schemas/Stamp'}}]}}, \
                 count: {{type: integer}}, revoked: {{type: boolean}}, \
                 gone: {{type: boolean, nullable: true}}}}}}}}}}"
        ))
        .unwrap();
        key_infos(&doc).map(|items| items.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn fields_are_copied_wrapped_or_converted_as_the_schema_types_them() {
        let code =
            run("{id: keyId, name: label, enabled: on, created_at: stamp, expires_at: until}")
                .unwrap();
        let has = |text: &str| assert!(code.contains(text), "{text} in {code}");
        has("impl :: std :: convert :: From < ApiKey > for :: apikeys_common :: KeyInfo");
        has(":: apikeys_common :: KeyInfo :: new (key . key_id . to_string ())");
        has("info . name = :: std :: option :: Option :: Some (key . label) ;");
        has("info . enabled = key . on ;");
        has("info . created_at = key . stamp . map (:: std :: convert :: Into :: into) ;");
        has("info . expires_at = key . until ;");
        // An id that may be missing makes the conversion fallible.
        let code = run("{id: maybeId, created_at: made}").unwrap();
        assert!(
            code.contains("impl :: std :: convert :: TryFrom < ApiKey >")
                && code.contains("key . maybe_id . ok_or_else")
                && code.contains("\"a `ApiKey` came without its `maybeId`\"")
                && code.contains("info . created_at = key . made ;"),
            "{code}"
        );
    }

    // issue 23, part 2: a key that says it is revoked is a `KeyInfo` that is not enabled.
    #[test]
    fn enabled_may_be_the_negation_of_a_boolean() {
        let code = run("{id: keyId, enabled: {not: revoked}}").unwrap();
        assert!(
            code.contains(
                "info . enabled = :: std :: option :: Option :: Some (! key . revoked) ;"
            ),
            "{code}"
        );
        let code = run("{id: keyId, enabled: {not: gone}}").unwrap();
        assert!(
            code.contains("info . enabled = key . gone . map (| flag | ! flag) ;"),
            "{code}"
        );
    }

    #[test]
    fn what_cannot_fill_a_key_info_is_refused() {
        for (extension, expected) in [
            ("keyId", "not a mapping"),
            ("{name: label}", "`id` is missing"),
            ("{id: keyId, owner: label}", "unknown key `owner`"),
            ("{id: nope}", "`id: nope`: the schema has no such property"),
            (
                "{id: keyId, name: count}",
                "`name: count`: a property of type `integer` cannot fill it",
            ),
            (
                "{id: keyId, enabled: label}",
                "type `string` cannot fill it",
            ),
            (
                "{id: keyId, created_at: label}",
                "type `string` cannot fill it",
            ),
            ("{id: stamp}", "only a date may be a schema of its own"),
            ("{id: [keyId]}", "`id`: not a property name"),
            // issue 23, part 2: negation refusals.
            (
                "{id: keyId, enabled: {not: label}}",
                "`enabled: {not: label}`: a property of type `string` cannot fill it",
            ),
            (
                "{id: keyId, enabled: {not: nope}}",
                "`enabled: {not: nope}`: the schema has no such property",
            ),
            (
                "{id: keyId, name: {not: revoked}}",
                "`name: {not: revoked}`: only `enabled` may be a negated boolean",
            ),
            (
                "{id: keyId, enabled: {negate: revoked}}",
                "`enabled`: not a property name (nor `{not: property}`)",
            ),
            (
                "{id: keyId, enabled: {not: [revoked]}}",
                "`enabled: {not: ..}`: not a property name",
            ),
        ] {
            let found = run(extension).unwrap_err();
            assert!(
                found.contains("x-apikeys-key-info of schema `ApiKey`") && found.contains(expected),
                "{extension}: {found}"
            );
        }
    }
}
