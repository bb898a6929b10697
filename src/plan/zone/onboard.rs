//! Seed 000, forwards: the order of the onboarding rules. Each phase's rule is in its own file;
//! this one only threads what one phase tells the next (whether prepare is skipped, the gate the
//! sign steps wait on, the active KSKs, the DS records and whether they are seen everywhere).

use crate::config::ZoneSpec;

use super::super::gates::Draft;
use super::{Ctx, SIGNING, destroy, finally, health, prepare, sign, trust};

/// The onboarding road of one zone, from its observed state.
pub(super) fn onboard(cx: &mut Ctx<'_>, spec: &ZoneSpec) -> Vec<Draft> {
    let mut drafts = Vec::new();
    if health::broken(cx) {
        return drafts;
    }
    let signing = cx.signing();
    // Marks: facts first observed now. Signing's instant is settled before it is read.
    sign::observe_signing(cx, signing);
    let emergency = !signing && cx.any_ds();
    let signing_reached = signing || cx.has(SIGNING) || cx.baseline.was_signing;

    let (prepare_skipped, prepare_gate) =
        prepare::prepare(cx, spec, &mut drafts, signing_reached, emergency);
    let active = sign::sign(cx, spec, &mut drafts, &prepare_gate, emergency, signing);
    let (ds_records, ds_everywhere) = trust::publish(cx, spec, &mut drafts, &active);
    trust::await_trust(cx, &mut drafts, &active, ds_everywhere);
    finally::finally(cx, spec, &mut drafts, &ds_records, prepare_skipped);
    health::signed_ttl_lint(cx, signing);
    drafts
}

/// `trust.ds: absent` (seed 000 step 3 rollback): the zone is prepared and signed as when
/// onboarding, but its DS is taken out of the parent (destroy's untrust phase: the DS and the
/// registrar keys out, then the wait until no resolver can hold it) and kept out. The TTLs stay
/// at the onboarding cap, ready for `present` again.
pub(super) fn withdraw(cx: &mut Ctx<'_>, spec: &ZoneSpec) -> Vec<Draft> {
    let mut drafts = Vec::new();
    if health::broken(cx) {
        return drafts;
    }
    let signing = cx.signing();
    sign::observe_signing(cx, signing);
    let emergency = !signing && cx.any_ds();
    let signing_reached = signing || cx.has(SIGNING) || cx.baseline.was_signing;
    let (_, prepare_gate) = prepare::prepare(cx, spec, &mut drafts, signing_reached, emergency);
    sign::sign(cx, spec, &mut drafts, &prepare_gate, emergency, signing);
    destroy::untrust(cx, &mut drafts);
    health::signed_ttl_lint(cx, signing);
    drafts
}
