//! The loader, the model, the rules, the command line and the documentation, in one test
//! binary (one link instead of one per file): everything that needs no fake GitHub.

mod eg_support;

mod apply;
mod catalogue;
mod cli;
mod config;
mod eg_alpn;
mod eg_hostile;
mod eg_install;
mod eg_upgrade;
mod egw_cases;
mod events;
mod explain;
mod fuzz_regressions;
mod loader_hostile;
mod loader_spans;
mod readme;
mod reference_docs;
mod rules_corpus;
mod rules_fixtures;
mod scan;
