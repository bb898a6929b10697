//! States a person must fix before any step runs (Route 53 reports a signing or KSK failure:
//! the KMS key lost its grant or was disabled), and the lints of a signed zone's TTLs.

use crate::model::{MAX_SIGNED_TTL, Secs, Timestamp};
use crate::state::{KskStatus, Mark, ParentObs, SigningStatus};

use super::super::Severity;
use super::{Ctx, UNSEEN_DS_TTL, status_str};

/// Raises the error that stops onboarding when Route 53 reports a broken signing state; true when
/// one was raised. The fault is remembered (`signing_fault`, the last run that saw it) and drops
/// "trust established": the soak starts again once the zone is healthy (seed 000 step 3 monitors
/// a healthy chain of trust, not one that broke halfway).
pub(super) fn broken(cx: &mut Ctx<'_>) -> bool {
    let zone_fault = matches!(
        cx.obs.dnssec.status,
        SigningStatus::ActionNeeded | SigningStatus::InternalFailure
    );
    let broken_ksks: Vec<String> = cx
        .obs
        .dnssec
        .ksks
        .iter()
        .filter(|k| {
            matches!(
                k.status,
                KskStatus::ActionNeeded | KskStatus::InternalFailure
            )
        })
        .map(|k| format!("`{}` ({:?})", k.name, k.status))
        .collect();
    if !zone_fault && broken_ksks.is_empty() {
        return false;
    }
    cx.refresh_mark(Mark::SigningFault);
    cx.clear_mark(Mark::TrustEstablished);
    let deadline = expiry_deadline(cx);
    if zone_fault {
        cx.issue(
            Severity::Error,
            "PLAN003",
            format!(
                "Route 53 reports signing status {} for `{}`{}{deadline}",
                status_str(cx.obs.dnssec.status),
                cx.name,
                cx.obs.dnssec.status_message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ),
            "a KSK's KMS key lost its grant or was disabled: restore the key policy (dnssec-route53.amazonaws.com needs kms:DescribeKey, kms:GetPublicKey, kms:Sign) and enable the key; then run apply again",
        );
    } else {
        cx.issue(
            Severity::Error,
            "PLAN004",
            format!(
                "KSK {} of `{}` needs attention{deadline}",
                broken_ksks.join(", "),
                cx.name
            ),
            "the KMS key behind it lost its grant, was disabled or is pending deletion: fix the key in KMS, then run apply again",
        );
    }
    true
}

/// With a DS that may be published, the instant the zone goes bogus (the earliest signature
/// expiry observed: RFC 4034 §3.1.5, Route 53 stops refreshing RRSIGs while it cannot sign) and
/// the last instant a `destroy` still saves it: the DS must be gone from every cache by then, so
/// its removal has to start the DS's TTL, the margin and (for a registrar) the registry's delay
/// before the expiry.
fn expiry_deadline(cx: &Ctx<'_>) -> String {
    if !cx.ds_possible() {
        return String::new();
    }
    let Some(expiry) = cx.obs.live.earliest_signature_expiry() else {
        return "; a DS may be published and the signatures' expiry was not observed: repair signing now, or run `dnssec-pilot destroy` to take the DS out".to_string();
    };
    let ttl = cx.zj.max_ds_ttl_seen.unwrap_or(UNSEEN_DS_TTL);
    let slow = matches!(cx.obs.parent, ParentObs::Registrar(_) | ParentObs::Unknown);
    let delay = if slow {
        cx.safety.registrar_key_deletion_delay
    } else {
        Secs(0)
    };
    let hold = Secs(u64::from(ttl.0) + cx.safety.propagation_margin.0 + delay.0);
    let latest = Timestamp::from_second(expiry.as_second() - hold.0 as i64).unwrap_or(expiry);
    if latest > cx.now {
        format!(
            "; its signatures expire at {expiry}, when every validating resolver holding the DS gets SERVFAIL: repair signing before then, or run `dnssec-pilot destroy` before {latest} (DS TTL {} s + margin {}{}) so that no resolver holds the DS when they expire",
            ttl.0,
            cx.safety.propagation_margin.human(),
            if slow {
                format!(" + registrar delay {}", delay.human())
            } else {
                String::new()
            }
        )
    } else {
        format!(
            "; its signatures expire at {expiry}, too soon for a `destroy` to take the DS out of every cache first (it needs {}): repair signing now",
            hold.human()
        )
    }
}

/// Signed zones: Route 53 caps TTLs at one week.
pub(super) fn signed_ttl_lint(cx: &mut Ctx<'_>, signing: bool) {
    for r in &cx.hz.record_sets {
        if let Some(t) = r.ttl
            && signing
            && t > MAX_SIGNED_TTL
        {
            cx.issue(
                Severity::Warning,
                "PLAN011",
                format!(
                    "{} has TTL {} above one week in a signed zone",
                    r.record_ref(),
                    t.0
                ),
                "Route 53 limits TTLs to 604800 s in signed zones: lower it",
            );
        }
    }
}
