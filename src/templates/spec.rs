//! Validation and the canonical stored form of a template spec.

use crate::codec::{self, check_map, decode_map, decode_value, field, kind_name, str_field};
use crate::error::{Error, Result};
use rmpv::Value;

pub const DEFAULT_VERSION: &str = "0.1.0";
/// The keys of a template spec map. `created_at` (µs) is honoured when given (imports,
/// restores); see docs/input.md for the rule every structured input follows.
const SPEC_FIELDS: &[&str] = &[
    "id",
    "version",
    "template",
    "description",
    "inputs",
    "metadata",
    "created_at",
];
const INPUT_FIELDS: &[&str] = &["type", "required", "default", "description"];
const INPUT_TYPES: [&str; 5] = ["string", "number", "boolean", "array<string>", "object"];

/// A validated template, ready to store. Its record is a MessagePack map with keys in a fixed
/// order (id, version, template, description?, inputs, metadata, created_at).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSpec {
    pub id: String,
    pub version: String,
    pub template: String,
    pub description: Option<String>,
    /// Normalized: name -> {type, required, default?, description?}.
    pub inputs: Value,
    pub metadata: Value,
    /// When the version was created, in µs since the epoch. `None` means "now, at put"; imports,
    /// restores and migrations give the original time so it survives the move.
    pub created_at: Option<i64>,
}

fn s(v: &str) -> Value {
    Value::from(v)
}

/// Sorts every map's entries by key, recursively: maps are unordered, so the stored form (and
/// the "identical content" test of a re-put) must not depend on the order a caller's language
/// happened to iterate them in (Go randomizes it).
fn canonical(v: Value) -> Value {
    match v {
        Value::Map(entries) => {
            let mut entries: Vec<(Value, Value)> = entries
                .into_iter()
                .map(|(k, v)| (k, canonical(v)))
                .collect();
            entries.sort_by(|(a, _), (b, _)| key_bytes(a).cmp(key_bytes(b)));
            Value::Map(entries)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn key_bytes(k: &Value) -> &[u8] {
    match k {
        Value::String(s) => s.as_bytes(),
        _ => &[],
    }
}

impl TemplateSpec {
    /// Builds a spec from separate fields (the C struct path); inputs and metadata are
    /// MessagePack maps, empty meaning none.
    pub fn from_parts(
        id: &str,
        version: Option<&str>,
        template: &str,
        description: Option<&str>,
        inputs: &[u8],
        metadata: &[u8],
    ) -> Result<TemplateSpec> {
        let inputs = canonical(normalize_inputs(&decode_map(inputs, "template inputs")?)?);
        let metadata = canonical(decode_map(metadata, "template metadata")?);
        Ok(TemplateSpec {
            id: id.to_owned(),
            version: version
                .filter(|v| !v.is_empty())
                .unwrap_or(DEFAULT_VERSION)
                .to_owned(),
            template: template.to_owned(),
            description: description.map(str::to_owned),
            inputs,
            metadata,
            created_at: None,
        })
    }

    fn content(&self) -> Vec<(Value, Value)> {
        let mut entries = vec![
            (s("id"), s(&self.id)),
            (s("version"), s(&self.version)),
            (s("template"), s(&self.template)),
        ];
        if let Some(d) = &self.description {
            entries.push((s("description"), s(d)));
        }
        entries.push((s("inputs"), self.inputs.clone()));
        entries.push((s("metadata"), self.metadata.clone()));
        entries
    }

    /// The stored record; `now` is its created_at unless the spec carries its own.
    pub fn encode_record(&self, now: i64) -> Vec<u8> {
        let created_at = self.created_at.unwrap_or(now);
        let mut entries = self.content();
        entries.push((s("created_at"), Value::from(created_at)));
        codec::encode(&Value::Map(entries))
    }

    /// Whether a stored record holds exactly this content (created_at aside).
    pub fn same_content_as(&self, record: &[u8]) -> Result<bool> {
        let stored =
            decode_value(record, "stored template").map_err(|e| Error::corrupt(e.message))?;
        let Value::Map(mut entries) = stored else {
            return Err(Error::corrupt("stored template is not a map"));
        };
        entries.retain(|(k, _)| k.as_str() != Some("created_at"));
        Ok(entries == self.content())
    }
}

/// Parses and validates a spec given as a MessagePack map with the keys `id`, `version`
/// (default "0.1.0"), `template`, `description`, `inputs`, `metadata`.
pub fn normalize_spec(bytes: &[u8]) -> Result<TemplateSpec> {
    if bytes.is_empty() {
        return Err(Error::invalid("template spec is empty"));
    }
    let map = decode_value(bytes, "template spec")?;
    codec::check_fields(&map, "template spec", SPEC_FIELDS)?;
    let id = str_field(&map, "id", "template spec")?
        .ok_or_else(|| Error::invalid("template spec has no 'id'"))?;
    let template = str_field(&map, "template", "template spec")?
        .ok_or_else(|| Error::invalid(format!("template '{id}' has no 'template' text")))?;
    let version = str_field(&map, "version", "template spec")?;
    let description = str_field(&map, "description", "template spec")?;
    let inputs = match field(&map, "inputs") {
        None | Some(Value::Nil) => Value::Map(Vec::new()),
        Some(v) => {
            check_map(v, "template inputs")?;
            canonical(normalize_inputs(v)?)
        }
    };
    let metadata = match field(&map, "metadata") {
        None | Some(Value::Nil) => Value::Map(Vec::new()),
        Some(v) => {
            check_map(v, "template metadata")?;
            canonical(v.clone())
        }
    };
    let created_at = match field(&map, "created_at") {
        None | Some(Value::Nil) => None,
        Some(Value::Integer(i)) => match i.as_i64() {
            Some(t) if (0..=crate::conversations::record::MAX_TS).contains(&t) => Some(t),
            _ => {
                return Err(Error::invalid(format!(
                    "template '{id}' has a created_at outside 0..={} µs",
                    crate::conversations::record::MAX_TS
                )))
            }
        },
        Some(other) => {
            return Err(Error::invalid(format!(
                "template '{id}' has a created_at of {}; expected an integer of µs since the epoch",
                kind_name(other)
            )))
        }
    };
    Ok(TemplateSpec {
        id: id.to_owned(),
        version: version
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_VERSION)
            .to_owned(),
        template: template.to_owned(),
        description: description.map(str::to_owned),
        inputs,
        metadata,
        created_at,
    })
}

fn normalize_inputs(inputs: &Value) -> Result<Value> {
    let Value::Map(entries) = inputs else {
        return Err(Error::bad_msgpack("template inputs must be a map"));
    };
    let mut out = Vec::with_capacity(entries.len());
    for (name, decl) in entries {
        let name = name.as_str().unwrap_or_default();
        if name.is_empty() {
            return Err(Error::invalid("template input with an empty name"));
        }
        let what = format!("input '{name}'");
        // A bare type string is shorthand for {type: ...}.
        let decl = match decl {
            Value::String(t) => Value::Map(vec![(s("type"), Value::String(t.clone()))]),
            Value::Nil => Value::Map(Vec::new()),
            other => other.clone(),
        };
        codec::check_fields(&decl, &what, INPUT_FIELDS)?;
        let ty = str_field(&decl, "type", &what)?.unwrap_or("string");
        if !INPUT_TYPES.contains(&ty) {
            return Err(Error::invalid(format!(
                "{what} has type '{ty}'; expected one of {}",
                INPUT_TYPES.join(", ")
            )));
        }
        let required = match field(&decl, "required") {
            None | Some(Value::Nil) => true,
            Some(Value::Boolean(b)) => *b,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "{what}.required must be a boolean, got {}",
                    kind_name(other)
                )))
            }
        };
        let mut norm = vec![(s("type"), s(ty)), (s("required"), Value::from(required))];
        if let Some(default) = field(&decl, "default").filter(|d| !d.is_nil()) {
            let ok = match ty {
                "string" => default.is_str(),
                "number" => matches!(default, Value::Integer(_) | Value::F32(_) | Value::F64(_)),
                "boolean" => default.is_bool(),
                "array<string>" => default
                    .as_array()
                    .is_some_and(|a| a.iter().all(Value::is_str)),
                _ => default.is_map(),
            };
            if !ok {
                return Err(Error::invalid(format!(
                    "{what} has a default of {} that does not match its type '{ty}'",
                    kind_name(default)
                )));
            }
            norm.push((s("default"), default.clone()));
        }
        if let Some(d) = str_field(&decl, "description", &what)? {
            norm.push((s("description"), s(d)));
        }
        out.push((s(name), Value::Map(norm)));
    }
    Ok(Value::Map(out))
}
