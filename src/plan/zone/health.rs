//! States a person must fix before any step runs (Route 53 reports a signing or KSK failure:
//! the KMS key lost its grant or was disabled), and the lints of a signed zone's TTLs.

use crate::model::MAX_SIGNED_TTL;
use crate::state::{KskStatus, SigningStatus};

use super::super::Severity;
use super::{Ctx, status_str};

/// Raises the error that stops onboarding when Route 53 reports a broken signing state; true when
/// one was raised.
pub(super) fn broken(cx: &mut Ctx<'_>) -> bool {
    if matches!(
        cx.obs.dnssec.status,
        SigningStatus::ActionNeeded | SigningStatus::InternalFailure
    ) {
        cx.issue(
            Severity::Error,
            "PLAN003",
            format!(
                "Route 53 reports signing status {} for `{}`{}",
                status_str(cx.obs.dnssec.status),
                cx.name,
                cx.obs.dnssec.status_message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ),
            "a KSK's KMS key lost its grant or was disabled: restore the key policy (dnssec-route53.amazonaws.com needs kms:DescribeKey, kms:GetPublicKey, kms:Sign) and enable the key; then run apply again",
        );
        return true;
    }
    let broken: Vec<String> = cx
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
    if !broken.is_empty() {
        cx.issue(
            Severity::Error,
            "PLAN004",
            format!("KSK {} of `{}` needs attention", broken.join(", "), cx.name),
            "the KMS key behind it lost its grant, was disabled or is pending deletion: fix the key in KMS, then run apply again",
        );
        return true;
    }
    false
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
