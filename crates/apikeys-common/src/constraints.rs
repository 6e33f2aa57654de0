//! The bounds a fragment puts on what a request sends (`minimum`, `maxLength`, `minItems`,
//! …), checked before a request leaves: on the built request for its query and path, on the
//! typed body for the body ([`check_body`]). `cargo xtask codegen` lists each
//! operation's bounds in its `generated_client!` table; progenitor turns only some of them
//! into types, and a hand-written replacement type keeps none.
//!
//! The checks read the wire (query pairs, path segments) and the body's fields without allocating
//! when a value passes. A refusal names the operation and the field, and shows a number, a
//! length or the broken pattern, never a string's content, which may be a secret.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, PoisonError, RwLock};

use percent_encoding::percent_decode_str;
use regex::Regex;
use reqwest::Request;

mod typed;

/// One bound on one field of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraint {
    /// Where the field is.
    pub location: Location,
    /// The field's wire name; empty for [`Location::Body`].
    pub field: &'static str,
    /// The bound.
    pub rule: Rule,
}

/// Where a constrained field is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A query parameter.
    Query,
    /// A path parameter, as the template names it (`{id}`).
    Path,
    /// The JSON body itself.
    Body,
    /// A property of the JSON body object.
    Property,
}

/// A bound, as the fragment's keyword states it. A bound on a kind of value the field does
/// not hold (a length on a number) does not apply, as in JSON Schema, except that a
/// parameter with a numeric bound must be a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// `minimum`
    Minimum(i64),
    /// `minimum` with `exclusiveMinimum: true`
    ExclusiveMinimum(i64),
    /// `maximum`
    Maximum(i64),
    /// `maximum` with `exclusiveMaximum: true`
    ExclusiveMaximum(i64),
    /// `minLength`, in characters
    MinLength(usize),
    /// `maxLength`, in characters
    MaxLength(usize),
    /// `minItems`
    MinItems(usize),
    /// `maxItems`
    MaxItems(usize),
    /// `minProperties`
    MinProperties(usize),
    /// `maxProperties`
    MaxProperties(usize),
    /// `uniqueItems`: with `true`, no two items of the array are equal
    UniqueItems(bool),
    /// `pattern`: a string matches this regular expression (unanchored, as in JSON
    /// Schema). `cargo xtask codegen` lets through only patterns that Rust's `regex` and
    /// ECMA-262 read alike.
    Pattern(&'static str),
}

/// Checks every constraint of `operation` on `request`; the error is the first one broken.
pub(crate) fn check(
    operation: &str,
    constraints: &[Constraint],
    base_url: &str,
    template: &str,
    request: &Request,
) -> Result<(), String> {
    let mut query = false;
    for constraint in constraints {
        match constraint.location {
            Location::Query => query = true,
            Location::Path => {
                let segment =
                    path_parameter(base_url, request.url().path(), template, constraint.field);
                if let Some(segment) = segment {
                    let value = percent_decode_str(segment).decode_utf8_lossy();
                    check_text(operation, constraint, &value)?;
                }
            }
            // Checked on the typed body: see `check_body`.
            Location::Body | Location::Property => {}
        }
    }
    if query {
        // One pass over the query, whatever the number of bounds on it.
        // A value is decoded only when a bound is on its name.
        for (name, raw) in raw_query_pairs(request.url().query().unwrap_or("")) {
            let name = form_decode(name);
            let mut value = None;
            for constraint in constraints {
                if constraint.location == Location::Query && name == constraint.field {
                    let value = value.get_or_insert_with(|| form_decode(raw));
                    check_text(operation, constraint, value)?;
                }
            }
        }
    }
    Ok(())
}

/// Checks the body bounds of `operation` (at [`Location::Body`] and [`Location::Property`])
/// on the typed body the generated code is about to send (it calls this before sending;
/// `check` leaves them here). The body is read through its `Serialize`, which is what
/// writes its JSON, so the properties and values measured are the ones sent, without
/// writing the text and parsing it again.
pub fn check_body<T: serde::Serialize + ?Sized>(
    operation: &str,
    constraints: &[Constraint],
    body: &T,
) -> Result<(), String> {
    let on_body = |c: &Constraint| matches!(c.location, Location::Body | Location::Property);
    if !constraints.iter().any(on_body) {
        return Ok(());
    }
    let measurer = typed::Measurer {
        unique: wants_unique(constraints, Location::Body, ""),
        top: Some((operation, constraints)),
    };
    let measure = body.serialize(measurer).map_err(|typed::Stop(why)| why)?;
    for constraint in constraints.iter().filter(|c| c.location == Location::Body) {
        if let Rule::Pattern(pattern) = constraint.rule {
            typed::check_text_pattern(operation, constraint, pattern, body)
                .map_err(|typed::Stop(why)| why)?;
        }
        judge(operation, constraint, measure)?;
    }
    Ok(())
}

/// The decoded pairs of a query, as `Url::query_pairs` reads them; a name or value with
/// nothing to decode (no `%`, no `+`) is borrowed as it is, without a second look.
#[cfg(test)]
fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    raw_query_pairs(query).map(|(name, value)| (form_decode(name), form_decode(value)))
}

/// The pairs of a query as they are written, each to be read with [`form_decode`].
fn raw_query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// What `application/x-www-form-urlencoded` decoding makes of `raw`: `+` is a space, then
/// percent-decoding, then UTF-8 with replacement characters.
fn form_decode(raw: &str) -> Cow<'_, str> {
    if raw.contains(['%', '+']) {
        let spaced = raw.replace('+', " ");
        Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
    } else {
        Cow::Borrowed(raw)
    }
}

/// A query or path value: a string on the wire, which a numeric bound reads as a number.
fn check_text(operation: &str, constraint: &Constraint, value: &str) -> Result<(), String> {
    if let Rule::Pattern(pattern) = constraint.rule {
        return check_pattern(operation, constraint, pattern, value);
    }
    let measure = if constraint.rule.is_numeric() {
        match parse_number(value) {
            Some(number) => Measure::Number(number),
            None => {
                return Err(format!(
                    "{operation}: `{}` must be a number",
                    constraint.field
                ));
            }
        }
    } else {
        Measure::Text(value.chars().count())
    };
    judge(operation, constraint, measure)
}

/// Whether `value` matches `pattern`; the error names the field and the pattern, not the
/// value.
pub(crate) fn check_pattern(
    operation: &str,
    constraint: &Constraint,
    pattern: &'static str,
    value: &str,
) -> Result<(), String> {
    let field = match constraint.location {
        Location::Body => "the request body".to_string(),
        _ => format!("`{}`", constraint.field),
    };
    match matches(pattern, value) {
        Some(true) => Ok(()),
        Some(false) => Err(format!(
            "{operation}: {field} must match the pattern `{pattern}`"
        )),
        // The generator compiles every pattern, so this is a table written by hand.
        None => Err(format!(
            "{operation}: {field} cannot be checked: its pattern `{pattern}` does not compile"
        )),
    }
}

/// `pattern` compiled once for the life of the process (the table's patterns are few and
/// `'static`), then matched; `None` when it does not compile.
fn matches(pattern: &'static str, value: &str) -> Option<bool> {
    type Cache = RwLock<HashMap<&'static str, Option<Regex>>>;
    static CACHE: LazyLock<Cache> = LazyLock::new(Cache::default);
    let cached = CACHE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(pattern)
        .cloned();
    let regex = match cached {
        Some(regex) => regex,
        None => CACHE
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(pattern)
            .or_insert_with(|| Regex::new(pattern).ok())
            .clone(),
    };
    regex.map(|regex| regex.is_match(value))
}

fn parse_number(text: &str) -> Option<Number> {
    if let Ok(n) = text.parse::<i128>() {
        return Some(Number::Int(n));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Number::Float)
}

/// The value of the `{name}` parameter in `path`, found through `template` (the same walk
/// as the hooks' path-shape check, which has passed by now).
fn path_parameter<'p>(
    base_url: &str,
    path: &'p str,
    template: &str,
    name: &str,
) -> Option<&'p str> {
    let split = crate::hooks::slash_split;
    let base = split(base_url).skip(3).filter(|s| !s.is_empty());
    let expected = base.chain(split(template).skip(1));
    let actual = split(path).skip(1);
    for (want, got) in expected.zip(actual) {
        let (Some(open), Some(close)) = (want.find('{'), want.rfind('}')) else {
            continue;
        };
        if want.get(open + 1..close) != Some(name) {
            continue;
        }
        let (prefix, suffix) = (want.get(..open)?, want.get(close + 1..)?);
        return got.strip_prefix(prefix)?.strip_suffix(suffix);
    }
    None
}

/// A number as the wire holds it: exact when it is an integer.
#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    fn cmp_bound(self, bound: i64) -> Option<Ordering> {
        match self {
            Number::Int(n) => Some(n.cmp(&i128::from(bound))),
            // A float is compared as a float; an i64 bound in a fragment is small.
            Number::Float(f) => f.partial_cmp(&(bound as f64)),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(n) => write!(f, "{n}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// What a bound looks at in a value: never the content of a string.
#[derive(Debug, Clone, Copy)]
enum Measure {
    Number(Number),
    /// A string's length in characters.
    Text(usize),
    /// An array's length, and whether two of its items are equal (only looked for when a
    /// `uniqueItems` bound asks).
    Items(usize, bool),
    /// An object's number of properties.
    Entries(usize),
    /// `null`, `true`, `false`: no bound applies.
    Other,
}

impl Rule {
    fn is_numeric(self) -> bool {
        matches!(
            self,
            Rule::Minimum(_)
                | Rule::ExclusiveMinimum(_)
                | Rule::Maximum(_)
                | Rule::ExclusiveMaximum(_)
        )
    }
}

fn judge(operation: &str, constraint: &Constraint, measure: Measure) -> Result<(), String> {
    use Ordering::{Greater, Less};
    let broken = |what: fmt::Arguments<'_>| {
        let field = match constraint.location {
            Location::Body => "the request body".to_string(),
            _ => format!("`{}`", constraint.field),
        };
        Err(format!("{operation}: {field} must {what}"))
    };
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match (constraint.rule, measure) {
        (Rule::Minimum(b), Measure::Number(v)) if v.cmp_bound(b).is_none_or(|o| o == Less) => {
            broken(format_args!("be at least {b}, got {v}"))
        }
        (Rule::ExclusiveMinimum(b), Measure::Number(v))
            if v.cmp_bound(b).is_none_or(|o| o != Greater) =>
        {
            broken(format_args!("be greater than {b}, got {v}"))
        }
        (Rule::Maximum(b), Measure::Number(v)) if v.cmp_bound(b).is_none_or(|o| o == Greater) => {
            broken(format_args!("be at most {b}, got {v}"))
        }
        (Rule::ExclusiveMaximum(b), Measure::Number(v))
            if v.cmp_bound(b).is_none_or(|o| o != Less) =>
        {
            broken(format_args!("be less than {b}, got {v}"))
        }
        (Rule::MinLength(b), Measure::Text(n)) if n < b => broken(format_args!(
            "be at least {} long, got {n}",
            count(b, "character", "characters")
        )),
        (Rule::MaxLength(b), Measure::Text(n)) if n > b => broken(format_args!(
            "be at most {} long, got {n}",
            count(b, "character", "characters")
        )),
        (Rule::MinItems(b), Measure::Items(n, _)) if n < b => broken(format_args!(
            "have at least {}, got {n}",
            count(b, "item", "items")
        )),
        (Rule::MaxItems(b), Measure::Items(n, _)) if n > b => broken(format_args!(
            "have at most {}, got {n}",
            count(b, "item", "items")
        )),
        (Rule::MinProperties(b), Measure::Entries(n)) if n < b => broken(format_args!(
            "have at least {}, got {n}",
            count(b, "property", "properties")
        )),
        (Rule::MaxProperties(b), Measure::Entries(n)) if n > b => broken(format_args!(
            "have at most {}, got {n}",
            count(b, "property", "properties")
        )),
        (Rule::UniqueItems(true), Measure::Items(_, true)) => {
            broken(format_args!("not hold the same item twice"))
        }
        _ => Ok(()),
    }
}

/// Whether `constraints` ask for `field`'s items (or the body's, with `Location::Body`) to
/// be unique.
fn wants_unique(constraints: &[Constraint], location: Location, field: &str) -> bool {
    constraints
        .iter()
        .any(|c| c.location == location && c.field == field && c.rule == Rule::UniqueItems(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;

    const fn c(location: Location, field: &'static str, rule: Rule) -> Constraint {
        Constraint {
            location,
            field,
            rule,
        }
    }

    fn get(url: &str) -> Request {
        Request::new(Method::GET, url.parse().unwrap())
    }

    fn post(body: &str) -> Request {
        let mut request = Request::new(Method::POST, "http://127.0.0.1/keys".parse().unwrap());
        *request.body_mut() = Some(reqwest::Body::from(body.to_string()));
        request
    }

    /// The checks a generated client makes: on the request, then on its body (here the
    /// JSON read back as a `serde_json::Value`; typed bodies are walked the same way).
    fn run(constraints: &[Constraint], template: &str, request: &Request) -> Result<(), String> {
        check(
            "op",
            constraints,
            "http://127.0.0.1/base",
            template,
            request,
        )?;
        match request.body().and_then(reqwest::Body::as_bytes) {
            Some(bytes) => {
                let body: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                check_body("op", constraints, &body)
            }
            None => Ok(()),
        }
    }

    proptest::proptest! {
        /// The query is read as `Url::query_pairs` reads it, whatever it holds.
        #[test]
        fn query_pairs_decode_as_the_url_crate_does(
            query in "([a-z%+=&;. ]|%[0-9A-Fa-f]{2}|%C3|%A9|é|日){0,40}",
        ) {
            let url = reqwest::Url::parse(&format!("http://h/p?{query}")).unwrap();
            let ours: Vec<(String, String)> = query_pairs(url.query().unwrap_or(""))
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            let theirs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn query_bounds_pass_at_the_boundary_and_name_the_field_past_it() {
        let limit = [
            c(Location::Query, "limit", Rule::Minimum(1)),
            c(Location::Query, "limit", Rule::Maximum(500)),
        ];
        let at = |q: &str| {
            run(
                &limit,
                "/keys",
                &get(&format!("http://127.0.0.1/base/keys?{q}")),
            )
        };
        assert_eq!(at("limit=1"), Ok(()));
        assert_eq!(at("limit=500"), Ok(()));
        assert_eq!(at("page=900"), Ok(()), "an absent parameter is not checked");
        assert_eq!(
            at("limit=501"),
            Err("op: `limit` must be at most 500, got 501".into())
        );
        assert_eq!(
            at("limit=0"),
            Err("op: `limit` must be at least 1, got 0".into())
        );
        assert_eq!(
            at("limit=-3"),
            Err("op: `limit` must be at least 1, got -3".into())
        );
        assert_eq!(
            at("limit=99999999999999999999999"),
            Err("op: `limit` must be at most 500, got 99999999999999999999999".into())
        );
        assert_eq!(
            at("limit=500.5"),
            Err("op: `limit` must be at most 500, got 500.5".into())
        );
        assert_eq!(at("limit=NaN"), Err("op: `limit` must be a number".into()));
        assert_eq!(at("limit=x"), Err("op: `limit` must be a number".into()));
        // Every occurrence is checked.
        assert!(at("limit=2&limit=501").is_err());
    }

    #[test]
    fn exclusive_bounds_refuse_the_bound_itself() {
        let open = [
            c(Location::Query, "n", Rule::ExclusiveMinimum(0)),
            c(Location::Query, "n", Rule::ExclusiveMaximum(10)),
        ];
        let at = |q: &str| {
            run(
                &open,
                "/keys",
                &get(&format!("http://127.0.0.1/base/keys?n={q}")),
            )
        };
        assert_eq!(at("1"), Ok(()));
        assert_eq!(at("9"), Ok(()));
        assert_eq!(at("0"), Err("op: `n` must be greater than 0, got 0".into()));
        assert_eq!(at("10"), Err("op: `n` must be less than 10, got 10".into()));
    }

    #[test]
    fn string_lengths_count_characters_and_never_show_the_value() {
        let name = [
            c(Location::Query, "q", Rule::MinLength(2)),
            c(Location::Query, "q", Rule::MaxLength(3)),
        ];
        let at = |q: &str| {
            run(
                &name,
                "/keys",
                &get(&format!("http://127.0.0.1/base/keys?q={q}")),
            )
        };
        assert_eq!(
            at("%C3%A9%C3%A9%C3%A9"),
            Ok(()),
            "three characters, six bytes"
        );
        assert_eq!(
            at("s3cr"),
            Err("op: `q` must be at most 3 characters long, got 4".into())
        );
        assert_eq!(
            at("s"),
            Err("op: `q` must be at least 2 characters long, got 1".into())
        );
    }

    #[test]
    fn path_parameters_are_found_through_the_template_and_decoded() {
        let id = [c(Location::Path, "id", Rule::MaxLength(3))];
        let at = |path: &str| {
            run(
                &id,
                "/v7/key({id})/x",
                &get(&format!("http://127.0.0.1/base{path}")),
            )
        };
        assert_eq!(at("/v7/key(abc)/x"), Ok(()));
        assert_eq!(at("/v7/key(a%2Fc)/x"), Ok(()), "decoded: three characters");
        assert_eq!(
            at("/v7/key(abcd)/x"),
            Err("op: `id` must be at most 3 characters long, got 4".into())
        );
        let page = [c(Location::Path, "page", Rule::Minimum(0))];
        let at = |path: &str| {
            run(
                &page,
                "/p/{page}",
                &get(&format!("http://127.0.0.1/base{path}")),
            )
        };
        assert_eq!(at("/p/0"), Ok(()));
        assert_eq!(
            at("/p/-1"),
            Err("op: `page` must be at least 0, got -1".into())
        );
    }

    #[test]
    fn body_properties_are_checked_in_one_pass() {
        let create = [
            c(Location::Property, "permissions", Rule::MinItems(1)),
            c(Location::Property, "permissions", Rule::MaxItems(2)),
            c(Location::Property, "name", Rule::MaxLength(4)),
            c(Location::Property, "size", Rule::Maximum(9)),
        ];
        let at = |body: &str| run(&create, "/keys", &post(body));
        assert_eq!(
            at(r#"{"name":"abcd","permissions":["A"],"size":9}"#),
            Ok(())
        );
        assert_eq!(
            at(r#"{"other":[],"name":null}"#),
            Ok(()),
            "absent and null pass"
        );
        assert_eq!(
            at(r#"{"name":"a","permissions":[]}"#),
            Err("op: `permissions` must have at least 1 item, got 0".into())
        );
        assert_eq!(
            at(r#"{"permissions":["A","B",{"x":[1]}]}"#),
            Err("op: `permissions` must have at most 2 items, got 3".into())
        );
        assert_eq!(
            at(r#"{"name":"\u0073\u0065cret"}"#),
            Err("op: `name` must be at most 4 characters long, got 6".into())
        );
        assert_eq!(
            at(r#"{"size":9.5}"#),
            Err("op: `size` must be at most 9, got 9.5".into())
        );
        // The first refusal is reported (`serde_json::Value` holds its keys sorted).
        assert_eq!(
            at(r#"{"permissions":[],"name":"toolong","x":{"y":[]}}"#),
            Err("op: `name` must be at most 4 characters long, got 7".into())
        );
        let tags = [c(Location::Property, "tags", Rule::UniqueItems(true))];
        assert_eq!(
            run(&tags, "/keys", &post(r#"{"tags":["a","b",{"a":1}]}"#)),
            Ok(())
        );
        assert_eq!(
            run(&tags, "/keys", &post(r#"{"tags":["a","b","\u0061"]}"#)),
            Err("op: `tags` must not hold the same item twice".into())
        );
        // A nested property of the same name is not the top-level one.
        assert_eq!(at(r#"{"x":{"permissions":[]}}"#), Ok(()));
    }

    #[test]
    fn a_typed_body_is_measured_as_its_json_reads() {
        #[derive(serde::Serialize)]
        #[serde(transparent)]
        struct Name(String);
        #[derive(serde::Serialize)]
        struct Create {
            #[serde(rename = "keyName")]
            name: Name,
            #[serde(skip_serializing_if = "Option::is_none")]
            size: Option<i64>,
            tags: Vec<&'static str>,
            note: Option<String>,
        }
        let bounds = [
            c(Location::Property, "keyName", Rule::MinLength(2)),
            c(Location::Property, "size", Rule::Minimum(1)),
            c(Location::Property, "tags", Rule::UniqueItems(true)),
            c(Location::Property, "note", Rule::MinLength(3)),
            c(Location::Body, "", Rule::MaxProperties(3)),
        ];
        let body = |name: &str, size, tags| Create {
            name: Name(name.into()),
            size,
            tags,
            note: None,
        };
        let check = |body: &Create| check_body("op", &bounds, body);
        assert_eq!(check(&body("ab", None, vec!["a"])), Ok(()));
        assert_eq!(
            check(&body("é", None, vec![])),
            Err("op: `keyName` must be at least 2 characters long, got 1".into())
        );
        assert_eq!(
            check(&body("ab", Some(0), vec![])),
            Err("op: `size` must be at least 1, got 0".into())
        );
        assert_eq!(
            check(&body("ab", None, vec!["a", "a"])),
            Err("op: `tags` must not hold the same item twice".into())
        );
        // In the order serde writes them: `keyName` first.
        assert_eq!(
            check(&body("a", Some(0), vec![])),
            Err("op: `keyName` must be at least 2 characters long, got 1".into())
        );
        assert_eq!(
            check(&body("ab", Some(1), vec![])),
            Err("op: the request body must have at most 3 properties, got 4".into())
        );
    }

    #[test]
    fn patterns_name_the_field_and_the_pattern_never_the_value() {
        const HEX: &str = "^[0-9a-f]{4}$";
        let uuid = [c(Location::Path, "uuid", Rule::Pattern(HEX))];
        let at = |path: &str| {
            run(
                &uuid,
                "/v7/device(uuid='{uuid}')",
                &get(&format!("http://127.0.0.1/base{path}")),
            )
        };
        let refused = Err(format!("op: `uuid` must match the pattern `{HEX}`"));
        assert_eq!(at("/v7/device(uuid='ab12')"), Ok(()));
        assert_eq!(at("/v7/device(uuid='ab1')"), refused);
        assert_eq!(at("/v7/device(uuid='ab1'')"), refused);
        // Decoded first: `%61` is `a`, and an invalid byte cannot slip through.
        assert_eq!(at("/v7/device(uuid='%61b12')"), Ok(()));
        assert_eq!(at("/v7/device(uuid='ab1%FF')"), refused);
        let q = [c(Location::Query, "q", Rule::Pattern("b+"))];
        let at = |query: &str| {
            run(
                &q,
                "/keys",
                &get(&format!("http://127.0.0.1/base/keys?{query}")),
            )
        };
        assert_eq!(at("q=abba"), Ok(()), "unanchored, as in JSON Schema");
        assert_eq!(
            at("q=s3cret"),
            Err("op: `q` must match the pattern `b+`".into())
        );
        let name = [c(Location::Property, "name", Rule::Pattern("^[a-z]+$"))];
        let at = |body: &str| run(&name, "/keys", &post(body));
        assert_eq!(at(r#"{"name":"abc","n":"ABC"}"#), Ok(()));
        assert_eq!(at(r#"{"name":5}"#), Ok(()), "a number has no pattern");
        assert_eq!(
            at(r#"{"name":"s3cret"}"#),
            Err("op: `name` must match the pattern `^[a-z]+$`".into())
        );
        let whole = [c(Location::Body, "", Rule::Pattern("^a$"))];
        assert_eq!(check_body("op", &whole, "a"), Ok(()));
        assert_eq!(
            check_body("op", &whole, "b"),
            Err("op: the request body must match the pattern `^a$`".into())
        );
        // A table written by hand with a broken pattern refuses instead of panicking.
        let broken = [c(Location::Query, "q", Rule::Pattern("(a"))];
        assert_eq!(
            run(&broken, "/keys", &get("http://127.0.0.1/base/keys?q=a")),
            Err("op: `q` cannot be checked: its pattern `(a` does not compile".into())
        );
    }

    #[test]
    fn the_body_itself_is_measured() {
        let update = [c(Location::Body, "", Rule::MinProperties(1))];
        assert_eq!(run(&update, "/keys", &post(r#"{"a":1}"#)), Ok(()));
        assert_eq!(
            run(&update, "/keys", &post("{}")),
            Err("op: the request body must have at least 1 property, got 0".into())
        );
        let list = [c(Location::Body, "", Rule::MaxItems(1))];
        assert_eq!(
            run(&list, "/keys", &post("[1,2]")),
            Err("op: the request body must have at most 1 item, got 2".into())
        );
        // Without a body there is nothing to check.
        assert_eq!(
            run(&update, "/keys", &get("http://127.0.0.1/base/keys")),
            Ok(())
        );
    }
}
