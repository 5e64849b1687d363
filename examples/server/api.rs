//! The REST API, version 1: every command and query of the core as a resource under
//! `/api/v1/...`, JSON in and out, ids as UUIDs, and its OpenAPI 3.1 document at
//! `GET /api/v1/openapi.json`.
//!
//! | method and path | core | success |
//! |---|---|---|
//! | `POST /api/v1/territories` | `register_territory` | 201 `{id}` |
//! | `POST /api/v1/orgs` | `register_org` | 201 `{id}` |
//! | `POST /api/v1/orgs/{id}/reorganize` | `reorganize_org` | 204 |
//! | `GET /api/v1/orgs/{id}/staff` | `show_staff` | 200 |
//! | `POST /api/v1/persons` | `register_person` (by a responsible or the operator) | 201 `{id}` |
//! | `POST /api/v1/officials` | `register_official` | 201 `{id}` |
//! | `GET /api/v1/persons/{id}` | `show_person` | 200 |
//! | `PATCH /api/v1/persons/{id}` | `update_person` | 204 |
//! | `POST /api/v1/persons/{id}/change/confirm` | `confirm_person_change` | 204 |
//! | `POST /api/v1/persons/{id}/workplace/confirm` | `confirm_workplace` | 204 |
//! | `POST /api/v1/persons/{id}/dismiss` | `dismiss` | 204 |
//! | `POST /api/v1/persons/{id}/transfer` | `transfer` | 204 |
//! | `POST /api/v1/me/workplace` | `claim_workplace` | 204 |
//! | `POST /api/v1/persons/{id}/roles` | `grant_role` | 204 |
//! | `POST /api/v1/role-requests` | `request_role` | 204 |
//! | `POST /api/v1/persons/{id}/role-requests/{role}/approve` | `approve_role_request` | 204 |
//! | `POST /api/v1/persons/{id}/roles/{role}/restore` | `restore_role` | 204 |
//! | `POST /api/v1/persons/{id}/voucher` | `request_voucher` | 204 |
//! | `GET /api/v1/persons/{id}/voucher` | `show_voucher` | 200 |
//! | `POST /api/v1/persons/{id}/voucher/approve` | `approve_voucher` | 204 |
//! | `POST /api/v1/persons/{id}/voucher/reject` | `reject_voucher` | 204 |
//! | `POST /api/v1/persons/{id}/voucher/cancel` | `cancel_voucher` | 204 |
//! | `POST /api/v1/persons/{id}/paper-vouchers` | `record_paper_voucher` | 204 |
//! | `POST /api/v1/persons/{id}/plans` | `plan_training` | 201 `{id}` |
//! | `GET /api/v1/persons/{id}/training` | `show_training` | 200 |
//! | `GET /api/v1/persons/{id}/notifications` | `show_notifications` | 200 |
//! | `POST /api/v1/programs` | `submit_program` | 201 `{id}` |
//! | `GET /api/v1/programs/{id}` | `show_program` | 200 |
//! | `POST /api/v1/programs/{id}/approve` | `approve_program` | 204 |
//! | `POST /api/v1/groups` | `open_group` | 201 `{id}` |
//! | `GET /api/v1/groups/{id}` | `show_group` | 200 |
//! | `POST /api/v1/groups/{id}/enrollments` | `enroll` | 201 `{id}` |
//! | `POST /api/v1/groups/{id}/enrollments/{worker}/confirm` | `confirm_enrollment` | 204 |
//! | `DELETE /api/v1/groups/{id}/enrollments/{worker}` | `remove_from_group` | 204 |
//! | `POST /api/v1/groups/{id}/complete` | `complete_group` | 204 |
//! | `GET /api/v1/certificates/{series}/{number}?code=` | `verify_certificate` (no session needed) | 200 |
//! | `GET /api/v1/reports/{metric}?scope_kind=&scope=` | `report` | 200 |
//! | `GET /api/v1/planning/{year}` | `show_cycle` | 200 |
//! | `POST /api/v1/planning/{year}/advance` | `advance_stage` | 204 |
//! | `PUT /api/v1/planning/{year}/priorities` | `set_priorities` | 204 |
//! | `PUT /api/v1/planning/{year}/norm` | `set_financing_norm` | 204 |
//! | `PUT /api/v1/planning/{year}/limits/{source}` | `set_funding_limit` | 204 |
//! | `GET /api/v1/planning/{year}/funding` | `funding_report` | 200 |
//! | `GET /api/v1/planning/{year}/eligibility?scope_kind=&scope=` | `eligibility` | 200 |
//! | `POST /api/v1/planning/{year}/quotas` | `issue_quotas` | 204 |
//! | `POST /api/v1/planning/{year}/registry/approve` | `approve_registry` | 204 |
//! | `POST /api/v1/planning/{year}/forming` | `form_groups` | 204 |
//! | `GET /api/v1/planning/{year}/plan-schedule` | `plan_schedule` | 200 |
//! | `POST /api/v1/planning/{year}/plan-schedule/approve` | `approve_plan` | 204 |
//! | `GET /api/v1/planning/{year}/execution/{quarter}` | `plan_execution` | 200 |
//! | `GET /api/v1/planning/{year}/preferences` | `preferences_summary` | 200 |
//! | `POST /api/v1/planning/{year}/offers/expire` | `expire_offers` | 204 |
//! | `POST /api/v1/programs/{id}/reviews` | `review_program` | 204 |
//! | `POST /api/v1/programs/{id}/protocol` | `record_protocol` | 204 |
//! | `GET /api/v1/persons/{id}/quota/{year}` | `show_quota` | 200 |
//! | `POST /api/v1/persons/{id}/quota/{year}/refuse` | `refuse_quota` | 204 |
//! | `POST /api/v1/quotas/{number}/reassign` | `reassign_quota` | 204 |
//! | `GET /api/v1/persons/{id}/applications/{year}` | `show_applications` | 200 |
//! | `PUT /api/v1/persons/{id}/questionnaire/{year}` | `answer_questionnaire` | 204 |
//! | `POST /api/v1/persons/{id}/applications/{year}/{program}/accept` | `accept_offer` | 204 |
//! | `POST /api/v1/persons/{id}/applications/{year}/{program}/decline` | `decline_offer` | 204 |
//! | `PUT /api/v1/persons/{id}/parental-leave` | `set_parental_leave` | 204 |
//! | `GET /api/v1/persons/{id}/trajectory/{year}` | `trajectory` | 200 |
//! | `POST /api/v1/surveys` | `create_survey` | 201 `{id}` |
//! | `POST /api/v1/surveys/{id}/close` | `close_survey` | 204 |
//! | `POST /api/v1/surveys/{id}/responses` | `answer_survey` | 204 |
//! | `GET /api/v1/persons/{id}/surveys` | `surveys` | 200 |
//! | `GET /api/v1/surveys/{id}/results?group_by=&scope_kind=&scope=` | `survey_results` | 200 |
//!
//! Self-registration (`register_person` by the anonymous person) and `confirm_email` (which
//! needs the emailed code) live under `/api/v1/auth` (`register`, `confirm`).
//!
//! Every route takes [`Authed`](crate::auth::Authed) first (401 before anything else), then
//! the path (a malformed UUID or unknown enum value is 400 `input.invalid`), then the body
//! (malformed JSON, a wrong type or an unknown field is 400). Refusals of the core map by
//! [`ApiError`]: 403, 404, 409, 422, 503. Unknown paths are 404 and wrong methods 405, both
//! with an [`ErrorJson`] body.

mod dto;
mod groups;
mod orgs;
mod persons;
mod planning;
mod records;
mod registries;
mod reports;
mod surveys;
mod vouchers;

use std::collections::BTreeMap;

use axum::extract::FromRequestParts;
use axum::extract::Path;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use kadry::{Actor, Command, Outcome, Query, QueryResult};
use serde::Serialize;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoResponses, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorJson};
use crate::state::AppState;

/// The path the OpenAPI document is served at.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The document's fixed parts; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "kadry",
        description = "Continuing professional development of education workers in a Russian \
region: territories and organisations, staff lists, roles, named education vouchers, programs, \
study groups, training plans, notifications and reports. Every refusal carries a stable code \
(`ErrorJson.code`).",
        license(name = "MIT OR Apache-2.0"),
    ),
    servers((url = "/", description = "This server")),
    components(schemas(ErrorJson)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Accounts, sessions, email confirmation"),
        (name = "orgs", description = "Territories and organisations (R-A12, R-E5, R-P3, R-P4)"),
        (name = "persons", description = "People, their workplaces and personal data (R-A1..R-A11, R-E1..R-E4)"),
        (name = "roles", description = "Role grants and requests (R-A9)"),
        (name = "vouchers", description = "Named education vouchers (R-V1..R-V11)"),
        (name = "programs", description = "Additional professional programs (R-P1, R-P2)"),
        (name = "groups", description = "Study groups and enrolments (R-G1..R-G6)"),
        (name = "training", description = "Training plans and history, notifications (R-W1, R-N1)"),
        (name = "reports", description = "Report metrics (R-R1)"),
        (name = "surveys", description = "Monitoring and surveys: forms for a slice, satisfaction after a course, the professional-deficits diagnostic, results by slice (R-R2)"),
        (name = "planning", description = "The annual planning cycle: stages, expertise, eligibility, quota numbers, forming of groups, waitlists, plan-schedule, financing (R-W1..R-W4, R-F1)"),
    )
)]
struct ApiDoc;

/// Adds the `bearer` HTTP security scheme (the session token from `POST /api/v1/auth/login`).
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some("A session token from `POST /api/v1/auth/login`".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// All API routes with their OpenAPI operations, before the state is given.
fn api() -> OpenApiRouter<AppState> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    OpenApiRouter::with_openapi(doc)
        .nest("/api/v1/auth", crate::auth::Auth::routes())
        .merge(crate::import::routes())
        .merge(orgs::routes())
        .merge(persons::routes())
        .merge(vouchers::routes())
        .merge(groups::routes())
        .merge(reports::routes())
        .merge(registries::routes())
        .merge(records::routes())
        .merge(planning::routes())
        .merge(surveys::routes())
}

/// The generated OpenAPI document.
#[cfg(test)]
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (router, doc) = api().split_for_parts();
    let body = doc.to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document does not serialise");
        "{}".into()
    });
    router
        .route(OPENAPI_PATH, get(move || async move { ([(header::CONTENT_TYPE, "application/json")], body) }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource", "Ресурс не найден")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "input.invalid",
        "method not allowed for this resource",
        "Метод не поддерживается для этого ресурса",
    )
}

// ---------------------------------------------------------------------------------------------
// Shared pieces of the handlers
// ---------------------------------------------------------------------------------------------

/// Path parameters whose rejection (a malformed UUID, an unknown role or metric) is a 400 with
/// a coded error body.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// The id of what a command created.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Created {
    /// The new id.
    pub id: Uuid,
}

/// 201 with the created id.
pub type CreatedResponse = (StatusCode, Json<Created>);

/// Runs a command that creates something: 201 `{id}`.
pub async fn create(state: &AppState, actor: Actor, command: Command) -> ApiResult<CreatedResponse> {
    let name = command.name();
    match state.service.execute(actor, command).await? {
        Outcome::Created(id) => Ok((StatusCode::CREATED, Json(Created { id }))),
        Outcome::Done => Err(internal(&format!("{name} created nothing"))),
    }
}

/// Runs a command: 204.
pub async fn run(state: &AppState, actor: Actor, command: Command) -> ApiResult<StatusCode> {
    state.service.execute(actor, command).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Runs a query.
pub async fn ask(state: &AppState, actor: Actor, query: Query) -> ApiResult<QueryResult> {
    Ok(state.service.query(actor, query).await?)
}

/// A server fault: the core answered a query with another view (a bug, never client input).
pub fn internal(what: &str) -> ApiError {
    tracing::error!(what, "internal error");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", what.to_string(), "Внутренняя ошибка сервера")
}

/// Unwraps the expected view of a query result, as JSON.
macro_rules! view {
    ($result:expr, $variant:ident) => {
        match $result {
            kadry::QueryResult::$variant(v) => Ok(axum::Json(v)),
            _ => Err($crate::api::internal(concat!("unexpected query result, wanted ", stringify!($variant)))),
        }
    };
}
pub(crate) use view;

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorJson"))).build())
        .build()
        .into()
}

fn responses(list: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter().map(|(status, description)| (status.to_string(), error_response(description))).collect()
}

const BAD_REQUEST: (&str, &str) =
    ("400", "`input.invalid`: malformed path, query or body (bad UUID or JSON, wrong type, unknown field)");
const UNAUTHORIZED: (&str, &str) = ("401", "`auth.required`: no valid session");
const FORBIDDEN: (&str, &str) =
    ("403", "`access.denied`: the actor may not do this here; `account.email_unconfirmed` (R-A5)");
const NOT_FOUND: (&str, &str) = ("404", "`not_found`: something named does not exist");
const CONFLICT: (&str, &str) = ("409", "A rule refuses it (`state.invalid`, `account.*`, `voucher.*`, `group.*`, …)");
const UNPROCESSABLE: (&str, &str) = ("422", "`input.*`: a field parses but is invalid (name, email, SNILS, …)");
const UNAVAILABLE: (&str, &str) =
    ("503", "`storage.conflict` or `storage.failed`: retry after the `Retry-After` seconds");

/// The error responses of every command.
pub struct CommandErrors;

impl IntoResponses for CommandErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, UNPROCESSABLE, UNAVAILABLE])
    }
}

/// The error responses of every query.
pub struct QueryErrors;

impl IntoResponses for QueryErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        responses(&[
            BAD_REQUEST,
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            ("409", "A rule refuses it (`state.invalid`, …)"),
            UNPROCESSABLE,
            UNAVAILABLE,
        ])
    }
}

#[cfg(test)]
mod tests;
