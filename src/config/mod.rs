//! Desired state: the YAML file's types, loading with spans (serde-saphyr), the validation rules
//! with their stable `DP…` codes, and the validated [`Desired`] the planner consumes.

mod desired;

pub use desired::{
    Desired, DnsOverride, DomainSpec, Finally, KskSpec, RegistrarKeySpec, Safety, Signing, Trust,
    ZoneSpec, registrar_key_limit,
};
