use std::fmt;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON object as a minijinja value: its entries in order, found by a
/// linear scan. Records and payloads have a handful of keys each, so this is
/// cheaper to build and to read than a hashed map, which matters because
/// every input record and every payload is one of these.
#[derive(Debug, Default)]
pub struct Record(pub Vec<(Value, Value)>);

impl Record {
    /// The value of `key`, by reference.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }
}

impl Object for Record {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let wanted = key.as_str();
        self.0
            .iter()
            .find(|(k, _)| match wanted {
                Some(w) => k.as_str() == Some(w),
                None => k == key,
            })
            .map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.iter().map(|(k, _)| k.clone()).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
}

/// Parses JSON text straight into minijinja values (objects as `Record`s).
pub fn parse_json(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = JsonSeed.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

struct JsonSeed;

impl<'de> DeserializeSeed<'de> for JsonSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

/// The key serde_json gives a number's text under (its private
/// `arbitrary_precision` protocol, stable since serde_json 1.0.0).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::from(()))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::from(()))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        JsonSeed.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(v) = seq.next_element_seed(JsonSeed)? {
            items.push(v);
        }
        Ok(Value::from(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key::<std::borrow::Cow<'de, str>>()? else {
            return Ok(Value::from_object(Record(Vec::new())));
        };
        // serde_json (`arbitrary_precision`) hands over a number no i64 or
        // u64 holds as a one-entry map of its text under this key. Checked
        // before the entries are allocated: most such numbers are amounts.
        if first == NUMBER_TOKEN {
            let text = map.next_value::<std::borrow::Cow<'de, str>>()?;
            return super::number_from_text(&text).ok_or_else(|| serde::de::Error::custom(format!("invalid number {text}")));
        }
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
        entries.push((Value::from(first.as_ref()), map.next_value_seed(JsonSeed)?));
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let v = map.next_value_seed(JsonSeed)?;
            entries.push((Value::from(k.as_ref()), v));
        }
        Ok(Value::from_object(Record(entries)))
    }
}

/// Serialises a value, writing `Record`s entry by entry. minijinja's own
/// serialisation of a map object looks every key up again (a scan per key);
/// this walks the entries once.
pub struct Json<'a>(pub &'a Value);

impl serde::Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        if let Some(record) = self.0.downcast_object_ref::<Record>() {
            let mut m = s.serialize_map(Some(record.0.len()))?;
            for (k, v) in &record.0 {
                m.serialize_entry(&Json(k), &Json(v))?;
            }
            return m.end();
        }
        if let Some(exact) = self.0.downcast_object_ref::<super::ExactNumber>() {
            return exact.json().serialize(s);
        }
        if self.0.kind() == minijinja::value::ValueKind::Seq
            && let Ok(items) = self.0.try_iter()
        {
            let mut seq = s.serialize_seq(self.0.len())?;
            for item in items {
                seq.serialize_element(&Json(&item))?;
            }
            return seq.end();
        }
        self.0.serialize(s)
    }
}

/// `record` with one more entry (a record read from a file gets `_file`); a
/// value that is not a record is given back as it is.
pub fn with_entry(record: Value, key: &str, value: Value) -> Value {
    match record.downcast_object_ref::<Record>() {
        Some(r) => {
            let mut entries = Vec::with_capacity(r.0.len() + 1);
            entries.extend(r.0.iter().filter(|(k, _)| k.as_str() != Some(key)).cloned());
            entries.push((Value::from(key), value));
            Value::from_object(Record(entries))
        }
        None => record,
    }
}
