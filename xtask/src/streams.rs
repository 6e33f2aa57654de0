//! `.stream()` on every paged list operation, from its `x-apikeys-pagination` extension, so
//! that every crate streams with one behaviour: the caller's filters and page size are kept
//! (an unset size becomes `default-size`), the stream starts at the first page whatever page
//! or cursor the builder holds, and it yields the items of the response's `items` field.
//!
//! ```yaml
//! x-apikeys-pagination:
//!   style: page            # numbered pages, or `cursor`
//!   page: page             # (page) the page-number parameter
//!   start: 1               # (page, optional) the first page's number: 0 (the default) or 1
//!   cursor: cursor         # (cursor) the cursor parameter
//!   size: pageSize         # the page-size parameter
//!   default-size: 1000     # asked for when the caller sets no size
//!   items: data            # the response field holding the page's items
//!   has-next: hasNext      # (page, optional) a boolean: another page follows; without it, a
//!                          #   page shorter than the size is the last
//!   total-pages: totalPages  # (page, optional) the server's count of pages
//!   total-items: size      # (page, optional) a count of items, trusted when above the page's
//!   next-link: links.next  # (cursor) the field holding the next page's link
//! ```
//!
//! The methods go into the generated `builder` module, where the builders' private fields
//! are visible, so the stream reads the caller's page size instead of overriding it.

use heck::ToSnakeCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::lint::resolve;

/// Every `.stream()` the fragment asks for.
pub fn streams(doc: &Value) -> Result<Vec<syn::Item>, String> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_mapping) else {
        return Ok(out);
    };
    for (_, item) in paths {
        let Some(item) = item.as_mapping() else {
            continue;
        };
        for (_, op) in item {
            let Some(paging) = op.get("x-apikeys-pagination") else {
                continue;
            };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or("a paged operation has no operationId")?;
            let item_type = item_type(doc, op, paging)
                .map_err(|why| format!("x-apikeys-pagination of `{id}`: {why}"))?;
            let tokens = stream(id, paging, item_type)
                .map_err(|why| format!("x-apikeys-pagination of `{id}`: {why}"))?;
            let item = syn::parse2(tokens)
                .map_err(|e| format!("the `.stream()` of `{id}` does not parse: {e}"))?;
            out.push(item);
        }
    }
    Ok(out)
}

fn text<'a>(paging: &'a Value, key: &str) -> Result<&'a str, String> {
    paging
        .get(key)
        .and_then(Value::as_str)
        .ok_or(format!("`{key}` is missing"))
}

fn field(path: &str) -> TokenStream {
    let parts = path
        .split('.')
        .map(|part| format_ident!("{}", part.to_snake_case()));
    quote!(#(.#parts)*)
}

/// The Rust type of the items: `types::<Schema>` of the 200 response's `items` array.
fn item_type(doc: &Value, op: &Value, paging: &Value) -> Result<TokenStream, String> {
    let items = text(paging, "items")?;
    let schema = op
        .get("responses")
        .and_then(|r| r.get("200"))
        .and_then(|r| r.get("content"))
        .and_then(|c| c.get("application/json"))
        .and_then(|c| c.get("schema"))
        .ok_or("the operation has no JSON 200 response")?;
    let page = resolve(doc, schema);
    let array = page
        .get("properties")
        .and_then(|p| p.get(items))
        .map(|a| resolve(doc, a))
        .ok_or(format!("the response has no property `{items}`"))?;
    let item = array
        .get("items")
        .and_then(|i| i.get("$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .ok_or(format!("`{items}` is not an array of a named schema"))?;
    let name = format_ident!("{}", heck::ToUpperCamelCase::to_upper_camel_case(item));
    Ok(quote!(super::types::#name))
}

fn stream(id: &str, paging: &Value, item: TokenStream) -> Result<TokenStream, String> {
    let builder = format_ident!("{}", heck::ToUpperCamelCase::to_upper_camel_case(id));
    let size = format_ident!("{}", text(paging, "size")?.to_snake_case());
    let default = paging
        .get("default-size")
        .and_then(Value::as_u64)
        .ok_or("`default-size` is missing")?;
    let items = field(text(paging, "items")?);
    let style = text(paging, "style")?;
    let first_page = match paging.get("start") {
        None => 0u32,
        Some(_) if style != "page" => return Err("`start` is for `style: page` only".into()),
        Some(start) => match start.as_u64() {
            Some(0) => 0,
            Some(1) => 1,
            _ => return Err("`start` is the first page's number: 0 or 1".into()),
        },
    };
    // The totals count pages from 0: a page's index is its number less the first's.
    let index = match first_page {
        0 => quote!(page),
        first => quote!(page.saturating_sub(#first)),
    };
    let (first, fetch, start) = match style {
        "page" => {
            let page = format_ident!("{}", text(paging, "page")?.to_snake_case());
            let mut made = match paging.get("has-next").and_then(Value::as_str) {
                Some(has_next) => {
                    let has_next = field(has_next);
                    quote!(::apikeys_common::Page::numbered(body #items, page, body #has_next))
                }
                None => quote! {{
                    let items = body #items;
                    let full = u64::try_from(items.len()).is_ok_and(|n| n >= size);
                    ::apikeys_common::Page::numbered(items, page, full)
                }},
            };
            if let Some(total) = paging.get("total-pages").and_then(Value::as_str) {
                let total = field(total);
                made = quote! {{
                    let total = ::apikeys_common::paging::Count::count(&body #total);
                    let made = #made;
                    match total {
                        Some(total) => made.with_total_pages(#index, total),
                        None => made,
                    }
                }};
            }
            if let Some(total) = paging.get("total-items").and_then(Value::as_str) {
                let total = field(total);
                made = quote! {{
                    let total = ::apikeys_common::paging::Count::count(&body #total);
                    (#made).with_total_items(#index, size, total)
                }};
            }
            (
                quote!(#first_page),
                quote! {
                    move |page: u32| {
                        let request = request.clone().#page(page);
                        async move {
                            let body = request.send().await?;
                            Ok(#made)
                        }
                    }
                },
                quote!(),
            )
        }
        "cursor" => {
            let cursor = format_ident!("{}", text(paging, "cursor")?.to_snake_case());
            let param = text(paging, "cursor")?;
            let link = field(text(paging, "next-link")?);
            (
                quote!(::std::string::String::new()),
                quote! {
                    move |cursor: ::std::string::String| {
                        // The empty cursor stands for the first page: no server sends one.
                        let request = if cursor.is_empty() {
                            request.clone()
                        } else {
                            request.clone().#cursor(cursor)
                        };
                        async move {
                            let body = request.send().await?;
                            let next = ::apikeys_common::paging::cursor_from_link(
                                body #link.as_deref(),
                                #param,
                            )?;
                            Ok(::apikeys_common::Page::cursor(body #items, next))
                        }
                    }
                },
                quote!(request.#cursor = Ok(None);),
            )
        }
        other => return Err(format!("unknown style `{other}` (page or cursor)")),
    };
    let doc = format!(
        "Streams every item of every page, fetching a page only as the stream is read.\n\n\
         It sends the filters and the page size set on this builder with every page (a size \
         left unset is {default}), starts at the first page whatever page or cursor is set \
         here, and ends with [`Error::Pagination`](::apikeys_common::Error::Pagination) when \
         the server's pages do not advance or run past its own count. The stream is boxed \
         (`Unpin`): `try_next()` reads it without `pin!`."
    );
    Ok(quote! {
        impl<'a> #builder<'a> {
            #[doc = #doc]
            pub fn stream(
                self,
            ) -> impl ::apikeys_common::__private::Stream<
                Item = ::std::result::Result<#item, ::apikeys_common::Error>,
            > + ::std::marker::Unpin + 'a {
                let mut request = self;
                #start
                #[allow(unused_variables)]
                let size = ::apikeys_common::paging::page_size(&mut request.#size, #default);
                ::apikeys_common::paginate(#first, #fetch)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(paging: &str) -> Result<String, String> {
        let paging: Value = serde_yaml::from_str(paging).unwrap();
        stream("list_keys", &paging, quote!(super::types::Key)).map(|t| t.to_string())
    }

    // issue 23, part 2: numbered pages that start at 1.
    #[test]
    fn pages_may_be_numbered_from_one() {
        let base = "{style: page, page: page, size: size, default-size: 50, items: data, \
                    total-pages: pages, total-items: count";
        let from_zero = generated(&format!("{base}}}")).unwrap();
        assert!(from_zero.contains("paginate (0u32"), "{from_zero}");
        assert!(from_zero.contains("with_total_pages (page , total)"));
        let from_one = generated(&format!("{base}, start: 1}}")).unwrap();
        assert!(from_one.contains("paginate (1u32"), "{from_one}");
        assert!(from_one.contains("with_total_pages (page . saturating_sub (1u32) , total)"));
        assert!(from_one.contains("with_total_items (page . saturating_sub (1u32) , size"));
        assert_eq!(generated(&format!("{base}, start: 0}}")), Ok(from_zero));
    }

    #[test]
    fn a_start_other_than_zero_or_one_or_on_cursors_is_refused() {
        for (paging, why) in [
            (
                "{style: page, page: p, size: s, default-size: 5, items: d, start: 2}",
                "`start` is the first page's number: 0 or 1",
            ),
            (
                "{style: page, page: p, size: s, default-size: 5, items: d, start: one}",
                "`start` is the first page's number: 0 or 1",
            ),
            (
                "{style: cursor, cursor: c, size: s, default-size: 5, items: d, \
                 next-link: next, start: 1}",
                "`start` is for `style: page` only",
            ),
        ] {
            assert_eq!(generated(paging), Err(why.to_string()), "{paging}");
        }
    }
}
