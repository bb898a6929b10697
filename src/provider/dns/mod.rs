//! Live DNS observation (issue 6): what the real DNS answers, server by server, the way BIND's
//! checkds and Knot's submission checks decide it. Per parent server: the DS RRset and its TTL,
//! and the delegation NS TTL from the referral's authority section. Per zone server: the DNSKEY
//! RRset with RRSIGs, SOA and NS with RRSIGs, verified (RFC 4035 §5), and a signed denial of
//! existence (NSEC, RFC 4034 §4; NSEC3, RFC 5155). Every result carries its server, the time and a
//! typed error. All servers are asked concurrently, under a concurrency limit.
//!
//! Submodules: [`transport`] (UDP/TCP with EDNS0 and DO), [`verify`] (RRSIG and DS checks),
//! [`discover`] (finding the servers), [`denial`] (NSEC/NSEC3 proofs), [`probe`] (the `probe`
//! command's report, chain verdict and table).

pub mod denial;
pub mod discover;
pub mod observe;
pub mod probe;
pub mod transport;
pub mod verify;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use observe::{DnsObserver, ParentDetail, ZoneDetail};
pub use probe::{
    Chain, DnskeyReport, DsReport, ParentServerReport, ProbeReport, ZoneServerReport, probe,
    probe_with, render_table, run_probe_command,
};
pub use transport::QueryOptions;

use crate::model::Timestamp;

/// Where time comes from, so that tests can pin it (signature windows depend on it).
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that always says the same instant.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Observer settings.
#[derive(Clone, Debug)]
pub struct ObserverConfig {
    /// Per-question transport settings (timeout, retries). RD is forced off for authoritative
    /// servers and on for the resolvers used by discovery.
    pub query: QueryOptions,
    /// How many servers are asked at once.
    pub concurrency: usize,
    /// Signatures are accepted this long outside their validity window (seed: one hour).
    pub clock_skew: Duration,
    /// The resolver configuration used to discover the parent's servers.
    pub resolv_conf: PathBuf,
    /// Also ask every zone server for a name that does not exist and check its signed denial.
    pub check_denial: bool,
    /// The port of the resolvers in `resolv_conf` and of discovered name servers (53; tests
    /// that run servers on other ports change it).
    pub port: u16,
}

impl Default for ObserverConfig {
    fn default() -> Self {
        ObserverConfig {
            query: QueryOptions::default(),
            concurrency: 32,
            clock_skew: Duration::from_secs(3600),
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            check_denial: true,
            port: 53,
        }
    }
}

/// A server to ask: its address and how to call it in reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `ns1.example.net/192.0.2.1:53`, or the bare address when the name is not known.
    pub label: String,
    pub addr: SocketAddr,
}

impl Target {
    pub fn addr(addr: SocketAddr) -> Self {
        Target {
            label: addr.to_string(),
            addr,
        }
    }
    pub fn named(name: &str, addr: SocketAddr) -> Self {
        Target {
            label: format!("{}/{addr}", name.trim_end_matches('.')),
            addr,
        }
    }
}

/// The servers of one zone and its parent, as discovered or given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Servers {
    pub parent: Vec<Target>,
    pub zone: Vec<Target>,
}

/// Errors of the `probe` command before any server is asked.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DnsError {
    #[error("`{text}` is not a zone name: {reason}")]
    #[diagnostic(code(dnssec_pilot::dns::bad_zone))]
    BadZone { text: String, reason: String },
    #[error("`{0}` is not a server address")]
    #[diagnostic(
        code(dnssec_pilot::dns::bad_server),
        help(
            "write an IP address with an optional port: 192.0.2.1, 192.0.2.1:5301, [2001:db8::1]:53"
        )
    )]
    BadServer(String),
    #[error("cannot start the DNS runtime: {0}")]
    #[diagnostic(code(dnssec_pilot::dns::runtime))]
    Runtime(String),
    #[error("cannot render the report: {0}")]
    #[diagnostic(code(dnssec_pilot::dns::render))]
    Render(String),
}

/// Parses `ADDR[:PORT]` (`192.0.2.1`, `192.0.2.1:5301`, `2001:db8::1`, `[2001:db8::1]:53`);
/// the port defaults to 53.
pub fn parse_server(text: &str) -> Result<SocketAddr, DnsError> {
    let t = text.trim();
    if let Ok(sa) = t.parse::<SocketAddr>() {
        return Ok(sa);
    }
    let bare = t.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| DnsError::BadServer(text.to_string()))
}

/// Runs `f` for every item with at most `limit` running at once; results in input order.
pub(crate) async fn run_bounded<I, T, F, Fut>(items: Vec<I>, limit: usize, f: F) -> Vec<Option<T>>
where
    I: Send + 'static,
    T: Send + 'static,
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let sem = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    let mut handles = Vec::with_capacity(items.len());
    for item in items {
        let fut = f(item);
        let sem = Arc::clone(&sem);
        handles.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            fut.await
        }));
    }
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.ok());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn server_addresses() {
        assert_eq!(
            parse_server("192.0.2.1").unwrap(),
            "192.0.2.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("192.0.2.1:5301").unwrap(),
            "192.0.2.1:5301".parse().unwrap()
        );
        assert_eq!(
            parse_server("2001:db8::1").unwrap(),
            "[2001:db8::1]:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("[2001:db8::1]").unwrap(),
            "[2001:db8::1]:53".parse().unwrap()
        );
        assert_eq!(
            parse_server("[::1]:5301").unwrap(),
            "[::1]:5301".parse().unwrap()
        );
        assert!(parse_server("ns1.example.net").is_err());
        assert!(parse_server("192.0.2.1:99999").is_err());
    }

    proptest! {
        /// No input makes the argument and resolv.conf parsers panic.
        #[test]
        fn parsers_never_panic(s in ".{0,64}") {
            let _ = parse_server(&s);
            let _ = discover::parse_resolv_conf(&s, 53);
        }

        /// RRSIG times always land within ±2^31 s of now (RFC 1982 serial arithmetic).
        #[test]
        fn rrsig_time_is_nearest(field in any::<u32>(), now in 0i64..8_000_000_000) {
            let n = Timestamp::from_second(now).unwrap();
            let t = verify::rrsig_time(field, n).as_second();
            prop_assert!((t - now).abs() <= i64::from(i32::MAX) + 1);
            prop_assert_eq!(t.rem_euclid(1 << 32), i64::from(field));
        }
    }
}
