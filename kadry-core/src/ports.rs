//! Ports: what the core needs from the outside world, as object-safe async traits so hosts can
//! hold `Arc<dyn Store>`. Adapters live in `kadry-adapters`.
//!
//! - [`Store`] / [`Tx`]: storage with a unit of work — one transaction per command (a transfer
//!   touches two organisations; a voucher issue must see the last voucher). A command's changes,
//!   its notifications (the outbox) and its audit entry are applied in one transaction.
//! - [`Notifier`]: delivers notifications from the outbox.
//! - [`Clock`] and [`IdSource`]: time and identity come in from outside; the core reads no clock
//!   and draws no random numbers.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::ids::*;
use crate::model::*;
use crate::types::Email;

/// One change a decision makes. Stores apply changes in order inside the transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Inserts or replaces a territory.
    PutTerritory(Territory),
    /// Inserts or replaces an organisation.
    PutOrg(Organisation),
    /// Inserts or replaces a person. Stores enforce unique email key and SNILS (R-A2, R-A3):
    /// a violation is `account.email_taken` / `account.snils_taken`.
    PutPerson(Person),
    /// Inserts or replaces an employment.
    PutEmployment(Employment),
    /// Inserts or replaces a grant (keyed by person, role and scope).
    PutGrant(RoleGrant),
    /// Inserts or replaces a role request (keyed by person and role).
    PutRoleRequest(RoleRequest),
    /// Deletes a role request once decided.
    DeleteRoleRequest {
        /// The requester.
        person: PersonId,
        /// The role.
        role: Role,
    },
    /// Inserts or replaces a voucher record.
    PutVoucher(Voucher),
    /// Inserts or replaces a program.
    PutProgram(Program),
    /// Inserts a group, or updates everything but `taken` (seats move only by
    /// [`Change::TakeSeat`] and [`Change::FreeSeat`]).
    PutGroup(Group),
    /// Takes one seat if one is free — a conditional update, never read-then-write (R-G3).
    /// Fails with `group.full` when none is left.
    TakeSeat(GroupId),
    /// Frees one seat.
    FreeSeat(GroupId),
    /// Inserts or replaces an enrolment.
    PutEnrollment(Enrollment),
    /// Appends a training record.
    AddTraining(TrainingRecord),
    /// Inserts a planned training.
    PutPlan(PlanEntry),
    /// Writes a notification to the outbox (R-N1).
    Notify(Notification),
    /// Appends an audit entry.
    Audit(AuditEntry),
    /// Inserts or replaces a year's planning cycle (R-W3).
    PutCycle(crate::planning::Cycle),
    /// Inserts or replaces a quota number (R-W3). Stores keep numbers unique and one number
    /// per worker and year.
    PutQuota(crate::planning::Quota),
    /// Inserts or replaces a worker's questionnaire for a year.
    PutPreferences(crate::planning::Preferences),
    /// Inserts or replaces a survey (R-R2).
    PutSurvey(crate::survey::Survey),
    /// Inserts a response (R-R2). Stores keep one response per survey and person: a second is
    /// `state.invalid`.
    AddResponse(crate::survey::Response),
    /// Sets the limit of a year and source (R-F1): refused with `funding.limit_exceeded` when
    /// more is committed already.
    SetLimit {
        /// The year.
        year: i32,
        /// The source.
        source: Funding,
        /// The limit.
        limit: crate::planning::Money,
    },
    /// Commits an amount against a year and source — a conditional update, never
    /// read-then-write (R-F1): `funding.limit_exceeded` when it would pass the limit.
    Commit {
        /// The year.
        year: i32,
        /// The source.
        source: Funding,
        /// The amount.
        amount: crate::planning::Money,
        /// How many commitments it sums.
        count: u64,
    },
    /// Releases a committed amount (a cancelled voucher, a removed listener).
    Release {
        /// The year.
        year: i32,
        /// The source.
        source: Funding,
        /// The amount.
        amount: crate::planning::Money,
    },
}

/// A row a command's rules hang on, locked for the rest of the unit of work so concurrent
/// commands about the same worker, group or planning year run one after the other (R-V2,
/// R-G4, R-G6, R-W3, R-W4).
///
/// Order: a command takes its person and group locks before its year lock, and a year lock
/// is never followed by a person's, so two commands never wait on each other in a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lock {
    /// A person's row.
    Person(PersonId),
    /// A group's row.
    Group(GroupId),
    /// A planning year (R-W3, R-W4): its cycle, plan-schedule, quotas and waitlist. Held by
    /// every command that reads the year's applications or cycle and writes them back
    /// (forming groups, offers, expiry, stages, quotas), so two of them never overwrite each
    /// other's placements.
    Year(i32),
}

/// A part of a command's read set, declared before the rules run so a store can fetch the
/// whole set in one round trip ([`Tx::prefetch`]). A hint only: the rules read through the
/// ordinary [`Tx`] methods either way, and a store may ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Read {
    /// A person acting: their account and role grants.
    Actor(PersonId),
    /// A worker a command is about: their account, employments and those organisations,
    /// vouchers and enrolments.
    Worker(PersonId),
    /// A group: the group, its program and its provider.
    Group(GroupId),
}

/// The rows behind a report: one per current employment in the slice, with what the metrics
/// need. Adapters may push aggregation down later; the meaning stays.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffRow {
    /// The employment (active or pending).
    pub employment: Employment,
    /// The organisation's kind.
    pub org_kind: OrgKind,
    /// The organisation's territory.
    pub territory: TerritoryId,
    /// The last day of the last passed training, if any.
    pub last_passed_on: Option<NaiveDate>,
    /// What reports need of the worker's person record.
    pub person: PersonFacts,
    /// The worker's passed trainings, in no particular order.
    pub passed: Vec<Passed>,
    /// The worker's voucher records, oldest first.
    pub vouchers: Vec<Voucher>,
    /// The worker's enrolments that hold voucher blocks.
    pub voucher_enrollments: Vec<Enrollment>,
}

/// The numbers a provider has issued this year so far: certificates and statements run as two
/// gap-free sequences (R-G6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Issued {
    /// Certificates issued this year.
    pub certificates: u32,
    /// Statements issued this year.
    pub statements: u32,
}

/// What reports need of a person record (R-R1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonFacts {
    /// The subject taught.
    pub subject: Option<String>,
    /// Year of birth.
    pub birth_year: Option<i32>,
    /// The level of vocational education.
    pub education: Option<EducationLevel>,
    /// The day pedagogical experience began.
    pub experience_since: Option<NaiveDate>,
    /// The day a pending personal-data change was proposed (R-A8).
    pub pending_since: Option<NaiveDate>,
    /// The person asked for no reminders.
    pub reminders_off: bool,
}

impl PersonFacts {
    /// The facts of a person.
    pub fn of(p: &Person) -> Self {
        PersonFacts {
            subject: p.subject.clone(),
            birth_year: p.profile.birth_date.map(|d| chrono::Datelike::year(&d)).or(p.birth_year),
            education: p.profile.education.as_ref().map(|e| e.level),
            experience_since: p.profile.experience_since,
            pending_since: p.pending_change.as_ref().and_then(|c| c.since),
            reminders_off: p.profile.reminders_off,
        }
    }
}

/// A passed training, as reports count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passed {
    /// Its last day.
    pub completed_on: NaiveDate,
    /// Its hours.
    pub hours: u32,
    /// How it was paid for; none outside the region's funding.
    pub funding: Option<Funding>,
}

impl Passed {
    /// The passed training a record holds, if it holds one.
    pub fn of(t: &TrainingRecord) -> Option<Self> {
        t.passed.then_some(Passed { completed_on: t.completed_on, hours: t.hours, funding: t.funding })
    }
}

/// A notification waiting in the outbox, with its recipient's address.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// The notification.
    pub notification: Notification,
    /// Where to send it.
    pub email: Email,
    /// Delivery attempts so far.
    pub attempts: u32,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Delivered: never sent again.
    Delivered,
    /// Failed: retry at this time.
    RetryAt(DateTime<Utc>),
    /// Failed too often: kept, never retried (a dead letter for the operator).
    GaveUp,
}

/// Storage: hands out units of work.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync {
    /// Begins a unit of work for a command. Adapters serialise conflicting writers (the memory
    /// adapter holds a writer lock; SQL adapters use transactions and row locks).
    async fn begin(&self) -> Result<Box<dyn Tx>>;
    /// Begins a unit of work for a command and locks `locks` in order, as [`Store::begin`] and
    /// [`Tx::lock`] each would (the default). PostgreSQL sends the two in one round trip.
    async fn begin_locked(&self, locks: &[Lock]) -> Result<Box<dyn Tx>> {
        let mut tx = self.begin().await?;
        for lock in locks {
            tx.lock(*lock).await?;
        }
        Ok(tx)
    }
    /// Begins a read-only unit of work for a query (a consistent snapshot).
    async fn read(&self) -> Result<Box<dyn Tx>>;
    /// Writes changes that no rule checks (a generated region, history brought in from
    /// elsewhere) in one unit of work, as fast as the store can. The resulting state is the
    /// one [`Tx::apply`] of each change in order would leave, and so are the refusals: the
    /// store's own constraints still hold (a seat beyond a group's capacity is `group.full`,
    /// R-G3; a taken email is `account.email_taken`, R-A2), and a refused load leaves nothing.
    /// Nothing is authorised, decided or audited here: the caller answers for the changes.
    ///
    /// The default begins a unit of work, applies each change and commits, so every store
    /// can load; SQL stores write each kind of change with multi-row statements.
    async fn load(&self, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for change in changes {
            tx.apply(change).await?;
        }
        tx.commit().await
    }
}

/// A unit of work: reads see the state as of its start plus its own changes; nothing is
/// visible to others until [`Tx::commit`]; dropping it without commit discards everything.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Tx: Send {
    /// Locks a row until the unit of work ends (`SELECT … FOR UPDATE`); stores that serialise
    /// writers already (memory, SQLite with `BEGIN IMMEDIATE`) do nothing. A missing row is
    /// not an error.
    async fn lock(&mut self, key: Lock) -> Result<()>;
    /// Fetches `reads` ahead of the rules (after the locks, so what it reads is what the
    /// locked rows guard). What it fetched must be what the read methods would return at this
    /// point of the unit of work; a change applied later invalidates it. The default does
    /// nothing: an in-memory store has nothing to save.
    async fn prefetch(&mut self, reads: &[Read]) -> Result<()> {
        let _ = reads;
        Ok(())
    }
    /// A territory.
    async fn territory(&mut self, id: TerritoryId) -> Result<Option<Territory>>;
    /// An organisation.
    async fn org(&mut self, id: OrgId) -> Result<Option<Organisation>>;
    /// A person.
    async fn person(&mut self, id: PersonId) -> Result<Option<Person>>;
    /// The person whose email (or pending email) has this key (lowercase).
    async fn person_by_email(&mut self, key: &str) -> Result<Option<Person>>;
    /// The person with this SNILS (11 digits).
    async fn person_by_snils(&mut self, digits: &str) -> Result<Option<Person>>;
    /// A person's grants.
    async fn grants(&mut self, person: PersonId) -> Result<Vec<RoleGrant>>;
    /// Whether anybody holds `role`.
    async fn role_exists(&mut self, role: Role) -> Result<bool>;
    /// Everybody holding `role` (unsuspended grants), in no particular order.
    async fn role_holders(&mut self, role: Role) -> Result<Vec<PersonId>>;
    /// A person's role requests.
    async fn role_requests(&mut self, person: PersonId) -> Result<Vec<RoleRequest>>;
    /// A person's employments, oldest first.
    async fn employments(&mut self, person: PersonId) -> Result<Vec<Employment>>;
    /// The current (active or pending) employments at an organisation.
    async fn staff(&mut self, org: OrgId) -> Result<Vec<Employment>>;
    /// A person's voucher records, oldest first.
    async fn vouchers(&mut self, person: PersonId) -> Result<Vec<Voucher>>;
    /// A program.
    async fn program(&mut self, id: ProgramId) -> Result<Option<Program>>;
    /// A group.
    async fn group(&mut self, id: GroupId) -> Result<Option<Group>>;
    /// Every territory, in no particular order.
    async fn territories(&mut self) -> Result<Vec<Territory>>;
    /// Every organisation, closed ones included, in no particular order.
    async fn orgs(&mut self) -> Result<Vec<Organisation>>;
    /// Every program, in no particular order (the catalogue; hundreds a year, not millions).
    async fn programs(&mut self) -> Result<Vec<Program>>;
    /// A program's groups, in no particular order.
    async fn program_groups(&mut self, program: ProgramId) -> Result<Vec<Group>>;
    /// A group's enrolments, in enrolment order.
    async fn group_enrollments(&mut self, group: GroupId) -> Result<Vec<Enrollment>>;
    /// A person's enrolments, in enrolment order.
    async fn person_enrollments(&mut self, person: PersonId) -> Result<Vec<Enrollment>>;
    /// A person's training records, oldest first.
    async fn trainings(&mut self, person: PersonId) -> Result<Vec<TrainingRecord>>;
    /// A person's planned trainings.
    async fn plans(&mut self, person: PersonId) -> Result<Vec<PlanEntry>>;
    /// Notifications written for a person, oldest first.
    async fn notifications(&mut self, person: PersonId) -> Result<Vec<Notification>>;
    /// Training records whose last day lies within `[from, to]`, of one provider when given,
    /// by last day (registries and the ФИС ФРДО export, R-G6).
    async fn trainings_between(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        provider: Option<OrgId>,
    ) -> Result<Vec<TrainingRecord>>;
    /// The training record holding the certificate with this series and number.
    async fn certificate(&mut self, series: &str, number: &str) -> Result<Option<TrainingRecord>>;
    /// How many certificates and statements a provider has issued in a year (for gap-free
    /// numbering, R-G6).
    async fn documents_issued(&mut self, provider: OrgId, year: i32) -> Result<Issued>;
    /// The rows behind a report over a slice.
    async fn staff_rows(&mut self, scope: Scope) -> Result<Vec<StaffRow>>;
    /// A report in any slice (R-R1). The default aggregates [`Tx::staff_rows`]
    /// ([`crate::report::aggregate`]); SQL stores push the aggregation down and must answer the
    /// same.
    async fn slice(&mut self, spec: &crate::report::SliceSpec) -> Result<Vec<crate::report::SliceRow>> {
        let rows = self.staff_rows(spec.scope).await?;
        Ok(crate::report::aggregate(&rows, spec))
    }
    /// R-W3 stage 1, R-V11: the workers of `scope` due for planned training in `year`, as
    /// [`crate::planning::eligible`] selects them from [`Tx::staff_rows`] (the default); SQL
    /// stores select them from their staff facts and must answer the same.
    async fn eligible(
        &mut self,
        scope: Scope,
        policy: &crate::policy::RegionPolicy,
        year: i32,
    ) -> Result<Vec<crate::planning::Eligible>> {
        let rows = self.staff_rows(scope).await?;
        Ok(crate::planning::eligible(policy, &rows, year))
    }
    /// A year's planning cycle.
    async fn cycle(&mut self, year: i32) -> Result<Option<crate::planning::Cycle>>;
    /// A quota number.
    async fn quota(&mut self, number: &str) -> Result<Option<crate::planning::Quota>>;
    /// The number a worker holds for a year (refused ones included).
    async fn person_quota(&mut self, person: PersonId, year: i32) -> Result<Option<crate::planning::Quota>>;
    /// Every number of a year, in no particular order.
    async fn quotas(&mut self, year: i32) -> Result<Vec<crate::planning::Quota>>;
    /// A worker's questionnaire for a year.
    async fn preferences(&mut self, person: PersonId, year: i32) -> Result<Option<crate::planning::Preferences>>;
    /// Every questionnaire of a year, in no particular order.
    async fn year_preferences(&mut self, year: i32) -> Result<Vec<crate::planning::Preferences>>;
    /// A survey (R-R2).
    async fn survey(&mut self, id: SurveyId) -> Result<Option<crate::survey::Survey>>;
    /// Every survey, in no particular order (a region runs dozens, not millions).
    async fn surveys(&mut self) -> Result<Vec<crate::survey::Survey>>;
    /// A survey's responses, in no particular order.
    async fn responses(&mut self, survey: SurveyId) -> Result<Vec<crate::survey::Response>>;
    /// A person's response to a survey.
    async fn response(&mut self, survey: SurveyId, person: PersonId) -> Result<Option<crate::survey::Response>>;
    /// Every application (planned training) of a year, in no particular order.
    async fn year_plans(&mut self, year: i32) -> Result<Vec<PlanEntry>>;
    /// The groups formed for a year's plan-schedule, in no particular order.
    async fn year_groups(&mut self, year: i32) -> Result<Vec<Group>>;
    /// The funding accounts of a year (those with a limit or a commitment).
    async fn funding(&mut self, year: i32) -> Result<Vec<crate::planning::FundingAccount>>;
    /// Undelivered outbox items due at `now` (never attempted, or their retry time has come;
    /// not given up), oldest first, at most `limit`. SQL stores lock them (`SKIP LOCKED`) so
    /// concurrent relays never deliver one twice.
    async fn outbox(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxItem>>;
    /// Records a delivery attempt's outcome.
    async fn mark_delivery(&mut self, id: NotificationId, outcome: Delivery) -> Result<()>;
    /// Applies one change.
    async fn apply(&mut self, change: Change) -> Result<()>;
    /// Applies a command's changes in order, as [`Tx::apply`] one by one would (the default).
    /// A store may write them together: PostgreSQL sends the usual tail of a command (a seat,
    /// an enrolment, a notification, the audit entry) as one statement, so a command costs
    /// fewer round trips. Stops at the first refusal, like the loop.
    async fn apply_all(&mut self, changes: Vec<Change>) -> Result<()> {
        for change in changes {
            self.apply(change).await?;
        }
        Ok(())
    }
    /// Commits everything applied.
    async fn commit(self: Box<Self>) -> Result<()>;
}

/// Delivers a notification (email, log, a test capture).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Delivers one notification to `email`. Consumers dedupe by the notification's id.
    async fn deliver(&self, notification: &Notification, email: &Email) -> Result<()>;
}

/// The time source.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The id source.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdSource: Send + Sync {
    /// A fresh, unique id.
    fn next_id(&self) -> Uuid;
}

/// A clock the caller sets: for tests, scenario runs and simulations.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl ManualClock {
    /// What the clock shows.
    pub fn now_utc(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Deterministic ids from a counter (UUIDs 00000000-0000-0000-0000-000000000001, …): for tests
/// and scenario runs. Hosts use random ids (`kadry_adapters::RandomIds`).
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn next_id(&self) -> Uuid {
        Uuid::from_u128(u128::from(self.0.fetch_add(1, Ordering::Relaxed) + 1))
    }
}
