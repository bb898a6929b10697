//! KMS pre-flight of a key-signing key's key, before `CreateKeySigningKey` (which would
//! otherwise fail with a bare `InvalidKMSArn`): the key exists, is enabled, lives in us-east-1,
//! is `ECC_NIST_P256` / `SIGN_VERIFY`, and its key policy lets the service principal
//! `dnssec-route53.amazonaws.com` call `kms:DescribeKey`, `kms:GetPublicKey`, `kms:Sign` and
//! `kms:CreateGrant` (the Route 53 developer guide, "Customer managed key policy for DNSSEC").

use serde_json::Value;

/// The service principal Route 53 signs with.
pub const DNSSEC_PRINCIPAL: &str = "dnssec-route53.amazonaws.com";

/// The actions the key policy must allow the principal.
pub const REQUIRED_ACTIONS: &[&str] = &[
    "kms:DescribeKey",
    "kms:GetPublicKey",
    "kms:Sign",
    "kms:CreateGrant",
];

/// What DescribeKey said, reduced to what matters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyFacts {
    pub arn: String,
    pub enabled: bool,
    pub key_state: String,
    pub key_spec: String,
    pub key_usage: String,
}

/// Every problem with the key, in words; empty when it is fit for DNSSEC signing.
pub fn problems(facts: &KeyFacts, policy: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let region = facts.arn.split(':').nth(3).unwrap_or("");
    if region != "us-east-1" {
        out.push(format!(
            "the key is in region `{region}`; DNSSEC keys must be in us-east-1"
        ));
    }
    if !facts.enabled || facts.key_state != "Enabled" {
        out.push(format!(
            "the key is not enabled (state {})",
            if facts.key_state.is_empty() {
                "unknown"
            } else {
                &facts.key_state
            }
        ));
    }
    if facts.key_spec != "ECC_NIST_P256" {
        out.push(format!(
            "the key spec is {}; it must be ECC_NIST_P256",
            facts.key_spec
        ));
    }
    if facts.key_usage != "SIGN_VERIFY" {
        out.push(format!(
            "the key usage is {}; it must be SIGN_VERIFY",
            facts.key_usage
        ));
    }
    if let Some(policy) = policy {
        let missing = missing_grants(policy);
        if !missing.is_empty() {
            out.push(format!(
                "the key policy does not allow {DNSSEC_PRINCIPAL} {}",
                missing.join(", ")
            ));
        }
    }
    out
}

/// The required actions the policy does not allow the DNSSEC principal.
pub fn missing_grants(policy: &str) -> Vec<&'static str> {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return REQUIRED_ACTIONS.to_vec();
    };
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    let allowed = |action: &str| {
        statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && principal_matches(s.get("Principal"))
                && strings(s.get("Action"))
                    .iter()
                    .any(|pat| glob(&pat.to_ascii_lowercase(), &action.to_ascii_lowercase()))
        })
    };
    let denied = |action: &str| {
        statements.iter().any(|s| {
            s.get("Effect").and_then(Value::as_str) == Some("Deny")
                && s.get("Condition").is_none()
                && principal_matches(s.get("Principal"))
                && strings(s.get("Action"))
                    .iter()
                    .any(|pat| glob(&pat.to_ascii_lowercase(), &action.to_ascii_lowercase()))
        })
    };
    REQUIRED_ACTIONS
        .iter()
        .copied()
        .filter(|a| !allowed(a) || denied(a))
        .collect()
}

fn principal_matches(p: Option<&Value>) -> bool {
    match p {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => {
            m.get("Service")
                .map(|v| strings(Some(v)).iter().any(|s| s == DNSSEC_PRINCIPAL))
                .unwrap_or(false)
                || m.get("AWS")
                    .map(|v| strings(Some(v)).iter().any(|s| s == "*"))
                    .unwrap_or(false)
        }
        _ => false,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM action globbing: `*` matches any run of characters, `?` one character.
fn glob(pat: &str, s: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// A key policy that lets Route 53 DNSSEC use the key (the developer guide's example), with the
/// account root keeping full control. Used by tests and suggested in error hints.
pub fn example_policy(account: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "Allow Route 53 DNSSEC Service",
                "Effect": "Allow",
                "Principal": { "Service": DNSSEC_PRINCIPAL },
                "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"],
                "Resource": "*",
                "Condition": { "StringEquals": { "aws:SourceAccount": account } }
            },
            {
                "Sid": "Allow Route 53 DNSSEC to CreateGrant",
                "Effect": "Allow",
                "Principal": { "Service": DNSSEC_PRINCIPAL },
                "Action": ["kms:CreateGrant"],
                "Resource": "*",
                "Condition": { "Bool": { "kms:GrantIsForAWSResource": true } }
            }
        ]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> KeyFacts {
        KeyFacts {
            arn: "arn:aws:kms:us-east-1:111122223333:key/abc".into(),
            enabled: true,
            key_state: "Enabled".into(),
            key_spec: "ECC_NIST_P256".into(),
            key_usage: "SIGN_VERIFY".into(),
        }
    }

    #[test]
    fn example_policy_passes() {
        assert!(problems(&good(), Some(&example_policy("111122223333"))).is_empty());
    }

    #[test]
    fn default_policy_misses_everything() {
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"kms:*","Resource":"*"}]}"#;
        assert_eq!(missing_grants(p), REQUIRED_ACTIONS.to_vec());
    }

    #[test]
    fn wildcards_and_partial() {
        let p = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["dnssec-route53.amazonaws.com"]},"Action":["kms:Get*","kms:Sign"]}}"#;
        assert_eq!(
            missing_grants(p),
            vec!["kms:DescribeKey", "kms:CreateGrant"]
        );
    }

    #[test]
    fn wrong_region_spec_usage() {
        let f = KeyFacts {
            arn: "arn:aws:kms:eu-west-1:1:key/x".into(),
            enabled: false,
            key_state: "Disabled".into(),
            key_spec: "RSA_2048".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
        };
        let p = problems(&f, None);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].contains("eu-west-1"));
    }
}
