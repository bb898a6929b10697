//! Integration tests: dns. The live-DNS observer against real Knot DNS servers on 127.0.0.1
//! (tests/peers/knot.sh, started once for this test binary and stopped by a watchdog when it
//! exits): DS matching / absent / wrong, TCP fallback, timeouts, lame and refusing servers,
//! tampered signatures, NS TTLs from the referral, NSEC/NSEC3 denial, agreement with kdig and
//! delv, the `probe` command, and the trust gate walked with a lagging secondary.

#[path = "../knot/fixture.rs"]
mod fixture;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dnssec_pilot::cli::{Format, ProbeArgs};
use dnssec_pilot::model::{DigestType, Dnskey, DsRecord, Timestamp, ZoneName};
use dnssec_pilot::provider::dns::denial::{DenialKind, check_nxdomain, check_wildcard};
use dnssec_pilot::provider::dns::transport::{self, QueryOptions};
use dnssec_pilot::provider::dns::{
    Chain, DnsObserver, FixedClock, ObserverConfig, Servers, Target, probe, probe_with,
    run_probe_command,
};
use dnssec_pilot::state::{LiveObs, ProbeErrorKind};
use fixture::Knot;
use hickory_proto::rr::{Name, RecordType};

fn knot() -> &'static Knot {
    static K: OnceLock<Knot> = OnceLock::new();
    K.get_or_init(|| Knot::start(0, 0))
}

fn zone(s: &str) -> ZoneName {
    ZoneName::parse(s).unwrap()
}

fn observer() -> DnsObserver {
    DnsObserver::new(ObserverConfig::default())
}

fn fast_observer() -> DnsObserver {
    DnsObserver::new(ObserverConfig {
        query: QueryOptions {
            timeout: Duration::from_millis(300),
            retries: 1,
            ..QueryOptions::default()
        },
        ..ObserverConfig::default()
    })
}

/// The DS set a `kdig +short DS` prints, as model records.
fn kdig_ds(server: SocketAddr, name: &str) -> BTreeSet<DsRecord> {
    Knot::kdig(server, &["+short", "DS", name])
        .lines()
        .filter_map(DsRecord::parse)
        .collect()
}

/// The TTL of the first record of `rtype` in a kdig answer/authority section.
fn kdig_ttl(server: SocketAddr, rtype: &str, name: &str) -> Option<u32> {
    Knot::kdig(
        server,
        &[
            "+dnssec",
            "+nocomments",
            "+noquestion",
            "+nostats",
            rtype,
            name,
        ],
    )
    .lines()
    .filter(|l| !l.starts_with(';'))
    .map(|l| l.split_whitespace().collect::<Vec<_>>())
    .find(|f| f.len() > 4 && f[3] == rtype)
    .and_then(|f| f[1].parse().ok())
}

/// Key tags kdig reports for the DNSKEY RRset (`+multiline` prints `key id = N`).
fn kdig_key_tags(server: SocketAddr, name: &str) -> BTreeSet<u16> {
    Knot::kdig(server, &["+multiline", "DNSKEY", name])
        .lines()
        .filter_map(|l| l.split("id = ").nth(1))
        .filter_map(|t| {
            t.trim()
                .trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse()
                .ok()
        })
        .collect()
}

/// The SEP keys the child serves for `z`.
async fn child_ksks(z: &ZoneName) -> Vec<Dnskey> {
    let obs = observer();
    let r = obs.observe_zone(z, &[knot().child]).await;
    let a = r[0].result.as_ref().expect("child answers");
    a.dnskeys.iter().filter(|k| k.is_sep()).cloned().collect()
}

/// Runs delv against one server with `anchor` (a DNSKEY of `anchor_zone`) as trust anchor.
fn delv(server: SocketAddr, anchor_zone: &str, anchor: &Dnskey, rtype: &str, name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("anchor.conf");
    std::fs::write(
        &file,
        format!(
            "trust-anchors {{\n  {anchor_zone}. static-key {} {} {} \"{}\";\n}};\n",
            anchor.flags, anchor.protocol, anchor.algorithm, anchor.public_key
        ),
    )
    .unwrap();
    let out = std::process::Command::new("delv")
        .args([
            &format!("@{}", server.ip()),
            "-p",
            &server.port().to_string(),
            "-a",
            file.to_str().unwrap(),
            &format!("+root={anchor_zone}."),
            rtype,
            name,
        ])
        .output()
        .expect("delv runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ds_matching_absent_wrong() {
    // Only this test switches `sub.test.`'s DS; the others use zones whose DS stays put.
    let k = knot();
    let z = zone("sub.test");
    let ksks = child_ksks(&z).await;
    assert_eq!(ksks.len(), 1);
    let obs = observer();

    // matching
    k.set_ds("sub.test", "matching");
    let p = obs.observe_parent(&z, &[k.parent]).await;
    let a = p[0].result.as_ref().unwrap();
    assert_eq!(a.ds.len(), 1);
    assert!(
        ksks[0].matches(&z, &a.ds[0]),
        "DS {:?} should match {:?}",
        a.ds,
        ksks[0]
    );
    assert_eq!(
        a.ds.iter().cloned().collect::<BTreeSet<_>>(),
        kdig_ds(k.parent, "sub.test.")
    );
    assert_eq!(a.ds_ttl.map(|t| t.0), Some(300));
    let live = LiveObs {
        parent_servers: p.clone(),
        zone_servers: vec![],
    };
    assert!(live.ds_at_every_parent(|d| ksks[0].matches(&z, d)));
    let servers = Servers {
        parent: vec![Target::addr(k.parent)],
        zone: vec![Target::addr(k.child)],
    };
    let r = probe_with(&obs, &z, &servers).await;
    assert_eq!(r.chain, Chain::Secure, "{:#?}", r);
    assert!(r.parent_servers[0].ds[0].matches_dnskey);
    assert_eq!(r.parent_servers[0].ds_signed, Some(true));

    // absent
    k.set_ds("sub.test", "absent");
    let p = obs.observe_parent(&z, &[k.parent]).await;
    let a = p[0].result.as_ref().unwrap();
    assert!(a.ds.is_empty());
    assert!(kdig_ds(k.parent, "sub.test.").is_empty());
    let live = LiveObs {
        parent_servers: p,
        zone_servers: vec![],
    };
    assert!(live.ds_gone_everywhere());
    assert!(!live.ds_at_every_parent(|_| true));
    let r = probe_with(&obs, &z, &servers).await;
    assert_eq!(r.chain, Chain::Insecure);
    assert_eq!(
        r.parent_servers[0].ds_absence_signed,
        Some(true),
        "{:?}",
        r.problems
    );
    // The parent's NSEC proof verifies with the parent's keys and not with another zone's
    // (test. uses NSEC; the NSEC3 form of this proof is not exercised here).
    let d = obs.parent_detail(&z, k.parent).await.unwrap();
    assert_eq!(d.ds_absence_signed, Some(true));
    let qn = Name::from_ascii("sub.test.").unwrap();
    let test_apex = Name::from_ascii("test.").unwrap();
    let nodata = transport::query(k.parent, &qn, RecordType::DS, QueryOptions::default())
        .await
        .unwrap();
    let own = transport::query(
        k.parent,
        &test_apex,
        RecordType::DNSKEY,
        QueryOptions::default(),
    )
    .await
    .unwrap();
    let other_apex = Name::from_ascii("gate.test.").unwrap();
    let other = transport::query(
        k.child,
        &other_apex,
        RecordType::DNSKEY,
        QueryOptions::default(),
    )
    .await
    .unwrap();
    let ctx = dnssec_pilot::provider::dns::verify::VerifyCtx {
        now: Timestamp::now(),
        clock_skew: jiff::SignedDuration::from_hours(1),
    };
    use dnssec_pilot::provider::dns::{denial::ds_absence, verify::dnskeys_in};
    let (ok, _) = ds_absence(
        &nodata.message.authorities,
        &qn,
        &test_apex,
        &dnskeys_in(&own.message.answers, &test_apex),
        ctx,
    );
    assert!(ok);
    let (ok, problems) = ds_absence(
        &nodata.message.authorities,
        &qn,
        &test_apex,
        &dnskeys_in(&other.message.answers, &other_apex),
        ctx,
    );
    assert!(!ok && !problems.is_empty());

    // wrong: same key tag, algorithm and digest type, another digest
    k.set_ds("sub.test", "wrong");
    let p = obs.observe_parent(&z, &[k.parent]).await;
    let a = p[0].result.as_ref().unwrap();
    assert_eq!(a.ds.len(), 1);
    assert_eq!(a.ds[0].key_tag, ksks[0].key_tag().unwrap());
    assert!(!ksks[0].matches(&z, &a.ds[0]));
    assert_eq!(
        a.ds.iter().cloned().collect::<BTreeSet<_>>(),
        kdig_ds(k.parent, "sub.test.")
    );
    let live = LiveObs {
        parent_servers: p,
        zone_servers: vec![],
    };
    assert!(!live.ds_at_every_parent(|d| ksks[0].matches(&z, d)));
    let r = probe_with(&obs, &z, &servers).await;
    assert_eq!(r.chain, Chain::Bogus);
    assert!(!r.parent_servers[0].ds[0].matches_dnskey);
    assert!(
        r.problems.iter().any(|p| p.contains("no DS matches")),
        "{:?}",
        r.problems
    );

    k.set_ds("sub.test", "matching");
}

#[tokio::test]
async fn large_answer_falls_back_to_tcp() {
    let k = knot();
    let name = Name::from_ascii("big.stable.test.").unwrap();
    let a = transport::query(k.child, &name, RecordType::TXT, QueryOptions::default())
        .await
        .unwrap();
    assert!(a.via_tcp, "a 6 KB RRset cannot fit a 1232-byte UDP answer");
    let txt = a
        .message
        .answers
        .iter()
        .filter(|r| r.record_type() == RecordType::TXT)
        .count();
    let kdig_count = Knot::kdig(k.child, &["+tcp", "+short", "TXT", "big.stable.test."])
        .lines()
        .count();
    assert_eq!(txt, 24);
    assert_eq!(txt, kdig_count);
    // A small answer stays on UDP.
    let name = Name::from_ascii("www.stable.test.").unwrap();
    let a = transport::query(k.child, &name, RecordType::A, QueryOptions::default())
        .await
        .unwrap();
    assert!(!a.via_tcp);
}

#[tokio::test]
async fn stopped_server_is_a_typed_timeout() {
    let k = knot();
    let spare = k.spare("spare-stop");
    let z = zone("stable.test");
    let obs = fast_observer();
    let before = obs.observe_zone(&z, &[spare]).await;
    assert!(
        before[0]
            .result
            .as_ref()
            .is_ok_and(|a| a.dnskey_signed && a.data_signed)
    );
    k.stop_instance("spare-stop");
    let after = obs.observe_zone(&z, &[k.child, spare]).await;
    assert!(after[0].result.is_ok());
    let e = after[1].result.as_ref().unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::Timeout, "{e:?}");
    let live = LiveObs {
        parent_servers: vec![],
        zone_servers: after,
    };
    assert!(
        !live.signed_everywhere(),
        "a silent server keeps the gate closed"
    );
    let p = obs.observe_parent(&z, &[spare]).await;
    assert_eq!(
        p[0].result.as_ref().unwrap_err().kind,
        ProbeErrorKind::Timeout
    );
}

#[tokio::test]
async fn lame_and_refusing_servers_are_typed() {
    let k = knot();
    let obs = observer();
    // The parent answers for stable.test. with a referral: lame as a zone server.
    let r = obs.observe_zone(&zone("stable.test"), &[k.parent]).await;
    let e = r[0].result.as_ref().unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::Lame, "{e:?}");
    assert!(e.message.contains("referral"));
    // The child is not authoritative for the parent zone test.: it refuses.
    let r = obs.observe_zone(&zone("test"), &[k.child]).await;
    assert_eq!(
        r[0].result.as_ref().unwrap_err().kind,
        ProbeErrorKind::Refused
    );
    // Asked as a parent server it answers from the child apex: lame for the parent.
    let r = obs.observe_parent(&zone("stable.test"), &[k.child]).await;
    let e = r[0].result.as_ref().unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::Lame, "{e:?}");
    assert!(e.message.contains("not for its parent"));
}

#[tokio::test]
async fn tampered_signature_fails_verification_like_delv() {
    let k = knot();
    let z = zone("stable.test");
    let obs = observer();
    let r = obs.observe_zone(&z, &[k.child, k.tamper]).await;
    let good = r[0].result.as_ref().unwrap();
    let bad = r[1].result.as_ref().unwrap();
    assert!(
        good.dnskey_signed && good.data_signed,
        "{:?}",
        good.problems
    );
    assert_eq!(good.dnskeys, bad.dnskeys, "same keys, altered signature");
    assert!(!bad.dnskey_signed);
    assert!(
        bad.problems.iter().any(|p| p.contains("does not verify")),
        "{:?}",
        bad.problems
    );
    let live = LiveObs {
        parent_servers: vec![],
        zone_servers: r.clone(),
    };
    assert!(!live.signed_everywhere());

    // delv, anchored at the zone's KSK, agrees server by server.
    let ksk = good.dnskeys.iter().find(|k| k.is_sep()).unwrap();
    let d_good = delv(k.child, "stable.test", ksk, "DNSKEY", "stable.test.");
    let d_bad = delv(k.tamper, "stable.test", ksk, "DNSKEY", "stable.test.");
    assert!(d_good.contains("fully validated"), "{d_good}");
    assert!(!d_bad.contains("fully validated"), "{d_bad}");

    // The probe judges the chain bogus through the tampered server.
    let servers = Servers {
        parent: vec![Target::addr(k.parent)],
        zone: vec![Target::addr(k.child), Target::addr(k.tamper)],
    };
    let rep = probe_with(&obs, &z, &servers).await;
    assert_eq!(rep.chain, Chain::Bogus);
    assert!(rep.zone_servers[0].signatures_verify);
    assert!(!rep.zone_servers[1].signatures_verify);
}

#[tokio::test]
async fn delegation_ns_ttl_comes_from_the_referral() {
    let k = knot();
    let obs = observer();
    let stable = obs.observe_parent(&zone("stable.test"), &[k.parent]).await;
    let n3 = obs.observe_parent(&zone("n3.test"), &[k.parent]).await;
    assert_eq!(
        stable[0].result.as_ref().unwrap().ns_ttl.map(|t| t.0),
        Some(172_800)
    );
    assert_eq!(
        n3[0].result.as_ref().unwrap().ns_ttl.map(|t| t.0),
        Some(7200)
    );
    assert_eq!(kdig_ttl(k.parent, "NS", "stable.test."), Some(172_800));
    // The in-zone NS TTL is the child's own (3600), distinct from the delegation's.
    let z = obs.observe_zone(&zone("stable.test"), &[k.child]).await;
    assert_eq!(
        z[0].result.as_ref().unwrap().ns_ttl.map(|t| t.0),
        Some(3600)
    );
    let d = obs
        .parent_detail(&zone("stable.test"), k.parent)
        .await
        .unwrap();
    assert_eq!(d.referral.len(), 1);
    assert_eq!(d.referral[0].0, "ns1.stable.test.");
}

#[tokio::test]
async fn answers_agree_with_kdig_and_delv() {
    let k = knot();
    let obs = observer();
    for name in ["stable.test", "n3.test"] {
        let z = zone(name);
        let fq = z.fqdn();
        let p = obs.observe_parent(&z, &[k.parent]).await;
        let pa = p[0].result.as_ref().unwrap();
        assert_eq!(
            pa.ds.iter().cloned().collect::<BTreeSet<_>>(),
            kdig_ds(k.parent, &fq)
        );
        assert_eq!(pa.ds_ttl.map(|t| t.0), kdig_ttl(k.parent, "DS", &fq));
        let zr = obs.observe_zone(&z, &[k.child]).await;
        let za = zr[0].result.as_ref().unwrap();
        let tags: BTreeSet<u16> = za.dnskeys.iter().map(|k| k.key_tag().unwrap()).collect();
        assert_eq!(tags, kdig_key_tags(k.child, &fq));
        assert_eq!(za.dnskey_ttl.map(|t| t.0), kdig_ttl(k.child, "DNSKEY", &fq));
        assert!(za.dnskey_signed && za.data_signed, "{:?}", za.problems);
        // Every DS is SHA-256 and matches the served KSK, as the model recomputes it.
        let ksk = za.dnskeys.iter().find(|k| k.is_sep()).unwrap();
        assert_eq!(pa.ds, vec![ksk.to_ds(&z, DigestType::Sha256).unwrap()]);
    }
    // delv validates the DS RRset at the parent from test.'s KSK, as our ds_signed says.
    let parent_keys = obs.observe_zone(&zone("test"), &[k.parent]).await;
    let pk = parent_keys[0].result.as_ref().unwrap();
    let anchor = pk.dnskeys.iter().find(|k| k.is_sep()).unwrap();
    let out = delv(k.parent, "test", anchor, "DS", "stable.test.");
    assert!(out.contains("fully validated"), "{out}");
    let d = obs
        .parent_detail(&zone("stable.test"), k.parent)
        .await
        .unwrap();
    assert_eq!(d.ds_signed, Some(true), "{:?}", d.problems);
}

#[tokio::test]
async fn signed_denial_nsec_and_nsec3() {
    let k = knot();
    let obs = observer();
    for (name, kind) in [
        ("stable.test", DenialKind::Nsec),
        ("n3.test", DenialKind::Nsec3),
    ] {
        let z = zone(name);
        let apex = Name::from_ascii(z.fqdn()).unwrap();
        let keys_msg =
            transport::query(k.child, &apex, RecordType::DNSKEY, QueryOptions::default())
                .await
                .unwrap();
        let keys =
            dnssec_pilot::provider::dns::verify::dnskeys_in(&keys_msg.message.answers, &apex)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>();
        let ctx = dnssec_pilot::provider::dns::verify::VerifyCtx {
            now: Timestamp::now(),
            clock_skew: jiff::SignedDuration::from_hours(1),
        };
        let nx = check_nxdomain(&obs, k.child, &apex, &keys, ctx)
            .await
            .unwrap();
        assert_eq!(nx.kind, kind);
        assert!(nx.signed, "{name}: {:?}", nx.problems);
        let wild = Name::from_ascii(format!("wild.{}", z.fqdn())).unwrap();
        let w = check_wildcard(
            &obs,
            k.child,
            &apex,
            &wild,
            RecordType::TXT,
            RecordType::AAAA,
            &keys,
            ctx,
        )
        .await
        .unwrap();
        assert!(w.positive.signed, "{name}: {:?}", w.positive.problems);
        assert!(w.nodata.signed, "{name}: {:?}", w.nodata.problems);
        // With another zone's keys nothing verifies: the check can fail.
        let other = Name::from_ascii("gate.test.").unwrap();
        let gm = transport::query(k.child, &other, RecordType::DNSKEY, QueryOptions::default())
            .await
            .unwrap();
        let gkeys = dnssec_pilot::provider::dns::verify::dnskeys_in(&gm.message.answers, &other)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>();
        let nx = check_nxdomain(&obs, k.child, &apex, &gkeys, ctx)
            .await
            .unwrap();
        assert!(!nx.signed);
        // The zone probe carries the denial verdict too.
        let zr = obs.observe_zone_detail(&z, &[Target::addr(k.child)]).await;
        let d = zr[0].result.as_ref().unwrap();
        assert!(
            d.denial
                .as_ref()
                .is_some_and(|c| c.signed && c.kind == kind)
        );
    }
}

#[tokio::test]
async fn signature_window_uses_the_injected_clock() {
    let k = knot();
    let z = zone("stable.test");
    // Four weeks ahead every RRSIG (14-day lifetime) has expired, even with the skew allowance.
    let later = Timestamp::now() + jiff::SignedDuration::from_hours(24 * 28);
    let obs = DnsObserver::with_clock(ObserverConfig::default(), Arc::new(FixedClock(later)));
    let r = obs.observe_zone_detail(&z, &[Target::addr(k.child)]).await;
    let d = r[0].result.as_ref().unwrap();
    assert_eq!(r[0].seen_at, later);
    assert!(!d.answer.dnskey_signed);
    assert!(
        d.answer.problems.iter().any(|p| p.contains("expired")),
        "{:?}",
        d.answer.problems
    );
    // Now, the signatures verify and have about two weeks left.
    let r = observer()
        .observe_zone_detail(&z, &[Target::addr(k.child)])
        .await;
    let d = r[0].result.as_ref().unwrap();
    let left = d.signatures_expire_at.unwrap().as_second() - Timestamp::now().as_second();
    assert!(left > 12 * 86_400 && left <= 15 * 86_400, "{left}");
}

#[tokio::test]
async fn probe_command_json_table_and_exit_codes() {
    let k = knot();
    let args = |zs: Vec<SocketAddr>| ProbeArgs {
        zone: "stable.test.".into(),
        parent_servers: vec![k.parent.to_string()],
        zone_servers: zs.iter().map(|s| s.to_string()).collect(),
    };
    let (json, code) = tokio::task::spawn_blocking({
        let a = args(vec![k.child]);
        move || run_probe_command(&a, Format::Json).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["zone"], "stable.test");
    assert_eq!(v["chain"], "secure");
    assert_eq!(v["parent_servers"][0]["ds"][0]["matches_dnskey"], true);
    assert_eq!(v["parent_servers"][0]["ns_ttl"], 172_800);
    assert_eq!(v["zone_servers"][0]["signatures_verify"], true);
    assert!(
        v["zone_servers"][0]["dnskeys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["flags"] == 257 && k["algorithm"] == 13)
    );

    let (table, code) = tokio::task::spawn_blocking({
        let a = args(vec![k.child, k.tamper]);
        move || run_probe_command(&a, Format::Human).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(code, 1);
    assert!(table.contains("chain of trust BOGUS"), "{table}");
    assert!(table.contains(&k.tamper.to_string()));

    // A bad server address is an error before anything is asked.
    let bad = ProbeArgs {
        zone: "stable.test".into(),
        parent_servers: vec!["not-an-ip".into()],
        zone_servers: vec![],
    };
    assert!(run_probe_command(&bad, Format::Json).is_err());
    // The free-function form with a pinned clock.
    let now = Timestamp::now();
    let rep = probe(&zone("n3.test"), &[k.parent], &[k.child], now)
        .await
        .unwrap();
    assert_eq!(rep.chain, Chain::Secure, "{:?}", rep.problems);
    assert_eq!(rep.observed_at, now);
}

#[tokio::test]
async fn ipv6_loopback_when_available() {
    let k = knot();
    if !k.ipv6 {
        eprintln!("no ::1 on this machine; IPv6 transport not exercised");
        return;
    }
    let v6 = SocketAddr::new("::1".parse().unwrap(), k.child.port());
    let r = observer().observe_zone(&zone("stable.test"), &[v6]).await;
    assert!(
        r[0].result.as_ref().is_ok_and(|a| a.dnskey_signed),
        "{:?}",
        r[0].result
    );
    let name = Name::from_ascii("big.stable.test.").unwrap();
    let a = transport::query(v6, &name, RecordType::TXT, QueryOptions::default())
        .await
        .unwrap();
    assert!(a.via_tcp);
}

/// The trust phase's gate (DESIGN.md §4 step 3): DS seen at every parent server. With a primary
/// and a secondary that lags, the gate opens only once the secondary serves the DS too.
#[tokio::test]
async fn trust_gate_opens_only_when_every_parent_serves_the_ds() {
    let k = knot();
    let z = zone("gate.test");
    let over = dnssec_pilot::config::DnsOverride {
        parent_servers: vec![k.parent, k.parent2],
        zone_servers: vec![k.child],
    };
    let obs = observer();
    let ksk = child_ksks(&z).await.remove(0);
    let gate = |live: &LiveObs| live.ds_at_every_parent(|d| ksk.matches(&z, d));

    let live = obs.observe_live(&z, &over).await;
    assert!(
        live.signed_everywhere(),
        "the child is signed before the DS goes up"
    );
    assert!(live.ds_gone_everywhere());
    assert!(!gate(&live));

    k.set_ds("gate.test", "matching");
    let live = obs.observe_live(&z, &over).await;
    let primary = live.parent_servers[0].result.as_ref().unwrap();
    let secondary = live.parent_servers[1].result.as_ref().unwrap();
    assert!(primary.ds.iter().any(|d| ksk.matches(&z, d)));
    assert!(
        secondary.ds.is_empty(),
        "the secondary has not transferred yet"
    );
    assert!(!gate(&live), "one parent server still lacks the DS");
    assert!(live.any_parent_ds() && !live.ds_gone_everywhere());
    let servers = Servers {
        parent: vec![Target::addr(k.parent), Target::addr(k.parent2)],
        zone: vec![Target::addr(k.child)],
    };
    let rep = probe_with(&obs, &z, &servers).await;
    assert!(
        rep.problems
            .iter()
            .any(|p| p.contains("parent servers disagree")),
        "{:?}",
        rep.problems
    );
    assert_eq!(
        rep.chain,
        Chain::Insecure,
        "the lagging server still sends resolvers the insecure way"
    );

    k.refresh_secondary();
    let live = obs.observe_live(&z, &over).await;
    assert!(gate(&live), "{:#?}", live.parent_servers);
    assert_eq!(live.max_delegation_ns_ttl().map(|t| t.0), Some(7200));
    assert_eq!(live.max_parent_ds_ttl().map(|t| t.0), Some(300));

    // A parent server that stops answering closes the gate again.
    let fast = fast_observer();
    let dead = fixture::free_ports(1)[0];
    let over2 = dnssec_pilot::config::DnsOverride {
        parent_servers: vec![
            k.parent,
            k.parent2,
            SocketAddr::from(([127, 0, 0, 1], dead)),
        ],
        zone_servers: vec![k.child],
    };
    let live = fast.observe_live(&z, &over2).await;
    assert!(!gate(&live));
    assert_eq!(
        live.parent_servers[2].result.as_ref().unwrap_err().kind,
        ProbeErrorKind::Timeout
    );
}

/// Discovery: the parent's servers through a resolver named in a resolv.conf, the zone's from the
/// parent's referral (its NS names and glue). The Knot primary plays the resolver here: it
/// answers `test. NS` and `ns1.test. A` from its own zone.
#[tokio::test]
async fn servers_are_discovered_from_resolv_conf_and_the_referral() {
    let k = knot();
    let dir = tempfile::tempdir().unwrap();
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(&resolv, "# test\nnameserver 127.0.0.1\n").unwrap();
    let obs = DnsObserver::new(ObserverConfig {
        resolv_conf: resolv,
        port: k.parent.port(),
        ..ObserverConfig::default()
    });
    let z = zone("stable.test");
    let s = obs
        .servers(&z, &dnssec_pilot::config::DnsOverride::default())
        .await
        .unwrap();
    let want = format!("ns1.test/{}", k.parent);
    assert_eq!(
        s.parent
            .iter()
            .map(|t| t.label.as_str())
            .collect::<Vec<_>>(),
        vec![want.as_str()]
    );
    assert_eq!(s.zone.len(), 1);
    assert_eq!(
        s.zone[0].label,
        format!("ns1.stable.test/127.0.0.1:{}", k.parent.port())
    );
    // With the zone servers given, only the parent side is discovered, and the gate reads it.
    let over = dnssec_pilot::config::DnsOverride {
        parent_servers: vec![],
        zone_servers: vec![k.child],
    };
    let live = obs.observe_live(&z, &over).await;
    assert_eq!(live.parent_servers[0].server, want);
    let ksk = child_ksks(&z).await.remove(0);
    assert!(live.ds_at_every_parent(|d| ksk.matches(&z, d)));
    assert!(live.signed_everywhere());
    // Name servers known by name (as Route 53 lists them) resolve through the same resolvers.
    let t = obs
        .targets_for_names(&["ns1.test".to_string()])
        .await
        .unwrap();
    assert_eq!(t[0].label, want);
    let e = obs
        .targets_for_names(&["nothere.test".to_string()])
        .await
        .unwrap_err();
    assert_eq!(e.kind, ProbeErrorKind::Network);
    // A resolv.conf naming no resolver fails discovery, and the gates stay closed.
    let empty = dir.path().join("empty.conf");
    std::fs::write(&empty, "search example\n").unwrap();
    let obs = DnsObserver::new(ObserverConfig {
        resolv_conf: empty,
        ..ObserverConfig::default()
    });
    let live = obs.observe_live(&z, &over).await;
    assert_eq!(live.parent_servers[0].server, "(discovery)");
    assert!(!live.ds_at_every_parent(|_| true) && !live.ds_gone_everywhere());
}
