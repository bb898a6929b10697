//! DNSSEC key material: DNSKEY RDATA ([`Dnskey`]), delegation signer records ([`DsRecord`]), the
//! key tag of RFC 4034 Appendix B and the DS digest of RFC 4034 §5.1.4 (SHA-256 per RFC 4509,
//! SHA-384 per RFC 6605 §2). Route 53 signs with algorithm 13 (ECDSAP256SHA256, RFC 6605) and
//! publishes digest type 2 (SHA-256).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha384};

use super::ZoneName;

/// The mnemonic of a DNSSEC algorithm number from the IANA "DNS Security Algorithm Numbers"
/// registry, or `None` for an unassigned number.
pub fn algorithm_name(alg: u8) -> Option<&'static str> {
    Some(match alg {
        1 => "RSAMD5",
        3 => "DSA",
        5 => "RSASHA1",
        6 => "DSA-NSEC3-SHA1",
        7 => "RSASHA1-NSEC3-SHA1",
        8 => "RSASHA256",
        10 => "RSASHA512",
        12 => "ECC-GOST",
        13 => "ECDSAP256SHA256",
        14 => "ECDSAP384SHA384",
        15 => "ED25519",
        16 => "ED448",
        17 => "SM2SM3",
        23 => "ECC-GOST12",
        252 => "INDIRECT",
        253 => "PRIVATEDNS",
        254 => "PRIVATEOID",
        _ => return None,
    })
}

/// DS digest algorithms (IANA "Delegation Signer (DS) Resource Record Digest Algorithms").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestType {
    /// 2: SHA-256 (RFC 4509). What Route 53 publishes.
    Sha256,
    /// 4: SHA-384 (RFC 6605 §2).
    Sha384,
}

impl DigestType {
    pub fn number(self) -> u8 {
        match self {
            DigestType::Sha256 => 2,
            DigestType::Sha384 => 4,
        }
    }
    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            2 => Some(DigestType::Sha256),
            4 => Some(DigestType::Sha384),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the public key is not valid base64: {0}")]
    Base64(String),
    #[error("digest type {0} is not supported (use 2 for SHA-256 or 4 for SHA-384)")]
    DigestType(u8),
}

/// The RDATA of a DNSKEY record (RFC 4034 §2.1): flags, protocol (always 3), algorithm and the
/// public key in base64 as it is written in zone files and in Route 53's `GetDNSSEC` answer.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct Dnskey {
    pub flags: u16,
    pub protocol: u8,
    pub algorithm: u8,
    /// Base64, without white space.
    pub public_key: String,
}

impl Dnskey {
    pub fn new(flags: u16, algorithm: u8, public_key: &str) -> Self {
        Dnskey {
            flags,
            protocol: 3,
            algorithm,
            public_key: public_key.split_whitespace().collect(),
        }
    }

    /// Secure Entry Point bit (RFC 4034 §2.1.1): set on key-signing keys (flags 257).
    pub fn is_sep(&self) -> bool {
        self.flags & 0x0001 != 0
    }

    /// Zone Key bit (RFC 4034 §2.1.1): must be set for a key that signs zone data.
    pub fn is_zone_key(&self) -> bool {
        self.flags & 0x0100 != 0
    }

    pub fn key_bytes(&self) -> Result<Vec<u8>, KeyError> {
        B64.decode(self.public_key.as_bytes())
            .map_err(|e| KeyError::Base64(e.to_string()))
    }

    /// The DNSKEY RDATA in wire format (RFC 4034 §2.2).
    pub fn rdata(&self) -> Result<Vec<u8>, KeyError> {
        let key = self.key_bytes()?;
        let mut out = Vec::with_capacity(4 + key.len());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.push(self.protocol);
        out.push(self.algorithm);
        out.extend_from_slice(&key);
        Ok(out)
    }

    /// The key tag of RFC 4034 Appendix B (the ones'-complement-like checksum over the RDATA;
    /// algorithm 1 uses the special rule of Appendix B.1).
    pub fn key_tag(&self) -> Result<u16, KeyError> {
        let rdata = self.rdata()?;
        if self.algorithm == 1 {
            // RFC 4034 B.1: the most significant 16 of the least significant 24 bits of the modulus.
            let n = rdata.len();
            if n < 4 {
                return Ok(0);
            }
            return Ok(u16::from_be_bytes([rdata[n - 3], rdata[n - 2]]));
        }
        let mut ac: u32 = 0;
        for (i, b) in rdata.iter().enumerate() {
            ac += if i & 1 == 1 {
                u32::from(*b)
            } else {
                u32::from(*b) << 8
            };
        }
        ac += (ac >> 16) & 0xFFFF;
        Ok((ac & 0xFFFF) as u16)
    }

    /// The DS record that points at this key from the parent (RFC 4034 §5.1.4):
    /// `digest = H(owner name in canonical wire form | DNSKEY RDATA)`.
    pub fn to_ds(&self, owner: &ZoneName, digest: DigestType) -> Result<DsRecord, KeyError> {
        let mut data = wire_name(owner);
        data.extend_from_slice(&self.rdata()?);
        let hex = match digest {
            DigestType::Sha256 => hex_upper(&Sha256::digest(&data)),
            DigestType::Sha384 => hex_upper(&Sha384::digest(&data)),
        };
        Ok(DsRecord {
            key_tag: self.key_tag()?,
            algorithm: self.algorithm,
            digest_type: digest.number(),
            digest: hex,
        })
    }

    /// Whether `ds` is a delegation signer for this key at `owner`: same key tag, algorithm and
    /// digest (recomputed with the DS's digest type).
    pub fn matches(&self, owner: &ZoneName, ds: &DsRecord) -> bool {
        let Some(dt) = DigestType::from_number(ds.digest_type) else {
            return false;
        };
        match self.to_ds(owner, dt) {
            Ok(mine) => {
                mine.key_tag == ds.key_tag
                    && mine.algorithm == ds.algorithm
                    && mine.digest.eq_ignore_ascii_case(&ds.digest)
            }
            Err(_) => false,
        }
    }
}

impl fmt::Display for Dnskey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.flags, self.protocol, self.algorithm, self.public_key
        )
    }
}

/// A DS record's RDATA (RFC 4034 §5.1). The digest is upper-case hex.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct DsRecord {
    pub key_tag: u16,
    pub algorithm: u8,
    pub digest_type: u8,
    pub digest: String,
}

impl DsRecord {
    /// Parses the presentation form Route 53 returns in `DSRecord`: `"60485 13 2 D4B7…"`.
    pub fn parse(text: &str) -> Option<DsRecord> {
        let mut it = text.split_whitespace();
        let key_tag = it.next()?.parse().ok()?;
        let algorithm = it.next()?.parse().ok()?;
        let digest_type = it.next()?.parse().ok()?;
        let digest: String = it.collect::<String>().to_ascii_uppercase();
        if digest.is_empty() || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        Some(DsRecord {
            key_tag,
            algorithm,
            digest_type,
            digest,
        })
    }
}

impl fmt::Display for DsRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.key_tag, self.algorithm, self.digest_type, self.digest
        )
    }
}

/// A name in canonical (lower-case, uncompressed) wire form (RFC 4034 §6.2).
fn wire_name(name: &ZoneName) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.as_str().len() + 2);
    for label in name.as_str().split('.') {
        out.push(label.len() as u8);
        out.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
    }
    out.push(0);
    out
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02X}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4509 §2.3: the SHA-256 DS of the RFC 4034 §5.4 example key, key tag 60485.
    #[test]
    fn rfc4509_sha256_vector() {
        let key = Dnskey::new(
            256,
            5,
            "AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==",
        );
        let owner = ZoneName::parse("dskey.example.com").unwrap();
        let ds = key.to_ds(&owner, DigestType::Sha256).unwrap();
        assert_eq!(ds.key_tag, 60485);
        assert_eq!(
            ds.digest,
            "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A"
        );
        assert!(key.matches(&owner, &ds));
    }

    /// RFC 6605 §6.1: an ECDSAP256SHA256 KSK and its SHA-256 DS.
    #[test]
    fn rfc6605_p256_vector() {
        let key = Dnskey::new(
            257,
            13,
            "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
        );
        let owner = ZoneName::parse("example.net").unwrap();
        let ds = key.to_ds(&owner, DigestType::Sha256).unwrap();
        assert_eq!(ds.key_tag, 55648);
        assert_eq!(
            ds.digest,
            "B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17"
        );
        assert_eq!(key.key_bytes().unwrap().len(), 64);
        let parsed = DsRecord::parse(
            "55648 13 2 b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17",
        )
        .unwrap();
        assert!(key.matches(&owner, &parsed));
        assert!(!key.matches(&ZoneName::parse("example.org").unwrap(), &parsed));
    }
}
