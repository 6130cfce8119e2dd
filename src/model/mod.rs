//! The model: what Flux / Kustomize / Argo CD apply from a repo (`apply`), and what Envoy
//! Gateway will do with it (`eg`). Pure functions of the loaded documents; no I/O.

pub mod apply;
pub mod eg;
pub mod resource;

pub use resource::{Applied, AppliedSet, NotAnalysed, Origin, Resource, ResourceKey};

use crate::catalogue::Catalogue;
use crate::config::RepoConfig;
use crate::load::Loaded;

/// What a repo applies, and Envoy Gateway's view of each applied set (one per entry point).
pub fn build(
    loaded: &Loaded,
    catalogue: &Catalogue,
    config: &RepoConfig,
) -> (Applied, Vec<eg::Model>) {
    let applied = apply::apply(loaded);
    let models = applied
        .sets
        .iter()
        .map(|set| eg::build(set, catalogue, config))
        .collect();
    (applied, models)
}
