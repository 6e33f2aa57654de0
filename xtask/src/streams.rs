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
//! A listing that is one unpaged response (Nuki's) takes `style: none` and no page
//! parameters; its `.stream()` sends one request, and with `find-by` the builder also gets
//! `.find(id)`, the item whose property equals `id` (the `get` of a vendor without one):
//!
//! ```yaml
//! x-apikeys-pagination:
//!   style: none
//!   items: data            # (optional) the field holding the items; without it the
//!                          #   response is the array
//!   find-by: apiKeyId      # (optional) a required integer or string property of the items
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
            let tokens = item_type(doc, op, paging)
                .and_then(|(name, schema)| {
                    if paging.get("style").and_then(Value::as_str) == Some("none") {
                        unpaged(id, paging, &name, schema)
                    } else {
                        stream(id, paging, item_path(&name))
                    }
                })
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

/// The items' schema, named and resolved: that of the 200 response's `items` array, or
/// of the response itself when it is the array (`style: none` without `items`).
fn item_type<'a>(
    doc: &'a Value,
    op: &'a Value,
    paging: &Value,
) -> Result<(String, &'a Value), String> {
    let schema = op
        .get("responses")
        .and_then(|r| r.get("200"))
        .and_then(|r| r.get("content"))
        .and_then(|c| c.get("application/json"))
        .and_then(|c| c.get("schema"))
        .ok_or("the operation has no JSON 200 response")?;
    let page = resolve(doc, schema);
    let unpaged = paging.get("style").and_then(Value::as_str) == Some("none");
    let (array, items) = match paging.get("items") {
        None if unpaged => (page, "the response"),
        _ => {
            let items = text(paging, "items")?;
            let array = page
                .get("properties")
                .and_then(|p| p.get(items))
                .map(|a| resolve(doc, a))
                .ok_or(format!("the response has no property `{items}`"))?;
            (array, items)
        }
    };
    let reference = array
        .get("items")
        .filter(|i| i.get("$ref").is_some())
        .ok_or(format!("`{items}` is not an array of a named schema"))?;
    let name = reference
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .ok_or(format!("`{items}` is not an array of a named schema"))?;
    Ok((name.to_string(), resolve(doc, reference)))
}

fn item_path(schema: &str) -> TokenStream {
    let name = format_ident!("{}", heck::ToUpperCamelCase::to_upper_camel_case(schema));
    quote!(super::types::#name)
}

/// `.stream()`, and `.find(id)` with `find-by`, of a listing that is one unpaged response.
fn unpaged(id: &str, paging: &Value, schema: &str, body: &Value) -> Result<TokenStream, String> {
    const KEYS: &[&str] = &["style", "items", "find-by"];
    if let Some(unknown) = paging
        .as_mapping()
        .into_iter()
        .flat_map(|map| map.keys())
        .map(crate::lint::key)
        .find(|k| !KEYS.contains(&k.as_str()))
    {
        return Err(format!(
            "`style: none` takes only {}, not `{unknown}`",
            KEYS.join(", ")
        ));
    }
    let builder = format_ident!("{}", heck::ToUpperCamelCase::to_upper_camel_case(id));
    let item = item_path(schema);
    let items = match paging.get("items") {
        Some(_) => field(text(paging, "items")?),
        None => quote!(),
    };
    let find = match paging.get("find-by") {
        None => quote!(),
        Some(by) => {
            let by = by.as_str().ok_or("`find-by` is not a property name")?;
            let property = body
                .get("properties")
                .and_then(|p| p.get(by))
                .ok_or(format!("`find-by: {by}`: `{schema}` has no such property"))?;
            let required = body
                .get("required")
                .and_then(Value::as_sequence)
                .is_some_and(|r| r.iter().any(|name| name.as_str() == Some(by)));
            if !required || property.get("nullable").and_then(Value::as_bool) == Some(true) {
                return Err(format!(
                    "`find-by: {by}`: not a required, non-null property of `{schema}`"
                ));
            }
            let text = |k: &str| property.get(k).and_then(Value::as_str);
            let ty = match (text("type"), text("format")) {
                (Some("integer"), Some("int32")) => quote!(i32),
                (Some("integer"), None | Some("int64")) => quote!(i64),
                (Some("string"), None) => quote!(&str),
                (kind, format) => {
                    return Err(format!(
                        "`find-by: {by}`: a `{}`{} cannot be compared with an id \
                         (an integer, int32 or int64, or a plain string)",
                        kind.unwrap_or("(none)"),
                        format
                            .map(|f| format!(" of format `{f}`"))
                            .unwrap_or_default()
                    ));
                }
            };
            let property = format_ident!("{}", by.to_snake_case());
            let doc = format!(
                "The `{schema}` whose `{by}` is `id`, from one `{id}` request; none is \
                 [`Error::NotFound`](::apikeys_common::Error::NotFound)."
            );
            let missing = format!("{schema} `{{id}}` (no `{by}` of `{id}` matches)");
            quote! {
                #[doc = #doc]
                pub async fn find(
                    self,
                    id: #ty,
                ) -> ::std::result::Result<#item, ::apikeys_common::Error> {
                    self.send()
                        .await?
                        #items
                        .into_iter()
                        .find(|item| item.#property == id)
                        .ok_or_else(|| ::apikeys_common::Error::NotFound(format!(#missing)))
                }
            }
        }
    };
    Ok(quote! {
        impl<'a> #builder<'a> {
            #[doc = "Streams every item of the one unpaged response, sent when the stream is first read."]
            pub fn stream(
                self,
            ) -> impl ::apikeys_common::__private::Stream<
                Item = ::std::result::Result<#item, ::apikeys_common::Error>,
            > + 'a {
                ::apikeys_common::paginate(0u32, move |page: u32| {
                    let request = self.clone();
                    async move {
                        let body = request.send().await?;
                        Ok(::apikeys_common::Page::numbered(body #items, page, false))
                    }
                })
            }

            #find
        }
    })
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
        other => return Err(format!("unknown style `{other}` (page, cursor or none)")),
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

    /// A fragment whose `list_keys` answers `response` and is paged by `paging`.
    fn unpaged_doc(paging: &str, response: &str) -> Result<String, String> {
        let doc: Value = serde_yaml::from_str(&format!(
            "paths: {{/keys: {{get: {{operationId: list_keys, x-apikeys-pagination: {paging}, \
               responses: {{'200': {{content: {{application/json: {{schema: {response}}}}}}}}}}}}}}}\n\
             components: {{schemas: {{\
               Key: {{type: object, required: [id, name, big], properties: {{\
                 id: {{type: integer, format: int32}}, name: {{type: string}}, \
                 big: {{type: integer}}, note: {{type: string}}, \
                 made: {{type: string, format: date-time}}}}}}, \
               Made: {{type: string, format: date-time}}, \
               Keys: {{type: object, properties: {{data: {{type: array, \
                 items: {{$ref: '#/components/schemas/Key'}}}}}}}}}}}}"
        ))
        .unwrap();
        streams(&doc).map(|items| items.iter().map(|item| quote!(#item).to_string()).collect())
    }

    const ARRAY: &str = "{type: array, items: {$ref: '#/components/schemas/Key'}}";

    // issue 23, part 2: a key listing that is one unpaged array, with `get` by scanning it.
    #[test]
    fn an_unpaged_listing_streams_one_response_and_finds_by_scanning() {
        let code = unpaged_doc("{style: none, find-by: id}", ARRAY).unwrap();
        let has = |text: &str| assert!(code.contains(text), "{text} in {code}");
        has("impl < 'a > ListKeys < 'a >");
        has("Result < super :: types :: Key , :: apikeys_common :: Error >");
        has(":: apikeys_common :: Page :: numbered (body , page , false)");
        has("pub async fn find (self , id : i32 ,)");
        has("self . send () . await ? . into_iter () . find (| item | item . id == id)");
        has("\"Key `{id}` (no `id` of `list_keys` matches)\"");
        // Items in a field of the response, found by a string or an int64.
        let code = unpaged_doc(
            "{style: none, items: data, find-by: name}",
            "{$ref: '#/components/schemas/Keys'}",
        )
        .unwrap();
        assert!(
            code.contains("Page :: numbered (body . data , page , false)"),
            "{code}"
        );
        assert!(code.contains("find (self , id : & str ,)"), "{code}");
        assert!(code.contains("await ? . data . into_iter ()"), "{code}");
        let code = unpaged_doc("{style: none, find-by: big}", ARRAY).unwrap();
        assert!(code.contains("find (self , id : i64 ,)"), "{code}");
        // Without `find-by`, no `find`.
        let code = unpaged_doc("{style: none}", ARRAY).unwrap();
        assert!(
            code.contains("pub fn stream") && !code.contains("fn find"),
            "{code}"
        );
    }

    #[test]
    fn what_an_unpaged_listing_cannot_do_is_refused() {
        for (paging, response, why) in [
            (
                "{style: none, size: perPage}",
                ARRAY,
                "`style: none` takes only style, items, find-by, not `size`",
            ),
            (
                "{style: none, find-by: nope}",
                ARRAY,
                "`find-by: nope`: `Key` has no such property",
            ),
            (
                "{style: none, find-by: note}",
                ARRAY,
                "`find-by: note`: not a required, non-null property of `Key`",
            ),
            (
                "{style: none, find-by: [id]}",
                ARRAY,
                "`find-by` is not a property name",
            ),
            (
                "{style: none}",
                "{$ref: '#/components/schemas/Keys'}",
                "`the response` is not an array of a named schema",
            ),
            (
                "{style: none, items: data}",
                ARRAY,
                "the response has no property `data`",
            ),
            (
                "{style: none}",
                "{type: array, items: {type: string}}",
                "`the response` is not an array of a named schema",
            ),
            ("{style: pages}", ARRAY, "`items` is missing"),
        ] {
            assert_eq!(
                unpaged_doc(paging, response),
                Err(format!("x-apikeys-pagination of `list_keys`: {why}")),
                "{paging}"
            );
        }
    }

    #[test]
    fn a_find_by_that_cannot_equal_an_id_is_refused() {
        let doc = |key: &str| {
            unpaged_doc(&format!("{{style: none, find-by: {key}}}"), ARRAY).unwrap_err()
        };
        // `made` is not required: refused for that first; a required date is refused for its type.
        assert!(doc("made").contains("not a required"));
        let doc: Value = serde_yaml::from_str(
            "{type: object, required: [made], properties: {made: {type: string, format: date-time}}}",
        )
        .unwrap();
        let paging: Value = serde_yaml::from_str("{style: none, find-by: made}").unwrap();
        assert_eq!(
            unpaged("list_keys", &paging, "Key", &doc).map(|t| t.to_string()),
            Err(
                "`find-by: made`: a `string` of format `date-time` cannot be compared with an \
                 id (an integer, int32 or int64, or a plain string)"
                    .to_string()
            )
        );
    }
}
