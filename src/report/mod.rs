//! Rendering results for people and machines.

pub mod explain;
pub mod fix;
pub mod inventory;
pub mod location;
pub mod pr;
pub mod sarif;
pub mod scan;
