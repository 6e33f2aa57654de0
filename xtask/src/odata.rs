//! `.odata(&options)` on every operation that carries `x-apikeys-odata: true`: it hands each
//! option an `apikeys_common::odata::ODataOptions` sets to the builder's parameter of the same
//! name, so that a crate sends typed OData options without naming the six parameters again.
//!
//! ```yaml
//! get: {operationId: get_api_keys, x-apikeys-odata: true,
//!       parameters: [$orderby, $select, $expand, $top, $skip, $filter]}   # all six
//! ```
//!
//! The operation must take all six query options (`$orderby`, `$select`, `$expand`, `$top`,
//! `$skip`, `$filter`): an option it could not send would otherwise be dropped unseen.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::lint::{operations_with, resolve};

const EXTENSION: &str = "x-apikeys-odata";

/// The options, by their parameter and builder-method names, in the order they are set.
const OPTIONS: [&str; 6] = ["orderby", "select", "expand", "top", "skip", "filter"];

/// Every `.odata(..)` the fragment asks for, for the generated `builder` module.
pub fn odata(doc: &Value) -> Result<Vec<TokenStream>, String> {
    let mut out = Vec::new();
    for (id, op, wanted) in operations_with(doc, EXTENSION)? {
        let at = format!("{EXTENSION} of `{id}`");
        match wanted {
            Value::Bool(true) => {}
            Value::Bool(false) => continue,
            _ => return Err(format!("{at}: not `true` or `false`")),
        }
        let query: Vec<&str> = op
            .get("parameters")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .map(|p| resolve(doc, p))
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .collect();
        if let Some(missing) = OPTIONS
            .iter()
            .find(|o| !query.contains(&format!("${o}").as_str()))
        {
            return Err(format!(
                "{at}: the operation takes no `${missing}` query parameter, so options that set \
                 it would be dropped"
            ));
        }
        out.push(method(id));
    }
    Ok(out)
}

fn method(id: &str) -> TokenStream {
    let builder = format_ident!("{}", id.to_upper_camel_case());
    let options = OPTIONS.map(|o| format_ident!("{o}"));
    quote! {
        impl<'a> #builder<'a> {
            /// Sets each query option that `options` sets (`$orderby`, `$select`, `$expand`,
            /// `$top`, `$skip`, `$filter`), as OData text; the others stay as they are.
            pub fn odata(self, options: &::apikeys_common::odata::ODataOptions) -> Self {
                let rendered = options.rendered();
                let mut request = self;
                #(
                    if let Some(value) = rendered.#options {
                        request = request.#options(value);
                    }
                )*
                request
            }
        }
    }
}

/// Puts each `.odata(..)` into the generated `builder` module, beside its builder.
pub fn add(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    crate::codegen::add_to_module(file, "builder", odata(doc)?, "an `.odata(..)`")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &str = "[{name: $orderby, in: query}, {name: $select, in: query}, \
                       {name: $expand, in: query}, {name: $top, in: query}, \
                       {$ref: '#/components/parameters/Skip'}, {name: $filter, in: query}]";

    fn run(wanted: &str, parameters: &str) -> Result<String, String> {
        let doc: Value = serde_yaml::from_str(&format!(
            "{{paths: {{/rows: {{get: {{operationId: get_rows, x-apikeys-odata: {wanted}, \
             parameters: {parameters}}}}}}}, \
             components: {{parameters: {{Skip: {{name: $skip, in: query}}}}}}}}"
        ))
        .unwrap();
        odata(&doc).map(|items| items.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn each_option_goes_to_its_parameter() {
        let code = run("true", ALL).unwrap();
        assert!(code.contains("impl < 'a > GetRows < 'a >"), "{code}");
        assert!(
            code.contains("pub fn odata (self , options : & :: apikeys_common :: odata :: ODataOptions) -> Self"),
            "{code}"
        );
        for option in OPTIONS {
            let set = format!(
                "if let Some (value) = rendered . {option} {{ request = request . {option} (value) ; }}"
            );
            assert!(code.contains(&set), "{set} in {code}");
        }
        assert_eq!(run("false", ALL).unwrap(), "");
    }

    #[test]
    fn an_operation_that_would_drop_an_option_is_refused() {
        let without_skip = ALL.replace("{$ref: '#/components/parameters/Skip'}, ", "");
        let found = run("true", &without_skip).unwrap_err();
        assert!(
            found.contains("x-apikeys-odata of `get_rows`: the operation takes no `$skip`"),
            "{found}"
        );
        let in_path = ALL.replace("{name: $top, in: query}", "{name: $top, in: path}");
        assert!(run("true", &in_path).unwrap_err().contains("no `$top`"));
        let found = run("yes", ALL).unwrap_err();
        assert!(found.contains("not `true` or `false`"), "{found}");
    }
}
