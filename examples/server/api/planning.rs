//! The annual planning cycle (R-W1..R-W4, R-F1): the cycle and its stages, norms and limits,
//! expertise and the registry, eligibility and quota numbers, the questionnaire, forming of
//! groups and the waitlist, the plan-schedule and its monitoring.

use std::str::FromStr;

use axum::extract::State;
use axum::http::StatusCode;
use kadry::core::command::{
    ApplicationsView, CycleView, EligibilityView, FundingView, PlanExecutionView, PlanScheduleView, PreferencesView,
    QuotaView, TrajectoryView,
};
use kadry::core::ids::{PersonId, ProgramId};
use kadry::core::model::Funding;
use kadry::core::planning::{ExpertiseStage, MemberVote, Money, StudyForm, Vote};
use kadry::{Command, Query};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reports::ReportScope;
use super::{ApiPath, CommandErrors, QueryErrors, ask, run, view};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show_cycle))
        .routes(routes!(advance_stage))
        .routes(routes!(set_priorities))
        .routes(routes!(set_norm))
        .routes(routes!(set_limit))
        .routes(routes!(funding))
        .routes(routes!(eligibility))
        .routes(routes!(issue_quotas))
        .routes(routes!(approve_registry))
        .routes(routes!(form_groups))
        .routes(routes!(plan_schedule))
        .routes(routes!(approve_plan))
        .routes(routes!(execution))
        .routes(routes!(preferences))
        .routes(routes!(expire_offers))
        .routes(routes!(review_program))
        .routes(routes!(record_protocol))
        .routes(routes!(show_quota))
        .routes(routes!(refuse_quota))
        .routes(routes!(reassign_quota))
        .routes(routes!(applications))
        .routes(routes!(answer_questionnaire))
        .routes(routes!(accept_offer))
        .routes(routes!(decline_offer))
        .routes(routes!(parental_leave))
        .routes(routes!(trajectory))
}

fn money(text: &str) -> ApiResult<Money> {
    Money::from_str(text.trim()).map_err(|_| ApiError::bad_request(format!("not an amount of roubles: {text:?}")))
}

/// The year's planning cycle: stage (Tatarstan), priorities, norms, milestones (R-W3).
///
/// Actor: any person.
#[utoipa::path(
    get, path = "/api/v1/planning/{year}", tag = "planning",
    params(("year" = i32, Path, description = "The planning year")),
    security(("bearer" = [])),
    responses((status = 200, description = "The cycle", body = CycleView), QueryErrors)
)]
async fn show_cycle(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<axum::Json<CycleView>> {
    view!(ask(&state, actor, Query::ShowCycle { year }).await?, Cycle)
}

/// Moves the cycle to its next stage; the first call opens it (R-W3, Tatarstan).
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/planning/{year}/advance", tag = "planning",
    params(("year" = i32, Path, description = "The planning year")),
    security(("bearer" = [])),
    responses((status = 204, description = "Advanced"), CommandErrors)
)]
async fn advance_stage(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::AdvanceStage { year }).await
}

/// The ministry's priority directions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Priorities {
    /// The directions, in order of priority.
    pub priorities: Vec<String>,
}

/// Sets the year's priority directions (R-W3 stage 2).
///
/// Actor: the ministry.
#[utoipa::path(
    put, path = "/api/v1/planning/{year}/priorities", tag = "planning",
    params(("year" = i32, Path, description = "The planning year")),
    request_body = Priorities,
    security(("bearer" = [])),
    responses((status = 204, description = "Set"), CommandErrors)
)]
async fn set_priorities(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(year): ApiPath<i32>,
    ApiJson(b): ApiJson<Priorities>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::SetPriorities { year, priorities: b.priorities }).await
}

/// A financing norm.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Norm {
    /// The program; every program when absent.
    #[serde(default)]
    pub program: Option<ProgramId>,
    /// Roubles per worker, at most two decimals, e.g. `"12000.50"`.
    #[schema(example = "12000.50")]
    pub amount: String,
}

/// Sets the financing norm per worker, for one program or all (R-F1, R-W3 stage 2).
///
/// Actor: the ministry.
#[utoipa::path(
    put, path = "/api/v1/planning/{year}/norm", tag = "planning",
    params(("year" = i32, Path, description = "The planning year")),
    request_body = Norm,
    security(("bearer" = [])),
    responses((status = 204, description = "Set"), CommandErrors)
)]
async fn set_norm(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(year): ApiPath<i32>,
    ApiJson(b): ApiJson<Norm>,
) -> ApiResult<StatusCode> {
    let amount = money(&b.amount)?;
    run(&state, actor, Command::SetFinancingNorm { year, program: b.program, amount }).await
}

/// A funding limit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Roubles, at most two decimals.
    #[schema(example = "1500000.00")]
    pub amount: String,
}

/// Sets the limit of a year and source, never below what is committed (R-F1).
///
/// Actor: the ministry.
#[utoipa::path(
    put, path = "/api/v1/planning/{year}/limits/{source}", tag = "planning",
    params(
        ("year" = i32, Path, description = "The year"),
        ("source" = Funding, Path, description = "`voucher` or `state`"),
    ),
    request_body = Limit,
    security(("bearer" = [])),
    responses((status = 204, description = "Set"), CommandErrors)
)]
async fn set_limit(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((year, source)): ApiPath<(i32, Funding)>,
    ApiJson(b): ApiJson<Limit>,
) -> ApiResult<StatusCode> {
    let amount = money(&b.amount)?;
    run(&state, actor, Command::SetFundingLimit { year, source, amount }).await
}

/// Financing for a year: limits, commitments, what is left (R-F1).
///
/// Actors: the ministry, the operator.
#[utoipa::path(
    get, path = "/api/v1/planning/{year}/funding", tag = "planning",
    params(("year" = i32, Path, description = "The year")),
    security(("bearer" = [])),
    responses((status = 200, description = "The accounts", body = FundingView), QueryErrors)
)]
async fn funding(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<axum::Json<FundingView>> {
    view!(ask(&state, actor, Query::FundingReport { year }).await?, Funding)
}

/// The workers due for planned training in the year, with the reason for each (R-W3 stage 1).
///
/// Actors: as for reports — the ministry and the operator (any slice), territory staff (their
/// territory), an org responsible or head (their organisation).
#[utoipa::path(
    get, path = "/api/v1/planning/{year}/eligibility", tag = "planning",
    params(("year" = i32, Path, description = "The planning year"), ReportScope),
    security(("bearer" = [])),
    responses((status = 200, description = "The workers", body = EligibilityView), QueryErrors)
)]
async fn eligibility(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(year): ApiPath<i32>,
    ApiQuery(q): ApiQuery<ReportScope>,
) -> ApiResult<axum::Json<EligibilityView>> {
    view!(ask(&state, actor, Query::Eligibility { year, scope: q.scope_ref()? }).await?, Eligibility)
}

// rustfmt re-indents attribute arguments inside a macro on every run: keep it as written.
#[rustfmt::skip]
macro_rules! year_command {
    ($name:ident, $path:literal, $variant:ident, $doc:literal, $actor:literal) => {
        #[doc = $doc]
        ///
        #[doc = $actor]
        #[utoipa::path(
            post, path = $path, tag = "planning",
            params(("year" = i32, Path, description = "The planning year")),
            security(("bearer" = [])),
            responses((status = 204, description = "Done"), CommandErrors)
        )]
        async fn $name(
            State(state): State<AppState>,
            Authed(actor): Authed,
            ApiPath(year): ApiPath<i32>,
        ) -> ApiResult<StatusCode> {
            run(&state, actor, Command::$variant { year }).await
        }
    };
}

year_command!(
    issue_quotas,
    "/api/v1/planning/{year}/quotas",
    IssueQuotas,
    "Issues a unique number to every eligible worker without one, committing the norm each (R-W3 stage 5, R-F1).",
    "Actor: the operator."
);
year_command!(
    approve_registry,
    "/api/v1/planning/{year}/registry/approve",
    ApproveRegistry,
    "Approves and publishes the registry: every recommended program of the year (R-W3 stage 5).",
    "Actor: the ministry."
);
year_command!(
    form_groups,
    "/api/v1/planning/{year}/forming",
    FormGroups,
    "Forms the year's groups from the applications, by program, place and quarter; the rest are waitlisted or reported unplaced (R-W4).",
    "Actor: the operator."
);
year_command!(
    approve_plan,
    "/api/v1/planning/{year}/plan-schedule/approve",
    ApprovePlan,
    "Approves the consolidated plan-schedule (R-W2).",
    "Actor: the ministry."
);
year_command!(
    expire_offers,
    "/api/v1/planning/{year}/offers/expire",
    ExpireOffers,
    "Withdraws waitlist offers past their hold and passes the seats on (R-W4).",
    "Actor: the operator (or the host's scheduler)."
);

/// The consolidated plan-schedule: formed groups and the applications' states (R-W2, R-W4).
///
/// Actors: the ministry, the operator.
#[utoipa::path(
    get, path = "/api/v1/planning/{year}/plan-schedule", tag = "planning",
    params(("year" = i32, Path, description = "The planning year")),
    security(("bearer" = [])),
    responses((status = 200, description = "The plan-schedule", body = PlanScheduleView), QueryErrors)
)]
async fn plan_schedule(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<axum::Json<PlanScheduleView>> {
    view!(ask(&state, actor, Query::PlanSchedule { year }).await?, PlanSchedule)
}

/// Quarterly monitoring of the plan-schedule: planned, started, completed by provider and
/// territory, and the day it is due (R-W2).
///
/// Actors: the ministry, the operator.
#[utoipa::path(
    get, path = "/api/v1/planning/{year}/execution/{quarter}", tag = "planning",
    params(
        ("year" = i32, Path, description = "The planning year"),
        ("quarter" = u8, Path, description = "The quarter, 1–4"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "The execution", body = PlanExecutionView), QueryErrors)
)]
async fn execution(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((year, quarter)): ApiPath<(i32, u8)>,
) -> ApiResult<axum::Json<PlanExecutionView>> {
    view!(ask(&state, actor, Query::PlanExecution { year, quarter }).await?, PlanExecution)
}

/// The year's questionnaire answers, counted (R-W3 stage 1).
///
/// Actors: the expert council, the ministry, the operator.
#[utoipa::path(
    get, path = "/api/v1/planning/{year}/preferences", tag = "planning",
    params(("year" = i32, Path, description = "The planning year")),
    security(("bearer" = [])),
    responses((status = 200, description = "The answers counted", body = PreferencesView), QueryErrors)
)]
async fn preferences(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(year): ApiPath<i32>,
) -> ApiResult<axum::Json<PreferencesView>> {
    view!(ask(&state, actor, Query::PreferencesSummary { year }).await?, Preferences)
}

/// An expert's conclusion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    /// Technical, then content.
    pub stage: ExpertiseStage,
    /// Whether the program passed.
    pub passed: bool,
    /// The conclusion.
    pub conclusion: String,
}

/// Records an expert's conclusion at a stage of expertise (R-W3 stage 3).
///
/// Actor: a member of the expert council.
#[utoipa::path(
    post, path = "/api/v1/programs/{id}/reviews", tag = "planning",
    params(("id" = uuid::Uuid, Path, description = "The program")),
    request_body = ReviewIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), CommandErrors)
)]
async fn review_program(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(program): ApiPath<ProgramId>,
    ApiJson(b): ApiJson<ReviewIn>,
) -> ApiResult<StatusCode> {
    let c = Command::ReviewProgram { program, stage: b.stage, passed: b.passed, conclusion: b.conclusion };
    run(&state, actor, c).await
}

/// A member's vote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteIn {
    /// The member.
    pub member: PersonId,
    /// The vote.
    pub vote: Vote,
}

/// The council's protocol.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolIn {
    /// The protocol's number.
    pub number: String,
    /// The members' votes.
    pub votes: Vec<VoteIn>,
}

/// Records the council's protocol: a majority of those voting recommends the program for the
/// registry (R-W3 stage 3).
///
/// Actor: a member of the expert council.
#[utoipa::path(
    post, path = "/api/v1/programs/{id}/protocol", tag = "planning",
    params(("id" = uuid::Uuid, Path, description = "The program")),
    request_body = ProtocolIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), CommandErrors)
)]
async fn record_protocol(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(program): ApiPath<ProgramId>,
    ApiJson(b): ApiJson<ProtocolIn>,
) -> ApiResult<StatusCode> {
    let votes = b.votes.into_iter().map(|v| MemberVote { member: v.member, vote: v.vote }).collect();
    run(&state, actor, Command::RecordProtocol { program, number: b.number, votes }).await
}

/// A worker's quota number for a year (R-W3).
///
/// Actors: the worker, their org responsible and head, territory staff, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/persons/{id}/quota/{year}", tag = "planning",
    params(("id" = uuid::Uuid, Path, description = "The worker"), ("year" = i32, Path, description = "The year")),
    security(("bearer" = [])),
    responses((status = 200, description = "The number", body = QuotaView), QueryErrors)
)]
async fn show_quota(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((worker, year)): ApiPath<(PersonId, i32)>,
) -> ApiResult<axum::Json<QuotaView>> {
    view!(ask(&state, actor, Query::ShowQuota { worker, year }).await?, Quota)
}

/// Records the worker's temporary refusal of planned training; the number awaits reassignment
/// (R-W3 stage 6).
///
/// Actors: their org responsible, territory staff, the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/quota/{year}/refuse", tag = "planning",
    params(("id" = uuid::Uuid, Path, description = "The worker"), ("year" = i32, Path, description = "The year")),
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), CommandErrors)
)]
async fn refuse_quota(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((worker, year)): ApiPath<(PersonId, i32)>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::RefuseQuota { worker, year }).await
}

/// The new holder of a number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignIn {
    /// A worker of the number's organisation.
    pub to: PersonId,
}

/// Reassigns a refused number within its organisation (R-W3 stage 6).
///
/// Actors: the org responsible at once; territory staff, then the operator, after the policy's
/// working days.
#[utoipa::path(
    post, path = "/api/v1/quotas/{number}/reassign", tag = "planning",
    params(("number" = String, Path, description = "The number, e.g. 2026-000042")),
    request_body = ReassignIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Reassigned"), CommandErrors)
)]
async fn reassign_quota(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(number): ApiPath<String>,
    ApiJson(b): ApiJson<ReassignIn>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ReassignQuota { number, to: b.to }).await
}

/// A worker's applications for a year, with their states (R-W4).
///
/// Actors: the worker, their org responsible and head, territory staff, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/persons/{id}/applications/{year}", tag = "planning",
    params(("id" = uuid::Uuid, Path, description = "The worker"), ("year" = i32, Path, description = "The year")),
    security(("bearer" = [])),
    responses((status = 200, description = "The applications", body = ApplicationsView), QueryErrors)
)]
async fn applications(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((worker, year)): ApiPath<(PersonId, i32)>,
) -> ApiResult<axum::Json<ApplicationsView>> {
    view!(ask(&state, actor, Query::ShowApplications { worker, year }).await?, Applications)
}

/// The questionnaire of preferences.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireIn {
    /// Preferred directions.
    #[serde(default)]
    pub directions: Vec<String>,
    /// Preferred topics.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Preferred forms of study.
    #[serde(default)]
    pub forms: Vec<StudyForm>,
}

/// Answers the questionnaire of preferences; the last answer counts (R-W3 stage 1).
///
/// Actors: the worker, their org responsible.
#[utoipa::path(
    put, path = "/api/v1/persons/{id}/questionnaire/{year}", tag = "planning",
    params(("id" = uuid::Uuid, Path, description = "The worker"), ("year" = i32, Path, description = "The year")),
    request_body = QuestionnaireIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Answered"), CommandErrors)
)]
async fn answer_questionnaire(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((worker, year)): ApiPath<(PersonId, i32)>,
    ApiJson(b): ApiJson<QuestionnaireIn>,
) -> ApiResult<StatusCode> {
    let c = Command::AnswerQuestionnaire { worker, year, directions: b.directions, topics: b.topics, forms: b.forms };
    run(&state, actor, c).await
}

/// Accepts the seat offered from the waitlist while it is held (R-W4).
///
/// Actors: the worker, their org responsible.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/applications/{year}/{program}/accept", tag = "planning",
    params(
        ("id" = uuid::Uuid, Path, description = "The worker"),
        ("year" = i32, Path, description = "The year"),
        ("program" = uuid::Uuid, Path, description = "The application's program"),
    ),
    security(("bearer" = [])),
    responses((status = 204, description = "Enrolled"), CommandErrors)
)]
async fn accept_offer(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((worker, year, program)): ApiPath<(PersonId, i32, ProgramId)>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::AcceptOffer { worker, program, year }).await
}

/// Declines the seat offered from the waitlist; it goes to the next in line (R-W4).
///
/// Actors: the worker, their org responsible.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/applications/{year}/{program}/decline", tag = "planning",
    params(
        ("id" = uuid::Uuid, Path, description = "The worker"),
        ("year" = i32, Path, description = "The year"),
        ("program" = uuid::Uuid, Path, description = "The application's program"),
    ),
    security(("bearer" = [])),
    responses((status = 204, description = "Declined"), CommandErrors)
)]
async fn decline_offer(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((worker, year, program)): ApiPath<(PersonId, i32, ProgramId)>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::DeclineOffer { worker, program, year }).await
}

/// Parental leave.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveIn {
    /// On leave.
    pub on_leave: bool,
}

/// Marks the worker on or back from parental leave (eligibility, R-W3 stage 1).
///
/// Actors: their org responsible, the operator.
#[utoipa::path(
    put, path = "/api/v1/persons/{id}/parental-leave", tag = "planning",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    request_body = LeaveIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Set"), CommandErrors)
)]
async fn parental_leave(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
    ApiJson(b): ApiJson<LeaveIn>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::SetParentalLeave { worker, on_leave: b.on_leave }).await
}

/// The worker's individual trajectory for a year: programs not yet taken, ranked by profile
/// match, subject, the questionnaire and the year's priorities, each with its reasons (R-R3).
///
/// Actors: the worker, their org responsible and head, territory staff, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/persons/{id}/trajectory/{year}", tag = "planning",
    params(("id" = uuid::Uuid, Path, description = "The worker"), ("year" = i32, Path, description = "The year")),
    security(("bearer" = [])),
    responses((status = 200, description = "The recommendations", body = TrajectoryView), QueryErrors)
)]
async fn trajectory(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((worker, year)): ApiPath<(PersonId, i32)>,
) -> ApiResult<axum::Json<TrajectoryView>> {
    view!(ask(&state, actor, Query::Trajectory { worker, year }).await?, Trajectory)
}
