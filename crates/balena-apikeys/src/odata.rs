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

use apikeys_common::odata;
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

/// The column of an `api_key` row that holds the key's secret.
const SECRET_FIELD: &str = "key";

/// The rule for every `GET /v7/api_key` (the listings, their streams and the generated
/// `get_api_keys`), applied to the decoded query pairs before they are sent.
///
/// openBalena answers a listing without `$select` with every column, the secret `key` of
/// each row included (open-balena-api `src/balena.sbvr` makes `key` an ordinary field, and
/// nothing hides it from reads). So when the caller selects nothing, this asks for
/// [`ApiKeyField::ALL`], the fields the model reads; a caller's own `$select` is kept, but
/// one that names `key` or `*`, at the top or inside an `$expand`, is refused: a secret is
/// read only where the API hands it out on purpose, at creation.
///
/// Returns the listing's wire query (see [`wire_query`]), the default `$select` written
/// into it directly.
pub(crate) fn listing_wire_query(url: &reqwest::Url) -> Result<Option<String>, String> {
    static DEFAULT_SELECT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| ApiKeyField::ALL.map(ApiKeyField::as_str).join(","));
    odata::listing_wire_query(url, &[SECRET_FIELD], &DEFAULT_SELECT)
}

pub(crate) use apikeys_common::odata::wire_query;

#[cfg(test)]
mod tests {
    use super::*;

    /// A key listing's query as sent: the secret rule, then the wire rewrite.
    fn listing(query: &str) -> Result<Option<String>, String> {
        let mut url = reqwest::Url::parse("https://api.balena-cloud.com/v7/api_key").unwrap();
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        let sent = listing_wire_query(&url);
        // The one pass sends what the rule and the rewrite, one after the other, would.
        let fields = ApiKeyField::ALL.map(ApiKeyField::as_str);
        let two_steps = odata::select_without_secrets(&mut url, &[SECRET_FIELD], &fields)
            .map(|()| wire_query(&url));
        assert_eq!(sent, two_steps);
        let wire = sent?;
        url.set_query(wire.as_deref());
        Ok(url.query().map(str::to_string))
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
