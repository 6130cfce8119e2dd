//! Replays the inputs that made a fuzz target fail (tests/fixtures/fuzz-regressions/TARGET/,
//! one file each, as the target got it) through the target's own checks (fuzz/checks.rs), each
//! within a time bound: a hang is a failure too. `fuzz/run.sh` seeds the fuzzer with them.
//! Hostile inputs written by hand (an alias bomb, deep nesting) are kept beside them.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::time::{Duration, Instant};

fn replay(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz-regressions")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    for path in inputs {
        let data = std::fs::read(&path).unwrap();
        let start = Instant::now();
        check(&data);
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(10),
            "{}: {took:?}",
            path.display()
        );
    }
}

#[test]
fn yaml_scan() {
    replay("yaml_scan", checks::yaml_scan);
}

#[test]
fn commands() {
    replay("commands", checks::commands);
}

#[test]
fn event() {
    replay("event", checks::event);
}
