//! The webhook event parser on arbitrary deliveries: see `checks::event`.

#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::event(data));
