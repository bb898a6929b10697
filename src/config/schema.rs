//! The JSON Schema of the desired-state file, generated with schemars from the raw types in
//! `raw.rs` (the same types serde-saphyr reads), so the schema cannot drift from the loader.
//! `schemas/config.schema.json` is this output; a test fails when the committed copy is stale.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::raw::RawConfig;

/// The schema as pretty JSON with a trailing newline (what `dnssec-pilot schema config` prints).
pub fn config_schema_json() -> String {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<RawConfig>();
    let mut value = schema.to_value();
    strip_null(&mut value);
    // Top-level `x-…` keys hold YAML anchors and are ignored by the loader.
    if let Value::Object(map) = &mut value {
        map.insert(
            "patternProperties".into(),
            serde_json::json!({ "^x-": { "description": "Ignored: a place for YAML anchors shared by many zones." } }),
        );
    }
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

/// Optional keys are written by leaving them out, never as `null`: drop the `null` alternative
/// schemars adds for `Option<T>` so that editors flag `key: ` with nothing after it.
fn strip_null(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alts)) = map.get_mut(key) {
                    alts.retain(|a| a.get("type").and_then(Value::as_str) != Some("null"));
                    if alts.len() == 1 {
                        let only = alts.remove(0);
                        map.remove(key);
                        if let Value::Object(inner) = only {
                            for (k, val) in inner {
                                map.entry(k).or_insert(val);
                            }
                        }
                    }
                }
            }
            for (_, child) in map.iter_mut() {
                strip_null(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}
