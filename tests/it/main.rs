//! kadry's integration tests: one binary (`cargo test --test it`).

#[cfg(all(feature = "generate", feature = "sqlite"))]
mod generate;
mod import;
mod properties;
mod scenarios;
mod server;
mod service;
mod storage;
mod world;
