//! The body bounds, checked on the typed body through its `Serialize`: serde_json writes
//! the request's JSON through the same calls, so the fields and values measured here are
//! the ones sent, without writing the text and reading it back.

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::{Constraint, Location, Measure, Number, Rule, check_pattern, judge};

/// Stops the walk: a refusal, or a value serde cannot write (which `json` would refuse too).
#[derive(Debug)]
pub(super) struct Stop(pub(super) String);

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Stop(msg.to_string())
    }
}

/// Measures one value. At the top (`top` set), an object's constrained properties are
/// judged as they are met, as the JSON check does.
#[derive(Clone, Copy)]
pub(super) struct Measurer<'c> {
    pub(super) unique: bool,
    pub(super) top: Option<(&'c str, &'c [Constraint])>,
}

impl Measurer<'_> {
    fn number(n: Number) -> Result<Measure, Stop> {
        Ok(Measure::Number(n))
    }
}

/// The items of an array; kept as JSON values only when they must be compared.
pub(super) struct Items {
    count: usize,
    kept: Option<Vec<serde_json::Value>>,
}

impl Items {
    fn new(unique: bool) -> Self {
        Items {
            count: 0,
            kept: unique.then(Vec::new),
        }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.count = self.count.saturating_add(1);
        if let Some(kept) = &mut self.kept {
            kept.push(serde_json::to_value(value).map_err(|e| Stop(e.to_string()))?);
        }
        Ok(())
    }

    fn end(self) -> Measure {
        let repeated = self.kept.is_some_and(|items| {
            items
                .iter()
                .enumerate()
                .any(|(i, item)| items.iter().skip(i + 1).any(|other| other == item))
        });
        Measure::Items(self.count, repeated)
    }
}

/// The properties of an object: counted, and judged at the top.
pub(super) struct Entries<'c> {
    count: usize,
    top: Option<(&'c str, &'c [Constraint])>,
    key: Option<String>,
}

impl<'c> Entries<'c> {
    fn new(top: Option<(&'c str, &'c [Constraint])>) -> Self {
        Entries {
            count: 0,
            top,
            key: None,
        }
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Stop> {
        self.count = self.count.saturating_add(1);
        let Some((operation, constraints)) = self.top else {
            return Ok(());
        };
        let rules = || {
            constraints
                .iter()
                .filter(|c| c.location == Location::Property && c.field == key)
        };
        // One pass finds whether the property has bounds, and whether one is `uniqueItems`.
        let mut bounded = false;
        let mut unique = false;
        for constraint in rules() {
            bounded = true;
            unique |= constraint.rule == Rule::UniqueItems(true);
        }
        if !bounded {
            return Ok(());
        }
        let measure = value.serialize(Measurer { unique, top: None })?;
        for constraint in rules() {
            if let Rule::Pattern(pattern) = constraint.rule {
                check_text_pattern(operation, constraint, pattern, value)?;
            }
            judge(operation, constraint, measure).map_err(Stop)?;
        }
        Ok(())
    }
}

/// Checks `pattern` on `value` when it is written as a JSON string (a `pattern` does not
/// apply to other values). Only bounded fields with a pattern come here, so the copy to a
/// JSON value is made for them alone.
pub(super) fn check_text_pattern<T: Serialize + ?Sized>(
    operation: &str,
    constraint: &Constraint,
    pattern: &'static str,
    value: &T,
) -> Result<(), Stop> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => {
            check_pattern(operation, constraint, pattern, &text).map_err(Stop)
        }
        Ok(_) => Ok(()),
        Err(e) => Err(Stop(e.to_string())),
    }
}

impl<'c> ser::Serializer for Measurer<'c> {
    type Ok = Measure;
    type Error = Stop;
    type SerializeSeq = Items;
    type SerializeTuple = Items;
    type SerializeTupleStruct = Items;
    type SerializeTupleVariant = Impossible<Measure, Stop>;
    type SerializeMap = Entries<'c>;
    type SerializeStruct = Entries<'c>;
    type SerializeStructVariant = Impossible<Measure, Stop>;

    fn serialize_bool(self, _: bool) -> Result<Measure, Stop> {
        Ok(Measure::Other)
    }
    fn serialize_i8(self, v: i8) -> Result<Measure, Stop> {
        Self::number(Number::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Measure, Stop> {
        Self::number(Number::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Measure, Stop> {
        Self::number(Number::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Measure, Stop> {
        Self::number(Number::Int(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Measure, Stop> {
        Self::number(Number::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Measure, Stop> {
        Self::number(Number::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Measure, Stop> {
        Self::number(Number::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Measure, Stop> {
        Self::number(Number::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Measure, Stop> {
        Self::number(Number::Int(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Measure, Stop> {
        // Beyond i128, which no bound of a fragment reaches: as a float, like the wire's.
        match i128::try_from(v) {
            Ok(n) => Self::number(Number::Int(n)),
            Err(_) => Self::number(Number::Float(v as f64)),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<Measure, Stop> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<Measure, Stop> {
        // serde_json writes a NaN or an infinity as `null`.
        if v.is_finite() {
            Self::number(Number::Float(v))
        } else {
            Ok(Measure::Other)
        }
    }
    fn serialize_char(self, _: char) -> Result<Measure, Stop> {
        Ok(Measure::Text(1))
    }
    fn serialize_str(self, v: &str) -> Result<Measure, Stop> {
        Ok(Measure::Text(v.chars().count()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Measure, Stop> {
        // An array of numbers in JSON.
        let mut items = Items::new(self.unique);
        for byte in v {
            items.push(byte)?;
        }
        Ok(items.end())
    }
    fn serialize_none(self) -> Result<Measure, Stop> {
        Ok(Measure::Other)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Measure, Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Measure, Stop> {
        Ok(Measure::Other)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Measure, Stop> {
        Ok(Measure::Other)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Measure, Stop> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Measure, Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Measure, Stop> {
        // `{"variant": value}`
        let mut entries = Entries::new(self.top);
        entries.field(variant, value)?;
        Ok(Measure::Entries(entries.count))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Items, Stop> {
        Ok(Items::new(self.unique))
    }
    fn serialize_tuple(self, _: usize) -> Result<Items, Stop> {
        Ok(Items::new(self.unique))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Items, Stop> {
        Ok(Items::new(self.unique))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(Stop("a tuple variant".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Entries<'c>, Stop> {
        Ok(Entries::new(self.top))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Entries<'c>, Stop> {
        Ok(Entries::new(self.top))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        Err(Stop("a struct variant".into()))
    }
}

impl ser::SerializeSeq for Items {
    type Ok = Measure;
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.push(value)
    }
    fn end(self) -> Result<Measure, Stop> {
        Ok(Items::end(self))
    }
}

impl ser::SerializeTuple for Items {
    type Ok = Measure;
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.push(value)
    }
    fn end(self) -> Result<Measure, Stop> {
        Ok(Items::end(self))
    }
}

impl ser::SerializeTupleStruct for Items {
    type Ok = Measure;
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.push(value)
    }
    fn end(self) -> Result<Measure, Stop> {
        Ok(Items::end(self))
    }
}

impl ser::SerializeStruct for Entries<'_> {
    type Ok = Measure;
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(key, value)
    }
    fn end(self) -> Result<Measure, Stop> {
        Ok(Measure::Entries(self.count))
    }
}

impl ser::SerializeMap for Entries<'_> {
    type Ok = Measure;
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        // A map's keys are read only where a property may be judged (maps are rare bodies).
        self.key = match self.top {
            Some(_) => match serde_json::to_value(key).map_err(|e| Stop(e.to_string()))? {
                serde_json::Value::String(key) => Some(key),
                other => Some(other.to_string()),
            },
            None => None,
        };
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let key = self.key.take().unwrap_or_default();
        self.field(&key, value)
    }
    fn end(self) -> Result<Measure, Stop> {
        Ok(Measure::Entries(self.count))
    }
}
