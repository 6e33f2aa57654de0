//! A PATCH body for a schema that carries `x-apikeys-patch`: each field is absent (left as
//! it is), `null` (cleared, for a `nullable` property) or a value. progenitor's types cannot
//! tell absent from `null`, so the schema's type is generated here instead (progenitor is
//! told to use it), with `new`, a setter per property, `clear_<property>` per nullable one,
//! and `is_empty`; the serde helpers are `apikeys_common::patch`.
//!
//! ```yaml
//! ApiKeyUpdate:
//!   type: object
//!   x-apikeys-patch:
//!     date-time: millis   # (optional) dates as `2027-06-30T00:00:00.000Z` (UTC, milliseconds,
//!                         #   `Z`: JavaScript's `toISOString()`); without it, chrono's RFC 3339
//!   properties:
//!     name: {type: string}                          # .name(..)
//!     description: {type: string, nullable: true}   # .description(..), .clear_description()
//! ```
//!
//! Properties may be strings, `date-time` strings, integers or booleans; none may be
//! `required` (every field of a PATCH may be left out). Anything else is refused, not skipped.
//! Bounds (`minLength`, `minProperties`, ...) are checked on the wire like any body's.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::lint::{key, schemas_with};

const EXTENSION: &str = "x-apikeys-patch";

/// The schemas that carry `x-apikeys-patch`: progenitor is told their types are ours.
pub fn schemas(doc: &Value) -> Vec<String> {
    schemas_with(doc, EXTENSION)
        .map(|(name, ..)| name)
        .collect()
}

/// Every PATCH body the fragment asks for, for the generated `types` module.
pub fn patches(doc: &Value) -> Result<Vec<TokenStream>, String> {
    let mut out = Vec::new();
    for (name, schema, extension) in schemas_with(doc, EXTENSION) {
        let at = format!("{EXTENSION} of schema `{name}`");
        out.push(patch(&name, schema, extension).map_err(|why| format!("{at}: {why}"))?);
    }
    Ok(out)
}

/// Puts each PATCH body into the generated `types` module; a schema also swapped for a
/// hand-written type (`replacements`) is refused: one of the two would be ignored.
pub fn add(file: &mut syn::File, doc: &Value, replacements: &[(&str, &str)]) -> Result<(), String> {
    if let Some(name) = schemas(doc)
        .into_iter()
        .find(|name| replacements.iter().any(|(replaced, _)| replaced == name))
    {
        return Err(format!(
            "schema `{name}` has `{EXTENSION}` but is also replaced by a hand-written type"
        ));
    }
    crate::codegen::add_to_module(file, "types", patches(doc)?, "a PATCH body")
}

/// How dates are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dates {
    Rfc3339,
    Millis,
}

fn patch(name: &str, schema: &Value, extension: &Value) -> Result<TokenStream, String> {
    let dates = match extension {
        Value::Bool(true) => Dates::Rfc3339,
        Value::Mapping(map) => {
            if let Some(unknown) = map.keys().map(key).find(|k| k != "date-time") {
                return Err(format!("unknown key `{unknown}` (known: date-time)"));
            }
            match map.get("date-time").map(|v| v.as_str()) {
                None => Dates::Rfc3339,
                Some(Some("millis")) => Dates::Millis,
                Some(other) => {
                    return Err(format!(
                        "`date-time: {}` is not a date format (millis)",
                        other.unwrap_or("?")
                    ));
                }
            }
        }
        _ => return Err("not `true` or a mapping".into()),
    };
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err("the schema is not `type: object`".into());
    }
    if schema
        .get("required")
        .and_then(Value::as_sequence)
        .is_some_and(|r| !r.is_empty())
    {
        return Err("a PATCH body's fields may all be left out: drop `required`".into());
    }
    let properties = schema
        .get("properties")
        .and_then(Value::as_mapping)
        .filter(|p| !p.is_empty())
        .ok_or("the schema has no properties")?;

    let mut methods = vec!["new".to_string(), "is_empty".to_string()];
    let (mut fields, mut setters, mut names) = (Vec::new(), Vec::new(), Vec::new());
    for (wire, property) in properties {
        let wire = key(wire);
        let field = field(&wire, property, dates).map_err(|why| format!("`{wire}`: {why}"))?;
        methods.push(field.ident.to_string());
        if field.nullable {
            methods.push(format!("clear_{}", field.ident));
        }
        let (tokens, setter) = field.tokens();
        fields.push(tokens);
        setters.push(setter);
        names.push(field.ident);
    }
    let mut sorted = methods.clone();
    sorted.sort();
    if let Some(twice) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("two methods would be named `{}`", twice[0]));
    }

    let ident = format_ident!("{}", name.to_upper_camel_case());
    let description = schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("A PATCH body.")
        .trim();
    let doc = format!(
        "{description}\n\nOnly the fields that are set are sent: a field left `None` is absent \
         (left as it is); one that may be cleared is `Some(None)` to send `null`."
    );
    Ok(quote! {
        #[doc = #doc]
        #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct #ident {
            #(#fields)*
        }

        impl #ident {
            /// Changes nothing yet.
            pub fn new() -> Self {
                Self::default()
            }

            #(#setters)*

            /// Whether nothing would change: no field is set.
            pub fn is_empty(&self) -> bool {
                #(self.#names.is_none())&&*
            }
        }
    })
}

/// One property of the body.
struct Field {
    wire: String,
    ident: syn::Ident,
    /// The value's type, and what the setter takes.
    ty: TokenStream,
    arg: TokenStream,
    nullable: bool,
    /// `with = ..` for dates in milliseconds.
    millis: bool,
    doc: String,
}

fn field(wire: &str, property: &Value, dates: Dates) -> Result<Field, String> {
    let ident: syn::Ident = syn::parse_str(&wire.to_snake_case())
        .ok()
        .filter(|_| !wire.to_snake_case().is_empty())
        .ok_or("gives no Rust field name")?;
    for refused in ["$ref", "allOf", "oneOf", "anyOf", "enum"] {
        if property.get(refused).is_some() {
            return Err(format!(
                "`{refused}` cannot be patched: only strings, date-times, integers and booleans"
            ));
        }
    }
    let text = |k: &str| property.get(k).and_then(Value::as_str);
    let (ty, arg, date) = match (text("type"), text("format")) {
        (Some("string"), Some("date-time")) => {
            let ty = quote!(::chrono::DateTime<::chrono::offset::Utc>);
            (ty.clone(), ty, true)
        }
        (Some("string"), None) => (
            quote!(::std::string::String),
            quote!(impl ::std::convert::Into<::std::string::String>),
            false,
        ),
        (Some("integer"), None | Some("int64")) => (quote!(i64), quote!(i64), false),
        (Some("boolean"), None) => (quote!(bool), quote!(bool), false),
        (ty, format) => {
            return Err(format!(
                "type {} with format {} cannot be patched: only strings, date-times, integers \
                 and booleans",
                ty.unwrap_or("(none)"),
                format.unwrap_or("(none)")
            ));
        }
    };
    Ok(Field {
        wire: wire.to_string(),
        ident,
        ty,
        arg,
        nullable: property.get("nullable").and_then(Value::as_bool) == Some(true),
        millis: date && dates == Dates::Millis,
        doc: text("description").unwrap_or("").trim().to_string(),
    })
}

impl Field {
    /// The struct's field, and its setters.
    fn tokens(&self) -> (TokenStream, TokenStream) {
        let Field {
            wire,
            ident,
            ty,
            arg,
            nullable,
            millis,
            doc,
        } = self;
        let rename = (*ident != wire.as_str()).then(|| quote!(rename = #wire,));
        let with = match (nullable, millis) {
            (false, false) => None,
            (false, true) => Some("::apikeys_common::patch::millis"),
            (true, false) => Some("::apikeys_common::patch::nullable"),
            (true, true) => Some("::apikeys_common::patch::nullable_millis"),
        }
        .map(|path| quote!(with = #path,));
        // Only strings are taken as `impl Into<String>`.
        let value = if ty.to_string() == arg.to_string() {
            quote!(value)
        } else {
            quote!(value.into())
        };
        let (field_ty, set, field_doc) = if *nullable {
            let note = "`None`: not sent; `Some(None)`: sent as `null` (cleared).";
            (
                quote!(::std::option::Option<::std::option::Option<#ty>>),
                quote!(Some(Some(#value))),
                format!("{doc}\n\n{note}"),
            )
        } else {
            let note = "`None`: not sent (left as it is).";
            (
                quote!(::std::option::Option<#ty>),
                quote!(Some(#value)),
                format!("{doc}\n\n{note}"),
            )
        };
        let field = quote! {
            #[doc = #field_doc]
            #[serde(default, skip_serializing_if = "::std::option::Option::is_none", #rename #with)]
            pub #ident: #field_ty,
        };
        let set_doc = format!("Sets `{wire}`.");
        let mut setters = quote! {
            #[doc = #set_doc]
            #[must_use]
            pub fn #ident(mut self, value: #arg) -> Self {
                self.#ident = #set;
                self
            }
        };
        if *nullable {
            let clear = format_ident!("clear_{ident}");
            let clear_doc = format!("Clears `{wire}`: sends `null`.");
            setters.extend(quote! {
                #[doc = #clear_doc]
                #[must_use]
                pub fn #clear(mut self) -> Self {
                    self.#ident = Some(None);
                    self
                }
            });
        }
        (field, setters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(schema: &str) -> Result<String, String> {
        let doc: Value =
            serde_yaml::from_str(&format!("components: {{schemas: {{Change: {schema}}}}}"))
                .unwrap();
        patches(&doc).map(|items| {
            items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("")
        })
    }

    #[test]
    fn nullable_properties_can_be_cleared_and_dates_follow_the_format() {
        let code = run(
            "{type: object, x-apikeys-patch: {date-time: millis}, properties: {\
             name: {type: string, minLength: 1}, \
             note: {type: string, nullable: true}, \
             expiryDate: {type: string, format: date-time, nullable: true}, \
             at: {type: string, format: date-time}, \
             count: {type: integer}, on: {type: boolean}}}",
        )
        .unwrap();
        let has = |text: &str| assert!(code.contains(text), "{text} in {code}");
        has("# [non_exhaustive] pub struct Change");
        has("pub name : :: std :: option :: Option < :: std :: string :: String >");
        has("pub fn name (mut self , value : impl :: std :: convert :: Into");
        has("pub note : :: std :: option :: Option < :: std :: option :: Option <");
        has("with = \"::apikeys_common::patch::nullable\"");
        has("pub fn clear_note (mut self) -> Self { self . note = Some (None) ;");
        has("rename = \"expiryDate\" , with = \"::apikeys_common::patch::nullable_millis\"");
        has("pub fn clear_expiry_date");
        has("with = \"::apikeys_common::patch::millis\"");
        has("pub count : :: std :: option :: Option < i64 >");
        has("pub on : :: std :: option :: Option < bool >");
        has(
            "self . name . is_none () && self . note . is_none () && self . expiry_date . \
             is_none () && self . at . is_none () && self . count . is_none () && self . on . \
             is_none ()",
        );
        assert!(!code.contains("clear_name"), "{code}");
        assert!(!code.contains("clear_at"), "{code}");
        // Without a format, dates are chrono's own.
        let plain = run("{type: object, x-apikeys-patch: true, properties: \
                         {at: {type: string, format: date-time, nullable: true}}}")
        .unwrap();
        assert!(plain.contains("patch::nullable\""), "{plain}");
        assert!(!plain.contains("millis"), "{plain}");
        assert_eq!(
            run("{type: object, properties: {a: {type: string}}}").unwrap(),
            ""
        );
        assert_eq!(
            schemas(
                &serde_yaml::from_str(
                    "components: {schemas: {A: {x-apikeys-patch: true}, B: {type: object}}}"
                )
                .unwrap()
            ),
            ["A"]
        );
    }

    #[test]
    fn what_cannot_be_patched_is_refused() {
        for (schema, expected) in [
            (
                "{type: object, x-apikeys-patch: 1, properties: {a: {type: string}}}",
                "not `true` or a mapping",
            ),
            (
                "{type: object, x-apikeys-patch: {dates: millis}, properties: {a: {type: string}}}",
                "unknown key `dates`",
            ),
            (
                "{type: object, x-apikeys-patch: {date-time: seconds}, properties: {a: {type: string}}}",
                "`date-time: seconds` is not a date format",
            ),
            (
                "{type: string, x-apikeys-patch: true}",
                "not `type: object`",
            ),
            ("{type: object, x-apikeys-patch: true}", "has no properties"),
            (
                "{type: object, x-apikeys-patch: true, required: [a], properties: {a: {type: string}}}",
                "drop `required`",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {a: {$ref: '#/x'}}}",
                "`a`: `$ref` cannot be patched",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {a: {type: string, enum: [x]}}}",
                "`enum` cannot be patched",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {a: {type: array}}}",
                "type array with format (none) cannot be patched",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {a: {type: string, format: uuid}}}",
                "format uuid cannot be patched",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {type: {type: string}}}",
                "`type`: gives no Rust field name",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {'--': {type: string}}}",
                "`--`: gives no Rust field name",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {new: {type: string}}}",
                "two methods would be named `new`",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {a: {type: string, nullable: true}, clear_a: {type: string}}}",
                "named `clear_a`",
            ),
            (
                "{type: object, x-apikeys-patch: true, properties: {a_b: {type: string}, aB: {type: string}}}",
                "named `a_b`",
            ),
        ] {
            let found = run(schema).unwrap_err();
            assert!(
                found.contains("x-apikeys-patch of schema `Change`"),
                "{schema}: {found}"
            );
            assert!(found.contains(expected), "{schema}: {found}");
        }
    }
}
