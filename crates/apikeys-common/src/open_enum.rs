//! String enums that a vendor may extend: an unknown value is kept, never refused.

/// Defines a string enum with an `Unknown(String)` variant that keeps any value this
/// version does not know, so a vendor adding a value never fails a whole response.
///
/// `cargo xtask codegen` emits one for every string enum in a fragment.
///
/// ```
/// apikeys_common::open_enum! {
///     /// A key's state.
///     pub enum State { Active = "ACTIVE", Revoked = "REVOKED" }
/// }
///
/// let state: State = serde_json::from_str(r#""SUSPENDED""#).unwrap();
/// assert_eq!(state, State::Unknown("SUSPENDED".into()));
/// assert_eq!(serde_json::to_string(&State::Active).unwrap(), r#""ACTIVE""#);
/// assert_eq!(state.as_str(), "SUSPENDED");
/// ```
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $value:literal),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $($(#[$variant_meta])* $variant,)*
            /// A value this version of the client does not know, kept as the server sent it.
            Unknown(::std::string::String),
        }

        impl $name {
            /// The value as it is on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(value) => value,
                }
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($value => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                let value: ::std::borrow::Cow<'de, str> =
                    $crate::__private::serde::Deserialize::deserialize(deserializer)?;
                Ok(Self::from(value.as_ref()))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::open_enum! {
        /// Test enum.
        pub enum Kind { ApiKey = "API_KEY", User = "USER" }
    }

    #[test]
    fn known_values_round_trip() {
        for (kind, wire) in [(Kind::ApiKey, r#""API_KEY""#), (Kind::User, r#""USER""#)] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), wire);
            assert_eq!(serde_json::from_str::<Kind>(wire).unwrap(), kind);
        }
    }

    #[test]
    fn unknown_values_are_kept_and_sent_back_unchanged() {
        let kind: Kind = serde_json::from_str(r#""DEVICE""#).unwrap();
        assert_eq!(kind, Kind::Unknown("DEVICE".into()));
        assert_eq!(serde_json::to_string(&kind).unwrap(), r#""DEVICE""#);
        assert_eq!(kind.to_string(), "DEVICE");
    }

    #[test]
    fn escaped_strings_decode_and_non_strings_fail() {
        let kind: Kind = serde_json::from_str(r#""US\u0045R""#).unwrap();
        assert_eq!(kind, Kind::User);
        assert!(serde_json::from_str::<Kind>("7").is_err());
        assert_eq!("USER".parse::<Kind>().unwrap(), Kind::User);
    }
}
