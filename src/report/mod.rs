//! Rendering results for people and machines.

pub mod explain;
pub mod inventory;
pub mod location;
pub mod sarif;
pub mod scan;
