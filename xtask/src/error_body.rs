//! `impl ErrorBody` for the vendor's error schema, from its `x-apikeys-error` extension, so
//! that no crate writes by hand how its error body gives a code and a message.
//!
//! ```yaml
//! x-apikeys-error:
//!   code: [/errorCode]       # (optional) where the vendor's code is: the first candidate
//!                            #   that has text wins; none: the body has no code
//!   message: [/detailMessage, /description]   # where the message is, the same way
//!   join: ": "               # (when a candidate can give several texts) what goes between
//!   text: /description       # where a body in another shape (HTML, plain text) puts its
//!                            #   text: one of the `message` pointers
//! ```
//!
//! A candidate is a JSON pointer (RFC 6901) into the body as the wire has it (`""` is the
//! whole body), or a list of pointers whose texts are joined with `join`. A pointer may end
//! at a string, an integer (written in decimal) or an array of strings (each item a text,
//! joined with `join`); blank strings are skipped and texts are trimmed. Pointers pass
//! through `oneOf`/`anyOf`/`allOf` members, so a body that is one of several shapes is read
//! from whichever it is. `text` must end at a plain string or array of strings that every
//! object on its way may hold alone (no other required property), so that a body made of
//! the text alone decodes. Anything else is refused, not skipped.

use proc_macro2::TokenStream;
use quote::quote;
use serde_yaml::Value;

use crate::examples::{Flat, flatten};
use crate::lint::{component_schema, key};

const KEYS: &[&str] = &["code", "message", "join", "text"];

/// What a pointer can end at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    /// A string or an integer: one text.
    One,
    /// An array of strings: a text per item.
    Many,
}

/// `impl ::apikeys_common::ErrorBody for #ty`, read from `schemas.<schema>.x-apikeys-error`.
pub fn error_body(doc: &Value, schema: &str, ty: &syn::Type) -> Result<TokenStream, String> {
    let at = format!("x-apikeys-error of schema `{schema}`");
    let wrong = |why: String| format!("{at}: {why}");
    let body = component_schema(doc, schema).ok_or(format!("no schema `{schema}`"))?;
    let extension = body.get("x-apikeys-error").ok_or(format!(
        "the error schema `{schema}` has no `x-apikeys-error`: it says where the body's code \
         and message are"
    ))?;
    let map = extension
        .as_mapping()
        .ok_or(wrong("not a mapping".into()))?;
    if let Some(unknown) = map.keys().map(key).find(|k| !KEYS.contains(&k.as_str())) {
        return Err(wrong(format!(
            "unknown key `{unknown}` (known: {})",
            KEYS.join(", ")
        )));
    }
    let code = match map.get("code") {
        Some(code) => candidates(doc, body, code).map_err(|why| wrong(format!("code: {why}")))?,
        None => Vec::new(),
    };
    let message = candidates(
        doc,
        body,
        map.get("message")
            .ok_or(wrong("`message` is missing".into()))?,
    )
    .map_err(|why| wrong(format!("message: {why}")))?;
    if message.is_empty() {
        return Err(wrong("`message` names no pointer".into()));
    }
    let joins = code
        .iter()
        .chain(&message)
        .any(|c| c.len() > 1 || c.iter().any(|(_, leaf)| *leaf == Leaf::Many));
    let join = match (map.get("join"), joins) {
        (Some(Value::String(join)), true) => join.clone(),
        (None, false) => String::new(),
        (Some(Value::String(_)), false) => {
            return Err(wrong(
                "`join` is given, but no candidate can give several texts".into(),
            ));
        }
        (None, true) => {
            return Err(wrong(
                "a candidate can give several texts (a list of pointers or an array): \
                 `join` says what goes between them"
                    .into(),
            ));
        }
        (Some(_), _) => return Err(wrong("`join` is not a string".into())),
    };
    let text = map
        .get("text")
        .and_then(Value::as_str)
        .ok_or(wrong("`text` is missing or not a pointer".into()))?;
    let many = holds_text(doc, body, &tokens(text).map_err(&wrong)?).ok_or(wrong(format!(
        "text: `{text}` does not end at a plain string or array of strings that a body may \
         hold alone"
    )))?;
    if !message.iter().flatten().any(|(pointer, _)| pointer == text) {
        return Err(wrong(format!(
            "text: `{text}` is none of the `message` pointers, so the text would not be read back"
        )));
    }

    let read = |candidates: &[Vec<(String, Leaf)>]| {
        let lists = candidates.iter().map(|c| {
            let pointers = c.iter().map(|(p, _)| p);
            quote!(&[#(#pointers),*])
        });
        quote!(::apikeys_common::__private::error_text(self, &[#(#lists),*], #join))
    };
    let code_body = if code.is_empty() {
        quote!(::std::option::Option::None)
    } else {
        read(&code)
    };
    let message_body = read(&message);
    let code_doc = match describe(&code) {
        Some(from) => format!("The code at {from}: the first that is not blank."),
        None => "None: the body has no code.".to_string(),
    };
    let joined = if join.is_empty() {
        String::new()
    } else {
        format!(", texts joined with `{join}`")
    };
    let message_doc = format!(
        "The message at {}: the first that is not blank{joined}.",
        describe(&message).unwrap_or_default()
    );
    let text_doc = format!("A body with `text` at {}.", shown(text));
    let impl_doc = format!("Read as the fragment's `x-apikeys-error` on `{schema}` says.");
    Ok(quote! {
        #[doc = #impl_doc]
        impl ::apikeys_common::ErrorBody for #ty {
            #[doc = #code_doc]
            fn code(&self) -> ::std::option::Option<::std::string::String> {
                #code_body
            }
            #[doc = #message_doc]
            fn message(&self) -> ::std::option::Option<::std::string::String> {
                #message_body
            }
            #[doc = #text_doc]
            fn from_text(text: ::std::string::String) -> ::std::option::Option<Self> {
                ::apikeys_common::__private::error_from_text(#text, #many, text)
            }
        }
    })
}

/// Refuses `x-apikeys-error` on any schema but the error schema: it would do nothing there.
pub fn only_on(doc: &Value, error_schema: Option<&str>) -> Result<(), String> {
    let schemas = doc
        .get("components")
        .and_then(|c| c.get("schemas"))
        .and_then(Value::as_mapping);
    for (name, schema) in schemas.into_iter().flatten() {
        let name = key(name);
        if schema.get("x-apikeys-error").is_some() && Some(name.as_str()) != error_schema {
            return Err(format!(
                "schema `{name}` has `x-apikeys-error`, but is not the generated error schema"
            ));
        }
    }
    Ok(())
}

/// `` `/a`, else `/b` and `/c` ``, for the docs.
fn describe(candidates: &[Vec<(String, Leaf)>]) -> Option<String> {
    let each: Vec<String> = candidates
        .iter()
        .map(|c| {
            let names: Vec<String> = c.iter().map(|(p, _)| shown(p)).collect();
            names.join(" and ")
        })
        .collect();
    (!each.is_empty()).then(|| each.join(", else "))
}

fn shown(pointer: &str) -> String {
    if pointer.is_empty() {
        "the body itself".into()
    } else {
        format!("`{pointer}`")
    }
}

/// A list of candidates, each a pointer or a list of pointers, checked against `body`.
fn candidates(doc: &Value, body: &Value, list: &Value) -> Result<Vec<Vec<(String, Leaf)>>, String> {
    let list = list.as_sequence().ok_or("not a list of candidates")?;
    let mut out = Vec::new();
    for candidate in list {
        let pointers: Vec<&Value> = match candidate {
            Value::Sequence(pointers) if !pointers.is_empty() => pointers.iter().collect(),
            Value::String(_) => vec![candidate],
            _ => return Err("a candidate is not a pointer or a list of pointers".into()),
        };
        let mut checked = Vec::new();
        for pointer in pointers {
            let pointer = pointer.as_str().ok_or("a pointer is not a string")?;
            let leaf = reads(doc, body, &tokens(pointer)?).ok_or(format!(
                "`{pointer}` does not end at a string, an integer or an array of strings"
            ))?;
            checked.push((pointer.to_string(), leaf));
        }
        out.push(checked);
    }
    Ok(out)
}

/// The reference tokens of an RFC 6901 pointer.
fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or(format!("`{pointer}` is not a JSON pointer (`` or `/...`)"))?;
    rest.split('/')
        .map(|token| {
            let bad = token
                .match_indices('~')
                .any(|(at, _)| !matches!(token.as_bytes().get(at + 1), Some(b'0' | b'1')));
            if bad {
                Err(format!("`{pointer}`: `~` must be followed by 0 or 1"))
            } else {
                Ok(token.replace("~1", "/").replace("~0", "~"))
            }
        })
        .collect()
}

/// The schema's shapes: itself, or each of its `oneOf`/`anyOf` members (`allOf` merged).
fn shapes<'a>(doc: &'a Value, schema: &'a Value, depth: usize) -> Vec<Flat<'a>> {
    let mut flat = Flat::default();
    flatten(doc, schema, &mut flat, 0);
    if flat.choices.is_empty() || depth > 8 {
        return vec![flat];
    }
    let choices = std::mem::take(&mut flat.choices);
    choices
        .into_iter()
        .flat_map(|choice| shapes(doc, choice, depth + 1))
        .collect()
}

fn property<'a>(flat: &Flat<'a>, name: &str) -> Option<&'a Value> {
    flat.properties
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, schema)| *schema)
}

/// What `tokens` end at in some shape of `schema`, if anything a text can be read from.
fn reads(doc: &Value, schema: &Value, tokens: &[String]) -> Option<Leaf> {
    shapes(doc, schema, 0).iter().find_map(|flat| match tokens {
        [] => match flat.ty {
            Some("string" | "integer") => Some(Leaf::One),
            Some("array") => {
                let items = flat.items?;
                let strings = shapes(doc, items, 0)
                    .iter()
                    .all(|item| item.ty == Some("string"));
                strings.then_some(Leaf::Many)
            }
            _ => None,
        },
        [first, rest @ ..] => reads(doc, property(flat, first)?, rest),
    })
}

/// Whether a body holding only a string at `tokens` decodes as some shape of `schema`:
/// `Some(true)` when it is an array of strings there, `Some(false)` for a string.
fn holds_text(doc: &Value, schema: &Value, tokens: &[String]) -> Option<bool> {
    let plain = |flat: &Flat| {
        flat.ty == Some("string") && flat.format.is_none() && flat.values.is_none() && !flat.bounded
    };
    shapes(doc, schema, 0).iter().find_map(|flat| match tokens {
        [] if plain(flat) => Some(false),
        [] if flat.ty == Some("array") && !flat.bounded => {
            let items = shapes(doc, flat.items?, 0);
            (items.len() == 1 && items.iter().all(plain)).then_some(true)
        }
        [] => None,
        [first, rest @ ..] => {
            let alone = flat.required.iter().all(|name| name == first);
            let object = flat.ty.is_none_or(|ty| ty == "object");
            if alone && object {
                holds_text(doc, property(flat, first)?, rest)
            } else {
                None
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMAS: &str = r#"
components:
  schemas:
    Gateway:
      type: object
      properties: {id: {type: string}, message: {type: string}, reason: {type: string}}
    Problem:
      type: object
      required: [errors]
      properties:
        message: {type: string}
        code: {type: integer}
        when: {type: string, format: date-time}
        flag: {type: boolean}
        errors: {type: array, items: {type: string}}
        gateway: {allOf: [{$ref: '#/components/schemas/Gateway'}]}
    Either:
      oneOf:
        - {type: string}
        - {type: object, required: [error], properties: {error: {type: string}}}
"#;

    fn run(schema: &str, extension: &str) -> Result<String, String> {
        let mut doc: Value = serde_yaml::from_str(SCHEMAS).unwrap();
        doc["components"]["schemas"][schema]["x-apikeys-error"] =
            serde_yaml::from_str(extension).unwrap();
        let ty: syn::Type = syn::parse_quote!(types::Problem);
        error_body(&doc, schema, &ty).map(|tokens| tokens.to_string())
    }

    #[test]
    fn the_vocabulary_becomes_reads_of_the_body() {
        let code = run(
            "Problem",
            r#"{code: [/code, /gateway/id], message: [/message, [/gateway/message, /gateway/reason], /errors], join: "; ", text: /errors}"#,
        )
        .unwrap();
        assert!(
            code.contains(r#"error_text (self , & [& ["/code"] , & ["/gateway/id"]] , "; ")"#),
            "{code}"
        );
        assert!(
            code.contains(
                r#"& [& ["/message"] , & ["/gateway/message" , "/gateway/reason"] , & ["/errors"]]"#
            ),
            "{code}"
        );
        assert!(
            code.contains(r#"error_from_text ("/errors" , true , text)"#),
            "{code}"
        );

        let code = run("Either", r#"{message: ["", /error], text: ""}"#).unwrap();
        assert!(code.contains("fn code (& self) -> :: std :: option :: Option < :: std :: string :: String > { :: std :: option :: Option :: None }"), "{code}");
        assert!(
            code.contains(r#"error_from_text ("" , false , text)"#),
            "{code}"
        );
    }

    #[test]
    fn what_cannot_be_honoured_is_refused() {
        for (schema, extension, expected) in [
            (
                "Problem",
                "{message: [/message], text: /message, trim: true}",
                "unknown key `trim`",
            ),
            ("Problem", "{text: /message}", "`message` is missing"),
            (
                "Problem",
                "{message: [], text: /message}",
                "names no pointer",
            ),
            (
                "Problem",
                "{message: [/mesage], text: /message}",
                "`/mesage` does not end at",
            ),
            (
                "Problem",
                "{message: [message], text: message}",
                "not a JSON pointer",
            ),
            (
                "Problem",
                "{message: ['/a~2b'], text: /message}",
                "`~` must be followed",
            ),
            (
                "Problem",
                "{message: [/flag], text: /message}",
                "`/flag` does not end at",
            ),
            (
                "Problem",
                "{message: [/gateway/nope], text: /message}",
                "does not end at",
            ),
            (
                "Problem",
                "{message: [/errors], text: /errors}",
                "`join` says what goes",
            ),
            (
                "Problem",
                "{message: [/message], join: ', ', text: /message}",
                "`join` is given",
            ),
            (
                "Problem",
                "{message: [/message], text: /when}",
                "does not end at a plain string",
            ),
            // `errors` is required: a body with only `message` would not decode.
            (
                "Problem",
                "{message: [/message], text: /message}",
                "that a body may hold alone",
            ),
            (
                "Problem",
                "{message: [/message], text: /errors}",
                "none of the `message` pointers",
            ),
            (
                "Problem",
                "{code: /code, message: [/message], text: /message}",
                "not a list",
            ),
            (
                "Either",
                "{message: [/error], text: ''}",
                "none of the `message` pointers",
            ),
            ("Either", "not a mapping", "not a mapping"),
        ] {
            let found = run(schema, extension).unwrap_err();
            assert!(found.contains(expected), "{extension}: {found}");
        }
        let mut doc: Value = serde_yaml::from_str(SCHEMAS).unwrap();
        let ty: syn::Type = syn::parse_quote!(types::Problem);
        assert!(
            error_body(&doc, "Problem", &ty)
                .unwrap_err()
                .contains("has no `x-apikeys-error`")
        );
        doc["components"]["schemas"]["Gateway"]["x-apikeys-error"] =
            serde_yaml::from_str("{message: [/message], text: /message}").unwrap();
        assert!(
            only_on(&doc, Some("Problem"))
                .unwrap_err()
                .contains("`Gateway`")
        );
        assert!(only_on(&doc, Some("Gateway")).is_ok());
    }
}
