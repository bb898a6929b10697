//! Seed 000, forwards: the order of the onboarding rules. Each phase's rule is in its own file;
//! this one only threads what one phase tells the next (whether prepare is skipped, the gate the
//! sign steps wait on, the active KSKs, the DS records and whether they are seen everywhere).

use crate::config::ZoneSpec;
use crate::state::KskObs;

use super::super::gates::Draft;
use super::{Ctx, SIGNING, destroy, finally, health, prepare, sign, trust};

/// What prepare and sign tell the phases after them.
struct Signed<'a> {
    prepare_skipped: bool,
    active: Vec<&'a KskObs>,
    signing: bool,
}

/// Seed 000 steps 1–2, shared by onboarding and a withdrawal: health first (`None` when a person
/// must act), then prepare and sign.
fn prepare_and_sign<'a>(
    cx: &mut Ctx<'a>,
    spec: &ZoneSpec,
    drafts: &mut Vec<Draft>,
) -> Option<Signed<'a>> {
    if health::broken(cx) {
        return None;
    }
    let signing = cx.signing();
    // Marks: facts first observed now. Signing's instant is settled before it is read.
    sign::observe_signing(cx, signing);
    let emergency = !signing && cx.any_ds();
    let signing_reached = signing || cx.has(SIGNING) || cx.baseline.was_signing;
    let (prepare_skipped, prepare_gate) =
        prepare::prepare(cx, spec, drafts, signing_reached, emergency);
    let active = sign::sign(cx, spec, drafts, &prepare_gate, emergency, signing);
    Some(Signed {
        prepare_skipped,
        active,
        signing,
    })
}

/// The onboarding road of one zone, from its observed state.
pub(super) fn onboard(cx: &mut Ctx<'_>, spec: &ZoneSpec) -> Vec<Draft> {
    let mut drafts = Vec::new();
    let Some(s) = prepare_and_sign(cx, spec, &mut drafts) else {
        return drafts;
    };
    let (ds_records, ds_everywhere) = trust::publish(cx, spec, &mut drafts, &s.active);
    trust::await_trust(cx, &mut drafts, &s.active, ds_everywhere);
    finally::finally(cx, spec, &mut drafts, &ds_records, s.prepare_skipped);
    health::signed_ttl_lint(cx, s.signing);
    drafts
}

/// `trust.ds: absent` (seed 000 step 3 rollback): the zone is prepared and signed as when
/// onboarding, but its DS is taken out of the parent (destroy's untrust phase: the DS and the
/// registrar keys out, then the wait until no resolver can hold it) and kept out. The TTLs stay
/// at the onboarding cap, ready for `present` again.
pub(super) fn withdraw(cx: &mut Ctx<'_>, spec: &ZoneSpec) -> Vec<Draft> {
    let mut drafts = Vec::new();
    let Some(s) = prepare_and_sign(cx, spec, &mut drafts) else {
        return drafts;
    };
    destroy::untrust(cx, &mut drafts);
    health::signed_ttl_lint(cx, s.signing);
    drafts
}
