//! Renderings of a [`CheckReport`]: a human table grouped by zone (worst first), a versioned JSON
//! document (`schemas/check.schema.json`), GitHub Actions workflow commands pointing at the
//! config file and the zone's line, and JUnit XML (one test case per zone × check).

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CheckReport, CheckSeverity};

pub const CHECK_FORMAT_VERSION: u32 = 1;

fn sev(s: CheckSeverity) -> &'static str {
    match s {
        CheckSeverity::Error => "error",
        CheckSeverity::Warning => "warning",
    }
}

/// Human text: per zone its verdict, findings, drift and pending steps; a summary line.
pub fn human(report: &CheckReport, exit: u8) -> String {
    let mut out = String::new();
    for z in &report.zones {
        let verdict = match (z.worst(), z.drift.is_empty() && z.pending.is_empty()) {
            (Some(CheckSeverity::Error), _) => "FAIL",
            (Some(CheckSeverity::Warning), _) => "WARN",
            (None, false) => "PENDING",
            (None, true) => "OK",
        };
        let _ = writeln!(out, "{verdict:<8}{}", z.zone);
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::NOTHING)
            .set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        let mut rows = 0;
        for i in &z.plan_issues {
            t.add_row(vec![
                format!("  {}", i.code),
                match i.severity {
                    crate::plan::Severity::Error => "error".into(),
                    crate::plan::Severity::Warning => "warning".into(),
                },
                i.message.clone(),
            ]);
            t.add_row(vec![
                String::new(),
                String::new(),
                format!("fix: {}", i.help),
            ]);
            rows += 1;
        }
        for fnd in z.findings() {
            t.add_row(vec![
                format!("  {}", fnd.code),
                sev(fnd.severity).into(),
                fnd.message.clone(),
            ]);
            t.add_row(vec![
                String::new(),
                String::new(),
                format!("fix: {}", fnd.fix),
            ]);
            rows += 1;
        }
        for d in &z.drift {
            t.add_row(vec![
                "  drift".into(),
                String::new(),
                format!(
                    "{}: expected {}, observed {} ({})",
                    d.subject, d.expected, d.observed, d.reason
                ),
            ]);
            rows += 1;
        }
        for p in &z.pending {
            let waiting = p
                .waiting_for
                .as_deref()
                .map(|w| format!(", waiting for {w}"))
                .unwrap_or_default();
            t.add_row(vec![
                "  pending".into(),
                String::new(),
                format!("{} ({}){waiting}", p.step, p.status),
            ]);
            rows += 1;
        }
        if rows > 0 {
            for line in t.to_string().lines() {
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
    }
    let failed = report
        .zones
        .iter()
        .filter(|z| z.worst() == Some(CheckSeverity::Error))
        .count();
    let pending = report
        .zones
        .iter()
        .filter(|z| !z.pending.is_empty() || !z.drift.is_empty())
        .count();
    let _ = writeln!(
        out,
        "\n{} zone(s) checked: {failed} failing, {pending} with drift or pending steps (exit {exit}).",
        report.zones.len()
    );
    out
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CheckDoc {
    pub format_version: u32,
    pub exit_code: u8,
    pub zones: Vec<ZoneCheckDoc>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ZoneCheckDoc {
    pub zone: String,
    /// `zone` or `domain`.
    pub kind: String,
    /// `ok`, `pending`, `warning` or `error`.
    pub status: String,
    /// 1-based line of the zone in the config (0 when not in the config).
    pub line: usize,
    pub checks: Vec<CheckDocItem>,
    pub drift: Vec<crate::render::plan_json::DriftDoc>,
    pub issues: Vec<crate::render::plan_json::IssueDoc>,
    pub pending: Vec<PendingDoc>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CheckDocItem {
    pub code: String,
    pub title: String,
    pub applied: bool,
    /// `pass`, `fail`, `warn` or `skip`.
    pub result: String,
    pub findings: Vec<FindingDoc>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct FindingDoc {
    pub code: String,
    pub severity: String,
    pub subject: String,
    pub message: String,
    pub fix: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PendingDoc {
    pub step: String,
    pub action: String,
    pub status: String,
    pub waiting_for: Option<String>,
}

fn result_of(c: &super::CheckResult) -> &'static str {
    if !c.applied {
        "skip"
    } else if c
        .findings
        .iter()
        .any(|f| f.severity == CheckSeverity::Error)
    {
        "fail"
    } else if c.findings.is_empty() {
        "pass"
    } else {
        "warn"
    }
}

pub fn json(report: &CheckReport, exit: u8) -> serde_json::Value {
    let doc = CheckDoc {
        format_version: CHECK_FORMAT_VERSION,
        exit_code: exit,
        zones: report
            .zones
            .iter()
            .map(|z| ZoneCheckDoc {
                zone: z.zone.to_string(),
                kind: match z.kind {
                    crate::plan::TargetKind::Zone => "zone",
                    crate::plan::TargetKind::Domain => "domain",
                }
                .into(),
                status: match z.worst() {
                    Some(s) => sev(s).into(),
                    None if z.pending.is_empty() && z.drift.is_empty() => "ok".into(),
                    None => "pending".into(),
                },
                line: z.line,
                checks: z
                    .checks
                    .iter()
                    .map(|c| CheckDocItem {
                        code: c.code.into(),
                        title: c.title.into(),
                        applied: c.applied,
                        result: result_of(c).into(),
                        findings: c
                            .findings
                            .iter()
                            .map(|f| FindingDoc {
                                code: f.code.into(),
                                severity: sev(f.severity).into(),
                                subject: f.subject.clone(),
                                message: f.message.clone(),
                                fix: f.fix.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
                drift: z
                    .drift
                    .iter()
                    .map(|d| crate::render::plan_json::DriftDoc {
                        subject: d.subject.clone(),
                        expected: d.expected.clone(),
                        observed: d.observed.clone(),
                        reason: d.reason.clone(),
                    })
                    .collect(),
                issues: z
                    .plan_issues
                    .iter()
                    .map(|i| crate::render::plan_json::IssueDoc {
                        severity: match i.severity {
                            crate::plan::Severity::Error => "error",
                            crate::plan::Severity::Warning => "warning",
                        }
                        .into(),
                        code: i.code.clone(),
                        message: i.message.clone(),
                        help: i.help.clone(),
                    })
                    .collect(),
                pending: z
                    .pending
                    .iter()
                    .map(|p| PendingDoc {
                        step: p.step.clone(),
                        action: p.action.clone(),
                        status: p.status.clone(),
                        waiting_for: p.waiting_for.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_value(doc).unwrap_or_default()
}

pub fn check_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(CheckDoc)).unwrap_or_default()
}

/// GitHub Actions workflow-command escaping (`%`, CR, LF; and in properties `:` and `,`).
fn gh_escape(s: &str, property: bool) -> String {
    let mut o = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        o = o.replace(':', "%3A").replace(',', "%2C");
    }
    o
}

/// `::error file=…,line=…,title=CODE zone::message` annotations, one per finding, drift and
/// pending step (pending as `notice`).
pub fn github(report: &CheckReport, config_file: &str) -> String {
    let mut out = String::new();
    for z in &report.zones {
        let loc = if z.line > 0 {
            format!("file={},line={}", gh_escape(config_file, true), z.line)
        } else {
            format!("file={}", gh_escape(config_file, true))
        };
        for i in &z.plan_issues {
            let level = match i.severity {
                crate::plan::Severity::Error => "error",
                crate::plan::Severity::Warning => "warning",
            };
            let _ = writeln!(
                out,
                "::{level} {loc},title={}::{}",
                gh_escape(&format!("{} {}", i.code, z.zone), true),
                gh_escape(&format!("{} — {}", i.message, i.help), false)
            );
        }
        for fnd in z.findings() {
            let _ = writeln!(
                out,
                "::{} {loc},title={}::{}",
                sev(fnd.severity),
                gh_escape(&format!("{} {}", fnd.code, z.zone), true),
                gh_escape(&format!("{} — fix: {}", fnd.message, fnd.fix), false)
            );
        }
        for d in &z.drift {
            let _ = writeln!(
                out,
                "::warning {loc},title={}::{}",
                gh_escape(&format!("drift {}", z.zone), true),
                gh_escape(
                    &format!(
                        "{}: expected {}, observed {} ({})",
                        d.subject, d.expected, d.observed, d.reason
                    ),
                    false
                )
            );
        }
        for p in &z.pending {
            let _ = writeln!(
                out,
                "::notice {loc},title={}::{}",
                gh_escape(&format!("pending {}", z.zone), true),
                gh_escape(
                    &format!(
                        "{} ({}){}",
                        p.step,
                        p.status,
                        p.waiting_for
                            .as_deref()
                            .map(|w| format!(", waiting for {w}"))
                            .unwrap_or_default()
                    ),
                    false
                )
            );
        }
    }
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: a test suite per zone, a test case per check (plus `drift` and `pending`).
pub fn junit(report: &CheckReport) -> String {
    let mut cases_total = 0;
    let mut failures_total = 0;
    let mut body = String::new();
    for z in &report.zones {
        let mut cases = String::new();
        let (mut n, mut fails, mut skips) = (0, 0, 0);
        for c in &z.checks {
            n += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{} {}\">",
                xml(z.zone.as_str()),
                c.code,
                xml(c.title)
            );
            match result_of(c) {
                "skip" => {
                    skips += 1;
                    cases.push_str("<skipped/>");
                }
                "fail" => {
                    fails += 1;
                    let msg: Vec<String> = c
                        .findings
                        .iter()
                        .map(|f| format!("{}: {} (fix: {})", f.subject, f.message, f.fix))
                        .collect();
                    let _ = write!(
                        cases,
                        "<failure message=\"{}\">{}</failure>",
                        xml(&c.findings[0].message),
                        xml(&msg.join("\n"))
                    );
                }
                "warn" => {
                    let msg: Vec<String> = c
                        .findings
                        .iter()
                        .map(|f| format!("warning: {}: {}", f.subject, f.message))
                        .collect();
                    let _ = write!(cases, "<system-out>{}</system-out>", xml(&msg.join("\n")));
                }
                _ => {}
            }
            cases.push_str("</testcase>\n");
        }
        for (name, items) in [
            (
                "drift",
                z.drift
                    .iter()
                    .map(|d| {
                        format!(
                            "{}: expected {}, observed {}",
                            d.subject, d.expected, d.observed
                        )
                    })
                    .collect::<Vec<_>>(),
            ),
            (
                "pending",
                z.pending
                    .iter()
                    .map(|p| format!("{} ({})", p.step, p.status))
                    .collect(),
            ),
            (
                "plan",
                z.plan_issues
                    .iter()
                    .filter(|i| i.severity == crate::plan::Severity::Error)
                    .map(|i| format!("{}: {}", i.code, i.message))
                    .collect(),
            ),
        ] {
            n += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{name}\">",
                xml(z.zone.as_str())
            );
            if !items.is_empty() {
                fails += 1;
                let _ = write!(
                    cases,
                    "<failure message=\"{} {name}\">{}</failure>",
                    items.len(),
                    xml(&items.join("\n"))
                );
            }
            cases.push_str("</testcase>\n");
        }
        cases_total += n;
        failures_total += fails;
        let _ = write!(
            body,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{fails}\" skipped=\"{skips}\">\n{cases}  </testsuite>\n",
            xml(z.zone.as_str())
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"dnssec-pilot check\" tests=\"{cases_total}\" failures=\"{failures_total}\">\n{body}</testsuites>\n"
    )
}
