//! # kadry-adapters
//!
//! Adapters for kadry's ports: the in-memory store ([`MemoryStore`]), notifiers
//! ([`LogNotifier`], [`CaptureNotifier`]), the system clock and random ids. SQLite and
//! PostgreSQL stores follow behind features.

pub mod memory;
pub mod notify;
pub mod relay;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use memory::MemoryStore;
pub use notify::{CaptureNotifier, LogNotifier};
#[cfg(feature = "postgres")]
pub use sql::postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sql::sqlite::SqliteStore;

use chrono::{DateTime, Utc};
use kadry_core::ports::{Clock, IdSource};

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Random (v4) ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&self) -> uuid::Uuid {
        uuid::Uuid::new_v4()
    }
}
