//! What an AWS error means for us: whether to retry it (throttling, `PriorRequestNotComplete`,
//! 5xx, timeouts, dropped connections) and, for every documented refusal of Route 53, Route 53
//! Domains and KMS, a message saying what happened and a hint saying what to do
//! ([`ProviderError::Refused`]).

use aws_sdk_route53::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;

use crate::provider::ProviderError;

/// How one failed attempt is to be handled.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Worth another attempt after a back-off (throttling, 5xx, timeouts, I/O). `throttled`:
    /// AWS said "slow down" (the operation's bucket adapts).
    Retry {
        code: String,
        message: String,
        throttled: bool,
    },
    /// The world said no; retrying would not help.
    Final(ProviderError),
}

/// Error codes that mean "slow down": the request rate is above what AWS grants.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "PriorRequestNotComplete",
];

/// Error codes of a passing fault on AWS's side: try again (no slower than now).
const TRANSIENT_CODES: &[&str] = &[
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Classifies one SDK error.
pub(crate) fn classify<E>(
    service: &'static str,
    operation: &str,
    err: SdkError<E, HttpResponse>,
) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let e = se.err();
            let code = e.code().unwrap_or("Unknown").to_string();
            let message = e.message().unwrap_or_default().to_string();
            let throttled = THROTTLING_CODES.contains(&code.as_str()) || status == 429;
            if throttled || TRANSIENT_CODES.contains(&code.as_str()) || status >= 500 {
                Failure::Retry {
                    code,
                    message,
                    throttled,
                }
            } else {
                Failure::Final(refused(service, operation, &code, &message))
            }
        }
        SdkError::TimeoutError(_) => Failure::Retry {
            code: "Timeout".into(),
            message: "the request timed out".into(),
            throttled: false,
        },
        SdkError::DispatchFailure(d) => Failure::Retry {
            code: "DispatchFailure".into(),
            message: format!("{d:?}"),
            throttled: false,
        },
        SdkError::ResponseError(r) => {
            // An unparseable answer: a 5xx HTML page from a proxy, a truncated body.
            let status = r.raw().status().as_u16();
            Failure::Retry {
                code: format!("HTTP {status}"),
                message: "the response could not be read".into(),
                throttled: false,
            }
        }
        SdkError::ConstructionFailure(_) => Failure::Final(ProviderError::Other(format!(
            "{service} {operation}: the request could not be built: {}",
            aws_smithy_types_display(&err)
        ))),
        _ => Failure::Retry {
            code: "Unknown".into(),
            message: aws_smithy_types_display(&err),
            throttled: false,
        },
    }
}

fn aws_smithy_types_display<E: std::error::Error + 'static, R: std::fmt::Debug>(
    err: &SdkError<E, R>,
) -> String {
    use std::error::Error as _;
    let mut s = err.to_string();
    let mut src = err.source();
    while let Some(e) = src {
        s.push_str(": ");
        s.push_str(&e.to_string());
        src = e.source();
    }
    s
}

/// A refusal, with the hint for its code.
pub fn refused(service: &'static str, operation: &str, code: &str, message: &str) -> ProviderError {
    ProviderError::Refused {
        service,
        operation: operation.to_string(),
        code: code.to_string(),
        message: if message.is_empty() {
            "(no message)".into()
        } else {
            message.to_string()
        },
        hint: hint(code).map(str::to_string),
    }
}

/// What to do about each documented error code (Route 53, Route 53 Domains, KMS, IAM).
pub fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        // Route 53 DNSSEC.
        "ConcurrentModification" => {
            "another change to this hosted zone's DNSSEC configuration is in progress; wait until it is INSYNC and run again"
        }
        "DNSSECNotFound" => {
            "DNSSEC signing is not enabled for this hosted zone (nothing to disable); run `plan` again to see the current state"
        }
        "HostedZonePartiallyDelegated" => {
            "the hosted zone is not fully delegated (its parent lists other name servers); fix the NS records at the parent so they match the hosted zone's name servers, then run again"
        }
        "InvalidKeySigningKeyStatus" => {
            "the key-signing key is not in a status that allows this (e.g. it must be INACTIVE before deletion, ACTIVE before signing); run `plan` again and follow its order"
        }
        "InvalidKMSArn" => {
            "Route 53 cannot use this KMS key: it must be in us-east-1, asymmetric ECC_NIST_P256, SIGN_VERIFY, enabled, and its key policy must allow the service principal dnssec-route53.amazonaws.com kms:DescribeKey, kms:GetPublicKey, kms:Sign and kms:CreateGrant"
        }
        "KeySigningKeyWithActiveStatusNotFound" => {
            "signing needs at least one ACTIVE key-signing key in the zone; create or activate a KSK first"
        }
        "KeySigningKeyInParentDSRecord" => {
            "the parent zone still publishes a DS for this key; remove the DS record first, wait for its TTL to expire, then run again"
        }
        "KeySigningKeyInUse" => {
            "the key-signing key is still used for signing; disable signing first (after the DS is gone from the parent and its TTL expired) or add another active KSK"
        }
        "KeySigningKeyAlreadyExists" => {
            "a key-signing key with this name (or this CallerReference) already exists in the zone; pick another name or delete the old key"
        }
        "TooManyKeySigningKeys" => {
            "a hosted zone can have at most two key-signing keys; delete an INACTIVE one first"
        }
        "InvalidSigningStatus" => {
            "the zone's signing status does not allow this; wait for the previous change to finish and run again"
        }
        "InvalidChangeBatch" => {
            "Route 53 rejected the change batch (record values changed since they were observed, or a limit was exceeded); run `plan` again to re-observe"
        }
        "NoSuchHostedZone" => {
            "no hosted zone with this id in this account; check `hosted_zone_id`, `--profile` and the credentials in use"
        }
        "NoSuchKeySigningKey" => {
            "no key-signing key with this name in the zone; run `plan` again to re-observe"
        }
        "NoSuchChange" => {
            "Route 53 no longer knows this change id (changes are kept for a limited time)"
        }
        "NoSuchKeyPolicy" | "NoSuchKMSKey" => {
            "the KMS key or its policy does not exist; check `kms_key`"
        }
        "InvalidInput"
        | "InvalidArgument"
        | "InvalidParameterException"
        | "ValidationException" => {
            "the request was not valid for AWS; this is likely a bug in dnssec-pilot or an unsupported configuration, please report it"
        }
        "InvalidDomainName" => "the domain name is not valid for Route 53",
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
            "the credentials in use lack this permission; `dnssec-pilot iam-policy` prints the least-privilege policy the tool needs"
        }
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "SignatureDoesNotMatch" => {
            "the AWS credentials are missing, invalid or expired; check `--profile`, AWS_PROFILE and `aws sso login`"
        }
        "LimitsExceeded" | "LimitExceededException" => {
            "an AWS quota was reached; request an increase or remove unused resources"
        }
        // Route 53 Domains.
        "DnssecLimitExceeded" => {
            "the registry's limit of DNSSEC keys for this TLD is reached (13 for .com/.net, 4 for most others); remove an unused key at the registrar first"
        }
        "DuplicateRequest" => {
            "this request was already submitted; wait for the pending registrar operation to finish (GetOperationDetail) and run again"
        }
        "TLDRulesViolation" => {
            "the top-level domain's registry does not allow this operation on this domain (e.g. keys of this algorithm); check the TLD's DNSSEC rules"
        }
        "UnsupportedTLD" => {
            "Route 53 Domains does not support DNSSEC for this top-level domain; publish the DS at the registry another way (`registrar: external`)"
        }
        "OperationLimitExceeded" => {
            "too many registrar operations are in progress; wait for the pending ones to finish and run again"
        }
        "DomainLimitExceeded" => "the account's domain limit is reached",
        // KMS.
        "NotFoundException" => "the KMS key does not exist in us-east-1; check `kms_key`",
        "DisabledException" | "KMSInvalidStateException" => {
            "the KMS key is disabled or pending deletion; enable it (or cancel its deletion) and run again"
        }
        _ => return None,
    })
}

/// The error code of a [`ProviderError::Refused`] (for callers that branch on it).
pub fn refused_code(err: &ProviderError) -> Option<&str> {
    match err {
        ProviderError::Refused { code, .. } => Some(code.as_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_a_hint() {
        for code in [
            "ConcurrentModification",
            "DNSSECNotFound",
            "HostedZonePartiallyDelegated",
            "InvalidKeySigningKeyStatus",
            "InvalidKMSArn",
            "KeySigningKeyWithActiveStatusNotFound",
            "KeySigningKeyInParentDSRecord",
            "KeySigningKeyInUse",
            "TooManyKeySigningKeys",
            "InvalidSigningStatus",
            "InvalidChangeBatch",
            "DnssecLimitExceeded",
            "DuplicateRequest",
            "TLDRulesViolation",
            "UnsupportedTLD",
            "KeySigningKeyAlreadyExists",
            "NoSuchHostedZone",
        ] {
            assert!(hint(code).is_some(), "{code}");
        }
        assert!(hint("SomethingElse").is_none());
    }
}
