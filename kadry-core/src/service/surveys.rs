//! The service's monitoring and surveys (R-R2): forms created for a slice, answered once by
//! the workers in it, results aggregated by slice within the reader's scope.

use std::collections::BTreeSet;

use super::{Service, nf, reports::labels};
use crate::access::{Action, Actor, Target};
use crate::command::*;
use crate::decide::Ctx;
use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::ports::{Change, PersonFacts, StaffRow, Tx};
use crate::report::SliceSpec;
use crate::survey::{self as sv, Survey, SurveyKind};

type Decided = (Outcome, Option<PersonId>, Vec<Change>);

impl Service {
    /// R-R2: `create_survey`, `close_survey`, `answer_survey`.
    pub(super) async fn decide_surveys(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        actor: Actor,
        command: Command,
    ) -> Result<Decided> {
        use Command as C;
        Ok(match command {
            C::CreateSurvey { title, kind, questions, target, scope, opens_on, closes_on } => {
                // Scoped like reports: the ministry and the operator the region, a territory its own.
                let scope = self.report_scope(tx, actor, Action::CreateSurvey, scope).await?;
                let Actor::Person(me) = actor else { return Err(Error::AccessDenied("a person creates".into())) };
                if let SurveyKind::Satisfaction { group } = kind {
                    tx.group(group).await?.ok_or_else(|| nf("group"))?;
                }
                let id = SurveyId(ctx.id());
                let survey = Survey {
                    id,
                    title: title.trim().to_string(),
                    kind,
                    questions,
                    target,
                    scope,
                    opens_on: opens_on.unwrap_or(ctx.today),
                    closes_on,
                    created_by: me,
                    closed: false,
                };
                sv::check_survey(&survey)?;
                (Outcome::Created(id.0), None, vec![Change::PutSurvey(survey)])
            }
            C::CloseSurvey { survey } => {
                let s = tx.survey(survey).await?;
                let target = match &s {
                    Some(s) => Self::scope_target(tx, s.scope).await?,
                    None => Target::region(),
                };
                Self::authorize(tx, actor, Action::CloseSurvey, &target).await?;
                let mut s = s.ok_or_else(|| nf("survey"))?;
                if s.closed {
                    return Err(Error::InvalidState("the survey is closed already".into()));
                }
                s.closed = true;
                (Outcome::Done, None, vec![Change::PutSurvey(s)])
            }
            C::AnswerSurvey { survey, person, answers } => {
                let (target, emps) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::AnswerSurvey, &target).await?;
                let s = tx.survey(survey).await?.ok_or_else(|| nf("survey"))?;
                let p = Self::person_or_nf(tx, person).await?;
                // R-R2: only the target slice; a satisfaction survey only the listeners who
                // completed the course, after it.
                let rows = Self::person_rows(tx, &p, &emps).await?;
                self.check_eligible(ctx, tx, &s, p.id, &rows).await?;
                sv::check_open(&s, ctx.today)?;
                sv::check_answers(&s, &answers)?;
                // R-R2: once each (the store backs it with a unique constraint).
                sv::check_once(tx.response(survey, person).await?.as_ref())?;
                let response = sv::Response { survey, person, answers, answered_on: ctx.today };
                (Outcome::Done, Some(person), vec![Change::AddResponse(response)])
            }
            other => return Err(Error::InvalidInput(format!("{} is not a survey command", other.name()))),
        })
    }

    /// R-R2: `surveys`, `survey_results`.
    pub(super) async fn answer_surveys(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        actor: Actor,
        query: Query,
    ) -> Result<QueryResult> {
        Ok(match query {
            Query::Surveys { person } => {
                let (target, emps) = Self::person_target(tx, person).await?;
                Self::authorize(tx, actor, Action::Surveys, &target).await?;
                let p = Self::person_or_nf(tx, person).await?;
                let mut surveys: Vec<Survey> =
                    tx.surveys().await?.into_iter().filter(|s| s.is_open(ctx.today)).collect();
                surveys.sort_by(|a, b| a.opens_on.cmp(&b.opens_on).then(a.title.cmp(&b.title)).then(a.id.cmp(&b.id)));
                let rows = Self::person_rows(tx, &p, &emps).await?;
                let mut entries = Vec::new();
                for s in surveys {
                    if self.check_eligible(ctx, tx, &s, p.id, &rows).await.is_err() {
                        continue;
                    }
                    let answered = tx.response(s.id, person).await?.is_some();
                    entries.push(SurveyEntry { survey: s, answered });
                }
                QueryResult::Surveys(SurveysView {
                    count: entries.len(),
                    answered: entries.iter().filter(|e| e.answered).count(),
                    surveys: entries,
                })
            }
            Query::SurveyResults { survey, group_by, scope } => {
                // R-R2: read like a slice — nobody sees respondents outside their slice.
                let scope = self.report_scope(tx, actor, Action::SurveyResults, scope).await?;
                let s = tx.survey(survey).await?.ok_or_else(|| nf("survey"))?;
                let spec = SliceSpec::new(&self.policy, scope, group_by, Vec::new(), ctx.today)?;
                let rows = tx.staff_rows(scope).await?;
                let responses = tx.responses(survey).await?;
                let in_slice: BTreeSet<PersonId> = rows
                    .iter()
                    .filter(|r| r.employment.status == EmploymentStatus::Active && sv::row_in_scope(r, scope))
                    .map(|r| r.employment.person)
                    .collect();
                let respondents = responses.iter().filter(|r| in_slice.contains(&r.person)).count() as u64;
                let names = Self::dimension_names(tx, &spec.group_by).await?;
                let lines = sv::results(&s, &responses, &rows, &spec)
                    .into_iter()
                    .map(|r| SurveyResultLine {
                        labels: labels(&spec.group_by, &r.key, &names),
                        key: r.key,
                        respondents: r.respondents,
                        questions: r.questions,
                    })
                    .collect();
                QueryResult::SurveyResults(SurveyResultsView {
                    survey: s.id,
                    title: s.title,
                    kind: s.kind.as_str(),
                    respondents,
                    dimensions: spec.group_by,
                    rows: lines,
                })
            }
            other => return Err(Error::InvalidInput(format!("{} is not a survey query", other.name()))),
        })
    }

    /// R-R2: whether `person`, with their report rows, may answer `s`: in its target slice
    /// (`access.denied`); for a satisfaction survey, the group has completed
    /// (`group.not_finished`) and the person completed it (`access.denied`).
    async fn check_eligible(
        &self,
        ctx: &Ctx<'_>,
        tx: &mut dyn Tx,
        s: &Survey,
        person: PersonId,
        rows: &[StaffRow],
    ) -> Result<()> {
        let spec = SliceSpec::new(&self.policy, s.scope, Vec::new(), Vec::new(), ctx.today)?;
        if !sv::in_target(s, rows, &spec) {
            return Err(Error::AccessDenied("the person is outside the survey's slice".into()));
        }
        if let Some(g) = s.kind.group() {
            let group = tx.group(g).await?.ok_or_else(|| nf("group"))?;
            let enrollments = tx.person_enrollments(person).await?;
            sv::check_listener(&group, &enrollments, person)?;
        }
        Ok(())
    }

    /// A worker's report rows (their current workplaces), as [`Tx::staff_rows`] would give them.
    async fn person_rows(tx: &mut dyn Tx, person: &Person, emps: &[Employment]) -> Result<Vec<StaffRow>> {
        let current: Vec<&Employment> = emps.iter().filter(|e| e.is_current()).collect();
        if current.is_empty() {
            return Ok(Vec::new());
        }
        let trainings = tx.trainings(person.id).await?;
        let passed: Vec<_> = trainings.iter().filter_map(crate::ports::Passed::of).collect();
        let vouchers = tx.vouchers(person.id).await?;
        let voucher_enrollments: Vec<Enrollment> =
            tx.person_enrollments(person.id).await?.into_iter().filter(|e| e.voucher.is_some()).collect();
        let mut rows = Vec::new();
        for e in current {
            let Some(org) = tx.org(e.org).await? else { continue };
            rows.push(StaffRow {
                employment: e.clone(),
                org_kind: org.kind,
                territory: org.territory,
                last_passed_on: passed.iter().map(|t| t.completed_on).max(),
                person: PersonFacts::of(person),
                passed: passed.clone(),
                vouchers: vouchers.clone(),
                voucher_enrollments: voucher_enrollments.clone(),
            });
        }
        Ok(rows)
    }

    /// The target of an action on a survey: its scope.
    async fn scope_target(tx: &mut dyn Tx, scope: Scope) -> Result<Target> {
        Ok(match scope {
            Scope::Region => Target::region(),
            Scope::Territory(t) => Target::territory(t),
            Scope::Organisation(o) => Target::org(Self::org_ref(tx, o).await?),
        })
    }

    /// R-R3: the deficits a worker reported in their latest answer to a deficits survey.
    pub(super) async fn reported_deficits(tx: &mut dyn Tx, person: PersonId) -> Result<Vec<String>> {
        let surveys: Vec<Survey> = tx.surveys().await?.into_iter().filter(|s| s.kind == SurveyKind::Deficits).collect();
        let mut mine = Vec::new();
        for s in &surveys {
            if let Some(r) = tx.response(s.id, person).await? {
                mine.push(r);
            }
        }
        Ok(sv::reported_deficits(&surveys, &mine))
    }
}
