//! `dnssec-pilot schema [config|plan|world|check]`: print one of the JSON Schemas that
//! `schemas/` holds, on stdout, as pretty JSON with a trailing newline — byte for byte the
//! committed file (a test in `tests/suite/schemas.rs` keeps them equal).
//!
//! - `config`: the desired-state YAML (generated from the loader's own raw types);
//! - `plan`: the document `plan --format json` prints (the renderer's versioned `PlanDoc`);
//! - `world`: the sandbox world *file* (`--sandbox WORLD`, written by `sandbox init`) — not the
//!   `sandbox show` report;
//! - `check`: the document `check --format json` prints (`CheckDoc`).

use super::Outcome;
use crate::cli::SchemaKind;

/// The schema of `kind` as the text `schema KIND` prints and `schemas/KIND.schema.json` holds.
///
/// Object keys are sorted: serde_json keeps insertion order when some crate in the build turns
/// its `preserve_order` feature on (a dev-dependency does, so test builds differ from release
/// builds), and the text must be the same whichever build prints it.
pub fn schema_text(kind: SchemaKind) -> String {
    let value = match kind {
        SchemaKind::Config => {
            serde_json::from_str(&crate::config::config_schema_json()).unwrap_or_default()
        }
        SchemaKind::Plan => crate::render::plan_json::plan_schema(),
        SchemaKind::World => {
            serde_json::to_value(crate::provider::sandbox::world_schema()).unwrap_or_default()
        }
        SchemaKind::Check => crate::check::report::check_schema(),
    };
    pretty(&sorted(value))
}

/// `v` with every object's keys in sorted order.
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// The file under `schemas/` that holds the schema of `kind`.
pub fn schema_file(kind: SchemaKind) -> &'static str {
    match kind {
        SchemaKind::Config => "schemas/config.schema.json",
        SchemaKind::Plan => "schemas/plan.schema.json",
        SchemaKind::World => "schemas/world.schema.json",
        SchemaKind::Check => "schemas/check.schema.json",
    }
}

fn pretty(v: &serde_json::Value) -> String {
    // Pretty-printing a `Value` cannot fail; an empty object is still valid JSON.
    let mut out = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

pub fn run(kind: SchemaKind) -> Outcome {
    Outcome {
        stdout: schema_text(kind),
        ..Outcome::default()
    }
}
