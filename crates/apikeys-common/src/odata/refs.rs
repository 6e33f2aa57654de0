//! A row named by its numeric id or by text, for look-ups.

use std::fmt;
use std::marker::PhantomData;

use super::the_one;
use crate::Result;

/// A table whose rows a [`RowRef`] names, by the noun messages use (`application`).
pub trait Table {
    /// What a row is called in messages: `application 5`, ``device `7cf0…` ``.
    const NOUN: &'static str;
}

/// A row of the table `T`, named by its numeric id or by text (a slug, a uuid), for a
/// look-up such as [`the_one`]'s. Converts from `i64`, `&str` and `String`; its `Display`
/// is the row as error messages name it (`application 5`, ``device `7cf0` ``).
///
/// ```
/// use apikeys_common::odata::{RowKey, RowRef, Table};
///
/// enum Fleet {}
/// impl Table for Fleet {
///     const NOUN: &'static str = "fleet";
/// }
///
/// let by_id = RowRef::<Fleet>::from(5);
/// assert_eq!(by_id.key(), &RowKey::Id(5));
/// assert_eq!(by_id.to_string(), "fleet 5");
/// assert_eq!(RowRef::<Fleet>::from("myorg/myapp").to_string(), "fleet `myorg/myapp`");
/// ```
pub struct RowRef<T> {
    key: RowKey,
    table: PhantomData<fn() -> T>,
}

/// How a [`RowRef`] names its row.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RowKey {
    /// The numeric id.
    Id(i64),
    /// A text key: a slug, a uuid, whatever the table is looked up by.
    Text(String),
}

impl<T> RowRef<T> {
    /// The row with this key.
    pub fn new(key: RowKey) -> Self {
        RowRef {
            key,
            table: PhantomData,
        }
    }

    /// How the row is named.
    pub fn key(&self) -> &RowKey {
        &self.key
    }
}

impl<T: Table> RowRef<T> {
    /// The one row this names: `by_id` or `by_text` asks the server for the rows with its
    /// key, and exactly one must come back ([`the_one`]: none is [`Error::NotFound`],
    /// several are refused).
    ///
    /// [`Error::NotFound`]: crate::Error::NotFound
    pub async fn look_up<R>(
        &self,
        by_id: impl AsyncFnOnce(i64) -> Result<Vec<R>>,
        by_text: impl AsyncFnOnce(&str) -> Result<Vec<R>>,
    ) -> Result<R> {
        let rows = match &self.key {
            RowKey::Id(id) => by_id(*id).await?,
            RowKey::Text(text) => by_text(text).await?,
        };
        the_one(rows, self)
    }
}

impl<T> From<i64> for RowRef<T> {
    fn from(id: i64) -> Self {
        RowRef::new(RowKey::Id(id))
    }
}

impl<T> From<&str> for RowRef<T> {
    fn from(text: &str) -> Self {
        RowRef::new(RowKey::Text(text.to_string()))
    }
}

impl<T> From<String> for RowRef<T> {
    fn from(text: String) -> Self {
        RowRef::new(RowKey::Text(text))
    }
}

impl<T: Table> fmt::Display for RowRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            RowKey::Id(id) => write!(f, "{} {id}", T::NOUN),
            RowKey::Text(text) => write!(f, "{} `{text}`", T::NOUN),
        }
    }
}

// By hand: derived impls would ask the marker type `T` for them too.
impl<T> Clone for RowRef<T> {
    fn clone(&self) -> Self {
        RowRef::new(self.key.clone())
    }
}

impl<T> PartialEq for RowRef<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<T> Eq for RowRef<T> {}

impl<T: Table> fmt::Debug for RowRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RowRef")
            .field(&T::NOUN)
            .field(&self.key)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_ref_converts_compares_and_names_its_row() {
        #[derive(Debug)]
        enum Device {}
        impl Table for Device {
            const NOUN: &'static str = "device";
        }
        let by_id = RowRef::<Device>::from(456);
        assert_eq!(by_id.key(), &RowKey::Id(456));
        assert_eq!(by_id.clone(), by_id);
        assert_eq!(by_id.to_string(), "device 456");
        assert_eq!(format!("{by_id:?}"), r#"RowRef("device", Id(456))"#);
        let by_text = RowRef::<Device>::from(String::from("7cf0"));
        assert_eq!(by_text, RowRef::from("7cf0"));
        assert_ne!(by_text, RowRef::from("7cf1"));
        assert_eq!(by_text.key(), &RowKey::Text("7cf0".into()));
        assert_eq!(by_text.to_string(), "device `7cf0`");
        let what: &dyn std::fmt::Display = &by_text;
        let none = crate::odata::the_one(Vec::<i64>::new(), what).unwrap_err();
        assert!(none.to_string().contains("no device `7cf0`"), "{none}");
    }

    #[tokio::test]
    async fn a_look_up_asks_by_the_key_it_has_and_wants_one_row() {
        #[derive(Debug)]
        enum Device {}
        impl Table for Device {
            const NOUN: &'static str = "device";
        }
        let by_id = async |id: i64| Ok(vec![id * 10]);
        let by_text = async |text: &str| Ok(vec![i64::try_from(text.len()).unwrap(); 2]);
        let found = RowRef::<Device>::from(4).look_up(by_id, by_text).await;
        assert_eq!(found.unwrap(), 40);
        let parse = async |text: &str| Ok(text.parse().into_iter().collect::<Vec<i64>>());
        let by_text = RowRef::<Device>::from("7");
        let found = by_text.look_up(async |_| unreachable!(), parse).await;
        assert_eq!(found.unwrap(), 7);
        let twice = RowRef::<Device>::from("ab")
            .look_up(
                async |_| unreachable!(),
                async |t: &str| Ok(vec![t.len(); 2]),
            )
            .await
            .unwrap_err();
        assert!(
            twice.to_string().contains("device `ab` matches 2 rows"),
            "{twice}"
        );
        let none = RowRef::<Device>::from(5)
            .look_up(async |_| Ok(Vec::<i64>::new()), async |_| unreachable!())
            .await
            .unwrap_err();
        assert!(none.is_not_found(), "{none}");
    }
}
