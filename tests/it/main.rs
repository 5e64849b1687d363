//! kadry's integration tests: one binary (`cargo test --test it`).

mod import;
mod properties;
mod scenarios;
mod server;
mod service;
mod storage;
mod world;
