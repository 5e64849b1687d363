//! # kadry-core
//!
//! The rules of continuing professional development of education workers in a Russian region,
//! pure: domain types, regional policies, the permission model, decisions and ports. No I/O,
//! no clock reads, no database, no async runtime.
//!
//! Rule ids (`R-V2`, …) refer to the rules catalogue; every refusal carries a stable code
//! ([`Error::code`]).

pub mod access;
pub mod calendar;
pub mod command;
pub mod decide;
pub mod error;
pub mod frdo;
pub mod ids;
pub mod model;
pub mod planning;
pub mod policy;
pub mod ports;
pub mod records;
pub mod registry;
pub mod report;
pub mod service;
pub mod survey;
pub mod types;

pub use access::{Action, Actor};
pub use command::{Command, Metric, Outcome, Query, QueryResult, ScopeRef};
pub use error::{Error, ErrorBody, Result};
pub use policy::{Region, RegionPolicy};
pub use service::Service;
