//! Notification adapters: a tracing log notifier, and an in-memory capture for tests.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kadry_core::error::Result;
use kadry_core::model::Notification;
use kadry_core::ports::Notifier;
use kadry_core::types::Email;

/// Logs every notification through `tracing` at INFO.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn deliver(&self, n: &Notification, email: &Email) -> Result<()> {
        tracing::info!(id = %n.id, to = %email, kind = n.kind.as_str(), subject = n.kind.subject_ru(), details = %n.details_ru, "notification");
        Ok(())
    }
}

/// Captures delivered notifications in memory, for tests.
#[derive(Debug, Clone, Default)]
pub struct CaptureNotifier {
    delivered: Arc<Mutex<Vec<(Notification, Email)>>>,
}

impl CaptureNotifier {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything delivered so far, in order.
    pub fn delivered(&self) -> Vec<(Notification, Email)> {
        self.delivered.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[async_trait]
impl Notifier for CaptureNotifier {
    async fn deliver(&self, n: &Notification, email: &Email) -> Result<()> {
        self.delivered.lock().unwrap_or_else(|e| e.into_inner()).push((n.clone(), email.clone()));
        Ok(())
    }
}
