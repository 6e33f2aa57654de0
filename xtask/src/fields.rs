//! A field enum for a schema that carries `x-apikeys-fields: <EnumName>`: one variant per
//! property, in the schema's order, with `ALL`, `as_str` (the wire name), `AsRef<str>` and
//! `Display`, for query languages that name a row's fields (OData's `$select`, `$orderby`
//! and filters).
//!
//! ```yaml
//! ApiKey:
//!   type: object
//!   x-apikeys-fields: ApiKeyField
//!   properties: {id: ..., created_at: ...}   # ApiKeyField::Id ("id"), ::CreatedAt, ...
//! ```

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::lint::{key, schemas_with};

/// Every field enum the fragment asks for, for the generated `types` module.
pub fn fields(doc: &Value) -> Result<Vec<TokenStream>, String> {
    let mut out = Vec::new();
    for (name, schema, wanted) in schemas_with(doc, "x-apikeys-fields") {
        let at = format!("x-apikeys-fields of schema `{name}`");
        let ident = wanted
            .as_str()
            .filter(|e| is_ident(e) && e.starts_with(|c: char| c.is_ascii_uppercase()))
            .ok_or(format!("{at}: not an enum name"))?;
        let properties = schema
            .get("properties")
            .and_then(Value::as_mapping)
            .filter(|p| !p.is_empty())
            .ok_or(format!("{at}: the schema has no properties"))?;
        let mut variants = Vec::new();
        for wire in properties.keys().map(key) {
            let variant = wire.to_upper_camel_case();
            if !is_ident(&variant) || variants.iter().any(|(v, _)| *v == variant) {
                return Err(format!(
                    "{at}: property `{wire}` gives no distinct variant name"
                ));
            }
            variants.push((variant, wire));
        }
        out.push(field_enum(&name, ident, &variants));
    }
    Ok(out)
}

fn is_ident(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric())
}

fn field_enum(schema: &str, name: &str, variants: &[(String, String)]) -> TokenStream {
    let name = format_ident!("{name}");
    let idents: Vec<_> = variants.iter().map(|(v, _)| format_ident!("{v}")).collect();
    let wires: Vec<_> = variants.iter().map(|(_, w)| w.as_str()).collect();
    let docs = wires.iter().map(|w| format!("`{w}`"));
    let count = variants.len();
    let doc = format!("The fields of [`{schema}`] by their wire names, in the schema's order.");
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#[doc = #docs] #idents,)*
        }

        impl #name {
            /// Every field, in the schema's order.
            pub const ALL: [#name; #count] = [#(#name::#idents),*];

            /// The field's name on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    #(#name::#idents => #wires,)*
                }
            }
        }

        impl ::std::convert::AsRef<str> for #name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(schema: &str) -> Result<String, String> {
        let doc: Value =
            serde_yaml::from_str(&format!("components: {{schemas: {{Row: {schema}}}}}")).unwrap();
        fields(&doc).map(|items| {
            items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("")
        })
    }

    #[test]
    fn each_property_becomes_a_variant_with_its_wire_name() {
        let code =
            run("{x-apikeys-fields: RowField, properties: {id: {}, is_of__actor: {}}}").unwrap();
        assert!(code.contains("pub enum RowField"), "{code}");
        assert!(
            code.contains("RowField :: IsOfActor => \"is_of__actor\""),
            "{code}"
        );
        assert!(
            code.contains(
                "pub const ALL : [RowField ; 2usize] = [RowField :: Id , RowField :: IsOfActor]"
            ),
            "{code}"
        );
        assert_eq!(run("{properties: {id: {}}}").unwrap(), "");
    }

    #[test]
    fn what_cannot_be_an_enum_is_refused() {
        for (schema, expected) in [
            (
                "{x-apikeys-fields: rowField, properties: {id: {}}}",
                "not an enum name",
            ),
            (
                "{x-apikeys-fields: [RowField], properties: {id: {}}}",
                "not an enum name",
            ),
            ("{x-apikeys-fields: RowField}", "has no properties"),
            (
                "{x-apikeys-fields: RowField, properties: {a_b: {}, aB: {}}}",
                "`aB` gives no distinct",
            ),
            (
                "{x-apikeys-fields: RowField, properties: {'__': {}}}",
                "`__` gives no distinct",
            ),
        ] {
            let found = run(schema).unwrap_err();
            assert!(found.contains(expected), "{schema}: {found}");
        }
    }
}
