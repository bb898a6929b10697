//! The key states the plan reports (DESIGN §4a; RFC 7583 §3.1, the model BIND 9's dnssec-policy
//! uses): for each KSK, its DNSKEY (served *and signing* the DNSKEY RRset) and its DS, and for the
//! zone its unsigned answers, each hidden → rumoured → omnipresent → unretentive, with the instant
//! it entered that state when the journal can tell. They are computed from the same observations,
//! marks and gates the rules use, after the rules ran: a reader sees why a gate is open or shut.
//! "Not observed" is never "hidden": a server that did not answer, or a registrar operation still
//! running, leaves a DS rumoured or unretentive.

use serde::{Deserialize, Serialize};

use crate::model::{Secs, Timestamp, Ttl};
use crate::state::{Direction, KskObs, Mark, SigningStatus};

use super::super::gates::{Draft, Rule};
use super::{Ctx, DS_GONE, DS_SEEN, SIGNING, TRUSTED, UNSEEN_DS_TTL};

/// RFC 7583 §3.1's record states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// In no cache, and not published.
    Hidden,
    /// Published (or asked for) but not yet in every cache that matters.
    Rumoured,
    /// Published everywhere long enough that every cache holds it.
    Omnipresent,
    /// Withdrawn somewhere, but caches may still hold it.
    Unretentive,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Hidden => "hidden",
            KeyState::Rumoured => "rumoured",
            KeyState::Omnipresent => "omnipresent",
            KeyState::Unretentive => "unretentive",
        }
    }
}

/// One record's state, the instant it entered it (when known) and what it was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordState {
    pub state: KeyState,
    pub since: Option<Timestamp>,
    pub basis: String,
}

fn rs(state: KeyState, since: Option<Timestamp>, basis: impl Into<String>) -> RecordState {
    RecordState {
        state,
        since,
        basis: basis.into(),
    }
}

/// One KSK's DNSKEY and DS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KskStates {
    pub ksk: String,
    pub key_tag: u16,
    pub dnskey: RecordState,
    pub ds: RecordState,
}

/// The key states of one hosted zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneKeyStates {
    pub ksks: Vec<KskStates>,
    /// The zone's unsigned answers (the zone before signing, and after it stops).
    pub unsigned_answers: Option<RecordState>,
}

/// The open instant of the first gate named `rule` among `drafts` (when it is open).
fn gate_opened(drafts: &[Draft], rule: Rule) -> Option<(bool, Option<Timestamp>)> {
    drafts
        .iter()
        .flat_map(|d| d.gates.iter())
        .find(|g| g.rule == rule)
        .map(|g| (g.satisfied, g.not_before))
}

pub(super) fn key_states(cx: &Ctx<'_>, drafts: &[Draft], direction: Direction) -> ZoneKeyStates {
    let margin = cx.safety.propagation_margin;
    let dnskey_ttl = cx
        .obs
        .live
        .zone_servers
        .iter()
        .filter_map(|s| s.result.as_ref().ok().and_then(|a| a.dnskey_ttl))
        .max()
        .unwrap_or(Ttl(3600));
    let ksks = cx
        .obs
        .dnssec
        .ksks
        .iter()
        .map(|k| KskStates {
            ksk: k.name.clone(),
            key_tag: k.key_tag,
            dnskey: dnskey_state(cx, k, dnskey_ttl, margin, direction),
            ds: ds_state(cx, k, drafts, direction),
        })
        .collect();
    ZoneKeyStates {
        ksks,
        unsigned_answers: Some(unsigned_state(cx, drafts)),
    }
}

/// A record published at some servers only: on its way out when `outgoing`, else on its way in.
fn partial(outgoing: bool) -> KeyState {
    if outgoing {
        KeyState::Unretentive
    } else {
        KeyState::Rumoured
    }
}

fn dnskey_state(
    cx: &Ctx<'_>,
    k: &KskObs,
    ttl: Ttl,
    margin: Secs,
    direction: Direction,
) -> RecordState {
    let live = &cx.obs.live;
    let everywhere = live.key_signs_at_every_zone_server(&k.dnskey);
    let somewhere = live.zone_servers.iter().any(|s| {
        matches!(&s.result, Ok(a) if a.dnskeys.iter().any(|d| d.public_key == k.dnskey.public_key))
    });
    let fill = Secs(u64::from(ttl.0) + margin.0);
    let signing_since = cx.marks.get(SIGNING);
    if everywhere {
        return match signing_since {
            Some(s) if cx.now >= fill.after(s) => rs(
                KeyState::Omnipresent,
                Some(fill.after(s)),
                format!(
                    "signs the DNSKEY RRset at every zone server since signing INSYNC + DNSKEY TTL {} s + margin",
                    ttl.0
                ),
            ),
            _ => rs(
                KeyState::Rumoured,
                signing_since,
                "signs the DNSKEY RRset at every zone server; caches fill within its TTL",
            ),
        };
    }
    if somewhere {
        return rs(
            partial(direction == Direction::Destroy),
            None,
            "served, or signing, at some zone servers only (or a server did not answer)",
        );
    }
    match cx.marks.get(Mark::SigningDisabledInsync) {
        Some(d) if cx.now < fill.after(d) => rs(
            KeyState::Unretentive,
            Some(d),
            format!(
                "no longer served; cached up to its TTL {} s + margin",
                ttl.0
            ),
        ),
        Some(d) => rs(
            KeyState::Hidden,
            Some(fill.after(d)),
            "no longer served, and its TTL has passed",
        ),
        None => rs(KeyState::Hidden, None, "not served at any zone server"),
    }
}

fn ds_state(cx: &Ctx<'_>, k: &KskObs, drafts: &[Draft], direction: Direction) -> RecordState {
    let live = &cx.obs.live;
    let matches = |ds: &crate::model::DsRecord| cx.ksk_matches_ds(k, ds);
    let everywhere = live.ds_at_every_parent(matches);
    let seen = live
        .parent_servers
        .iter()
        .any(|s| matches!(&s.result, Ok(a) if a.ds.iter().any(matches)))
        || cx.api_ds().iter().any(matches)
        || cx
            .registrar_keys()
            .iter()
            .any(|r| r.key.public_key == k.dnskey.public_key);
    if everywhere {
        return match cx.marks.get(TRUSTED) {
            Some(t) => rs(
                KeyState::Omnipresent,
                Some(t),
                "at every parent server since trust was established (margin + NS TTLs passed)",
            ),
            None => rs(
                KeyState::Rumoured,
                cx.marks.get(DS_SEEN),
                "at every parent server; resolvers learn it with the delegation (margin + NS TTLs)",
            ),
        };
    }
    if seen {
        return rs(
            partial(direction != Direction::Onboard),
            None,
            "at some parent servers, the parent API or the registrar only",
        );
    }
    if cx.registrar_op_in_flight().is_some() {
        return rs(
            KeyState::Rumoured,
            None,
            "a registrar operation is still running: the registry may publish it",
        );
    }
    if cx.ds_possible() {
        return rs(
            KeyState::Unretentive,
            None,
            "not every parent server answered: not observed is never absent",
        );
    }
    // Destroy's own wait decides when a DS gone everywhere is out of every cache.
    if let Some((open, at)) = gate_opened(drafts, Rule::DsCacheExpiry) {
        return if open {
            rs(
                KeyState::Hidden,
                at,
                "gone at every parent server, and the DS cache wait (`ds-cache-expiry`) has passed",
            )
        } else {
            rs(
                KeyState::Unretentive,
                cx.marks.get(DS_GONE),
                "gone at every parent server; resolvers may hold it until `ds-cache-expiry` opens",
            )
        };
    }
    match cx.marks.get(DS_GONE) {
        Some(g) => {
            let ttl = cx.zj.max_ds_ttl_seen.unwrap_or(UNSEEN_DS_TTL);
            let gone = Secs(u64::from(ttl.0) + cx.safety.propagation_margin.0).after(g);
            if cx.now < gone {
                rs(
                    KeyState::Unretentive,
                    Some(g),
                    format!(
                        "gone at every parent server; cached up to the DS TTL {} s + margin",
                        ttl.0
                    ),
                )
            } else {
                rs(
                    KeyState::Hidden,
                    Some(gone),
                    "gone at every parent server, and its TTL has passed",
                )
            }
        }
        None if cx.baseline.was_signing || cx.zj.max_ds_ttl_seen.is_some() => rs(
            KeyState::Unretentive,
            None,
            "not at any parent server, but a DS was (or may have been) published and its removal was not watched",
        ),
        None => rs(KeyState::Hidden, None, "never published"),
    }
}

fn unsigned_state(cx: &Ctx<'_>, drafts: &[Draft]) -> RecordState {
    match cx.obs.dnssec.status {
        SigningStatus::NotSigning => rs(KeyState::Omnipresent, None, "the zone is not signed"),
        _ => match (
            gate_opened(drafts, Rule::UnsignedCacheFlush),
            cx.marks.get(SIGNING),
        ) {
            (Some((true, at)), _) => rs(
                KeyState::Hidden,
                at,
                "signing INSYNC, and the longest TTL an unsigned answer had has passed",
            ),
            (None, _) if cx.baseline.was_trusted => rs(
                KeyState::Hidden,
                Some(cx.baseline.captured_at),
                "signed and trusted before the journal began: no unsigned answer is in play",
            ),
            (_, Some(s)) => rs(
                KeyState::Unretentive,
                Some(s),
                "signing INSYNC; unsigned answers stay cached up to their old TTL",
            ),
            (_, None) => rs(
                KeyState::Unretentive,
                None,
                "signing, not yet INSYNC at every Route 53 server",
            ),
        },
    }
}
