//! Seed 000 step 2: create (or activate) the configured KSKs, backed by their KMS keys, then
//! enable signing and wait until it is INSYNC. A KSK rollover (an active KSK swapped for a new
//! one) is refused here until the rollover walk exists (PLAN015), and Route 53's limit of two
//! KSKs is checked before any call (PLAN006).

use crate::config::ZoneSpec;
use crate::model::Action;
use crate::state::{KskObs, KskStatus, Mark};

use super::super::gates::{Draft, Gate, Rule, observable};
use super::super::{Drift, Phase, Severity};
use super::{Ctx, SIGNING, status_str};

/// Records when signing became INSYNC, and drops that instant (with a drift report) when the
/// zone is observed unsigned again.
pub(super) fn observe_signing(cx: &mut Ctx<'_>, signing: bool) {
    let (enable_insync, _) = cx.changes_insync(|a| matches!(a, Action::EnableSigning));
    if signing && enable_insync {
        cx.set_mark(Mark::SigningInsync);
    }
    if !signing && cx.has(SIGNING) {
        cx.drift.push(Drift {
            subject: format!("signing of {}", cx.name),
            expected: "SIGNING".into(),
            observed: status_str(cx.obs.dnssec.status).into(),
            reason: "signing was turned off outside dnssec-pilot".into(),
        });
        cx.clear_mark(Mark::SigningInsync);
    }
}

/// The sign steps; returns the active KSKs the config lists.
pub(super) fn sign<'a>(
    cx: &mut Ctx<'a>,
    spec: &ZoneSpec,
    drafts: &mut Vec<Draft>,
    prepare_gate: &Gate,
    emergency: bool,
    signing: bool,
) -> Vec<&'a KskObs> {
    let obs = cx.obs;
    let existing = cx
        .obs
        .dnssec
        .ksks
        .iter()
        .filter(|k| k.status != KskStatus::Deleting)
        .count();
    let missing: Vec<_> = spec
        .signing
        .ksks
        .iter()
        .filter(|k| cx.obs.dnssec.ksk(&k.name).is_none())
        .collect();
    if existing + missing.len() > 2 {
        cx.issue(
            Severity::Error,
            "PLAN006",
            format!(
                "`{}` would have {} KSKs; Route 53 allows 2",
                cx.name,
                existing + missing.len()
            ),
            "delete an unused KSK first, or list fewer KSKs in the config",
        );
    }
    // A KSK rollover (RFC 7583 §3.3): an active KSK the config no longer lists, while a listed one
    // is not active yet. Swapping the DS before the new DNSKEY is cached everywhere, or retiring
    // the old key while its DS is cached, makes the zone bogus; until the rollover walk exists it
    // is refused before any call, with the way to do it by hand.
    let retiring: Vec<&str> = cx
        .obs
        .dnssec
        .ksks
        .iter()
        .filter(|k| {
            k.status == KskStatus::Active && !spec.signing.ksks.iter().any(|s| s.name == k.name)
        })
        .map(|k| k.name.as_str())
        .collect();
    let arriving: Vec<&str> = spec
        .signing
        .ksks
        .iter()
        .filter(|k| !matches!(cx.obs.dnssec.ksk(&k.name), Some(o) if o.status == KskStatus::Active))
        .map(|k| k.name.as_str())
        .collect();
    if !retiring.is_empty() && !arriving.is_empty() {
        cx.issue(
            Severity::Error,
            "PLAN015",
            format!(
                "`{}`: replacing KSK {} by {} is a KSK rollover, which dnssec-pilot does not carry out yet",
                cx.name,
                retiring.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
                arriving.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
            "put the active KSK back in `signing.ksks` (the zone then stays as it is); a rollover to a new KSK needs dnssec-pilot's rollover support, not yet released",
        );
    }
    for k in &spec.signing.ksks {
        match cx.obs.dnssec.ksk(&k.name) {
            None => drafts.push(
                Draft::new(
                    cx.id(&format!("create_ksk/{}", k.name)),
                    Phase::Sign,
                    Action::CreateKsk {
                        name: k.name.clone(),
                        kms_arn: k.kms_key.clone(),
                    },
                    "a key-signing key backed by the KMS key signs the zone's DNSKEY set (seed 000 step 2)",
                )
                .change(format!("KSK {}", k.name), "absent", "ACTIVE")
                .gate(prepare_gate.clone()),
            ),
            Some(obs_k) => {
                if obs_k.kms_arn != k.kms_key {
                    cx.drift.push(Drift {
                        subject: format!("KMS key of KSK {}", k.name),
                        expected: k.kms_key.clone(),
                        observed: obs_k.kms_arn.clone(),
                        reason: "a KSK's KMS key cannot change; rotate to a new KSK name to use another key".into(),
                    });
                }
                if obs_k.status == KskStatus::Inactive {
                    drafts.push(
                        Draft::new(
                            cx.id(&format!("activate_ksk/{}", k.name)),
                            Phase::Sign,
                            Action::ActivateKsk { name: k.name.clone() },
                            "the KSK exists but is INACTIVE",
                        )
                        .change(format!("KSK {}", k.name), "INACTIVE", "ACTIVE")
                        .gate(prepare_gate.clone()),
                    );
                }
            }
        }
    }
    for k in &cx.obs.dnssec.ksks {
        if !spec.signing.ksks.iter().any(|s| s.name == k.name) {
            cx.drift.push(Drift {
                subject: format!("KSK {}", k.name),
                expected: "not in the config".into(),
                observed: format!("{:?}", k.status),
                reason: "left alone: dnssec-pilot only manages the KSKs in the config".into(),
            });
        }
    }
    let active: Vec<&'a KskObs> = obs
        .dnssec
        .ksks
        .iter()
        .filter(|k| {
            k.status == KskStatus::Active && spec.signing.ksks.iter().any(|s| s.name == k.name)
        })
        .collect();
    let enable = Draft::new(
        cx.id("enable_signing"),
        Phase::Sign,
        Action::EnableSigning,
        if emergency {
            "repair: the parent publishes a DS while the zone is unsigned".to_string()
        } else {
            "Route 53 signs the zone's answers (seed 000 step 2)".to_string()
        },
    )
    .done(signing)
    .change("signing", status_str(cx.obs.dnssec.status), "SIGNING")
    .gate(observable(
        Rule::ActiveKsk,
        !active.is_empty(),
        "Route 53 needs an ACTIVE KSK before it signs",
    ))
    .gate(if emergency {
        observable(
            Rule::PrepareInsync,
            true,
            "skipped: repairing an outage comes first",
        )
    } else {
        prepare_gate.clone()
    })
    .produces(SIGNING);
    drafts.push(enable);
    active
}
