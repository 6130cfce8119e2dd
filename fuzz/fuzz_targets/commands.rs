//! The `/ws-fix` command parser on arbitrary comments and their edits: see `checks::commands`.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::commands(data));
