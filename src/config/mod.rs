//! Desired state: the YAML file's types, loading with spans (serde-saphyr), the validation rules
//! with their stable `DP…` codes, and the validated [`Desired`] the planner consumes.
//!
//! The one entry point for every command is [`load`] (or [`load_str`] / [`load_bytes`]): it
//! returns the [`Desired`] plus any warnings, or a [`LoadError`] carrying *every* problem in the
//! file. Both render the same way ([`Diagnostics::render_human`], [`Diagnostics::render_json`]), so
//! `validate`, `plan`, `apply` and `check` print config problems identically.

mod desired;
mod diag;
mod node;
mod raw;
mod schema;
mod validate;

use std::path::Path;

pub use desired::{
    Desired, DnsOverride, DomainSpec, Finally, KskSpec, RegistrarKeySpec, Safety, Signing, Trust,
    ZoneSpec, registrar_key_limit,
};
pub use diag::{Code, Diagnostic, JsonDiagnostic, Label, Severity, Span, codes_table_markdown};
pub use raw::{RawConfig, Sp};
pub use schema::config_schema_json;
pub use validate::{
    DEFAULT_FINALLY_DS_TTL, DEFAULT_PARENT_DS_TTL, DEFAULT_SOA_MINIMUM, DEFAULT_SOA_TTL,
    DEFAULT_TTL_MAX,
};

/// Diagnostics of one file, with the file's name and text so that they can be rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file name as the user gave it (shown in reports).
    pub file: String,
    /// The file's text (lossily decoded when it was not UTF-8).
    pub source: String,
    /// Sorted by position; errors and warnings mixed.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }
    /// miette graphical reports (no ANSI escapes when `color` is false) and a summary line.
    /// Meant for stderr.
    pub fn render_human(&self, color: bool) -> String {
        diag::render_human(&self.file, &self.source, &self.items, color)
    }
    /// The JSON list (`code`, `severity`, `message`, `help`, `file`, `line`, `column`; 1-based).
    /// Meant for stdout.
    pub fn render_json(&self) -> String {
        diag::render_json(&self.file, &self.items)
    }
    /// The one-line summary (`` `f.yaml` is invalid: 2 errors ``).
    pub fn summary(&self) -> String {
        diag::summary(&self.file, &self.items)
    }
}

/// A file that passed every rule.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub desired: Desired,
    /// Warnings only (no errors, by construction).
    pub warnings: Diagnostics,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// At least one error; `0.items` holds every problem found, warnings included.
    #[error("{}", .0.summary())]
    Invalid(Diagnostics),
}

impl LoadError {
    /// Renders the error for the user: the diagnostics (human or JSON) or the I/O message.
    /// Human output is for stderr; JSON output (a list, possibly with one I/O entry) for stdout.
    pub fn render(&self, json: bool, color: bool) -> String {
        match (self, json) {
            (LoadError::Invalid(d), false) => d.render_human(color),
            (LoadError::Invalid(d), true) => d.render_json(),
            (LoadError::Io { .. }, false) => format!("error: {self}\n"),
            (LoadError::Io { path, source }, true) => {
                let v = serde_json::json!([{
                    "code": "io",
                    "severity": "error",
                    "message": format!("cannot read `{path}`: {source}"),
                    "help": "check the path given with `-c`",
                    "file": path,
                    "line": 1,
                    "column": 1,
                }]);
                format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
            }
        }
    }
}

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    load_bytes(&bytes, &path.display().to_string())
}

/// Validates YAML given as bytes (non-UTF-8 input is a located DP0001 error).
pub fn load_bytes(bytes: &[u8], file: &str) -> Result<Loaded, LoadError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => load_str(s, file),
        Err(e) => {
            let source = String::from_utf8_lossy(bytes).into_owned();
            let good = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).len();
            let span = Span::at(&source, good, 1);
            let d = Diagnostic::error(
                Code::Syntax,
                span,
                "not UTF-8",
                format!(
                    "the file is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            )
            .help("save the file as UTF-8");
            Err(LoadError::Invalid(Diagnostics {
                file: file.to_string(),
                source,
                items: vec![d],
            }))
        }
    }
}

/// Validates YAML text; `file` names it in reports.
pub fn load_str(src: &str, file: &str) -> Result<Loaded, LoadError> {
    let (desired, items) = check_str(src);
    let diags = Diagnostics {
        file: file.to_string(),
        source: src.to_string(),
        items,
    };
    match desired {
        Some(desired) if !diags.has_errors() => Ok(Loaded {
            desired,
            warnings: diags,
        }),
        _ => Err(LoadError::Invalid(diags)),
    }
}

/// Every diagnostic for `src`, sorted by position, and the [`Desired`] when the file could be read
/// far enough to build one (only trustworthy when no diagnostic is an error).
pub fn check_str(src: &str) -> (Option<Desired>, Vec<Diagnostic>) {
    let root = match node::parse(src) {
        Ok(root) => root,
        Err(e) => {
            let code = if e.beyond_limits {
                Code::BeyondLimits
            } else {
                Code::Syntax
            };
            let d = Diagnostic::error(code, e.span, "here", e.message).help(code.fix());
            return (None, vec![d]);
        }
    };
    let mut reader = raw::Reader { diags: Vec::new() };
    let raw = raw::read(&root, &mut reader);
    let mut diags = reader.diags;
    let desired = raw.map(|raw| validate::check(&raw, root.span, &mut diags));
    diags.sort_by_key(|a| (a.line(), a.column(), a.code));
    diags.dedup();
    (desired, diags)
}

/// Deserialises the file straight into the raw types with serde-saphyr (`deny_unknown_fields`,
/// first error only). The loader does not need it; tests use it to prove that the serde derive —
/// hence the JSON Schema — and the loader agree. Unlike the loader it rejects top-level `x-…`
/// anchor keys.
pub fn parse_raw_with_serde(src: &str) -> Result<RawConfig, String> {
    serde_saphyr::from_str::<RawConfig>(src).map_err(|e| e.to_string())
}

/// Reads the file into the raw types through the loader's tree reader (all diagnostics).
pub fn parse_raw(src: &str) -> (Option<RawConfig>, Vec<Diagnostic>) {
    match node::parse(src) {
        Ok(root) => {
            let mut r = raw::Reader { diags: Vec::new() };
            let out = raw::read(&root, &mut r);
            (out, r.diags)
        }
        Err(e) => (
            None,
            vec![Diagnostic::error(Code::Syntax, e.span, "here", e.message)],
        ),
    }
}
