//! The model: what Flux / Kustomize / Argo CD apply from a repo (`apply`), and what Envoy
//! Gateway will do with it (`eg`). Pure functions of the loaded documents; no I/O.

pub mod apply;
pub mod eg;
pub mod resource;

pub use resource::{Applied, AppliedSet, NotAnalysed, Origin, Resource, ResourceKey};
