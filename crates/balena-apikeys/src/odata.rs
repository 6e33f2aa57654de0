//! OData query options (`$filter`, `$select`, `$expand`, `$orderby`, `$top`, `$skip`) for
//! balena's `api_key` rows: the typed builder of [`apikeys_common::odata`], re-exported, and
//! the row's fields as [`ApiKeyField`]. Options are rendered the way balena's SDKs render
//! them (`balena-io-modules/pinejs-client-js`, `src/index.ts`) and sent the way the server's
//! URL parser accepts them (`balena-io-modules/odata-parser`, `odata-parser.pegjs`).
//!
//! ```
//! use balena_apikeys::odata::{ApiKeyField, Filter, ODataOptions, Order};
//!
//! let filter = Filter::startswith(ApiKeyField::Name, "O'Neil key")
//!     .and(Filter::eq(ApiKeyField::IsOfActor, 1111));
//! assert_eq!(
//!     filter.to_string(),
//!     "startswith(name,'O''Neil%20key') and is_of__actor eq 1111"
//! );
//!
//! let options = ODataOptions::new()
//!     .filter(Filter::is_null(ApiKeyField::ExpiryDate))
//!     .select([ApiKeyField::Id, ApiKeyField::Name])
//!     .orderby(ApiKeyField::CreatedAt, Order::Desc)
//!     .top(10);
//! # let _ = options;
//! ```
//!
//! String literals are quoted, an embedded `'` is doubled, and their contents are
//! percent-encoded like JavaScript's `encodeURIComponent`, which is what the server decodes
//! (once) inside quotes. The rest of an expression is sent as it reads: the client encodes
//! only spaces and quotes (`%20`, `%27`) and keeps `$ , ( ) =` raw, since the server refuses
//! `%2C` in `$select` lists and `%28`/`%29` in function calls.

pub use apikeys_common::odata::{
    Expand, Filter, ListRequest, Listing, Literal, ODataOptions, Order, RowKey, RowRef, Table,
};

/// The fields of an `api_key` row, for `$select`, `$orderby` and filters: generated from
/// the fragment's `ApiKey`, so [`ApiKeyField::ALL`] is every field the crate's model reads. A
/// key listing sends these as `$select` when you select no fields yourself, so that the
/// server does not send each key's secret along (see [`ListRequest::options`]).
///
/// [`ListRequest::options`]: crate::ListRequest::options
pub use crate::types::ApiKeyField;

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use apikeys_common::odata;

    use super::*;

    const BASE: &str = "https://api.balena-cloud.com/v7/api_key";

    /// A key listing's query as the generated `get_api_keys` sends it for the options a
    /// form-encoded `query` holds (each decoded once, as the builder receives them), with
    /// the rule the fragment's `x-apikeys-secret-select` asks for: no `key`, and
    /// `ApiKeyField::ALL` by default (tests/api_keys.rs checks the generated call itself).
    fn listing(query: &str) -> Result<Option<String>, String> {
        let mut url = reqwest::Url::parse(BASE).unwrap();
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let options: Vec<(&str, Option<Cow<'_, str>>)> = pairs
            .iter()
            .map(|(name, value)| (name.as_str(), Some(Cow::Borrowed(value.as_str()))))
            .collect();
        let fields = ApiKeyField::ALL.map(ApiKeyField::as_str).join(",");
        let rule = odata::SecretRule::new(&["key"], &fields);
        let sent = odata::wire_url(format_args!("{BASE}"), &options, Some(rule)).map(|sent| {
            reqwest::Url::parse(&sent)
                .unwrap()
                .query()
                .map(str::to_string)
        });
        // What the request hook's rewrite of the form-encoded query used to send.
        let rewritten = odata::listing_wire_query(&url, &["key"], &fields).map(|wire| {
            url.set_query(wire.as_deref());
            url.query().map(str::to_string)
        });
        assert_eq!(sent, rewritten);
        sent
    }

    const MODEL_SELECT: &str = "$select=id,created_at,name,description,expiry_date,is_of__actor";

    #[test]
    fn a_listing_without_select_asks_for_the_model_s_fields_only() {
        assert_eq!(listing("").unwrap().as_deref(), Some(MODEL_SELECT));
        assert_eq!(
            listing("%24orderby=name+asc&%24select=+").unwrap(),
            Some(format!("$orderby=name%20asc&{MODEL_SELECT}")),
            "a blank `$select` names no field"
        );
        assert_eq!(
            listing("%24select=id%2Cname&%24expand=is_of__actor%28%24select%3Did%29").unwrap(),
            Some("$select=id,name&$expand=is_of__actor($select=id)".into()),
            "the caller's own fields are kept as they are"
        );
    }

    #[test]
    fn a_select_of_the_key_column_is_refused() {
        for query in ["%24select=id%2CKey", "%24select=*", "%2524select=key"] {
            let why = listing(query).unwrap_err();
            assert!(
                why.contains("`$select`") && why.contains("ey`"),
                "{query}: {why}"
            );
        }
    }

    #[test]
    fn fields_are_sent_by_their_wire_names() {
        let filter = Filter::startswith(ApiKeyField::Name, "ci-")
            .and(Filter::eq(ApiKeyField::IsOfActor, 1111));
        assert_eq!(
            filter.to_string(),
            "startswith(name,'ci-') and is_of__actor eq 1111"
        );
        assert_eq!(ApiKeyField::ExpiryDate.to_string(), "expiry_date");
    }
}
