//! The service's reports (R-R1): slices, ready-made reports and what is overdue.

use std::collections::HashMap;

use super::Service;
use crate::access::{Action, Actor};
use crate::command::*;
use crate::decide::Ctx;
use crate::error::Result;
use crate::model::*;
use crate::ports::Tx;
use crate::report::{self, Dimension, SliceSpec};

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
