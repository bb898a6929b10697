//! Diagnostics of the desired-state file: the stable `DP…` codes, one [`Diagnostic`] per problem
//! (message, severity, labelled spans, a `help:` line), and their two renderings — miette's
//! graphical report (plain when colour is off) and a JSON list with 1-based line and column.
//!
//! Codes are a contract (CI greps for them): a code keeps its meaning forever; a retired code is
//! never reused. The README's diagnostics table lists every one.

use std::fmt;
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode, SourceSpan,
};
use serde::Serialize;

/// A stable diagnostic code. `Code::ALL` is the table the README documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// DP0001: the file is not YAML.
    Syntax,
    /// DP0002: a key the schema does not know (usually a typo).
    UnknownKey,
    /// DP0003: a value of the wrong type or not one of the allowed words.
    WrongType,
    /// DP0004: a required key is missing.
    MissingKey,
    /// DP0005: `version` is not 1.
    Version,
    /// DP0006: neither zones nor domains: nothing to manage.
    Empty,
    /// DP0007: not a valid DNS name.
    BadName,
    /// DP0008: the same zone or domain twice.
    DuplicateName,
    /// DP0009: a TTL above RFC 2181's 2^31 - 1.
    TtlRange,
    /// DP0010: a TTL above one week in a signed zone.
    TtlSigned,
    /// DP0011: `soa.minimum` above one day.
    SoaMinimum,
    /// DP0012: `soa.ttl` above `ttl.max`.
    SoaTtl,
    /// DP0013: `soa.minimum` above `soa.ttl` (warning).
    SoaMinimumAboveTtl,
    /// DP0014: KSK name not 3..=128 letters, digits, underscores.
    KskName,
    /// DP0015: two KSKs with one name.
    DuplicateKsk,
    /// DP0016: more than two KSKs in a zone.
    TooManyKsks,
    /// DP0017: two KSKs on one KMS key.
    SharedKmsKey,
    /// DP0018: `kms_key` is not a KMS key or alias ARN.
    KmsArn,
    /// DP0019: `kms_key` is not in us-east-1.
    KmsRegion,
    /// DP0020: `hosted_zone_id` is not of Route 53's form.
    HostedZoneId,
    /// DP0021: a signed zone without a trust target.
    NoTrust,
    /// DP0022: two trust targets.
    TwoTrusts,
    /// DP0023: a parent zone that cannot be the zone's parent.
    BadParent,
    /// DP0024: signing enabled without any KSK.
    NoKsk,
    /// DP0025: more registrar keys than the TLD allows.
    TooManyRegistrarKeys,
    /// DP0026: DNSKEY flags other than 256/257.
    KeyFlags,
    /// DP0027: an algorithm deprecated for signing (RFC 8624).
    AlgorithmDeprecated,
    /// DP0028: an algorithm number that is unassigned or cannot be used here.
    AlgorithmUnknown,
    /// DP0029: a public key that is not base64.
    KeyBase64,
    /// DP0030: a public key of the wrong length or shape for its algorithm.
    KeyLength,
    /// DP0031: a DS digest pasted where a public key belongs.
    DigestAsKey,
    /// DP0032: a duration that does not parse.
    Duration,
    /// DP0033: a soak shorter than one hour without `allow_short_soak`.
    ShortSoak,
    /// DP0034: a server address that is not `ip:port`.
    ServerAddr,
    /// DP0035: a registrar key entry that mixes `from_dns` with key fields, or says `from_dns: false`.
    FromDns,
    /// DP0036: the same registrar key twice.
    DuplicateKey,
    /// DP0037: a name listed both under `zones` and under `domains`.
    ZoneAndDomain,
    /// DP0038: KSKs listed for a zone whose signing is disabled (warning).
    KsksIgnored,
    /// DP0039: `finally.ds_ttl` set where the tool cannot set the DS TTL (warning).
    DsTtlIgnored,
    /// DP0040: registrar trust for a name that is probably not a registered domain (warning).
    RegistrarSubdomain,
    /// DP0041: the parent hosted zone id is the zone's own.
    ParentIsSelf,
    /// DP0042: a key appears twice in one mapping.
    DuplicateYamlKey,
    /// DP0043: `soak`, `propagation_margin` or `registrar_key_deletion_delay` below the seeds' value (warning).
    ShortWait,
    /// DP0044: `parent_zone.hosted_zone_id` differs from the id of the parent listed in `zones`.
    ParentIdMismatch,
    /// DP0045: the parent zone is listed as unsigned, so the DS cannot make the zone secure (warning).
    ParentUnsigned,
    /// DP0046: two zones with one hosted zone id.
    DuplicateHostedZoneId,
    /// DP0047: `trust.ds: absent` while signing is disabled (warning): the DS goes anyway.
    DsAbsentIgnored,
    /// DP0048: the file is beyond the loader's limits (nodes, nesting, aliases).
    BeyondLimits,
}

impl Code {
    /// Every code in number order: a code's number is its position here, so new codes are
    /// appended, never inserted, and none is ever removed (a retired rule keeps its slot).
    pub const ALL: [Code; 48] = [
        Code::Syntax,
        Code::UnknownKey,
        Code::WrongType,
        Code::MissingKey,
        Code::Version,
        Code::Empty,
        Code::BadName,
        Code::DuplicateName,
        Code::TtlRange,
        Code::TtlSigned,
        Code::SoaMinimum,
        Code::SoaTtl,
        Code::SoaMinimumAboveTtl,
        Code::KskName,
        Code::DuplicateKsk,
        Code::TooManyKsks,
        Code::SharedKmsKey,
        Code::KmsArn,
        Code::KmsRegion,
        Code::HostedZoneId,
        Code::NoTrust,
        Code::TwoTrusts,
        Code::BadParent,
        Code::NoKsk,
        Code::TooManyRegistrarKeys,
        Code::KeyFlags,
        Code::AlgorithmDeprecated,
        Code::AlgorithmUnknown,
        Code::KeyBase64,
        Code::KeyLength,
        Code::DigestAsKey,
        Code::Duration,
        Code::ShortSoak,
        Code::ServerAddr,
        Code::FromDns,
        Code::DuplicateKey,
        Code::ZoneAndDomain,
        Code::KsksIgnored,
        Code::DsTtlIgnored,
        Code::RegistrarSubdomain,
        Code::ParentIsSelf,
        Code::DuplicateYamlKey,
        Code::ShortWait,
        Code::ParentIdMismatch,
        Code::ParentUnsigned,
        Code::DuplicateHostedZoneId,
        Code::DsAbsentIgnored,
        Code::BeyondLimits,
    ];

    /// `DP0001` …, in declaration order.
    pub fn as_str(self) -> String {
        let n = Code::ALL.iter().position(|c| *c == self).unwrap_or(0) + 1;
        format!("DP{n:04}")
    }

    /// One line for the README table: what the code means.
    pub fn summary(self) -> &'static str {
        match self {
            Code::Syntax => "the file is not valid YAML",
            Code::UnknownKey => "unknown key (usually a typo)",
            Code::WrongType => "wrong type, or not one of the allowed words",
            Code::MissingKey => "a required key is missing",
            Code::Version => "`version` is not 1",
            Code::Empty => "no zones and no domains",
            Code::BadName => "not a valid DNS name",
            Code::DuplicateName => "the same zone or domain twice",
            Code::TtlRange => "TTL above 2147483647 (RFC 2181 §8)",
            Code::TtlSigned => "TTL above 604800 (one week) in a signed zone",
            Code::SoaMinimum => "`soa.minimum` above 86400 (RFC 2308 §5)",
            Code::SoaTtl => "`soa.ttl` above `ttl.max`",
            Code::SoaMinimumAboveTtl => "`soa.minimum` above `soa.ttl` (warning)",
            Code::KskName => "KSK name not 3..=128 letters, digits, `_`",
            Code::DuplicateKsk => "two KSKs with one name",
            Code::TooManyKsks => "more than two KSKs in one zone",
            Code::SharedKmsKey => "two KSKs on one KMS key",
            Code::KmsArn => "`kms_key` is not a KMS key or alias ARN",
            Code::KmsRegion => "`kms_key` is not in `us-east-1`",
            Code::HostedZoneId => {
                "hosted zone id not of Route 53's form (up to 32 capital letters and digits)"
            }
            Code::NoTrust => "a signed zone without a trust target",
            Code::TwoTrusts => "two trust targets for one zone",
            Code::BadParent => "the parent zone cannot be this zone's parent",
            Code::NoKsk => "signing enabled without a KSK",
            Code::TooManyRegistrarKeys => "more registrar keys than the TLD allows",
            Code::KeyFlags => "DNSKEY flags other than 256 or 257",
            Code::AlgorithmDeprecated => "algorithm deprecated for signing (RFC 8624)",
            Code::AlgorithmUnknown => "algorithm unassigned or unusable for a registrar key",
            Code::KeyBase64 => "public key is not base64",
            Code::KeyLength => "public key has the wrong length for its algorithm",
            Code::DigestAsKey => "a DS digest where a public key belongs",
            Code::Duration => "a duration that does not parse",
            Code::ShortSoak => "soak under one hour without `allow_short_soak: true`",
            Code::ServerAddr => "server address is not `ip:port`",
            Code::FromDns => "`from_dns` mixed with key fields, or `from_dns: false`",
            Code::DuplicateKey => "the same registrar key twice",
            Code::ZoneAndDomain => "a name under both `zones` and `domains`",
            Code::KsksIgnored => "KSKs listed while signing is disabled (warning)",
            Code::DsTtlIgnored => "`finally.ds_ttl` has no effect for registrar trust (warning)",
            Code::RegistrarSubdomain => "registrar trust for a subdomain (warning)",
            Code::ParentIsSelf => "the parent hosted zone id is the zone's own",
            Code::DuplicateYamlKey => "a key twice in one mapping",
            Code::ShortWait => "a safety wait below the seeds' value (warning)",
            Code::ParentIdMismatch => "`parent_zone.hosted_zone_id` is not the listed parent's id",
            Code::ParentUnsigned => {
                "the parent zone is listed unsigned: no chain of trust (warning)"
            }
            Code::DuplicateHostedZoneId => "two zones with one hosted zone id",
            Code::DsAbsentIgnored => "`trust.ds: absent` with signing disabled (warning)",
            Code::BeyondLimits => {
                "the file is beyond the loader's limits (nodes, nesting depth, aliases)"
            }
        }
    }

    /// What to do about it (the README table's last column).
    pub fn fix(self) -> &'static str {
        match self {
            Code::Syntax => "fix the YAML at the place shown (indentation, quotes, colons)",
            Code::UnknownKey => "use one of the keys listed in the help line",
            Code::WrongType => "write the kind of value the help line names",
            Code::MissingKey => "add the key",
            Code::Version => "write `version: 1`",
            Code::Empty => "list at least one zone under `zones` or one domain under `domains`",
            Code::BadName => "letters, digits, `-`, `_`; labels of 1..=63; two labels at least",
            Code::DuplicateName => "keep one entry per name",
            Code::TtlRange => "use a TTL of at most 604800",
            Code::TtlSigned => "Route 53 caps TTLs in signed zones at 604800",
            Code::SoaMinimum => "use at most 86400; the seeds use 300",
            Code::SoaTtl => "lower `soa.ttl` to `ttl.max` or less",
            Code::SoaMinimumAboveTtl => {
                "negative answers are cached min(SOA TTL, minimum); lower `soa.minimum`"
            }
            Code::KskName => "e.g. `example_com_ksk_1`",
            Code::DuplicateKsk => "give each KSK its own name",
            Code::TooManyKsks => "Route 53 allows two KSKs per zone (one for rotation)",
            Code::SharedKmsKey => "give each KSK its own KMS key",
            Code::KmsArn => "`arn:aws:kms:us-east-1:<account>:key/<id>` or `…:alias/<name>`",
            Code::KmsRegion => "create the key in `us-east-1`; Route 53 requires it",
            Code::HostedZoneId => {
                "up to 32 capital letters and digits (as `GetHostedZone` shows it), without `/hostedzone/`"
            }
            Code::NoTrust => {
                "add `trust:` with `parent_zone`, `registrar: route53_domains` or `registrar: external`"
            }
            Code::TwoTrusts => "keep exactly one of `parent_zone` and `registrar`",
            Code::BadParent => {
                "use `registrar:` trust for a zone directly under a TLD, or fix `parent_zone.name`"
            }
            Code::NoKsk => "add a KSK under `signing.ksks`, or set `signing.enabled: false`",
            Code::TooManyRegistrarKeys => "13 for `.com` and `.net`, 4 for other TLDs",
            Code::KeyFlags => "257 for a KSK (SEP), 256 for a ZSK",
            Code::AlgorithmDeprecated => "use 13 (ECDSAP256SHA256)",
            Code::AlgorithmUnknown => "use 8, 10, 13, 14, 15 or 16",
            Code::KeyBase64 => "paste the DNSKEY's public key field (base64)",
            Code::KeyLength => "P-256 keys are 64 bytes, P-384 96, Ed25519 32, Ed448 57",
            Code::DigestAsKey => "paste the DNSKEY public key, not the DS digest",
            Code::Duration => "a number with `s`, `m`, `h`, `d` or `w`, e.g. `10m`, `14d`",
            Code::ShortSoak => "use at least `1h`, or set `allow_short_soak: true` (tests only)",
            Code::ServerAddr => "e.g. `192.0.2.1:53` or `[2001:db8::1]:53`",
            Code::FromDns => "either `from_dns: true` alone, or `flags`, `algorithm`, `public_key`",
            Code::DuplicateKey => "list each key once",
            Code::ZoneAndDomain => {
                "a Route 53 zone goes under `zones`; DNS hosted elsewhere under `domains`"
            }
            Code::KsksIgnored => "remove the KSKs or enable signing",
            Code::DsTtlIgnored => "remove `finally.ds_ttl`; the registry sets the DS TTL",
            Code::RegistrarSubdomain => {
                "a subdomain's DS lives in its parent zone: use `parent_zone`"
            }
            Code::ParentIsSelf => "give the parent zone's own hosted zone id",
            Code::DuplicateYamlKey => "keep one of them",
            Code::ShortWait => "keep the seeds' values unless you know your parent's timing",
            Code::ParentIdMismatch => "use the `hosted_zone_id` of the parent's own entry",
            Code::ParentUnsigned => {
                "sign the parent too (its DS at its own parent first), or use another trust target"
            }
            Code::DuplicateHostedZoneId => {
                "each hosted zone has its own id: check for a copy-paste slip"
            }
            Code::DsAbsentIgnored => {
                "remove `ds: absent`: a zone taken off DNSSEC loses its DS first anyway"
            }
            Code::BeyondLimits => {
                "split the fleet into several config files, each with its own journal (`-c FILE --state FILE`), and keep nesting and aliases shallow"
            }
        }
    }
}

/// The README's diagnostics table (Markdown), generated from [`Code::ALL`] so that the two
/// cannot drift; a test compares it with the README.
pub fn codes_table_markdown() -> String {
    let mut out = String::from("| Code | What | Fix |\n|---|---|---|\n");
    for c in Code::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.as_str(),
            c.summary(),
            c.fix()
        ));
    }
    out
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A place in the YAML source: byte offset and length (for labels) and the 1-based line and
/// character column of its start (for people and CI annotations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
    pub line: usize,
    pub column: usize,
}

impl Span {
    /// A span covering `len` bytes at `offset` of `src`, with its line and column computed.
    pub fn at(src: &str, offset: usize, len: usize) -> Span {
        let offset = floor_char_boundary(src, offset.min(src.len()));
        let end = floor_char_boundary(src, offset.saturating_add(len).min(src.len()));
        let before = &src[..offset];
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = src[line_start..offset].chars().count() + 1;
        Span {
            offset,
            len: end - offset,
            line,
            column,
        }
    }
}

/// Line starts of a source text, for turning many byte offsets into lines in `O(log n)` each.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// Like [`Span::at`], without rescanning the text before `offset`.
    pub fn span(&self, src: &str, offset: usize, len: usize) -> Span {
        let offset = floor_char_boundary(src, offset.min(src.len()));
        let end = floor_char_boundary(src, offset.saturating_add(len).min(src.len()));
        let line = self.starts.partition_point(|s| *s <= offset);
        let line_start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = src.get(line_start..offset).map_or(0, |t| t.chars().count()) + 1;
        Span {
            offset,
            len: end - offset,
            line: line.max(1),
            column,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One labelled place a diagnostic points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem found in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// What would be right. Shown on its own `help:` line.
    pub help: String,
    /// The first label is the primary one; its span gives `line` and `column`.
    pub labels: Vec<Label>,
}

impl Diagnostic {
    pub fn error(
        code: Code,
        span: Span,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            help: code.fix().to_string(),
            labels: vec![Label {
                span,
                text: label.into(),
            }],
        }
    }

    pub fn warning(
        code: Code,
        span: Span,
        label: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, label, message)
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: label.into(),
        });
        self
    }

    pub fn span(&self) -> Span {
        self.labels.first().map(|l| l.span).unwrap_or_default()
    }

    pub fn line(&self) -> usize {
        self.span().line.max(1)
    }

    pub fn column(&self) -> usize {
        self.span().column.max(1)
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The JSON form of a diagnostic (`validate --format json`): a versioned shape of its own.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct JsonDiagnostic {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub help: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// Renders diagnostics as the JSON list `validate --format json` prints (pretty, one trailing
/// newline).
pub fn render_json(file: &str, diags: &[Diagnostic]) -> String {
    let list: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| JsonDiagnostic {
            code: d.code.as_str(),
            severity: d.severity,
            message: d.message.clone(),
            help: d.help.clone(),
            file: file.to_string(),
            line: d.line(),
            column: d.column(),
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
    out.push('\n');
    out
}

/// Renders diagnostics as miette graphical reports, one after another, with a summary line.
/// `color: false` gives plain text (no ANSI escapes) — what NO_COLOR, `--no-color` and a
/// non-terminal stderr get.
pub fn render_human(file: &str, src: &str, diags: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
        .with_context_lines(1);
    let long_lines = src.lines().any(|l| l.len() > MAX_RENDERED_LINE);
    let source = Arc::new(NamedSource::new(file, src.to_string()));
    let mut out = String::new();
    for d in diags {
        // miette cannot draw a label past column 65,535 (it panics): a long line is clipped
        // to a window around what the diagnostic points at, for this diagnostic only.
        let clipped;
        let (diag, source) = if long_lines {
            let (text, c) = clip_long_lines(src, d);
            clipped = c;
            (&clipped, Arc::new(NamedSource::new(file, text)))
        } else {
            (d, source.clone())
        };
        let d = diag;
        let report = Report { diag: d, source };
        let mut s = String::new();
        if handler.render_report(&mut s, &report).is_err() {
            s = format!("{}[{}]: {}\n", severity_word(d.severity), d.code, d.message);
        }
        out.push_str(&s);
        if !s.ends_with('\n') {
            out.push('\n');
        }
    }
    if !diags.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(file, diags));
    out.push('\n');
    out
}

/// Lines longer than this are clipped before miette renders them.
const MAX_RENDERED_LINE: usize = 400;
/// Bytes kept on either side of a label on a clipped line.
const CLIP_CONTEXT: usize = 40;
/// The most of one label's own text kept on a clipped line.
const CLIP_LABEL: usize = 200;

/// `src` with every line longer than [`MAX_RENDERED_LINE`] cut to a window around the labels of
/// `d` on it (`…` marks what is left out), and `d` with its label spans moved to match; a clipped
/// label says the real column. Line numbers are kept.
fn clip_long_lines(src: &str, d: &Diagnostic) -> (String, Diagnostic) {
    let mut out = String::with_capacity(src.len().min(64 * 1024));
    let mut diag = d.clone();
    let mut line_start = 0;
    for line in src.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let line_end = line_start + body.len();
        let new_start = out.len();
        if body.len() <= MAX_RENDERED_LINE {
            out.push_str(line);
        } else {
            let on_line: Vec<usize> = d
                .labels
                .iter()
                .enumerate()
                .filter(|(_, l)| l.span.offset >= line_start && l.span.offset <= line_end)
                .map(|(i, _)| i)
                .collect();
            let (from, to) = if on_line.is_empty() {
                (line_start, line_start + 80)
            } else {
                let first = on_line
                    .iter()
                    .map(|&i| d.labels[i].span.offset)
                    .min()
                    .unwrap_or(line_start);
                let last = on_line
                    .iter()
                    .map(|&i| d.labels[i].span.offset + d.labels[i].span.len.min(CLIP_LABEL))
                    .max()
                    .unwrap_or(first);
                let from = first.saturating_sub(CLIP_CONTEXT).max(line_start);
                let to = (last + CLIP_CONTEXT).min(line_end).max(from);
                (from, to.min(from + MAX_RENDERED_LINE))
            };
            let from = floor_char_boundary(src, from);
            let to = floor_char_boundary(src, to.min(line_end));
            if from > line_start {
                out.push('…');
            }
            let window_at = out.len();
            out.push_str(&src[from..to]);
            if to < line_end {
                out.push('…');
            }
            if line.ends_with('\n') {
                out.push('\n');
            }
            for i in on_line {
                let l = &mut diag.labels[i];
                let column = l.span.column;
                let start = l.span.offset.clamp(from, to);
                let end = (l.span.offset + l.span.len).clamp(start, to);
                l.span.offset = window_at + (start - from);
                l.span.len = end - start;
                l.text = format!("{} (column {column})", l.text);
            }
            line_start = line_end + (line.len() - body.len());
            continue;
        }
        // Labels on later lines move by however much earlier lines shrank.
        let shift = line_start as isize - new_start as isize;
        for l in diag.labels.iter_mut() {
            if l.span.offset >= line_start && l.span.offset <= line_end && shift != 0 {
                l.span.offset = (l.span.offset as isize - shift).max(0) as usize;
            }
        }
        line_start = line_end + (line.len() - body.len());
    }
    (out, diag)
}

/// `` `file`: 2 errors, 1 warning `` — or the word `valid`.
pub fn summary(file: &str, diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => format!("`{file}` is valid"),
        (0, w) => format!("`{file}` is valid, with {}", plural(w, "warning")),
        (e, 0) => format!("`{file}` is invalid: {}", plural(e, "error")),
        (e, w) => format!(
            "`{file}` is invalid: {}, {}",
            plural(e, "error"),
            plural(w, "warning")
        ),
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A [`Diagnostic`] bound to its source, as miette wants it.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: Arc<NamedSource<String>>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        if self.diag.help.is_empty() {
            None
        } else {
            Some(Box::new(&self.diag.help))
        }
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let labels = self.diag.labels.iter().enumerate().map(|(i, l)| {
            let span = SourceSpan::new(l.span.offset.into(), l.span.len);
            if i == 0 {
                LabeledSpan::new_primary_with_span(Some(l.text.clone()), span)
            } else {
                LabeledSpan::new_with_span(Some(l.text.clone()), span)
            }
        });
        Some(Box::new(labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_numbered_in_order_and_unique() {
        assert_eq!(Code::Syntax.as_str(), "DP0001");
        assert_eq!(Code::ShortWait.as_str(), "DP0043");
        assert_eq!(Code::DuplicateHostedZoneId.as_str(), "DP0046");
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()));
        }
    }

    #[test]
    fn span_line_and_column_are_one_based_and_count_characters() {
        let src = "a: 1\nbé: xyz\n";
        let s = Span::at(src, src.find("xyz").unwrap(), 3);
        assert_eq!((s.line, s.column), (2, 5));
        let idx = LineIndex::new(src);
        for off in 0..=src.len() {
            if src.is_char_boundary(off) {
                assert_eq!(idx.span(src, off, 1), Span::at(src, off, 1), "offset {off}");
            }
        }
    }
}
