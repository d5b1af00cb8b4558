//! JSON objects with unique member names. serde_json keeps the last of two
//! same-named members, so `{"alg":"EdDSA","alg":"none"}` would mean whatever
//! the last parser in a chain decides; RFC 7515 §4 (header names MUST be unique) and RFC 8725 §3.1 ask us
//! to refuse such input instead.

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// A JSON object's top-level members in order, each name at most once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StrictObject(pub(crate) Vec<(String, Value)>);

/// Why text is not a strict object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrictError {
    /// Not JSON, or not an object.
    Malformed,
    /// A member name appears twice.
    Duplicate,
}

impl StrictObject {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, StrictError> {
        serde_json::from_slice::<Self>(bytes).map_err(|e| {
            if e.to_string().starts_with(DUPLICATE) {
                StrictError::Duplicate
            } else {
                StrictError::Malformed
            }
        })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }
}

const DUPLICATE: &str = "keygate: duplicate member";

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = StrictObject;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictObject, A::Error> {
                let mut members: Vec<(String, Value)> = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    if members.iter().any(|(n, _)| *n == name) {
                        return Err(de::Error::custom(DUPLICATE));
                    }
                    members.push((name, value));
                }
                Ok(StrictObject(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_members_parse_duplicates_do_not() {
        let object = StrictObject::parse(br#"{"a":1,"b":[1,2]}"#).unwrap();
        assert_eq!(object.get("b"), Some(&serde_json::json!([1, 2])));
        assert_eq!(object.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            StrictObject::parse(br#"{"a":1,"a":2}"#),
            Err(StrictError::Duplicate)
        );
        assert_eq!(
            StrictObject::parse(br#"{"a":1,"\u0061":2}"#),
            Err(StrictError::Duplicate)
        );
        assert_eq!(StrictObject::parse(b"[1]"), Err(StrictError::Malformed));
        assert_eq!(
            StrictObject::parse(b"{\"a\":1} x"),
            Err(StrictError::Malformed)
        );
    }
}
