//! # kadry-adapters
//!
//! Adapters for kadry's ports: the in-memory store ([`MemoryStore`]), notifiers
//! ([`LogNotifier`], [`CaptureNotifier`]), clocks ([`SystemClock`], [`ShiftedClock`]) and random
//! ids. SQLite and PostgreSQL stores follow behind features.

#[cfg(feature = "testkit")]
pub mod faults;
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

/// A clock that starts at a chosen instant and runs forward in real time: for training
/// sandboxes, demonstrations and end-to-end tests that must live through a planning window or
/// a group's end date (the example server's `--now`).
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: chrono::TimeDelta,
}

impl ShiftedClock {
    /// A clock showing `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        ShiftedClock { offset: start - Utc::now() }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_asked_and_runs_forward() {
        let start = Utc::now() - chrono::TimeDelta::days(600);
        let clock = ShiftedClock::starting_at(start);
        let first = clock.now();
        assert!((first - start).num_seconds().abs() < 5, "{first} vs {start}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first, "it runs forward");
    }
}
