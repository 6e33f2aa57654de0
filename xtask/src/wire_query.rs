//! Queries written in OData's wire form by the generated code, for a fragment that says
//! `x-apikeys-query: odata-wire` at its top (every query parameter an OData `$…` option,
//! which the server's URL parser reads raw: `$select=id,name`, not form-encoded
//! `%24select=id%2Cname`).
//!
//! Each `exchange` then appends its optional query parameters to the URL string with
//! `apikeys_common::odata::wire_url` instead of progenitor's `.query(..)`, so nothing is
//! form-encoded and decoded again in a request hook. An operation that lists rows holding
//! secrets says which, and which schema's fields make the default `$select`:
//!
//! ```yaml
//! x-apikeys-query: odata-wire
//! paths:
//!   /v7/api_key:
//!     get:
//!       operationId: get_api_keys
//!       # `$select`/`$expand` naming `key` or `*` is refused; no `$select` sends ApiKey's fields
//!       x-apikeys-secret-select: {secrets: [key], fields: ApiKey}
//! ```

use std::collections::BTreeMap;

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use serde_yaml::Value;

use crate::lint::key;

const QUERY: &str = "x-apikeys-query";
const SECRET_SELECT: &str = "x-apikeys-secret-select";

/// Whether the fragment asks for wire-form queries.
fn wanted(doc: &Value) -> Result<bool, String> {
    match doc.get(QUERY) {
        None => Ok(false),
        Some(Value::String(form)) if form == "odata-wire" => Ok(true),
        Some(_) => Err(format!("`{QUERY}`: only `odata-wire` is known")),
    }
}

/// Builder name -> the `SecretRule` its `exchange` applies.
fn secret_rules(doc: &Value) -> Result<BTreeMap<String, TokenStream>, String> {
    let mut out = BTreeMap::new();
    for (id, _, rule) in crate::lint::operations_with(doc, SECRET_SELECT)? {
        let at = format!("{SECRET_SELECT} of `{id}`");
        let secrets: Vec<&str> = rule
            .get("secrets")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if secrets.is_empty() {
            return Err(format!("{at}: `secrets` names no column"));
        }
        let schema = rule
            .get("fields")
            .and_then(Value::as_str)
            .ok_or(format!("{at}: `fields` names no schema"))?;
        let row = doc
            .get("components")
            .and_then(|c| c.get("schemas"))
            .and_then(|s| s.get(schema))
            .ok_or(format!("{at}: no schema `{schema}`"))?;
        // The same list as the schema's field enum's `ALL`.
        if row.get("x-apikeys-fields").is_none() {
            return Err(format!(
                "{at}: `{schema}` has no `x-apikeys-fields`, so its default `$select` would \
                 name fields the crate cannot"
            ));
        }
        let fields: Vec<String> = row
            .get("properties")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .map(|(name, _)| key(name))
            .collect();
        if let Some(secret) = secrets.iter().find(|s| fields.contains(&s.to_string())) {
            return Err(format!("{at}: `{schema}` reads the secret `{secret}`"));
        }
        let default = fields.join(",");
        out.insert(
            id.to_upper_camel_case(),
            quote!(::core::option::Option::Some(
                ::apikeys_common::odata::SecretRule::new(&[#(#secrets),*], #default)
            )),
        );
    }
    Ok(out)
}

/// Rewrites every `exchange` of the `builder` module when the fragment asks for it.
pub fn rewrite(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let mut rules = secret_rules(doc)?;
    if !wanted(doc)? {
        return match rules.keys().next() {
            Some(id) => Err(format!(
                "`{SECRET_SELECT}` on `{id}` needs `{QUERY}: odata-wire`"
            )),
            None => Ok(()),
        };
    }
    let items = crate::codegen::module_items(file, "builder")?;
    for item in items.iter_mut() {
        let syn::Item::Impl(imp) = item else {
            continue;
        };
        let self_ty = &imp.self_ty;
        let owner = quote!(#self_ty).to_string();
        let owner = owner.split(' ').next().unwrap_or_default().to_string();
        for member in &mut imp.items {
            let syn::ImplItem::Fn(function) = member else {
                continue;
            };
            if function.sig.ident != "exchange" {
                continue;
            }
            let rule = rules.remove(&owner);
            exchange(function, rule).map_err(|why| format!("`{owner}::exchange`: {why}"))?;
        }
    }
    if let Some(id) = rules.keys().next() {
        return Err(format!(
            "`{SECRET_SELECT}`: no builder `{id}` to apply it to"
        ));
    }
    // No `.query_some(..)` is left to use it.
    items.retain(|item| {
        !matches!(item, syn::Item::Use(u)
            if quote!(#u).to_string().contains("QuerySome"))
    });
    Ok(())
}

/// Moves the `.query_some(..)` calls of one `exchange` into its `let url = …`.
fn exchange(function: &mut syn::ImplItemFn, rule: Option<TokenStream>) -> Result<(), String> {
    let mut take = TakeQuery::default();
    syn::visit_mut::VisitMut::visit_block_mut(&mut take, &mut function.block);
    let text = function.block.to_token_stream().to_string();
    if text.contains(". query (") {
        return Err("a query parameter is not optional; wire form handles optional ones".into());
    }
    if take.pairs.is_empty() {
        return match rule {
            Some(_) => Err(format!("`{SECRET_SELECT}` on an operation without a query")),
            None => Ok(()),
        };
    }
    let rule = rule.unwrap_or_else(|| quote!(::core::option::Option::None));
    let pairs = take
        .pairs
        .iter()
        .map(|(name, value)| quote!((#name, ::apikeys_common::odata::wire_value(#value))));
    let mut done = false;
    for stmt in &mut function.block.stmts {
        let syn::Stmt::Local(local) = stmt else {
            continue;
        };
        let syn::Pat::Ident(pat) = &local.pat else {
            continue;
        };
        let Some(init) = local.init.as_mut().filter(|_| pat.ident == "url") else {
            continue;
        };
        // The base goes in as `format_args!`: `wire_url` writes it into the one string it
        // allocates for the whole URL.
        let mut base = (*init.expr).clone();
        match &mut base {
            syn::Expr::Macro(m) if m.mac.path.is_ident("format") => {
                m.mac.path = syn::parse_quote!(format_args);
            }
            _ => return Err("the URL is not a `format!(..)` (a new progenitor?)".into()),
        }
        *init.expr = syn::parse_quote!(
            ::apikeys_common::odata::wire_url(#base, &[#(#pairs),*], #rule)
                .map_err(Error::InvalidRequest)?
        );
        done = true;
        break;
    }
    if !done {
        return Err("no `let url = …` (a new progenitor?)".into());
    }
    Ok(())
}

/// Takes each `.query_some(name, &field)` out of its call chain.
#[derive(Default)]
struct TakeQuery {
    pairs: Vec<(syn::Expr, syn::Expr)>,
}

impl syn::visit_mut::VisitMut for TakeQuery {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        let syn::Expr::MethodCall(call) = expr else {
            return;
        };
        if call.method != "query_some" || call.args.len() != 2 {
            return;
        }
        let (Some(name), Some(value)) = (call.args.first(), call.args.last()) else {
            return;
        };
        self.pairs.push((name.clone(), value.clone()));
        *expr = (*call.receiver).clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{x-apikeys-query: odata-wire, paths: {/rows: {get: {operationId: get_rows, \
        x-apikeys-secret-select: {secrets: [key], fields: Row}}}}, \
        components: {schemas: {Row: {x-apikeys-fields: RowField, \
        properties: {id: {type: integer}, name: {type: string}}}}}}";

    const CODE: &str = "pub mod builder { \
        use ::apikeys_common::__private::QuerySome as _; \
        impl<'a> GetRows<'a> { async fn exchange(self) -> R { \
            let url = format!(\"{}/rows\", client.baseurl,); \
            let mut request = client.client.get(url).header(A, B) \
                .query_some(\"$select\", &select).query_some(\"$top\", &top).build()?; \
            request } } }";

    fn run(doc: &str, code: &str) -> Result<String, String> {
        let doc: Value = serde_yaml::from_str(doc).unwrap();
        let mut file: syn::File = syn::parse_str(code).unwrap();
        rewrite(&mut file, &doc).map(|()| file.to_token_stream().to_string())
    }

    #[test]
    fn the_query_goes_into_the_url_with_the_secret_rule() {
        let code = run(DOC, CODE).unwrap();
        assert!(
            !code.contains("query_some") && !code.contains("QuerySome"),
            "{code}"
        );
        assert!(
            code.contains("get (url) . header (A , B) . build ()"),
            "{code}"
        );
        assert!(
            code.contains(
                "let url = :: apikeys_common :: odata :: wire_url (format_args ! (\"{}/rows\" , \
                 client . baseurl ,) , & [(\"$select\" , :: apikeys_common :: odata :: \
                 wire_value (& select)) , (\"$top\" , :: apikeys_common :: odata :: \
                 wire_value (& top))] , :: core :: option :: Option :: Some (:: \
                 apikeys_common :: odata :: SecretRule :: new (& [\"key\"] , \"id,name\"))) \
                 . map_err (Error :: InvalidRequest) ? ;"
            ),
            "{code}"
        );
    }

    #[test]
    fn without_the_switch_nothing_changes_and_a_rule_is_refused() {
        let plain = "{paths: {/rows: {get: {operationId: get_rows}}}}";
        let code = run(plain, CODE).unwrap();
        assert!(code.contains("query_some (\"$top\" , & top)"), "{code}");
        let found = run(&DOC.replace("x-apikeys-query: odata-wire, ", ""), CODE).unwrap_err();
        assert!(
            found.contains("needs `x-apikeys-query: odata-wire`"),
            "{found}"
        );
        let found = run(&DOC.replace("odata-wire", "form"), CODE).unwrap_err();
        assert!(found.contains("only `odata-wire`"), "{found}");
    }

    #[test]
    fn a_rule_that_cannot_hold_is_refused() {
        let found = run(&DOC.replace("name: {type", "key: {type"), CODE).unwrap_err();
        assert!(found.contains("`Row` reads the secret `key`"), "{found}");
        let found = run(&DOC.replace("x-apikeys-fields: RowField, ", ""), CODE).unwrap_err();
        assert!(found.contains("has no `x-apikeys-fields`"), "{found}");
        let found = run(&DOC.replace("[key]", "[]"), CODE).unwrap_err();
        assert!(found.contains("names no column"), "{found}");
        let required = CODE.replace(
            ".query_some(\"$top\", &top)",
            ".query(&progenitor_client::QueryParam::new(\"$top\", &top))",
        );
        let found = run(DOC, &required).unwrap_err();
        assert!(found.contains("not optional"), "{found}");
    }
}
