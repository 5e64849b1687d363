//! The service's planning-cycle commands and queries (R-W1..R-W4, R-F1): authorise → load →
//! decide with [`crate::planning::decide`] → changes.

use std::collections::BTreeMap;

use super::{Service, nf};
use crate::access::{Action, Actor, OrgRef, Target};
use crate::command::*;
use crate::decide::{self as d, Ctx};
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::planning::decide as pd;
use crate::planning::{self as pl, PlanStatus, Reassigner};
use crate::ports::{Change, Tx};

type Decided = (Outcome, Option<PersonId>, Vec<Change>);

impl Service {
    /// The commands of the planning cycle.
    #[allow(clippy::too_many_lines)]
    pub(super) async fn decide_planning(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        actor: Actor,
        command: Command,
    ) -> Result<Decided> {
        use Command as C;
        let region = Target::region();
        Ok(match command {
            C::AdvanceStage { year } => {
                Self::authorize(tx, actor, Action::AdvanceStage, &region).await?;
                (Outcome::Done, None, pd::advance_stage(ctx, tx.cycle(year).await?, year)?)
            }
            C::SetPriorities { year, priorities } => {
                Self::authorize(tx, actor, Action::SetPriorities, &region).await?;
                (Outcome::Done, None, pd::set_priorities(ctx, tx.cycle(year).await?, year, &priorities)?)
            }
            C::SetFinancingNorm { year, program, amount } => {
                Self::authorize(tx, actor, Action::SetFinancingNorm, &region).await?;
                if let Some(p) = program {
                    tx.program(p).await?.ok_or_else(|| nf("program"))?;
                }
                (Outcome::Done, None, pd::set_norm(ctx, tx.cycle(year).await?, year, program, amount)?)
            }
            C::SetFundingLimit { year, source, amount } => {
                Self::authorize(tx, actor, Action::SetFundingLimit, &region).await?;
                let account = tx.funding(year).await?.into_iter().find(|a| a.source == source);
                (Outcome::Done, None, pd::set_limit(account.as_ref(), year, source, amount)?)
            }
            C::ReviewProgram { program, stage, passed, conclusion } => {
                Self::authorize(tx, actor, Action::ReviewProgram, &region).await?;
                let Actor::Person(expert) = actor else { return Err(Error::AccessDenied("an expert".into())) };
                let p = tx.program(program).await?.ok_or_else(|| nf("program"))?;
                let cycle = match p.year {
                    Some(y) => tx.cycle(y).await?,
                    None => None,
                };
                (Outcome::Done, None, pd::review_program(ctx, cycle.as_ref(), &p, expert, stage, passed, &conclusion)?)
            }
            C::RecordProtocol { program, number, votes } => {
                Self::authorize(tx, actor, Action::RecordProtocol, &region).await?;
                let p = tx.program(program).await?.ok_or_else(|| nf("program"))?;
                let cycle = match p.year {
                    Some(y) => tx.cycle(y).await?,
                    None => None,
                };
                let mut non_members = Vec::new();
                for v in &votes {
                    let member = tx.grants(v.member).await?.iter().any(|g| g.role == Role::Expert && !g.suspended);
                    if !member {
                        non_members.push(v.member);
                    }
                }
                let changes = pd::record_protocol(ctx, cycle.as_ref(), &p, &number, &votes, &non_members)?;
                (Outcome::Done, None, changes)
            }
            C::ApproveRegistry { year } => {
                Self::authorize(tx, actor, Action::ApproveRegistry, &region).await?;
                let programs = tx.programs().await?;
                (Outcome::Done, None, pd::approve_registry(ctx, tx.cycle(year).await?, year, &programs)?)
            }
            C::IssueQuotas { year } => {
                Self::authorize(tx, actor, Action::IssueQuotas, &region).await?;
                let eligible = tx.eligible(Scope::Region, &self.policy, year).await?;
                let existing = tx.quotas(year).await?;
                let account = tx.funding(year).await?.into_iter().find(|a| a.source == Funding::State);
                let cycle = tx.cycle(year).await?;
                (Outcome::Done, None, pd::issue_quotas(ctx, cycle, year, &eligible, &existing, account.as_ref())?)
            }
            C::RefuseQuota { worker, year } => {
                let (mut target, _) = Self::person_target(tx, worker).await?;
                target.person = None;
                Self::authorize(tx, actor, Action::RefuseQuota, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let quota = tx.person_quota(worker, year).await?;
                let cycle = tx.cycle(year).await?;
                (Outcome::Done, Some(worker), pd::refuse_quota(ctx, cycle.as_ref(), quota, year)?)
            }
            C::ReassignQuota { number, to } => {
                let quota = Self::quota_locked(tx, number.trim()).await?;
                let target = match &quota {
                    Some(q) => Target::org(OrgRef { org: q.org, territory: q.territory }),
                    None => region.clone(),
                };
                Self::authorize(tx, actor, Action::ReassignQuota, &target).await?;
                let Actor::Person(me) = actor else { return Err(Error::AccessDenied("an operator".into())) };
                let quota = quota.ok_or(Error::QuotaInvalid)?;
                Self::person_or_nf(tx, to).await?;
                let by = Self::reassigner(tx, me, &quota).await?;
                let employments = tx.employments(to).await?;
                let held = tx.person_quota(to, quota.year).await?;
                let cycle = tx.cycle(quota.year).await?;
                let holder = pd::NewHolder { person: to, employments: &employments, quota: held.as_ref() };
                (Outcome::Done, Some(to), pd::reassign_quota(ctx, cycle.as_ref(), quota, &holder, (me, by))?)
            }
            C::AnswerQuestionnaire { worker, year, directions, topics, forms } => {
                let (target, emps) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::AnswerQuestionnaire, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let cycle = tx.cycle(year).await?;
                let changes =
                    pd::answer_questionnaire(ctx, cycle.as_ref(), worker, &emps, year, (&directions, &topics, &forms))?;
                (Outcome::Done, Some(worker), changes)
            }
            C::SetParentalLeave { worker, on_leave } => {
                let (mut target, emps) = Self::person_target(tx, worker).await?;
                target.person = None;
                Self::authorize(tx, actor, Action::SetParentalLeave, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let e = d::active_employment(&emps)?;
                let changes = if e.parental_leave == on_leave {
                    Vec::new()
                } else {
                    vec![Change::PutEmployment(Employment { parental_leave: on_leave, ..e.clone() })]
                };
                (Outcome::Done, Some(worker), changes)
            }
            C::FormGroups { year } => {
                Self::authorize(tx, actor, Action::FormGroups, &region).await?;
                let plans = tx.year_plans(year).await?;
                let mut programs = BTreeMap::new();
                for id in plans.iter().map(|p| p.program).collect::<std::collections::BTreeSet<_>>() {
                    let Some(p) = tx.program(id).await? else { continue };
                    let Some(provider) = tx.org(p.provider).await? else { continue };
                    programs.insert(id, (p, provider));
                }
                let places: BTreeMap<TerritoryId, String> =
                    tx.territories().await?.into_iter().map(|t| (t.id, t.name)).collect();
                let mut placed: BTreeMap<ProgramId, u32> = BTreeMap::new();
                for p in plans.iter().filter(|p| matches!(p.status, PlanStatus::Placed | PlanStatus::Offered)) {
                    *placed.entry(p.program).or_default() += 1;
                }
                let account = tx.funding(year).await?.into_iter().find(|a| a.source == Funding::State);
                let input = pd::FormingInput {
                    year,
                    cycle: tx.cycle(year).await?,
                    plans: &plans,
                    programs: &programs,
                    places: &places,
                    placed: &placed,
                    account: account.as_ref(),
                };
                let (_, changes) = pd::form(ctx, input)?;
                (Outcome::Done, None, changes)
            }
            C::ApprovePlan { year } => {
                Self::authorize(tx, actor, Action::ApprovePlan, &region).await?;
                (Outcome::Done, None, pd::approve_plan(ctx, tx.cycle(year).await?, year)?)
            }
            C::AcceptOffer { worker, program, year } => {
                let (target, _) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::AcceptOffer, &target).await?;
                let plan = Self::application(tx, worker, program, year).await?;
                let Some(gid) = plan.group.filter(|_| plan.status == PlanStatus::Offered) else {
                    return Err(Error::InvalidState("no seat is offered for this application".into()));
                };
                let group = tx.group(gid).await?.ok_or_else(|| nf("group"))?;
                let norm = tx.cycle(year).await?.map(|c| c.norm_for(Some(program))).unwrap_or_default();
                if plan.quota.is_none() {
                    let account = tx.funding(year).await?.into_iter().find(|a| a.source == Funding::State);
                    pl::check_commitment(account.as_ref(), norm)?; // R-F1
                }
                (Outcome::Done, Some(worker), pd::accept_offer(ctx, &plan, &group, norm)?)
            }
            C::DeclineOffer { worker, program, year } => {
                let (target, _) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::DeclineOffer, &target).await?;
                let plan = Self::application(tx, worker, program, year).await?;
                if plan.status != PlanStatus::Offered {
                    return Err(Error::InvalidState("no seat is offered for this application".into()));
                }
                let group =
                    tx.group(plan.group.ok_or_else(|| nf("offered group"))?).await?.ok_or_else(|| nf("group"))?;
                let mut plans = tx.year_plans(year).await?;
                let changes = Self::withdraw_offer(ctx, &plan, &group, &mut plans);
                (Outcome::Done, Some(worker), changes)
            }
            C::ExpireOffers { year } => {
                Self::authorize(tx, actor, Action::ExpireOffers, &region).await?;
                let mut plans = tx.year_plans(year).await?;
                let mut expired: Vec<PlanEntry> = plans
                    .iter()
                    .filter(|p| p.status == PlanStatus::Offered && p.offer_until.is_some_and(|u| u < ctx.today))
                    .cloned()
                    .collect();
                expired.sort_by_key(|p| (p.planned_at, p.id));
                let mut changes = Vec::new();
                for plan in expired {
                    let Some(gid) = plan.group else { continue };
                    let Some(group) = tx.group(gid).await? else { continue };
                    changes.extend(Self::withdraw_offer(ctx, &plan, &group, &mut plans));
                }
                (Outcome::Done, None, changes)
            }
            other => return Err(Error::InvalidInput(format!("{} is not a planning command", other.name()))),
        })
    }

    /// R-W4: an offer ends (declined, expired): the application is withdrawn and the seat
    /// passes to the next in line.
    fn withdraw_offer(ctx: &Ctx<'_>, plan: &PlanEntry, group: &Group, plans: &mut [PlanEntry]) -> Vec<Change> {
        if let Some(p) = plans.iter_mut().find(|p| p.id == plan.id) {
            p.status = PlanStatus::Withdrawn;
        }
        let mut changes = vec![
            Change::PutPlan(PlanEntry { status: PlanStatus::Withdrawn, offer_until: None, ..plan.clone() }),
            Change::FreeSeat(group.id),
        ];
        changes.extend(pd::pass_seat_on(ctx, group, plans));
        changes
    }

    /// R-W4: after a removal from a formed group: the application is withdrawn and the seat
    /// offered to the next in line (the commitment is released by the removal itself).
    pub(super) async fn after_removal(
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        removed: &Enrollment,
        group: &Group,
    ) -> Result<Vec<Change>> {
        let Some(gp) = &group.plan else { return Ok(Vec::new()) };
        // The year is known only now: locked before its applications are read, after the
        // worker's lock (`Lock`'s order), so forming or expiry cannot interleave.
        tx.lock(crate::ports::Lock::Year(gp.year)).await?;
        let mut changes = Vec::new();
        let mut plans = tx.year_plans(gp.year).await?;
        if let Some(p) = plans.iter_mut().find(|p| p.person == removed.person && p.group == Some(group.id)) {
            p.status = PlanStatus::Withdrawn;
            changes.push(Change::PutPlan(p.clone()));
        }
        changes.extend(pd::pass_seat_on(ctx, group, &mut plans));
        Ok(changes)
    }

    async fn application(tx: &mut dyn Tx, worker: PersonId, program: ProgramId, year: i32) -> Result<PlanEntry> {
        Self::person_or_nf(tx, worker).await?;
        tx.plans(worker)
            .await?
            .into_iter()
            .rfind(|p| p.program == program && p.year == year && p.status != PlanStatus::Withdrawn)
            .ok_or_else(|| nf("application"))
    }

    /// R-W3 under concurrency: a number as its holder leaves it. The command locks only the new
    /// holder (`Command::locks`), and the holder is known only once the number is read; so the
    /// holder is locked now and the number read again. Every command that moves a number (a
    /// refusal, a reassignment) holds its holder's lock, so if the holder changed in between,
    /// another move has committed: a conflict, which `Service::execute` retries from the start.
    pub(super) async fn quota_locked(tx: &mut dyn Tx, number: &str) -> Result<Option<pl::Quota>> {
        let Some(first) = tx.quota(number).await? else { return Ok(None) };
        tx.lock(crate::ports::Lock::Person(first.holder)).await?;
        let again = tx.quota(number).await?;
        match again {
            Some(q) if q.holder == first.holder => Ok(Some(q)),
            _ => Err(Error::Conflict(format!("quota {number} moved while it was being reassigned"))),
        }
    }

    /// R-W3: who reassigns: the organisation's operator, else the district's, else the region's.
    async fn reassigner(tx: &mut dyn Tx, me: PersonId, q: &pl::Quota) -> Result<Reassigner> {
        let grants = tx.grants(me).await?;
        let live = |role: Role, scope: Scope| grants.iter().any(|g| g.role == role && g.scope == scope && !g.suspended);
        Ok(if live(Role::OrgResponsible, Scope::Organisation(q.org)) {
            Reassigner::Organisation
        } else if live(Role::Territory, Scope::Territory(q.territory)) {
            Reassigner::District
        } else {
            Reassigner::Regional
        })
    }

    /// The queries of the planning cycle.
    #[allow(clippy::too_many_lines)]
    pub(super) async fn answer_planning(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        actor: Actor,
        query: Query,
    ) -> Result<QueryResult> {
        let region = Target::region();
        Ok(match query {
            Query::ShowCycle { year } => {
                Self::authorize(tx, actor, Action::ShowCycle, &region).await?;
                let cycle = tx.cycle(year).await?.unwrap_or_else(|| pl::Cycle::new(year));
                let stage_name = self.policy.stages.iter().find(|s| s.number == cycle.stage).map(|s| s.name.clone());
                QueryResult::Cycle(CycleView { cycle, stage_name })
            }
            Query::Eligibility { year, scope } => {
                let scope = self.report_scope(tx, actor, Action::Eligibility, scope).await?;
                let workers = tx.eligible(scope, &self.policy, year).await?;
                let never_trained = workers.iter().filter(|w| w.reason == pl::EligibilityReason::NeverTrained).count();
                QueryResult::Eligibility(EligibilityView { count: workers.len(), never_trained, workers })
            }
            Query::ShowQuota { worker, year } => {
                let (target, _) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::ShowQuota, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let quota = tx.person_quota(worker, year).await?;
                let status = match quota.as_ref().map(|q| q.status) {
                    None => "none",
                    Some(pl::QuotaStatus::Assigned) => "assigned",
                    Some(pl::QuotaStatus::Used) => "used",
                    Some(pl::QuotaStatus::Refused) => "refused",
                };
                let number = quota.as_ref().map_or_else(|| "none".to_string(), |q| q.number.clone());
                QueryResult::Quota(QuotaView { number, status, quota })
            }
            Query::ShowApplications { worker, year } => {
                let (target, _) = Self::person_target(tx, worker).await?;
                Self::authorize(tx, actor, Action::ShowApplications, &target).await?;
                Self::person_or_nf(tx, worker).await?;
                let mut items: Vec<PlanEntry> =
                    tx.plans(worker).await?.into_iter().filter(|p| p.year == year).collect();
                items.sort_by_key(|p| (p.planned_at, p.id));
                let status = items.first().map_or("none", |p| plan_status(p.status));
                QueryResult::Applications(ApplicationsView { count: items.len(), status, items })
            }
            Query::PlanSchedule { year } => {
                Self::authorize(tx, actor, Action::PlanSchedule, &region).await?;
                let plans = tx.year_plans(year).await?;
                let count = |s: PlanStatus| plans.iter().filter(|p| p.status == s).count();
                let mut lines = Vec::new();
                for g in tx.year_groups(year).await? {
                    let Some(gp) = g.plan.clone() else { continue };
                    let title = tx.program(g.program).await?.map(|p| p.title).unwrap_or_default();
                    let provider = g.provider;
                    let view = Self::group_view(tx, g, title, ctx.today).await?;
                    lines.push(PlanLine { group: view, provider, place: gp.place, period: gp.period });
                }
                lines.sort_by(|a, b| {
                    (a.period, a.place, &a.group.title, a.group.id).cmp(&(
                        b.period,
                        b.place,
                        &b.group.title,
                        b.group.id,
                    ))
                });
                QueryResult::PlanSchedule(PlanScheduleView {
                    year,
                    groups: lines.len(),
                    placed: count(PlanStatus::Placed),
                    applied: count(PlanStatus::Applied),
                    waitlisted: count(PlanStatus::Waitlisted),
                    offered: count(PlanStatus::Offered),
                    unplaced: count(PlanStatus::Unplaced),
                    approved_on: tx.cycle(year).await?.and_then(|c| c.plan_approved_on),
                    lines,
                })
            }
            Query::PlanExecution { year, quarter } => {
                Self::authorize(tx, actor, Action::PlanExecution, &region).await?;
                let (_, last) = pl::quarter_bounds(year, quarter)
                    .ok_or_else(|| Error::InvalidInput("the quarter is 1–4".into()))?;
                let asof = last.min(ctx.today);
                let mut rows: BTreeMap<(OrgId, TerritoryId), ExecutionRow> = BTreeMap::new();
                for g in tx.year_groups(year).await? {
                    let Some(gp) = &g.plan else { continue };
                    if g.cancelled || g.starts > last {
                        continue;
                    }
                    let r = rows.entry((g.provider, gp.place)).or_insert(ExecutionRow {
                        provider: g.provider,
                        territory: gp.place,
                        planned: 0,
                        started: 0,
                        completed: 0,
                        listeners: 0,
                    });
                    r.planned += 1;
                    r.listeners += g.taken;
                    r.started += usize::from(g.starts <= asof);
                    // Results are recorded after the last day: a group ended in the quarter counts once
                    // its results are in.
                    r.completed += usize::from(g.completed_on.is_some() && g.ends <= last);
                }
                let rows: Vec<ExecutionRow> = rows.into_values().collect();
                QueryResult::PlanExecution(PlanExecutionView {
                    year,
                    quarter,
                    due: pl::monitoring_due(year, quarter),
                    planned: rows.iter().map(|r| r.planned).sum(),
                    started: rows.iter().map(|r| r.started).sum(),
                    completed: rows.iter().map(|r| r.completed).sum(),
                    rows,
                })
            }
            Query::FundingReport { year } => {
                Self::authorize(tx, actor, Action::FundingReport, &region).await?;
                let mut accounts: Vec<FundingLine> = tx
                    .funding(year)
                    .await?
                    .into_iter()
                    .map(|a| FundingLine {
                        source: a.source,
                        limit: a.limit,
                        used: a.used,
                        left: a.limit.map(|l| l - a.used),
                        commitments: a.commitments,
                    })
                    .collect();
                accounts.sort_by_key(|a| crate::planning::source_order(a.source));
                QueryResult::Funding(FundingView { year, accounts })
            }
            Query::PreferencesSummary { year } => {
                Self::authorize(tx, actor, Action::PreferencesSummary, &region).await?;
                let answers = tx.year_preferences(year).await?;
                let mut directions: BTreeMap<String, usize> = BTreeMap::new();
                let mut topics: BTreeMap<String, usize> = BTreeMap::new();
                let mut forms: BTreeMap<pl::StudyForm, usize> = BTreeMap::new();
                for a in &answers {
                    for x in &a.directions {
                        *directions.entry(x.clone()).or_default() += 1;
                    }
                    for x in &a.topics {
                        *topics.entry(x.clone()).or_default() += 1;
                    }
                    for x in &a.forms {
                        *forms.entry(*x).or_default() += 1;
                    }
                }
                let ranked = |m: BTreeMap<String, usize>| {
                    let mut v: Vec<Wanted> = m.into_iter().map(|(name, count)| Wanted { name, count }).collect();
                    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
                    v
                };
                QueryResult::Preferences(PreferencesView {
                    answers: answers.len(),
                    directions: ranked(directions),
                    topics: ranked(topics),
                    forms: forms.into_iter().map(|(form, count)| WantedForm { form, count }).collect(),
                })
            }
            other => return Err(Error::InvalidInput(format!("{} is not a planning query", other.name()))),
        })
    }
}

fn plan_status(s: PlanStatus) -> &'static str {
    match s {
        PlanStatus::Applied => "applied",
        PlanStatus::Placed => "placed",
        PlanStatus::Unplaced => "unplaced",
        PlanStatus::Waitlisted => "waitlisted",
        PlanStatus::Offered => "offered",
        PlanStatus::Withdrawn => "withdrawn",
    }
}
