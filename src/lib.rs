//! ws-fix: finds Envoy Gateway configuration that breaks WebSocket apps in GitOps repos.
//!
//! The library holds all logic; `src/main.rs` is a thin command-line front end.
//! See `ARCHITECTURE.md` for the layers and the invariants.

pub mod catalogue;
pub mod config;
pub mod findings;
pub mod fix;
pub mod git;
pub mod load;
pub mod model;
pub mod report;
pub mod rules;
pub mod scan;
pub mod snapshot;
pub mod workspace;
pub mod yaml;
