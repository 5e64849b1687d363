//! The application service over the memory store: one transaction per command, notifications
//! through the outbox, the audit trail, and no trace of a failed command.

use std::sync::Arc;

use kadry::adapters::faults::{FaultPoint, FaultyStore};
use kadry::core::command::{Command, Query, QueryResult};
use kadry::core::model::*;
use kadry::core::ports::SequentialIds;
use kadry::{Actor, CaptureNotifier, RegionPolicy, Service};

use crate::world::{World, at};

/// R-N1: a committed decision's notification is delivered once through the relay; a refused
/// command sends nothing.
#[tokio::test]
async fn r_n1_outbox_delivers_once_and_refusals_send_nothing() {
    let w = World::samara().await;
    let worker = w.workers[0];
    w.exec(worker, Command::RequestVoucher { worker }).await.unwrap();
    w.exec(w.operator, Command::ApproveVoucher { worker }).await.unwrap();
    let refused = w.exec(w.kurator, Command::ApproveVoucher { worker }).await.unwrap_err();
    assert_eq!(refused.code(), "access.denied");
    let capture = CaptureNotifier::new();
    assert_eq!(w.service.deliver_pending(&capture, 100).await.unwrap(), 1);
    assert_eq!(w.service.deliver_pending(&capture, 100).await.unwrap(), 0);
    let delivered = capture.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].0.kind, NotificationKind::VoucherApproved);
    assert_eq!(delivered[0].1.as_str(), "w0@example.ru");
    assert!(w.store.outbox_records().iter().all(|r| r.delivered && r.attempts == 1));
}

/// Every committed command is in the audit trail with who, when, what and about whom.
#[tokio::test]
async fn every_committed_command_is_audited() {
    let w = World::samara().await;
    let before = w.store.audit().len();
    let worker = w.workers[1];
    w.clock.set(at(2025, 1, 14));
    w.exec(w.resps[1], Command::RequestVoucher { worker }).await.unwrap();
    let _ = w.exec(w.resps[0], Command::RequestVoucher { worker }).await.unwrap_err();
    let audit = w.store.audit();
    assert_eq!(audit.len(), before + 1);
    let last = audit.last().unwrap();
    assert_eq!(last.action, "request_voucher");
    assert_eq!(last.actor, Actor::Person(w.resps[1]));
    assert_eq!(last.subject, Some(worker));
    assert_eq!(last.at, at(2025, 1, 14));
}

/// A command whose second change fails (the voucher is written, its funding commitment is
/// not) commits nothing: no voucher, no notification, no audit entry.
#[tokio::test]
async fn a_failure_inside_a_command_leaves_no_trace() {
    let w = World::samara().await;
    let worker = w.workers[0];
    w.exec(worker, Command::RequestVoucher { worker }).await.unwrap();
    let failing = FaultyStore::nth(Arc::new(w.store.clone()), FaultPoint::Apply, 2);
    let service =
        Service::new(RegionPolicy::samara(), Arc::new(failing), w.clock.clone(), Arc::new(SequentialIds::default()));
    let before = (w.store.dump().vouchers, w.store.outbox_records().len(), w.store.audit().len());
    let err = service.execute(Actor::Person(w.operator), Command::ApproveVoucher { worker }).await.unwrap_err();
    assert_eq!(err.code(), "storage.failed");
    assert_eq!((w.store.dump().vouchers, w.store.outbox_records().len(), w.store.audit().len()), before);
    let view = w.service.query(Actor::Person(worker), Query::ShowVoucher { worker }).await.unwrap();
    let QueryResult::Voucher(v) = view else { panic!("{view:?}") };
    assert_eq!(v.status, "requested");
}

/// Only one operator is bootstrapped; a second call is refused.
#[tokio::test]
async fn bootstrap_operator_runs_once() {
    let w = World::samara().await;
    let err = w.service.bootstrap_operator("Другой Оператор", "op2@kadry.invalid", "регламент").await.unwrap_err();
    assert_eq!(err.code(), "state.invalid");
}

/// Queries change nothing and refuse outside scope; errors carry Russian messages.
#[tokio::test]
async fn errors_have_codes_english_and_russian_messages() {
    let w = World::samara().await;
    let err = w.service.query(Actor::Person(w.resps[0]), Query::ShowStaff { org: w.schools[1] }).await.unwrap_err();
    let body = kadry::ErrorBody::from(&err);
    assert_eq!(body.code, "access.denied");
    assert!(body.message.contains("access denied"));
    assert!(body.message_ru.contains("прав"));
}

/// A batch is all or none: every row is reported, and one bad row commits nothing.
#[tokio::test]
async fn a_batch_commits_all_or_nothing_and_reports_every_row() {
    let w = World::samara().await;
    let register = |email: &str| Command::RegisterPerson {
        full_name: "Новиков Денис Игоревич".into(),
        email: email.into(),
        org: w.schools[0],
        position: Position::Teacher,
        pedagogical: true,
        consent: true,
        snils: None,
        subject: None,
        birth_year: None,
    };
    let before = w.store.dump().persons.len();
    let rows =
        vec![register("a@example.ru"), register("bad-email"), register("A@Example.ru"), register("b@example.ru")];
    let results = w.service.execute_batch(Actor::Person(w.resps[0]), rows.clone(), true).await.unwrap();
    let codes: Vec<&str> = results.iter().map(|r| r.as_ref().map_or_else(|e| e.code(), |_| "ok")).collect();
    assert_eq!(codes, ["ok", "input.email_invalid", "account.email_taken", "ok"], "the batch sees its own rows");
    assert_eq!(w.store.dump().persons.len(), before, "nothing committed");
    let good = vec![register("a@example.ru"), register("b@example.ru")];
    let dry = w.service.execute_batch(Actor::Person(w.resps[0]), good.clone(), false).await.unwrap();
    assert!(dry.iter().all(Result::is_ok));
    assert_eq!(w.store.dump().persons.len(), before, "a dry run commits nothing");
    w.service.execute_batch(Actor::Person(w.resps[0]), good, true).await.unwrap();
    assert_eq!(w.store.dump().persons.len(), before + 2);
}

/// Each fault point of the injector, on one command (`ApproveVoucher`): before and inside the
/// unit and at commit the command leaves no trace; after a commit whose reply was lost the
/// change is kept and audited once, and a retry is refused by the rules, not applied twice.
#[tokio::test]
async fn every_fault_point_leaves_no_trace_or_keeps_the_commit() {
    for point in FaultPoint::ALL.iter().copied() {
        let w = World::samara().await;
        let worker = w.workers[0];
        w.exec(worker, Command::RequestVoucher { worker }).await.unwrap();
        let faulty = FaultyStore::nth(Arc::new(w.store.clone()), point, 1);
        let service =
            Service::new(RegionPolicy::samara(), Arc::new(faulty.clone()), w.clock.clone(), Arc::new(kadry::RandomIds));
        let before = (w.store.dump().vouchers, w.store.outbox_records().len(), w.store.audit().len());
        let err = service.execute(Actor::Person(w.operator), Command::ApproveVoucher { worker }).await.unwrap_err();
        assert_eq!((err.code(), faulty.injected()), ("storage.failed", vec![point]), "{point:?}");
        let after = (w.store.dump().vouchers, w.store.outbox_records().len(), w.store.audit().len());
        if point == FaultPoint::AfterCommit {
            assert_eq!(after.2, before.2 + 1, "kept and audited once");
            assert_eq!(after.1, before.1 + 1, "its notification is in the outbox");
            let again = service.execute(Actor::Person(w.operator), Command::ApproveVoucher { worker }).await;
            assert_eq!(again.unwrap_err().code(), "state.invalid", "a retry is refused, not applied twice");
        } else {
            assert_eq!(after, before, "{point:?}: no trace");
            service.execute(Actor::Person(w.operator), Command::ApproveVoucher { worker }).await.unwrap();
        }
    }
}
