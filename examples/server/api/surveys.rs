//! Monitoring and surveys (R-R2): forms for a slice, answered once by the workers in it;
//! satisfaction after a course; the professional-deficits diagnostic; results by slice.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use kadry::core::command::{SurveyResultsView, SurveysView};
use kadry::core::ids::{GroupId, PersonId, SurveyId};
use kadry::core::report::{Dimension, Filter};
use kadry::core::survey::{AnswerValue, Question, SurveyKind};
use kadry::{Actor, Command, Query};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::reports::{ReportScope, ScopeKindParam};
use super::{ApiPath, CommandErrors, CreatedResponse, QueryErrors, ask, create, run, view};
use crate::auth::Authed;
use crate::error::{ApiError, ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_survey))
        .routes(routes!(close_survey))
        .routes(routes!(answer_survey))
        .routes(routes!(person_surveys))
        .routes(routes!(survey_results))
}

/// What a survey is for.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKindIn {
    /// Monitoring: any form, for the target slice.
    Monitoring,
    /// Satisfaction with a group's course, after it (needs `group`).
    Satisfaction,
    /// The professional-deficits diagnostic: choice questions whose options are deficit topics.
    Deficits,
}

/// A new survey.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyIn {
    /// Its title.
    pub title: String,
    /// What it is for.
    pub kind: SurveyKindIn,
    /// The group, for a satisfaction survey.
    #[serde(default)]
    pub group: Option<GroupId>,
    /// The questions, in order: `{"key", "text", "kind": {"scale": {"min", "max"}}}` or
    /// `{"key", "text", "kind": {"choice": {"options": [..], "multiple": false}}}`.
    pub questions: Vec<Question>,
    /// The slice it is for within the scope (report filters); everyone when empty.
    #[serde(default)]
    pub target: Vec<Filter>,
    /// What `scope` names; with neither, the region.
    #[serde(default)]
    pub scope_kind: Option<ScopeKindParam>,
    /// The territory or organisation the survey covers.
    #[serde(default)]
    pub scope: Option<Uuid>,
    /// The first day it may be answered; today when absent.
    #[serde(default)]
    pub opens_on: Option<NaiveDate>,
    /// The last day it may be answered; open until closed when absent.
    #[serde(default)]
    pub closes_on: Option<NaiveDate>,
}

/// Creates a survey for a slice (R-R2).
///
/// Actors: the operator and the ministry (the region or any slice), territory staff (their
/// territory).
#[utoipa::path(
    post, path = "/api/v1/surveys", tag = "surveys",
    request_body = SurveyIn,
    security(("bearer" = [])),
    responses((status = 201, description = "Created", body = super::Created), CommandErrors)
)]
async fn create_survey(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(b): ApiJson<SurveyIn>,
) -> ApiResult<CreatedResponse> {
    let scope = ReportScope { scope_kind: b.scope_kind, scope: b.scope }.scope_ref()?;
    let kind = match (b.kind, b.group) {
        (SurveyKindIn::Monitoring, None) => SurveyKind::Monitoring,
        (SurveyKindIn::Deficits, None) => SurveyKind::Deficits,
        (SurveyKindIn::Satisfaction, Some(group)) => SurveyKind::Satisfaction { group },
        (SurveyKindIn::Satisfaction, None) => {
            return Err(ApiError::bad_request("a satisfaction survey names its `group`"));
        }
        (_, Some(_)) => return Err(ApiError::bad_request("only a satisfaction survey names a `group`")),
    };
    let c = Command::CreateSurvey {
        title: b.title,
        kind,
        questions: b.questions,
        target: b.target,
        scope,
        opens_on: b.opens_on,
        closes_on: b.closes_on,
    };
    create(&state, actor, c).await
}

/// Closes a survey: answers are refused from then on (R-R2).
///
/// Actors: as for creating, within the survey's scope.
#[utoipa::path(
    post, path = "/api/v1/surveys/{id}/close", tag = "surveys",
    params(("id" = uuid::Uuid, Path, description = "The survey")),
    security(("bearer" = [])),
    responses((status = 204, description = "Closed"), CommandErrors)
)]
async fn close_survey(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(survey): ApiPath<SurveyId>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::CloseSurvey { survey }).await
}

/// A worker's answers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswersIn {
    /// The respondent; the caller when absent.
    #[serde(default)]
    pub person: Option<PersonId>,
    /// The answers by question key: a number for a scale, a list of options for a choice.
    pub answers: BTreeMap<String, AnswerValue>,
}

/// Answers a survey, once (R-R2): a second answer is 409 `state.invalid`; outside the target
/// slice, or not a listener who completed the course, 403.
///
/// Actors: the worker, for themself.
#[utoipa::path(
    post, path = "/api/v1/surveys/{id}/responses", tag = "surveys",
    params(("id" = uuid::Uuid, Path, description = "The survey")),
    request_body = AnswersIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Answered"), CommandErrors)
)]
async fn answer_survey(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(survey): ApiPath<SurveyId>,
    ApiJson(b): ApiJson<AnswersIn>,
) -> ApiResult<StatusCode> {
    let person = match (b.person, actor) {
        (Some(p), _) => p,
        (None, Actor::Person(p)) => p,
        (None, _) => return Err(ApiError::bad_request("`person` is required")),
    };
    run(&state, actor, Command::AnswerSurvey { survey, person, answers: b.answers }).await
}

/// The open surveys a person may answer, each with whether they answered it (R-R2).
///
/// Actors: the person, their org responsible and head, territory staff, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/persons/{id}/surveys", tag = "surveys",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    security(("bearer" = [])),
    responses((status = 200, description = "The surveys", body = SurveysView), QueryErrors)
)]
async fn person_surveys(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
) -> ApiResult<axum::Json<SurveysView>> {
    view!(ask(&state, actor, Query::Surveys { person }).await?, Surveys)
}

/// The slice and grouping of a survey's results.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResultsParams {
    /// Dimensions to group by, comma-separated (`territory,position`; at most four).
    pub group_by: Option<String>,
    /// What `scope` names.
    #[param(inline)]
    pub scope_kind: Option<ScopeKindParam>,
    /// The territory or organisation.
    pub scope: Option<Uuid>,
}

/// A survey's results by slice (R-R2): respondents, scale means and distributions, option
/// counts (deficit topics included), within the reader's slice.
///
/// Actors: the ministry and the operator (any slice), territory staff (their territory), an
/// org responsible or head (their organisation).
#[utoipa::path(
    get, path = "/api/v1/surveys/{id}/results", tag = "surveys",
    params(("id" = uuid::Uuid, Path, description = "The survey"), ResultsParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The results", body = SurveyResultsView), QueryErrors)
)]
async fn survey_results(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(survey): ApiPath<SurveyId>,
    ApiQuery(q): ApiQuery<ResultsParams>,
) -> ApiResult<axum::Json<SurveyResultsView>> {
    let scope = ReportScope { scope_kind: q.scope_kind, scope: q.scope }.scope_ref()?;
    let group_by = q
        .group_by
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Dimension::parse)
        .collect::<Result<Vec<_>, _>>()?;
    view!(ask(&state, actor, Query::SurveyResults { survey, group_by, scope }).await?, SurveyResults)
}
