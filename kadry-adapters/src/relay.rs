//! The transactional outbox relay: delivers the notifications commands wrote to the outbox.
//!
//! A command commits its notifications together with its changes (R-N1); the relay picks
//! them up afterwards, so a crash between commit and delivery loses nothing — the next relay
//! (in this process or another one) delivers what is due. Delivery is at least once: a relay
//! that sends a notification and then fails to record it sends it again, which is why every
//! notification carries a unique id consumers dedupe by (the SMTP notifier puts it in the
//! `Message-ID`). Relays over one store never deliver an item twice concurrently: each step
//! runs in one unit of work and the store locks the items it hands out.
//!
//! Hosts either call [`Relay::run_once`] from their own scheduler or [`Relay::spawn`] it as a
//! background task.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use kadry_core::Service;
use kadry_core::error::Result;
use kadry_core::model::Notification;
use kadry_core::ports::Notifier;
use kadry_core::service::default_backoff;
use kadry_core::types::Email;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long to wait before retrying after the given failed attempt (1 for the first failure).
pub type Backoff = fn(u32) -> chrono::Duration;

/// The relay's settings. [`RelaySettings::default`] suits most hosts.
#[derive(Debug, Clone, Copy)]
pub struct RelaySettings {
    /// How many items one unit of work takes from the outbox (at least 1). Default 50.
    pub batch_size: usize,
    /// How often [`Relay::spawn`] polls the outbox. Default 5 seconds.
    pub poll_interval: Duration,
    /// Failed attempts after which an item is given up (kept as a dead letter, never
    /// retried). Default 8.
    pub max_attempts: u32,
    /// The wait before a retry, by failed attempt. Default [`default_backoff`]: 30 s, 1 min,
    /// 2 min, … up to 1 hour.
    pub backoff: Backoff,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            batch_size: 50,
            poll_interval: Duration::from_secs(5),
            max_attempts: 8,
            backoff: default_backoff,
        }
    }
}

/// The outbox relay: delivers due notifications through a [`Notifier`], retrying failures
/// with backoff and giving up after too many.
#[derive(Clone)]
pub struct Relay {
    service: Service,
    notifier: Arc<dyn Notifier>,
    settings: RelaySettings,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("service", &self.service)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Counts delivery attempts of one relay step.
struct Counting<'a> {
    inner: &'a dyn Notifier,
    attempts: AtomicUsize,
}

#[async_trait]
impl Notifier for Counting<'_> {
    async fn deliver(&self, notification: &Notification, email: &Email) -> Result<()> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let result = self.inner.deliver(notification, email).await;
        if let Err(e) = &result {
            tracing::warn!(id = %notification.id, kind = notification.kind.as_str(), error = %e, "notification delivery failed");
        }
        result
    }
}

impl Relay {
    /// A relay over `service`'s store and clock, delivering through `notifier`, with
    /// default settings.
    pub fn new(service: Service, notifier: Arc<dyn Notifier>) -> Self {
        Relay { service, notifier, settings: RelaySettings::default() }
    }

    /// The same relay with other settings.
    #[must_use]
    pub fn with_settings(mut self, settings: RelaySettings) -> Self {
        self.settings = settings;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &RelaySettings {
        &self.settings
    }

    /// Delivers everything due now, batch after batch, until a batch comes back short (nothing
    /// more is due) or delivers nothing (the notifier is failing: the rest waits for the next
    /// poll rather than hammering it). Returns how many notifications were delivered.
    ///
    /// # Errors
    ///
    /// A storage failure. Notification failures are not errors: they are recorded for retry.
    pub async fn run_once(&self) -> Result<usize> {
        let batch = self.settings.batch_size.max(1);
        let mut total = 0;
        loop {
            let counting = Counting { inner: &*self.notifier, attempts: AtomicUsize::new(0) };
            let delivered = self
                .service
                .deliver_pending_with(&counting, batch, self.settings.max_attempts, self.settings.backoff)
                .await?;
            total += delivered;
            let attempted = counting.attempts.load(Ordering::Relaxed);
            if attempted < batch || delivered == 0 {
                return Ok(total);
            }
        }
    }

    /// Runs the relay in the background: [`Relay::run_once`] right away and then every
    /// poll interval, until `shutdown` becomes `true` or its sender is dropped. A step in
    /// progress is finished before stopping (so what it delivered is recorded). Failures are
    /// logged with `tracing` and retried at the next poll; a panicking notifier is caught and
    /// logged, and does not stop the relay.
    ///
    /// Call it inside a Tokio runtime.
    pub fn spawn(self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        let relay = Arc::new(self);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(relay.settings.poll_interval.max(Duration::from_millis(1)));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tracing::debug!("outbox relay started");
            loop {
                if *shutdown.borrow_and_update() {
                    break;
                }
                tokio::select! {
                    _ = ticker.tick() => {}
                    changed = shutdown.changed() => {
                        if changed.is_err() {
                            break; // the sender is gone: nobody can stop us later
                        }
                        continue;
                    }
                }
                let step = relay.clone();
                // A separate task, so a panic in a notifier is contained.
                match tokio::spawn(async move { step.run_once().await }).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::debug!(delivered = n, "outbox relay step"),
                    Ok(Err(e)) => tracing::error!(error = %e, "outbox relay step failed"),
                    Err(e) => tracing::error!(error = %e, "outbox relay step panicked"),
                }
            }
            tracing::debug!("outbox relay stopped");
        })
    }
}
