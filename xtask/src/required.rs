//! Required values of the generated builders. progenitor starts each one as
//! `Err("x was not initialized")` and `send` reports the first such error in field order, so
//! a listing without `.page(0)` fails, and a bound broken by a later setter is hidden. Here:
//! - a paged operation's page number starts at the first page (`x-apikeys-pagination`);
//! - any other unset value says which setter to call;
//! - `send` reports every unset or refused value at once, so no check hides another.

use std::collections::BTreeMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use quote::quote;
use serde_yaml::Value;

/// What progenitor's message ends with, and what `apikeys_common::paging::page_size` reads
/// to tell an unset size from a refused one.
const UNSET: &str = "is required: call";

pub fn rewrite(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let first_pages = first_pages(doc);
    let items = crate::codegen::module_items(file, "builder")?;
    for item in items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let self_ty = &block.self_ty;
        let builder = quote!(#self_ty).to_string();
        let builder = builder.split(' ').next().unwrap_or_default().to_string();
        let id = builder.to_snake_case();
        for member in &mut block.items {
            let syn::ImplItem::Fn(method) = member else {
                continue;
            };
            if method.sig.ident == "new" {
                let mut visit = Unset {
                    id: &id,
                    first_page: first_pages.get(&builder),
                };
                syn::visit_mut::VisitMut::visit_impl_item_fn_mut(&mut visit, method);
            } else {
                check_all_at_once(&mut method.block);
            }
        }
    }
    Ok(())
}

/// Each paged operation's builder, its page parameter's field and its first page's number.
fn first_pages(doc: &Value) -> BTreeMap<String, (String, u64)> {
    let mut found = BTreeMap::new();
    let paths = doc.get("paths").and_then(Value::as_mapping);
    for (_, item) in paths.into_iter().flatten() {
        for (_, op) in item.as_mapping().into_iter().flatten() {
            let Some(paging) = op.get("x-apikeys-pagination") else {
                continue;
            };
            let (Some(id), Some(page)) = (
                op.get("operationId").and_then(Value::as_str),
                paging.get("page").and_then(Value::as_str),
            ) else {
                continue;
            };
            let start = paging.get("start").and_then(Value::as_u64).unwrap_or(0);
            found.insert(id.to_upper_camel_case(), (page.to_snake_case(), start));
        }
    }
    found
}

/// Rewrites `field: Err("field was not initialized".to_string())` in a builder's `new`.
struct Unset<'a> {
    id: &'a str,
    first_page: Option<&'a (String, u64)>,
}

impl syn::visit_mut::VisitMut for Unset<'_> {
    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        let syn::Member::Named(name) = &field.member else {
            return;
        };
        let name = name.to_string();
        let expr = &field.expr;
        if !quote!(#expr)
            .to_string()
            .contains(&format!("\"{name} was not initialized\""))
        {
            return;
        }
        field.expr = match self.first_page {
            Some((page, start)) if *page == name => {
                let start = proc_macro2::Literal::u64_unsuffixed(*start);
                syn::parse_quote!(Ok(#start))
            }
            _ => {
                let message = format!("{}: `{name}` {UNSET} `.{name}(..)` first", self.id);
                syn::parse_quote!(Err(#message.to_string()))
            }
        };
    }
}

/// Before the first of two or more `let x = x.map_err(Error::InvalidRequest)?;`, a check
/// that reports every field in error at once.
fn check_all_at_once(block: &mut syn::Block) {
    let mut fields = Vec::new();
    let mut first = None;
    for (at, stmt) in block.stmts.iter().enumerate() {
        if let Some(field) = unwrapped_field(stmt) {
            first.get_or_insert(at);
            fields.push(field);
        }
    }
    let (Some(at), true) = (first, fields.len() > 1) else {
        return;
    };
    let check: syn::Stmt = syn::parse_quote! {
        {
            let problems: ::std::vec::Vec<&str> = [#(#fields.as_ref().err()),*]
                .into_iter()
                .flatten()
                .map(::std::string::String::as_str)
                .collect();
            if !problems.is_empty() {
                return Err(Error::InvalidRequest(problems.join("; ")));
            }
        }
    };
    block.stmts.insert(at, check);
}

/// `x` of `let x = x.map_err(Error::InvalidRequest)?;`.
fn unwrapped_field(stmt: &syn::Stmt) -> Option<syn::Ident> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Pat::Ident(bound) = &local.pat else {
        return None;
    };
    let init = local.init.as_ref()?;
    let name = &bound.ident;
    let expr = &init.expr;
    let expected = quote!(#name.map_err(Error::InvalidRequest)?).to_string();
    (quote!(#expr).to_string() == expected).then(|| name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(paging: &str) -> String {
        let doc: Value = serde_yaml::from_str(&format!(
            "paths: {{/keys: {{get: {{operationId: list_keys, x-apikeys-pagination: {paging}}}}}}}"
        ))
        .unwrap();
        let mut file: syn::File = syn::parse_quote! {
            pub mod builder {
                impl<'a> ListKeys<'a> {
                    pub fn new(client: &'a super::Client) -> Self {
                        Self {
                            client: client,
                            user_id: Err("user_id was not initialized".to_string()),
                            page: Err("page was not initialized".to_string()),
                            size: Ok(None),
                        }
                    }
                    async fn exchange(self) -> Result<(), Error<()>> {
                        let Self { client, user_id, page, size } = self;
                        let user_id = user_id.map_err(Error::InvalidRequest)?;
                        let page = page.map_err(Error::InvalidRequest)?;
                        let size = size.map_err(Error::InvalidRequest)?;
                        Ok(())
                    }
                }
            }
        };
        rewrite(&mut file, &doc).unwrap();
        quote!(#file).to_string()
    }

    // issue 25, point 4: the page starts at the first page; other values name their setter.
    #[test]
    fn the_first_page_is_the_default_and_unset_values_name_their_setter() {
        let from_one = rewritten("{style: page, page: page, start: 1}");
        assert!(from_one.contains("page : Ok (1)"), "{from_one}");
        assert!(
            from_one.contains("\"list_keys: `user_id` is required: call `.user_id(..)` first\""),
            "{from_one}"
        );
        assert!(!from_one.contains("was not initialized"), "{from_one}");
        assert!(rewritten("{style: page, page: page}").contains("page : Ok (0)"));
        let cursor = rewritten("{style: cursor, cursor: cursor}");
        assert!(cursor.contains("`page` is required"), "{cursor}");
    }

    // issue 25, point 4: every field is checked before the first is unwrapped.
    #[test]
    fn send_reports_every_unset_or_refused_value() {
        let shown = rewritten("{style: page, page: page}");
        let check = shown.find("let problems").unwrap();
        assert!(
            check < shown.find("let user_id = user_id").unwrap(),
            "{shown}"
        );
        assert!(
            shown.contains("[user_id . as_ref () . err () , page . as_ref () . err () , size . as_ref () . err ()]"),
            "{shown}"
        );
    }
}
