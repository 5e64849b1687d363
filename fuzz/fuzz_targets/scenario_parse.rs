//! The scenario runner's parser (`kadry::scenario::parse_str`): arbitrary text → a parse error
//! (with a reason, and a line within the file) or a scenario, never a panic. Short scenarios
//! that parse are also run on the in-memory store (commands with arbitrary arguments and dates
//! against the core), which must not panic either.
#![no_main]

use std::path::Path;

use kadry::scenario::{StorageSpec, parse_str, run_scenario};
use kadry_fuzz::runtime;
use libfuzzer_sys::fuzz_target;

/// Scenarios with more steps are parsed only (a run stays bounded).
const MAX_STEPS_RUN: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_str(Path::new("fuzz.toml"), text) {
        Err(e) => {
            assert!(!e.reason.trim().is_empty(), "a parse error without a reason: {e:?}");
            if let Some(line) = e.line {
                let lines = text.lines().count().max(1) + 1;
                assert!((1..=lines).contains(&line), "line {line} of a {lines}-line file: {e}");
            }
        }
        Ok(scenario) => {
            assert!(!scenario.steps.is_empty(), "a scenario without steps");
            assert!(scenario.steps.windows(2).all(|w| w[0].at <= w[1].at), "time went back");
            if scenario.steps.len() <= MAX_STEPS_RUN {
                let report = runtime().block_on(run_scenario(&scenario, &StorageSpec::Memory, 0));
                for f in &report.failures {
                    assert!(!f.got.is_empty(), "{f}");
                }
            }
        }
    }
});
