//! ws-fix: finds Envoy Gateway configuration that breaks WebSocket apps in GitOps repos.
//!
//! The library holds all logic; `src/main.rs` is a thin command-line front end.
//! See `ARCHITECTURE.md` for the layers and the invariants.

pub mod app;
pub mod catalogue;
pub mod commands;
pub mod config;
pub mod events;
pub mod findings;
pub mod fix;
pub mod git;
pub mod github;
pub mod load;
pub mod metrics;
pub mod model;
pub mod probe;
pub mod queue;
pub mod reference;
pub mod report;
pub mod rules;
pub mod scan;
pub mod server;
pub mod setup;
pub mod snapshot;
pub mod workspace;
pub mod yaml;
