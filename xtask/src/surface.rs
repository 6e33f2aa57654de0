//! The part of every vendor crate that is the same but for vendor facts: `BASE_URL`,
//! `ClientBuilder` and `Client::builder`, and `impl Vendor` (how a credential is sent), all
//! read from the fragment so that no crate writes them again.
//!
//! The fragment says how a credential is sent in `components.securitySchemes`: `apiKey` for
//! API keys and, for vendors whose users also sign in, `jwt`. Each is either
//! `type: http, scheme: bearer` (`Authorization: Bearer <secret>`), `type: http, scheme:
//! basic` (`Authorization: Basic base64(<secret>)`, the secret given as `user:password`) or
//! `type: apiKey, in: header, name: <header>` with an optional `x-apikeys-prefix: <scheme>`
//! (`<header>: <scheme> <secret>`). progenitor ignores security schemes; this reads them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_yaml::Value;

use crate::vendors::Vendor;

/// How one credential is sent: a header name and the scheme before the secret ("" for none),
/// or HTTP basic authentication (`header` is `authorization`, `prefix` is `Basic`).
#[derive(Debug, PartialEq, Eq)]
pub struct Scheme {
    pub header: String,
    pub prefix: String,
    pub basic: bool,
}

/// Reads `components.securitySchemes.<name>`; `Ok(None)` when the fragment has none.
pub fn scheme(doc: &Value, name: &str) -> Result<Option<Scheme>, String> {
    let Some(scheme) = doc
        .get("components")
        .and_then(|c| c.get("securitySchemes"))
        .and_then(|s| s.get(name))
    else {
        return Ok(None);
    };
    let text = |key: &str| scheme.get(key).and_then(Value::as_str);
    let problem = |why: &str| Err(format!("securitySchemes.{name}: {why}"));
    match (text("type"), text("scheme"), text("in"), text("name")) {
        (Some("http"), Some(bearer), _, _) if bearer.eq_ignore_ascii_case("bearer") => {
            Ok(Some(Scheme {
                header: "authorization".into(),
                prefix: "Bearer".into(),
                basic: false,
            }))
        }
        (Some("http"), Some(basic), _, _) if basic.eq_ignore_ascii_case("basic") => {
            Ok(Some(Scheme {
                header: "authorization".into(),
                prefix: "Basic".into(),
                basic: true,
            }))
        }
        (Some("apiKey"), _, Some("header"), Some(header)) => {
            let prefix = text("x-apikeys-prefix").unwrap_or("").to_string();
            if !header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                || header.is_empty()
            {
                return problem(&format!("`{header}` is not an HTTP header name"));
            }
            Ok(Some(Scheme {
                header: header.to_ascii_lowercase(),
                prefix,
                basic: false,
            }))
        }
        _ => problem(
            "only `type: http` with `scheme: bearer` or `scheme: basic`, or `type: apiKey` \
             with `in: header`, can be generated",
        ),
    }
}

/// The generated crate surface for `vendor`, appended to its `generated.rs`.
pub fn surface(vendor: &Vendor, doc: &Value) -> Result<TokenStream, String> {
    let server = doc
        .get("servers")
        .and_then(|s| s.get(0))
        .ok_or("the fragment names no server: `servers[0].url` becomes `BASE_URL`")?;
    let base_url = server
        .get("url")
        .and_then(Value::as_str)
        .ok_or("`servers[0].url` is missing")?;
    if !base_url.starts_with("https://") {
        return Err(format!(
            "`servers[0].url` ({base_url}) must be the vendor's public https root: it becomes \
             `BASE_URL`"
        ));
    }
    let where_ = server
        .get("description")
        .and_then(Value::as_str)
        .ok_or("`servers[0].description` is missing: it says what `base_url` is")?
        .trim();
    let title = doc
        .get("info")
        .and_then(|i| i.get("title"))
        .and_then(Value::as_str)
        .unwrap_or(vendor.name);
    let krate = format_ident!("{}_apikeys", vendor.name);

    let api_key = scheme(doc, "apiKey")?
        .ok_or("`components.securitySchemes.apiKey` is missing: it says how a key is sent")?;
    let api_key_credential = credential(&api_key, quote!(key));
    let jwt = scheme(doc, "jwt")?.map(|jwt| {
        let jwt_credential = credential(&jwt, quote!(jwt));
        quote! {
            impl ::apikeys_common::JwtAuth for Client {
                fn jwt_credential(
                    jwt: ::apikeys_common::Secret,
                ) -> ::apikeys_common::Result<::apikeys_common::Credential> {
                    #jwt_credential
                }
            }
        }
    });
    let prepare = match vendor.prepare_request {
        None => None,
        Some(path) => {
            let path: syn::Path = syn::parse_str(path)
                .map_err(|e| format!("prepare_request `{path}` is not a path: {e}"))?;
            Some(quote! {
            fn prepare_request(
                request: &mut ::apikeys_common::__private::reqwest::Request,
            ) -> ::std::result::Result<(), ::std::string::String> {
                    #path(request)
                }
            })
        }
    };

    let base_doc = format!("Where the {title} API is served: {where_}");
    let how = |name: &str| {
        doc.get("components")
            .and_then(|c| c.get("securitySchemes"))
            .and_then(|s| s.get(name))
            .and_then(|s| s.get("description"))
            .and_then(Value::as_str)
            .map(|text| text.trim().to_string())
    };
    let mut credentials = String::new();
    if let Some(text) = how("apiKey") {
        credentials.push_str(&format!("\n\nAuthenticate with `.api_key(..)`: {text}"));
    }
    if let Some(text) = how("jwt") {
        credentials.push_str(&format!(" Or with `.jwt(..)`: {text}"));
    }
    let builder_doc = format!(
        "Starts building a client for the {title} API at `base_url` (see [`BASE_URL`]).\
         {credentials}\n\n\
         ```no_run\n\
         # fn demo() -> {krate}::Result<()> {{\n\
         use std::time::Duration;\n\
         use {krate}::{{BASE_URL, Client}};\n\n\
         let client = Client::builder(BASE_URL)\n    \
             .api_key(\"an API key\")\n    \
             .timeout(Duration::from_secs(10))\n    \
             .build()?;\n\
         # let _ = client;\n\
         # Ok(())\n\
         # }}\n\
         ```"
    );
    let vendor_name = vendor.name;
    Ok(quote! {
        #[doc = #base_doc]
        pub const BASE_URL: &str = #base_url;

        /// Builds a [`Client`]: see [`Client::builder`].
        pub type ClientBuilder = ::apikeys_common::ClientBuilder<Client>;

        impl Client {
            #[doc = #builder_doc]
            pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
                ClientBuilder::new(base_url)
            }
        }

        impl ::apikeys_common::Vendor for Client {
            const USER_AGENT: &'static str =
                concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
            const NAME: &'static str = #vendor_name;

            fn api_key_credential(
                key: ::apikeys_common::Secret,
            ) -> ::apikeys_common::Result<::apikeys_common::Credential> {
                #api_key_credential
            }

            #prepare
        }

        #jwt
    })
}

/// `Credential::header(<header>, <prefix>, <secret>)`, or `Credential::basic(<secret>)`.
fn credential(scheme: &Scheme, secret: TokenStream) -> TokenStream {
    let Scheme {
        header,
        prefix,
        basic,
    } = scheme;
    if *basic {
        return quote!(::apikeys_common::Credential::basic(#secret));
    }
    quote!(::apikeys_common::Credential::header(#header, #prefix, #secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Value {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn bearer_and_header_schemes_are_read() {
        let fragment = doc(r#"
components:
  securitySchemes:
    apiKey: {type: apiKey, in: header, name: X-Authorization, x-apikeys-prefix: ApiKey}
    jwt: {type: http, scheme: bearer}
"#);
        assert_eq!(
            scheme(&fragment, "apiKey").unwrap(),
            Some(Scheme {
                header: "x-authorization".into(),
                prefix: "ApiKey".into(),
                basic: false,
            })
        );
        assert_eq!(
            scheme(&fragment, "jwt").unwrap(),
            Some(Scheme {
                header: "authorization".into(),
                prefix: "Bearer".into(),
                basic: false,
            })
        );
        assert_eq!(scheme(&fragment, "other").unwrap(), None);
    }

    // issue 23, part 2: HTTP basic auth is generated as `Credential::basic`.
    #[test]
    fn a_basic_scheme_sends_user_and_password() {
        let fragment = doc("components: {securitySchemes: {apiKey: {type: http, scheme: Basic}}}");
        let basic = scheme(&fragment, "apiKey").unwrap().unwrap();
        assert!(basic.basic, "{basic:?}");
        assert_eq!(
            credential(&basic, quote!(key)).to_string(),
            quote!(::apikeys_common::Credential::basic(key)).to_string()
        );
    }

    #[test]
    fn schemes_that_cannot_be_generated_are_named() {
        for bad in [
            "{type: apiKey, in: query, name: token}",
            "{type: apiKey, in: header, name: 'X Api Key'}",
            "{type: http, scheme: digest}",
            "{type: http}",
            "{type: oauth2}",
        ] {
            let fragment = doc(&format!(
                "components: {{securitySchemes: {{apiKey: {bad}}}}}"
            ));
            let err = scheme(&fragment, "apiKey").unwrap_err();
            assert!(err.contains("securitySchemes.apiKey"), "{bad}: {err}");
        }
    }
}
