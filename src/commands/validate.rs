//! `dnssec-pilot validate`: load the desired-state file, print every diagnostic (miette
//! graphical on stderr, or a JSON list on stdout with `--format json`), exit 1 on any error and 0
//! otherwise (warnings are printed but do not fail).

use std::path::Path;

use super::Outcome;
use crate::config::{self, LoadError};

/// Validates `path`; `json` selects the JSON list, `color` ANSI colours in the human report.
pub fn run(path: &Path, json: bool, color: bool) -> Outcome {
    match config::load(path) {
        Ok(loaded) => {
            let w = &loaded.warnings;
            let d = &loaded.desired;
            if json {
                Outcome {
                    stdout: w.render_json(),
                    ..Outcome::default()
                }
            } else {
                let mut stderr = String::new();
                if !w.items.is_empty() {
                    stderr = w.render_human(color);
                } else {
                    stderr.push_str(&w.summary());
                    stderr.push('\n');
                }
                stderr.push_str(&format!(
                    "{} {}, {} {}\n",
                    d.zones.len(),
                    if d.zones.len() == 1 { "zone" } else { "zones" },
                    d.domains.len(),
                    if d.domains.len() == 1 {
                        "domain"
                    } else {
                        "domains"
                    },
                ));
                Outcome {
                    stderr,
                    ..Outcome::default()
                }
            }
        }
        Err(e) => {
            let text = e.render(json, color);
            let (stdout, stderr) = match (&e, json) {
                (LoadError::Invalid(_) | LoadError::Io { .. }, true) => (text, String::new()),
                (_, false) => (String::new(), text),
            };
            Outcome {
                stdout,
                stderr,
                code: 1,
            }
        }
    }
}
