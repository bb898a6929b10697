//! Route 53 record sets ⇄ [`RecordSetObs`]: names in canonical form, alias records (no TTL),
//! the routing attributes kept in `provider_data` so a TTL-only UPSERT writes the set back
//! unchanged but for its TTL, and the SOA's TTL and MINIMUM field (RFC 1035 §3.3.13,
//! RFC 2308 §4).

use aws_sdk_route53::types::{
    AliasTarget, CidrRoutingConfig, Coordinates, GeoLocation, GeoProximityLocation, ResourceRecord,
    ResourceRecordSet, ResourceRecordSetFailover, ResourceRecordSetRegion, RrType,
};
use serde::{Deserialize, Serialize};

use crate::model::{Dnskey, DsRecord, Ttl};
use crate::provider::ProviderError;
use crate::state::{RecordSetObs, SoaObs};

/// Everything of a record set but its name, type, set identifier, TTL and values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_location: Option<[Option<String>; 3]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_value_answer: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy_instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<[String; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_proximity: Option<GeoProx>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Alias>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoProx {
    pub aws_region: Option<String>,
    pub local_zone_group: Option<String>,
    pub coordinates: Option<[String; 2]>,
    pub bias: Option<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub hosted_zone_id: String,
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

/// A name as Route 53 writes it (`\052.example.com.`) in canonical form (`*.example.com`).
pub fn canonical_name(name: &str) -> String {
    name.trim_end_matches('.')
        .replace("\\052", "*")
        .to_ascii_lowercase()
}

/// A canonical name as a fully qualified Route 53 name.
pub fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

pub fn to_obs(r: &ResourceRecordSet) -> RecordSetObs {
    let routing = Routing {
        weight: r.weight(),
        region: r.region().map(|x| x.as_str().to_string()),
        geo_location: r.geo_location().map(|g| {
            [
                g.continent_code().map(str::to_string),
                g.country_code().map(str::to_string),
                g.subdivision_code().map(str::to_string),
            ]
        }),
        failover: r.failover().map(|x| x.as_str().to_string()),
        multi_value_answer: r.multi_value_answer(),
        health_check_id: r.health_check_id().map(str::to_string),
        traffic_policy_instance_id: r.traffic_policy_instance_id().map(str::to_string),
        cidr: r
            .cidr_routing_config()
            .map(|c| [c.collection_id().to_string(), c.location_name().to_string()]),
        geo_proximity: r.geo_proximity_location().map(|g| GeoProx {
            aws_region: g.aws_region().map(str::to_string),
            local_zone_group: g.local_zone_group().map(str::to_string),
            coordinates: g
                .coordinates()
                .map(|c| [c.latitude().to_string(), c.longitude().to_string()]),
            bias: g.bias(),
        }),
        alias: r.alias_target().map(|a| Alias {
            hosted_zone_id: a.hosted_zone_id().to_string(),
            dns_name: a.dns_name().to_string(),
            evaluate_target_health: a.evaluate_target_health(),
        }),
    };
    let provider_data = if routing == Routing::default() {
        None
    } else {
        serde_json::to_value(&routing).ok()
    };
    RecordSetObs {
        name: canonical_name(r.name()),
        rtype: r.r#type().as_str().to_string(),
        set_identifier: r.set_identifier().map(str::to_string),
        ttl: if r.alias_target().is_some() {
            None
        } else {
            r.ttl()
                .map(|t| Ttl(u32::try_from(t.max(0)).unwrap_or(u32::MAX)))
        },
        values: r
            .resource_records()
            .iter()
            .map(|v| v.value().to_string())
            .collect(),
        provider_data,
    }
}

fn invalid(what: impl std::fmt::Display) -> ProviderError {
    ProviderError::Other(format!("cannot build the Route 53 record set: {what}"))
}

/// The record set `obs` with TTL `ttl` (or its own when `None`), ready for an UPSERT/DELETE.
pub fn to_sdk(obs: &RecordSetObs, ttl: Option<Ttl>) -> Result<ResourceRecordSet, ProviderError> {
    let routing: Routing = match &obs.provider_data {
        Some(v) => serde_json::from_value(v.clone()).map_err(invalid)?,
        None => Routing::default(),
    };
    let mut b = ResourceRecordSet::builder()
        .name(fqdn(&obs.name))
        .r#type(RrType::from(obs.rtype.as_str()))
        .set_set_identifier(obs.set_identifier.clone())
        .set_weight(routing.weight)
        .set_region(routing.region.as_deref().map(ResourceRecordSetRegion::from))
        .set_failover(
            routing
                .failover
                .as_deref()
                .map(ResourceRecordSetFailover::from),
        )
        .set_multi_value_answer(routing.multi_value_answer)
        .set_health_check_id(routing.health_check_id.clone());
    if let Some([c, k, s]) = &routing.geo_location {
        b = b.geo_location(
            GeoLocation::builder()
                .set_continent_code(c.clone())
                .set_country_code(k.clone())
                .set_subdivision_code(s.clone())
                .build(),
        );
    }
    if let Some([c, l]) = &routing.cidr {
        b = b.cidr_routing_config(
            CidrRoutingConfig::builder()
                .collection_id(c)
                .location_name(l)
                .build()
                .map_err(invalid)?,
        );
    }
    if let Some(g) = &routing.geo_proximity {
        let coords = match &g.coordinates {
            Some([lat, lon]) => Some(
                Coordinates::builder()
                    .latitude(lat)
                    .longitude(lon)
                    .build()
                    .map_err(invalid)?,
            ),
            None => None,
        };
        b = b.geo_proximity_location(
            GeoProximityLocation::builder()
                .set_aws_region(g.aws_region.clone())
                .set_local_zone_group(g.local_zone_group.clone())
                .set_coordinates(coords)
                .set_bias(g.bias)
                .build(),
        );
    }
    if let Some(a) = &routing.alias {
        b = b.alias_target(
            AliasTarget::builder()
                .hosted_zone_id(&a.hosted_zone_id)
                .dns_name(&a.dns_name)
                .evaluate_target_health(a.evaluate_target_health)
                .build()
                .map_err(invalid)?,
        );
    } else {
        let ttl = ttl.or(obs.ttl).unwrap_or(Ttl(300));
        b = b.ttl(i64::from(ttl.0));
        for v in &obs.values {
            b = b.resource_records(
                ResourceRecord::builder()
                    .value(v)
                    .build()
                    .map_err(invalid)?,
            );
        }
    }
    b.build().map_err(invalid)
}

/// The SOA's TTL and MINIMUM field (the 7th field of the RDATA, RFC 1035 §3.3.13).
pub fn parse_soa(r: &ResourceRecordSet) -> Option<SoaObs> {
    let ttl = Ttl(u32::try_from(r.ttl()?).ok()?);
    let value = r.resource_records().first()?.value();
    let minimum = soa_fields(value)?.6.parse().ok()?;
    Some(SoaObs {
        ttl,
        minimum: Ttl(minimum),
    })
}

type SoaFields<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

fn soa_fields(value: &str) -> Option<SoaFields<'_>> {
    let f: Vec<&str> = value.split_whitespace().collect();
    if f.len() != 7 {
        return None;
    }
    Some((f[0], f[1], f[2], f[3], f[4], f[5], f[6]))
}

/// The SOA value with its MINIMUM field replaced.
pub fn soa_with_minimum(value: &str, minimum: Ttl) -> Option<String> {
    let (m, r, serial, refresh, retry, expire, _) = soa_fields(value)?;
    Some(format!(
        "{m} {r} {serial} {refresh} {retry} {expire} {}",
        minimum.0
    ))
}

/// A DNSKEY from Route 53's `DNSKEYRecord` (`257 3 13 <base64>`), or from the KSK's separate
/// fields when the record is absent (RFC 4034 §2.2 presentation format).
pub fn parse_dnskey(
    record: Option<&str>,
    flag: i32,
    algorithm: i32,
    public_key: Option<&str>,
) -> Option<Dnskey> {
    if let Some(rec) = record {
        let mut it = rec.split_whitespace();
        let flags = it.next()?.parse().ok()?;
        let protocol: u8 = it.next()?.parse().ok()?;
        let alg = it.next()?.parse().ok()?;
        let key: String = it.collect();
        if !key.is_empty() {
            let mut k = Dnskey::new(flags, alg, &key);
            k.protocol = protocol;
            return Some(k);
        }
    }
    Some(Dnskey::new(
        u16::try_from(flag).ok()?,
        u8::try_from(algorithm).ok()?,
        public_key?,
    ))
}

/// DS records from a DS record set's values.
pub fn parse_ds_values(values: &[String]) -> Vec<DsRecord> {
    values.iter().filter_map(|v| DsRecord::parse(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soa_parse_and_rewrite() {
        let r = ResourceRecordSet::builder()
            .name("example.com.")
            .r#type(RrType::Soa)
            .ttl(900)
            .resource_records(
                ResourceRecord::builder()
                    .value(
                        "ns-1.awsdns-1.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
                    )
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert_eq!(
            parse_soa(&r),
            Some(SoaObs {
                ttl: Ttl(900),
                minimum: Ttl(86400)
            })
        );
        assert_eq!(
            soa_with_minimum(r.resource_records()[0].value(), Ttl(300)).unwrap(),
            "ns-1.awsdns-1.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 300"
        );
    }

    #[test]
    fn alias_round_trip_has_no_ttl() {
        let r = ResourceRecordSet::builder()
            .name("\\052.Example.com.")
            .r#type(RrType::A)
            .set_identifier("eu")
            .weight(10)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id("Z2FDTNDATAQYW2")
                    .dns_name("d1.cloudfront.net.")
                    .evaluate_target_health(false)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let o = to_obs(&r);
        assert_eq!(o.name, "*.example.com");
        assert_eq!(o.ttl, None);
        assert!(o.values.is_empty());
        let back = to_sdk(&o, None).unwrap();
        assert_eq!(back.alias_target(), r.alias_target());
        assert_eq!(back.weight(), Some(10));
        assert_eq!(back.ttl(), None);
    }

    #[test]
    fn plain_round_trip_changes_only_ttl() {
        let r = ResourceRecordSet::builder()
            .name("www.example.com.")
            .r#type(RrType::Txt)
            .ttl(86400)
            .resource_records(ResourceRecord::builder().value("\"a b\"").build().unwrap())
            .build()
            .unwrap();
        let o = to_obs(&r);
        assert_eq!(o.provider_data, None);
        let back = to_sdk(&o, Some(Ttl(3600))).unwrap();
        assert_eq!(back.ttl(), Some(3600));
        assert_eq!(back.resource_records(), r.resource_records());
        assert_eq!(back.name(), "www.example.com.");
    }

    #[test]
    fn dnskey_from_record_or_fields() {
        let k = parse_dnskey(Some("257 3 13 abc= def="), 0, 0, None).unwrap();
        assert_eq!(
            (k.flags, k.algorithm, k.public_key.as_str()),
            (257, 13, "abc=def=")
        );
        let k = parse_dnskey(None, 257, 13, Some("xyz=")).unwrap();
        assert_eq!(k.public_key, "xyz=");
    }
}
