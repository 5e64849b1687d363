//! The service's reports (R-R1): slices, ready-made reports and what is overdue.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::Service;
use crate::access::Target;
use crate::access::{Action, Actor};
use crate::command::*;
use crate::decide::Ctx;
use crate::error::Result;
use crate::frdo;
use crate::ids::*;
use crate::model::*;
use crate::ports::Tx;
use crate::registry::{self, FrdoView, RegistryView};
use crate::report::{self, Dimension, SliceSpec};
use chrono::NaiveDate;

/// The last day stores compare dates up to (dates are kept as `YYYY-MM-DD` text).
const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

fn not_found(what: &str) -> crate::Error {
    crate::Error::NotFound(what.into())
}

/// A period lies within 1900–2100, first day first.
fn check_period(from: NaiveDate, to: NaiveDate) -> Result<()> {
    use chrono::Datelike;
    if from > to || from.year() < 1900 || to.year() > 2100 {
        return Err(crate::Error::InvalidInput(format!("period {from}..{to}")));
    }
    Ok(())
}

impl Service {
    /// Slices, ready-made reports and what is overdue.
    pub(super) async fn answer_reports(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        actor: Actor,
        query: Query,
    ) -> Result<QueryResult> {
        Ok(match query {
            Query::Slice { group_by, filters, scope } => {
                let scope = self.report_scope(tx, actor, Action::Slice, scope).await?;
                QueryResult::Slice(self.slice(ctx, tx, scope, group_by, filters).await?)
            }
            Query::Ready { report, scope } => {
                let scope = self.report_scope(tx, actor, Action::Slice, scope).await?;
                let (group_by, filters) = report.preset();
                QueryResult::Slice(self.slice(ctx, tx, scope, group_by, filters).await?)
            }
            Query::Overdue { scope } => {
                let scope = self.report_scope(tx, actor, Action::Overdue, scope).await?;
                QueryResult::Overdue(self.overdue(ctx, tx, scope).await?)
            }
            Query::GroupRegistry { group } => {
                let g = tx.group(group).await?;
                let target = g.as_ref().map(|g| Target::provider(g.provider)).unwrap_or_default();
                Self::authorize(tx, actor, Action::GroupRegistry, &target).await?;
                let g = g.ok_or_else(|| not_found("group"))?;
                let records = tx.trainings_between(g.starts, LAST_DAY, Some(g.provider)).await?;
                let records = records.into_iter().filter(|r| r.group == Some(group)).collect();
                QueryResult::Registry(self.registry(tx, records, Scope::Region).await?)
            }
            Query::Registry { from, to, scope } => {
                check_period(from, to)?;
                let scope = self.report_scope(tx, actor, Action::Registry, scope).await?;
                let records = tx.trainings_between(from, to, None).await?;
                QueryResult::Registry(self.registry(tx, records, scope).await?)
            }
            Query::FrdoExport { from, to, provider } => {
                check_period(from, to)?;
                let target = match provider {
                    Some(p) => {
                        tx.org(p).await?.ok_or_else(|| not_found("provider"))?;
                        Target::provider(p)
                    }
                    None => Target::region(),
                };
                Self::authorize(tx, actor, Action::FrdoExport, &target).await?;
                QueryResult::Frdo(self.frdo(tx, from, to, provider).await?)
            }
            other => return Err(crate::Error::InvalidInput(format!("{} is not a report", other.name()))),
        })
    }

    /// R-R1: computes a slice (pushed down to the store) and labels its keys.
    async fn slice(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        scope: Scope,
        group_by: Vec<Dimension>,
        filters: Vec<report::Filter>,
    ) -> Result<SliceView> {
        let spec = SliceSpec::new(&self.policy, scope, group_by, filters, ctx.today)?;
        let mut rows = tx.slice(&spec).await?;
        rows.sort_by(|a, b| a.key.cmp(&b.key));
        let names = Self::dimension_names(tx, &spec.group_by).await?;
        let hours = rows.iter().map(|r| r.hours).sum();
        let rows = rows
            .into_iter()
            .map(|r| SliceLine {
                labels: labels(&spec.group_by, &r.key, &names),
                key: r.key,
                workers: r.workers,
                hours: r.hours,
            })
            .collect();
        Ok(SliceView { dimensions: spec.group_by, rows, hours })
    }

    /// The names of territories and organisations, by id, when a group-by needs them.
    pub(super) async fn dimension_names(tx: &mut dyn Tx, group_by: &[Dimension]) -> Result<HashMap<String, String>> {
        let mut names: HashMap<String, String> = HashMap::new();
        if group_by.iter().any(|d| named(*d)) {
            for t in tx.territories().await? {
                names.insert(t.id.to_string(), t.name);
            }
            for o in tx.orgs().await? {
                names.insert(o.id.to_string(), o.name);
            }
        }
        Ok(names)
    }

    /// R-G6: registry lines of `records` whose worker was, on the training's last day,
    /// employed within `scope`.
    async fn registry(&self, tx: &mut dyn Tx, records: Vec<TrainingRecord>, scope: Scope) -> Result<RegistryView> {
        let mut people: HashMap<PersonId, (Person, Vec<Employment>)> = HashMap::new();
        let mut orgs: HashMap<OrgId, Option<Organisation>> = HashMap::new();
        let mut groups: HashMap<GroupId, Option<Group>> = HashMap::new();
        let mut lines = Vec::with_capacity(records.len());
        for r in &records {
            if let Entry::Vacant(slot) = people.entry(r.person) {
                let Some(person) = tx.person(r.person).await? else { continue };
                let emps = tx.employments(r.person).await?;
                slot.insert((person, emps));
            }
            let (person, emps) = &people[&r.person];
            let employment = registry::employment_on(emps, r.completed_on).cloned();
            for o in employment.iter().map(|e| e.org).chain(r.provider) {
                if let Entry::Vacant(slot) = orgs.entry(o) {
                    slot.insert(tx.org(o).await?);
                }
            }
            let org = employment.as_ref().and_then(|e| orgs[&e.org].as_ref());
            let inside = match scope {
                Scope::Region => true,
                Scope::Territory(t) => org.is_some_and(|o| o.territory == t),
                Scope::Organisation(id) => org.is_some_and(|o| o.id == id),
            };
            if !inside {
                continue;
            }
            if let Some(g) = r.group
                && !groups.contains_key(&g)
            {
                groups.insert(g, tx.group(g).await?);
            }
            let group = r.group.and_then(|g| groups[&g].as_ref());
            let provider = r.provider.and_then(|p| orgs[&p].as_ref());
            let at = registry::Workplace { employment: employment.as_ref(), org };
            lines.push(registry::line(r, person, at, group, provider));
        }
        Ok(RegistryView::new(lines))
    }

    /// R-G6: the certificates issued within `[from, to]` as ФИС ФРДО records, and those whose
    /// holders' data are incomplete.
    async fn frdo(&self, tx: &mut dyn Tx, from: NaiveDate, to: NaiveDate, provider: Option<OrgId>) -> Result<FrdoView> {
        // A certificate is issued on or after the training's last day: read from `from` on.
        let records =
            tx.trainings_between(from.checked_sub_days(chrono::Days::new(366)).unwrap_or(from), to, provider).await?;
        let mut view = FrdoView { template: frdo::TEMPLATE_2024.version.to_string(), records: vec![], missing: vec![] };
        let mut people: HashMap<PersonId, Option<Person>> = HashMap::new();
        let mut programs: HashMap<ProgramId, Option<Program>> = HashMap::new();
        let mut groups: HashMap<GroupId, Option<Group>> = HashMap::new();
        for r in &records {
            let Some(cert) = &r.certificate else { continue };
            if cert.issued_on < from || cert.issued_on > to {
                continue;
            }
            if let Entry::Vacant(slot) = people.entry(r.person) {
                slot.insert(tx.person(r.person).await?);
            }
            let Some(person) = &people[&r.person] else { continue };
            if let Some(p) = r.program
                && !programs.contains_key(&p)
            {
                programs.insert(p, tx.program(p).await?);
            }
            if let Some(g) = r.group
                && !groups.contains_key(&g)
            {
                groups.insert(g, tx.group(g).await?);
            }
            let program = r.program.and_then(|p| programs[&p].as_ref());
            let group = r.group.and_then(|g| groups[&g].as_ref());
            match registry::frdo_record(r, person, program, group) {
                Some(Ok(record)) => view.records.push(record),
                Some(Err(missing)) => view.missing.push(missing),
                None => {}
            }
        }
        view.records.sort_by(|a, b| (a.issue_date, &a.series, &a.number).cmp(&(b.issue_date, &b.series, &b.number)));
        view.missing.sort_by(|a, b| (&a.series, &a.number).cmp(&(&b.series, &b.number)));
        Ok(view)
    }

    /// R-V4, R-A7, R-A8, R-A11: what waits past its deadline in a slice.
    async fn overdue(&self, ctx: &Ctx<'_>, tx: &mut dyn Tx, scope: Scope) -> Result<OverdueView> {
        let rows = tx.staff_rows(scope).await?;
        let days = self.policy.confirmation_working_days;
        let mut view = OverdueView { approvals: Vec::new(), unconfirmed: Vec::new() };
        let mut seen = std::collections::BTreeSet::new();
        for r in &rows {
            let e = &r.employment;
            let item =
                |what: &str, since, due| OverdueItem { person: e.person, org: e.org, what: what.into(), since, due };
            if e.status == EmploymentStatus::Pending {
                let due = ctx.calendar.add_working_days(e.since, days);
                if due < ctx.today {
                    view.unconfirmed.push(item("workplace", e.since, due));
                }
            }
            if !seen.insert(e.person) {
                continue;
            }
            for v in r.vouchers.iter().filter(|v| v.status == VoucherStatus::Requested) {
                if let (Some(since), Some(due)) = (v.requested_on, v.approve_by)
                    && due < ctx.today
                {
                    view.approvals.push(item("voucher", since, due));
                }
            }
            if let Some(since) = r.person.pending_since {
                let due = ctx.calendar.add_working_days(since, days);
                if due < ctx.today {
                    view.unconfirmed.push(item("personal_data", since, due));
                }
            }
        }
        view.approvals.sort_by_key(|i| (i.due, i.person));
        view.unconfirmed.sort_by_key(|i| (i.due, i.person));
        Ok(view)
    }
}

fn named(d: Dimension) -> bool {
    matches!(d, Dimension::Territory | Dimension::Organisation)
}

/// The Russian labels of a group's keys: territory and organisation names, fixed keys' labels.
pub(super) fn labels(group_by: &[Dimension], key: &[String], names: &HashMap<String, String>) -> Vec<String> {
    group_by
        .iter()
        .zip(key)
        .map(
            |(d, k)| {
                if named(*d) { names.get(k).cloned().unwrap_or_else(|| k.clone()) } else { report::label_ru(*d, k) }
            },
        )
        .collect()
}
