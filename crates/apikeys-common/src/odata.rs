//! OData query options (`$filter`, `$select`, `$expand`, `$orderby`, `$top`, `$skip`) as a
//! small typed builder over field names, rendered the way pine's client renders them
//! (`balena-io-modules/pinejs-client-js`, `src/index.ts`) and sent the way pine's URL parser
//! accepts them (`balena-io-modules/odata-parser`, `odata-parser.pegjs`).
//!
//! Fields are anything that is `AsRef<str>`: a vendor crate names its fields with an enum
//! that implements it, and a plain `&str` names any other.
//!
//! ```
//! use apikeys_common::odata::{Filter, ODataOptions, Order};
//!
//! let filter = Filter::startswith("name", "O'Neil key").and(Filter::eq("is_of__actor", 1111));
//! assert_eq!(
//!     filter.to_string(),
//!     "startswith(name,'O''Neil%20key') and is_of__actor eq 1111"
//! );
//!
//! let options = ODataOptions::new()
//!     .filter(Filter::is_null("expiry_date"))
//!     .select(["id", "name"])
//!     .orderby("created_at", Order::Desc)
//!     .top(10);
//! assert_eq!(options.rendered().select.as_deref(), Some("id,name"));
//! ```
//!
//! String literals are quoted, an embedded `'` is doubled, and their contents are
//! percent-encoded like JavaScript's `encodeURIComponent`, which is what the server decodes
//! (once) inside quotes. The rest of an expression is sent as it reads: [`wire_url`] encodes
//! only what a query cannot hold raw and keeps `$ , ( ) =` as they are, since pine's parser
//! refuses `%2C` in `$select` lists and `%28`/`%29` in function calls.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use chrono::{DateTime, SecondsFormat, Utc};
use futures::Stream;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Serialize;
#[cfg(any(test, feature = "testing"))]
use url::Url;

use crate::{Error, Page, Result};

mod listing;
mod refs;
pub use listing::{ListRequest, Listing};
pub use refs::{RowKey, RowRef, Table};

/// A value on the right of a comparison, rendered as OData expects: numbers,
/// `true`/`false` and `null` bare, strings quoted and escaped, date-times as
/// `datetime'…'` with milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Literal(String);

impl Literal {
    /// `null`.
    pub fn null() -> Self {
        Literal("null".into())
    }

    /// A string literal: `'` doubled, then the inside percent-encoded like
    /// `encodeURIComponent` (`O'Neil key` → `'O''Neil%20key'`).
    pub fn string(text: &str) -> Self {
        let doubled = text.replace('\'', "''");
        Literal(format!(
            "'{}'",
            utf8_percent_encode(&doubled, URI_COMPONENT)
        ))
    }

    /// A date-time literal, `datetime'2030-01-01T00:00:00.000Z'` (a plain quoted string
    /// would compare as text).
    pub fn datetime(at: DateTime<Utc>) -> Self {
        Literal(format!(
            "datetime'{}'",
            at.to_rfc3339_opts(SecondsFormat::Millis, true)
        ))
    }

    /// The literal as it is sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What JavaScript's `encodeURIComponent` encodes: all but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

macro_rules! bare_literals {
    ($($t:ty),*) => {$(
        impl From<$t> for Literal {
            fn from(value: $t) -> Self {
                Literal(value.to_string())
            }
        }
    )*};
}
bare_literals!(i32, i64, u32, u64, bool);

impl From<&str> for Literal {
    fn from(value: &str) -> Self {
        Literal::string(value)
    }
}

impl From<String> for Literal {
    fn from(value: String) -> Self {
        Literal::string(&value)
    }
}

impl From<&String> for Literal {
    fn from(value: &String) -> Self {
        Literal::string(value)
    }
}

impl From<DateTime<Utc>> for Literal {
    fn from(value: DateTime<Utc>) -> Self {
        Literal::datetime(value)
    }
}

/// `None` is `null`.
impl<T: Into<Literal>> From<Option<T>> for Literal {
    fn from(value: Option<T>) -> Self {
        value.map_or_else(Literal::null, Into::into)
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A `$filter` expression. Combine with [`Filter::and`], [`Filter::or`] and [`Filter::not`];
/// parentheses are added only where precedence needs them, and nested `and`s are
/// flattened, as pine's JS client does (`a and b and c`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter(Node);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    /// A comparison or function call: binds tighter than `and`/`or`.
    Atom(String),
    /// Text from [`Filter::raw`]: parenthesised when combined, since it may hold `or`.
    Raw(String),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

impl Filter {
    fn compare(field: &str, op: &str, value: Literal) -> Self {
        Filter(Node::Atom(format!("{field} {op} {value}")))
    }

    /// `field eq value`
    pub fn eq(field: impl AsRef<str>, value: impl Into<Literal>) -> Self {
        Self::compare(field.as_ref(), "eq", value.into())
    }

    /// `field ne value`
    pub fn ne(field: impl AsRef<str>, value: impl Into<Literal>) -> Self {
        Self::compare(field.as_ref(), "ne", value.into())
    }

    /// `field gt value`
    pub fn gt(field: impl AsRef<str>, value: impl Into<Literal>) -> Self {
        Self::compare(field.as_ref(), "gt", value.into())
    }

    /// `field ge value`
    pub fn ge(field: impl AsRef<str>, value: impl Into<Literal>) -> Self {
        Self::compare(field.as_ref(), "ge", value.into())
    }

    /// `field lt value`
    pub fn lt(field: impl AsRef<str>, value: impl Into<Literal>) -> Self {
        Self::compare(field.as_ref(), "lt", value.into())
    }

    /// `field le value`
    pub fn le(field: impl AsRef<str>, value: impl Into<Literal>) -> Self {
        Self::compare(field.as_ref(), "le", value.into())
    }

    /// `field eq null`
    pub fn is_null(field: impl AsRef<str>) -> Self {
        Self::eq(field, Literal::null())
    }

    /// `field ne null`
    pub fn not_null(field: impl AsRef<str>) -> Self {
        Self::ne(field, Literal::null())
    }

    fn function(name: &str, field: &str, text: &str) -> Self {
        Filter(Node::Atom(format!(
            "{name}({field},{})",
            Literal::string(text)
        )))
    }

    /// `startswith(field,'text')`
    pub fn startswith(field: impl AsRef<str>, text: &str) -> Self {
        Self::function("startswith", field.as_ref(), text)
    }

    /// `endswith(field,'text')`
    pub fn endswith(field: impl AsRef<str>, text: &str) -> Self {
        Self::function("endswith", field.as_ref(), text)
    }

    /// `contains(field,'text')`
    pub fn contains(field: impl AsRef<str>, text: &str) -> Self {
        Self::function("contains", field.as_ref(), text)
    }

    /// An expression written by hand, sent as it is (only spaces, quotes, `&`, `#` and
    /// `+` are percent-encoded on the way). Inside string literals, write `''` for a quote
    /// and percent-encode the rest as `encodeURIComponent` would; prefer the
    /// typed constructors, which do that for you.
    pub fn raw(text: impl Into<String>) -> Self {
        Filter(Node::Raw(text.into()))
    }

    /// Both this and `other`.
    #[must_use]
    pub fn and(self, other: Filter) -> Self {
        let mut items = match self.0 {
            Node::And(items) => items,
            node => vec![node],
        };
        match other.0 {
            Node::And(more) => items.extend(more),
            node => items.push(node),
        }
        Filter(Node::And(items))
    }

    /// This or `other`.
    #[must_use]
    pub fn or(self, other: Filter) -> Self {
        let mut items = match self.0 {
            Node::Or(items) => items,
            node => vec![node],
        };
        match other.0 {
            Node::Or(more) => items.extend(more),
            node => items.push(node),
        }
        Filter(Node::Or(items))
    }

    /// Not this: `not(…)`.
    #[allow(clippy::should_implement_trait)]
    #[must_use]
    pub fn not(self) -> Self {
        Filter(Node::Not(Box::new(self.0)))
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_node(f, &self.0)
    }
}

fn write_node(f: &mut fmt::Formatter<'_>, node: &Node) -> fmt::Result {
    let joined = |f: &mut fmt::Formatter<'_>, items: &[Node], op: &str, wrap: fn(&Node) -> bool| {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                write!(f, " {op} ")?;
            }
            if wrap(item) {
                f.write_str("(")?;
                write_node(f, item)?;
                f.write_str(")")?;
            } else {
                write_node(f, item)?;
            }
        }
        Ok(())
    };
    match node {
        Node::Atom(text) | Node::Raw(text) => f.write_str(text),
        // `and` binds tighter than `or`: only an `or` (or unknown raw text) needs brackets.
        Node::And(items) => joined(f, items, "and", |n| matches!(n, Node::Or(_) | Node::Raw(_))),
        Node::Or(items) => joined(f, items, "or", |n| matches!(n, Node::Raw(_))),
        Node::Not(inner) => {
            f.write_str("not(")?;
            write_node(f, inner)?;
            f.write_str(")")
        }
    }
}

/// The direction of one `$orderby` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// `asc`
    Asc,
    /// `desc`
    Desc,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// One `$expand` item: a navigation field and its own options, e.g.
/// `is_of__actor($select=id)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expand {
    field: String,
    options: ODataOptions,
}

impl Expand {
    /// Expands `field` with no options of its own.
    pub fn new(field: impl AsRef<str>) -> Self {
        Expand {
            field: field.as_ref().to_string(),
            options: ODataOptions::default(),
        }
    }

    /// The options applied to the expanded rows (`$select`, `$filter`, …).
    #[must_use]
    pub fn options(mut self, options: ODataOptions) -> Self {
        self.options = options;
        self
    }
}

impl fmt::Display for Expand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.field)?;
        let nested: Vec<String> = self
            .options
            .rendered()
            .pairs()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if !nested.is_empty() {
            write!(f, "({})", nested.join(";"))?;
        }
        Ok(())
    }
}

/// The options of one OData request.
///
/// When a method has options of its own (a filter on the key's owner, `$orderby=name asc`),
/// a caller's are merged in with [`ODataOptions::merged_with`], the way balena's SDKs merge
/// them: the caller's `$orderby`, `$top` and `$skip` replace the method's, `$select` and
/// `$expand` lists are joined, and filters are combined with `and`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ODataOptions {
    filter: Option<Filter>,
    select: Vec<String>,
    expand: Vec<Expand>,
    orderby: Vec<(String, Order)>,
    top: Option<u64>,
    skip: Option<u64>,
}

impl ODataOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a filter, combined with `and` with any filter already set.
    #[must_use]
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(match self.filter {
            Some(before) => before.and(filter),
            None => filter,
        });
        self
    }

    /// Adds fields to `$select`: only those are returned.
    #[must_use]
    pub fn select<I, F>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: AsRef<str>,
    {
        self.select
            .extend(fields.into_iter().map(|f| f.as_ref().to_string()));
        self
    }

    /// Adds a navigation field to `$expand`.
    #[must_use]
    pub fn expand(mut self, expand: Expand) -> Self {
        self.expand.push(expand);
        self
    }

    /// Adds a sort key to `$orderby` (after any set before).
    #[must_use]
    pub fn orderby(mut self, field: impl AsRef<str>, order: Order) -> Self {
        self.orderby.push((field.as_ref().to_string(), order));
        self
    }

    /// At most `n` rows (`$top`).
    #[must_use]
    pub fn top(mut self, n: u64) -> Self {
        self.top = Some(n);
        self
    }

    /// Skips the first `n` rows (`$skip`).
    #[must_use]
    pub fn skip(mut self, n: u64) -> Self {
        self.skip = Some(n);
        self
    }

    /// These options (a method's defaults) with the caller's merged in, as balena's SDKs
    /// merge them (`mergePineOptions` in `balena-io/balena-sdk`, `src/util/index.ts`).
    #[must_use]
    pub fn merged_with(mut self, caller: ODataOptions) -> Self {
        if let Some(filter) = caller.filter {
            self = self.filter(filter);
        }
        self.select.extend(caller.select);
        self.expand.extend(caller.expand);
        if !caller.orderby.is_empty() {
            self.orderby = caller.orderby;
        }
        self.top = caller.top.or(self.top);
        self.skip = caller.skip.or(self.skip);
        self
    }

    /// Whether `$orderby` names `field`.
    pub fn has_orderby(&self, field: impl AsRef<str>) -> bool {
        self.orderby.iter().any(|(f, _)| f == field.as_ref())
    }

    /// `$top`, if set.
    pub fn top_value(&self) -> Option<u64> {
        self.top
    }

    /// `$skip`, if set.
    pub fn skip_value(&self) -> Option<u64> {
        self.skip
    }

    /// Each option as its OData text, to hand to a generated request's query parameters.
    pub fn rendered(&self) -> Rendered {
        let list = |items: Vec<String>| (!items.is_empty()).then(|| items.join(","));
        Rendered {
            orderby: list(
                self.orderby
                    .iter()
                    .map(|(field, order)| format!("{field} {}", order.as_str()))
                    .collect(),
            ),
            select: list(self.select.clone()),
            expand: list(self.expand.iter().map(Expand::to_string).collect()),
            top: self.top,
            skip: self.skip,
            filter: self.filter.as_ref().map(Filter::to_string),
        }
    }
}

/// The options as OData text, before URL encoding; `None` for an option not set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rendered {
    /// `$orderby`: `field dir` items joined with `,`.
    pub orderby: Option<String>,
    /// `$select`: fields joined with `,`.
    pub select: Option<String>,
    /// `$expand`: items joined with `,`, each with its own options in brackets.
    pub expand: Option<String>,
    /// `$top`
    pub top: Option<u64>,
    /// `$skip`
    pub skip: Option<u64>,
    /// `$filter`
    pub filter: Option<String>,
}

impl Rendered {
    /// `(name, value)` for each option set, in [`OPTION_ORDER`].
    fn pairs(&self) -> impl Iterator<Item = (&'static str, String)> {
        [
            ("$orderby", self.orderby.clone()),
            ("$select", self.select.clone()),
            ("$expand", self.expand.clone()),
            ("$top", self.top.map(|n| n.to_string())),
            ("$skip", self.skip.map(|n| n.to_string())),
            ("$filter", self.filter.clone()),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
    }
}

/// The order pine's JS client emits the options in; the server does not care.
const OPTION_ORDER: [&str; 6] = ["$orderby", "$select", "$expand", "$top", "$skip", "$filter"];

/// Every row of a listing as one stream, one `$top`/`$skip` page at a time as the stream is
/// read (for servers with no cursor, next link or total), `fetch` getting each page's options.
///
/// `$top` in `options` sets the page size (default `default_top`); the stream starts at the
/// first row whatever `$skip` says, as every `.stream()` starts at the first page. `key asc` is added to `$orderby` (unless it names `key` already), so that pages neither
/// repeat nor miss a row when `key` is unique. The stream ends after a short page; a server
/// that answers every `$skip` with the same page, or pages on past
/// [`MAX_PAGES`](crate::MAX_PAGES), ends it with [`Error::Pagination`],
/// as [`paginate`](crate::paginate) does.
pub fn paginate<T, F, Fut>(
    options: ODataOptions,
    key: impl AsRef<str>,
    default_top: u64,
    mut fetch: F,
) -> impl Stream<Item = Result<T>> + Unpin
where
    T: Serialize,
    F: FnMut(ODataOptions) -> Fut,
    Fut: Future<Output = Result<Vec<T>>>,
{
    let options = if options.has_orderby(&key) {
        options
    } else {
        options.orderby(key, Order::Asc)
    };
    let limit = options.top_value().unwrap_or(default_top);
    crate::paginate(0, move |offset| {
        let page = fetch(options.clone().top(limit).skip(offset));
        async move { Ok(Page::offset(page.await?, offset, limit)) }
    })
}

/// The one row a look-up by key or unique field (`what`, as error messages name it) finds.
/// An OData server answers an unknown key with 200 and no rows: that is
/// [`Error::NotFound`]; several rows are refused with [`Error::InvalidRequest`].
pub fn the_one<T>(rows: Vec<T>, what: &dyn fmt::Display) -> Result<T> {
    let count = rows.len();
    match rows.into_iter().next() {
        Some(row) if count == 1 => Ok(row),
        None => Err(Error::NotFound(format!(
            "no {what} is visible to this credential (the server answered with no rows)"
        ))),
        Some(_) => Err(Error::InvalidRequest(format!(
            "{what} matches {count} rows; use its numeric id"
        ))),
    }
}

/// A listing's rule against fetching secrets, applied to a form-encoded query (what the
/// generated code sends) before [`wire_query`].
///
/// An OData server answers a request without `$select` with every column. When the query
/// selects nothing (or only blanks), this adds `$select` with `default_select`, the fields
/// the caller's model reads. A `$select` that names one of `secret_fields` (in any case) or
/// `*`, at the top or inside an `$expand`, percent-encoded once more or not, is refused with
/// a message that names the field, since the server would decode it to the same request.
///
/// Kept (feature `testing`) as the reference the generated wire path ([`wire_url`]) is
/// tested against: the form-encode-then-rewrite path the request hook used to take.
#[cfg(any(test, feature = "testing"))]
pub fn select_without_secrets(
    url: &mut Url,
    secret_fields: &[&str],
    default_select: &[&str],
) -> Result<(), String> {
    let Selects { named, blank } = selects_without_secrets(url.query_pairs(), secret_fields)?;
    if blank {
        // A blank `$select` names no field: it goes, and the query is written again.
        let is_select = |name: &str| percent_decoded(name) == "$select";
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .filter(|(name, value)| !is_select(name) || !value.trim().is_empty())
            .collect();
        url.query_pairs_mut().clear().extend_pairs(&pairs);
    }
    if named == 0 {
        // In the generated code's form encoding, for `wire_query` to rewrite.
        url.query_pairs_mut()
            .append_pair("$select", &default_select.join(","));
    }
    Ok(())
}

/// [`select_without_secrets`] then [`wire_query`], in one pass over the query where it
/// selects no blank: the default `$select` (`default_select`, the field names joined by
/// `,`) goes straight into the wire query instead of being form-encoded into the URL and
/// decoded again. The URL is not changed; install the result with `set_query`.
///
/// Kept (feature `testing`) as the reference the generated wire path ([`wire_url`]) is
/// tested against: the form-encode-then-rewrite path the request hook used to take.
#[cfg(any(test, feature = "testing"))]
pub fn listing_wire_query(
    url: &Url,
    secret_fields: &[&str],
    default_select: &str,
) -> Result<Option<String>, String> {
    // The query is decoded once, for the rule and for the wire query.
    let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = url.query_pairs().collect();
    let Selects { named, blank } = selects_without_secrets(pairs.iter(), secret_fields)?;
    if blank {
        let mut url = url.clone();
        let fields: Vec<&str> = default_select.split(',').collect();
        select_without_secrets(&mut url, secret_fields, &fields)?;
        return Ok(wire_query(&url));
    }
    let extra = (named == 0).then_some(("$select", default_select));
    Ok(wire_query_from(
        pairs,
        url.query().map_or(0, str::len),
        extra,
    ))
}

/// A listing's rule against fetching secrets, for [`wire_url`]: the columns that hold
/// secrets, and the `$select` (field names joined by `,`) sent when the caller selects none.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct SecretRule<'a> {
    /// The columns that hold secrets (compared without case).
    pub secret_fields: &'a [&'a str],
    /// The `$select` sent when the caller selects nothing.
    pub default_select: &'a str,
}

impl<'a> SecretRule<'a> {
    /// The rule for a listing whose rows hold `secret_fields`.
    pub const fn new(secret_fields: &'a [&'a str], default_select: &'a str) -> Self {
        SecretRule {
            secret_fields,
            default_select,
        }
    }
}

/// A query parameter's value as it is sent, before [`wire_url`]'s escaping.
pub trait WireValue {
    /// The value as text.
    fn wire_value(&self) -> Cow<'_, str>;
}

impl WireValue for String {
    fn wire_value(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

macro_rules! wire_numbers {
    ($($t:ty),*) => {$(
        impl WireValue for $t {
            fn wire_value(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}
wire_numbers!(i32, i64, u32, u64, bool);

/// An optional parameter's value for [`wire_url`] (`None` sends nothing).
pub fn wire_value<T: WireValue>(value: &Option<T>) -> Option<Cow<'_, str>> {
    value.as_ref().map(T::wire_value)
}

/// The URL `base` (no query yet) with `options`, the typed OData options of a generated
/// call, appended as the query in OData's wire form, so that nothing is form-encoded and
/// decoded again on the way: options in pine's order, escaped as the server's parser reads
/// them, the rest of the encoding done by the URL parser that reads the string. With a
/// `rule` (a listing of rows that hold secrets), a `$select` or `$expand` that names a
/// secret column or `*` (also percent-encoded once more) is refused, and the default
/// `$select` is added when they select nothing.
pub fn wire_url(
    base: fmt::Arguments<'_>,
    options: &[(&str, Option<Cow<'_, str>>)],
    rule: Option<SecretRule<'_>>,
) -> Result<String, String> {
    let set = || {
        options
            .iter()
            .filter_map(|(name, value)| Some((*name, value.as_deref()?)))
    };
    let (mut default_select, mut blank_select) = (None, false);
    if let Some(rule) = rule {
        let Selects { named, blank } = selects_without_secrets(set(), rule.secret_fields)?;
        // A blank `$select` names no field: it goes.
        blank_select = blank;
        default_select = (named == 0).then_some(rule.default_select);
    }
    let sent = || {
        set().filter(move |(name, value)| {
            !(blank_select && *name == "$select" && value.trim().is_empty())
        })
    };
    // One allocation for the URL and its query (escapes aside): the base is written into
    // it, not formatted apart and grown.
    let length: usize = sent()
        .map(|(name, value)| name.len() + value.len() + 2)
        .chain(default_select.map(|fields| fields.len() + 9))
        .sum();
    let mut url = String::with_capacity(length.saturating_add(64));
    fmt::Write::write_fmt(&mut url, base).map_err(|e| format!("the URL: {e}"))?;
    let mut separator = '?';
    let mut write = |url: &mut String, name: &str, value: &str| {
        url.push(separator);
        separator = '&';
        escape_into(url, name);
        url.push('=');
        escape_into(url, value);
    };
    // In pine's order of options, then any other as given (what a stable sort by that
    // order sends).
    for option in OPTION_ORDER {
        for (name, value) in sent().filter(|(name, _)| *name == option) {
            write(&mut url, name, value);
        }
        if let Some(fields) = default_select.filter(|_| option == "$select") {
            write(&mut url, option, fields);
        }
    }
    for (name, value) in sent().filter(|(name, _)| !OPTION_ORDER.contains(name)) {
        write(&mut url, name, value);
    }
    // The URL parser drops spaces and control characters at the end of the string, where
    // `set_query` would have encoded them (and dropped tabs and newlines, as both do
    // anywhere): encode them here, as it would.
    let kept = url.trim_end_matches(|c: char| c <= ' ').len();
    if kept < url.len() {
        let trailing = url.split_off(kept);
        for byte in trailing
            .bytes()
            .filter(|b| !matches!(b, b'\t' | b'\n' | b'\r'))
        {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(url)
}

/// The `$select`s of a query that passed the secret rule.
struct Selects {
    /// How many name at least one field.
    named: usize,
    /// Whether one is blank.
    blank: bool,
}

/// The secret rule of [`select_without_secrets`], reading the query in place.
fn selects_without_secrets<N, V>(
    pairs: impl Iterator<Item = impl std::borrow::Borrow<(N, V)>>,
    secret_fields: &[&str],
) -> Result<Selects, String>
where
    N: AsRef<str>,
    V: AsRef<str>,
{
    // Read in place: nothing is copied for a name or value with nothing to decode.
    let mut selects = 0usize;
    let mut blank = false;
    for pair in pairs {
        let (name, value) = pair.borrow();
        let (name, value) = (name.as_ref(), value.as_ref());
        // A name or value may hold `%24select`, which the server reads as `$select`.
        let decoded = percent_decode_str(name).decode_utf8_lossy();
        let check = |list: &str| -> Result<(), String> {
            for field in list.split(',') {
                let field = field.trim();
                if field == "*" {
                    let named: Vec<String> =
                        secret_fields.iter().map(|s| format!("`{s}`")).collect();
                    return Err(format!(
                        "`$select` asks for every column with `*`, {} (secrets) among them: a \
                         listing never fetches secrets, name the fields you need",
                        named.join(", ")
                    ));
                }
                if secret_fields.iter().any(|s| field.eq_ignore_ascii_case(s)) {
                    return Err(format!(
                        "`$select` names `{field}`, a column that holds a secret: the API hands \
                         a secret out once, when it is created, and a listing never fetches it"
                    ));
                }
            }
            Ok(())
        };
        let once = || percent_decode_str(value).decode_utf8_lossy();
        match decoded.as_ref() {
            "$select" => {
                if value.trim().is_empty() {
                    blank = true;
                } else {
                    selects += 1;
                }
                check(value)?;
                check(&once())?;
            }
            "$expand" => {
                let once = once();
                for list in nested_selects(value).chain(nested_selects(&once)) {
                    check(list)?;
                }
            }
            _ => {}
        }
    }
    Ok(Selects {
        named: selects,
        blank,
    })
}

/// The field lists of every `$select=` inside an `$expand` value, at any depth.
fn nested_selects(expand: &str) -> impl Iterator<Item = &str> {
    expand
        .split("$select=")
        .skip(1)
        .map(|rest| rest.split([';', ')', '&']).next().unwrap_or_default())
}

/// `text` with each `%XX` decoded once (invalid UTF-8 replaced), to check what the server
/// will decode.
#[cfg(any(test, feature = "testing"))]
fn percent_decoded(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Rewrites a form-encoded query (what progenitor sends) into the OData wire form pine's
/// parser accepts, losslessly: every pair is decoded, options are put in pine's order,
/// and each is re-sent with `$ , ( ) = ' %` as they are and only what a query cannot hold
/// raw encoded (`&`, `#`, `+` here; spaces, quotes and non-ASCII by [`Url::set_query`]).
///
/// Returns the query to install with `set_query`, or `None` for an empty one.
///
/// Kept (feature `testing`) as the reference the generated wire path ([`wire_url`]) is
/// tested against: the form-encode-then-rewrite path the request hook used to take.
#[cfg(any(test, feature = "testing"))]
pub fn wire_query(url: &Url) -> Option<String> {
    wire_query_with(url, None)
}

/// [`wire_query`] with one more pair, already decoded.
#[cfg(any(test, feature = "testing"))]
fn wire_query_with<'u>(url: &'u Url, extra: Option<(&'u str, &'u str)>) -> Option<String> {
    // Borrowed where a pair has nothing to decode.
    let pairs = url.query_pairs().collect();
    wire_query_from(pairs, url.query().map_or(0, str::len), extra)
}

/// [`wire_query_with`] on the decoded pairs of a query `query_len` bytes long.
#[cfg(any(test, feature = "testing"))]
fn wire_query_from<'u>(
    mut pairs: Vec<(Cow<'u, str>, Cow<'u, str>)>,
    query_len: usize,
    extra: Option<(&'u str, &'u str)>,
) -> Option<String> {
    pairs.extend(extra.map(|(name, value)| (Cow::Borrowed(name), Cow::Borrowed(value))));
    if pairs.is_empty() {
        return None;
    }
    let extra_len = extra.map_or(0, |(name, value)| name.len() + value.len() + 2);
    let mut query = String::with_capacity(query_len + extra_len + 8);
    write_wire_query(&mut query, pairs, None);
    Some(query)
}

/// Appends the pairs and `extra` to `query`, in pine's order of options, each escaped.
#[cfg(any(test, feature = "testing"))]
fn write_wire_query<'u>(
    query: &mut String,
    mut pairs: Vec<(Cow<'u, str>, Cow<'u, str>)>,
    extra: Option<(&'u str, &'u str)>,
) {
    pairs.extend(extra.map(|(name, value)| (Cow::Borrowed(name), Cow::Borrowed(value))));
    let rank = |name: &str| {
        OPTION_ORDER
            .iter()
            .position(|o| *o == name)
            .unwrap_or(OPTION_ORDER.len())
    };
    pairs.sort_by_key(|(name, _)| rank(name));
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            query.push('&');
        }
        escape_into(query, name);
        query.push('=');
        escape_into(query, value);
    }
}

/// Appends `text`, encoding what would otherwise change the query's structure (`&` ends an
/// option, `#` the query, `+` reads as a space) and leaving the rest to `set_query`.
fn escape_into(out: &mut String, text: &str) {
    // The runs between those three ASCII characters are copied whole; they are found byte
    // by byte (a `char` set pattern decodes every character), and being ASCII they never
    // fall inside a multi-byte character, so every cut is on a character boundary.
    let mut rest = text;
    while let Some(at) = rest.bytes().position(|b| matches!(b, b'&' | b'#' | b'+')) {
        let (run, tail) = rest.split_at(at);
        out.push_str(run);
        out.push_str(match tail.as_bytes().first() {
            Some(b'&') => "%26",
            Some(b'#') => "%23",
            _ => "%2B",
        });
        rest = tail.get(1..).unwrap_or_default();
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_look_up_finds_exactly_one_row() {
        let what = "device 5";
        assert_eq!(super::the_one(vec![7], &what).unwrap(), 7);
        let none = super::the_one(Vec::<i64>::new(), &what).unwrap_err();
        assert!(
            none.is_not_found() && none.to_string().contains("no device 5"),
            "{none}"
        );
        let two = super::the_one(vec![1, 2], &what).unwrap_err();
        assert!(two.to_string().contains("device 5 matches 2 rows"), "{two}");
    }

    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn url(query: &str) -> Url {
        let mut url = Url::parse("https://api.example.test/v7/api_key").unwrap();
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        url
    }

    fn wire(query: &str) -> Option<String> {
        let mut url = url(query);
        let wire = wire_query(&url)?;
        url.set_query(Some(&wire));
        url.query().map(str::to_string)
    }

    const SECRETS: &[&str] = &["key"];
    const MODEL: &[&str] = &["id", "name"];

    /// A listing's query as sent: the secret rule, then the wire rewrite.
    fn listing(query: &str) -> Result<Option<String>, String> {
        let mut url = url(query);
        let sent = listing_wire_query(&url, SECRETS, &MODEL.join(","));
        // The one pass sends what the rule and the rewrite, one after the other, would.
        let two_steps = select_without_secrets(&mut url, SECRETS, MODEL).map(|()| wire_query(&url));
        assert_eq!(sent, two_steps);
        let wire = sent?;
        url.set_query(wire.as_deref());
        Ok(url.query().map(str::to_string))
    }

    #[test]
    fn a_listing_without_select_asks_for_the_default_fields_only() {
        assert_eq!(listing("").unwrap().as_deref(), Some("$select=id,name"));
        assert_eq!(
            listing("%24orderby=name+asc&%24select=+")
                .unwrap()
                .as_deref(),
            Some("$orderby=name%20asc&$select=id,name"),
            "a blank `$select` names no field"
        );
        assert_eq!(
            listing("%24select=id%2Cdescription&%24expand=owner%28%24select%3Did%29").unwrap(),
            Some("$select=id,description&$expand=owner($select=id)".into()),
            "the caller's own fields are kept as they are"
        );
        assert_eq!(
            listing("%24filter=key+eq+%27x%27").unwrap().as_deref(),
            Some("$select=id,name&$filter=key%20eq%20%27x%27"),
            "a filter on a secret column fetches no secret"
        );
    }

    #[test]
    fn wire_url_writes_typed_options_in_wire_form() {
        let rule = SecretRule::new(SECRETS, "id,name");
        let sent = |options: &[(&str, Option<Cow<'_, str>>)], rule| {
            wire_url(
                format_args!("https://api.example.test/v7/api_key"),
                options,
                rule,
            )
            .map(|url| Url::parse(&url).unwrap().query().map(str::to_string))
        };
        let top = Some(7_i64);
        let options = [
            ("$filter", Some("name eq 'a b&c' ".into())),
            ("$select", None),
            ("$top", wire_value(&top)),
        ];
        assert_eq!(
            sent(&options, Some(rule)).unwrap().as_deref(),
            Some("$select=id,name&$top=7&$filter=name%20eq%20%27a%20b%26c%27%20"),
            "the default `$select` is added and a trailing blank kept"
        );
        assert_eq!(
            sent(&options, None).unwrap().as_deref(),
            Some("$top=7&$filter=name%20eq%20%27a%20b%26c%27%20")
        );
        assert_eq!(sent(&[("$top", None)], None).unwrap(), None);
        let key = [("$select", Some("id,KEY".into()))];
        assert!(sent(&key, Some(rule)).unwrap_err().contains("`KEY`"));
        let star = [("$expand", Some("owner($select=*)".into()))];
        assert!(sent(&star, Some(rule)).unwrap_err().contains("`*`"));
    }

    #[test]
    fn a_select_of_a_secret_is_refused_wherever_it_is_written() {
        for query in [
            "%24select=id%2Ckey",
            "%24select=name%2C+KEY+",
            "%24select=*",
            "%24select=id&%24select=key",
            "%24expand=owner%28%24select%3Did%2Ckey%29",
            "%24expand=owner%28%24filter%3Did+eq+1%3B%24select%3Dkey%29",
            // Encoded once more: the server still reads `$select` and `key`.
            "%2524select=key",
            "%24select=id%2C%256Bey",
            "%24expand=owner%28%2524select%3Dkey%29",
        ] {
            let why = listing(query).unwrap_err();
            assert!(
                why.contains("`$select`") && why.to_lowercase().contains("`key`"),
                "{query}: {why}"
            );
        }
        let mut two = url("%24select=token");
        let why = select_without_secrets(&mut two, &["key", "token"], MODEL).unwrap_err();
        assert!(why.contains("`token`"), "{why}");
    }

    #[test]
    fn string_literals_double_quotes_and_encode_like_encode_uri_component() {
        assert_eq!(Literal::from("O'Neil key").as_str(), "'O''Neil%20key'");
        assert_eq!(Literal::from("myorg/myapp").as_str(), "'myorg%2Fmyapp'");
        assert_eq!(
            Literal::from("a&b%c+d=e#f;g,h").as_str(),
            "'a%26b%25c%2Bd%3De%23f%3Bg%2Ch'"
        );
        assert_eq!(Literal::from("(ok)!*~-_.").as_str(), "'(ok)!*~-_.'");
        assert_eq!(Literal::from("ünï").as_str(), "'%C3%BCn%C3%AF'");
        assert_eq!(Literal::from("''").as_str(), "''''''");
    }

    #[test]
    fn other_literals_are_bare_or_datetime_quoted() {
        assert_eq!(Literal::from(1111_i64).as_str(), "1111");
        assert_eq!(Literal::from(-3_i32).as_str(), "-3");
        assert_eq!(Literal::from(7_u64).as_str(), "7");
        assert_eq!(Literal::from(true).as_str(), "true");
        assert_eq!(Literal::from(None::<i64>).as_str(), "null");
        let at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            Literal::from(at).as_str(),
            "datetime'2030-01-01T00:00:00.000Z'"
        );
    }

    #[test]
    fn filters_flatten_and_bracket_only_where_precedence_needs_it() {
        let f = Filter::eq("is_of__actor", 1111)
            .and(Filter::not_null("name"))
            .and(Filter::is_null("expiry_date"));
        assert_eq!(
            f.to_string(),
            "is_of__actor eq 1111 and name ne null and expiry_date eq null"
        );
        let slug = Filter::eq("slug", "myorg/myapp").or(Filter::eq("uuid", "myorg/myapp"));
        assert_eq!(
            slug.to_string(),
            "slug eq 'myorg%2Fmyapp' or uuid eq 'myorg%2Fmyapp'"
        );
        let mixed = Filter::eq("a", 1).and(Filter::eq("b", 2).or(Filter::eq("c", 3)));
        assert_eq!(mixed.to_string(), "a eq 1 and (b eq 2 or c eq 3)");
        let either = Filter::eq("a", 1)
            .and(Filter::eq("b", 2))
            .or(Filter::eq("c", 3));
        assert_eq!(either.to_string(), "a eq 1 and b eq 2 or c eq 3");
        assert_eq!(
            Filter::contains("name", "ci").not().to_string(),
            "not(contains(name,'ci'))"
        );
        assert_eq!(
            Filter::raw("a eq 1 or b eq 2")
                .and(Filter::eq("c", 3))
                .to_string(),
            "(a eq 1 or b eq 2) and c eq 3"
        );
    }

    #[test]
    fn caller_options_merge_as_the_sdk_merges_them() {
        let defaults = ODataOptions::new()
            .filter(Filter::eq("is_of__actor", 1111))
            .orderby("name", Order::Asc)
            .select(["id"]);
        let caller = ODataOptions::new()
            .filter(Filter::is_null("expiry_date"))
            .orderby("created_at", Order::Desc)
            .select(["name"])
            .top(5);
        let merged = defaults.merged_with(caller);
        assert!(merged.has_orderby("created_at") && !merged.has_orderby("name"));
        assert_eq!((merged.top_value(), merged.skip_value()), (Some(5), None));
        let r = merged.rendered();
        assert_eq!(r.orderby.as_deref(), Some("created_at desc"));
        assert_eq!(r.select.as_deref(), Some("id,name"));
        assert_eq!(
            r.filter.as_deref(),
            Some("is_of__actor eq 1111 and expiry_date eq null")
        );
        assert_eq!((r.top, r.skip), (Some(5), None));
        let kept = ODataOptions::new()
            .orderby("name", Order::Asc)
            .merged_with(ODataOptions::new())
            .rendered();
        assert_eq!(kept.orderby.as_deref(), Some("name asc"));
    }

    #[test]
    fn expand_renders_nested_options_with_semicolons() {
        let e = Expand::new("is_of__actor").options(
            ODataOptions::new()
                .select(["id"])
                .filter(Filter::eq("id", 5)),
        );
        assert_eq!(e.to_string(), "is_of__actor($select=id;$filter=id eq 5)");
        assert_eq!(Expand::new("is_of__actor").to_string(), "is_of__actor");
    }

    #[test]
    fn the_form_encoded_query_becomes_the_js_sdk_wire_form() {
        // What progenitor sends (serde_urlencoded, alphabetical) for the JS SDK's `getAll`
        // with `$select`, `$top`, `$skip` and a `startswith` filter.
        let form = "%24filter=startswith%28name%2C%27O%27%27Neil%2520key%27%29\
                    &%24orderby=name+asc&%24select=id%2Cname&%24skip=20&%24top=10";
        assert_eq!(
            wire(form).as_deref(),
            Some(
                "$orderby=name%20asc&$select=id,name&$top=10&$skip=20\
                 &$filter=startswith(name,%27O%27%27Neil%20key%27)"
            )
        );
    }

    #[test]
    fn the_rewrite_keeps_structure_characters_inside_values() {
        // `&`, `#` and `+` in an option (raw text) must not split or end the query.
        let form = "%24filter=a+%26+b+%23+c+%2B+d";
        assert_eq!(
            wire(form).as_deref(),
            Some("$filter=a%20%26%20b%20%23%20c%20%2B%20d")
        );
        assert_eq!(wire(""), None);
    }

    #[tokio::test]
    async fn pages_follow_top_and_skip_in_key_order() {
        use futures::TryStreamExt;
        use std::sync::Mutex;

        let asked = Mutex::new(Vec::new());
        let rows: Vec<u64> = (0..5).collect();
        let fetch = |page: ODataOptions| {
            let r = page.rendered();
            asked.lock().unwrap().push(r.clone());
            let (skip, top) = (r.skip.unwrap() as usize, r.top.unwrap() as usize);
            let rows: Vec<u64> = rows.iter().copied().skip(skip).take(top).collect();
            async move { Ok(rows) }
        };
        let options = ODataOptions::new()
            .orderby("name", Order::Asc)
            .top(2)
            .skip(1);
        let got: Vec<u64> = paginate(options, "id", 100, fetch)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            got,
            [0, 1, 2, 3, 4],
            "a `$skip` given is not where a stream starts"
        );
        let asked = asked.into_inner().unwrap();
        let skips: Vec<_> = asked.iter().map(|r| (r.top, r.skip)).collect();
        assert_eq!(
            skips,
            [(Some(2), Some(0)), (Some(2), Some(2)), (Some(2), Some(4))]
        );
        assert!(
            asked
                .iter()
                .all(|r| r.orderby.as_deref() == Some("name asc,id asc"))
        );

        // An order on the key is kept as it is; no `$top` pages by the default.
        let asked = Mutex::new(Vec::new());
        let fetch = |page: ODataOptions| {
            asked.lock().unwrap().push(page.rendered());
            async { Ok(vec![7_u64]) }
        };
        let options = ODataOptions::new().orderby("id", Order::Desc);
        let got: Vec<u64> = paginate(options, "id", 100, fetch)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got, [7]);
        let asked = asked.into_inner().unwrap();
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].orderby.as_deref(), Some("id desc"));
        assert_eq!((asked[0].top, asked[0].skip), (Some(100), Some(0)));
    }

    fn option_name() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(OPTION_ORDER.to_vec()).prop_map(str::to_string),
            "[a-z_$]{1,8}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever the values hold, the wire query has one `name=value` part per pair, in
        /// pine's order, and each part decodes (once, as the server does) to what the
        /// pair's text decodes to.
        #[test]
        fn the_wire_query_keeps_every_pair_and_its_meaning(
            pairs in proptest::collection::vec((option_name(), any::<String>()), 1..6),
        ) {
            let mut url = url("");
            url.query_pairs_mut().extend_pairs(&pairs);
            let wire = wire_query(&url).unwrap();
            url.set_query(Some(&wire));
            let sent = url.query().unwrap();
            prop_assert!(!sent.contains(['#', '+', ' ']), "{}", sent);
            let parts: Vec<(String, String)> = sent
                .split('&')
                .map(|part| {
                    let (name, value) = part.split_once('=').unwrap();
                    (percent_decoded(name), percent_decoded(value))
                })
                .collect();
            let mut expected = pairs.clone();
            let rank = |n: &str| OPTION_ORDER.iter().position(|o| *o == n).unwrap_or(6);
            expected.sort_by_key(|(name, _)| rank(name));
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(n, v)| (percent_decoded(n), percent_decoded(v)))
                .collect();
            prop_assert_eq!(parts, expected);
        }

        /// The URL a generated call writes with [`wire_url`] is the one the request hook's
        /// rewrite of progenitor's form-encoded query gave: the same query, refusal and
        /// default `$select`, whatever the values hold (blanks and controls at the end too).
        #[test]
        fn wire_url_sends_what_the_rewrite_of_the_form_encoded_query_sent(
            pairs in proptest::collection::vec((option_name(), any::<String>()), 0..6),
            ruled in any::<bool>(),
        ) {
            let mut form = url("");
            for (name, value) in &pairs {
                form.query_pairs_mut().append_pair(name, value);
            }
            let rewritten = if ruled {
                listing_wire_query(&form, SECRETS, &MODEL.join(","))
            } else {
                Ok(wire_query(&form))
            };
            let before = rewritten.map(|wire| {
                form.set_query(wire.as_deref());
                form.to_string()
            });
            let options: Vec<(&str, Option<Cow<'_, str>>)> = pairs
                .iter()
                .map(|(name, value)| (name.as_str(), Some(Cow::Borrowed(value.as_str()))))
                .collect();
            let default = MODEL.join(",");
            let rule = ruled.then(|| SecretRule::new(SECRETS, &default));
            let base = url("").to_string();
            let now = wire_url(format_args!("{base}"), &options, rule)
                .map(|sent| Url::parse(&sent).unwrap().to_string());
            prop_assert_eq!(now, before);
        }

        /// A string literal never ends its quotes early, and decodes back to the text.
        #[test]
        fn a_string_literal_stays_inside_its_quotes(text in any::<String>()) {
            let literal = Literal::string(&text);
            let inner = literal
                .as_str()
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .unwrap();
            // Quotes come only in doubled pairs; the rest is unreserved or `%XX`.
            prop_assert!(!inner.replace("''", "").contains('\''), "{}", inner);
            prop_assert!(
                inner.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()%".contains(&b)),
                "{}", inner
            );
            prop_assert_eq!(percent_decoded(inner).replace("''", "'"), text);
        }

        /// A secret column in any case, with any blanks, encoded once more or not, at any
        /// place of a `$select` list, is refused; a list without one is kept as it is.
        #[test]
        fn a_secret_is_refused_anywhere_in_a_select(
            fields in proptest::collection::vec("[a-j_]{1,8}", 0..5),
            secret in proptest::option::of(
                (any::<proptest::sample::Index>(), "[kK][eE][yY]", " {0,2}", any::<bool>()),
            ),
            in_expand in any::<bool>(),
        ) {
            let mut list = fields.clone();
            if let Some((at, name, blank, encode)) = &secret {
                // Encoded once more, the server still reads the name.
                let name = if *encode {
                    format!("%{:02X}{}", name.as_bytes()[0], &name[1..])
                } else {
                    name.clone()
                };
                list.insert(at.index(list.len() + 1), format!("{blank}{name}{blank}"));
            }
            let value = list.join(",");
            let mut url = url("");
            if in_expand {
                url.query_pairs_mut().append_pair("$expand", &format!("owner($select={value})"));
            } else {
                url.query_pairs_mut().append_pair("$select", &value);
            }
            let result = select_without_secrets(&mut url, SECRETS, MODEL);
            prop_assert_eq!(result.is_err(), secret.is_some(), "{}: {:?}", value, result);
            if !in_expand && !fields.is_empty() && secret.is_none() {
                let kept: Vec<String> = url
                    .query_pairs()
                    .filter(|(name, _)| name == "$select")
                    .map(|(_, list)| list.into_owned())
                    .collect();
                prop_assert_eq!(kept, vec![value]);
            }
        }
    }
}
