//! Benchmark (issue 6): probe 13 parent servers and 4 zone servers — many listeners of real Knot
//! DNS servers on loopback, started by tests/peers/knot.sh — all concurrently, and compare the
//! total time with the slowest single server's probe (that server asked alone). Target: total
//! ≤ 1.5× slowest.
//!
//! Two runs: (1) straight to the loopback listeners, where a probe costs well under a millisecond
//! of network time and the figure measures CPU (2 shared cores); (2) through a UDP relay per
//! listener that delays each datagram by a per-server round-trip time between 5 and 65 ms, as
//! real root/TLD/provider servers are — the case the concurrency is for.
//!
//! Run: `cargo run --release --example bench_probe` (needs Knot DNS; the script installs it).

#[path = "../tests/knot/fixture.rs"]
mod fixture;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dnssec_pilot::model::ZoneName;
use dnssec_pilot::provider::dns::{
    Chain, DnsObserver, ObserverConfig, Servers, Target, probe_with,
};
use tokio::net::UdpSocket;

const ROUNDS: usize = 9;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A UDP relay in front of `upstream` that adds `rtt` to every exchange (half each way).
async fn delaying_relay(upstream: SocketAddr, rtt: Duration) -> std::io::Result<SocketAddr> {
    let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
    let addr = front.local_addr()?;
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, client)) = front.recv_from(&mut buf).await else {
                return;
            };
            let query = buf[..n].to_vec();
            let front = Arc::clone(&front);
            tokio::spawn(async move {
                tokio::time::sleep(rtt / 2).await;
                let Ok(up) = UdpSocket::bind("127.0.0.1:0").await else {
                    return;
                };
                if up.send_to(&query, upstream).await.is_err() {
                    return;
                }
                let mut b = vec![0u8; 4096];
                let Ok(Ok((m, _))) =
                    tokio::time::timeout(Duration::from_secs(2), up.recv_from(&mut b)).await
                else {
                    return;
                };
                tokio::time::sleep(rtt / 2).await;
                let _ = front.send_to(&b[..m], client).await;
            });
        }
    });
    Ok(addr)
}

async fn measure(
    obs: &DnsObserver,
    zone: &ZoneName,
    parents: &[SocketAddr],
    zones: &[SocketAddr],
) -> (Duration, Duration) {
    let servers = Servers {
        parent: parents.iter().copied().map(Target::addr).collect(),
        zone: zones.iter().copied().map(Target::addr).collect(),
    };
    // Warm-up, and a check that the probe is real.
    let r = probe_with(obs, zone, &servers).await;
    assert_eq!(r.chain, Chain::Secure, "{:?}", r.problems);
    let mut totals = Vec::new();
    let mut slowest = Vec::new();
    for _ in 0..ROUNDS {
        // Every server alone, one after the other: the slowest single server's probe.
        let mut worst = Duration::ZERO;
        for p in parents {
            let t = Instant::now();
            assert!(obs.parent_detail(zone, *p).await.is_ok());
            worst = worst.max(t.elapsed());
        }
        for z in zones {
            let t = Instant::now();
            assert!(obs.zone_detail(zone, *z).await.is_ok());
            worst = worst.max(t.elapsed());
        }
        slowest.push(worst);
        // All 17 at once.
        let t = Instant::now();
        let r = probe_with(obs, zone, &servers).await;
        totals.push(t.elapsed());
        assert_eq!(r.parent_servers.len() + r.zone_servers.len(), 17);
        assert!(r.parent_servers.iter().all(|p| p.error.is_none()));
        assert!(r.zone_servers.iter().all(|z| z.error.is_none()));
    }
    (median(totals), median(slowest))
}

fn report(title: &str, (total, slowest): (Duration, Duration)) {
    let ratio = total.as_secs_f64() / slowest.as_secs_f64();
    println!("{title}");
    println!(
        "  slowest single server probe : {:>8.2} ms",
        slowest.as_secs_f64() * 1e3
    );
    println!(
        "  all 17 servers concurrently : {:>8.2} ms",
        total.as_secs_f64() * 1e3
    );
    println!("  ratio total / slowest       : {ratio:>8.2}  (target <= 1.5)");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let knot = fixture::Knot::start(12, 3);
    let parents: Vec<SocketAddr> = std::iter::once(knot.parent)
        .chain(knot.parent_extra.iter().copied())
        .collect();
    let zones: Vec<SocketAddr> = std::iter::once(knot.child)
        .chain(knot.child_extra.iter().copied())
        .collect();
    assert_eq!((parents.len(), zones.len()), (13, 4));
    let zone = ZoneName::parse("stable.test")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let obs = DnsObserver::new(ObserverConfig::default());

    let direct = rt.block_on(measure(&obs, &zone, &parents, &zones));
    let relayed = rt.block_on(async {
        let mut rp = Vec::new();
        let mut rz = Vec::new();
        for (i, p) in parents.iter().enumerate() {
            let rtt = Duration::from_millis(5 + 5 * i as u64); // 5..65 ms
            rp.push(delaying_relay(*p, rtt).await?);
        }
        for (i, z) in zones.iter().enumerate() {
            let rtt = Duration::from_millis(10 + 15 * i as u64); // 10..55 ms
            rz.push(delaying_relay(*z, rtt).await?);
        }
        Ok::<_, std::io::Error>(measure(&obs, &zone, &rp, &rz).await)
    })?;
    println!("probe of {zone}: 13 parent servers + 4 zone servers, {ROUNDS} rounds (medians)");
    report("loopback, no added latency (CPU-bound):", direct);
    report("per-server round trips of 5-65 ms (UDP relay):", relayed);
    knot.stop();
    Ok(())
}
