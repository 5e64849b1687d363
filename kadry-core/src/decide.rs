//! Decisions: each command decided against the current state (loaded by the service), the
//! actor, the policy and `now`, yielding the changes (notifications included) or a refusal.
//!
//! Pure functions: no I/O, no clock. Rule ids from `rules.md` stand beside the checks.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use uuid::Uuid;

use crate::calendar::WorkingCalendar;
use crate::command::VoucherView;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::policy::{RegionPolicy, VoucherPolicy, WindowAction};
use crate::ports::{Change, IdSource};
use crate::types::{Email, FullName, Snils};

/// What a decision sees besides state: time, policy, calendar, and an id source.
pub struct Ctx<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// Today in the region's local time.
    pub today: NaiveDate,
    /// The region's policy.
    pub policy: &'a RegionPolicy,
    /// The working-day calendar.
    pub calendar: &'a dyn WorkingCalendar,
    /// Ids for new things.
    pub ids: &'a dyn IdSource,
}

impl Ctx<'_> {
    /// A fresh id.
    pub fn id(&self) -> Uuid {
        self.ids.next_id()
    }

    fn voucher_policy(&self) -> Result<&VoucherPolicy> {
        self.policy
            .voucher
            .as_ref()
            .ok_or_else(|| Error::InvalidState(format!("{} issues no vouchers", self.policy.region.as_str())))
    }

    /// A notification for `person`.
    pub fn notify(&self, person: PersonId, kind: NotificationKind, details_ru: String) -> Change {
        Change::Notify(Notification { id: NotificationId(self.id()), person, kind, at: self.now, details_ru })
    }
}

/// Parses a full name (`input.invalid`).
pub fn parse_name(s: &str) -> Result<FullName> {
    FullName::parse(s).map_err(|e| Error::InvalidInput(format!("full name: {e}")))
}

/// Parses an email (`input.email_invalid`).
pub fn parse_email(s: &str) -> Result<Email> {
    Email::parse(s).map_err(|e| Error::EmailInvalid(e.to_string()))
}

/// Parses a SNILS (`input.snils_invalid`, R-A3).
pub fn parse_snils(s: &str) -> Result<Snils> {
    Snils::parse(s).map_err(|e| Error::SnilsInvalid(e.to_string()))
}

/// A non-empty trimmed text (`input.invalid`).
pub fn non_empty(field: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() { Err(Error::InvalidInput(format!("{field} is empty"))) } else { Ok(t.to_string()) }
}

/// The person's current (active or pending) employment: at most one (R-E4).
pub fn current_employment(emps: &[Employment]) -> Option<&Employment> {
    emps.iter().rev().find(|e| e.is_current())
}

/// The person's active employment, or the refusal R-A7 / `employment.none` gives.
pub fn active_employment(emps: &[Employment]) -> Result<&Employment> {
    match current_employment(emps) {
        Some(e) if e.status == EmploymentStatus::Active => Ok(e),
        Some(_) => Err(Error::EmploymentUnconfirmed), // R-A7
        None => Err(Error::EmploymentNone),
    }
}

/// R-A2, R-A3: the email and SNILS belong to nobody else.
pub fn check_unique(me: Option<PersonId>, by_email: Option<&Person>, by_snils: Option<&Person>) -> Result<()> {
    if by_email.is_some_and(|p| Some(p.id) != me) {
        return Err(Error::EmailTaken); // R-A2
    }
    if by_snils.is_some_and(|p| Some(p.id) != me) {
        return Err(Error::SnilsTaken); // R-A3
    }
    Ok(())
}

/// Input for [`register_person`], parsed.
pub struct NewPerson {
    /// Full name.
    pub full_name: String,
    /// Email.
    pub email: String,
    /// Position.
    pub position: Position,
    /// Pedagogical.
    pub pedagogical: bool,
    /// Consent (R-A4).
    pub consent: bool,
    /// SNILS.
    pub snils: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Year of birth.
    pub birth_year: Option<i32>,
}

/// Parses a new person's personal data: input codes first, then consent (R-A4).
pub fn parse_new_person(p: &NewPerson) -> Result<(FullName, Email, Option<Snils>)> {
    let name = parse_name(&p.full_name)?;
    let email = parse_email(&p.email)?;
    let snils = p.snils.as_deref().map(parse_snils).transpose()?;
    if let Some(y) = p.birth_year
        && !(1900..=2100).contains(&y)
    {
        return Err(Error::InvalidInput(format!("birth year {y}")));
    }
    if !p.consent {
        return Err(Error::ConsentRequired); // R-A4
    }
    Ok((name, email, snils))
}

/// R-A2..R-A7: registers a person at `org`. Self-registration leaves the workplace pending
/// (R-A7); registration by a responsible or the operator confirms it (R-A6).
pub fn register_person(
    ctx: &Ctx<'_>,
    parsed: (FullName, Email, Option<Snils>),
    input: &NewPerson,
    org: &Organisation,
    self_registered: bool,
) -> (PersonId, Vec<Change>) {
    let (full_name, email, snils) = parsed;
    let id = PersonId(ctx.id());
    let person = Person {
        profile: Default::default(),
        id,
        full_name,
        email,
        email_confirmed: false,
        snils,
        subject: input.subject.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        birth_year: input.birth_year,
        consent_at: ctx.now,
        pending_change: None,
        registered_at: ctx.now,
    };
    let employment = Employment {
        category: Default::default(),
        id: EmploymentId(ctx.id()),
        person: id,
        org: org.id,
        position: input.position,
        pedagogical: input.pedagogical,
        status: if self_registered { EmploymentStatus::Pending } else { EmploymentStatus::Active },
        since: ctx.today,
        until: None,
        parental_leave: false,
    };
    (id, vec![Change::PutPerson(person), Change::PutEmployment(employment)])
}

/// Checks a role's scope against its kind (`input.invalid`).
pub fn check_scope(role: Role, scope: Option<Scope>) -> Result<Scope> {
    use crate::model::ScopeKind;
    match (role.scope_kind(), scope) {
        (ScopeKind::Own, _) => Err(Error::InvalidInput("the worker role is held by every account".into())),
        (ScopeKind::Region, None) => Ok(Scope::Region),
        (ScopeKind::Organisation, Some(s @ Scope::Organisation(_))) => Ok(s),
        (ScopeKind::Territory, Some(s @ Scope::Territory(_))) => Ok(s),
        (kind, _) => Err(Error::InvalidInput(format!("role {} needs a {kind:?} scope", role.as_str()))),
    }
}

/// Grants a role on a basis document; an existing grant of the same role and scope is renewed.
pub fn grant(ctx: &Ctx<'_>, person: PersonId, role: Role, scope: Scope, basis: &str) -> Result<Change> {
    let basis = basis.trim();
    if basis.is_empty() {
        return Err(Error::RoleBasisRequired);
    }
    Ok(Change::PutGrant(RoleGrant {
        person,
        role,
        scope,
        basis: basis.to_string(),
        granted_at: ctx.now,
        suspended: false,
    }))
}

/// Parses a personal data change (R-A8).
pub fn parse_change(
    full_name: Option<&str>,
    email: Option<&str>,
    snils: Option<&str>,
    subject: Option<&str>,
) -> Result<PersonChange> {
    let change = PersonChange {
        since: Default::default(),
        full_name: full_name.map(parse_name).transpose()?,
        email: email.map(parse_email).transpose()?,
        snils: snils.map(parse_snils).transpose()?,
        subject: subject.map(|s| s.trim().to_string()),
    };
    if change.is_empty() {
        return Err(Error::InvalidInput("nothing to change".into()));
    }
    Ok(change)
}

/// R-A8, R-A9: records a pending change; a responsible's own change suspends their
/// responsible role until the operator restores it. A value equal to the one held is not a
/// change: it leaves nothing pending and suspends nothing.
pub fn update_person(mut person: Person, change: PersonChange, grants: &[RoleGrant], today: NaiveDate) -> Vec<Change> {
    let change = PersonChange {
        since: Default::default(),
        full_name: change.full_name.filter(|n| *n != person.full_name),
        email: change.email.filter(|e| e.as_str() != person.email.as_str()),
        snils: change.snils.filter(|s| Some(s) != person.snils.as_ref()),
        subject: change.subject.filter(|s| Some(s) != person.subject.as_ref()),
    };
    if change.is_empty() {
        return Vec::new();
    }
    let mut merged = person.pending_change.take().unwrap_or_default();
    merged.full_name = change.full_name.or(merged.full_name);
    merged.email = change.email.or(merged.email);
    merged.snils = change.snils.or(merged.snils);
    merged.subject = change.subject.or(merged.subject);
    merged.since = merged.since.or(Some(today));
    person.pending_change = Some(merged);
    let mut changes = vec![Change::PutPerson(person)];
    for g in grants.iter().filter(|g| g.role == Role::OrgResponsible && !g.suspended) {
        changes.push(Change::PutGrant(RoleGrant { suspended: true, ..g.clone() })); // R-A9
    }
    changes
}

/// Applies a person's pending change (R-A8).
pub fn apply_pending(mut person: Person) -> Result<Person> {
    let change = person.pending_change.take().ok_or_else(|| Error::InvalidState("no pending change".into()))?;
    if let Some(n) = change.full_name {
        person.full_name = n;
    }
    if let Some(e) = change.email {
        person.email = e;
        person.email_confirmed = false;
    }
    if let Some(s) = change.snils {
        person.snils = Some(s);
    }
    if let Some(s) = change.subject {
        person.subject = if s.is_empty() { None } else { Some(s) };
    }
    Ok(person)
}

/// R-E1: dismissal; R-E2: transfer out (the old list drops the worker at once, pending at the
/// new one).
pub fn leave(ctx: &Ctx<'_>, current: &Employment, to: Option<OrgId>) -> Vec<Change> {
    let mut changes = vec![Change::PutEmployment(Employment {
        status: EmploymentStatus::Dismissed,
        until: Some(ctx.today),
        ..current.clone()
    })];
    if let Some(org) = to {
        changes.push(Change::PutEmployment(Employment {
            id: EmploymentId(ctx.id()),
            org,
            status: EmploymentStatus::Pending,
            since: ctx.today,
            until: None,
            ..current.clone()
        }));
    }
    changes
}

/// R-E5: reorganisation moves the current staff of `org` to `into` with their states; the
/// organisation closes and stays in history.
pub fn reorganize(ctx: &Ctx<'_>, org: &Organisation, into: &Organisation, staff: &[Employment]) -> Result<Vec<Change>> {
    if org.id == into.id {
        return Err(Error::InvalidInput("an organisation cannot be reorganised into itself".into()));
    }
    if org.closed_on.is_some() || into.closed_on.is_some() {
        return Err(Error::InvalidState("the organisation is already closed".into()));
    }
    let mut changes = vec![Change::PutOrg(Organisation { closed_on: Some(ctx.today), ..org.clone() })];
    for e in staff.iter().filter(|e| e.is_current()) {
        changes.push(Change::PutEmployment(Employment {
            status: EmploymentStatus::Dismissed,
            until: Some(ctx.today),
            ..e.clone()
        }));
        changes.push(Change::PutEmployment(Employment {
            id: EmploymentId(ctx.id()),
            org: into.id,
            since: ctx.today,
            ..e.clone()
        }));
    }
    Ok(changes)
}

/// Refuses work at a closed organisation (R-E5).
pub fn check_open(org: &Organisation) -> Result<()> {
    match org.closed_on {
        Some(d) => Err(Error::InvalidState(format!("{} closed on {d}", org.name))),
        None => Ok(()),
    }
}

/// The last issued voucher still counting for R-V2.
fn last_issued(vouchers: &[Voucher]) -> Option<&Voucher> {
    vouchers.iter().filter(|v| v.counts_for_interval()).max_by_key(|v| v.issued_on)
}

/// R-V2: the first day a new voucher may be issued, given the vouchers on record.
pub fn next_issue_from(vp: &VoucherPolicy, vouchers: &[Voucher]) -> Option<NaiveDate> {
    last_issued(vouchers).and_then(|v| v.issued_on).map(|d| RegionPolicy::add_months(d, vp.interval_months))
}

fn check_interval(vp: &VoucherPolicy, vouchers: &[Voucher], on: NaiveDate) -> Result<()> {
    // R-V2: at most one voucher per interval, counted from the last issue date (CC art. 192).
    for v in vouchers.iter().filter(|v| v.counts_for_interval()) {
        let Some(issued) = v.issued_on else { continue };
        let next = RegionPolicy::add_months(issued, vp.interval_months);
        let prev_bound = RegionPolicy::add_months(on, vp.interval_months);
        if on < next && issued < prev_bound {
            return Err(Error::VoucherTooSoon { next });
        }
    }
    Ok(())
}

fn check_voucher_eligible(emps: &[Employment]) -> Result<&Employment> {
    let e = active_employment(emps)?;
    // R-V1: only pedagogical workers and heads (руководящие работники: head, deputy head).
    if !(e.pedagogical || matches!(e.position, Position::Head | Position::DeputyHead)) {
        return Err(Error::VoucherNotPedagogical);
    }
    Ok(e)
}

/// R-V1..R-V4: a voucher application.
pub fn request_voucher(
    ctx: &Ctx<'_>,
    worker: PersonId,
    emps: &[Employment],
    vouchers: &[Voucher],
) -> Result<Vec<Change>> {
    let vp = ctx.voucher_policy()?;
    check_voucher_eligible(emps)?;
    // R-V3: one open application at a time.
    if vouchers.iter().any(|v| v.status == VoucherStatus::Requested) {
        return Err(Error::VoucherPendingExists);
    }
    check_interval(vp, vouchers, ctx.today)?; // R-V2
    // R-V4: the decision is due within the SLA, counted from the next day.
    let approve_by = ctx.calendar.add_working_days(ctx.today, vp.approval_sla_working_days);
    Ok(vec![Change::PutVoucher(Voucher {
        id: VoucherId(ctx.id()),
        person: worker,
        status: VoucherStatus::Requested,
        requested_on: Some(ctx.today),
        approve_by: Some(approve_by),
        issued_on: None,
        valid_until: None,
        blocks_total: vp.blocks,
        paper: false,
        org: None,
        position: None,
        reason: None,
        committed: None,
    })])
}

fn open_application(vouchers: &[Voucher]) -> Result<&Voucher> {
    vouchers
        .iter()
        .find(|v| v.status == VoucherStatus::Requested)
        .ok_or_else(|| Error::InvalidState("no voucher application is pending".into()))
}

/// What a voucher issue commits against (R-F1): the year's norm and the voucher account.
pub struct VoucherFunding<'a> {
    /// The financing norm per worker of the issue year.
    pub norm: crate::planning::Money,
    /// The voucher account of the issue year.
    pub account: Option<&'a crate::planning::FundingAccount>,
}

/// R-V2, R-V4, R-V5, R-F1: issues the pending application today and tells the worker; the
/// issue commits the year's norm against the voucher limit.
pub fn approve_voucher(
    ctx: &Ctx<'_>,
    emps: &[Employment],
    vouchers: &[Voucher],
    funding: &VoucherFunding<'_>,
) -> Result<Vec<Change>> {
    let vp = ctx.voucher_policy()?;
    let app = open_application(vouchers)?;
    let e = check_voucher_eligible(emps)?;
    check_interval(vp, vouchers, ctx.today)?; // R-V2, checked again at issue
    let valid_until = RegionPolicy::add_months(ctx.today, vp.validity_months); // R-V5
    let v = Voucher {
        status: VoucherStatus::Issued,
        issued_on: Some(ctx.today),
        valid_until: Some(valid_until),
        blocks_total: vp.blocks,
        org: Some(e.org),
        position: Some(e.position),
        committed: Some(funding.norm).filter(|n| !n.is_zero()),
        ..app.clone()
    };
    crate::planning::check_commitment(funding.account, funding.norm)?; // R-F1
    let details = format!("Чек действителен до {}", valid_until.format("%d.%m.%Y"));
    let mut changes = vec![Change::PutVoucher(v)];
    changes.extend(crate::planning::commitment(ctx.today.year(), Funding::Voucher, funding.norm, 1));
    changes.push(ctx.notify(app.person, NotificationKind::VoucherApproved, details)); // R-N1
    Ok(changes)
}

/// R-V4: rejects the pending application and tells the worker; it does not start R-V2.
pub fn reject_voucher(ctx: &Ctx<'_>, vouchers: &[Voucher], reason: &str) -> Result<Vec<Change>> {
    ctx.voucher_policy()?;
    let reason = non_empty("reason", reason)?;
    let app = open_application(vouchers)?;
    let v = Voucher { status: VoucherStatus::Rejected, reason: Some(reason.clone()), ..app.clone() };
    Ok(vec![Change::PutVoucher(v), ctx.notify(app.person, NotificationKind::VoucherRejected, reason)]) // R-N1
}

/// R-V10: records a paper voucher; it counts for R-V2.
pub fn record_paper_voucher(
    ctx: &Ctx<'_>,
    worker: PersonId,
    emps: &[Employment],
    vouchers: &[Voucher],
    issued_on: NaiveDate,
) -> Result<Vec<Change>> {
    let vp = ctx.voucher_policy()?;
    if issued_on > ctx.today {
        return Err(Error::InvalidInput("a paper voucher's issue date is in the future".into()));
    }
    check_interval(vp, vouchers, issued_on)?; // R-V2
    let current = current_employment(emps);
    Ok(vec![Change::PutVoucher(Voucher {
        id: VoucherId(ctx.id()),
        person: worker,
        status: VoucherStatus::Issued,
        requested_on: None,
        approve_by: None,
        issued_on: Some(issued_on),
        valid_until: Some(RegionPolicy::add_months(issued_on, vp.validity_months)),
        blocks_total: vp.blocks,
        paper: true,
        org: current.map(|e| e.org),
        position: current.map(|e| e.position),
        reason: None,
        committed: None,
    })])
}

/// R-V10: cancels the last issued voucher (a duplicate or a mistake); never deleted. A voucher
/// with blocks reserved or consumed is not cancelled.
pub fn cancel_voucher(
    ctx: &Ctx<'_>,
    vouchers: &[Voucher],
    enrollments: &[Enrollment],
    reason: &str,
) -> Result<Vec<Change>> {
    ctx.voucher_policy()?;
    let reason = non_empty("reason", reason)?;
    let v = last_issued(vouchers).ok_or_else(|| Error::InvalidState("no issued voucher".into()))?;
    if enrollments.iter().any(|e| e.voucher == Some(v.id) && e.status.holds_blocks()) {
        return Err(Error::InvalidState("the voucher's blocks are in use".into()));
    }
    let mut changes =
        vec![Change::PutVoucher(Voucher { status: VoucherStatus::Cancelled, reason: Some(reason), ..v.clone() })];
    // R-F1: a cancelled voucher gives its commitment back.
    if let (Some(amount), Some(on)) = (v.committed, v.issued_on) {
        changes.push(Change::Release { year: on.year(), source: Funding::Voucher, amount });
    }
    Ok(changes)
}

/// Block use of a voucher: (used, profile, consumed).
fn block_use(v: &Voucher, enrollments: &[Enrollment]) -> (u32, u32, u32) {
    enrollments.iter().filter(|e| e.voucher == Some(v.id) && e.status.holds_blocks()).fold(
        (0, 0, 0),
        |(used, profile, consumed), e| {
            let done = matches!(e.status, EnrollmentStatus::Passed | EnrollmentStatus::Failed);
            (used + e.blocks, profile + e.profile_blocks, consumed + if done { e.blocks } else { 0 })
        },
    )
}

/// The worker's voucher as shown (`show_voucher`): the latest record, its status on `today`
/// and its block use (R-V5, R-V8).
pub fn voucher_view(
    vp: Option<&VoucherPolicy>,
    vouchers: &[Voucher],
    enrollments: &[Enrollment],
    today: NaiveDate,
) -> VoucherView {
    let next = vp.and_then(|vp| next_issue_from(vp, vouchers));
    let Some(v) = vouchers.last() else {
        return VoucherView {
            status: "none",
            approve_by: None,
            issued_on: None,
            valid_until: None,
            blocks_total: 0,
            blocks_used: 0,
            profile_blocks: 0,
            blocks_consumed: 0,
            paper: false,
            next_issue_from: next,
        };
    };
    let (used, profile, consumed) = block_use(v, enrollments);
    let status = match v.status {
        VoucherStatus::Requested => "requested",
        VoucherStatus::Rejected => "rejected",
        VoucherStatus::Cancelled => "cancelled",
        VoucherStatus::Issued if consumed >= v.blocks_total => "closed",
        VoucherStatus::Issued if v.valid_until.is_some_and(|u| today > u) => "expired",
        VoucherStatus::Issued => "active",
    };
    VoucherView {
        status,
        approve_by: v.approve_by,
        issued_on: v.issued_on,
        valid_until: v.valid_until,
        blocks_total: v.blocks_total,
        blocks_used: used,
        profile_blocks: profile,
        blocks_consumed: consumed,
        paper: v.paper,
        next_issue_from: next,
    }
}

/// Whether a voucher is active on `today`: issued, in validity, blocks not all consumed.
pub fn voucher_active(v: &Voucher, enrollments: &[Enrollment], today: NaiveDate) -> bool {
    v.status == VoucherStatus::Issued
        && v.valid_until.is_some_and(|u| today <= u)
        && block_use(v, enrollments).2 < v.blocks_total
}

/// Input for [`submit_program`].
pub struct NewProgram {
    /// Title.
    pub title: String,
    /// Hours.
    pub hours: u32,
    /// Annotation.
    pub annotation: Option<String>,
    /// Positions.
    pub positions: Audience<Position>,
    /// Profile for.
    pub profile_for: Audience<Position>,
    /// Organisation kinds.
    pub org_kinds: Audience<OrgKind>,
    /// Subjects.
    pub subjects: Audience<String>,
    /// Planning year.
    pub year: Option<i32>,
    /// Direction.
    pub direction: Option<String>,
    /// Smallest group (R-W4).
    pub min_group: Option<u32>,
    /// Largest group (R-W4).
    pub max_group: Option<u32>,
    /// Places for the year.
    pub places: Option<u32>,
    /// The form of study (ФИС ФРДО column 28).
    pub form: Option<crate::planning::StudyForm>,
}

/// R-P2, R-W1..R-W3: a provider submits a program; one for planning year Y only inside the
/// window (and, in Tatarstan, at stage 2 of Y's cycle: `stage`).
pub fn submit_program(
    ctx: &Ctx<'_>,
    provider: &Organisation,
    p: NewProgram,
    stage: u8,
) -> Result<(ProgramId, Vec<Change>)> {
    if !provider.kind.may_provide() {
        return Err(Error::InvalidInput(format!("{} is not a provider", provider.name)));
    }
    let title = non_empty("title", &p.title)?;
    if p.hours == 0 || p.hours > 10_000 {
        return Err(Error::InvalidInput(format!("hours {}", p.hours)));
    }
    if let Some(year) = p.year {
        if !(2000..=2100).contains(&year) {
            return Err(Error::InvalidInput(format!("year {year}")));
        }
        ctx.policy.check_planning(WindowAction::SubmitProgram, year, ctx.today, stage)?; // R-W1..R-W3
    } else if ctx.policy.council_expertise {
        return Err(Error::InvalidInput("a registry program names its planning year".into())); // R-W3
    }
    if let (Some(min), Some(max)) = (p.min_group, p.max_group)
        && (min == 0 || min > max)
    {
        return Err(Error::InvalidInput(format!("group size {min}..{max}")));
    }
    if p.max_group == Some(0) || p.min_group == Some(0) {
        return Err(Error::InvalidInput("a group has at least one listener".into()));
    }
    let direction = p.direction.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    let p = NewProgram { direction, ..p };
    let id = ProgramId(ctx.id());
    let program = Program {
        form: p.form,
        id,
        provider: provider.id,
        title,
        hours: p.hours,
        annotation: p.annotation.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()),
        positions: p.positions,
        profile_for: p.profile_for,
        org_kinds: p.org_kinds,
        subjects: p.subjects,
        year: p.year,
        status: ProgramStatus::Submitted,
        direction: p.direction,
        min_group: p.min_group,
        max_group: p.max_group,
        places: p.places,
        expertise: None,
    };
    Ok((id, vec![Change::PutProgram(program)]))
}

/// Input for [`open_group`].
pub struct NewGroup {
    /// First day.
    pub starts: NaiveDate,
    /// Last day.
    pub ends: NaiveDate,
    /// Place.
    pub place: String,
    /// Seats.
    pub capacity: u32,
    /// Funding.
    pub funding: Funding,
}

/// R-G1, R-P1, R-P3: a provider opens a group of an approved program within its licence.
pub fn open_group(
    ctx: &Ctx<'_>,
    program: &Program,
    provider: &Organisation,
    g: NewGroup,
) -> Result<(GroupId, Vec<Change>)> {
    if g.ends < g.starts {
        return Err(Error::InvalidInput("the group ends before it starts".into()));
    }
    if g.capacity == 0 || g.capacity > 100_000 {
        return Err(Error::InvalidInput(format!("capacity {}", g.capacity)));
    }
    let place = non_empty("place", &g.place)?;
    if g.funding == Funding::Voucher && ctx.policy.voucher.is_none() {
        return Err(Error::InvalidInput("the region has no vouchers".into()));
    }
    // R-P1: only programs that passed expertise get groups.
    if program.status != ProgramStatus::Approved {
        return Err(Error::ProgramNotApproved);
    }
    // R-P3: the provider holds a licence covering the group, from its issue to its end.
    let licensed = provider
        .license
        .as_ref()
        .is_some_and(|l| l.valid_until.is_none_or(|u| g.ends <= u) && l.issued_on.is_none_or(|i| i <= g.starts));
    if !licensed {
        return Err(Error::ProviderLicenseInvalid);
    }
    let id = GroupId(ctx.id());
    let group = Group {
        id,
        program: program.id,
        provider: program.provider,
        starts: g.starts,
        ends: g.ends,
        place,
        capacity: g.capacity,
        taken: 0,
        funding: g.funding,
        completed_on: None,
        cancelled: false,
        plan: None,
    };
    Ok((id, vec![Change::PutGroup(group)]))
}

/// R-G2: whether the program's audience includes the worker.
pub fn check_audience(program: &Program, person: &Person, e: &Employment, org: &Organisation) -> Result<()> {
    let subject_ok = match (&program.subjects, &person.subject) {
        (Audience::All, _) => true,
        (Audience::Only(list), Some(s)) => list.iter().any(|x| x.eq_ignore_ascii_case(s)),
        (Audience::Only(_), None) => false,
    };
    if program.positions.contains(&e.position) && program.org_kinds.contains(&org.kind) && subject_ok {
        Ok(())
    } else {
        Err(Error::GroupAudienceMismatch)
    }
}

/// R-P4: from the policy's date (of enrolment or planning, local time), teachers of
/// general-education schools train only at providers under state or municipal authority.
pub fn check_provider_permitted(
    ctx: &Ctx<'_>,
    e: &Employment,
    org: &Organisation,
    provider: &Organisation,
) -> Result<()> {
    if let Some(from) = ctx.policy.provider_ownership_rule_from
        && ctx.today >= from
        && e.position == Position::Teacher
        && org.kind == OrgKind::School
        && provider.ownership == Ownership::Private
    {
        return Err(Error::ProviderNotPermitted);
    }
    Ok(())
}

/// Everything an enrolment decision reads.
pub struct EnrollState<'a> {
    /// The worker.
    pub person: &'a Person,
    /// Their employments.
    pub employments: &'a [Employment],
    /// Their current workplace's organisation.
    pub org: Option<&'a Organisation>,
    /// The group.
    pub group: &'a Group,
    /// Its program.
    pub program: &'a Program,
    /// Its provider.
    pub provider: &'a Organisation,
    /// The worker's vouchers.
    pub vouchers: &'a [Voucher],
    /// The worker's enrolments.
    pub enrollments: &'a [Enrollment],
    /// R-F1: what a state-funded enrolment commits against the state-assignment limit of the
    /// group's year: the program's norm, zero when none is set or when the worker's quota number
    /// carried it already.
    pub state_norm: crate::planning::Money,
}

/// R-G2..R-G4, R-P4, R-V6..R-V9: enrols a worker; a voucher group reserves
/// `ceil(hours / block_hours)` blocks.
pub fn enroll(ctx: &Ctx<'_>, s: &EnrollState<'_>) -> Result<(EnrollmentId, Vec<Change>)> {
    let e = active_employment(s.employments)?;
    let org = s.org.ok_or_else(|| Error::NotFound("the worker's organisation".into()))?;
    let g = s.group;
    // R-G4: open until the group starts.
    if g.status(ctx.today) != GroupStatus::Recruiting {
        return Err(Error::GroupClosed);
    }
    check_audience(s.program, s.person, e, org)?; // R-G2
    // R-G4: one enrolment per worker per group.
    if s.enrollments.iter().any(|x| x.group == g.id && x.status.holds_blocks()) {
        return Err(Error::EnrollmentDuplicate);
    }
    check_provider_permitted(ctx, e, org, s.provider)?; // R-P4
    let (voucher, blocks, profile_blocks) = if g.funding == Funding::Voucher {
        let vp = ctx.voucher_policy()?;
        // R-V9: a voucher group needs an issued voucher.
        let v = s.vouchers.iter().rev().find(|v| v.status == VoucherStatus::Issued).ok_or(Error::VoucherNone)?;
        let valid_until = v.valid_until.unwrap_or(NaiveDate::MIN);
        // R-V6: the group starts on or before the voucher's last day.
        if g.starts > valid_until {
            return Err(Error::VoucherExpiredForGroup { valid_until });
        }
        let (used, profile_used, _) = block_use(v, s.enrollments);
        let need = s.program.blocks(vp.block_hours);
        // R-V8: never more reserved blocks than the voucher holds.
        if used + need > v.blocks_total {
            return Err(Error::VoucherExhausted);
        }
        // R-V7: programs profile for the position (or for all) give profile blocks; the
        // remaining blocks must still allow the minimum of profile blocks.
        let is_profile = s.program.profile_for.contains(&e.position);
        let profile = if is_profile { need } else { 0 };
        let free_after = v.blocks_total - used - need;
        if profile_used + profile + free_after < vp.min_profile_blocks {
            return Err(Error::VoucherProfileBlockRequired);
        }
        (Some(v.id), need, profile)
    } else {
        (None, 0, 0) // R-V9: state and paid groups need no voucher.
    };
    // R-G3: the store takes the seat with a conditional update; this check gives the refusal
    // early when the state already shows the group full.
    if g.taken >= g.capacity {
        return Err(Error::GroupFull);
    }
    let id = EnrollmentId(ctx.id());
    let enrollment = Enrollment {
        id,
        group: g.id,
        person: s.person.id,
        voucher,
        blocks,
        profile_blocks,
        confirmed: false,
        status: EnrollmentStatus::Enrolled,
        enrolled_at: ctx.now,
        committed: Some(s.state_norm).filter(|n| g.funding == Funding::State && !n.is_zero()),
    };
    let commit = enrollment.committed.and_then(|a| crate::planning::commitment(g.starts.year(), Funding::State, a, 1));
    let mut changes = vec![Change::TakeSeat(g.id), Change::PutEnrollment(enrollment)];
    changes.extend(commit); // R-F1
    Ok((id, changes))
}

/// The worker's enrolment holding a seat in the group.
pub fn seat_of(enrollments: &[Enrollment], group: GroupId) -> Result<&Enrollment> {
    enrollments
        .iter()
        .find(|e| e.group == group && e.status == EnrollmentStatus::Enrolled)
        .ok_or_else(|| Error::NotFound("the worker is not enrolled in the group".into()))
}

/// R-G5: the provider confirms an enrolment; the worker is told (R-N1).
pub fn confirm_enrollment(ctx: &Ctx<'_>, e: &Enrollment, group: &Group) -> Vec<Change> {
    if e.confirmed {
        return Vec::new();
    }
    let details =
        format!("Группа с {} по {}, {}", group.starts.format("%d.%m.%Y"), group.ends.format("%d.%m.%Y"), group.place);
    vec![
        Change::PutEnrollment(Enrollment { confirmed: true, ..e.clone() }),
        ctx.notify(e.person, NotificationKind::EnrollmentConfirmed, details),
    ]
}

/// R-G5: removal frees the seat and the voucher blocks; the enrolment stays in history
/// (R-A11) and the worker is told (R-N1).
pub fn remove_from_group(ctx: &Ctx<'_>, e: &Enrollment, group: &Group) -> Result<Vec<Change>> {
    if group.completed_on.is_some() {
        return Err(Error::InvalidState("the group is completed".into()));
    }
    let mut changes = vec![
        Change::PutEnrollment(Enrollment { status: EnrollmentStatus::Removed, ..e.clone() }),
        Change::FreeSeat(group.id),
        ctx.notify(e.person, NotificationKind::EnrollmentRemoved, String::new()),
    ];
    // R-F1: the listener's commitment goes back to the limit.
    if let Some(amount) = e.committed {
        let year = group.plan.as_ref().map_or(group.starts.year(), |p| p.year);
        changes.push(Change::Release { year, source: Funding::State, amount });
    }
    Ok(changes)
}

/// The final attestation's results for a group, as the provider records them.
#[derive(Debug, Clone, Copy)]
pub struct Results<'a> {
    /// Those who passed.
    pub passed: &'a [PersonId],
    /// Those who failed.
    pub failed: &'a [PersonId],
    /// Hours attended per listener, where recorded.
    pub attendance: &'a [crate::command::Attendance],
    /// Listeners who did not complete, with the reason (R-W3 stage 7); listeners named nowhere
    /// did not complete either, without a reason.
    pub not_completed: &'a [crate::command::NonCompletion],
}

fn check_results(program: &Program, seated: &[&Enrollment], results: &Results<'_>) -> Result<()> {
    let (passed, failed) = (results.passed, results.failed);
    if passed.iter().any(|p| failed.contains(p)) {
        return Err(Error::InvalidInput("a listener is both passed and failed".into()));
    }
    let reported: Vec<PersonId> = results.not_completed.iter().map(|n| n.person).collect();
    if reported.iter().any(|p| passed.contains(p) || failed.contains(p)) {
        return Err(Error::InvalidInput("a listener is both completed and not completed".into()));
    }
    let attended: Vec<PersonId> = results.attendance.iter().map(|a| a.person).collect();
    for (i, p) in attended.iter().enumerate() {
        if attended[..i].contains(p) {
            return Err(Error::InvalidInput("a listener's attendance is given twice".into()));
        }
    }
    for (i, p) in reported.iter().enumerate() {
        if reported[..i].contains(p) {
            return Err(Error::InvalidInput("a listener's non-completion is given twice".into()));
        }
    }
    if let Some(a) = results.attendance.iter().find(|a| a.hours > program.hours) {
        return Err(Error::InvalidInput(format!(
            "attendance of {} hours is more than the program's {}",
            a.hours, program.hours
        )));
    }
    if results.not_completed.iter().any(|n| crate::frdo::normalize_text(&n.reason).is_empty()) {
        return Err(Error::InvalidInput("a non-completion needs its reason".into()));
    }
    for p in passed.iter().chain(failed).chain(&reported).chain(&attended) {
        if !seated.iter().any(|e| e.person == *p) {
            return Err(Error::InvalidInput("a listed person is not enrolled in the group".into()));
        }
    }
    Ok(())
}

/// R-G6: after the group ends the provider records results: a pass yields a certificate, a
/// fail or a non-completion a statement (справка), each numbered gap-free per provider and
/// year; the hours attended and the reasons for non-completion are kept (R-W3 stage 7);
/// listeners named nowhere did not complete and their blocks are freed. Every listener is
/// told (R-N1).
pub fn complete_group(
    ctx: &Ctx<'_>,
    group: &Group,
    program: &Program,
    provider: &Organisation,
    enrollments: &[Enrollment],
    results: &Results<'_>,
    issued: crate::ports::Issued,
) -> Result<Vec<Change>> {
    if group.cancelled || group.completed_on.is_some() {
        return Err(Error::InvalidState("the group is already closed".into()));
    }
    let seated: Vec<&Enrollment> = enrollments.iter().filter(|e| e.status == EnrollmentStatus::Enrolled).collect();
    check_results(program, &seated, results)?;
    if ctx.today < group.ends {
        return Err(Error::GroupNotFinished);
    }
    let series = provider.license.as_ref().map(|l| l.number.clone()).unwrap_or_default();
    let year = ctx.today.year();
    let (mut certificates, mut statements) = (issued.certificates, issued.statements);
    let mut changes = vec![Change::PutGroup(Group { completed_on: Some(ctx.today), ..group.clone() })];
    for e in seated {
        let pass = results.passed.contains(&e.person);
        let fail = results.failed.contains(&e.person);
        let status = match (pass, fail) {
            (true, _) => EnrollmentStatus::Passed,
            (_, true) => EnrollmentStatus::Failed,
            _ => EnrollmentStatus::NotCompleted,
        };
        changes.push(Change::PutEnrollment(Enrollment { status, ..e.clone() }));
        let certificate = pass.then(|| {
            certificates += 1;
            Certificate {
                series: series.clone(),
                number: format!("{year}-{certificates:06}"),
                issued_on: ctx.today,
                code: Certificate::code_from(ctx.id()),
            }
        });
        let statement = (!pass).then(|| {
            statements += 1;
            Statement { number: format!("С-{year}-{statements:06}"), issued_on: ctx.today }
        });
        let reason =
            results.not_completed.iter().find(|n| n.person == e.person).map(|n| crate::frdo::normalize_text(&n.reason));
        changes.push(Change::AddTraining(TrainingRecord {
            person: e.person,
            group: Some(group.id),
            program: Some(program.id),
            program_title: program.title.clone(),
            provider: Some(provider.id),
            hours: program.hours,
            completed_on: group.ends,
            passed: pass,
            certificate,
            statement,
            completed: pass || fail,
            reason,
            attended_hours: results.attendance.iter().find(|a| a.person == e.person).map(|a| a.hours),
            funding: Some(group.funding),
            source: TrainingSource::Group,
            started_on: Some(group.starts),
            document: None,
            provider_name: None,
        }));
        let outcome = match status {
            EnrollmentStatus::Passed => "итоговая аттестация пройдена, выдано удостоверение",
            EnrollmentStatus::Failed => "итоговая аттестация не пройдена, выдана справка об обучении",
            _ => "обучение не завершено, выдана справка о периоде обучения",
        };
        changes.push(ctx.notify(e.person, NotificationKind::GroupCompleted, format!("{}: {outcome}", program.title)));
    }
    Ok(changes)
}

/// An application's choices (R-W3, R-W4).
#[derive(Debug, Clone, Default)]
pub struct Application {
    /// The planning year.
    pub year: i32,
    /// The preferred place of study; the organisation's territory when absent.
    pub place: Option<TerritoryId>,
    /// The preferred quarter, 1–4.
    pub period: Option<u8>,
    /// The worker's quota number (R-W3).
    pub quota: Option<String>,
}

/// R-W1..R-W4: a worker (or responsible) plans a training — applies — for planning year
/// `year` inside the window (and stage); in Tatarstan with a valid number of their own, which
/// the application uses up.
#[allow(clippy::too_many_arguments)]
pub fn plan_training(
    ctx: &Ctx<'_>,
    person: &Person,
    employments: &[Employment],
    org: Option<&Organisation>,
    program: (&Program, &Organisation),
    plans: &[PlanEntry],
    app: &Application,
    cycle: (u8, Option<crate::planning::Quota>),
) -> Result<(PlanId, Vec<Change>)> {
    let (program, provider) = program;
    let year = app.year;
    let (stage, quota) = cycle;
    if !(2000..=2100).contains(&year) {
        return Err(Error::InvalidInput(format!("year {year}")));
    }
    if program.year.is_some_and(|y| y != year) {
        return Err(Error::InvalidInput(format!("the program is offered for another year than {year}")));
    }
    if app.period.is_some_and(|q| !(1..=4).contains(&q)) {
        return Err(Error::InvalidInput("the period is a quarter, 1–4".into()));
    }
    ctx.policy.check_planning(WindowAction::PlanTraining, year, ctx.today, stage)?; // R-W1..R-W3
    let e = active_employment(employments)?;
    let org = org.ok_or_else(|| Error::NotFound("the worker's organisation".into()))?;
    if program.status != ProgramStatus::Approved {
        return Err(Error::ProgramNotApproved); // R-P1
    }
    check_audience(program, person, e, org)?; // R-G2
    check_provider_permitted(ctx, e, org, provider)?; // R-P4
    if plans.iter().any(|p| p.program == program.id && p.year == year) {
        return Err(Error::InvalidState("the training is already planned".into()));
    }
    let mut changes = Vec::new();
    // R-W3: applications only with a valid number of one's own.
    let used = if ctx.policy.quotas {
        let number = app.quota.as_deref().map(str::trim).filter(|n| !n.is_empty()).ok_or(Error::QuotaRequired)?;
        let q = quota
            .filter(|q| q.number == number && q.holder == person.id && q.year == year)
            .filter(|q| q.status == crate::planning::QuotaStatus::Assigned)
            .ok_or(Error::QuotaInvalid)?;
        let number = q.number.clone();
        changes.push(Change::PutQuota(crate::planning::Quota { status: crate::planning::QuotaStatus::Used, ..q }));
        Some(number)
    } else {
        None
    };
    let id = PlanId(ctx.id());
    changes.insert(
        0,
        Change::PutPlan(PlanEntry {
            id,
            person: person.id,
            program: program.id,
            year,
            planned_at: ctx.now,
            status: crate::planning::PlanStatus::Applied,
            org: Some(org.id),
            place: Some(app.place.unwrap_or(org.territory)),
            period: app.period,
            quota: used,
            group: None,
            unplaced: None,
            offer_until: None,
        }),
    );
    Ok((id, changes))
}

/// R-V11: whether an active pedagogical worker is past the training floor on `today`.
pub fn pk_overdue(policy: &RegionPolicy, last_passed_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    match last_passed_on {
        None => true,
        Some(d) => today > RegionPolicy::add_months(d, policy.training_cycle_months),
    }
}
