//! Time as the planner sees it: [`Timestamp`] (an instant, passed in — never read from a clock
//! here), [`Secs`] (a duration written `10m`, `14d`, `3600s`) and [`Ttl`] (a DNS TTL in seconds).

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An instant. Re-exported so that every module agrees on one type.
pub type Timestamp = jiff::Timestamp;

/// Route 53 caps the TTL of every record in a signed zone at one week (seed 000, step 3:
/// "Route 53 limits the TTL to 1 week for signed zones").
pub const MAX_SIGNED_TTL: Ttl = Ttl(604_800);

/// A DNS time-to-live in seconds (RFC 2181 §8: an unsigned 31-bit value).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Ttl(pub u32);

impl Ttl {
    pub fn secs(self) -> Secs {
        Secs(u64::from(self.0))
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} s", self.0)
    }
}

/// A duration in whole seconds. Written in the YAML as a number followed by a unit:
/// `s`, `m`, `h`, `d` or `w` (`3600s`, `10m`, `14d`); a bare integer means seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Secs(pub u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("`{0}` is not a duration")]
    Invalid(String),
    #[error("unknown unit `{unit}` in `{text}`")]
    Unit { text: String, unit: String },
    #[error("`{0}` is too large")]
    Overflow(String),
}

impl Secs {
    pub const fn minutes(m: u64) -> Self {
        Secs(m * 60)
    }
    pub const fn hours(h: u64) -> Self {
        Secs(h * 3600)
    }
    pub const fn days(d: u64) -> Self {
        Secs(d * 86_400)
    }
    /// This duration as a `jiff` span usable for timestamp arithmetic.
    pub fn to_signed(self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_secs(i64::try_from(self.0).unwrap_or(i64::MAX))
    }
    /// `t + self`, saturating at the largest representable instant.
    pub fn after(self, t: Timestamp) -> Timestamp {
        t.checked_add(self.to_signed()).unwrap_or(Timestamp::MAX)
    }
    /// The shortest exact rendering: `14d`, `10m`, `90s`, `1h30m` is rendered as `5400s`.
    pub fn render(self) -> String {
        let s = self.0;
        if s == 0 {
            return "0s".into();
        }
        for (unit, n) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60)] {
            if s.is_multiple_of(n) {
                return format!("{}{unit}", s / n);
            }
        }
        format!("{s}s")
    }
    /// A human description: `1d 2h`, `10m`, `45s`.
    pub fn human(self) -> String {
        let mut s = self.0;
        if s == 0 {
            return "0s".into();
        }
        let mut parts = Vec::new();
        for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if s >= n {
                parts.push(format!("{}{unit}", s / n));
                s %= n;
            }
            if parts.len() == 2 {
                break;
            }
        }
        parts.join(" ")
    }
    /// Seconds between two instants, zero when `to` is not after `from`.
    pub fn between(from: Timestamp, to: Timestamp) -> Secs {
        let d = to.as_second() - from.as_second();
        Secs(u64::try_from(d).unwrap_or(0))
    }
}

impl FromStr for Secs {
    type Err = DurationError;

    /// `90`, `10m`, `14d`, and compounds of unit-suffixed parts: `3d10m`, `1d 2h` (the form
    /// `human` prints), `1h30m`. A bare integer (seconds) stands alone.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DurationError::Empty);
        }
        let mut total: u64 = 0;
        let mut rest = t;
        let mut parts = 0;
        while !rest.is_empty() {
            let split = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let (num, after) = rest.split_at(split);
            if num.is_empty() {
                return Err(DurationError::Invalid(text.to_string()));
            }
            let n: u64 = num
                .parse()
                .map_err(|_| DurationError::Overflow(text.to_string()))?;
            let unit_len = after
                .find(|c: char| c.is_ascii_digit() || c == ' ')
                .unwrap_or(after.len());
            let (unit, after) = after.split_at(unit_len);
            let mult: u64 = match unit {
                "" if parts == 0 && after.is_empty() => 1,
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                "w" => 604_800,
                "" => return Err(DurationError::Invalid(text.to_string())),
                other => {
                    return Err(DurationError::Unit {
                        text: text.to_string(),
                        unit: other.to_string(),
                    });
                }
            };
            total = n
                .checked_mul(mult)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| DurationError::Overflow(text.to_string()))?;
            parts += 1;
            rest = after.strip_prefix(' ').unwrap_or(after);
        }
        Ok(Secs(total))
    }
}

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl Serialize for Secs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.render())
    }
}

impl<'de> Deserialize<'de> for Secs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Secs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `10m`, `14d` or `3600s`")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secs, E> {
                Ok(Secs(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secs, E> {
                u64::try_from(v)
                    .map(Secs)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secs, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Secs {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: a whole number followed by `s`, `m`, `h`, `d` or `w` (e.g. `10m`, `14d`, `3600s`), or several such parts (`3d10m`, `1d 2h`); a bare integer is seconds.",
            "oneOf": [
                { "type": "string", "pattern": "^(?:[0-9]+|(?:[0-9]+[smhdw] ?)*[0-9]+[smhdw])$" },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_render() {
        assert_eq!("10m".parse::<Secs>(), Ok(Secs(600)));
        assert_eq!("14d".parse::<Secs>(), Ok(Secs(14 * 86_400)));
        assert_eq!("3600s".parse::<Secs>(), Ok(Secs(3600)));
        assert_eq!("42".parse::<Secs>(), Ok(Secs(42)));
        assert!("10y".parse::<Secs>().is_err());
        // Compounds: what `human` prints parses back.
        assert_eq!("3d10m".parse::<Secs>(), Ok(Secs(3 * 86_400 + 600)));
        assert_eq!("1d 2h".parse::<Secs>(), Ok(Secs(86_400 + 7200)));
        assert_eq!("1h30m".parse::<Secs>(), Ok(Secs(5400)));
        for s in [1u64, 59, 61, 3600, 90_061, 14 * 86_400 + 3600, 1_000_000] {
            let h = Secs(s).human();
            let back: Secs = h.parse().unwrap_or(Secs(0));
            // `human` keeps the two largest units: exact when there are at most two.
            assert!(back.0 <= s && s - back.0 < 3600, "{s} -> {h} -> {}", back.0);
        }
        assert!("10 m".parse::<Secs>().is_err());
        assert!("3d10".parse::<Secs>().is_err());
        assert!("3d  10m".parse::<Secs>().is_err());
        assert!("d3".parse::<Secs>().is_err());
        assert!("m".parse::<Secs>().is_err());
        assert!("99999999999999999999d".parse::<Secs>().is_err());
        assert_eq!(Secs(14 * 86_400).render(), "2w");
        assert_eq!(Secs(600).render(), "10m");
        assert_eq!(Secs(5400).render(), "90m");
        assert_eq!(Secs(90_061).human(), "1d 1h");
    }
}
