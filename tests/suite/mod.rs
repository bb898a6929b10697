//! Integration-test modules, one per area.

mod aws;
mod check;
mod config;
mod dns;
mod engine;
mod plan;
mod sandbox;
mod schemas;
