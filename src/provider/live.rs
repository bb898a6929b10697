//! The provider users run against real accounts: the AWS APIs (Route 53, Route 53 Domains,
//! KMS) for everything an API knows, and the live DNS, server by server, for what the gates must
//! see with their own eyes (DS at every parent server, DNSKEY and signatures at every zone
//! server). Zone servers are Route 53's name servers for the hosted zone unless the config's
//! `dns:` override names others; parent servers are discovered (or overridden).

use std::io::IsTerminal as _;

use crate::config::DnsOverride;
use crate::model::{ActionRequest, ActionResult, Secs, Timestamp, ZoneName};
use crate::provider::aws::AwsProvider;
use crate::provider::dns::{DnsObserver, ObserverConfig};
use crate::provider::{Provider, ProviderError};
use crate::state::{LiveObs, Observed, Scope};

pub struct LiveAws {
    pub aws: AwsProvider,
    pub dns: DnsObserver,
}

impl LiveAws {
    pub fn new(aws: AwsProvider) -> Self {
        LiveAws {
            aws,
            dns: DnsObserver::new(ObserverConfig::default()),
        }
    }

    async fn live(&self, zone: &ZoneName, over: &DnsOverride, route53_ns: &[String]) -> LiveObs {
        let mut servers = match self.dns.servers(zone, over).await {
            Ok(s) => s,
            Err(_) => return self.dns.observe_live(zone, over).await,
        };
        if over.zone_servers.is_empty()
            && !route53_ns.is_empty()
            && let Ok(t) = self.dns.targets_for_names(route53_ns).await
            && !t.is_empty()
        {
            servers.zone = t;
        }
        self.dns.observe_live_targets(zone, &servers).await
    }
}

/// Zones probed at once over the live DNS (each probe asks every server of the zone and of its
/// parent in parallel already); bounded so a fleet does not open thousands of sockets.
const LIVE_CONCURRENCY: usize = 16;

impl Provider for LiveAws {
    async fn observe(&self, scope: &Scope) -> Result<Observed, ProviderError> {
        use futures_util::stream::{self, StreamExt as _};

        let mut obs = self.aws.observe_api(scope).await?;
        // What to probe: (zone or domain, overrides, Route 53 name servers), zones first.
        let mut targets: Vec<(bool, ZoneName, &DnsOverride, Vec<String>)> = Vec::new();
        for z in &scope.zones {
            let Some(zo) = obs.zones.get(&z.name) else {
                continue;
            };
            let ns: Vec<String> = zo
                .hosted_zone
                .as_ref()
                .map(|h| h.name_servers.clone())
                .unwrap_or_default();
            targets.push((true, z.name.clone(), &z.dns, ns));
        }
        for d in &scope.domains {
            if obs.domains.contains_key(&d.name) {
                targets.push((false, d.name.clone(), &d.dns, Vec::new()));
            }
        }
        let results: Vec<(bool, ZoneName, LiveObs)> = stream::iter(targets)
            .map(|(is_zone, name, over, ns)| async move {
                let live = self.live(&name, over, &ns).await;
                (is_zone, name, live)
            })
            .buffer_unordered(LIVE_CONCURRENCY)
            .collect()
            .await;
        for (is_zone, name, live) in results {
            if is_zone {
                if let Some(z) = obs.zones.get_mut(&name) {
                    z.live = live;
                }
            } else if let Some(d) = obs.domains.get_mut(&name) {
                d.live = live;
            }
        }
        Ok(obs)
    }

    async fn execute(&self, req: &ActionRequest) -> Result<ActionResult, ProviderError> {
        self.aws.execute(req).await
    }

    fn now(&self) -> Timestamp {
        self.aws.now()
    }

    /// Sleeps until `t`, with a countdown on a terminal.
    async fn wait_until(&self, t: Timestamp) -> Result<(), ProviderError> {
        let now = self.now();
        let total = Secs::between(now, t).0;
        if total == 0 {
            return Ok(());
        }
        let bar = if std::io::stderr().is_terminal() {
            let b = indicatif::ProgressBar::new(total);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("  waiting {bar:30} {msg} left")
            {
                b.set_style(style);
            }
            Some(b)
        } else {
            None
        };
        loop {
            let now = self.now();
            if now >= t {
                break;
            }
            let left = Secs::between(now, t);
            if let Some(b) = &bar {
                b.set_position(total - left.0.min(total));
                b.set_message(left.human());
            }
            let step = Secs(left.0.min(30));
            self.aws.wait_until(step.after(now)).await?;
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(())
    }

    fn poll_interval(&self) -> Secs {
        self.aws.poll_interval()
    }
}
