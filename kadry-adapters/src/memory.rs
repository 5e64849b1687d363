//! The in-memory store: complete, transactional, for tests, the scenario runner and small
//! embedded uses.
//!
//! State lives in persistent (structurally shared) maps, so a unit of work starts from an O(1)
//! snapshot, sees its own changes, and commits by swapping the snapshot in. Writers are
//! serialised by an async mutex; readers never wait for writers. A unit of work dropped without
//! commit leaves no trace.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use imbl::{HashMap, Vector};
use kadry_core::error::{Error, Result};
use kadry_core::ids::*;
use kadry_core::model::*;
use kadry_core::planning::{Cycle, FundingAccount, Money, Preferences, Quota};
use kadry_core::ports::{Change, Delivery, Issued, Lock, OutboxItem, Passed, PersonFacts, StaffRow, Store, Tx};
use kadry_core::survey::{Response, Survey};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A notification in the outbox with its delivery state.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRecord {
    /// The notification.
    pub notification: Notification,
    /// Whether it was delivered.
    pub delivered: bool,
    /// Delivery attempts.
    pub attempts: u32,
    /// When to try again after a failure.
    pub retry_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Given up after too many failures.
    pub gave_up: bool,
}

#[derive(Debug, Clone, Default)]
struct State {
    territories: HashMap<TerritoryId, Territory>,
    orgs: HashMap<OrgId, Organisation>,
    persons: HashMap<PersonId, Person>,
    by_email: HashMap<String, PersonId>,
    by_snils: HashMap<String, PersonId>,
    grants: HashMap<PersonId, Vector<RoleGrant>>,
    role_requests: HashMap<PersonId, Vector<RoleRequest>>,
    employments: HashMap<EmploymentId, Employment>,
    person_employments: HashMap<PersonId, Vector<EmploymentId>>,
    org_employments: HashMap<OrgId, Vector<EmploymentId>>,
    vouchers: HashMap<PersonId, Vector<Voucher>>,
    programs: HashMap<ProgramId, Program>,
    groups: HashMap<GroupId, Group>,
    enrollments: HashMap<EnrollmentId, Enrollment>,
    group_enrollments: HashMap<GroupId, Vector<EnrollmentId>>,
    person_enrollments: HashMap<PersonId, Vector<EnrollmentId>>,
    trainings: HashMap<PersonId, Vector<TrainingRecord>>,
    certificates: HashMap<(OrgId, i32), Issued>,
    plans: HashMap<PersonId, Vector<PlanEntry>>,
    outbox: Vector<OutboxRecord>,
    person_notifications: HashMap<PersonId, Vector<usize>>,
    audit: Vector<AuditEntry>,
    cycles: HashMap<i32, Cycle>,
    quotas: HashMap<String, Quota>,
    quota_holders: HashMap<(PersonId, i32), String>,
    preferences: HashMap<(PersonId, i32), Preferences>,
    funding: HashMap<(i32, Funding), FundingAccount>,
    surveys: HashMap<SurveyId, Survey>,
    responses: HashMap<(SurveyId, PersonId), Response>,
}

fn push_unique<K: std::hash::Hash + Eq + Clone, V: Clone + PartialEq>(m: &mut HashMap<K, Vector<V>>, k: K, v: V) {
    let list = m.entry(k).or_default();
    if !list.contains(&v) {
        list.push_back(v);
    }
}

fn upsert_by<K: std::hash::Hash + Eq + Clone, V: Clone>(
    m: &mut HashMap<K, Vector<V>>,
    k: K,
    v: V,
    same: impl Fn(&V) -> bool,
) {
    let list = m.entry(k).or_default();
    match list.iter().position(same) {
        Some(i) => {
            list.set(i, v);
        }
        None => list.push_back(v),
    }
}

impl State {
    fn put_person(&mut self, p: Person) -> Result<()> {
        // R-A2, R-A3: the store itself keeps emails and SNILS unique.
        let key = p.email.key().to_string();
        if self.by_email.get(&key).is_some_and(|id| *id != p.id) {
            return Err(Error::EmailTaken);
        }
        let snils = p.snils.as_ref().map(|s| s.digits().to_string());
        if let Some(s) = &snils
            && self.by_snils.get(s).is_some_and(|id| *id != p.id)
        {
            return Err(Error::SnilsTaken);
        }
        if let Some(old) = self.persons.get(&p.id) {
            self.by_email.remove(old.email.key());
            if let Some(s) = &old.snils {
                self.by_snils.remove(s.digits());
            }
        }
        self.by_email.insert(key, p.id);
        if let Some(s) = snils {
            self.by_snils.insert(s, p.id);
        }
        self.persons.insert(p.id, p);
        Ok(())
    }

    fn apply(&mut self, change: Change) -> Result<()> {
        match change {
            Change::PutTerritory(t) => {
                self.territories.insert(t.id, t);
            }
            Change::PutOrg(o) => {
                self.orgs.insert(o.id, o);
            }
            Change::PutPerson(p) => self.put_person(p)?,
            Change::PutEmployment(e) => {
                push_unique(&mut self.person_employments, e.person, e.id);
                push_unique(&mut self.org_employments, e.org, e.id);
                self.employments.insert(e.id, e);
            }
            Change::PutGrant(g) => {
                let (role, scope) = (g.role, g.scope);
                upsert_by(&mut self.grants, g.person, g, |x| x.role == role && x.scope == scope);
            }
            Change::PutRoleRequest(r) => {
                let role = r.role;
                upsert_by(&mut self.role_requests, r.person, r, |x| x.role == role);
            }
            Change::DeleteRoleRequest { person, role } => {
                if let Some(list) = self.role_requests.get_mut(&person) {
                    list.retain(|r| r.role != role);
                }
            }
            Change::PutVoucher(v) => {
                let id = v.id;
                upsert_by(&mut self.vouchers, v.person, v, |x| x.id == id);
            }
            Change::PutProgram(p) => {
                self.programs.insert(p.id, p);
            }
            Change::PutGroup(mut g) => {
                if let Some(old) = self.groups.get(&g.id) {
                    g.taken = old.taken;
                }
                self.groups.insert(g.id, g);
            }
            Change::TakeSeat(id) => {
                let g = self.groups.get_mut(&id).ok_or_else(|| Error::NotFound("group".into()))?;
                // R-G3: a conditional update.
                if g.taken >= g.capacity {
                    return Err(Error::GroupFull);
                }
                g.taken += 1;
            }
            Change::FreeSeat(id) => {
                let g = self.groups.get_mut(&id).ok_or_else(|| Error::NotFound("group".into()))?;
                g.taken = g.taken.saturating_sub(1);
            }
            Change::PutEnrollment(e) => {
                push_unique(&mut self.group_enrollments, e.group, e.id);
                push_unique(&mut self.person_enrollments, e.person, e.id);
                self.enrollments.insert(e.id, e);
            }
            Change::AddTraining(t) => {
                if let (Some(c), Some(p)) = (&t.certificate, t.provider) {
                    let year = chrono::Datelike::year(&c.issued_on);
                    self.certificates.entry((p, year)).or_default().certificates += 1;
                }
                if let (Some(st), Some(p)) = (&t.statement, t.provider) {
                    let year = chrono::Datelike::year(&st.issued_on);
                    self.certificates.entry((p, year)).or_default().statements += 1;
                }
                self.trainings.entry(t.person).or_default().push_back(t);
            }
            Change::PutPlan(p) => {
                let id = p.id;
                upsert_by(&mut self.plans, p.person, p, |x| x.id == id);
            }
            Change::Notify(n) => {
                let idx = self.outbox.len();
                self.person_notifications.entry(n.person).or_default().push_back(idx);
                self.outbox.push_back(OutboxRecord {
                    notification: n,
                    delivered: false,
                    attempts: 0,
                    retry_at: None,
                    gave_up: false,
                });
            }
            Change::Audit(a) => self.audit.push_back(a),
            Change::PutCycle(c) => {
                self.cycles.insert(c.year, c);
            }
            Change::PutQuota(q) => {
                // R-W3: one number per worker and year, kept by the store itself.
                let key = (q.holder, q.year);
                if self.quota_holders.get(&key).is_some_and(|n| *n != q.number) {
                    return Err(Error::InvalidState("the worker holds a number for the year already".into()));
                }
                if let Some(old) = self.quotas.get(&q.number) {
                    self.quota_holders.remove(&(old.holder, old.year));
                }
                self.quota_holders.insert(key, q.number.clone());
                self.quotas.insert(q.number.clone(), q);
            }
            Change::PutPreferences(p) => {
                self.preferences.insert((p.person, p.year), p);
            }
            Change::PutSurvey(s) => {
                self.surveys.insert(s.id, s);
            }
            Change::AddResponse(r) => {
                // R-R2: once each, kept by the store itself.
                if self.responses.contains_key(&(r.survey, r.person)) {
                    return Err(Error::InvalidState("the survey is answered already: once each".into()));
                }
                if !self.surveys.contains_key(&r.survey) || !self.persons.contains_key(&r.person) {
                    return Err(Error::NotFound("a referenced record: survey or person".into()));
                }
                self.responses.insert((r.survey, r.person), r);
            }
            Change::SetLimit { year, source, limit } => {
                let a = self.account(year, source);
                // R-F1: never below what is committed.
                if a.used > limit {
                    return Err(Error::FundingLimitExceeded);
                }
                a.limit = Some(limit);
            }
            Change::Commit { year, source, amount, count } => {
                let a = self.account(year, source);
                // R-F1: a conditional update.
                if a.limit.is_some_and(|l| a.used + amount > l) {
                    return Err(Error::FundingLimitExceeded);
                }
                a.used += amount;
                a.commitments += count;
            }
            Change::Release { year, source, amount } => {
                let a = self.account(year, source);
                a.used = (a.used - amount).max(Money::ZERO);
            }
        }
        Ok(())
    }

    fn account(&mut self, year: i32, source: Funding) -> &mut FundingAccount {
        self.funding.entry((year, source)).or_insert_with(|| FundingAccount {
            year,
            source,
            limit: None,
            used: Money::ZERO,
            commitments: 0,
        })
    }
}

/// The in-memory store. Clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    committed: Arc<RwLock<State>>,
    writer: Arc<Mutex<()>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn snapshot(&self) -> State {
        self.committed.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Every notification written to the outbox, oldest first, with its delivery state.
    pub fn outbox_records(&self) -> Vec<OutboxRecord> {
        self.snapshot().outbox.into_iter().collect()
    }

    /// The audit trail, oldest first.
    pub fn audit(&self) -> Vec<AuditEntry> {
        self.snapshot().audit.into_iter().collect()
    }

    /// Counts for invariant checks: (persons, employments, vouchers, groups, enrolments).
    pub fn counts(&self) -> (usize, usize, usize, usize, usize) {
        let s = self.snapshot();
        let vouchers = s.vouchers.values().map(Vector::len).sum();
        (s.persons.len(), s.employments.len(), vouchers, s.groups.len(), s.enrollments.len())
    }

    /// Every funding account (R-F1), for invariant checks.
    pub fn funding_accounts(&self) -> Vec<FundingAccount> {
        let mut v: Vec<FundingAccount> = self.snapshot().funding.values().cloned().collect();
        v.sort_by_key(|a| (a.year, kadry_core::planning::source_order(a.source)));
        v
    }

    /// Every person, group, voucher, enrolment, employment, plan entry, quota number and
    /// funding account: a read-only dump for invariant checks.
    pub fn dump(&self) -> Dump {
        let s = self.snapshot();
        Dump {
            persons: s.persons.values().cloned().collect(),
            groups: s.groups.values().cloned().collect(),
            vouchers: s.vouchers.values().flat_map(|v| v.iter().cloned()).collect(),
            enrollments: s.enrollments.values().cloned().collect(),
            employments: s.employments.values().cloned().collect(),
            plans: s.plans.values().flat_map(|v| v.iter().cloned()).collect(),
            quotas: s.quotas.values().cloned().collect(),
            funding: s.funding.values().cloned().collect(),
        }
    }
}

/// A read-only dump of the store's main tables.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    /// Persons.
    pub persons: Vec<Person>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Voucher records.
    pub vouchers: Vec<Voucher>,
    /// Enrolments.
    pub enrollments: Vec<Enrollment>,
    /// Employments.
    pub employments: Vec<Employment>,
    /// Plan entries: applications for planned training (R-W1..R-W4).
    pub plans: Vec<PlanEntry>,
    /// Quota numbers (Tatarstan, R-W3).
    pub quotas: Vec<Quota>,
    /// Funding accounts (R-F1).
    pub funding: Vec<FundingAccount>,
}

impl Dump {
    /// Who holds a seat where: every (worker, group) with an enrolment not removed.
    pub fn seats(&self) -> std::collections::HashSet<(PersonId, GroupId)> {
        self.enrollments.iter().filter(|e| e.status != EnrollmentStatus::Removed).map(|e| (e.person, e.group)).collect()
    }
}

/// A unit of work on the memory store.
pub struct MemoryTx {
    state: State,
    committed: Arc<RwLock<State>>,
    guard: Option<OwnedMutexGuard<()>>,
}

#[async_trait]
impl Store for MemoryStore {
    async fn begin(&self) -> Result<Box<dyn Tx>> {
        let guard = self.writer.clone().lock_owned().await;
        Ok(Box::new(MemoryTx { state: self.snapshot(), committed: self.committed.clone(), guard: Some(guard) }))
    }

    async fn read(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(MemoryTx { state: self.snapshot(), committed: self.committed.clone(), guard: None }))
    }
}

impl MemoryTx {
    fn by_ids<K, V>(ids: Option<&Vector<K>>, map: &HashMap<K, V>) -> Vec<V>
    where
        K: std::hash::Hash + Eq + Clone,
        V: Clone,
    {
        ids.map(|ids| ids.iter().filter_map(|id| map.get(id).cloned()).collect()).unwrap_or_default()
    }

    fn list<K: std::hash::Hash + Eq, V: Clone>(map: &HashMap<K, Vector<V>>, k: &K) -> Vec<V> {
        map.get(k).map(|v| v.iter().cloned().collect()).unwrap_or_default()
    }
}

#[async_trait]
impl Tx for MemoryTx {
    async fn lock(&mut self, _key: Lock) -> Result<()> {
        Ok(()) // writers are serialised by the store's mutex
    }
    async fn territory(&mut self, id: TerritoryId) -> Result<Option<Territory>> {
        Ok(self.state.territories.get(&id).cloned())
    }
    async fn org(&mut self, id: OrgId) -> Result<Option<Organisation>> {
        Ok(self.state.orgs.get(&id).cloned())
    }
    async fn person(&mut self, id: PersonId) -> Result<Option<Person>> {
        Ok(self.state.persons.get(&id).cloned())
    }
    async fn person_by_email(&mut self, key: &str) -> Result<Option<Person>> {
        Ok(self.state.by_email.get(key).and_then(|id| self.state.persons.get(id)).cloned())
    }
    async fn person_by_snils(&mut self, digits: &str) -> Result<Option<Person>> {
        Ok(self.state.by_snils.get(digits).and_then(|id| self.state.persons.get(id)).cloned())
    }
    async fn grants(&mut self, person: PersonId) -> Result<Vec<RoleGrant>> {
        Ok(Self::list(&self.state.grants, &person))
    }
    async fn role_exists(&mut self, role: Role) -> Result<bool> {
        Ok(self.state.grants.values().any(|gs| gs.iter().any(|g| g.role == role)))
    }
    async fn role_holders(&mut self, role: Role) -> Result<Vec<PersonId>> {
        let mut out: Vec<PersonId> = self
            .state
            .grants
            .values()
            .flat_map(|gs| gs.iter().filter(|g| g.role == role && !g.suspended).map(|g| g.person))
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
    async fn role_requests(&mut self, person: PersonId) -> Result<Vec<RoleRequest>> {
        Ok(Self::list(&self.state.role_requests, &person))
    }
    async fn employments(&mut self, person: PersonId) -> Result<Vec<Employment>> {
        Ok(Self::by_ids(self.state.person_employments.get(&person), &self.state.employments))
    }
    async fn staff(&mut self, org: OrgId) -> Result<Vec<Employment>> {
        let all = Self::by_ids(self.state.org_employments.get(&org), &self.state.employments);
        Ok(all.into_iter().filter(Employment::is_current).collect())
    }
    async fn vouchers(&mut self, person: PersonId) -> Result<Vec<Voucher>> {
        Ok(Self::list(&self.state.vouchers, &person))
    }
    async fn program(&mut self, id: ProgramId) -> Result<Option<Program>> {
        Ok(self.state.programs.get(&id).cloned())
    }
    async fn group(&mut self, id: GroupId) -> Result<Option<Group>> {
        Ok(self.state.groups.get(&id).cloned())
    }
    async fn territories(&mut self) -> Result<Vec<Territory>> {
        Ok(self.state.territories.values().cloned().collect())
    }
    async fn orgs(&mut self) -> Result<Vec<Organisation>> {
        Ok(self.state.orgs.values().cloned().collect())
    }
    async fn programs(&mut self) -> Result<Vec<Program>> {
        Ok(self.state.programs.values().cloned().collect())
    }
    async fn program_groups(&mut self, program: ProgramId) -> Result<Vec<Group>> {
        Ok(self.state.groups.values().filter(|g| g.program == program).cloned().collect())
    }
    async fn group_enrollments(&mut self, group: GroupId) -> Result<Vec<Enrollment>> {
        Ok(Self::by_ids(self.state.group_enrollments.get(&group), &self.state.enrollments))
    }
    async fn person_enrollments(&mut self, person: PersonId) -> Result<Vec<Enrollment>> {
        Ok(Self::by_ids(self.state.person_enrollments.get(&person), &self.state.enrollments))
    }
    async fn trainings(&mut self, person: PersonId) -> Result<Vec<TrainingRecord>> {
        Ok(Self::list(&self.state.trainings, &person))
    }
    async fn plans(&mut self, person: PersonId) -> Result<Vec<PlanEntry>> {
        Ok(Self::list(&self.state.plans, &person))
    }
    async fn notifications(&mut self, person: PersonId) -> Result<Vec<Notification>> {
        let idx = Self::list(&self.state.person_notifications, &person);
        Ok(idx.into_iter().filter_map(|i| self.state.outbox.get(i).map(|r| r.notification.clone())).collect())
    }
    async fn certificate(&mut self, series: &str, number: &str) -> Result<Option<TrainingRecord>> {
        Ok(self
            .state
            .trainings
            .values()
            .flat_map(|v| v.iter())
            .find(|t| t.certificate.as_ref().is_some_and(|c| c.series == series && c.number == number))
            .cloned())
    }
    async fn trainings_between(
        &mut self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        provider: Option<OrgId>,
    ) -> Result<Vec<TrainingRecord>> {
        let mut out: Vec<(chrono::NaiveDate, u64, TrainingRecord)> = Vec::new();
        for records in self.state.trainings.values() {
            for (i, r) in records.iter().enumerate() {
                if r.completed_on >= from && r.completed_on <= to && provider.is_none_or(|p| r.provider == Some(p)) {
                    out.push((r.completed_on, i as u64, r.clone()));
                }
            }
        }
        out.sort_by_key(|(on, i, r)| (*on, r.person, *i));
        Ok(out.into_iter().map(|(_, _, r)| r).collect())
    }
    async fn documents_issued(&mut self, provider: OrgId, year: i32) -> Result<Issued> {
        Ok(self.state.certificates.get(&(provider, year)).copied().unwrap_or_default())
    }
    async fn staff_rows(&mut self, scope: Scope) -> Result<Vec<StaffRow>> {
        let s = &self.state;
        let mut rows = Vec::new();
        for e in s.employments.values().filter(|e| e.is_current()) {
            let Some(org) = s.orgs.get(&e.org) else {
                continue;
            };
            let inside = match scope {
                Scope::Region => true,
                Scope::Territory(t) => org.territory == t,
                Scope::Organisation(o) => org.id == o,
            };
            if !inside {
                continue;
            }
            let trainings = Self::list(&s.trainings, &e.person);
            let enrollments = Self::by_ids(s.person_enrollments.get(&e.person), &s.enrollments);
            rows.push(StaffRow {
                employment: e.clone(),
                org_kind: org.kind,
                territory: org.territory,
                last_passed_on: trainings.iter().filter(|t| t.passed).map(|t| t.completed_on).max(),
                person: s.persons.get(&e.person).map(PersonFacts::of).unwrap_or_default(),
                passed: trainings.iter().filter_map(Passed::of).collect(),
                vouchers: Self::list(&s.vouchers, &e.person),
                voucher_enrollments: enrollments.into_iter().filter(|x| x.voucher.is_some()).collect(),
            });
        }
        // One order whatever the hash maps' (which differs between two stores of the same
        // data): a worker's employments by start, so that what folds them (the eligibility
        // selection keeps a worker's first workplace) answers the same on every run.
        rows.sort_by(|a, b| {
            let key = |r: &StaffRow| (r.employment.person, r.employment.since, r.employment.id);
            key(a).cmp(&key(b))
        });
        Ok(rows)
    }
    async fn cycle(&mut self, year: i32) -> Result<Option<Cycle>> {
        Ok(self.state.cycles.get(&year).cloned())
    }
    async fn quota(&mut self, number: &str) -> Result<Option<Quota>> {
        Ok(self.state.quotas.get(number).cloned())
    }
    async fn person_quota(&mut self, person: PersonId, year: i32) -> Result<Option<Quota>> {
        let s = &self.state;
        Ok(s.quota_holders.get(&(person, year)).and_then(|n| s.quotas.get(n)).cloned())
    }
    async fn quotas(&mut self, year: i32) -> Result<Vec<Quota>> {
        Ok(self.state.quotas.values().filter(|q| q.year == year).cloned().collect())
    }
    async fn preferences(&mut self, person: PersonId, year: i32) -> Result<Option<Preferences>> {
        Ok(self.state.preferences.get(&(person, year)).cloned())
    }
    async fn year_preferences(&mut self, year: i32) -> Result<Vec<Preferences>> {
        Ok(self.state.preferences.values().filter(|p| p.year == year).cloned().collect())
    }
    async fn survey(&mut self, id: SurveyId) -> Result<Option<Survey>> {
        Ok(self.state.surveys.get(&id).cloned())
    }
    async fn surveys(&mut self) -> Result<Vec<Survey>> {
        Ok(self.state.surveys.values().cloned().collect())
    }
    async fn responses(&mut self, survey: SurveyId) -> Result<Vec<Response>> {
        Ok(self.state.responses.values().filter(|r| r.survey == survey).cloned().collect())
    }
    async fn response(&mut self, survey: SurveyId, person: PersonId) -> Result<Option<Response>> {
        Ok(self.state.responses.get(&(survey, person)).cloned())
    }
    async fn year_plans(&mut self, year: i32) -> Result<Vec<PlanEntry>> {
        Ok(self.state.plans.values().flat_map(|v| v.iter().filter(|p| p.year == year).cloned()).collect())
    }
    async fn year_groups(&mut self, year: i32) -> Result<Vec<Group>> {
        Ok(self.state.groups.values().filter(|g| g.plan.as_ref().is_some_and(|p| p.year == year)).cloned().collect())
    }
    async fn funding(&mut self, year: i32) -> Result<Vec<FundingAccount>> {
        Ok(self.state.funding.values().filter(|a| a.year == year).cloned().collect())
    }
    async fn outbox(&mut self, now: chrono::DateTime<chrono::Utc>, limit: usize) -> Result<Vec<OutboxItem>> {
        let s = &self.state;
        Ok(s.outbox
            .iter()
            .filter(|r| !r.delivered && !r.gave_up && r.retry_at.is_none_or(|t| t <= now))
            .filter_map(|r| {
                let p = s.persons.get(&r.notification.person)?;
                Some(OutboxItem { notification: r.notification.clone(), email: p.email.clone(), attempts: r.attempts })
            })
            .take(limit)
            .collect())
    }
    async fn mark_delivery(&mut self, id: NotificationId, outcome: Delivery) -> Result<()> {
        let i = self
            .state
            .outbox
            .iter()
            .position(|r| r.notification.id == id)
            .ok_or_else(|| Error::NotFound("notification".into()))?;
        let mut r = self.state.outbox[i].clone();
        r.attempts += 1;
        match outcome {
            Delivery::Delivered => r.delivered = true,
            Delivery::RetryAt(t) => r.retry_at = Some(t),
            Delivery::GaveUp => r.gave_up = true,
        }
        self.state.outbox.set(i, r);
        Ok(())
    }
    async fn apply(&mut self, change: Change) -> Result<()> {
        if self.guard.is_none() {
            return Err(Error::Storage("a read-only unit of work cannot change state".into()));
        }
        self.state.apply(change)
    }
    async fn commit(self: Box<Self>) -> Result<()> {
        if self.guard.is_some() {
            *self.committed.write().unwrap_or_else(|e| e.into_inner()) = self.state;
        }
        Ok(())
    }
}
