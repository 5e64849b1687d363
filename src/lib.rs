//! # kadry
//!
//! Continuing professional development of education workers for a Russian region: the rules
//! of Samara's named education vouchers, Yugra's annual catalogue and Tatarstan's personalised
//! model, behind storage and notification ports. Hosts depend on this crate alone.
//!
//! - [`core`]: the pure rules (`kadry-core`): model, policies, permissions, decisions, ports,
//!   and the application [`Service`].
//! - [`adapters`]: storage and notification adapters (`kadry-adapters`).
//! - [`scenario`]: the conformance scenario runner (feature `scenario`, on by default).
//! - [`export`]: CSV and XLSX writers for exports, the ФИС ФРДО upload table among them
//!   (feature `export`, on by default).
//! - [`generate`]: a deterministic synthetic region of any size, written into any store, and
//!   the invariant checks the load test runs over it (feature `generate`, on by default).

pub use kadry_adapters as adapters;
pub use kadry_core as core;

pub use kadry_adapters::{CaptureNotifier, LogNotifier, MemoryStore, RandomIds, ShiftedClock, SystemClock};
pub use kadry_core::{
    Action, Actor, Command, Error, ErrorBody, Metric, Outcome, Query, QueryResult, Region, RegionPolicy, Result,
    ScopeRef, Service,
};

#[cfg(feature = "scenario")]
pub mod scenario;

#[cfg(feature = "import")]
pub mod import;

#[cfg(feature = "export")]
pub mod export;

#[cfg(feature = "generate")]
pub mod generate;

/// The README's embedding example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
