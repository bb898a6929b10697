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
pub fn schema_text(kind: SchemaKind) -> String {
    match kind {
        SchemaKind::Config => crate::config::config_schema_json(),
        SchemaKind::Plan => pretty(&crate::render::plan_json::plan_schema()),
        SchemaKind::World => pretty(
            &serde_json::to_value(crate::provider::sandbox::world_schema()).unwrap_or_default(),
        ),
        SchemaKind::Check => pretty(&crate::check::report::check_schema()),
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
