//! The outbox relay over the memory store: retries with backoff, dead letters, crash recovery,
//! concurrent relays and the background task.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use kadry_adapters::relay::{Relay, RelaySettings};
use kadry_adapters::{CaptureNotifier, MemoryStore};
use kadry_core::command::Command;
use kadry_core::ids::*;
use kadry_core::model::*;
use kadry_core::ports::{ManualClock, Notifier, SequentialIds};
use kadry_core::types::Email;
use kadry_core::{Actor, Error, RegionPolicy, Service};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 13, 9, 0, 0).unwrap()
}

fn service(store: &MemoryStore, clock: &Arc<ManualClock>) -> Service {
    Service::new(RegionPolicy::samara(), Arc::new(store.clone()), clock.clone(), Arc::new(SequentialIds::default()))
}

/// A region with an operator, a school and `workers` pedagogical workers.
struct World {
    store: MemoryStore,
    clock: Arc<ManualClock>,
    service: Service,
    operator: PersonId,
    workers: Vec<PersonId>,
}

impl World {
    async fn new(workers: usize) -> World {
        let store = MemoryStore::new();
        let clock = Arc::new(ManualClock::new(t0()));
        let service = service(&store, &clock);
        let operator = service.bootstrap_operator("Оператор Центра", "op@kadry.invalid", "регламент").await.unwrap();
        let op = Actor::Person(operator);
        let territory =
            service.execute(op, Command::RegisterTerritory { name: "Тольятти".into() }).await.unwrap().created();
        let school = service
            .execute(
                op,
                Command::RegisterOrg {
                    name: "Школа № 1".into(),
                    kind: OrgKind::School,
                    territory: TerritoryId(territory.unwrap()),
                    parent: None,
                    license: None,
                    ownership: None,
                },
            )
            .await
            .unwrap()
            .created()
            .unwrap();
        let mut w = World { store, clock, service, operator, workers: vec![] };
        for i in 0..workers {
            let id = w
                .service
                .execute(
                    op,
                    Command::RegisterPerson {
                        full_name: "Иванова Мария Петровна".into(),
                        email: format!("w{i}@example.ru"),
                        org: OrgId(school),
                        position: Position::Teacher,
                        pedagogical: true,
                        consent: true,
                        snils: None,
                        subject: Some("math".into()),
                        birth_year: None,
                    },
                )
                .await
                .unwrap()
                .created()
                .unwrap();
            let id = PersonId(id);
            w.service.execute(Actor::Person(id), Command::ConfirmEmail { person: id }).await.unwrap();
            w.workers.push(id);
        }
        w
    }

    /// A voucher request and its approval: one `voucher.approved` notification.
    async fn approve(&self, worker: PersonId) {
        self.service.execute(Actor::Person(worker), Command::RequestVoucher { worker }).await.unwrap();
        self.service.execute(Actor::Person(self.operator), Command::ApproveVoucher { worker }).await.unwrap();
    }

    fn set(&self, at: DateTime<Utc>) {
        self.clock.set(at);
    }
}

/// Fails the first `failures` attempts, then delivers into a capture.
#[derive(Default)]
struct Flaky {
    failures: u32,
    attempts: AtomicU32,
    capture: CaptureNotifier,
}

#[async_trait]
impl Notifier for Flaky {
    async fn deliver(&self, n: &Notification, email: &Email) -> kadry_core::Result<()> {
        let attempt = self.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        if attempt <= self.failures {
            return Err(Error::Storage(format!("smtp down (attempt {attempt})")));
        }
        self.capture.deliver(n, email).await
    }
}

fn settings(max_attempts: u32) -> RelaySettings {
    RelaySettings { max_attempts, ..RelaySettings::default() }
}

#[tokio::test]
async fn failed_delivery_is_retried_only_after_its_backoff_then_delivered_once() {
    let w = World::new(1).await;
    w.approve(w.workers[0]).await;
    let records = w.store.outbox_records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].notification.kind, NotificationKind::VoucherApproved);

    let flaky = Arc::new(Flaky { failures: 2, ..Flaky::default() });
    let relay = Relay::new(w.service.clone(), flaky.clone()).with_settings(settings(5));
    let attempts = || flaky.attempts.load(Ordering::SeqCst);

    // Attempt 1 fails: retry in 30 s (default backoff).
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(attempts(), 1);
    let r = &w.store.outbox_records()[0];
    assert_eq!(
        (r.attempts, r.delivered, r.gave_up, r.retry_at),
        (1, false, false, Some(t0() + chrono::Duration::seconds(30)))
    );
    assert_eq!(relay.run_once().await.unwrap(), 0);
    w.set(t0() + chrono::Duration::seconds(29));
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(attempts(), 1, "not retried before its backoff");

    // Attempt 2 fails at +30 s: retry in 1 min.
    let second = t0() + chrono::Duration::seconds(30);
    w.set(second);
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(attempts(), 2);
    assert_eq!(w.store.outbox_records()[0].retry_at, Some(second + chrono::Duration::seconds(60)));
    w.set(second + chrono::Duration::seconds(59));
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(attempts(), 2);

    // Attempt 3 succeeds.
    w.set(second + chrono::Duration::seconds(60));
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(attempts(), 3);
    let r = &w.store.outbox_records()[0];
    assert!(r.delivered && !r.gave_up);
    assert_eq!(r.attempts, 3);

    // Never again.
    w.set(t0() + chrono::Duration::days(1));
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(attempts(), 3);
    let delivered = flaky.capture.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].0.id, r.notification.id);
    assert_eq!(delivered[0].1.as_str(), "w0@example.ru");
}

#[tokio::test]
async fn delivery_is_given_up_after_max_attempts_and_never_retried() {
    let w = World::new(1).await;
    w.approve(w.workers[0]).await;
    let always = Arc::new(Flaky { failures: u32::MAX, ..Flaky::default() });
    let relay = Relay::new(w.service.clone(), always.clone()).with_settings(settings(3));

    let mut at = t0();
    for _ in 0..10 {
        assert_eq!(relay.run_once().await.unwrap(), 0);
        at += chrono::Duration::hours(2); // beyond any backoff
        w.set(at);
    }
    assert_eq!(always.attempts.load(Ordering::SeqCst), 3);
    let r = &w.store.outbox_records()[0];
    assert!(r.gave_up, "a dead letter");
    assert!(!r.delivered);
    assert_eq!(r.attempts, 3);
    assert!(always.capture.delivered().is_empty());
}

#[tokio::test]
async fn crash_between_commit_and_delivery_loses_nothing_and_duplicates_nothing() {
    // The first process commits a command and dies before its relay runs.
    let store = {
        let w = World::new(1).await;
        let relay = Relay::new(w.service.clone(), Arc::new(CaptureNotifier::new()));
        w.approve(w.workers[0]).await;
        drop(relay);
        w.store.clone()
    };
    let records = store.outbox_records();
    assert_eq!(records.len(), 1);
    assert!(!records[0].delivered);
    let id = records[0].notification.id;

    // A new process: a new service and relay over the same store.
    let clock = Arc::new(ManualClock::new(t0() + chrono::Duration::minutes(5)));
    let capture = CaptureNotifier::new();
    let relay = Relay::new(service(&store, &clock), Arc::new(capture.clone()));
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(relay.run_once().await.unwrap(), 0);
    let delivered = capture.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].0.id, id);
    let r = &store.outbox_records()[0];
    assert!(r.delivered);
    assert_eq!(r.attempts, 1);
}

/// Delivers slowly, so two relays overlap.
#[derive(Default)]
struct Slow(CaptureNotifier);

#[async_trait]
impl Notifier for Slow {
    async fn deliver(&self, n: &Notification, email: &Email) -> kadry_core::Result<()> {
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.0.deliver(n, email).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_relays_deliver_each_notification_once() {
    let w = World::new(12).await;
    for &worker in &w.workers {
        w.approve(worker).await;
    }
    let records = w.store.outbox_records();
    assert_eq!(records.len(), 12);
    let ids: HashSet<NotificationId> = records.iter().map(|r| r.notification.id).collect();
    assert_eq!(ids.len(), 12, "every notification has its own id (the dedup key)");

    let sink = Arc::new(Slow::default());
    let small = RelaySettings { batch_size: 2, ..RelaySettings::default() };
    let mut tasks = Vec::new();
    for _ in 0..2 {
        // Each relay has its own service (as two processes would) over the one store.
        let relay = Relay::new(service(&w.store, &w.clock), sink.clone()).with_settings(small);
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            for _ in 0..3 {
                n += relay.run_once().await.unwrap();
                tokio::task::yield_now().await;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 12);
    let delivered = sink.0.delivered();
    assert_eq!(delivered.len(), 12);
    let got: HashSet<NotificationId> = delivered.iter().map(|(n, _)| n.id).collect();
    assert_eq!(got, ids, "each notification delivered exactly once");
    assert!(w.store.outbox_records().iter().all(|r| r.delivered && r.attempts == 1));
}

#[tokio::test]
async fn run_once_drains_more_than_one_batch() {
    let w = World::new(5).await;
    for &worker in &w.workers {
        w.approve(worker).await;
    }
    let capture = CaptureNotifier::new();
    let relay = Relay::new(w.service.clone(), Arc::new(capture.clone()))
        .with_settings(RelaySettings { batch_size: 2, ..RelaySettings::default() });
    assert_eq!(relay.run_once().await.unwrap(), 5);
    assert_eq!(relay.run_once().await.unwrap(), 0);
    assert_eq!(capture.delivered().len(), 5);
}

async fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !ok() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_relay_polls_until_shutdown() {
    let w = World::new(2).await;
    let capture = CaptureNotifier::new();
    let relay = Relay::new(w.service.clone(), Arc::new(capture.clone()))
        .with_settings(RelaySettings { poll_interval: Duration::from_millis(10), ..RelaySettings::default() });
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let handle = relay.spawn(shutdown);

    w.approve(w.workers[0]).await;
    eventually("the first notification", || capture.delivered().len() == 1).await;
    w.approve(w.workers[1]).await;
    eventually("the second notification", || capture.delivered().len() == 2).await;

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle).await.expect("the relay stops").unwrap();
    assert!(w.store.outbox_records().iter().all(|r| r.delivered));
}

#[tokio::test]
async fn spawned_relay_stops_when_the_sender_is_dropped() {
    let w = World::new(0).await;
    let relay = Relay::new(w.service.clone(), Arc::new(CaptureNotifier::new()))
        .with_settings(RelaySettings { poll_interval: Duration::from_millis(10), ..RelaySettings::default() });
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let handle = relay.spawn(shutdown);
    tokio::time::sleep(Duration::from_millis(30)).await;
    drop(stop);
    tokio::time::timeout(Duration::from_secs(5), handle).await.expect("the relay stops").unwrap();
}

/// Panics on every delivery.
struct Panicking(AtomicU32);

#[async_trait]
impl Notifier for Panicking {
    async fn deliver(&self, _: &Notification, _: &Email) -> kadry_core::Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("a buggy notifier");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_relay_survives_a_panicking_notifier() {
    let w = World::new(1).await;
    w.approve(w.workers[0]).await;
    let notifier = Arc::new(Panicking(AtomicU32::new(0)));
    let relay = Relay::new(w.service.clone(), notifier.clone())
        .with_settings(RelaySettings { poll_interval: Duration::from_millis(5), ..RelaySettings::default() });
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let handle = relay.spawn(shutdown);
    eventually("several polls", || notifier.0.load(Ordering::SeqCst) >= 3).await;
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle).await.expect("the relay stops").expect("no panic escapes");
    // The panicking step committed nothing: the item is still due.
    let r = &w.store.outbox_records()[0];
    assert!(!r.delivered && !r.gave_up);
}
