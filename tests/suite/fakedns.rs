//! Integration tests: the whole CLI against fakecloud with **real** live DNS. fakecloud serves
//! Route 53 and KMS over HTTP but no DNS; the planner's trust gates read the DNS server by server
//! (DNSKEY and signatures at every zone server, the DS at every parent server). This module puts
//! a Knot DNS mirror of fakecloud in between: one `knotd` on a free port of 127.0.0.1 serving a
//! parent and a child hosted zone, rewritten from `ListResourceRecordSets` every 250 ms, each
//! signed by Knot — with fakecloud's own KSK and a Knot ZSK — while `GetDNSSEC` says it signs, so
//! the DS fakecloud computes is the DS of the key Knot serves.
//!
//! fakecloud 0.51.0 never uses the KMS key of a KSK for its DNSKEY: it derives a P-256 key from
//! the hosted zone id and the KSK name (`fakecloud-route53` `dnssec::derive_keypair`: the secret
//! scalar is SHA-256 of `"fakecloud-route53-dnssec" + zone id + ":" + name`). The mirror derives
//! the same key, checks that its public key is the one `GetDNSSEC` reports (a mismatch is a
//! recorded problem and the key is not used), and imports it into Knot (`keymgr import-pem`).
//!
//! `cli_apply_wait_and_destroy_against_fakecloud_with_live_dns` closes the "Done when" of issue 5:
//! `apply --auto-approve --wait` takes a zone from unsigned to signed with its DS in the parent
//! zone, `destroy --auto-approve --wait` takes it back, and the journal and the emulator agree.

// Its own copy of the Knot fixture, for `free_ports` and `kdig` (the fixture's servers are not used).
#[allow(clippy::duplicate_mod)]
#[path = "../knot/fixture.rs"]
mod fixture;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aws_sdk_route53::operation::get_dnssec::GetDnssecOutput;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType};
use base64::Engine as _;
use dnssec_pilot::model::{Action, DigestType, Dnskey, DsRecord, Timestamp, ZoneName};
use dnssec_pilot::provider::aws::{AwsProvider, kms};
use dnssec_pilot::provider::dns::{Chain, probe};
use dnssec_pilot::state::{Direction, Journal, Mark};
use fixture::Knot;
use sha2::{Digest as _, Sha256};

use super::aws::{
    a_records, change_records, create_kms_key, create_records, create_zone, options, peer,
    pilot_against, provider, rrset, sdk_config, unique,
};

/// How often the mirror reads fakecloud.
const SYNC_EVERY: Duration = Duration::from_millis(250);

// ---------------------------------------------------------------------------------------------
// fakecloud's KSK key material

/// The key fakecloud 0.51.0 signs (and computes the DS) with for KSK `name` of hosted zone `id`.
struct FakecloudKsk {
    /// PKCS#8 PEM, for `keymgr import-pem`.
    pem: String,
    /// The DNSKEY public key field (`X || Y`), base64, as `GetDNSSEC` reports it.
    public_key: String,
}

fn fakecloud_ksk(zone_id: &str, name: &str) -> FakecloudKsk {
    use aws_lc_rs::signature::KeyPair as _;
    let mut seed: [u8; 32] = Sha256::new()
        .chain_update(b"fakecloud-route53-dnssec")
        .chain_update(zone_id.as_bytes())
        .chain_update(b":")
        .chain_update(name.as_bytes())
        .finalize()
        .into();
    // A scalar of zero or at least the group order is re-hashed, as fakecloud does.
    let private = loop {
        match aws_lc_rs::agreement::PrivateKey::from_private_key(
            &aws_lc_rs::agreement::ECDH_P256,
            &seed,
        ) {
            Ok(k) => break k,
            Err(_) => {
                seed = Sha256::new()
                    .chain_update(seed)
                    .chain_update(b"-retry")
                    .finalize()
                    .into();
            }
        }
    };
    let public = private.compute_public_key().unwrap();
    let pair = aws_lc_rs::signature::EcdsaKeyPair::from_private_key_and_public_key(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &seed,
        public.as_ref(),
    )
    .unwrap();
    let point = pair.public_key().as_ref();
    assert_eq!(point.len(), 65, "an uncompressed P-256 point");
    let b64 = base64::engine::general_purpose::STANDARD;
    let der = b64.encode(pair.to_pkcs8v1().unwrap().as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in der.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    FakecloudKsk {
        pem,
        public_key: b64.encode(&point[1..]),
    }
}

// ---------------------------------------------------------------------------------------------
// The mirror

/// A hosted zone the mirror serves.
#[derive(Clone, Debug)]
pub struct MirroredZone {
    /// Without the trailing dot.
    pub name: String,
    /// Without `/hostedzone/`.
    pub id: String,
}

/// What the mirror saw and did, for the assertions and for a failing test's message.
#[derive(Debug, Default)]
struct MirrorLog {
    syncs: u64,
    /// Reads of fakecloud that failed (retried at the next tick).
    read_failures: u64,
    /// What must not happen: a derived key that is not fakecloud's, a zone Knot would not load.
    problems: Vec<String>,
    /// KSK names whose derived key matched `GetDNSSEC` and was imported into Knot.
    ksks_imported: BTreeSet<String>,
    /// Every change the mirror made, stamped with the time since it started.
    events: Vec<String>,
}

/// A Knot DNS server mirroring a parent and a child hosted zone of fakecloud (module docs).
pub struct Mirror {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    log: Arc<Mutex<MirrorLog>>,
    _dir: tempfile::TempDir,
}

impl Mirror {
    /// Starts `knotd` with `zones` as fakecloud holds them now, and the thread that keeps them in
    /// step. Returns once the server answers for every zone.
    pub fn start(endpoint: &str, zones: Vec<MirroredZone>) -> Mirror {
        let dir = tempfile::Builder::new()
            .prefix("dnssec-pilot-fakedns-")
            .tempdir()
            .unwrap();
        let port = fixture::free_ports(1)[0];
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(MirrorLog::default()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let sync = Syncer {
            dir: dir.path().to_path_buf(),
            addr,
            endpoint: endpoint.to_string(),
            zones: zones
                .into_iter()
                .map(|zone| ZoneState {
                    zone,
                    written: None,
                    signing: false,
                    ksks: BTreeMap::new(),
                })
                .collect(),
            running: false,
            log: log.clone(),
            t0: Instant::now(),
        };
        let st = stop.clone();
        let thread = std::thread::spawn(move || sync.run(st, ready_tx));
        match ready_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("the Knot mirror did not start: {e}"),
            Err(e) => panic!("the Knot mirror did not start: {e}"),
        }
        Mirror {
            addr,
            stop,
            thread: Some(thread),
            log,
            _dir: dir,
        }
    }

    fn log(&self) -> std::sync::MutexGuard<'_, MirrorLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Everything the mirror did, one line per change.
    pub fn events(&self) -> String {
        self.log().events.join("\n")
    }

    /// Panics with the mirror's problems, if any.
    pub fn assert_no_problem(&self) {
        let l = self.log();
        assert!(
            l.problems.is_empty(),
            "mirror problems: {:#?}\nevents:\n{}",
            l.problems,
            l.events.join("\n")
        );
    }

    /// Waits (at most `limit`) for `f` to hold, re-checked after every sync.
    pub fn wait_for(&self, what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
        let t0 = Instant::now();
        while !f() {
            assert!(
                t0.elapsed() < limit,
                "timed out after {limit:?} waiting for {what}; mirror events:\n{}",
                self.events()
            );
            std::thread::sleep(SYNC_EVERY / 2);
        }
    }
}

impl Drop for Mirror {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The mirror's thread: its own runtime, fakecloud client and `knotd`.
struct Syncer {
    dir: PathBuf,
    addr: SocketAddr,
    endpoint: String,
    zones: Vec<ZoneState>,
    running: bool,
    log: Arc<Mutex<MirrorLog>>,
    t0: Instant,
}

/// One mirrored zone and what Knot holds of it.
struct ZoneState {
    zone: MirroredZone,
    /// The zone file last written.
    written: Option<String>,
    /// Whether Knot is configured to sign it.
    signing: bool,
    /// KSK name → Knot key id.
    ksks: BTreeMap<String, String>,
}

/// One zone as a tick reads it: its record sets and its DNSSEC status.
struct Snapshot {
    sets: Vec<ResourceRecordSet>,
    serve_signature: String,
    /// ACTIVE KSKs: name → (public key, DNSKEY record) as `GetDNSSEC` reports them.
    active_ksks: BTreeMap<String, (String, String)>,
}

impl Syncer {
    fn conf(&self) -> PathBuf {
        self.dir.join("knot.conf")
    }

    fn sock(&self) -> PathBuf {
        self.dir.join("knot.sock")
    }

    fn zone_file(&self, zone: &str) -> PathBuf {
        self.dir.join(format!("{zone}.zone"))
    }

    fn event(&self, what: String) {
        let mut l = self.log.lock().unwrap_or_else(|e| e.into_inner());
        l.events
            .push(format!("[{:6.2}s] {what}", self.t0.elapsed().as_secs_f64()));
    }

    fn problem(&self, what: String) {
        self.event(format!("PROBLEM: {what}"));
        let mut l = self.log.lock().unwrap_or_else(|e| e.into_inner());
        l.problems.push(what);
    }

    /// knot.conf: every zone from its file (loaded whole, no journal), signed while fakecloud
    /// signs it, with the keys in the KASP database (manual policy: Knot never generates or
    /// retires a key).
    fn write_conf(&self) {
        let d = self.dir.display();
        let mut conf = format!(
            r#"server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
    pidfile: "{d}/knot.pid"
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
control:
    listen: "{d}/knot.sock"
database:
    storage: "{d}/db"
log:
  - target: "{d}/knotd.log"
    any: info
policy:
  - id: fakecloud
    algorithm: ecdsap256sha256
    manual: on
    cds-cdnskey-publish: none
template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    dnssec-policy: fakecloud
zone:
"#,
            port = self.addr.port(),
        );
        for z in &self.zones {
            conf.push_str(&format!(
                "  - domain: {}.\n    file: \"{}\"\n    dnssec-signing: {}\n",
                z.zone.name,
                self.zone_file(&z.zone.name).display(),
                if z.signing { "on" } else { "off" },
            ));
        }
        std::fs::write(self.conf(), conf).unwrap();
    }

    fn keymgr(&self, zone: &str, args: &[&str]) -> Result<String, String> {
        let out = Command::new("keymgr")
            .arg("-c")
            .arg(self.conf())
            .arg(format!("{zone}."))
            .args(args)
            .output()
            .map_err(|e| format!("cannot run keymgr: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "keymgr {zone} {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn knotc(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new("knotc")
            .arg("-s")
            .arg(self.sock())
            .args(["-t", "20"])
            .args(args)
            .output()
            .map_err(|e| format!("cannot run knotc: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "knotc {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    async fn read(r53: &aws_sdk_route53::Client, zone_id: &str) -> Result<Snapshot, String> {
        let sets = list_all(r53, zone_id).await?;
        let d = r53
            .get_dnssec()
            .hosted_zone_id(zone_id)
            .send()
            .await
            .map_err(|e| format!("GetDNSSEC {zone_id}: {e:?}"))?;
        let serve_signature = d
            .status()
            .and_then(|s| s.serve_signature())
            .unwrap_or("NOT_SIGNING")
            .to_string();
        let active_ksks = d
            .key_signing_keys()
            .iter()
            .filter(|k| k.status() == Some("ACTIVE"))
            .filter_map(|k| {
                Some((
                    k.name()?.to_string(),
                    (
                        k.public_key().unwrap_or_default().to_string(),
                        k.dnskey_record().unwrap_or_default().to_string(),
                    ),
                ))
            })
            .collect();
        Ok(Snapshot {
            sets,
            serve_signature,
            active_ksks,
        })
    }

    /// Brings the KASP database of zone `i` in step with its ACTIVE KSKs; returns whether it
    /// changed.
    fn sync_ksks(&mut self, i: usize, active: &BTreeMap<String, (String, String)>) -> bool {
        let MirroredZone { name: zone, id } = self.zones[i].zone.clone();
        let mut changed = false;
        for (name, (public_key, dnskey_record)) in active {
            if self.zones[i].ksks.contains_key(name) {
                continue;
            }
            let k = fakecloud_ksk(&id, name);
            let want_record = format!("257 3 13 {}", k.public_key);
            if &k.public_key != public_key || dnskey_record.trim() != want_record {
                self.problem(format!(
                    "the key derived for KSK `{name}` of {zone} ({id}) is not the one GetDNSSEC reports: derived `{want_record}`, reported `{dnskey_record}` (public key `{public_key}`)"
                ));
                continue;
            }
            let pem = self.dir.join(format!("{zone}-{name}.pem"));
            std::fs::write(&pem, &k.pem).unwrap();
            let pem_s = pem.to_string_lossy().to_string();
            match self.keymgr(&zone, &["import-pem", &pem_s, "ksk=yes", "zsk=no"]) {
                Ok(out) => {
                    let key_id = out.lines().next().unwrap_or_default().trim().to_string();
                    self.event(format!(
                        "{zone}: KSK `{name}` (fakecloud's key, tag {}) imported as {key_id}",
                        Dnskey::new(257, 13, &k.public_key).key_tag().unwrap_or(0)
                    ));
                    self.log
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .ksks_imported
                        .insert(format!("{zone}/{name}"));
                    self.zones[i].ksks.insert(name.clone(), key_id);
                    changed = true;
                }
                Err(e) => self.problem(e),
            }
        }
        let gone: Vec<(String, String)> = self.zones[i]
            .ksks
            .iter()
            .filter(|(n, _)| !active.contains_key(*n))
            .map(|(n, key_id)| (n.clone(), key_id.clone()))
            .collect();
        for (name, key_id) in gone {
            match self.keymgr(&zone, &["delete", &format!("id={key_id}")]) {
                Ok(_) => self.event(format!(
                    "{zone}: KSK `{name}` no longer ACTIVE, deleted from Knot"
                )),
                Err(e) => self.problem(e),
            }
            self.zones[i].ksks.remove(&name);
            changed = true;
        }
        changed
    }

    /// One read of fakecloud and whatever Knot needs to serve it.
    async fn tick(&mut self, r53: &aws_sdk_route53::Client) {
        let mut snaps = Vec::new();
        for z in &self.zones {
            match Self::read(r53, &z.zone.id).await {
                Ok(s) => snaps.push(s),
                Err(e) => {
                    self.event(format!("read failed (retried): {e}"));
                    self.log
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .read_failures += 1;
                    return;
                }
            }
        }
        let mut reload = vec![false; self.zones.len()];
        let mut conf_changed = false;
        for (i, snap) in snaps.iter().enumerate() {
            reload[i] |= self.sync_ksks(i, &snap.active_ksks);
            let text = zone_text(&snap.sets);
            if self.zones[i].written.as_ref() != Some(&text) {
                std::fs::write(self.zone_file(&self.zones[i].zone.name), &text).unwrap();
                self.zones[i].written = Some(text);
                reload[i] = true;
            }
            let sign = snap.serve_signature == "SIGNING" && !self.zones[i].ksks.is_empty();
            if sign != self.zones[i].signing {
                self.zones[i].signing = sign;
                conf_changed = true;
                reload[i] = true;
                self.event(format!(
                    "{}: GetDNSSEC says {}, served {} from now on",
                    self.zones[i].zone.name,
                    snap.serve_signature,
                    if sign { "signed" } else { "unsigned" }
                ));
            }
        }
        if conf_changed {
            self.write_conf();
            if self.running
                && let Err(e) = self.knotc(&["reload"])
            {
                self.problem(e);
            }
        }
        if self.running {
            for (i, z) in self.zones.iter().enumerate() {
                if reload[i] {
                    let zone = &z.zone.name;
                    match self.knotc(&["-b", "zone-reload", &format!("{zone}.")]) {
                        Ok(()) => self.event(format!("{zone} reloaded")),
                        Err(e) => self.problem(e),
                    }
                }
            }
        }
        self.log.lock().unwrap_or_else(|e| e.into_inner()).syncs += 1;
    }

    fn answers(&self, zone: &str) -> bool {
        !Knot::kdig(self.addr, &["+short", "SOA", &format!("{zone}.")])
            .trim()
            .is_empty()
    }

    fn start_knotd(&mut self) -> Result<Child, String> {
        let child = Command::new("knotd")
            .arg("-c")
            .arg(self.conf())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start knotd: {e}"))?;
        // Stopped by PID when this test process dies without dropping the mirror.
        let me = std::process::id();
        let pid = child.id();
        let dir = self.dir.display();
        let watchdog = format!(
            "setsid bash -c 'while kill -0 {me} 2>/dev/null && [ -d \"{dir}\" ]; do sleep 1; done; [ -d \"{dir}\" ] && kill {pid} 2>/dev/null' </dev/null >/dev/null 2>&1 &"
        );
        let st = Command::new("bash")
            .args(["-c", &watchdog])
            .status()
            .map_err(|e| format!("watchdog: {e}"))?;
        if !st.success() {
            return Err("the watchdog did not start".into());
        }
        self.running = true;
        let t0 = Instant::now();
        while !self.zones.iter().all(|z| self.answers(&z.zone.name)) {
            if t0.elapsed() > Duration::from_secs(20) {
                let log = std::fs::read_to_string(self.dir.join("knotd.log")).unwrap_or_default();
                return Err(format!("knotd does not answer for every zone:\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.event(format!("knotd (pid {pid}) answers on {}", self.addr));
        Ok(child)
    }

    fn run(mut self, stop: Arc<AtomicBool>, ready: mpsc::Sender<Result<(), String>>) {
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready.send(Err(format!("runtime: {e}")));
                return;
            }
        };
        rt.block_on(async move {
            let sdk = sdk_config().await;
            let r53 = aws_sdk_route53::Client::from_conf(
                aws_sdk_route53::config::Builder::from(&sdk)
                    .endpoint_url(&self.endpoint)
                    .build(),
            );
            std::fs::create_dir_all(self.dir.join("db")).unwrap();
            self.write_conf();
            // Route 53 signs with ZSKs of its own; Knot's stand in for them.
            let names: Vec<String> = self.zones.iter().map(|z| z.zone.name.clone()).collect();
            for zone in &names {
                if let Err(e) = self.keymgr(
                    zone,
                    &["generate", "algorithm=ecdsap256sha256", "ksk=no", "zsk=yes"],
                ) {
                    let _ = ready.send(Err(e));
                    return;
                }
            }
            self.tick(&r53).await;
            if self.zones.iter().any(|z| z.written.is_none()) {
                let events = self
                    .log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .events
                    .join("\n");
                let _ = ready.send(Err(format!(
                    "cannot read the zones from fakecloud:\n{events}"
                )));
                return;
            }
            let mut knotd = match self.start_knotd() {
                Ok(c) => c,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(SYNC_EVERY).await;
                self.tick(&r53).await;
            }
            let _ = Command::new("kill").arg(knotd.id().to_string()).status();
            let t0 = Instant::now();
            while matches!(knotd.try_wait(), Ok(None)) {
                if t0.elapsed() > Duration::from_secs(10) {
                    let _ = knotd.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = knotd.wait();
        });
    }
}

/// Every record set of a hosted zone, across pages.
async fn list_all(
    r53: &aws_sdk_route53::Client,
    zone_id: &str,
) -> Result<Vec<ResourceRecordSet>, String> {
    let mut out = Vec::new();
    let (mut name, mut rtype) = (None, None);
    loop {
        let page = r53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .set_start_record_name(name.take())
            .set_start_record_type(rtype.take())
            .send()
            .await
            .map_err(|e| format!("ListResourceRecordSets {zone_id}: {e:?}"))?;
        out.extend(page.resource_record_sets().iter().cloned());
        if !page.is_truncated() {
            return Ok(out);
        }
        name = page.next_record_name().map(str::to_string);
        rtype = page.next_record_type().cloned();
    }
}

/// The zone file of a hosted zone: every record set with a TTL (aliases have none), names
/// absolute (Route 53 treats every name as fully qualified, with or without the final dot).
/// DNSSEC records are left to Knot.
fn zone_text(sets: &[ResourceRecordSet]) -> String {
    let mut lines = Vec::new();
    for s in sets {
        let t = s.r#type().as_str();
        if matches!(t, "DNSKEY" | "RRSIG" | "NSEC" | "NSEC3" | "NSEC3PARAM") {
            continue;
        }
        let Some(ttl) = s.ttl() else { continue };
        for rr in s.resource_records() {
            lines.push(format!("{} {ttl} IN {t} {}", s.name(), rr.value()));
        }
    }
    lines.sort();
    format!("$ORIGIN .\n{}\n", lines.join("\n"))
}

// ---------------------------------------------------------------------------------------------
// Test fixtures

/// `(name, type, TTL, sorted values)` of every record set: what onboarding changes and destroy
/// must give back.
type RecordView = Vec<(String, String, Option<i64>, Vec<String>)>;

async fn record_view(p: &AwsProvider, zone_id: &str) -> RecordView {
    let mut v: RecordView = list_all(p.route53(), zone_id)
        .await
        .unwrap()
        .iter()
        .map(|s| {
            let mut vals: Vec<String> = s
                .resource_records()
                .iter()
                .map(|r| r.value().to_string())
                .collect();
            vals.sort();
            (
                s.name().trim_end_matches('.').to_ascii_lowercase(),
                s.r#type().as_str().to_string(),
                s.ttl(),
                vals,
            )
        })
        .collect();
    v.sort();
    v
}

async fn upsert_records(p: &AwsProvider, zone_id: &str, sets: Vec<ResourceRecordSet>) {
    change_records(p, zone_id, ChangeAction::Upsert, sets).await;
}

async fn get_dnssec(p: &AwsProvider, zone_id: &str) -> GetDnssecOutput {
    p.route53()
        .get_dnssec()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .unwrap()
}

/// The DS records the parent hosted zone holds for `child`, with their TTL.
async fn parent_ds(p: &AwsProvider, parent_id: &str, child: &str) -> (Vec<DsRecord>, Option<i64>) {
    let sets = list_all(p.route53(), parent_id).await.unwrap();
    let Some(s) = sets.iter().find(|s| {
        s.r#type() == &RrType::Ds && s.name().trim_end_matches('.').eq_ignore_ascii_case(child)
    }) else {
        return (Vec::new(), None);
    };
    let mut ds: Vec<DsRecord> = s
        .resource_records()
        .iter()
        .filter_map(|r| DsRecord::parse(r.value()))
        .map(normal_ds)
        .collect();
    ds.sort();
    (ds, s.ttl())
}

/// Digests compared without regard to case.
fn normal_ds(mut d: DsRecord) -> DsRecord {
    d.digest = d.digest.to_ascii_uppercase();
    d
}

/// A parent, a child delegated from it with short TTLs everywhere the waits read them, and a
/// KMS key with the policy Route 53 needs.
struct World {
    p: AwsProvider,
    endpoint: String,
    parent: MirroredZone,
    child: MirroredZone,
    kms_arn: String,
}

/// The TTL every record of the child starts with (and gets back), in seconds.
const ORIGINAL_TTL: i64 = 6;

async fn world(prefix: &str) -> World {
    let endpoint = peer("fakecloud");
    let p = provider(options(&endpoint, None)).await;
    let parent_name = format!("{}.example", unique(prefix));
    let child_name = format!("app.{parent_name}");
    let parent_id = create_zone(&p, &parent_name).await;
    let child_id = create_zone(&p, &child_name).await;
    // The apex SOA (TTL and MINIMUM) and NS at the original TTL too: the unsigned-cache wait is
    // their largest TTL, and the NS TTLs add to the trust wait.
    let ns = [
        "ns-2048.awsdns-64.com.",
        "ns-2049.awsdns-65.net.",
        "ns-2050.awsdns-66.org.",
        "ns-2051.awsdns-67.co.uk.",
    ];
    let soa = format!(
        "ns-2048.awsdns-64.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 {ORIGINAL_TTL}"
    );
    upsert_records(
        &p,
        &child_id,
        vec![
            rrset(
                &format!("{child_name}."),
                RrType::Soa,
                ORIGINAL_TTL,
                &[&soa],
            ),
            rrset(&format!("{child_name}."), RrType::Ns, ORIGINAL_TTL, &ns),
        ],
    )
    .await;
    let mut records = a_records(&child_name, 4, ORIGINAL_TTL);
    records.push(rrset(
        &format!("www.{child_name}."),
        RrType::Txt,
        ORIGINAL_TTL,
        &["\"served by the Knot mirror of fakecloud\""],
    ));
    create_records(&p, &child_id, records).await;
    // The delegation, with a short NS TTL.
    create_records(
        &p,
        &parent_id,
        vec![rrset(&format!("{child_name}."), RrType::Ns, 2, &ns)],
    )
    .await;
    // The parent signs (a DS is only of use under a signed parent), with a KMS key of its own.
    let parent_kms = create_kms_key(&p, Some(kms::example_policy("123456789012"))).await;
    sign_zone(&p, &parent_id, &parent_kms, "parent_ksk").await;
    let kms_arn = create_kms_key(&p, Some(kms::example_policy("123456789012"))).await;
    World {
        p,
        endpoint,
        parent: MirroredZone {
            name: parent_name,
            id: parent_id,
        },
        child: MirroredZone {
            name: child_name,
            id: child_id,
        },
        kms_arn,
    }
}

/// CreateKeySigningKey (ACTIVE) and EnableHostedZoneDNSSEC, as an operator would by hand.
async fn sign_zone(p: &AwsProvider, zone_id: &str, kms_arn: &str, ksk: &str) {
    p.route53()
        .create_key_signing_key()
        .caller_reference(unique("ksk-"))
        .hosted_zone_id(zone_id)
        .key_management_service_arn(kms_arn)
        .name(ksk)
        .status("ACTIVE")
        .send()
        .await
        .expect("CreateKeySigningKey");
    p.route53()
        .enable_hosted_zone_dnssec()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .expect("EnableHostedZoneDNSSEC");
}

/// The probe's verdict on `zone` at the mirror, now.
async fn chain_at(mirror: &Mirror, zone: &str) -> (Chain, String) {
    let r = probe::probe(
        &ZoneName::parse(zone).unwrap(),
        &[mirror.addr],
        &[mirror.addr],
        Timestamp::now(),
    )
    .await
    .expect("probe");
    (r.chain, format!("{:#?}", r.problems))
}

// ---------------------------------------------------------------------------------------------
// Tests

/// The mirror itself, driven by direct API calls: unsigned until fakecloud signs; then signed
/// with exactly the DNSKEY `GetDNSSEC` reports (and a ZSK), and once the DS fakecloud computed is
/// in the parent hosted zone, the chain validates (hickory, through `probe`) and the DS Knot
/// serves in the parent matches the DNSKEY Knot serves in the child (kdig); unsigned again once
/// signing is disabled.
#[tokio::test]
async fn mirror_serves_fakecloud_zones_signed_with_fakecloud_ksk() {
    let w = world("fdm").await;
    let mirror = Mirror::start(&w.endpoint, vec![w.parent.clone(), w.child.clone()]);
    let child = format!("{}.", w.child.name);
    let dnskeys = |m: &Mirror| -> Vec<String> {
        Knot::kdig(m.addr, &["+short", "DNSKEY", &child])
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    };
    // The records as fakecloud holds them, unsigned.
    let a = Knot::kdig(mirror.addr, &["+short", "A", &format!("h00002.{child}")]);
    assert_eq!(a.trim(), "192.0.2.3");
    assert!(dnskeys(&mirror).is_empty());
    assert_eq!(chain_at(&mirror, &w.child.name).await.0, Chain::Insecure);

    // Sign with a KSK: Knot serves fakecloud's DNSKEY.
    let r53 = w.p.route53();
    sign_zone(&w.p, &w.child.id, &w.kms_arn, "mirror_ksk").await;
    let d = r53
        .get_dnssec()
        .hosted_zone_id(&w.child.id)
        .send()
        .await
        .unwrap();
    let ksk = &d.key_signing_keys()[0];
    let reported = ksk.dnskey_record().unwrap().to_string();
    assert_eq!(
        fakecloud_ksk(&w.child.id, "mirror_ksk").public_key,
        ksk.public_key().unwrap(),
        "the derived key is fakecloud's"
    );
    mirror.wait_for("the signed child", Duration::from_secs(15), || {
        dnskeys(&mirror).contains(&reported)
    });
    let served = dnskeys(&mirror);
    assert_eq!(served.len(), 2, "the KSK and Knot's ZSK: {served:?}");
    assert!(
        served.iter().any(|k| k.starts_with("256 3 13 ")),
        "{served:?}"
    );
    // Signed, with no DS yet: still insecure, and every zone server answer verifies.
    let sigs = Knot::kdig(
        mirror.addr,
        &["+dnssec", "+short", "A", &format!("h00002.{child}")],
    );
    assert!(
        sigs.contains("A 13 4 "),
        "an RRSIG over the A record: {sigs}"
    );

    // The DS fakecloud computed, published the way the tool does: the chain is secure.
    let ds_text = ksk.ds_record().unwrap().to_string();
    upsert_records(
        &w.p,
        &w.parent.id,
        vec![rrset(&child, RrType::Ds, 2, &[&ds_text])],
    )
    .await;
    let want = normal_ds(DsRecord::parse(&ds_text).unwrap());
    mirror.wait_for("the DS in the parent", Duration::from_secs(15), || {
        Knot::kdig(mirror.addr, &["+short", "DS", &child])
            .lines()
            .filter_map(DsRecord::parse)
            .map(normal_ds)
            .any(|d| d == want)
    });
    let zone = ZoneName::parse(&w.child.name).unwrap();
    let ksk_served = served
        .iter()
        .find(|k| k.starts_with("257 "))
        .and_then(|k| {
            let f: Vec<&str> = k.splitn(4, ' ').collect();
            Some(Dnskey::new(
                f[0].parse().ok()?,
                f[2].parse().ok()?,
                &f[3].replace(' ', ""),
            ))
        })
        .unwrap();
    assert_eq!(
        normal_ds(ksk_served.to_ds(&zone, DigestType::Sha256).unwrap()),
        want,
        "the DS fakecloud reports is the digest of the DNSKEY Knot serves"
    );
    let (chain, problems) = chain_at(&mirror, &w.child.name).await;
    assert_eq!(chain, Chain::Secure, "{problems}\n{}", mirror.events());

    // Off again: DS out, signing off, the child unsigned.
    delete_ds(&w.p, &w.parent.id, &child, &ds_text).await;
    r53.disable_hosted_zone_dnssec()
        .hosted_zone_id(&w.child.id)
        .send()
        .await
        .expect("DisableHostedZoneDNSSEC");
    mirror.wait_for("the unsigned child", Duration::from_secs(15), || {
        dnskeys(&mirror).is_empty()
    });
    assert_eq!(chain_at(&mirror, &w.child.name).await.0, Chain::Insecure);
    mirror.assert_no_problem();
    let imported = mirror.log().ksks_imported.clone();
    assert!(
        imported.contains(&format!("{}/mirror_ksk", w.child.name)),
        "{imported:?}"
    );
    assert!(
        imported.contains(&format!("{}/parent_ksk", w.parent.name)),
        "{imported:?}"
    );
}

async fn delete_ds(p: &AwsProvider, parent_id: &str, owner: &str, ds: &str) {
    p.route53()
        .change_resource_record_sets()
        .hosted_zone_id(parent_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Delete)
                        .resource_record_set(rrset(owner, RrType::Ds, 2, &[ds]))
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("DELETE DS");
}

/// Issue 5, "Done when": against fakecloud, `apply --auto-approve --wait` takes a zone from
/// unsigned to signed with its DS in the parent zone, and `destroy` takes it back, with the
/// journal and the emulator agreeing at the end — the real binary over HTTP, its live-DNS gates
/// fed by the Knot mirror.
#[tokio::test]
async fn cli_apply_wait_and_destroy_against_fakecloud_with_live_dns() {
    let w = world("fdc").await;
    let before = record_view(&w.p, &w.child.id).await;
    let mirror = Mirror::start(&w.endpoint, vec![w.parent.clone(), w.child.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("dnssec.yaml");
    let state = dir.path().join("state.json");
    let ksk_name = "fakedns_ksk_1";
    std::fs::write(
        &cfg,
        format!(
            r#"version: 1
defaults:
  safety:
    soak: 4s
    propagation_margin: 1s
    allow_short_soak: true
zones:
  - name: {child}
    hosted_zone_id: {child_id}
    ttl: {{ max: 3 }}
    soa: {{ ttl: 3, minimum: 3 }}
    signing:
      enabled: true
      ksks:
        - name: {ksk_name}
          kms_key: {kms}
    trust:
      parent_zone:
        hosted_zone_id: {parent_id}
        ds_ttl: 2
    finally:
      ds_ttl: 3
    dns:
      parent_servers: ["{addr}"]
      zone_servers: ["{addr}"]
"#,
            child = w.child.name,
            child_id = w.child.id,
            kms = w.kms_arn,
            parent_id = w.parent.id,
            addr = mirror.addr,
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let t0 = Instant::now();
        let out = pilot_against(&w.endpoint)
            .arg("-c")
            .arg(&cfg)
            .arg("--state")
            .arg(&state)
            .args(args)
            .output()
            .unwrap();
        let took = t0.elapsed();
        eprintln!("dnssec-pilot {} took {took:.1?}", args.join(" "));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let journal =
        || -> Journal { serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap() };
    let zone = ZoneName::parse(&w.child.name).unwrap();
    let wait = [
        "--auto-approve",
        "--wait",
        "--poll-interval",
        "1s",
        "--max-wait",
        "3m",
    ];

    // ---- apply
    let (code, out, err) = run(&[&["apply"][..], &wait[..]].concat());
    let out = format!("{out}{err}");
    eprintln!("{out}");
    let ctx = |out: &str, err: &str| format!("{out}\n{err}\nmirror:\n{}", mirror.events());
    assert_eq!(code, 0, "{}", ctx(&out, &err));
    assert!(out.contains("Converged at"), "{}", ctx(&out, &err));
    for step in [
        "lower_ttls … ok",
        "lower_soa … ok",
        "create_ksk … ok",
        "enable_signing … ok",
        "publish_ds … ok",
        "raise_ds_ttl … ok",
        "restore_ttls … ok",
    ] {
        assert!(out.contains(step), "missing `{step}`: {}", ctx(&out, &err));
    }
    // The emulator: signing with our KSK, ACTIVE; its DS in the parent hosted zone.
    let d = get_dnssec(&w.p, &w.child.id).await;
    assert_eq!(
        d.status().and_then(|s| s.serve_signature()),
        Some("SIGNING")
    );
    let ksks = d.key_signing_keys();
    assert_eq!(ksks.len(), 1, "{ksks:?}");
    assert_eq!(ksks[0].name(), Some(ksk_name));
    assert_eq!(ksks[0].status(), Some("ACTIVE"));
    assert_eq!(ksks[0].kms_arn(), Some(w.kms_arn.as_str()));
    let ksk_ds = normal_ds(DsRecord::parse(ksks[0].ds_record().unwrap()).unwrap());
    let (ds, ds_ttl) = parent_ds(&w.p, &w.parent.id, &w.child.name).await;
    assert_eq!(ds, vec![ksk_ds.clone()]);
    assert_eq!(ds_ttl, Some(3), "finally.ds_ttl");
    assert_eq!(
        record_view(&w.p, &w.child.id).await,
        before,
        "the original TTLs are back once trusted"
    );
    // The live DNS: the chain validates.
    let (chain, problems) = chain_at(&mirror, &w.child.name).await;
    assert_eq!(chain, Chain::Secure, "{problems}");
    // The journal agrees.
    let j = journal();
    let zj = &j.zones[&zone];
    assert_eq!(zj.direction.map(|d| d.direction), Some(Direction::Onboard));
    for m in [
        Mark::PrepareInsync,
        Mark::SigningInsync,
        Mark::DsSeenEverywhere,
        Mark::TrustEstablished,
    ] {
        assert!(zj.marks.contains_key(&m), "{m:?} missing: {:?}", zj.marks);
    }
    assert!(
        zj.steps
            .iter()
            .all(|s| matches!(&s.outcome, Some(o) if o.result.is_ok())),
        "every step done and ok: {:#?}",
        zj.steps
    );
    let published: Vec<DsRecord> = zj
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::PublishDs { records, .. } => Some(records.iter().cloned().map(normal_ds)),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(
        published,
        vec![ksk_ds.clone()],
        "the DS the journal published"
    );
    assert!(zj.steps.iter().any(|s| matches!(
        &s.action,
        Action::CreateKsk { name, kms_arn } if name == ksk_name && *kms_arn == w.kms_arn
    )));
    let baseline = zj.baseline.as_ref().expect("baseline");
    assert!(!baseline.was_signing);
    assert!(
        baseline
            .record_ttls
            .iter()
            .all(|b| i64::from(b.ttl.0) == ORIGINAL_TTL),
        "{baseline:?}"
    );
    assert_eq!(i64::from(baseline.soa_minimum.0), ORIGINAL_TTL);
    // Nothing left to do: the plan from the journal, the emulator and the live DNS is empty.
    let (code, out, err) = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}\n{err}");

    // ---- destroy
    let (code, out, err) = run(&[&["destroy"][..], &wait[..]].concat());
    let out = format!("{out}{err}");
    eprintln!("{out}");
    assert_eq!(code, 0, "{}", ctx(&out, &err));
    assert!(out.contains("Converged at"), "{}", ctx(&out, &err));
    for step in [
        "remove_ds … ok",
        "disable_signing … ok",
        "deactivate_ksk … ok",
        "delete_ksk … ok",
    ] {
        assert!(out.contains(step), "missing `{step}`: {}", ctx(&out, &err));
    }
    // The emulator: no DS, not signing, no KSK, the original records and TTLs.
    let (ds, _) = parent_ds(&w.p, &w.parent.id, &w.child.name).await;
    assert!(ds.is_empty(), "{ds:?}");
    let d = get_dnssec(&w.p, &w.child.id).await;
    assert_eq!(
        d.status().and_then(|s| s.serve_signature()),
        Some("NOT_SIGNING")
    );
    assert!(
        d.key_signing_keys().is_empty(),
        "{:?}",
        d.key_signing_keys()
    );
    assert_eq!(record_view(&w.p, &w.child.id).await, before);
    // The live DNS: unsigned, insecure.
    assert_eq!(chain_at(&mirror, &w.child.name).await.0, Chain::Insecure);
    // The journal agrees.
    let j = journal();
    let zj = &j.zones[&zone];
    assert_eq!(zj.direction.map(|d| d.direction), Some(Direction::Destroy));
    for m in [Mark::DsGoneEverywhere, Mark::SigningDisabledInsync] {
        assert!(zj.marks.contains_key(&m), "{m:?} missing: {:?}", zj.marks);
    }
    assert_eq!(zj.max_ds_ttl_seen.map(|t| t.0), Some(3));
    let removed: Vec<DsRecord> = zj
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::RemoveDs { records, .. } => Some(records.iter().cloned().map(normal_ds)),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(removed, vec![ksk_ds], "the DS the journal removed");
    assert!(
        zj.steps
            .iter()
            .any(|s| matches!(&s.action, Action::DeleteKsk { name } if name == ksk_name))
    );
    assert!(
        zj.steps
            .iter()
            .all(|s| matches!(&s.outcome, Some(o) if o.result.is_ok())),
        "{:#?}",
        zj.steps
    );
    let (code, out, err) = run(&["plan", "--destroy", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{out}\n{err}");
    mirror.assert_no_problem();
    let imported = mirror.log().ksks_imported.clone();
    assert!(
        imported.contains(&format!("{}/{ksk_name}", w.child.name)),
        "{imported:?}"
    );
    eprintln!("mirror events:\n{}", mirror.events());
}
