//! Server discovery when the configuration does not name the servers: the parent zone's NS
//! RRset and their addresses come from the recursive resolvers in `resolv.conf` (RFC 1034 §5.3.1);
//! the zone's own servers come from the parent's referral (NS names and glue, RFC 1034 §4.2.1),
//! with addresses that came without glue looked up through the resolvers.

use std::net::{IpAddr, SocketAddr};

use hickory_proto::rr::{Name, RData, RecordType};

use super::observe::{DnsObserver, probe_err, to_name};
use super::transport;
use super::{Servers, Target};
use crate::config::DnsOverride;
use crate::model::ZoneName;
use crate::state::{ProbeError, ProbeErrorKind};

/// The `nameserver` lines of a resolv.conf (at `port`, normally 53), in order.
pub fn parse_resolv_conf(text: &str, port: u16) -> Vec<SocketAddr> {
    text.lines()
        .map(|l| l.split(['#', ';']).next().unwrap_or("").trim())
        .filter_map(|l| l.strip_prefix("nameserver"))
        .filter_map(|rest| {
            let ip = rest.trim().split('%').next()?;
            ip.parse::<IpAddr>().ok()
        })
        .map(|ip| SocketAddr::new(ip, port))
        .collect()
}

async fn resolvers(obs: &DnsObserver) -> Result<Vec<SocketAddr>, ProbeError> {
    let text = tokio::fs::read_to_string(&obs.cfg.resolv_conf)
        .await
        .map_err(|e| {
            probe_err(
                ProbeErrorKind::Network,
                format!("cannot read {}: {e}", obs.cfg.resolv_conf.display()),
            )
        })?;
    let list = parse_resolv_conf(&text, obs.cfg.port);
    if list.is_empty() {
        return Err(probe_err(
            ProbeErrorKind::Network,
            format!("{} names no resolver", obs.cfg.resolv_conf.display()),
        ));
    }
    Ok(list)
}

/// One recursive question, tried at each resolver in turn.
async fn recursive(
    obs: &DnsObserver,
    resolvers: &[SocketAddr],
    name: &Name,
    rtype: RecordType,
) -> Result<hickory_proto::op::Message, ProbeError> {
    let mut opts = obs.cfg.query;
    opts.recursion_desired = true;
    let mut last = probe_err(ProbeErrorKind::Network, "no resolver");
    for r in resolvers {
        match transport::query(*r, name, rtype, opts).await {
            Ok(a) => {
                use hickory_proto::op::ResponseCode;
                match a.message.metadata.response_code {
                    ResponseCode::NoError | ResponseCode::NXDomain => return Ok(a.message),
                    other => {
                        last = probe_err(
                            ProbeErrorKind::ServFail,
                            format!("resolver {r} answered {other} to {name} {rtype}"),
                        )
                    }
                }
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The addresses of a host name, through the resolvers (A and AAAA).
async fn addresses(obs: &DnsObserver, resolvers: &[SocketAddr], host: &Name) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for t in [RecordType::A, RecordType::AAAA] {
        if let Ok(m) = recursive(obs, resolvers, host, t).await {
            for r in &m.answers {
                match &r.data {
                    RData::A(a) => out.push(IpAddr::V4(a.0)),
                    RData::AAAA(a) => out.push(IpAddr::V6(a.0)),
                    _ => {}
                }
            }
        }
    }
    out
}

/// The servers to ask about `zone`: the override's where given, the rest discovered.
pub async fn servers(
    obs: &DnsObserver,
    zone: &ZoneName,
    over: &DnsOverride,
) -> Result<Servers, ProbeError> {
    let mut out = Servers {
        parent: over
            .parent_servers
            .iter()
            .copied()
            .map(Target::addr)
            .collect(),
        zone: over
            .zone_servers
            .iter()
            .copied()
            .map(Target::addr)
            .collect(),
    };
    if out.parent.is_empty() {
        let parent = zone.parent().ok_or_else(|| {
            probe_err(
                ProbeErrorKind::Malformed,
                format!("{zone} has no parent zone"),
            )
        })?;
        let res = resolvers(obs).await?;
        let pname = to_name(&parent)?;
        let m = recursive(obs, &res, &pname, RecordType::NS).await?;
        let hosts: Vec<Name> = m
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::NS(n) if r.name.eq_ignore_root(&pname) => Some(n.0.clone()),
                _ => None,
            })
            .collect();
        if hosts.is_empty() {
            return Err(probe_err(
                ProbeErrorKind::Lame,
                format!("the resolvers know no name servers for {parent}"),
            ));
        }
        // The hosts' addresses, all looked up at once (a TLD has up to 13 servers).
        let me = obs.clone();
        let res2 = res.clone();
        let found = super::run_bounded(hosts.clone(), obs.cfg.concurrency, move |h: Name| {
            let me = me.clone();
            let res = res2.clone();
            async move { addresses(&me, &res, &h).await }
        })
        .await;
        for (h, ips) in hosts.iter().zip(found) {
            for ip in ips.unwrap_or_default() {
                out.parent.push(Target::named(
                    &h.to_ascii(),
                    SocketAddr::new(ip, obs.cfg.port),
                ));
            }
        }
        if out.parent.is_empty() {
            return Err(probe_err(
                ProbeErrorKind::Network,
                format!("no address found for any name server of {parent}"),
            ));
        }
    }
    if out.zone.is_empty() {
        // The zone's servers from the first parent server that gives a referral.
        let mut last = probe_err(ProbeErrorKind::Network, "no parent server answered");
        for p in &out.parent {
            match obs.parent_detail(zone, p.addr).await {
                Ok(d) if !d.referral.is_empty() => {
                    let port = obs.cfg.port;
                    let mut res: Option<Vec<SocketAddr>> = None;
                    for (host, glue) in d.referral {
                        let ips = if glue.is_empty() {
                            if res.is_none() {
                                res = Some(resolvers(obs).await.unwrap_or_default());
                            }
                            let Ok(hn) = Name::from_ascii(&host) else {
                                continue;
                            };
                            addresses(obs, res.as_deref().unwrap_or(&[]), &hn).await
                        } else {
                            glue
                        };
                        for ip in ips {
                            out.zone
                                .push(Target::named(&host, SocketAddr::new(ip, port)));
                        }
                    }
                    break;
                }
                Ok(_) => {
                    last = probe_err(
                        ProbeErrorKind::Lame,
                        format!("{} gave no referral for {zone}", p.label),
                    )
                }
                Err(e) => last = e,
            }
        }
        if out.zone.is_empty() {
            return Err(last);
        }
    }
    Ok(out)
}

/// Addresses for name servers known by name (e.g. the four Route 53 assigned to a hosted zone),
/// looked up through the resolvers of `resolv.conf`, all at once. A name that resolves to
/// nothing is an error: a server that cannot be asked must not silently drop out of the
/// "at every server" gates.
pub async fn targets_for_names(
    obs: &DnsObserver,
    names: &[String],
) -> Result<Vec<Target>, ProbeError> {
    let res = resolvers(obs).await?;
    let mut hosts = Vec::with_capacity(names.len());
    for n in names {
        let fq = if n.ends_with('.') {
            n.clone()
        } else {
            format!("{n}.")
        };
        hosts.push(Name::from_ascii(&fq).map_err(|e| {
            probe_err(
                ProbeErrorKind::Malformed,
                format!("`{n}` is not a host name: {e}"),
            )
        })?);
    }
    let me = obs.clone();
    let found = super::run_bounded(hosts.clone(), obs.cfg.concurrency, move |h: Name| {
        let me = me.clone();
        let res = res.clone();
        async move { addresses(&me, &res, &h).await }
    })
    .await;
    let mut out = Vec::new();
    for (h, ips) in hosts.iter().zip(found) {
        let ips = ips.unwrap_or_default();
        if ips.is_empty() {
            return Err(probe_err(
                ProbeErrorKind::Network,
                format!("no address found for name server {h}"),
            ));
        }
        for ip in ips {
            out.push(Target::named(
                &h.to_ascii(),
                SocketAddr::new(ip, obs.cfg.port),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_lines() {
        let t = "# comment\nsearch example.com\nnameserver 10.0.0.1\nnameserver fe80::1%eth0 # x\nnameserver bogus\noptions ndots:2\n";
        let v = parse_resolv_conf(t, 53);
        assert_eq!(
            v,
            vec![
                "10.0.0.1:53".parse::<SocketAddr>().unwrap(),
                "[fe80::1]:53".parse::<SocketAddr>().unwrap()
            ]
        );
    }
}
