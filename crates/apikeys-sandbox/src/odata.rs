//! The part of OData that balena's SDKs and client send: `$filter` with
//! comparisons, `in`, `and`/`or`/`not`, `startswith`/`endswith`/`contains`,
//! `tolower`/`toupper` and `null`/number/bool/string/`datetime'…'` literals; `$orderby`,
//! `$select`, `$expand` of a navigation field.
//!
//! The query string has been percent-decoded once already, which is what the server does to
//! the inside of string literals; a quote inside a literal is written `''`.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};

/// A field's value, or a literal.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Bool(bool),
    Str(String),
    Date(DateTime<Utc>),
}

/// Something a filter reads fields of.
pub(crate) trait Row {
    /// The field's value; `fields` passed to the parser lists the names asked for.
    fn field(&self, name: &str) -> Val;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Operand {
    Field(String),
    Lower(Box<Operand>),
    Upper(Box<Operand>),
}

/// A parsed `$filter`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare(Operand, Op, Val),
    In(Operand, Vec<Val>),
    Call(Func, Operand, String),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(i64),
    Str(String),
    Date(DateTime<Utc>),
    Open,
    Close,
    Comma,
}

fn date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let quoted = |start: usize| -> Result<(String, usize), String> {
        // `start` is the opening quote; `''` inside is one quote.
        let mut out = String::new();
        let mut j = start + 1;
        loop {
            match chars.get(j) {
                None => return Err("an unterminated string literal".into()),
                Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                    out.push('\'');
                    j += 2;
                }
                Some('\'') => return Ok((out, j + 1)),
                Some(c) => {
                    out.push(*c);
                    j += 1;
                }
            }
        }
    };
    while let Some(&c) = chars.get(i) {
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                tokens.push(Tok::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Tok::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let (text, next) = quoted(i)?;
                tokens.push(Tok::Str(text));
                i = next;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse()
                    .map_err(|_| format!("`{text}` is not a number"))?;
                tokens.push(Tok::Num(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word == "datetime" && chars.get(i) == Some(&'\'') {
                    let (text, next) = quoted(i)?;
                    let at = date(&text).ok_or_else(|| format!("`{text}` is not a date"))?;
                    tokens.push(Tok::Date(at));
                    i = next;
                } else {
                    tokens.push(Tok::Ident(word));
                }
            }
            other => return Err(format!("unexpected `{other}`")),
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Tok>,
    at: usize,
    fields: &'a [&'a str],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.tokens.get(self.at).cloned();
        self.at += 1;
        tok
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: Tok) -> Result<(), String> {
        match self.next() {
            Some(t) if t == tok => Ok(()),
            other => Err(format!("expected {tok:?}, found {other:?}")),
        }
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.keyword("not") {
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Filter, String> {
        if self.peek() == Some(&Tok::Open) {
            self.at += 1;
            let inner = self.or()?;
            self.expect(Tok::Close)?;
            return Ok(inner);
        }
        let func = match self.peek() {
            Some(Tok::Ident(w)) if w == "startswith" => Some(Func::StartsWith),
            Some(Tok::Ident(w)) if w == "endswith" => Some(Func::EndsWith),
            Some(Tok::Ident(w)) if w == "contains" || w == "substringof" => Some(Func::Contains),
            _ => None,
        };
        if let Some(func) = func {
            self.at += 1;
            self.expect(Tok::Open)?;
            let operand = self.operand()?;
            self.expect(Tok::Comma)?;
            let Some(Tok::Str(text)) = self.next() else {
                return Err("a function's second argument must be a string".into());
            };
            self.expect(Tok::Close)?;
            return Ok(Filter::Call(func, operand, text));
        }
        let operand = self.operand()?;
        if self.keyword("in") {
            self.expect(Tok::Open)?;
            let mut values = vec![self.value()?];
            while self.peek() == Some(&Tok::Comma) {
                self.at += 1;
                values.push(self.value()?);
            }
            self.expect(Tok::Close)?;
            return Ok(Filter::In(operand, values));
        }
        let op = match self.next() {
            Some(Tok::Ident(w)) => match w.as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                other => return Err(format!("unknown operator `{other}`")),
            },
            other => return Err(format!("expected an operator, found {other:?}")),
        };
        Ok(Filter::Compare(operand, op, self.value()?))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.next() {
            Some(Tok::Ident(w)) if w == "tolower" || w == "toupper" => {
                self.expect(Tok::Open)?;
                let inner = Box::new(self.operand()?);
                self.expect(Tok::Close)?;
                Ok(if w == "tolower" {
                    Operand::Lower(inner)
                } else {
                    Operand::Upper(inner)
                })
            }
            Some(Tok::Ident(w)) if self.fields.contains(&w.as_str()) => Ok(Operand::Field(w)),
            Some(Tok::Ident(w)) => Err(format!("unknown field `{w}`")),
            other => Err(format!("expected a field, found {other:?}")),
        }
    }

    fn value(&mut self) -> Result<Val, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(Val::Int(n)),
            Some(Tok::Str(s)) => Ok(Val::Str(s)),
            Some(Tok::Date(d)) => Ok(Val::Date(d)),
            Some(Tok::Ident(w)) if w == "null" => Ok(Val::Null),
            Some(Tok::Ident(w)) if w == "true" => Ok(Val::Bool(true)),
            Some(Tok::Ident(w)) if w == "false" => Ok(Val::Bool(false)),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
}

/// Parses a `$filter` over rows with the given field names.
pub(crate) fn parse_filter(text: &str, fields: &[&str]) -> Result<Filter, String> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        fields,
    };
    let filter = parser.or()?;
    match parser.peek() {
        None => Ok(filter),
        Some(extra) => Err(format!("unexpected {extra:?}")),
    }
}

fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(a), Val::Int(b)) => Some(a.cmp(b)),
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
        (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
        (Val::Date(a), Val::Str(b)) => date(b).map(|b| a.cmp(&b)),
        (Val::Str(a), Val::Date(b)) => date(a).map(|a| a.cmp(b)),
        _ => None,
    }
}

/// `eq` and `ne` treat `null` as a value (`IS [NOT] DISTINCT FROM`); the order operators
/// are false on `null`, as in SQL.
fn equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Null, _) | (_, Val::Null) => false,
        _ => compare(a, b) == Some(Ordering::Equal),
    }
}

impl Operand {
    fn eval(&self, row: &impl Row) -> Val {
        match self {
            Operand::Field(name) => row.field(name),
            Operand::Lower(inner) => match inner.eval(row) {
                Val::Str(s) => Val::Str(s.to_lowercase()),
                other => other,
            },
            Operand::Upper(inner) => match inner.eval(row) {
                Val::Str(s) => Val::Str(s.to_uppercase()),
                other => other,
            },
        }
    }
}

impl Filter {
    /// Whether `row` passes the filter.
    pub(crate) fn matches(&self, row: &impl Row) -> bool {
        match self {
            Filter::And(a, b) => a.matches(row) && b.matches(row),
            Filter::Or(a, b) => a.matches(row) || b.matches(row),
            Filter::Not(inner) => !inner.matches(row),
            Filter::In(operand, values) => {
                let value = operand.eval(row);
                values.iter().any(|v| equal(&value, v))
            }
            Filter::Call(func, operand, text) => match operand.eval(row) {
                Val::Str(s) => match func {
                    Func::StartsWith => s.starts_with(text.as_str()),
                    Func::EndsWith => s.ends_with(text.as_str()),
                    Func::Contains => s.contains(text.as_str()),
                },
                _ => false,
            },
            Filter::Compare(operand, op, literal) => {
                let value = operand.eval(row);
                match op {
                    Op::Eq => equal(&value, literal),
                    Op::Ne => !equal(&value, literal),
                    _ => match compare(&value, literal) {
                        Some(order) => match op {
                            Op::Gt => order == Ordering::Greater,
                            Op::Ge => order != Ordering::Less,
                            Op::Lt => order == Ordering::Less,
                            _ => order != Ordering::Greater,
                        },
                        None => false,
                    },
                }
            }
        }
    }
}

/// A parsed `$orderby`: each field and whether it is descending.
pub(crate) fn parse_orderby(text: &str, fields: &[&str]) -> Result<Vec<(String, bool)>, String> {
    text.split(',')
        .map(|item| {
            let mut words = item.split_whitespace();
            let field = words.next().ok_or("an empty $orderby item")?;
            if !fields.contains(&field) {
                return Err(format!("unknown field `{field}`"));
            }
            let descending = match words.next() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => return Err(format!("unknown direction `{other}`")),
            };
            match words.next() {
                None => Ok((field.to_string(), descending)),
                Some(extra) => Err(format!("unexpected `{extra}`")),
            }
        })
        .collect()
}

/// Sorts rows by `$orderby`, stably: `null` sorts last ascending and first descending,
/// as in PostgreSQL.
pub(crate) fn sort<R: Row>(rows: &mut [R], order: &[(String, bool)]) {
    rows.sort_by(|a, b| {
        for (field, descending) in order {
            let (x, y) = (a.field(field), b.field(field));
            let ascending = match (&x, &y) {
                (Val::Null, Val::Null) => Ordering::Equal,
                (Val::Null, _) => Ordering::Greater,
                (_, Val::Null) => Ordering::Less,
                _ => compare(&x, &y).unwrap_or(Ordering::Equal),
            };
            let order = if *descending {
                ascending.reverse()
            } else {
                ascending
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    });
}

/// A parsed `$select`: the field names, each one known.
pub(crate) fn parse_select(text: &str, fields: &[&str]) -> Result<Vec<String>, String> {
    text.split(',')
        .map(|f| f.trim())
        .map(|f| {
            if fields.contains(&f) {
                Ok(f.to_string())
            } else {
                Err(format!("unknown field `{f}`"))
            }
        })
        .collect()
}

/// A parsed `$expand`: the navigation fields named, each one of `navigable`; their nested
/// options (`is_of__actor($select=id)`) are accepted and not applied.
pub(crate) fn parse_expand(text: &str, navigable: &[&str]) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.checked_sub(1).ok_or("unbalanced parentheses")?;
                current.push(c);
            }
            ',' if depth == 0 => items.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    items.push(current);
    items
        .iter()
        .map(|item| {
            let name = item.split('(').next().unwrap_or_default().trim();
            if navigable.contains(&name) {
                Ok(name.to_string())
            } else {
                Err(format!("cannot expand `{name}`"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(Vec<(&'static str, Val)>);

    impl Row for R {
        fn field(&self, name: &str) -> Val {
            self.0
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or(Val::Null)
        }
    }

    const FIELDS: &[&str] = &["id", "name", "is_of__actor", "expiry_date"];

    fn row(id: i64, name: Option<&str>, actor: i64) -> R {
        R(vec![
            ("id", Val::Int(id)),
            ("name", name.map_or(Val::Null, |n| Val::Str(n.into()))),
            ("is_of__actor", Val::Int(actor)),
        ])
    }

    fn check(filter: &str, row: &R) -> bool {
        parse_filter(filter, FIELDS).unwrap().matches(row)
    }

    #[test]
    fn what_the_client_sends_parses_and_filters() {
        let named = row(1, Some("ci-deploy"), 1111);
        let legacy = row(2, None, 1111);
        let f = "is_of__actor eq 1111 and name ne null";
        assert!(check(f, &named));
        assert!(!check(f, &legacy));
        assert!(check("name eq null", &legacy));
        assert!(check("startswith(name,'ci-')", &named));
        assert!(!check("startswith(name,'ci-')", &legacy));
        assert!(check(
            "contains(tolower(name),'DEPLOY') or id eq 2",
            &legacy
        ));
        assert!(check("contains(tolower(name),'deploy')", &named));
        assert!(check("not(id eq 2)", &named));
        assert!(check("id in (1,3)", &named));
        assert!(check(
            "(id eq 1 or id eq 2) and is_of__actor eq 1111",
            &legacy
        ));
        assert!(check("name eq 'O''Neil key' or id ge 1", &named));
        assert!(!check(
            "expiry_date lt datetime'2030-01-01T00:00:00.000Z'",
            &named
        ));
    }

    #[test]
    fn malformed_filters_and_unknown_fields_are_errors() {
        for bad in [
            "",
            "id eq",
            "id eq 1 and",
            "nope eq 1",
            "id foo 1",
            "name eq 'open",
            "startswith(name,1)",
            "(id eq 1",
            "id eq 1)",
            "id eq 1 %",
        ] {
            assert!(parse_filter(bad, FIELDS).is_err(), "{bad}");
        }
    }

    #[test]
    fn orderby_puts_nulls_last_ascending_and_first_descending() {
        let mut rows = vec![row(1, Some("b"), 1), row(2, None, 1), row(3, Some("a"), 1)];
        sort(&mut rows, &parse_orderby("name asc", FIELDS).unwrap());
        let ids: Vec<Val> = rows.iter().map(|r| r.field("id")).collect();
        assert_eq!(ids, [Val::Int(3), Val::Int(1), Val::Int(2)]);
        sort(
            &mut rows,
            &parse_orderby("name desc,id asc", FIELDS).unwrap(),
        );
        let ids: Vec<Val> = rows.iter().map(|r| r.field("id")).collect();
        assert_eq!(ids, [Val::Int(2), Val::Int(1), Val::Int(3)]);
        assert!(parse_orderby("nope asc", FIELDS).is_err());
        assert!(parse_orderby("id sideways", FIELDS).is_err());
    }

    #[test]
    fn select_and_expand_name_known_fields_only() {
        assert_eq!(parse_select("id,name", FIELDS).unwrap(), ["id", "name"]);
        assert!(parse_select("id,key", FIELDS).is_err());
        assert_eq!(
            parse_expand(
                "is_of__actor($select=id;$filter=id eq 5)",
                &["is_of__actor"]
            )
            .unwrap(),
            ["is_of__actor"]
        );
        assert!(parse_expand("is_of__actor(", &["is_of__actor"]).is_err());
        assert!(parse_expand("role", &["is_of__actor"]).is_err());
    }
}
