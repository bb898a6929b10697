//! `dnssec-pilot schema [config|plan|world]`: print a JSON Schema on stdout. The config schema
//! is generated from the loader's own types; the plan and world schemas arrive with their
//! engines.

use super::Outcome;
use crate::cli::SchemaKind;

pub fn run(kind: SchemaKind) -> Outcome {
    match kind {
        SchemaKind::Config => Outcome {
            stdout: crate::config::config_schema_json(),
            ..Outcome::default()
        },
        SchemaKind::Plan | SchemaKind::World => {
            let name = if kind == SchemaKind::Plan {
                "plan"
            } else {
                "world"
            };
            Outcome {
                stderr: format!(
                    "error: the `{name}` schema is not available yet\n  help: `dnssec-pilot schema config` works today\n"
                ),
                code: 1,
                ..Outcome::default()
            }
        }
    }
}
