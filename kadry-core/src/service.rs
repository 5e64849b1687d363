//! The application service: runs a command as one unit of work — authorise → load → decide →
//! commit state, notifications and the audit entry together — and answers queries.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::access::{Action, Actor, ActorInfo, OrgRef, Target, authorize};
use crate::calendar::{ProductionCalendar, WorkingCalendar};
use crate::command::*;
use crate::decide::{self as d, Ctx};
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::policy::RegionPolicy;
use crate::ports::{Change, Clock, Delivery, IdSource, Notifier, Store, Tx};

mod planning;
mod records;
mod reports;
mod surveys;

/// The application service over the ports. Cheap to clone; hold one per region.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    calendar: Arc<dyn WorkingCalendar>,
    policy: Arc<RegionPolicy>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("region", &self.policy.region).finish_non_exhaustive()
    }
}

fn nf(what: &str) -> Error {
    Error::NotFound(what.to_string())
}

impl Service {
    /// A service for `policy` over the given ports, with the Russian production calendar of the
    /// policy's region.
    pub fn new(policy: RegionPolicy, store: Arc<dyn Store>, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        let calendar = Arc::new(ProductionCalendar::new(policy.calendar));
        Self::with_calendar(policy, store, clock, ids, calendar)
    }

    /// A service with an explicit working-day calendar.
    pub fn with_calendar(
        policy: RegionPolicy,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        calendar: Arc<dyn WorkingCalendar>,
    ) -> Self {
        Service { store, clock, ids, calendar, policy: Arc::new(policy) }
    }

    /// The region's policy.
    pub fn policy(&self) -> &RegionPolicy {
        &self.policy
    }

    /// What the service's clock shows now.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    fn ctx(&self, now: DateTime<Utc>) -> Ctx<'_> {
        Ctx {
            now,
            today: self.policy.local_date(now),
            policy: &self.policy,
            calendar: &*self.calendar,
            ids: &*self.ids,
        }
    }

    /// Creates the region's first operator account (email confirmed), once: refused with
    /// `state.invalid` when an operator exists. Hosts call it at installation.
    pub async fn bootstrap_operator(&self, full_name: &str, email: &str, basis: &str) -> Result<PersonId> {
        let ctx = self.ctx(self.clock.now());
        let mut tx = self.store.begin().await?;
        if tx.role_exists(Role::Operator).await? {
            return Err(Error::InvalidState("the region already has an operator".into()));
        }
        let (id, mut changes) = self.official(&ctx, &mut *tx, full_name, email, Role::Operator, basis).await?;
        if let Some(Change::PutPerson(p)) = changes.first_mut() {
            p.email_confirmed = true;
        }
        changes.push(Change::Audit(AuditEntry {
            at: ctx.now,
            actor: Actor::System,
            action: "bootstrap_operator".into(),
            subject: Some(id),
        }));
        for c in changes {
            tx.apply(c).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn official(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        full_name: &str,
        email: &str,
        role: Role,
        basis: &str,
    ) -> Result<(PersonId, Vec<Change>)> {
        let name = d::parse_name(full_name)?;
        let email = d::parse_email(email)?;
        let scope = d::check_scope(role, None)?;
        if !matches!(role, Role::Ministry | Role::Expert | Role::Operator) {
            return Err(Error::InvalidInput("officials hold region roles".into()));
        }
        if basis.trim().is_empty() {
            return Err(Error::RoleBasisRequired);
        }
        d::check_unique(None, tx.person_by_email(email.key()).await?.as_ref(), None)?;
        let id = PersonId(ctx.id());
        let person = Person {
            profile: Default::default(),
            id,
            full_name: name,
            email,
            email_confirmed: false,
            snils: None,
            subject: None,
            birth_year: None,
            consent_at: ctx.now,
            pending_change: None,
            registered_at: ctx.now,
        };
        let g = d::grant(ctx, id, role, scope, basis)?;
        Ok((id, vec![Change::PutPerson(person), g]))
    }

    /// Runs a command for `actor` now, as one unit of work. On refusal nothing is committed.
    /// A storage conflict (`storage.conflict`) is retried up to [`Service::MAX_ATTEMPTS`] times.
    pub async fn execute(&self, actor: Actor, command: Command) -> Result<Outcome> {
        let mut attempt = 1;
        loop {
            match self.execute_once(actor, command.clone()).await {
                Err(Error::Conflict(_)) if attempt < Self::MAX_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    /// Runs `commands` in order as ONE unit of work, all or none: each is decided against the
    /// state the earlier ones leave, and every result is reported (a dry run sees every bad
    /// row, not just the first). The batch commits only when `commit` is true and every
    /// command succeeded; otherwise nothing changes. Used by bulk imports (R-A10: 100 % of
    /// staff, never half-imported).
    pub async fn execute_batch(
        &self,
        actor: Actor,
        commands: Vec<Command>,
        commit: bool,
    ) -> Result<Vec<Result<Outcome>>> {
        let mut attempt = 1;
        loop {
            match self.execute_batch_once(actor, commands.clone(), commit).await {
                Err(Error::Conflict(_)) if attempt < Self::MAX_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    async fn execute_batch_once(
        &self,
        actor: Actor,
        commands: Vec<Command>,
        commit: bool,
    ) -> Result<Vec<Result<Outcome>>> {
        let now = self.clock.now();
        let ctx = self.ctx(now);
        let mut tx = self.store.begin().await?;
        let mut results = Vec::with_capacity(commands.len());
        for command in commands {
            let name = command.name();
            let result = match self.decide(&ctx, &mut *tx, actor, command).await {
                Ok((outcome, subject, changes)) => {
                    let mut applied = Ok(outcome);
                    for c in changes.into_iter().chain([Change::Audit(AuditEntry {
                        at: now,
                        actor,
                        action: name.to_string(),
                        subject,
                    })]) {
                        if let Err(e) = tx.apply(c).await {
                            applied = Err(e);
                            break;
                        }
                    }
                    applied
                }
                Err(e) => Err(e),
            };
            if let Err(Error::Conflict(m)) = &result {
                return Err(Error::Conflict(m.clone()));
            }
            results.push(result);
        }
        if commit && results.iter().all(Result::is_ok) {
            tx.commit().await?;
        }
        Ok(results)
    }

    /// How many times a conflicting command is tried.
    pub const MAX_ATTEMPTS: u32 = 8;

    async fn execute_once(&self, actor: Actor, command: Command) -> Result<Outcome> {
        let now = self.clock.now();
        let ctx = self.ctx(now);
        let me = match actor {
            Actor::Person(p) => Some(p),
            _ => None,
        };
        let mut tx = self.store.begin_locked(&command.locks(me)).await?;
        tx.prefetch(&command.reads(me)).await?;
        let name = command.name();
        let (outcome, subject, mut changes) = self.decide(&ctx, &mut *tx, actor, command).await?;
        changes.push(Change::Audit(AuditEntry { at: now, actor, action: name.to_string(), subject }));
        tx.apply_all(changes).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Answers a query for `actor` now.
    pub async fn query(&self, actor: Actor, query: Query) -> Result<QueryResult> {
        let ctx = self.ctx(self.clock.now());
        let mut tx = self.store.read().await?;
        self.answer(&ctx, &mut *tx, actor, query).await
    }

    /// One relay step: delivers up to `limit` due outbox notifications through `notifier`.
    /// A failed attempt is retried after `backoff(attempts)`, or given up (kept as a dead
    /// letter) once `max_attempts` is reached. Returns how many were delivered.
    pub async fn deliver_pending(&self, notifier: &dyn Notifier, limit: usize) -> Result<usize> {
        self.deliver_pending_with(notifier, limit, 8, default_backoff).await
    }

    /// [`Service::deliver_pending`] with an explicit retry policy.
    pub async fn deliver_pending_with(
        &self,
        notifier: &dyn Notifier,
        limit: usize,
        max_attempts: u32,
        backoff: fn(u32) -> chrono::Duration,
    ) -> Result<usize> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let items = tx.outbox(now, limit).await?;
        let mut delivered = 0;
        for item in items {
            let outcome = match notifier.deliver(&item.notification, &item.email).await {
                Ok(()) => Delivery::Delivered,
                Err(_) if item.attempts + 1 >= max_attempts => Delivery::GaveUp,
                Err(_) => Delivery::RetryAt(now + backoff(item.attempts + 1)),
            };
            delivered += usize::from(outcome == Delivery::Delivered);
            tx.mark_delivery(item.notification.id, outcome).await?;
        }
        tx.commit().await?;
        Ok(delivered)
    }

    async fn person_or_nf(tx: &mut dyn Tx, id: PersonId) -> Result<Person> {
        tx.person(id).await?.ok_or_else(|| nf("person"))
    }

    /// A group as shown: seats held, of them confirmed, and its status `today`.
    async fn group_view(tx: &mut dyn Tx, g: Group, title: String, today: NaiveDate) -> Result<GroupView> {
        // An open group with no seat taken has no listener to count (the catalogue's usual case).
        let confirmed = if g.taken == 0 && g.completed_on.is_none() {
            0
        } else {
            let seated = tx.group_enrollments(g.id).await?.into_iter().filter(|e| {
                e.status == EnrollmentStatus::Enrolled || (g.completed_on.is_some() && e.status.holds_blocks())
            });
            seated.filter(|e| e.confirmed).count() as u32
        };
        Ok(GroupView {
            id: g.id,
            program: g.program,
            title,
            status: g.status(today),
            starts: g.starts,
            ends: g.ends,
            place: g.place,
            funding: g.funding,
            enrolled: g.taken,
            confirmed,
            capacity: g.capacity,
            seats_left: g.capacity.saturating_sub(g.taken),
        })
    }

    async fn org_ref(tx: &mut dyn Tx, org: OrgId) -> Result<OrgRef> {
        let territory = tx.org(org).await?.map(|o| o.territory).unwrap_or(TerritoryId(uuid::Uuid::nil()));
        Ok(OrgRef { org, territory })
    }

    /// The target for an action about `person`: their current organisation(s).
    async fn person_target(tx: &mut dyn Tx, person: PersonId) -> Result<(Target, Vec<Employment>)> {
        let emps = tx.employments(person).await?;
        let mut orgs = Vec::new();
        if let Some(e) = d::current_employment(&emps) {
            orgs.push(Self::org_ref(tx, e.org).await?);
        }
        Ok((Target::person(person, orgs), emps))
    }

    async fn authorize(tx: &mut dyn Tx, actor: Actor, action: Action, target: &Target) -> Result<()> {
        let (person, grants) = match actor {
            Actor::Person(id) => (tx.person(id).await?, tx.grants(id).await?),
            _ => (None, Vec::new()),
        };
        authorize(&ActorInfo { actor, person: person.as_ref(), grants: &grants }, action, target)
    }

    async fn scope_of(tx: &mut dyn Tx, scope: Option<ScopeRef>) -> Result<Option<Scope>> {
        Ok(match scope {
            None => None,
            Some(ScopeRef::Organisation(o)) => {
                tx.org(o).await?.ok_or_else(|| nf("organisation"))?;
                Some(Scope::Organisation(o))
            }
            Some(ScopeRef::Territory(t)) => {
                tx.territory(t).await?.ok_or_else(|| nf("territory"))?;
                Some(Scope::Territory(t))
            }
        })
    }

    #[allow(clippy::too_many_lines)]
    async fn decide(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        actor: Actor,
        command: Command,
    ) -> Result<(Outcome, Option<PersonId>, Vec<Change>)> {
        use Command as C;
        let created = |id: uuid::Uuid| Outcome::Created(id);
        Ok(match command {
            C::RegisterTerritory { name } => {
                Self::authorize(tx, actor, Action::RegisterTerritory, &Target::region()).await?;
                let id = TerritoryId(ctx.id());
                let t = Territory { id, name: d::non_empty("name", &name)? };
                (created(id.0), None, vec![Change::PutTerritory(t)])
            }
            C::RegisterOrg { name, kind, territory, parent, license, ownership } => {
                Self::authorize(tx, actor, Action::RegisterOrg, &Target::territory(territory)).await?;
                let name = d::non_empty("name", &name)?;
                tx.territory(territory).await?.ok_or_else(|| nf("territory"))?;
                if let Some(p) = parent {
                    let parent = tx.org(p).await?.ok_or_else(|| nf("parent organisation"))?;
                    if parent.territory != territory {
                        return Err(Error::InvalidInput("a subdivision lies in its parent's territory".into()));
                    }
                }
                if let Some(l) = &license {
                    if !kind.may_provide() {
                        return Err(Error::InvalidInput("only providers hold a licence here".into()));
                    }
                    d::non_empty("licence number", &l.number)?;
                }
                let id = OrgId(ctx.id());
                let org = Organisation {
                    id,
                    name,
                    kind,
                    territory,
                    parent,
                    license,
                    ownership: ownership.unwrap_or_default(),
                    closed_on: None,
                };
                (created(id.0), None, vec![Change::PutOrg(org)])
            }
            C::ReorganizeOrg { org, into } => {
                let target = Target {
                    orgs: vec![Self::org_ref(tx, org).await?, Self::org_ref(tx, into).await?],
                    ..Target::default()
                };
                Self::authorize(tx, actor, Action::ReorganizeOrg, &target).await?;
                let from = tx.org(org).await?.ok_or_else(|| nf("organisation"))?;
                let to = tx.org(into).await?.ok_or_else(|| nf("successor organisation"))?;
                let staff = tx.staff(org).await?;
                (Outcome::Done, None, d::reorganize(ctx, &from, &to, &staff)?) // R-E5
            }
            C::RegisterPerson { full_name, email, org, position, pedagogical, consent, snils, subject, birth_year } => {
                let target = Target::org(Self::org_ref(tx, org).await?);
                Self::authorize(tx, actor, Action::RegisterPerson, &target).await?;
                let input =
                    d::NewPerson { full_name, email, position, pedagogical, consent, snils, subject, birth_year };
                let parsed = d::parse_new_person(&input)?;
                let organisation = tx.org(org).await?.ok_or_else(|| nf("organisation"))?;
                d::check_open(&organisation)?;
                let by_email = tx.person_by_email(parsed.1.key()).await?;
                let by_snils = match &parsed.2 {
                    Some(s) => tx.person_by_snils(s.digits()).await?,
                    None => None,
                };
                d::check_unique(None, by_email.as_ref(), by_snils.as_ref())?; // R-A2, R-A3, R-A10
                let (id, changes) = d::register_person(ctx, parsed, &input, &organisation, actor == Actor::Anonymous);
                (created(id.0), Some(id), changes)
            }
            C::RegisterOfficial { full_name, email, role, basis } => {
                Self::authorize(tx, actor, Action::RegisterOfficial, &Target::region()).await?;
                let (id, changes) = self.official(ctx, tx, &full_name, &email, role, &basis).await?;
                (created(id.0), Some(id), changes)
            }
            C::ConfirmEmail { person } => {
                Self::authorize(tx, actor, Action::ConfirmEmail, &Target::person(person, vec![])).await?;
                let p = Self::person_or_nf(tx, person).await?;
                let changes = if p.email_confirmed {
                    vec![]
                } else {
                    vec![Change::PutPerson(Person { email_confirmed: true, ..p })]
                };
                (Outcome::Done, Some(person), changes)
            }
            C::GrantRole { person, role, scope, basis } => {
                Self::authorize(tx, actor, Action::GrantRole, &Target::region()).await?;
                Self::person_or_nf(tx, person).await?;
                let scope = d::check_scope(role, Self::scope_of(tx, scope).await?)?;
                (Outcome::Done, Some(person), vec![d::grant(ctx, person, role, scope, &basis)?])
            }
            C::RequestRole { role, scope, basis } => {
                let Actor::Person(me) = actor else {
                    return Err(Error::AccessDenied("an account is needed".into()));
                };
                Self::authorize(tx, actor, Action::RequestRole, &Target::person(me, vec![])).await?;
                let scope = d::check_scope(role, Self::scope_of(tx, scope).await?)?;
                let basis = basis.trim().to_string();
                if basis.is_empty() {
                    return Err(Error::RoleBasisRequired);
                }
                let req = RoleRequest { person: me, role, scope, basis, requested_at: ctx.now };
                (Outcome::Done, Some(me), vec![Change::PutRoleRequest(req)])
            }
            C::ApproveRoleRequest { person, role } => {
                Self::authorize(tx, actor, Action::ApproveRoleRequest, &Target::region()).await?;
                let req = tx
                    .role_requests(person)
                    .await?
                    .into_iter()
                    .find(|r| r.role == role)
                    .ok_or_else(|| nf("role request"))?;
                let g = d::grant(ctx, person, role, req.scope, &req.basis)?;
                (Outcome::Done, Some(person), vec![g, Change::DeleteRoleRequest { person, role }])
            }
            C::RestoreRole { person, role } => {
                Self::authorize(tx, actor, Action::RestoreRole, &Target::region()).await?;
                let p = Self::person_or_nf(tx, person).await?;
                let suspended: Vec<RoleGrant> =
                    tx.grants(person).await?.into_iter().filter(|g| g.role == role && g.suspended).collect();
                if suspended.is_empty() {
                    return Err(Error::InvalidState("the role is not suspended".into()));
                }
                let mut changes: Vec<Change> =
                    suspended.into_iter().map(|g| Change::PutGrant(RoleGrant { suspended: false, ..g })).collect();
                // R-A9: restoring the role also applies the pending change.
                if p.pending_change.is_some() {
                    let updated = d::apply_pending(p)?;
                    self.recheck_unique(tx, &updated).await?;
                    changes.push(Change::PutPerson(updated));
                }
                (Outcome::Done, Some(person), changes)
            }
            C::UpdatePerson { person, full_name, email, snils, subject } => {
                let (target, _) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::UpdatePerson, &target).await?;
                let p = Self::person_or_nf(tx, person).await?;
                let change =
                    d::parse_change(full_name.as_deref(), email.as_deref(), snils.as_deref(), subject.as_deref())?;
                let by_email = match &change.email {
                    Some(e) => tx.person_by_email(e.key()).await?,
                    None => None,
                };
                let by_snils = match &change.snils {
                    Some(s) => tx.person_by_snils(s.digits()).await?,
                    None => None,
                };
                d::check_unique(Some(person), by_email.as_ref(), by_snils.as_ref())?;
                let grants = tx.grants(person).await?;
                (Outcome::Done, Some(person), d::update_person(p, change, &grants, ctx.today)) // R-A8, R-A9
            }
            C::ConfirmPersonChange { person } => {
                let (target, _) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::ConfirmPersonChange, &target).await?;
                let p = Self::person_or_nf(tx, person).await?;
                let updated = d::apply_pending(p)?; // R-A8
                self.recheck_unique(tx, &updated).await?;
                (Outcome::Done, Some(person), vec![Change::PutPerson(updated)])
            }
            C::ConfirmWorkplace { person } => {
                let emps = tx.employments(person).await?;
                let pending = emps.iter().rev().find(|e| e.status == EmploymentStatus::Pending).cloned();
                let target = match &pending {
                    Some(e) => Target::org(Self::org_ref(tx, e.org).await?),
                    // Nothing pending: the person's current organisation decides who may hear so.
                    None => Self::person_target(tx, person).await?.0,
                };
                Self::authorize(tx, actor, Action::ConfirmWorkplace, &target).await?;
                Self::person_or_nf(tx, person).await?;
                let e = pending.ok_or_else(|| Error::InvalidState("no workplace awaits confirmation".into()))?;
                // R-A7, R-E2, R-E3
                let active = Employment { status: EmploymentStatus::Active, since: ctx.today, ..e };
                (Outcome::Done, Some(person), vec![Change::PutEmployment(active)])
            }
            C::Dismiss { person } => {
                let (target, emps) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::Dismiss, &target).await?;
                let current = d::current_employment(&emps).ok_or(Error::EmploymentNone)?;
                (Outcome::Done, Some(person), d::leave(ctx, current, None)) // R-E1
            }
            C::Transfer { person, to } => {
                let (target, emps) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::Transfer, &target).await?;
                d::check_open(&tx.org(to).await?.ok_or_else(|| nf("organisation"))?)?;
                let current = d::active_employment(&emps)?;
                if current.org == to {
                    return Err(Error::InvalidState("the worker already works there".into()));
                }
                (Outcome::Done, Some(person), d::leave(ctx, current, Some(to))) // R-E2
            }
            C::ClaimWorkplace { org, position, pedagogical } => {
                let Actor::Person(me) = actor else {
                    return Err(Error::AccessDenied("an account is needed".into()));
                };
                Self::authorize(tx, actor, Action::ClaimWorkplace, &Target::person(me, vec![])).await?;
                d::check_open(&tx.org(org).await?.ok_or_else(|| nf("organisation"))?)?;
                let emps = tx.employments(me).await?;
                if d::current_employment(&emps).is_some() {
                    // A worker with a workplace is moved by a transfer, not by a claim.
                    return Err(Error::InvalidState("the person already has a current workplace".into()));
                }
                let e = Employment {
                    category: Default::default(),
                    parental_leave: false,
                    id: EmploymentId(ctx.id()),
                    person: me,
                    org,
                    position,
                    pedagogical: pedagogical.unwrap_or(true),
                    status: EmploymentStatus::Pending, // R-E3
                    since: ctx.today,
                    until: None,
                };
                (Outcome::Done, Some(me), vec![Change::PutEmployment(e)])
            }
            C::RequestVoucher { worker } => {
                let (target, emps) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::RequestVoucher, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let vouchers = tx.vouchers(worker).await?;
                (Outcome::Done, Some(worker), d::request_voucher(ctx, worker, &emps, &vouchers)?)
            }
            C::ApproveVoucher { worker } => {
                Self::authorize(tx, actor, Action::ApproveVoucher, &Target::region()).await?;
                Self::person_or_nf(tx, worker).await?;
                let emps = tx.employments(worker).await?;
                let vouchers = tx.vouchers(worker).await?;
                // R-F1: the issue commits the year's norm against the voucher limit.
                let year = chrono::Datelike::year(&ctx.today);
                let norm = tx.cycle(year).await?.map(|c| c.norm_for(None)).unwrap_or_default();
                let account = tx.funding(year).await?.into_iter().find(|a| a.source == Funding::Voucher);
                let funding = d::VoucherFunding { norm, account: account.as_ref() };
                (Outcome::Done, Some(worker), d::approve_voucher(ctx, &emps, &vouchers, &funding)?)
            }
            C::RejectVoucher { worker, reason } => {
                Self::authorize(tx, actor, Action::RejectVoucher, &Target::region()).await?;
                Self::person_or_nf(tx, worker).await?;
                let vouchers = tx.vouchers(worker).await?;
                (Outcome::Done, Some(worker), d::reject_voucher(ctx, &vouchers, &reason)?)
            }
            C::CancelVoucher { worker, reason } => {
                Self::authorize(tx, actor, Action::CancelVoucher, &Target::region()).await?;
                Self::person_or_nf(tx, worker).await?;
                let vouchers = tx.vouchers(worker).await?;
                let enrollments = tx.person_enrollments(worker).await?;
                (Outcome::Done, Some(worker), d::cancel_voucher(ctx, &vouchers, &enrollments, &reason)?)
            }
            C::RecordPaperVoucher { worker, issued_on } => {
                Self::authorize(tx, actor, Action::RecordPaperVoucher, &Target::region()).await?;
                Self::person_or_nf(tx, worker).await?;
                let emps = tx.employments(worker).await?;
                let vouchers = tx.vouchers(worker).await?;
                (Outcome::Done, Some(worker), d::record_paper_voucher(ctx, worker, &emps, &vouchers, issued_on)?)
            }
            C::SubmitProgram {
                provider,
                title,
                hours,
                annotation,
                positions,
                profile_for,
                org_kinds,
                subjects,
                year,
                direction,
                min_group,
                max_group,
                places,
                form,
            } => {
                Self::authorize(tx, actor, Action::SubmitProgram, &Target::provider(provider)).await?;
                let org = tx.org(provider).await?.ok_or_else(|| nf("provider"))?;
                let stage = match year {
                    Some(y) => tx.cycle(y).await?.map_or(0, |c| c.stage),
                    None => 0,
                };
                let p = d::NewProgram {
                    title,
                    hours,
                    annotation,
                    positions,
                    profile_for,
                    org_kinds,
                    subjects,
                    year,
                    direction,
                    min_group,
                    max_group,
                    places,
                    form,
                };
                let (id, changes) = d::submit_program(ctx, &org, p, stage)?;
                (created(id.0), None, changes)
            }
            C::ApproveProgram { program } => {
                Self::authorize(tx, actor, Action::ApproveProgram, &Target::region()).await?;
                let p = tx.program(program).await?.ok_or_else(|| nf("program"))?;
                if self.policy.council_expertise {
                    // R-W3: the expert council and the ministry's registry decide instead.
                    return Err(Error::InvalidState("programs enter the registry through the expert council".into()));
                }
                // R-P1
                let changes = if p.status == ProgramStatus::Approved {
                    vec![]
                } else {
                    vec![Change::PutProgram(Program { status: ProgramStatus::Approved, ..p })]
                };
                (Outcome::Done, None, changes)
            }
            C::OpenGroup { program, starts, ends, place, capacity, funding } => {
                let p = tx.program(program).await?;
                let target = p.as_ref().map(|p| Target::provider(p.provider)).unwrap_or_default();
                Self::authorize(tx, actor, Action::OpenGroup, &target).await?;
                let p = p.ok_or_else(|| nf("program"))?;
                let provider = tx.org(p.provider).await?.ok_or_else(|| nf("provider"))?;
                let (id, changes) =
                    d::open_group(ctx, &p, &provider, d::NewGroup { starts, ends, place, capacity, funding })?;
                (created(id.0), None, changes)
            }
            C::Enroll { worker, group } => {
                let (target, emps) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::Enroll, &target).await?;
                let person = Self::person_or_nf(tx, worker).await?;
                let g = tx.group(group).await?.ok_or_else(|| nf("group"))?;
                let program = tx.program(g.program).await?.ok_or_else(|| nf("program"))?;
                let provider = tx.org(g.provider).await?.ok_or_else(|| nf("provider"))?;
                let org = match d::current_employment(&emps) {
                    Some(e) => tx.org(e.org).await?,
                    None => None,
                };
                let vouchers = tx.vouchers(worker).await?;
                let enrollments = tx.person_enrollments(worker).await?;
                let state_norm = self.state_norm(tx, worker, &g).await?;
                let state = d::EnrollState {
                    person: &person,
                    employments: &emps,
                    org: org.as_ref(),
                    group: &g,
                    program: &program,
                    provider: &provider,
                    vouchers: &vouchers,
                    enrollments: &enrollments,
                    state_norm,
                };
                let (id, changes) = d::enroll(ctx, &state)?;
                (created(id.0), Some(worker), changes)
            }
            C::ConfirmEnrollment { worker, group } => {
                let g = tx.group(group).await?;
                let target = g.as_ref().map(|g| Target::provider(g.provider)).unwrap_or_default();
                Self::authorize(tx, actor, Action::ConfirmEnrollment, &target).await?;
                let g = g.ok_or_else(|| nf("group"))?;
                let enrollments = tx.group_enrollments(group).await?;
                let e = enrollments
                    .iter()
                    .find(|e| e.person == worker && e.status == EnrollmentStatus::Enrolled)
                    .ok_or_else(|| nf("enrolment"))?;
                (Outcome::Done, Some(worker), d::confirm_enrollment(ctx, e, &g))
            }
            C::RemoveFromGroup { worker, group } => {
                let (mut target, _) = Self::person_target(tx, worker).await?;
                target.person = None;
                let g = tx.group(group).await?;
                target.provider = g.as_ref().map(|g| g.provider);
                Self::authorize(tx, actor, Action::RemoveFromGroup, &target).await?;
                let g = g.ok_or_else(|| nf("group"))?;
                let enrollments = tx.person_enrollments(worker).await?;
                let e = d::seat_of(&enrollments, group)?.clone();
                let mut changes = d::remove_from_group(ctx, &e, &g)?;
                // R-W4, R-F1: a formed group's seat passes to the waitlist.
                changes.extend(Self::after_removal(ctx, tx, &e, &g).await?);
                (Outcome::Done, Some(worker), changes)
            }
            C::CompleteGroup { group, passed, failed, attendance, not_completed } => {
                let g = tx.group(group).await?;
                let target = g.as_ref().map(|g| Target::provider(g.provider)).unwrap_or_default();
                Self::authorize(tx, actor, Action::CompleteGroup, &target).await?;
                let g = g.ok_or_else(|| nf("group"))?;
                let program = tx.program(g.program).await?.ok_or_else(|| nf("program"))?;
                let provider = tx.org(g.provider).await?.ok_or_else(|| nf("provider"))?;
                let enrollments = tx.group_enrollments(group).await?;
                let issued = tx.documents_issued(g.provider, chrono::Datelike::year(&ctx.today)).await?;
                let changes = d::complete_group(
                    ctx,
                    &g,
                    &program,
                    &provider,
                    &enrollments,
                    &d::Results {
                        passed: &passed,
                        failed: &failed,
                        attendance: &attendance,
                        not_completed: &not_completed,
                    },
                    issued,
                )?;
                (Outcome::Done, None, changes)
            }
            C::PlanTraining { worker, program, year, place, period, quota } => {
                let (target, emps) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::PlanTraining, &target).await?;
                let person = Self::person_or_nf(tx, worker).await?;
                let p = tx.program(program).await?.ok_or_else(|| nf("program"))?;
                let org = match d::current_employment(&emps) {
                    Some(e) => tx.org(e.org).await?,
                    None => None,
                };
                if let Some(t) = place {
                    tx.territory(t).await?.ok_or_else(|| nf("place of study"))?;
                }
                let plans = tx.plans(worker).await?;
                let provider = tx.org(p.provider).await?.ok_or_else(|| nf("provider"))?;
                let stage = tx.cycle(year).await?.map_or(0, |c| c.stage);
                let quota_of = if self.policy.quotas { tx.person_quota(worker, year).await? } else { None };
                let app = d::Application { year, place, period, quota };
                let (id, changes) = d::plan_training(
                    ctx,
                    &person,
                    &emps,
                    org.as_ref(),
                    (&p, &provider),
                    &plans,
                    &app,
                    (stage, quota_of),
                )?;
                (created(id.0), Some(worker), changes)
            }
            other => self.decide_records(ctx, tx, actor, other).await?,
        })
    }

    /// R-F1: what enrolling `worker` in `g` commits against the state-assignment limit: the
    /// program's norm for the group's year, unless the group is not state-funded or the worker's
    /// quota number carried it (R-W3).
    async fn state_norm(&self, tx: &mut dyn Tx, worker: PersonId, g: &Group) -> Result<crate::planning::Money> {
        use crate::planning::{Money, QuotaStatus};
        if g.funding != Funding::State {
            return Ok(Money::ZERO);
        }
        let year = chrono::Datelike::year(&g.starts);
        let norm = tx.cycle(year).await?.map(|c| c.norm_for(Some(g.program))).unwrap_or_default();
        if norm.is_zero() {
            return Ok(norm);
        }
        let quota = if self.policy.quotas { tx.person_quota(worker, year).await? } else { None };
        Ok(if quota.is_some_and(|q| q.status != QuotaStatus::Refused) { Money::ZERO } else { norm })
    }

    async fn recheck_unique(&self, tx: &mut dyn Tx, p: &Person) -> Result<()> {
        let by_email = tx.person_by_email(p.email.key()).await?;
        let by_snils = match &p.snils {
            Some(s) => tx.person_by_snils(s.digits()).await?,
            None => None,
        };
        d::check_unique(Some(p.id), by_email.as_ref(), by_snils.as_ref())
    }
}

/// Exponential backoff for notification retries: 30 s, 1 min, 2 min, … capped at 1 hour.
pub fn default_backoff(attempt: u32) -> chrono::Duration {
    chrono::Duration::seconds(30i64.saturating_mul(1i64 << attempt.saturating_sub(1).min(7)).min(3600))
}

fn employment_label(e: Option<&Employment>, any: bool) -> &'static str {
    match e.map(|e| e.status) {
        Some(EmploymentStatus::Active) => "active",
        Some(EmploymentStatus::Pending) => "pending",
        Some(EmploymentStatus::Dismissed) => "dismissed",
        None if any => "dismissed",
        None => "none",
    }
}

impl Service {
    async fn answer(&self, ctx: &Ctx<'_>, tx: &mut dyn Tx, actor: Actor, query: Query) -> Result<QueryResult> {
        let today = ctx.today;
        Ok(match query {
            Query::ShowPerson { person } => {
                let (target, emps) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::ShowPerson, &target).await?;
                let p = Self::person_or_nf(tx, person).await?;
                let current = d::current_employment(&emps);
                let org = match current {
                    Some(e) => tx.org(e.org).await?.map(|o| o.name).unwrap_or_else(|| "none".into()),
                    None => "none".into(),
                };
                let roles = tx
                    .grants(person)
                    .await?
                    .into_iter()
                    .map(|g| RoleView { role: g.role, suspended: g.suspended })
                    .collect();
                QueryResult::Person(PersonView {
                    id: p.id,
                    full_name: p.full_name.as_str().to_string(),
                    email: p.email.as_str().to_string(),
                    snils: p.snils.as_ref().map(|s| s.as_str().to_string()),
                    org,
                    employment: employment_label(current, !emps.is_empty()),
                    position: current.map(|e| e.position),
                    email_confirmed: p.email_confirmed,
                    pending_change: p.pending_change.is_some(),
                    roles,
                })
            }
            Query::ShowStaff { org } => {
                let target = Target::org(Self::org_ref(tx, org).await?);
                Self::authorize(tx, actor, Action::ShowStaff, &target).await?;
                tx.org(org).await?.ok_or_else(|| nf("organisation"))?;
                let mut staff = Vec::new();
                for e in tx.staff(org).await? {
                    let name = tx.person(e.person).await?.map(|p| p.full_name.as_str().to_string()).unwrap_or_default();
                    staff.push(StaffEntry {
                        person: e.person,
                        full_name: name,
                        position: e.position,
                        status: e.status,
                    });
                }
                let count = staff.iter().filter(|s| s.status == EmploymentStatus::Active).count();
                let pending = staff.iter().filter(|s| s.status == EmploymentStatus::Pending).count();
                QueryResult::Staff(StaffView { count, pending, staff })
            }
            Query::ShowVoucher { worker } => {
                let (target, _) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::ShowVoucher, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let vouchers = tx.vouchers(worker).await?;
                let enrollments = tx.person_enrollments(worker).await?;
                QueryResult::Voucher(d::voucher_view(self.policy.voucher.as_ref(), &vouchers, &enrollments, today))
            }
            Query::ShowGroup { group } => {
                Self::authorize(tx, actor, Action::ShowGroup, &Target::region()).await?;
                let g = tx.group(group).await?.ok_or_else(|| nf("group"))?;
                let title = tx.program(g.program).await?.map(|p| p.title).unwrap_or_default();
                QueryResult::Group(Self::group_view(tx, g, title, today).await?)
            }
            Query::Directory { territory } => {
                Self::authorize(tx, actor, Action::ShowDirectory, &Target::region()).await?;
                let mut territories = tx.territories().await?;
                territories.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
                let mut orgs: Vec<Organisation> = tx
                    .orgs()
                    .await?
                    .into_iter()
                    .filter(|o| o.closed_on.is_none() && territory.is_none_or(|t| o.territory == t))
                    .collect();
                orgs.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
                QueryResult::Directory(DirectoryView { territories, orgs })
            }
            Query::Catalogue { provider, open_only } => {
                Self::authorize(tx, actor, Action::ShowProgram, &Target::region()).await?;
                let mut programs: Vec<Program> = tx
                    .programs()
                    .await?
                    .into_iter()
                    .filter(|p| p.status == ProgramStatus::Approved && provider.is_none_or(|o| p.provider == o))
                    .collect();
                programs.sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
                let mut entries = Vec::with_capacity(programs.len());
                for p in programs {
                    let mut groups = Vec::new();
                    for g in tx.program_groups(p.id).await? {
                        if !open_only || g.status(today) == GroupStatus::Recruiting {
                            groups.push(Self::group_view(tx, g, p.title.clone(), today).await?);
                        }
                    }
                    groups.sort_by(|a, b| a.starts.cmp(&b.starts).then(a.id.cmp(&b.id)));
                    entries.push(CatalogueEntry { program: p, groups });
                }
                QueryResult::Catalogue(CatalogueView { programs: entries })
            }
            Query::ShowProgram { program } => {
                Self::authorize(tx, actor, Action::ShowProgram, &Target::region()).await?;
                let p = tx.program(program).await?.ok_or_else(|| nf("program"))?;
                QueryResult::Program(ProgramView { program: p })
            }
            Query::ShowTraining { worker } => {
                let (target, _) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::ShowTraining, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let records = tx.trainings(worker).await?;
                QueryResult::Training(TrainingView {
                    // A non-completion (a statement without a final attestation) is not a
                    // finished training; a fail is.
                    completed: records.iter().filter(|r| r.completed).count(),
                    certificates: records.iter().filter(|r| r.certificate.is_some()).count(),
                    last_completed_on: records.iter().filter(|r| r.completed).map(|r| r.completed_on).max(),
                    last_passed_on: records.iter().filter(|r| r.passed).map(|r| r.completed_on).max(),
                    records,
                })
            }
            Query::ShowNotifications { person } => {
                let (target, _) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::ShowNotifications, &target).await?;
                Self::person_or_nf(tx, person).await?;
                let items = tx.notifications(person).await?;
                QueryResult::Notifications(NotificationsView {
                    count: items.len(),
                    last: items.last().map(|n| n.kind.as_str()),
                    items,
                })
            }
            Query::ShowCycle { .. }
            | Query::Eligibility { .. }
            | Query::ShowQuota { .. }
            | Query::ShowApplications { .. }
            | Query::PlanSchedule { .. }
            | Query::PlanExecution { .. }
            | Query::FundingReport { .. }
            | Query::PreferencesSummary { .. } => self.answer_planning(ctx, tx, actor, query).await?,
            Query::Trajectory { worker, year } => {
                let (target, emps) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::Trajectory, &target).await?;
                let person = Self::person_or_nf(tx, worker).await?;
                let e = d::current_employment(&emps).cloned().ok_or(Error::EmploymentNone)?;
                let org = tx.org(e.org).await?.ok_or_else(|| nf("organisation"))?;
                let records = tx.trainings(worker).await?;
                let taken: Vec<ProgramId> = records.iter().filter(|r| r.passed).filter_map(|r| r.program).collect();
                let last_passed = records.iter().filter(|r| r.passed).map(|r| r.completed_on).max();
                // As eligibility counts it: the cycle ends by the year's end (R-V11).
                let due = last_passed.is_none_or(|l| {
                    RegionPolicy::add_months(l, self.policy.training_cycle_months) <= crate::planning::year_end(year)
                });
                // R-G2: only programs whose audience includes the worker; R-P1: approved ones.
                let programs: Vec<Program> = tx
                    .programs()
                    .await?
                    .into_iter()
                    .filter(|p| p.status == ProgramStatus::Approved && p.year.is_none_or(|y| y == year))
                    .filter(|p| d::check_audience(p, &person, &e, &org).is_ok())
                    .collect();
                let preferences = tx.preferences(worker, year).await?;
                let priorities = tx.cycle(year).await?.map(|c| c.priorities).unwrap_or_default();
                // R-R3, R-R2: the deficits the worker reported in their latest diagnostic.
                let deficits = Self::reported_deficits(tx, worker).await?;
                let input = crate::planning::TrajectoryInput {
                    position: e.position,
                    subject: person.subject.as_deref(),
                    programs: &programs,
                    taken: &taken,
                    preferences: preferences.as_ref(),
                    priorities: &priorities,
                    deficits: &deficits,
                    due,
                };
                let programs = crate::planning::trajectory(&input);
                QueryResult::Trajectory(TrajectoryView { count: programs.len(), due, programs })
            }
            Query::VerifyCertificate { series, number, code } => {
                Self::authorize(tx, actor, Action::VerifyCertificate, &Target::region()).await?;
                // An unknown certificate and a wrong code answer alike.
                let unknown = || nf("certificate with this series, number and code");
                let record = tx.certificate(series.trim(), number.trim()).await?.ok_or_else(unknown)?;
                let cert = record.certificate.clone().ok_or_else(unknown)?;
                if cert.code.is_empty() || !cert.code.eq_ignore_ascii_case(code.trim()) {
                    return Err(unknown());
                }
                let holder = tx.person(record.person).await?.map(|p| p.full_name.masked()).unwrap_or_default();
                let provider = match record.provider {
                    Some(o) => tx.org(o).await?.map(|o| o.name).unwrap_or_default(),
                    None => String::new(),
                };
                let starts = match record.group {
                    Some(g) => tx.group(g).await?.map(|g| g.starts),
                    None => None,
                };
                QueryResult::CertificateCheck(CertificateCheckView {
                    series: cert.series,
                    number: cert.number,
                    holder,
                    program: record.program_title,
                    hours: record.hours,
                    starts,
                    ends: record.completed_on,
                    provider,
                    issued_on: cert.issued_on,
                })
            }
            Query::Surveys { .. } | Query::SurveyResults { .. } => self.answer_surveys(ctx, tx, actor, query).await?,
            Query::Slice { .. }
            | Query::Ready { .. }
            | Query::Overdue { .. }
            | Query::GroupRegistry { .. }
            | Query::Registry { .. }
            | Query::FrdoExport { .. } => self.answer_reports(ctx, tx, actor, query).await?,
            Query::Report { metric, scope } => {
                let scope = self.report_scope(tx, actor, Action::Report, scope).await?;
                let rows = tx.staff_rows(scope).await?;
                QueryResult::Report(ReportView { metric, value: report_value(&self.policy, metric, &rows, today) })
            }
        })
    }
}

impl Service {
    /// R-R1: authorises a slice for `action` (ministry: region; territory: its territory; head
    /// and responsible: their organisation) and checks it exists.
    async fn report_scope(
        &self,
        tx: &mut dyn Tx,
        actor: Actor,
        action: Action,
        scope: Option<ScopeRef>,
    ) -> Result<Scope> {
        let (target, scope) = match scope {
            None => (Target::region(), Scope::Region),
            Some(ScopeRef::Territory(t)) => (Target::territory(t), Scope::Territory(t)),
            Some(ScopeRef::Organisation(o)) => (Target::org(Self::org_ref(tx, o).await?), Scope::Organisation(o)),
        };
        Self::authorize(tx, actor, action, &target).await?;
        Self::scope_of(tx, scope_ref(scope)).await?;
        Ok(scope)
    }
}

fn scope_ref(scope: Scope) -> Option<ScopeRef> {
    match scope {
        Scope::Region => None,
        Scope::Territory(t) => Some(ScopeRef::Territory(t)),
        Scope::Organisation(o) => Some(ScopeRef::Organisation(o)),
    }
}

/// R-R1, R-V11: a metric over the rows of a slice.
pub fn report_value(policy: &RegionPolicy, metric: Metric, rows: &[crate::ports::StaffRow], today: NaiveDate) -> u64 {
    let active = rows.iter().filter(|r| r.employment.status == EmploymentStatus::Active);
    let n = match metric {
        Metric::Staff => active.count(),
        Metric::PkOverdue => {
            active.filter(|r| r.employment.pedagogical && d::pk_overdue(policy, r.last_passed_on, today)).count()
        }
        Metric::VouchersActive => {
            active.filter(|r| r.vouchers.iter().any(|v| d::voucher_active(v, &r.voucher_enrollments, today))).count()
        }
    };
    n as u64
}

#[cfg(test)]
mod tests {
    //! The unit-of-work contract, with mocked ports: a refused command never commits; an
    //! accepted one applies its changes and the audit entry, then commits once.

    use super::*;
    use crate::ports::{ManualClock, MockStore, MockTx, SequentialIds};
    use crate::types::{Email, FullName};

    fn operator() -> Person {
        Person {
            profile: Default::default(),
            id: PersonId(uuid::Uuid::from_u128(1)),
            full_name: FullName::parse("Оператор Центра").unwrap(),
            email: Email::parse("op@kadry.invalid").unwrap(),
            email_confirmed: true,
            snils: None,
            subject: None,
            birth_year: None,
            consent_at: DateTime::UNIX_EPOCH,
            pending_change: None,
            registered_at: DateTime::UNIX_EPOCH,
        }
    }

    fn service(tx: MockTx) -> Service {
        let mut store = MockStore::new();
        let mut slot = Some(tx);
        store
            .expect_begin_locked()
            .times(1)
            .returning(move |_| Ok(Box::new(slot.take().expect("one unit of work")) as Box<dyn Tx>));
        Service::new(
            RegionPolicy::samara(),
            Arc::new(store),
            Arc::new(ManualClock::new(DateTime::UNIX_EPOCH)),
            Arc::new(SequentialIds::default()),
        )
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // A minimal executor: the mocked ports never pend.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn a_refused_command_never_commits() {
        let mut tx = MockTx::new();
        tx.expect_prefetch().returning(|_| Ok(()));
        let op = operator();
        tx.expect_person().returning(move |_| Ok(Some(op.clone())));
        tx.expect_grants().returning(|_| Ok(vec![]));
        tx.expect_apply().never();
        tx.expect_apply_all().never();
        tx.expect_commit().never();
        let s = service(tx);
        let err = block_on(s.execute(
            Actor::Person(PersonId(uuid::Uuid::from_u128(1))),
            Command::RegisterTerritory { name: "Т".into() },
        ))
        .unwrap_err();
        assert_eq!(err.code(), "access.denied");
    }

    #[test]
    fn an_accepted_command_applies_changes_and_audit_then_commits_once() {
        let mut tx = MockTx::new();
        tx.expect_prefetch().times(1).returning(|_| Ok(()));
        let op = operator();
        let op_id = op.id;
        tx.expect_person().returning(move |_| Ok(Some(op.clone())));
        tx.expect_grants().returning(move |p| {
            Ok(vec![RoleGrant {
                person: p,
                role: Role::Operator,
                scope: Scope::Region,
                basis: "приказ".into(),
                granted_at: DateTime::UNIX_EPOCH,
                suspended: false,
            }])
        });
        let mut seq = mockall::Sequence::new();
        // The changes and the audit entry, in order, handed to the store together.
        tx.expect_apply_all()
            .withf(move |cs| {
                matches!(cs.as_slice(), [Change::PutTerritory(t), Change::Audit(a)]
                    if t.name == "Тольятти" && a.action == "register_territory" && a.actor == Actor::Person(op_id))
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(()));
        tx.expect_commit().times(1).in_sequence(&mut seq).returning(|| Ok(()));
        let s = service(tx);
        let out = block_on(s.execute(Actor::Person(op_id), Command::RegisterTerritory { name: " Тольятти ".into() }))
            .unwrap();
        assert!(out.created().is_some());
    }

    fn quota_held_by(holder: PersonId) -> crate::planning::Quota {
        crate::planning::Quota {
            number: "2026-000001".into(),
            year: 2026,
            holder,
            org: OrgId(uuid::Uuid::from_u128(20)),
            territory: TerritoryId(uuid::Uuid::from_u128(21)),
            status: crate::planning::QuotaStatus::Refused,
            refused_on: None,
            committed: Default::default(),
            moves: vec![],
        }
    }

    /// R-W3 under concurrency: a reassignment locks the number's holder, then reads the number
    /// again. A number another command moved in between is a conflict (which `execute` retries
    /// from the start), and nothing is applied or committed.
    #[test]
    fn r_w3_a_number_moved_while_it_is_reassigned_is_a_conflict() {
        let (first, second) = (PersonId(uuid::Uuid::from_u128(10)), PersonId(uuid::Uuid::from_u128(11)));
        let mut tx = MockTx::new();
        tx.expect_prefetch().returning(|_| Ok(()));
        let mut reads = vec![quota_held_by(second), quota_held_by(first)];
        tx.expect_quota().times(2).returning(move |_| Ok(reads.pop()));
        tx.expect_lock().withf(move |l| *l == crate::ports::Lock::Person(first)).times(1).returning(|_| Ok(()));
        tx.expect_apply().never();
        tx.expect_apply_all().never();
        tx.expect_commit().never();
        let s = service(tx);
        let to = PersonId(uuid::Uuid::from_u128(12));
        let cmd = Command::ReassignQuota { number: " 2026-000001 ".into(), to };
        let err = block_on(s.execute_once(Actor::Person(operator().id), cmd)).unwrap_err();
        assert_eq!(err.code(), "storage.conflict");
    }

    /// The same with the holder unchanged: the reassignment goes on to the rules (here the actor
    /// holds no role, so it is refused there, after the lock and the second read).
    #[test]
    fn r_w3_a_number_not_moved_goes_on_to_the_rules() {
        let holder = PersonId(uuid::Uuid::from_u128(10));
        let mut tx = MockTx::new();
        tx.expect_prefetch().returning(|_| Ok(()));
        tx.expect_quota().times(2).returning(move |_| Ok(Some(quota_held_by(holder))));
        tx.expect_lock().withf(move |l| *l == crate::ports::Lock::Person(holder)).times(1).returning(|_| Ok(()));
        let op = operator();
        tx.expect_person().returning(move |_| Ok(Some(op.clone())));
        tx.expect_grants().returning(|_| Ok(vec![]));
        tx.expect_employments().returning(|_| Ok(vec![]));
        tx.expect_apply_all().never();
        tx.expect_commit().never();
        let s = service(tx);
        let cmd = Command::ReassignQuota { number: "2026-000001".into(), to: PersonId(uuid::Uuid::from_u128(12)) };
        let err = block_on(s.execute_once(Actor::Person(operator().id), cmd)).unwrap_err();
        assert_eq!(err.code(), "access.denied");
    }
}
