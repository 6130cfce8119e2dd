//! The loader, the scanner and the fixer on arbitrary repository content: see `checks::yaml_scan`.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::yaml_scan(data));
