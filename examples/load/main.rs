//! The load test (docs/load.md): under construction.

fn main() {}
