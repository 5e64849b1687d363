//! Fault injection (feature `testkit`): a [`Store`] wrapper that fails calls of the store it
//! wraps — at `begin`, in any read, in `apply`, at `commit`, or just after a commit that did
//! happen (the reply lost) — so tests can show that a failed command leaves no trace and that
//! nothing committed is lost.
//!
//! Faults come either from a seeded random plan (a share of the calls at the chosen points) or
//! from a deterministic one (the n-th call at one point). Every injected fault is logged.
//!
//! ```
//! use std::sync::Arc;
//! use kadry_adapters::faults::{FaultPoint, FaultyStore};
//! use kadry_adapters::MemoryStore;
//!
//! let store = FaultyStore::random(Arc::new(MemoryStore::new()), 7, 0.2, FaultPoint::ALL);
//! assert!(store.injected().is_empty());
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use kadry_core::error::{Error, Result};
use kadry_core::ids::*;
use kadry_core::model::*;
use kadry_core::planning::{Cycle, FundingAccount, Preferences, Quota};
use kadry_core::ports::{Change, Delivery, Issued, Lock, OutboxItem, Read, StaffRow, Store, Tx};
use kadry_core::report::{SliceRow, SliceSpec};
use kadry_core::survey::{Response, Survey};

/// Where a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultPoint {
    /// Opening a unit of work (nothing has happened yet).
    Begin,
    /// Any read inside a unit of work.
    Read,
    /// Writing one change (earlier changes of the unit are already written).
    Apply,
    /// The commit fails: nothing of the unit is kept.
    Commit,
    /// The commit succeeds but the caller is told it failed (a connection lost after the
    /// server committed): everything of the unit is kept.
    AfterCommit,
}

impl FaultPoint {
    /// Every point.
    pub const ALL: &'static [FaultPoint] =
        &[FaultPoint::Begin, FaultPoint::Read, FaultPoint::Apply, FaultPoint::Commit, FaultPoint::AfterCommit];
}

enum Plan {
    Random { rng: fastrand::Rng, rate: f64, points: Vec<FaultPoint> },
    Nth { point: FaultPoint, left: usize },
    Off,
}

struct Faults {
    plan: Plan,
    injected: Vec<FaultPoint>,
}

impl Faults {
    /// Whether a call at `point` fails now; logs it if so.
    fn strike(&mut self, point: FaultPoint) -> bool {
        let hit = match &mut self.plan {
            Plan::Random { rng, rate, points } => points.contains(&point) && rng.f64() < *rate,
            Plan::Nth { point: p, left } if *p == point => {
                *left -= 1;
                *left == 0
            }
            Plan::Nth { .. } | Plan::Off => false,
        };
        if hit {
            self.injected.push(point);
            if matches!(self.plan, Plan::Nth { .. }) {
                self.plan = Plan::Off; // once
            }
        }
        hit
    }
}

type Shared = Arc<Mutex<Faults>>;

fn strike(faults: &Shared, point: FaultPoint) -> Result<()> {
    let hit = faults.lock().unwrap_or_else(PoisonError::into_inner).strike(point);
    if hit { Err(Error::Storage(format!("injected fault at {point:?}"))) } else { Ok(()) }
}

/// A store that fails calls of the store it wraps, by plan.
#[derive(Clone)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Shared,
}

impl FaultyStore {
    fn with(inner: Arc<dyn Store>, plan: Plan) -> Self {
        FaultyStore { inner, faults: Arc::new(Mutex::new(Faults { plan, injected: Vec::new() })) }
    }

    /// Fails each call at one of `points` with probability `rate` (0–1), from a seeded
    /// generator: the same seed and calls give the same faults.
    pub fn random(inner: Arc<dyn Store>, seed: u64, rate: f64, points: &[FaultPoint]) -> Self {
        let plan = Plan::Random { rng: fastrand::Rng::with_seed(seed), rate, points: points.to_vec() };
        Self::with(inner, plan)
    }

    /// Fails the `n`-th call at `point` (1 is the next), once.
    pub fn nth(inner: Arc<dyn Store>, point: FaultPoint, n: usize) -> Self {
        Self::with(inner, Plan::Nth { point, left: n.max(1) })
    }

    /// Stops injecting faults.
    pub fn heal(&self) {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).plan = Plan::Off;
    }

    /// The faults injected so far, in order.
    pub fn injected(&self) -> Vec<FaultPoint> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).injected.clone()
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn begin(&self) -> Result<Box<dyn Tx>> {
        strike(&self.faults, FaultPoint::Begin)?;
        Ok(Box::new(FaultyTx { inner: self.inner.begin().await?, faults: self.faults.clone() }))
    }
    async fn read(&self) -> Result<Box<dyn Tx>> {
        strike(&self.faults, FaultPoint::Begin)?;
        Ok(Box::new(FaultyTx { inner: self.inner.read().await?, faults: self.faults.clone() }))
    }
}

/// A unit of work of a [`FaultyStore`].
pub struct FaultyTx {
    inner: Box<dyn Tx>,
    faults: Shared,
}

macro_rules! reads {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        #[async_trait]
        impl Tx for FaultyTx {
            $(async fn $name(&mut self, $($arg: $ty),*) -> Result<$ret> {
                strike(&self.faults, FaultPoint::Read)?;
                self.inner.$name($($arg),*).await
            })*
            async fn prefetch(&mut self, reads: &[Read]) -> Result<()> {
                strike(&self.faults, FaultPoint::Read)?;
                self.inner.prefetch(reads).await
            }
            async fn slice(&mut self, spec: &SliceSpec) -> Result<Vec<SliceRow>> {
                strike(&self.faults, FaultPoint::Read)?;
                self.inner.slice(spec).await
            }
            async fn apply(&mut self, change: Change) -> Result<()> {
                strike(&self.faults, FaultPoint::Apply)?;
                self.inner.apply(change).await
            }
            async fn commit(self: Box<Self>) -> Result<()> {
                strike(&self.faults, FaultPoint::Commit)?;
                self.inner.commit().await?;
                strike(&self.faults, FaultPoint::AfterCommit)
            }
        }
    };
}

reads! {
    lock(key: Lock) -> ();
    territory(id: TerritoryId) -> Option<Territory>;
    org(id: OrgId) -> Option<Organisation>;
    person(id: PersonId) -> Option<Person>;
    person_by_email(key: &str) -> Option<Person>;
    person_by_snils(digits: &str) -> Option<Person>;
    grants(person: PersonId) -> Vec<RoleGrant>;
    role_exists(role: Role) -> bool;
    role_holders(role: Role) -> Vec<PersonId>;
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
    trainings_between(from: NaiveDate, to: NaiveDate, provider: Option<OrgId>) -> Vec<TrainingRecord>;
    certificate(series: &str, number: &str) -> Option<TrainingRecord>;
    documents_issued(provider: OrgId, year: i32) -> Issued;
    staff_rows(scope: Scope) -> Vec<StaffRow>;
    cycle(year: i32) -> Option<Cycle>;
    quota(number: &str) -> Option<Quota>;
    person_quota(person: PersonId, year: i32) -> Option<Quota>;
    quotas(year: i32) -> Vec<Quota>;
    preferences(person: PersonId, year: i32) -> Option<Preferences>;
    year_preferences(year: i32) -> Vec<Preferences>;
    year_plans(year: i32) -> Vec<PlanEntry>;
    year_groups(year: i32) -> Vec<Group>;
    funding(year: i32) -> Vec<FundingAccount>;
    survey(id: SurveyId) -> Option<Survey>;
    surveys() -> Vec<Survey>;
    responses(survey: SurveyId) -> Vec<Response>;
    response(survey: SurveyId, person: PersonId) -> Option<Response>;
    outbox(now: DateTime<Utc>, limit: usize) -> Vec<OutboxItem>;
    mark_delivery(id: NotificationId, outcome: Delivery) -> ();
}
