//! dnssec-pilot: a Terraform-style planner that takes Route 53 domains onto DNSSEC and off it
//! again without ever making them unresolvable. See DESIGN.md for the map; each module's `//!`
//! paragraph says what it owns. Dependencies point downwards:
//! cli → engine, check, render → plan → config, state → model; provider → state, model.

pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub mod model;
pub mod plan;
pub mod provider;
pub mod render;
pub mod state;
