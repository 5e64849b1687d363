//! The application service over the memory store: one transaction per command, notifications
//! through the outbox, the audit trail, and no trace of a failed command.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use kadry::core::command::{Command, Query, QueryResult};
use kadry::core::ids::*;
use kadry::core::model::*;
use kadry::core::ports::{Change, Delivery, Lock, OutboxItem, SequentialIds, StaffRow, Store, Tx};
use kadry::{Actor, CaptureNotifier, Error, RegionPolicy, Service};

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

/// A store whose changes fail part-way: the command leaves no trace.
#[derive(Clone)]
struct Failing {
    inner: kadry::MemoryStore,
    fail_on_apply: Arc<AtomicUsize>,
}

struct FailingTx {
    inner: Box<dyn Tx>,
    left: Arc<AtomicUsize>,
}

#[async_trait]
impl Store for Failing {
    async fn begin(&self) -> kadry::Result<Box<dyn Tx>> {
        Ok(Box::new(FailingTx { inner: self.inner.begin().await?, left: self.fail_on_apply.clone() }))
    }
    async fn read(&self) -> kadry::Result<Box<dyn Tx>> {
        self.inner.read().await
    }
}

macro_rules! failing_tx {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        #[async_trait]
        impl Tx for FailingTx {
            $(async fn $name(&mut self, $($arg: $ty),*) -> kadry::Result<$ret> { self.inner.$name($($arg),*).await })*
            async fn apply(&mut self, change: Change) -> kadry::Result<()> {
                if self.left.fetch_sub(1, Ordering::SeqCst) == 1 {
                    return Err(Error::Storage("injected failure".into()));
                }
                self.inner.apply(change).await
            }
            async fn commit(self: Box<Self>) -> kadry::Result<()> {
                self.inner.commit().await
            }
        }
    };
}

failing_tx! {
        lock(key: Lock) -> ();
        territory(id: TerritoryId) -> Option<Territory>;
        org(id: OrgId) -> Option<Organisation>;
        person(id: PersonId) -> Option<Person>;
        person_by_email(key: &str) -> Option<Person>;
        person_by_snils(digits: &str) -> Option<Person>;
        grants(person: PersonId) -> Vec<RoleGrant>;
        role_exists(role: Role) -> bool;
        role_requests(person: PersonId) -> Vec<RoleRequest>;
        employments(person: PersonId) -> Vec<Employment>;
        staff(org: OrgId) -> Vec<Employment>;
        vouchers(person: PersonId) -> Vec<Voucher>;
        program(id: ProgramId) -> Option<Program>;
        group(id: GroupId) -> Option<Group>;
        territories() -> Vec<Territory>;
        orgs() -> Vec<Organisation>;
        programs() -> Vec<Program>;
        program_groups(program: ProgramId) -> Vec<Group>;
        group_enrollments(group: GroupId) -> Vec<Enrollment>;
        person_enrollments(person: PersonId) -> Vec<Enrollment>;
        trainings(person: PersonId) -> Vec<TrainingRecord>;
        plans(person: PersonId) -> Vec<PlanEntry>;
        notifications(person: PersonId) -> Vec<Notification>;
        certificate(series: &str, number: &str) -> Option<TrainingRecord>;
        documents_issued(provider: OrgId, year: i32) -> kadry::core::ports::Issued;
        role_holders(role: Role) -> Vec<PersonId>;
        staff_rows(scope: Scope) -> Vec<StaffRow>;
        outbox(now: chrono::DateTime<chrono::Utc>, limit: usize) -> Vec<OutboxItem>;
        mark_delivery(id: NotificationId, outcome: Delivery) -> ();
        cycle(year: i32) -> Option<kadry::core::planning::Cycle>;
        quota(number: &str) -> Option<kadry::core::planning::Quota>;
        person_quota(person: PersonId, year: i32) -> Option<kadry::core::planning::Quota>;
        quotas(year: i32) -> Vec<kadry::core::planning::Quota>;
        preferences(person: PersonId, year: i32) -> Option<kadry::core::planning::Preferences>;
        year_preferences(year: i32) -> Vec<kadry::core::planning::Preferences>;
        survey(id: SurveyId) -> Option<kadry::core::survey::Survey>;
        surveys() -> Vec<kadry::core::survey::Survey>;
        responses(survey: SurveyId) -> Vec<kadry::core::survey::Response>;
        response(survey: SurveyId, person: PersonId) -> Option<kadry::core::survey::Response>;
        year_plans(year: i32) -> Vec<PlanEntry>;
        year_groups(year: i32) -> Vec<Group>;
        funding(year: i32) -> Vec<kadry::core::planning::FundingAccount>;
}

/// A command whose second change fails (the voucher is written, its funding commitment is
/// not) commits nothing: no voucher, no notification, no audit entry.
#[tokio::test]
async fn a_failure_inside_a_command_leaves_no_trace() {
    let w = World::samara().await;
    let worker = w.workers[0];
    w.exec(worker, Command::RequestVoucher { worker }).await.unwrap();
    let failing = Failing { inner: w.store.clone(), fail_on_apply: Arc::new(AtomicUsize::new(2)) };
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
