//! Fragment → progenitor → formatted `generated.rs`, byte for byte the same on every run.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TypeImpl};
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::constraints;
use crate::lint::{self, Facts, OpenEnum};
use crate::required;
use crate::vendors::Vendor;
use crate::{error_body, fields, key_info, odata, patch, streams, surface, wire_query};

/// The generated source for `vendor`, read from its fragment under `root`.
pub fn generate(root: &Path, vendor: &Vendor) -> Result<String, String> {
    let fragment = vendor.fragment();
    let doc = vendor.load_fragment(root)?;
    let facts = lint::lint(vendor, &doc).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        format!("{fragment} fails the lint:\n{}", list.join("\n"))
    })?;

    let bounds = constraints::collect(&doc).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        format!(
            "{fragment} has bounds a client cannot check:\n{}",
            list.join("\n")
        )
    })?;

    let doc = with_examples(vendor, doc);
    let tokens = progenitor(vendor, &facts, &doc).map_err(|why| format!("{fragment}: {why}"))?;

    let mut file: syn::File = syn::parse2(tokens)
        .map_err(|e| format!("{fragment}: generated code does not parse: {e}"))?;
    add_open_enums(&mut file, &facts.open_enums)?;
    add_fields(&mut file, &doc).map_err(|why| format!("{fragment}: {why}"))?;
    patch::add(&mut file, &doc, vendor.replacements).map_err(|why| format!("{fragment}: {why}"))?;
    key_info::add(&mut file, &doc).map_err(|why| format!("{fragment}: {why}"))?;
    use_our_encode_path(&mut file.items);
    keep_progenitor_private(&mut file.items);
    syn::visit_mut::VisitMut::visit_file_mut(&mut WithoutApiVersion, &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(&mut WithoutEmptyHeaders, &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(&mut TextInUtf8, &mut file);
    syn::visit_mut::VisitMut::visit_file_mut(&mut OneError, &mut file);
    keep_typed_bodies(&mut file).map_err(|why| format!("{fragment}: {why}"))?;
    skip_absent_query_parameters(&mut file);
    wire_query::rewrite(&mut file, &doc).map_err(|why| format!("{fragment}: {why}"))?;
    let mut lean = LeanSuccess::default();
    syn::visit_mut::VisitMut::visit_file_mut(&mut lean, &mut file);
    let mut typed = TypedBodyCheck {
        bounded: bounds
            .iter()
            .filter(|(_, rows)| {
                rows.iter()
                    .any(|b| matches!(b.location, "Body" | "Property"))
            })
            .map(|(id, _)| id.clone())
            .collect(),
        checked: Default::default(),
    };
    syn::visit_mut::VisitMut::visit_file_mut(&mut typed, &mut file);
    for id in &typed.bounded {
        if !typed.checked.contains(id) {
            return Err(format!(
                "{fragment}: `{id}` has body bounds, but its generated `exchange` has no \
                 typed body to check them on: teach xtask/src/codegen.rs `TypedBodyCheck`"
            ));
        }
    }
    constraints::name_bounds_in_setters(&mut file, &bounds);
    required::rewrite(&mut file, &doc).map_err(|why| format!("{fragment}: {why}"))?;
    // The error schema may be swapped for a hand-written type like any other, which then
    // implements `ErrorBody` itself.
    let error_type: syn::Type = match vendor
        .replacements
        .iter()
        .find(|(name, _)| *name == facts.error_schema)
    {
        Some((_, path)) => {
            error_body::only_on(&doc, None).map_err(|why| format!("{fragment}: {why}"))?;
            syn::parse_str(path).map_err(|e| format!("{fragment}: `{path}`: {e}"))?
        }
        None => {
            let name = format_ident!("{}", facts.error_schema.to_upper_camel_case());
            let ty = syn::parse_quote!(types::#name);
            error_body::only_on(&doc, Some(&facts.error_schema))
                .and_then(|()| error_body::error_body(&doc, &facts.error_schema, &ty))
                .and_then(|tokens| syn::parse2(tokens).map_err(|e| e.to_string()))
                .map(|item| file.items.push(item))
                .map_err(|why| format!("{fragment}: {why}"))?;
            ty
        }
    };
    let operations = facts.operations.iter().map(|op| {
        let (id, path, idempotent) = (&op.id, &op.path, op.idempotent);
        let decoded = lean.decoded.get(id).into_iter().flatten();
        let rows = bounds
            .get(id)
            .into_iter()
            .flatten()
            .map(constraints::Bound::tokens);
        quote!((#id, #path, #idempotent, [#(#decoded),*], [#(#rows),*]))
    });
    file.items.push(syn::parse_quote! {
        ::apikeys_common::generated_client!(Client, #error_type, [#(#operations),*]);
    });
    add_streams(&mut file, &doc).map_err(|why| format!("{fragment}: {why}"))?;
    odata::add(&mut file, &doc).map_err(|why| format!("{fragment}: {why}"))?;
    let surface = surface::surface(vendor, &doc).map_err(|why| format!("{fragment}: {why}"))?;
    let surface: syn::File = syn::parse2(surface)
        .map_err(|e| format!("{fragment}: the crate surface does not parse: {e}"))?;
    file.items.extend(surface.items);

    Ok(format!(
        "// @generated by `cargo xtask codegen` from {fragment} with progenitor.\n\
         // Do not edit by hand: change the fragment or the xtask, then run `cargo xtask codegen`.\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// Appends each operation's `x-rust-example` to its description, as a `no_run` doctest
/// with a `client` in scope, so every generated method documents a call that compiles.
fn with_examples(vendor: &Vendor, mut doc: Value) -> Value {
    let krate = format!("{}_apikeys", vendor.name);
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_mapping_mut) else {
        return doc;
    };
    for (_, item) in paths.iter_mut() {
        let Some(item) = item.as_mapping_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let Some(example) = op.get("x-rust-example").and_then(Value::as_str) else {
                continue;
            };
            let description = op.get("description").and_then(Value::as_str).unwrap_or("");
            let text = format!(
                "{description}\n\n# Example\n\n```no_run\n\
                 # async fn example(client: {krate}::Client) -> {krate}::Result<()> {{\n\
                 {}\n# Ok(())\n# }}\n```",
                example.trim_end()
            );
            op["description"] = Value::String(text);
        }
    }
    doc
}

fn settings(vendor: &Vendor, facts: &Facts, doc: &Value) -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote!(::apikeys_common::ClientState));
    for (schema, path) in vendor.replacements {
        settings.with_replacement(schema, path, std::iter::empty());
    }
    for open in &facts.open_enums {
        let path = format!(
            "crate::generated::types::{}",
            open.name.to_upper_camel_case()
        );
        let impls = [TypeImpl::Display, TypeImpl::FromStr].into_iter();
        settings.with_replacement(&open.name, path, impls);
    }
    for name in patch::schemas(doc) {
        let path = format!("crate::generated::types::{}", name.to_upper_camel_case());
        settings.with_replacement(&name, path, std::iter::empty());
    }
    settings
}

/// Runs progenitor on `doc`. A failure (progenitor panics on some shapes) becomes an error
/// naming the operation at fault, found by generating each operation alone.
pub fn progenitor(vendor: &Vendor, facts: &Facts, doc: &Value) -> Result<TokenStream, String> {
    progenitor_tokens(vendor, facts, doc).map_err(|why| {
        let culprit = failing_operation(vendor, facts, doc)
            .map(|id| format!(" at operation `{id}`"))
            .unwrap_or_default();
        format!("progenitor failed{culprit}: {why}")
    })
}

/// Runs progenitor on `doc`, turning a panic into an error carrying its message.
fn progenitor_tokens(vendor: &Vendor, facts: &Facts, doc: &Value) -> Result<TokenStream, String> {
    let mut plain = doc.clone();
    crate::constraints::strip_patterns(&mut plain);
    let spec: openapiv3::OpenAPI =
        serde_yaml::from_value(plain).map_err(|e| format!("not an OpenAPI document: {e}"))?;
    let settings = settings(vendor, facts, doc);
    let quiet = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        Generator::new(&settings).generate_tokens(&spec)
    }));
    panic::set_hook(quiet);
    match outcome {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(e.to_string()),
        Err(payload) => Err(payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .map_or_else(|| "it panicked".into(), |m| format!("it panicked: {m}"))),
    }
}

/// After a failure, generates each operation alone to name the first one that fails.
fn failing_operation(vendor: &Vendor, facts: &Facts, doc: &Value) -> Option<String> {
    let paths = doc.get("paths")?.as_mapping()?;
    for (path, item) in paths {
        for (method, op) in item.as_mapping()? {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let mut single = doc.clone();
            let mut only = serde_yaml::Mapping::new();
            let mut one_method = serde_yaml::Mapping::new();
            one_method.insert(method.clone(), op.clone());
            only.insert(path.clone(), Value::Mapping(one_method));
            single["paths"] = Value::Mapping(only);
            if progenitor_tokens(vendor, facts, &single).is_err() {
                return Some(id.to_string());
            }
        }
    }
    None
}

/// progenitor re-exports its `Error` and `ResponseValue` from the generated module, which
/// the crate re-exports whole: they are imported privately instead, so the crate's one
/// `Error` (from `apikeys_common::reexport`) is the only one a caller sees.
fn keep_progenitor_private(items: &mut Vec<syn::Item>) {
    // Its `prelude` only repeats `Client`.
    items.retain(|item| !matches!(item, syn::Item::Mod(m) if m.ident == "prelude"));
    for item in items {
        if let syn::Item::Use(u) = item
            && let syn::UseTree::Path(path) = &u.tree
            && path.ident == "progenitor_client"
        {
            u.vis = syn::Visibility::Inherited;
        }
    }
}

/// Points the generated code's `encode_path` at `apikeys_common::hooks::encode_path`, which
/// also encodes `\\`: progenitor leaves it as it is, and URL parsing then reads it as `/`,
/// so an id such as `a\\b` could not be sent.
fn use_our_encode_path(items: &mut Vec<syn::Item>) {
    let mut at = Vec::new();
    for (index, item) in items.iter_mut().enumerate() {
        match item {
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = m.content.as_mut() {
                    use_our_encode_path(inner);
                }
            }
            syn::Item::Use(u) => {
                let syn::UseTree::Path(path) = &mut u.tree else {
                    continue;
                };
                let syn::UseTree::Group(group) = path.tree.as_mut() else {
                    continue;
                };
                if path.ident != "progenitor_client" {
                    continue;
                }
                let before = group.items.len();
                group.items = std::mem::take(&mut group.items)
                    .into_iter()
                    .filter(
                        |tree| !matches!(tree, syn::UseTree::Name(n) if n.ident == "encode_path"),
                    )
                    .collect();
                if group.items.len() < before {
                    at.push(index + 1);
                }
            }
            _ => {}
        }
    }
    for index in at.into_iter().rev() {
        items.insert(
            index,
            syn::parse_quote!(
                use ::apikeys_common::hooks::encode_path;
            ),
        );
    }
}

/// Drops the `api-version` header progenitor adds to every request (the fragment's
/// `info.version`; no vendor reads it), and the room reserved for it in the header map, so
/// no request pays for building and sending it.
struct WithoutApiVersion;

impl syn::visit_mut::VisitMut for WithoutApiVersion {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let before = block.stmts.len();
        block.stmts.retain(|stmt| !appends_api_version(stmt));
        let removed = before - block.stmts.len();
        if removed > 0 {
            for stmt in &mut block.stmts {
                shrink_header_map(stmt, removed);
            }
        }
        syn::visit_mut::visit_block_mut(self, block);
    }
}

/// `header_map.append(HeaderName::from_static("api-version"), ...);`
fn appends_api_version(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
        return false;
    };
    call.method == "append"
        && call
            .args
            .first()
            .is_some_and(|name| quote!(#name).to_string().contains("\"api-version\""))
}

/// `let mut header_map = HeaderMap::with_capacity(N);` reserves room for `removed` fewer.
fn shrink_header_map(stmt: &mut syn::Stmt, removed: usize) {
    let syn::Stmt::Local(local) = stmt else {
        return;
    };
    let Some(init) = local.init.as_mut() else {
        return;
    };
    let syn::Expr::Call(call) = init.expr.as_mut() else {
        return;
    };
    let func = &call.func;
    if !quote!(#func)
        .to_string()
        .ends_with("HeaderMap :: with_capacity")
    {
        return;
    }
    if let Some(syn::Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(n),
        ..
    })) = call.args.first_mut()
    {
        let capacity = n
            .base10_parse::<usize>()
            .unwrap_or(removed)
            .saturating_sub(removed);
        *n = syn::LitInt::new(&format!("{capacity}usize"), n.span());
        if capacity == 0 {
            // Nothing is appended any more: a `mut` binding would warn.
            if let syn::Pat::Ident(binding) = &mut local.pat {
                binding.mutability = None;
            }
        }
    }
}

/// Labels text bodies as the UTF-8 they are: progenitor sends `text/plain` without a
/// charset, and servers such as Spring's then read the body as ISO-8859-1. Done here, in
/// the generated code, so that no request pays for looking the header up to fix it.
struct TextInUtf8;

impl syn::visit_mut::VisitMut for TextInUtf8 {
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        if lit.value() == "text/plain" {
            *lit = syn::LitStr::new("text/plain; charset=utf-8", lit.span());
        }
    }
}

/// Drops the header map an operation without header parameters builds empty
/// (`HeaderMap::with_capacity(0)`) and hands to `.headers(..)`, which then only walks it:
/// every request paid for making, merging and dropping a map with nothing in it.
struct WithoutEmptyHeaders;

impl syn::visit_mut::VisitMut for WithoutEmptyHeaders {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let empty = block.stmts.iter().position(|stmt| {
            quote!(#stmt).to_string()
                == "let header_map = :: reqwest :: header :: HeaderMap :: with_capacity (0usize) ;"
        });
        let mentions: usize = block
            .stmts
            .iter()
            .map(|stmt| quote!(#stmt).to_string().matches("header_map").count())
            .sum();
        // Made, and only handed to `.headers(..)`.
        if let (Some(at), 2) = (empty, mentions) {
            block.stmts.remove(at);
            for stmt in &mut block.stmts {
                syn::visit_mut::VisitMut::visit_stmt_mut(&mut WithoutHeadersCall, stmt);
            }
        }
        syn::visit_mut::visit_block_mut(self, block);
    }
}

/// `receiver.headers(header_map)` becomes `receiver`.
struct WithoutHeadersCall;

impl syn::visit_mut::VisitMut for WithoutHeadersCall {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "headers"
            && call.args.len() == 1
            && call
                .args
                .first()
                .is_some_and(|arg| quote!(#arg).to_string() == "header_map")
        {
            *expr = (*call.receiver).clone();
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Decodes a success body with `apikeys_common::hooks::decode` instead of progenitor's
/// `ResponseValue::from_response`, which copies every response header for a value `send`
/// drops unread. Error arms keep progenitor's decoder: their headers are read
/// (`Retry-After`). It notes, by operation, the statuses whose body is decoded so: the
/// hooks hand those responses on unread when their framed length is within the limit.
#[derive(Default)]
struct LeanSuccess {
    /// operationId -> the success statuses decoded by `hooks::decode`.
    decoded: std::collections::BTreeMap<String, Vec<u16>>,
    /// The operation whose `exchange` is being visited (its `OperationInfo`).
    current: Option<String>,
}

impl syn::visit_mut::VisitMut for LeanSuccess {
    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        self.current = None;
        syn::visit_mut::visit_impl_item_fn_mut(self, function);
        self.current = None;
    }

    fn visit_expr_struct_mut(&mut self, expr: &mut syn::ExprStruct) {
        let path = &expr.path;
        if quote!(#path).to_string() == "OperationInfo" {
            for field in &expr.fields {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(id),
                    ..
                }) = &field.expr
                {
                    self.current = Some(id.value());
                }
            }
        }
        syn::visit_mut::visit_expr_struct_mut(self, expr);
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        let success = match &arm.pat {
            syn::Pat::Lit(syn::PatLit {
                lit: syn::Lit::Int(code),
                ..
            }) => code
                .base10_parse::<u16>()
                .ok()
                .filter(|code| (200..300).contains(code)),
            _ => None,
        };
        let body = &arm.body;
        // progenitor writes the arm's expression as a block.
        let decodes =
            quote!(#body).to_string() == "{ ResponseValue :: from_response (response) . await }";
        if let (Some(code), true) = (success, decodes) {
            *arm.body = syn::parse_quote!(::apikeys_common::hooks::decode(response).await);
            if let Some(id) = &self.current {
                self.decoded.entry(id.clone()).or_default().push(code);
            }
        }
        syn::visit_mut::visit_arm_mut(self, arm);
    }
}

/// Checks the body bounds on the typed body: in the `exchange` of every operation with body
/// bounds, which sends its `body` as JSON, a call to the `check_body` of
/// `generated_client!` goes just before the pre-hook, so the body is measured through its
/// `Serialize` rather than its JSON parsed again.
struct TypedBodyCheck {
    /// The operations with bounds on their body.
    bounded: std::collections::BTreeSet<String>,
    /// Those whose `exchange` checks its body.
    checked: std::collections::BTreeSet<String>,
}

impl syn::visit_mut::VisitMut for TypedBodyCheck {
    fn visit_impl_item_fn_mut(&mut self, function: &mut syn::ImplItemFn) {
        if function.sig.ident == "exchange" {
            let stmts = &mut function.block.stmts;
            let has_body = stmts.iter().any(|stmt| {
                matches!(stmt, syn::Stmt::Local(local)
                    if quote!(#local).to_string().starts_with("let body ="))
            });
            let sends_json = stmts
                .iter()
                .any(|stmt| quote!(#stmt).to_string().contains(". json (& body)"));
            let id = stmts.iter().find_map(|stmt| {
                let text = quote!(#stmt).to_string();
                let rest = text.split("operation_id : \"").nth(1)?;
                Some(rest.split('"').next()?.to_string())
            });
            let pre = stmts.iter().position(|stmt| {
                quote!(#stmt).to_string() == "client . pre (& mut request , & info) . await ? ;"
            });
            let id = id.filter(|id| self.bounded.contains(id));
            if let (true, Some(id), Some(at)) = (has_body && sends_json, id, pre) {
                stmts.insert(
                    at,
                    syn::parse_quote!(super::Client::check_body(&info, &body)?;),
                );
                self.checked.insert(id);
            }
        }
        syn::visit_mut::visit_impl_item_fn_mut(self, function);
    }
}

/// Keeps progenitor's types out of the public API. Every builder's `send` returns the
/// crate's one `Error` and the decoded body (progenitor's sends `ResponseValue<T>` and
/// `progenitor_client::Error<E>`): progenitor's `send` becomes the private `exchange`, and a
/// new `send` converts its outcome. `Client::new` (which panics on a failed TLS set-up and
/// builds a client without the builder's checks) goes; `new_with_client` is for the crate's
/// builder only.
struct OneError;

impl syn::visit_mut::VisitMut for OneError {
    fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
        let self_ty = &item.self_ty;
        let is_client = quote!(#self_ty).to_string() == "Client" && item.trait_.is_none();
        let mut sends = Vec::new();
        item.items.retain_mut(|member| {
            let syn::ImplItem::Fn(function) = member else {
                return true;
            };
            let name = function.sig.ident.to_string();
            if is_client && name == "new" {
                return false;
            }
            if is_client && name == "new_with_client" {
                function.vis = syn::parse_quote!(pub(crate));
            }
            if name == "send"
                && function.sig.asyncness.is_some()
                && let Some(body) = ok_type(&function.sig.output)
            {
                let docs: Vec<syn::Attribute> = std::mem::take(&mut function.attrs);
                function.sig.ident = format_ident!("exchange");
                function.vis = syn::Visibility::Inherited;
                sends.push(syn::parse_quote! {
                    #(#docs)*
                    pub async fn send(self) -> ::std::result::Result<#body, ::apikeys_common::Error> {
                        match self.exchange().await {
                            Ok(response) => Ok(response.into_inner()),
                            Err(error) => Err(::apikeys_common::Error::from(error)),
                        }
                    }
                });
            }
            true
        });
        item.items.extend(sends);
        syn::visit_mut::visit_item_impl_mut(self, item);
    }
}

/// Gives each operation builder with a JSON body of a generated type the slot
/// `apikeys_common::__private::Body` instead of progenitor's `types::builder::X`: progenitor
/// makes that builder (allocating a "no value supplied" message for each required field)
/// with every operation builder, turns the typed body `.body(..)` is given into it, and back
/// when sending. The slot keeps a typed body as it is; `.body_map(..)`, and sending without
/// a body, still go through the field builder, with the same messages.
fn keep_typed_bodies(file: &mut syn::File) -> Result<(), String> {
    let items = module_items(file, "builder")?;
    // Operation builder -> the body type's name, for those whose slot changed.
    let mut slots = std::collections::BTreeMap::new();
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else {
            continue;
        };
        for field in &mut s.fields {
            if field.ident.as_ref().is_none_or(|name| name != "body") {
                continue;
            }
            let ty = &field.ty;
            let text = quote!(#ty).to_string();
            let Some(name) = text
                .strip_prefix("Result < types :: builder :: ")
                .and_then(|rest| rest.strip_suffix(" , String >"))
            else {
                continue;
            };
            let name = format_ident!("{name}");
            field.ty = syn::parse_quote!(
                Result<::apikeys_common::__private::Body<types::#name, types::builder::#name>, String>
            );
            slots.insert(s.ident.to_string(), name);
        }
    }
    for item in items.iter_mut() {
        let syn::Item::Impl(imp) = item else {
            continue;
        };
        let self_ty = &imp.self_ty;
        let owner = quote!(#self_ty).to_string();
        let Some(name) = slots.get(owner.split(' ').next().unwrap_or_default()) else {
            continue;
        };
        let mut done = std::collections::BTreeSet::new();
        for member in &mut imp.items {
            let syn::ImplItem::Fn(function) = member else {
                continue;
            };
            let method = function.sig.ident.to_string();
            for stmt in &mut function.block.stmts {
                let text = quote!(#stmt).to_string();
                let rewritten = match method.as_str() {
                    "body" if text.contains(". map (From :: from)") => Some(text.replace(
                        ". map (From :: from)",
                        ". map (:: apikeys_common :: __private :: Body :: Typed)",
                    )),
                    "body_map" if text == "self . body = self . body . map (f) ;" => {
                        Some("self.body = self.body.map(|body| body.map_builder(f));".into())
                    }
                    "exchange" => {
                        let convert = format!(
                            "types :: {name} :: try_from (v) . map_err (| e | e . to_string ())"
                        );
                        text.contains(&convert)
                            .then(|| text.replace(&convert, "v . into_typed ()"))
                    }
                    _ => None,
                };
                if let Some(code) = rewritten {
                    *stmt = syn::parse_str(&code)
                        .map_err(|e| format!("`{owner}::{method}` rewritten: {e}"))?;
                    done.insert(method.clone());
                }
            }
        }
        for method in ["body", "body_map", "exchange"] {
            if !done.contains(method) {
                return Err(format!(
                    "`{owner}::{method}` is not the shape xtask/src/codegen.rs \
                     `keep_typed_bodies` rewrites (a new progenitor?)"
                ));
            }
        }
    }
    Ok(())
}

/// Sends an optional query parameter only when it is present: progenitor's
/// `.query(&QueryParam::new(name, &value))` for an absent one adds nothing to the URL but
/// still opens, re-serializes and closes its query (a list with five unset options paid
/// that five times). The call becomes `.query_some(..)`, of
/// `apikeys_common::__private::QuerySome`, for the parameters whose builder field is
/// `Result<Option<_>, String>`.
fn skip_absent_query_parameters(file: &mut syn::File) {
    let Ok(items) = module_items(file, "builder") else {
        return;
    };
    let mut rewritten = false;
    // Operation builder -> its optional fields.
    let mut optional = std::collections::BTreeMap::<String, Vec<String>>::new();
    for item in items.iter() {
        if let syn::Item::Struct(s) = item {
            for field in &s.fields {
                let ty = &field.ty;
                let ty = quote!(#ty).to_string();
                let is_option = ty.starts_with("Result < Option <")
                    || ty.starts_with("Result < :: std :: option :: Option <");
                if let (Some(name), true) = (&field.ident, is_option) {
                    optional
                        .entry(s.ident.to_string())
                        .or_default()
                        .push(name.to_string());
                }
            }
        }
    }
    for item in items.iter_mut() {
        let syn::Item::Impl(imp) = item else {
            continue;
        };
        let self_ty = &imp.self_ty;
        let owner = quote!(#self_ty).to_string();
        let Some(fields) = optional.get(owner.split(' ').next().unwrap_or_default()) else {
            continue;
        };
        for member in &mut imp.items {
            if let syn::ImplItem::Fn(function) = member
                && function.sig.ident == "exchange"
            {
                let mut rewrite = QuerySome {
                    fields,
                    rewritten: &mut rewritten,
                };
                syn::visit_mut::VisitMut::visit_block_mut(&mut rewrite, &mut function.block);
            }
        }
    }
    if rewritten {
        items.insert(
            0,
            syn::parse_quote!(
                use ::apikeys_common::__private::QuerySome as _;
            ),
        );
    }
}

/// `.query(&progenitor_client::QueryParam::new(name, &field))` becomes
/// `.query_some(name, &field)` for the optional `fields`.
struct QuerySome<'f> {
    fields: &'f [String],
    rewritten: &'f mut bool,
}

impl syn::visit_mut::VisitMut for QuerySome<'_> {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        let syn::Expr::MethodCall(call) = expr else {
            return;
        };
        if call.method != "query" || call.args.len() != 1 {
            return;
        }
        let Some(syn::Expr::Reference(arg)) = call.args.first() else {
            return;
        };
        let syn::Expr::Call(new) = arg.expr.as_ref() else {
            return;
        };
        let func = &new.func;
        if quote!(#func).to_string() != "progenitor_client :: QueryParam :: new"
            || new.args.len() != 2
        {
            return;
        }
        let (Some(name), Some(value)) = (new.args.first(), new.args.last()) else {
            return;
        };
        let field = quote!(#value).to_string();
        if !self.fields.iter().any(|f| field == format!("& {f}")) {
            return;
        }
        call.method = format_ident!("query_some");
        call.args = syn::parse_quote!(#name, #value);
        *self.rewritten = true;
    }
}

/// `T` in `Result<ResponseValue<T>, Error<E>>`.
fn ok_type(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    let first_generic = |ty: &syn::Type, name: &str| -> Option<syn::Type> {
        let syn::Type::Path(path) = ty else {
            return None;
        };
        let segment = path.path.segments.last()?;
        if segment.ident != name {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        match args.args.first()? {
            syn::GenericArgument::Type(ty) => Some(ty.clone()),
            _ => None,
        }
    };
    first_generic(&first_generic(ty, "Result")?, "ResponseValue")
}

/// The items of progenitor's module `name` (`types` or `builder`) in the generated file.
pub fn module_items<'f>(
    file: &'f mut syn::File,
    name: &str,
) -> Result<&'f mut Vec<syn::Item>, String> {
    file.items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or_else(|| format!("progenitor emitted no `{name}` module"))
}

/// Parses each of `tokens` (items the xtask generates: `what`, for the error) and appends
/// them to progenitor's module `name`.
pub fn add_to_module(
    file: &mut syn::File,
    name: &str,
    tokens: Vec<TokenStream>,
    what: &str,
) -> Result<(), String> {
    if tokens.is_empty() {
        return Ok(());
    }
    let items = module_items(file, name)?;
    for tokens in tokens {
        let parsed: syn::File =
            syn::parse2(tokens).map_err(|e| format!("{what} does not parse: {e}"))?;
        items.extend(parsed.items);
    }
    Ok(())
}

/// Puts each paged operation's `.stream()` into the generated `builder` module, beside the
/// builder whose fields it reads.
fn add_streams(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let streams = streams::streams(doc)?;
    if streams.is_empty() {
        return Ok(());
    }
    let items = module_items(file, "builder")?;
    items.extend(streams);
    Ok(())
}

/// Puts each `x-apikeys-fields` enum into the generated `types` module, beside its schema.
fn add_fields(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    add_to_module(file, "types", fields::fields(doc)?, "a field enum")
}

/// Puts each open enum into the generated `types` module, beside the types that use it.
fn add_open_enums(file: &mut syn::File, enums: &[OpenEnum]) -> Result<(), String> {
    let items = module_items(file, "types")?;
    for open in enums {
        let name = format_ident!("{}", open.name.to_upper_camel_case());
        let doc = open
            .doc
            .as_deref()
            .unwrap_or("A value the vendor may add to.")
            .trim();
        let variants = open.variants.iter().map(|(ident, value)| {
            let ident = format_ident!("{ident}");
            let doc = format!("`{value}`");
            quote!(#[doc = #doc] #ident = #value)
        });
        items.push(syn::parse_quote! {
            ::apikeys_common::open_enum! {
                #[doc = #doc]
                pub enum #name { #(#variants),* }
            }
        });
    }
    Ok(())
}
