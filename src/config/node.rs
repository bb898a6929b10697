//! The spanned YAML tree: serde-saphyr parses the file and every node comes back wrapped in its
//! [`serde_saphyr::Spanned`], so each value — and each mapping key — knows its line, column and
//! byte range. The typed reader in `raw.rs` walks this tree, which is what lets one run report every
//! unknown key and every wrong type instead of stopping at serde's first error.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::diag::{LineIndex, Span};

/// One YAML node with where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are nodes too (they carry their own span).
    Map(Vec<(Node, Node)>),
}

impl Kind {
    /// How the node is described in "expected …, found …" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Kind::Null => "nothing (null)",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a decimal number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// A deserialised node without its span yet (serde-saphyr's `Spanned` supplies it).
struct RawKind(Kind);

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = RawKind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Null))
    }
    fn visit_none<E>(self) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Null))
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        d.deserialize_any(KindVisitor)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Int(i128::from(v))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Int(i128::from(v))))
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Int(v)))
    }
    fn visit_u128<E>(self, v: u128) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Int(i128::try_from(v).unwrap_or(i128::MAX))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Str(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Str(v)))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<RawKind, E> {
        Ok(RawKind(Kind::Str(String::from_utf8_lossy(v).into_owned())))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawKind>>()? {
            items.push(item);
        }
        Ok(RawKind(Kind::Seq(items.into_iter().map(pending).collect())))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Spanned<RawKind>>()? {
            let v = map.next_value::<Spanned<RawKind>>()?;
            entries.push((pending(k), pending(v)));
        }
        Ok(RawKind(Kind::Map(entries)))
    }
}

/// A node whose span still holds serde-saphyr's character/byte figures in `offset`/`len`; the
/// line and column are filled in by [`fix_spans`] once the whole tree exists.
fn pending(s: Spanned<RawKind>) -> Node {
    let loc = s.referenced;
    let sp = loc.span();
    let offset = sp.byte_offset().unwrap_or(u64::MAX);
    let len = sp.byte_len().unwrap_or(0);
    Node {
        kind: s.value.0,
        span: Span {
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            len: usize::try_from(len).unwrap_or(0),
            line: usize::try_from(loc.line()).unwrap_or(0),
            column: usize::try_from(loc.column()).unwrap_or(0),
        },
    }
}

/// Fills in spans serde-saphyr could not give (nodes without byte offsets inherit the parent's)
/// and recomputes line/column from the byte offset so that every span agrees with the source.
fn fix_spans(node: &mut Node, src: &str, idx: &LineIndex, parent: Span) {
    if node.span.offset > src.len() {
        node.span = parent;
    } else {
        // Saphyr gives mappings and sequences a zero-length span at their start; keep it visible.
        let len = if node.span.len == 0 {
            scalar_len_at(src, node.span.offset)
        } else {
            node.span.len
        };
        node.span = idx.span(src, node.span.offset, len);
    }
    let here = node.span;
    let mut end = None;
    match &mut node.kind {
        Kind::Seq(items) => {
            items.iter_mut().for_each(|n| fix_spans(n, src, idx, here));
            end = items.last().map(|n| n.span.offset + n.span.len);
        }
        Kind::Map(entries) => {
            entries.iter_mut().for_each(|(k, v)| {
                fix_spans(k, src, idx, here);
                fix_spans(v, src, idx, here);
            });
            end = entries.last().map(|(_, v)| v.span.offset + v.span.len);
        }
        _ => {}
    }
    // A flow collection (`{ … }`, `[ … ]`) spans up to and including its closing bracket.
    let open = src.as_bytes().get(here.offset).copied();
    if let (Some(b'{' | b'['), Some(end)) = (open, end) {
        let close = if open == Some(b'{') { '}' } else { ']' };
        let tail = src.get(end..).unwrap_or("");
        let stop = tail
            .find(|c: char| !c.is_whitespace() || c == '\n')
            .filter(|i| tail[*i..].starts_with(close))
            .map_or(end, |i| end + i + 1);
        if stop > here.offset {
            node.span = idx.span(src, here.offset, stop - here.offset);
        }
    }
}

/// The length of the token starting at `offset`, up to the end of the line (for labels on
/// zero-length spans).
fn scalar_len_at(src: &str, offset: usize) -> usize {
    let rest = src.get(offset..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    line.trim_end().len().min(60)
}

/// A YAML syntax error, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
    /// The file is within YAML but beyond what the loader reads (too many nodes, too deep, too
    /// many aliases): DP0048, not a syntax slip.
    pub beyond_limits: bool,
}

/// The parser's limits, sized for fleets: a zone entry is about 20 YAML nodes, so 25 million
/// nodes fit well over 100,000 zones (issue 17), while a file that expands without end (alias
/// bombs, runaway nesting) is still stopped.
fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = 25_000_000;
    budget.max_events = 60_000_000;
    budget.max_total_scalar_bytes = 1 << 30;
    budget
}

/// Parses `src` into the spanned tree. An empty document is `Null`.
pub fn parse(src: &str) -> Result<Node, SyntaxError> {
    // Repeated keys reach our visitor, which reports them as DP0042 alongside every other
    // problem instead of aborting the whole parse.
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    options.budget = Some(budget());
    match serde_saphyr::from_str_with_options::<Spanned<RawKind>>(src, options) {
        Ok(root) => {
            let mut node = pending(root);
            let whole = Span::at(src, 0, scalar_len_at(src, 0));
            let idx = LineIndex::new(src);
            fix_spans(&mut node, src, &idx, whole);
            Ok(node)
        }
        Err(err) => {
            let span = match err.location() {
                Some(loc) => {
                    let off = loc
                        .span()
                        .byte_offset()
                        .map(|o| usize::try_from(o).unwrap_or(0));
                    match off {
                        Some(o) if o <= src.len() => Span::at(src, o, scalar_len_at(src, o).max(1)),
                        _ => line_col_span(
                            src,
                            usize::try_from(loc.line()).unwrap_or(1),
                            usize::try_from(loc.column()).unwrap_or(1),
                        ),
                    }
                }
                None => Span::at(src, 0, 0),
            };
            let (message, beyond_limits) = match original_error(&err) {
                serde_saphyr::Error::Budget { breach, .. } => (budget_message(breach), true),
                _ => (syntax_message(&err), false),
            };
            Err(SyntaxError {
                message,
                span,
                beyond_limits,
            })
        }
    }
}

/// What limit a file went beyond, in words (serde-saphyr's own text is a Rust debug form).
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let limits = budget();
    match breach {
        B::Depth { .. } => format!(
            "the YAML nests deeper than the {} levels the loader reads",
            limits.max_depth
        ),
        B::Nodes { .. } => format!(
            "the YAML has more than the {} nodes the loader reads (over a million zones)",
            limits.max_nodes
        ),
        B::Events { .. } => format!(
            "the YAML has more than the {} parser events the loader reads",
            limits.max_events
        ),
        B::Aliases { .. } | B::AliasAnchorRatio { .. } => {
            "the YAML expands through more aliases than the loader reads".to_string()
        }
        B::ScalarBytes { .. } => format!(
            "the YAML holds more than the {} bytes of text the loader reads",
            limits.max_total_scalar_bytes
        ),
        other => format!("the YAML goes beyond a limit of the loader: {other:?}"),
    }
}

/// The error itself, out of the wrappers that add snippets or alias locations.
fn original_error(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = err
    {
        err = error;
    }
    err
}

/// The error text without serde-saphyr's own location suffix and snippet (ours come from miette).
fn syntax_message(err: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter as _;
    let inner = err.without_snippet();
    let text = serde_saphyr::DefaultMessageFormatter.format_message(inner);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = text.trim();
    if trimmed.starts_with("multiple YAML documents") {
        return "the file holds more than one YAML document (a `---` line); keep everything in one"
            .to_string();
    }
    if trimmed.is_empty() {
        "the file is not valid YAML".to_string()
    } else {
        trimmed.to_string()
    }
}

/// A span at a 1-based line and character column (for errors without a byte offset).
fn line_col_span(src: &str, line: usize, column: usize) -> Span {
    let mut offset = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col_bytes: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            offset += col_bytes;
            return Span::at(src, offset, scalar_len_at(src, offset).max(1));
        }
        offset += l.len();
    }
    Span::at(src, src.len(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_keeps_key_and_value_spans() {
        let src = "a: 1\nb:\n  - x\n  - 'y'\n";
        let n = parse(src).unwrap();
        let Kind::Map(entries) = &n.kind else {
            panic!("not a map: {n:?}")
        };
        assert_eq!(entries[0].0.kind, Kind::Str("a".into()));
        assert_eq!((entries[0].1.span.line, entries[0].1.span.column), (1, 4));
        let Kind::Seq(items) = &entries[1].1.kind else {
            panic!()
        };
        assert_eq!(items[1].kind, Kind::Str("y".into()));
        assert_eq!((items[1].span.line, items[1].span.column), (4, 5));
    }

    #[test]
    fn syntax_error_is_located() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.span.line >= 1, "{e:?}");
    }
}
