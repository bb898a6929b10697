//! Integration-test modules, one per area.

mod aws;
mod check;
mod config;
mod dns;
mod engine;
mod fakedns;
mod plan;
mod safety;
mod sandbox;
mod schemas;
mod ux;
