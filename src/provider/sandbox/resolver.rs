//! The virtual clock and the validating-resolver model.
//!
//! [`advance`] moves the world to a later instant: first the scheduled world events in time
//! order (registrar operations finishing, an outside registrar publishing or removing a DS), each
//! recorded as a new snapshot of what the parent servers serve; then every simulated resolver
//! over the interval.
//!
//! Each resolver's clients look up names of each zone as a Poisson process (mean interval drawn
//! per resolver). The resolver caches every answer for its TTL: the DS RRset from a random parent
//! server (or the parent's proof that there is none, for the parent's negative TTL), the DNSKEY
//! RRset from a random zone server, each record set, and a negative answer for a nonexistent
//! name (RFC 2308 §5: min(SOA TTL, SOA MINIMUM)). Validation follows RFC 4035 §5: when the DS
//! RRset is non-empty the zone is expected to be secure, so the lookup is **bogus** when no served
//! SEP DNSKEY matches a DS (RFC 4035 §5.2) or the DNSKEY RRset's signatures are missing or
//! expired, or the answer comes unsigned (RFC 4035 §5.3) — including an unsigned answer still
//! cached from before the zone was signed (a conservative resolver re-validates cached data
//! under a newly learnt DS; this is the reason seed 000 waits the old maximum TTL before the DS).
//! A bogus answer is not cached.
//!
//! The simulation is event based: a lookup answered entirely from cache with a validated result
//! cannot change anything, so it is skipped; the next lookup of a name that matters is drawn
//! directly after its cache entry expires (the Poisson process is memoryless). Simulated time
//! costs per cache refresh, not per second.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::world::{
    BogusEvent, CachedAnswer, ParentServe, ResolverCache, ResolverState, SandboxError, World,
    ZoneServe, view_at,
};
use crate::model::{DsRecord, Timestamp, ZoneName};

const NEVER: i64 = i64::MAX;
/// The longest single advance (10 years): an outage simulated lookup by lookup stays bounded.
const MAX_ADVANCE: i64 = 3650 * 86_400;
/// How long a validation failure is cached before the name is resolved again (RFC 9520 §3).
const BOGUS_TTL: i64 = 60;

/// A new population of resolvers with empty caches, clients' intervals drawn log-uniformly.
pub(crate) fn new_population(w: &World) -> Vec<ResolverState> {
    let mut rng = ChaCha8Rng::seed_from_u64(w.seed ^ 0x7e50_1e75);
    let lo = (w.settings.resolver_interval_min.0.max(1)) as f64;
    let hi = (w.settings.resolver_interval_max.0.max(1)) as f64;
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    (0..w.settings.resolver_count)
        .map(|id| {
            let u: f64 = rng.random();
            let mean = (lo.ln() + u * (hi.ln() - lo.ln())).exp();
            ResolverState {
                id,
                mean_interval: mean.round().max(1.0) as u64,
                caches: Default::default(),
            }
        })
        .collect()
}

/// Fills every resolver's caches as they stand in a world that has been as it is now for a long
/// time (the stationary distribution): a new world starts warm, with unsigned answers cached for
/// up to their full TTLs, as real resolvers hold them before a zone is first signed.
pub(crate) fn warm_up(w: &mut World) {
    let zone_lags: Vec<i64> = w
        .settings
        .zone_server_lags
        .iter()
        .map(|l| l.0 as i64)
        .collect();
    let parent_lags: Vec<i64> = w
        .settings
        .parent_server_lags
        .iter()
        .map(|l| l.0 as i64)
        .collect();
    let neg_parent = i64::from(w.settings.parent_negative_ttl.0);
    let dnskey_ttl = i64::from(w.settings.dnskey_ttl.0);
    let now = secs(w.now);
    let stream = w.next_stream();
    let names = w.names();
    let mut resolvers = std::mem::take(&mut w.resolvers);
    for r in resolvers.iter_mut() {
        for (zi, name) in names.iter().enumerate() {
            let (Some(served), Some(parent)) = (w.served.get(name), w.parent_served.get(name))
            else {
                continue;
            };
            let views = ZoneViews {
                name,
                served,
                parent,
                zone_lags: &zone_lags,
                parent_lags: &parent_lags,
            };
            let Some(st) = steady_state(&views, neg_parent, dnskey_ttl) else {
                continue;
            };
            let mut rng = ChaCha8Rng::seed_from_u64(
                stream ^ (u64::from(r.id) << 32) ^ (zi as u64).wrapping_mul(0x9E37_79B9),
            );
            let mean = r.mean_interval as f64;
            let k = st.ttls.len();
            let c = r.caches.entry(name.clone()).or_default();
            c.targets = vec![CachedAnswer::default(); k];
            jump(c, &st, &mut rng, now, mean, mean * k as f64);
        }
    }
    w.resolvers = resolvers;
}

fn secs(t: Timestamp) -> i64 {
    t.as_second()
}

fn ts(s: i64) -> Result<Timestamp, SandboxError> {
    Timestamp::from_second(s).map_err(|e| SandboxError::Clock(e.to_string()))
}

/// Moves the virtual clock to `to`, simulating everything in between. No-op when `to` is not
/// later than now.
pub fn advance(w: &mut World, to: Timestamp) -> Result<(), SandboxError> {
    if to <= w.now {
        return Ok(());
    }
    if secs(to) - secs(w.now) > MAX_ADVANCE {
        return Err(SandboxError::Clock(format!(
            "{to} is more than 10 years after the world's now ({}); advance in smaller steps",
            w.now
        )));
    }
    let from = w.now;
    run_world_events(w, to)?;
    simulate_resolvers(w, secs(from), secs(to))?;
    w.now = to;
    prune(w);
    Ok(())
}

/// Applies the scheduled world events in (now, to], in time order.
fn run_world_events(w: &mut World, to: Timestamp) -> Result<(), SandboxError> {
    loop {
        // The earliest pending event.
        let mut best: Option<(Timestamp, ZoneName, bool)> = None;
        for (name, d) in &w.registrar {
            for op in d.operations.iter().filter(|o| !o.applied) {
                if op.completes_at <= to && best.as_ref().is_none_or(|b| op.completes_at < b.0) {
                    best = Some((op.completes_at, name.clone(), true));
                }
            }
        }
        for (name, e) in &w.external {
            for p in &e.pending {
                if p.at <= to && best.as_ref().is_none_or(|b| p.at < b.0) {
                    best = Some((p.at, name.clone(), false));
                }
            }
        }
        let Some((at, name, registrar)) = best else {
            return Ok(());
        };
        if registrar {
            super::exec::finish_registrar_op(w, &name, at);
        } else if let Some(e) = w.external.get_mut(&name) {
            if let Some(i) = e.pending.iter().position(|p| p.at == at) {
                let p = e.pending.remove(i);
                e.published = p.ds;
            }
            w.push_parent_serve(&name, at);
        }
    }
}

/// Drops snapshots no server can serve any more (keeps the newest one every server has).
fn prune(w: &mut World) {
    let now = secs(w.now);
    let zlag = w
        .settings
        .zone_server_lags
        .iter()
        .map(|l| l.0 as i64)
        .max()
        .unwrap_or(0);
    let plag = w
        .settings
        .parent_server_lags
        .iter()
        .map(|l| l.0 as i64)
        .max()
        .unwrap_or(0);
    for h in w.served.values_mut() {
        let keep_from = h
            .iter()
            .rposition(|s| secs(s.at) + zlag <= now)
            .unwrap_or(0);
        h.drain(..keep_from);
    }
    for h in w.parent_served.values_mut() {
        let keep_from = h
            .iter()
            .rposition(|s| secs(s.at) + plag <= now)
            .unwrap_or(0);
        h.drain(..keep_from);
    }
}

struct ZoneViews<'a> {
    name: &'a ZoneName,
    served: &'a [ZoneServe],
    parent: &'a [ParentServe],
    zone_lags: &'a [i64],
    parent_lags: &'a [i64],
}

impl ZoneViews<'_> {
    fn zone_server(&self, rng: &mut ChaCha8Rng, t: i64) -> Option<(usize, &ZoneServe)> {
        let n = self.zone_lags.len().max(1);
        let i = rng.random_range(0..n);
        let lag = self.zone_lags.get(i).copied().unwrap_or(0);
        view_at(self.served, |s| secs(s.at), t, lag).map(|s| (i, s))
    }
    fn parent_server(&self, rng: &mut ChaCha8Rng, t: i64) -> Option<(usize, &ParentServe)> {
        let n = self.parent_lags.len().max(1);
        let i = rng.random_range(0..n);
        let lag = self.parent_lags.get(i).copied().unwrap_or(0);
        view_at(self.parent, |s| secs(s.at), t, lag).map(|s| (i, s))
    }
}

/// Exponential inter-arrival time with the given mean, in whole seconds (at least 1).
fn exp_secs(rng: &mut ChaCha8Rng, mean: f64) -> i64 {
    let u: f64 = rng.random::<f64>();
    let x = -(1.0 - u).ln() * mean;
    (x.ceil() as i64).max(1)
}

/// The state a zone settles in once every server serves its newest snapshots, when that state is
/// healthy (insecure, or secure with a valid chain): from then on, a resolver whose live cache
/// entries all agree with it cannot see a bogus answer until the next change, so the simulation
/// jumps to the end of the interval and draws the caches from their stationary distribution
/// (an alternating renewal process: cached for the TTL, then uncached until the next lookup).
struct Steady {
    /// When every server serves the newest snapshots.
    from: i64,
    ds: Vec<DsRecord>,
    ds_ttl: i64,
    signing: bool,
    sep_ds: Vec<DsRecord>,
    dnskey_signed: bool,
    dnskey_ttl: i64,
    /// Per name (the nonexistent name last).
    ttls: Vec<i64>,
}

fn steady_state(v: &ZoneViews<'_>, neg_parent: i64, dnskey_ttl: i64) -> Option<Steady> {
    let s = v.served.last()?;
    let p = v.parent.last()?;
    let zmax = v.zone_lags.iter().copied().max().unwrap_or(0);
    let pmax = v.parent_lags.iter().copied().max().unwrap_or(0);
    let from = (secs(s.at) + zmax).max(secs(p.at) + pmax);
    let secure = !p.ds.is_empty();
    let dnskey_signed = s.signing && !s.dnskeys.is_empty();
    if secure {
        let healthy = dnskey_signed
            && s.signatures_expire_at.is_none()
            && p.ds.iter().any(|d| s.sep_ds.contains(d));
        if !healthy {
            return None;
        }
    }
    let mut ttls: Vec<i64> = s
        .record_ttls
        .iter()
        .map(|t| i64::from(t.0).max(1))
        .collect();
    ttls.push(i64::from(s.negative_ttl.0).max(1));
    Some(Steady {
        from,
        ds_ttl: if secure {
            i64::from(p.ds_ttl.0).max(1)
        } else {
            neg_parent.max(1)
        },
        ds: p.ds.clone(),
        signing: s.signing,
        sep_ds: s.sep_ds.clone(),
        dnskey_signed,
        dnskey_ttl: if s.dnskeys.is_empty() {
            i64::from(s.negative_ttl.0).max(1)
        } else {
            dnskey_ttl
        },
        ttls,
    })
}

/// Whether every live cache entry at `t` is what the steady state would have put there, with no
/// longer a life left than its TTL there.
fn consistent(c: &ResolverCache, st: &Steady, t: i64) -> bool {
    if c.ds_expires > t && (c.ds != st.ds || c.ds_expires > t + st.ds_ttl) {
        return false;
    }
    if c.dnskey_expires > t
        && (c.dnskey_ds != st.sep_ds
            || c.dnskey_signed != st.dnskey_signed
            || c.dnskey_expires > t + st.dnskey_ttl)
    {
        return false;
    }
    c.targets
        .iter()
        .zip(&st.ttls)
        .all(|(a, ttl)| a.expires <= t || (a.signed == st.signing && a.expires <= t + ttl))
}

/// Draws one cache entry at `at` from the stationary distribution: cached with probability
/// ttl / (ttl + mean), then with a remaining life uniform in (0, ttl]. Returns (expires, next).
fn stationary(rng: &mut ChaCha8Rng, at: i64, ttl: i64, mean: f64) -> (i64, i64) {
    let p = ttl as f64 / (ttl as f64 + mean);
    if rng.random::<f64>() < p {
        let e = at + rng.random_range(1..=ttl.max(1));
        (e, e + exp_secs(rng, mean))
    } else {
        (0, at + exp_secs(rng, mean))
    }
}

fn jump(
    c: &mut ResolverCache,
    st: &Steady,
    rng: &mut ChaCha8Rng,
    to: i64,
    mean: f64,
    per_name_mean: f64,
) {
    let (e, n) = stationary(rng, to, st.ds_ttl, mean);
    c.ds = st.ds.clone();
    c.ds_expires = e;
    c.ds_next = n;
    if st.ds.is_empty() {
        c.dnskey_expires = 0;
        c.dnskey_next = NEVER;
    } else {
        let (e, n) = stationary(rng, to, st.dnskey_ttl, mean);
        c.dnskey_ds = st.sep_ds.clone();
        c.dnskey_signed = st.dnskey_signed;
        c.dnskey_expires = e;
        c.dnskey_next = n;
    }
    for (a, ttl) in c.targets.iter_mut().zip(&st.ttls) {
        let (e, n) = stationary(rng, to, *ttl, per_name_mean);
        a.signed = st.signing;
        a.expires = e;
        a.next = n;
    }
}

struct Outcome {
    bogus: Vec<(i64, String)>,
    lookups: u64,
}

fn simulate_resolvers(w: &mut World, from: i64, to: i64) -> Result<(), SandboxError> {
    let zone_lags: Vec<i64> = w
        .settings
        .zone_server_lags
        .iter()
        .map(|l| l.0 as i64)
        .collect();
    let parent_lags: Vec<i64> = w
        .settings
        .parent_server_lags
        .iter()
        .map(|l| l.0 as i64)
        .collect();
    let neg_parent = i64::from(w.settings.parent_negative_ttl.0);
    let dnskey_ttl = i64::from(w.settings.dnskey_ttl.0);
    let fast_forward = w.settings.fast_forward;
    let names = w.names();
    let stream = w.next_stream();
    let mut resolvers = std::mem::take(&mut w.resolvers);
    let mut found: Vec<(i64, u32, ZoneName, String)> = Vec::new();
    let mut lookups = 0u64;
    for r in resolvers.iter_mut() {
        for (zi, name) in names.iter().enumerate() {
            let (Some(served), Some(parent)) = (w.served.get(name), w.parent_served.get(name))
            else {
                continue;
            };
            let views = ZoneViews {
                name,
                served,
                parent,
                zone_lags: &zone_lags,
                parent_lags: &parent_lags,
            };
            let mut rng = ChaCha8Rng::seed_from_u64(
                stream ^ (u64::from(r.id) << 32) ^ (zi as u64).wrapping_mul(0x9E37_79B9),
            );
            let steady = if fast_forward {
                steady_state(&views, neg_parent, dnskey_ttl)
            } else {
                None
            };
            let cache = r.caches.entry(name.clone()).or_default();
            let out = simulate_one(
                cache,
                &views,
                steady.as_ref(),
                &mut rng,
                r.mean_interval as f64,
                neg_parent,
                dnskey_ttl,
                from,
                to,
            );
            lookups += out.lookups;
            for (t, reason) in out.bogus {
                found.push((t, r.id, name.clone(), reason));
            }
        }
    }
    w.resolvers = resolvers;
    found.sort();
    w.bogus.lookups += lookups;
    let keep = w.settings.bogus_events_kept as usize;
    for (t, rid, zone, reason) in found {
        w.bogus.total += 1;
        *w.bogus.per_zone.entry(zone.clone()).or_default() += 1;
        if w.bogus.first.len() < keep {
            w.bogus.first.push(BogusEvent {
                at: ts(t)?,
                resolver: rid,
                zone,
                reason,
            });
        }
    }
    Ok(())
}

/// One resolver, one zone, over (from, to].
#[allow(clippy::too_many_arguments)]
fn simulate_one(
    c: &mut ResolverCache,
    v: &ZoneViews<'_>,
    steady: Option<&Steady>,
    rng: &mut ChaCha8Rng,
    mean: f64,
    neg_parent: i64,
    dnskey_ttl: i64,
    from: i64,
    to: i64,
) -> Outcome {
    let mut out = Outcome {
        bogus: Vec::new(),
        lookups: 0,
    };
    // The zone's names: its record sets plus one nonexistent name.
    let k = v.served.last().map(|s| s.record_ttls.len()).unwrap_or(0) + 1;
    let per_name_mean = mean * k as f64;
    if c.targets.len() != k {
        c.targets.resize(
            k,
            CachedAnswer {
                signed: false,
                expires: 0,
                next: 0,
            },
        );
        for t in c.targets.iter_mut().filter(|t| t.next == 0) {
            t.next = from + exp_secs(rng, per_name_mean);
        }
        if c.ds_next == 0 {
            c.ds_next = NEVER;
            c.dnskey_next = NEVER;
        }
    }
    loop {
        // The next event: a name's lookup, or any lookup once the DS / DNSKEY expired.
        let (mut t, mut which) = (c.ds_next, None::<usize>);
        let mut is_dnskey = false;
        if c.dnskey_next < t {
            t = c.dnskey_next;
            is_dnskey = true;
        }
        for (i, a) in c.targets.iter().enumerate() {
            if a.next < t {
                t = a.next;
                which = Some(i);
            }
        }
        if t > to {
            break;
        }
        if let Some(st) = steady
            && t >= st.from
            && st.ttls.len() == k
            && consistent(c, st, t)
        {
            jump(c, st, rng, to, mean, per_name_mean);
            break;
        }
        let target = match which {
            Some(i) => i,
            None => {
                // A lookup of some name; the refresh is what matters.
                if is_dnskey {
                    c.dnskey_next = NEVER;
                } else {
                    c.ds_next = NEVER;
                }
                rng.random_range(0..k)
            }
        };
        out.lookups += 1;
        lookup(
            c,
            v,
            rng,
            per_name_mean,
            mean,
            neg_parent,
            dnskey_ttl,
            target,
            t,
            &mut out,
        );
    }
    out
}

/// One client lookup of name `i` at `t`.
#[allow(clippy::too_many_arguments)]
fn lookup(
    c: &mut ResolverCache,
    v: &ZoneViews<'_>,
    rng: &mut ChaCha8Rng,
    per_name_mean: f64,
    mean: f64,
    neg_parent: i64,
    dnskey_ttl: i64,
    i: usize,
    t: i64,
    out: &mut Outcome,
) {
    let k = c.targets.len();
    // 1. The DS RRset, from cache or from a parent server.
    if c.ds_expires <= t {
        let was_secure = !c.ds.is_empty();
        match v.parent_server(rng, t) {
            Some((_, p)) => {
                if c.ds != p.ds {
                    c.ds.clone_from(&p.ds);
                }
                c.ds_expires = t + if p.ds.is_empty() {
                    neg_parent
                } else {
                    i64::from(p.ds_ttl.0)
                };
            }
            None => {
                c.ds.clear();
                c.ds_expires = t + neg_parent;
            }
        }
        c.ds_next = c.ds_expires + exp_secs(rng, mean);
        if !c.ds.is_empty() && !was_secure {
            // Newly secure: cached unsigned answers will be re-validated at their next lookup.
            for (j, a) in c.targets.iter_mut().enumerate() {
                if j != i && a.expires > t && !a.signed {
                    a.next = a.next.min(t + exp_secs(rng, per_name_mean));
                }
            }
        }
    }
    let secure = !c.ds.is_empty();
    let fail = |c: &mut ResolverCache, rng: &mut ChaCha8Rng, out: &mut Outcome, why: String| {
        out.bogus.push((t, why));
        if let Some(a) = c.targets.get_mut(i) {
            // RFC 9520 §3: the failure is cached (Unbound's val-bogus-ttl: 60 s) before the name
            // is resolved again.
            a.expires = 0;
            a.next = t + exp_secs(rng, per_name_mean).max(BOGUS_TTL);
        }
    };
    if secure {
        // 2. The DNSKEY RRset, from cache or from a zone server (RFC 4035 §5.2).
        if c.dnskey_expires <= t {
            match v.zone_server(rng, t) {
                Some((_, s)) => {
                    let sig_ok = s.signatures_expire_at.is_none_or(|e| t < secs(e));
                    if c.dnskey_ds != s.sep_ds {
                        c.dnskey_ds.clone_from(&s.sep_ds);
                    }
                    c.dnskey_signed = s.signing && sig_ok && !s.dnskeys.is_empty();
                    c.dnskey_expires = t + if s.dnskeys.is_empty() {
                        i64::from(s.negative_ttl.0)
                    } else {
                        dnskey_ttl
                    };
                }
                None => {
                    c.dnskey_ds.clear();
                    c.dnskey_signed = false;
                    c.dnskey_expires = t + 60;
                }
            }
            c.dnskey_next = c.dnskey_expires + exp_secs(rng, mean);
        }
        let matched = c.ds.iter().any(|d| {
            c.dnskey_ds.iter().any(|k| {
                k.key_tag == d.key_tag
                    && k.algorithm == d.algorithm
                    && k.digest_type == d.digest_type
                    && k.digest.eq_ignore_ascii_case(&d.digest)
            })
        });
        if !matched || !c.dnskey_signed {
            let why = if c.dnskey_ds.is_empty() {
                format!(
                    "DS {} at the parent of {} but the zone serves no SEP DNSKEY",
                    ds_tags(&c.ds),
                    v.name
                )
            } else if !matched {
                format!(
                    "DS {} at the parent of {} matches no served DNSKEY",
                    ds_tags(&c.ds),
                    v.name
                )
            } else {
                format!(
                    "DNSKEY RRset of {} is not validly signed (signatures missing or expired)",
                    v.name
                )
            };
            // Not cached as validated: the next lookup asks again.
            c.dnskey_expires = 0;
            c.dnskey_next = NEVER;
            fail(c, rng, out, why);
            return;
        }
    }
    // 3. The answer itself.
    let cached = c.targets.get(i).copied().unwrap_or_default();
    if cached.expires > t {
        if secure && !cached.signed {
            fail(
                c,
                rng,
                out,
                format!(
                    "cached unsigned answer for a name in {} while a DS is at the parent (RFC 4035 §5.3)",
                    v.name
                ),
            );
            return;
        }
        if let Some(a) = c.targets.get_mut(i) {
            a.next = a.expires + exp_secs(rng, per_name_mean);
        }
        return;
    }
    let Some((server, s)) = v.zone_server(rng, t) else {
        return;
    };
    let ttl = if i + 1 == k {
        i64::from(s.negative_ttl.0)
    } else {
        s.record_ttls
            .get(i)
            .map(|x| i64::from(x.0))
            .unwrap_or(i64::from(s.negative_ttl.0))
    };
    if secure && !s.signing {
        fail(
            c,
            rng,
            out,
            format!(
                "zone server {server} of {} serves unsigned data while a DS is at the parent",
                v.name
            ),
        );
        return;
    }
    if let Some(a) = c.targets.get_mut(i) {
        a.signed = s.signing;
        a.expires = t + ttl.max(1);
        a.next = a.expires + exp_secs(rng, per_name_mean);
    }
}

fn ds_tags(ds: &[DsRecord]) -> String {
    let v: Vec<String> = ds.iter().map(|d| d.key_tag.to_string()).collect();
    v.join(",")
}
