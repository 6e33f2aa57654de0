//! The body slot of a generated operation builder, and its optional query parameters.

use std::fmt;

/// What a generated operation builder holds for its JSON body (`cargo xtask codegen` puts
/// it in place of progenitor's `types::builder::X`).
///
/// progenitor's slot is the body's field-by-field builder, made when the operation builder
/// is (with a "no value supplied" message allocated for each required field) and rebuilt
/// from the typed body that `.body(..)` is given, to be converted back when sending. This
/// one keeps a typed body as it is and makes the field builder only for `.body_map(..)`
/// or when no body was given, so that the same error is reported then.
#[derive(Debug, Clone, Default)]
pub enum Body<T, B> {
    /// No body given yet: stands for `B::default()`.
    #[default]
    Unset,
    /// A whole typed body, from `.body(..)`.
    Typed(T),
    /// A body built field by field, from `.body_map(..)`.
    Building(B),
}

impl<T, B: Default + From<T>> Body<T, B> {
    /// `.body_map(f)`: `f` applied to the field builder (a typed body's, or the default).
    pub fn map_builder(self, f: impl FnOnce(B) -> B) -> Self {
        let builder = match self {
            Body::Unset => B::default(),
            Body::Typed(body) => B::from(body),
            Body::Building(builder) => builder,
        };
        Body::Building(f(builder))
    }
}

impl<T, B> Body<T, B>
where
    T: TryFrom<B>,
    T::Error: fmt::Display,
    B: Default,
{
    /// The typed body to send, or the builder's message naming what is missing or wrong.
    pub fn into_typed(self) -> Result<T, String> {
        match self {
            Body::Typed(body) => Ok(body),
            Body::Building(builder) => T::try_from(builder).map_err(|e| e.to_string()),
            Body::Unset => T::try_from(B::default()).map_err(|e| e.to_string()),
        }
    }
}

/// Optional query parameters for the generated code (`cargo xtask codegen` writes
/// `.query_some(name, &value)` for them).
pub trait QuerySome: Sized {
    /// `self.query(&QueryParam::new(name, value))`, the call progenitor writes for a query
    /// parameter, made only when the optional `value` is present: progenitor's call for an
    /// absent one adds nothing, but opens, re-serializes and closes the URL's query.
    fn query_some<T: serde::Serialize>(self, name: &str, value: &Option<T>) -> Self;
}

impl QuerySome for reqwest::RequestBuilder {
    fn query_some<T: serde::Serialize>(self, name: &str, value: &Option<T>) -> Self {
        match value {
            None => self,
            Some(_) => self.query(&progenitor_client::QueryParam::new(name, value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Body;

    /// A body with one required field, shaped like progenitor's builders.
    #[derive(Debug, Clone, PartialEq)]
    struct Typed {
        name: String,
    }

    #[derive(Debug, Clone)]
    struct Builder {
        name: Result<String, String>,
    }

    impl Default for Builder {
        fn default() -> Self {
            Builder {
                name: Err("no value supplied for name".to_string()),
            }
        }
    }

    impl From<Typed> for Builder {
        fn from(typed: Typed) -> Self {
            Builder {
                name: Ok(typed.name),
            }
        }
    }

    impl TryFrom<Builder> for Typed {
        type Error = String;
        fn try_from(builder: Builder) -> Result<Self, String> {
            Ok(Typed {
                name: builder.name?,
            })
        }
    }

    type Slot = Body<Typed, Builder>;

    #[test]
    fn a_typed_body_is_sent_as_given() {
        let typed = Typed { name: "a".into() };
        assert_eq!(Slot::Typed(typed.clone()).into_typed(), Ok(typed));
    }

    #[test]
    fn no_body_reports_the_builder_s_message() {
        assert_eq!(
            Slot::default().into_typed(),
            Err("no value supplied for name".to_string())
        );
    }

    #[test]
    fn body_map_edits_the_typed_body_or_the_default() {
        let renamed = |b: Builder| Builder {
            name: b.name.map(|n| format!("{n}!")),
        };
        let typed = Slot::Typed(Typed { name: "a".into() }).map_builder(renamed);
        assert_eq!(typed.into_typed(), Ok(Typed { name: "a!".into() }));
        let named = Slot::default().map_builder(|_| Builder {
            name: Ok("b".into()),
        });
        assert_eq!(named.into_typed(), Ok(Typed { name: "b".into() }));
        let still_unnamed = Slot::default().map_builder(renamed);
        assert!(still_unnamed.into_typed().is_err());
    }
}
