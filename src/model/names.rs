//! [`ZoneName`]: a DNS name in canonical form (lower case, no trailing dot), validated against the
//! length rules of RFC 1035 §2.3.4 and the label syntax hosted zones accept.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A fully qualified domain name, stored lower case without the trailing dot (`example.com`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct ZoneName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the name is empty")]
    Empty,
    #[error("the name is {0} octets long; DNS allows at most 253 (RFC 1035 §2.3.4)")]
    TooLong(usize),
    #[error("label `{0}` is longer than 63 octets (RFC 1035 §2.3.4)")]
    LabelTooLong(String),
    #[error("the name has an empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    #[error("label `{0}` has a character other than letters, digits, `-` and `_`")]
    BadChar(String),
    #[error("label `{0}` starts or ends with `-`")]
    Hyphen(String),
    #[error("a zone needs at least two labels (`example.com`), not a top-level domain alone")]
    SingleLabel,
}

impl ZoneName {
    /// Parses and canonicalises a name: one trailing dot is accepted and dropped; case is folded.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let t = text.trim();
        let t = t.strip_suffix('.').unwrap_or(t);
        if t.is_empty() {
            return Err(NameError::Empty);
        }
        if t.len() > 253 {
            return Err(NameError::TooLong(t.len()));
        }
        for label in t.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if label.len() > 63 {
                return Err(NameError::LabelTooLong(label.to_string()));
            }
            if !label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(NameError::BadChar(label.to_string()));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(NameError::Hyphen(label.to_string()));
            }
        }
        Ok(ZoneName(t.to_ascii_lowercase()))
    }

    /// Like [`ZoneName::parse`] but also demands at least two labels (a registrable zone).
    pub fn parse_zone(text: &str) -> Result<Self, NameError> {
        let n = Self::parse(text)?;
        if n.label_count() < 2 {
            return Err(NameError::SingleLabel);
        }
        Ok(n)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name with its trailing dot, as DNS tools print it.
    pub fn fqdn(&self) -> String {
        format!("{}.", self.0)
    }

    pub fn label_count(&self) -> usize {
        self.0.split('.').count()
    }

    /// The top-level domain (`com` for `www.example.com`).
    pub fn tld(&self) -> &str {
        self.0.rsplit('.').next().unwrap_or(&self.0)
    }

    /// The name one label up (`example.com` for `www.example.com`); `None` for a TLD.
    pub fn parent(&self) -> Option<ZoneName> {
        self.0
            .split_once('.')
            .map(|(_, rest)| ZoneName(rest.to_string()))
    }

    /// Whether `self` is `other` or lies below it.
    pub fn is_subdomain_of(&self, other: &ZoneName) -> bool {
        self.0 == other.0 || self.0.ends_with(&format!(".{}", other.0))
    }
}

impl fmt::Display for ZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ZoneName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for ZoneName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ZoneName::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form() {
        let n = ZoneName::parse("WWW.Example.COM.").unwrap();
        assert_eq!(n.as_str(), "www.example.com");
        assert_eq!(n.parent().unwrap().as_str(), "example.com");
        assert_eq!(n.tld(), "com");
        assert!(n.is_subdomain_of(&ZoneName::parse("example.com").unwrap()));
        assert!(
            !ZoneName::parse("notexample.com")
                .unwrap()
                .is_subdomain_of(&ZoneName::parse("example.com").unwrap())
        );
        assert!(ZoneName::parse("a..b").is_err());
        assert!(ZoneName::parse_zone("com").is_err());
        assert!(ZoneName::parse("-a.com").is_err());
    }
}
