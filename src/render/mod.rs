//! Rendering for people and machines. One trait, [`Output`], with a human renderer (comfy-table
//! per zone, `~ before -> after` diffs, a one-line summary) and a JSON renderer whose types are
//! this module's own, versioned (`format_version`) and never the internal structs — so the
//! planner can change without breaking a script.

pub mod plan_json;
pub mod stdio;

use std::fmt::Write as _;

use comfy_table::{ContentArrangement, Table, presets};

use crate::model::Timestamp;
use crate::plan::{Plan, Severity, StepStatus, TimelineEntry, ZonePlan};

/// Something that can be shown to a person or handed to a program.
pub trait Output {
    /// Text for a terminal (no colour codes: colour is the caller's business).
    fn human(&self) -> String;
    /// The versioned JSON document.
    fn json(&self) -> serde_json::Value;
}

/// A plan, optionally with its timeline.
pub struct PlanOutput<'a> {
    pub plan: &'a Plan,
    pub timeline: Option<&'a [TimelineEntry]>,
}

fn ts(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), fmt_time)
}

/// RFC 3339 in UTC with seconds (`2026-12-01T10:00:00Z`).
pub fn fmt_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// The gate that holds a step, in words: a closed observable gate first, else the closed time
/// gate that opens last.
fn gate_summary(step: &crate::plan::Step) -> String {
    let closed = step.gates.iter().filter(|g| !g.satisfied);
    let binding = closed
        .clone()
        .find(|g| g.kind == crate::plan::GateKind::Observable)
        .or_else(|| {
            closed
                .clone()
                .filter(|g| g.not_before.is_some())
                .max_by_key(|g| g.not_before)
        })
        .or_else(|| closed.clone().next());
    match binding {
        Some(g) => format!("{}: {}", g.rule, g.detail),
        None if step.status == StepStatus::Done => String::new(),
        None if step.status == StepStatus::Blocked => "after the previous step".to_string(),
        None => "open".to_string(),
    }
}

/// Renders one zone's plan as text.
pub fn zone_human(z: &ZonePlan, out: &mut String) {
    let phase = z.phase().map_or("converged", |p| p.as_str());
    let _ = writeln!(
        out,
        "{} {}{} — {}, {}",
        match z.kind {
            crate::plan::TargetKind::Zone => "Zone",
            crate::plan::TargetKind::Domain => "Domain",
        },
        z.zone,
        z.hosted_zone_id
            .as_deref()
            .map(|i| format!(" ({i})"))
            .unwrap_or_default(),
        z.direction.as_str(),
        phase
    );
    for i in &z.issues {
        let sev = match i.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "  {sev}[{}]: {}", i.code, i.message);
        let _ = writeln!(out, "    help: {}", i.help);
    }
    for d in &z.drift {
        let _ = writeln!(
            out,
            "  drift: {}: expected {}, observed {} ({})",
            d.subject, d.expected, d.observed, d.reason
        );
    }
    if z.steps.is_empty() {
        let _ = writeln!(out, "  nothing to do");
        return;
    }
    let mut t = new_table();
    t.set_header(vec!["step", "action", "status", "not before", "gate"]);
    for s in &z.steps {
        let short = s.id.strip_prefix(&format!("{}/", z.zone)).unwrap_or(&s.id);
        t.add_row(vec![
            short.to_string(),
            s.kind().as_str().to_string(),
            s.status.as_str().to_string(),
            ts(s.not_before),
            gate_summary(s),
        ]);
    }
    for line in t.to_string().lines() {
        let _ = writeln!(out, "  {line}");
    }
    for s in z
        .steps
        .iter()
        .filter(|s| s.is_pending() && !s.changes.is_empty())
    {
        let short = s.id.strip_prefix(&format!("{}/", z.zone)).unwrap_or(&s.id);
        let _ = writeln!(out, "  {short}:");
        for c in &s.changes {
            diff_lines(&c.subject, &c.before, &c.after, out);
        }
    }
    for s in z.steps.iter().filter(|s| s.status == StepStatus::Ready) {
        if let crate::model::Action::Manual { instruction } = &s.action {
            let _ = writeln!(out, "  instruction: {instruction}");
        }
    }
}

/// `~ subject: before -> after`, or a `similar` line diff for multi-value changes.
fn diff_lines(subject: &str, before: &str, after: &str, out: &mut String) {
    if !before.contains("; ") && !after.contains("; ") {
        let _ = writeln!(out, "    ~ {subject}: {before} -> {after}");
        return;
    }
    let _ = writeln!(out, "    ~ {subject}:");
    let b = before.replace("; ", "\n") + "\n";
    let a = after.replace("; ", "\n") + "\n";
    let diff = similar::TextDiff::from_lines(&b, &a);
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        let _ = write!(out, "      {sign} {change}");
    }
}

/// `3 to change, 2 waiting until …` over the whole plan.
pub fn summary(plan: &Plan) -> String {
    let ready = plan.ready_steps().count();
    let pending: usize = plan.zones.iter().map(|z| z.pending().count()).sum();
    let waiting = pending - ready;
    let errors = plan.zones.iter().filter(|z| z.has_errors()).count();
    let mut s = if pending == 0 && errors > 0 {
        "No changes could be planned.".to_string()
    } else if pending == 0 {
        "No changes: reality matches the desired state.".to_string()
    } else {
        format!("Plan: {ready} ready to run, {waiting} waiting")
    };
    if pending > 0 {
        match plan.next_gate_time() {
            Some(t) if waiting > 0 => {
                let _ = write!(s, " (next gate opens at {})", fmt_time(t));
            }
            _ => {}
        }
        s.push('.');
    }
    if errors > 0 {
        let _ = write!(s, " {errors} zone(s) need a person's decision.");
    }
    s
}

impl Output for PlanOutput<'_> {
    fn human(&self) -> String {
        let mut out = String::new();
        for z in &self.plan.zones {
            zone_human(z, &mut out);
            out.push('\n');
        }
        if let Some(tl) = self.timeline {
            out.push_str(&timeline_human(tl));
            out.push('\n');
        }
        out.push_str(&summary(self.plan));
        out.push('\n');
        out
    }

    fn json(&self) -> serde_json::Value {
        serde_json::to_value(plan_json::PlanDoc::new(self.plan, self.timeline)).unwrap_or_default()
    }
}

/// The timeline as a table.
pub fn timeline_human(tl: &[TimelineEntry]) -> String {
    let mut out =
        String::from("Timeline (earliest, if every gate opens as soon as its rule allows):\n");
    let mut t = new_table();
    t.set_header(vec!["earliest", "zone", "step", "rule"]);
    for e in tl {
        let short = e
            .step
            .strip_prefix(&format!("{}/", e.zone))
            .unwrap_or(&e.step);
        t.add_row(vec![
            fmt_time(e.earliest),
            e.zone.to_string(),
            short.to_string(),
            format!("{}: {}", e.rule, e.detail),
        ]);
    }
    for line in t.to_string().lines() {
        let _ = writeln!(out, "  {line}");
    }
    if let (Some(first), Some(last)) = (tl.first(), tl.last()) {
        let secs = crate::model::Secs::between(first.earliest, last.earliest);
        let _ = writeln!(
            out,
            "  earliest completion: {} ({} from the first step)",
            fmt_time(last.earliest),
            secs.human()
        );
    }
    out
}

/// The journal for people: per zone its direction, baseline, the instants gates count from, and
/// the step history with times and outcomes.
pub fn journal_human(j: &crate::state::Journal) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Journal lineage {}, serial {}", j.lineage, j.serial);
    let history = |steps: &[crate::state::StepRecord], out: &mut String| {
        if steps.is_empty() {
            return;
        }
        let mut t = new_table();
        t.set_header(vec!["intent at", "step", "outcome"]);
        for s in steps {
            let outcome = match &s.outcome {
                None => "no outcome (interrupted)".to_string(),
                Some(o) => {
                    let r = match &o.result {
                        Ok(r) => {
                            let mut x = "ok".to_string();
                            if let Some(c) = &r.change_id {
                                x.push_str(&format!(" change {c}"));
                            }
                            if let Some(c) = &r.operation_id {
                                x.push_str(&format!(" operation {c}"));
                            }
                            x
                        }
                        Err(e) => format!("error: {e}"),
                    };
                    format!(
                        "{} at {}{}",
                        r,
                        fmt_time(o.at),
                        if o.reconciled { " (reconciled)" } else { "" }
                    )
                }
            };
            t.add_row(vec![fmt_time(s.intent_at), s.step_id.clone(), outcome]);
        }
        for line in t.to_string().lines() {
            let _ = writeln!(out, "    {line}");
        }
    };
    for (name, z) in &j.zones {
        let dir = z.direction.map_or("-".to_string(), |d| {
            format!("{} since {}", d.direction.as_str(), fmt_time(d.since))
        });
        let _ = writeln!(out, "\nZone {name} — {dir}");
        if let Some(b) = &z.baseline {
            let _ = writeln!(
                out,
                "  baseline (captured {}): {} record TTLs, max {} s ({}), SOA ttl {} s / minimum {} s, {}",
                fmt_time(b.captured_at),
                b.record_ttls.len(),
                b.max_ttl.0,
                b.max_ttl_record,
                b.soa_ttl.0,
                b.soa_minimum.0,
                if b.was_signing {
                    "was signing"
                } else {
                    "was unsigned"
                }
            );
        }
        for (m, t) in &z.marks {
            let _ = writeln!(out, "  {}: {}", m.as_str(), fmt_time(*t));
        }
        if let Some(t) = z.max_ds_ttl_seen {
            let _ = writeln!(out, "  largest DS TTL seen: {} s", t.0);
        }
        history(&z.steps, &mut out);
    }
    for (name, d) in &j.domains {
        let _ = writeln!(out, "\nDomain {name}");
        for (m, t) in &d.marks {
            let _ = writeln!(out, "  {}: {}", m.as_str(), fmt_time(*t));
        }
        for (k, t) in &d.key_added_at {
            let _ = writeln!(
                out,
                "  key {k} first seen at the registrar: {}",
                fmt_time(*t)
            );
        }
        history(&d.steps, &mut out);
    }
    out
}
