//! The fixer: edits as byte splices at spans the parser reported, in the file's own style.

pub mod splice;
pub mod style;
