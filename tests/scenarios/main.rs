//! Scenarios against the fake GitHub and real servers, in one test binary (one build of the
//! shared fake and helpers): the App, the webhook server and its queue, crashes, setup,
//! metrics, checks, verification, the deploy manifests and the fixer's command line.

#[path = "../common/mod.rs"]
mod common;

mod app_checks;
mod app_scenarios;
mod config_app;
mod crash;
mod deploy;
mod fake_github;
mod fix_cli;
mod fix_corpus;
mod hostile_input;
mod metrics;
mod queue;
mod redelivery;
mod server;
mod setup;
mod verify;
mod verify_after_merge;
