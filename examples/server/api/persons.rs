//! People: registration by others, cards, personal data, workplaces, roles.

use axum::extract::State;
use axum::http::StatusCode;
use kadry::core::command::{PersonView, ScopeRef};
use kadry::core::ids::{OrgId, PersonId};
use kadry::core::model::{Position, Role};
use kadry::{Command, Query};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, CommandErrors, CreatedResponse, QueryErrors, ask, create, run, view};
use crate::auth::Authed;
use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_person))
        .routes(routes!(register_official))
        .routes(routes!(show_person, update_person))
        .routes(routes!(confirm_person_change))
        .routes(routes!(confirm_workplace))
        .routes(routes!(dismiss))
        .routes(routes!(transfer))
        .routes(routes!(claim_workplace))
        .routes(routes!(grant_role))
        .routes(routes!(request_role))
        .routes(routes!(approve_role_request))
        .routes(routes!(restore_role))
}

fn yes() -> bool {
    true
}

/// A person registered with a workplace by an org responsible or the operator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Full name, "Фамилия Имя [Отчество]".
    pub full_name: String,
    /// Personal email (unique, R-A2).
    pub email: String,
    /// The workplace.
    pub org: OrgId,
    /// The position.
    pub position: Position,
    /// Whether the position is pedagogical.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub pedagogical: bool,
    /// Consent to personal data processing (R-A4).
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub consent: bool,
    /// SNILS, "XXX-XXX-XXX YY" or 11 digits (R-A3).
    #[serde(default)]
    pub snils: Option<String>,
    /// Subject taught, e.g. "math".
    #[serde(default)]
    pub subject: Option<String>,
    /// Year of birth.
    #[serde(default)]
    pub birth_year: Option<i32>,
}

/// Registers a person with a confirmed workplace (R-A2..R-A6); their email starts unconfirmed.
/// Self-registration is `POST /api/v1/auth/register`.
///
/// Actors: an org responsible of `org`, the operator.
#[utoipa::path(
    post, path = "/api/v1/persons", tag = "persons",
    request_body = NewPerson,
    security(("bearer" = [])),
    responses((status = 201, description = "Registered", body = super::Created), CommandErrors)
)]
async fn register_person(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(b): ApiJson<NewPerson>,
) -> ApiResult<CreatedResponse> {
    let c = Command::RegisterPerson {
        full_name: b.full_name,
        email: b.email,
        org: b.org,
        position: b.position,
        pedagogical: b.pedagogical,
        consent: b.consent,
        snils: b.snils,
        subject: b.subject,
        birth_year: b.birth_year,
    };
    create(&state, actor, c).await
}

/// A regional official.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfficial {
    /// Full name.
    pub full_name: String,
    /// Email.
    pub email: String,
    /// `ministry`, `expert` or `operator`.
    pub role: Role,
    /// The order the role is granted on.
    pub basis: String,
}

/// Registers a regional official without a workplace (ministry, expert council, operator) and
/// grants the role.
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/officials", tag = "persons",
    request_body = NewOfficial,
    security(("bearer" = [])),
    responses((status = 201, description = "Registered", body = super::Created), CommandErrors)
)]
async fn register_official(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(b): ApiJson<NewOfficial>,
) -> ApiResult<CreatedResponse> {
    create(
        &state,
        actor,
        Command::RegisterOfficial { full_name: b.full_name, email: b.email, role: b.role, basis: b.basis },
    )
    .await
}

/// A person's card.
///
/// Actors: the person, their org responsible and head, territory staff, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/persons/{id}", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    security(("bearer" = [])),
    responses((status = 200, description = "The card", body = PersonView), QueryErrors)
)]
async fn show_person(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
) -> ApiResult<axum::Json<PersonView>> {
    view!(ask(&state, actor, Query::ShowPerson { person }).await?, Person)
}

/// A proposed change of personal data; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonUpdate {
    /// A new full name.
    #[serde(default)]
    pub full_name: Option<String>,
    /// A new email.
    #[serde(default)]
    pub email: Option<String>,
    /// A new SNILS.
    #[serde(default)]
    pub snils: Option<String>,
    /// A new subject.
    #[serde(default)]
    pub subject: Option<String>,
}

/// Proposes a change of personal data: pending until the org responsible confirms it (R-A8);
/// the person's roles above `worker` are suspended meanwhile (R-A9).
///
/// Actors: the person, their org responsible.
#[utoipa::path(
    patch, path = "/api/v1/persons/{id}", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    request_body = PersonUpdate,
    security(("bearer" = [])),
    responses((status = 204, description = "The change awaits confirmation"), CommandErrors)
)]
async fn update_person(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
    ApiJson(b): ApiJson<PersonUpdate>,
) -> ApiResult<StatusCode> {
    let c =
        Command::UpdatePerson { person, full_name: b.full_name, email: b.email, snils: b.snils, subject: b.subject };
    run(&state, actor, c).await
}

/// Confirms a pending change of personal data (R-A8).
///
/// Actors: the org responsible of the person's organisation, the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/change/confirm", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    security(("bearer" = [])),
    responses((status = 204, description = "Applied"), CommandErrors)
)]
async fn confirm_person_change(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ConfirmPersonChange { person }).await
}

/// Confirms a pending workplace (R-A7).
///
/// Actors: the org responsible of the organisation where the person is pending, the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/workplace/confirm", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    security(("bearer" = [])),
    responses((status = 204, description = "Confirmed"), CommandErrors)
)]
async fn confirm_workplace(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ConfirmWorkplace { person }).await
}

/// Dismisses the worker from their organisation (R-E1); the account stays.
///
/// Actor: the org responsible of the person's organisation.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/dismiss", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    security(("bearer" = [])),
    responses((status = 204, description = "Dismissed"), CommandErrors)
)]
async fn dismiss(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::Dismiss { person }).await
}

/// Where a worker is transferred.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferTo {
    /// The new organisation.
    pub to: OrgId,
}

/// Transfers the worker out to another organisation, pending there (R-E2).
///
/// Actor: the org responsible of the person's current organisation.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/transfer", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    request_body = TransferTo,
    security(("bearer" = [])),
    responses((status = 204, description = "Transferred"), CommandErrors)
)]
async fn transfer(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
    ApiJson(b): ApiJson<TransferTo>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::Transfer { person, to: b.to }).await
}

/// A workplace claimed by the caller.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkplaceClaim {
    /// The organisation.
    pub org: OrgId,
    /// The position.
    pub position: Position,
    /// Whether it is pedagogical (default: yes).
    #[serde(default)]
    pub pedagogical: Option<bool>,
}

/// Claims a new workplace while the caller has none; pending until confirmed (R-E3).
///
/// Actor: the caller (a person without an active workplace).
#[utoipa::path(
    post, path = "/api/v1/me/workplace", tag = "persons",
    request_body = WorkplaceClaim,
    security(("bearer" = [])),
    responses((status = 204, description = "Claimed, pending confirmation"), CommandErrors)
)]
async fn claim_workplace(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(b): ApiJson<WorkplaceClaim>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ClaimWorkplace { org: b.org, position: b.position, pedagogical: b.pedagogical }).await
}

/// A role granted on a basis document.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleGrantIn {
    /// The role.
    pub role: Role,
    /// Its scope: `{"organisation": id}` for `org_responsible`, `org_head`, `provider`;
    /// `{"territory": id}` for `territory`; absent for `ministry`, `expert`, `operator`.
    #[serde(default)]
    pub scope: Option<ScopeRef>,
    /// The order, e.g. "приказ № 12 от 01.09.2024"; empty → `role.basis_required`.
    pub basis: String,
}

/// Grants a role on a basis document.
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/roles", tag = "roles",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    request_body = RoleGrantIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Granted"), CommandErrors)
)]
async fn grant_role(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
    ApiJson(b): ApiJson<RoleGrantIn>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::GrantRole { person, role: b.role, scope: b.scope, basis: b.basis }).await
}

/// Requests a role for the caller; the operator approves it.
///
/// Actor: any person.
#[utoipa::path(
    post, path = "/api/v1/role-requests", tag = "roles",
    request_body = RoleGrantIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Requested"), CommandErrors)
)]
async fn request_role(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(b): ApiJson<RoleGrantIn>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::RequestRole { role: b.role, scope: b.scope, basis: b.basis }).await
}

/// Grants a requested role.
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/role-requests/{role}/approve", tag = "roles",
    params(
        ("id" = uuid::Uuid, Path, description = "The requester"),
        ("role" = Role, Path, description = "The requested role"),
    ),
    security(("bearer" = [])),
    responses((status = 204, description = "Granted"), CommandErrors)
)]
async fn approve_role_request(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((person, role)): ApiPath<(PersonId, Role)>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ApproveRoleRequest { person, role }).await
}

/// Lifts a suspension of a role (R-A9) and applies the pending personal change.
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/roles/{role}/restore", tag = "roles",
    params(
        ("id" = uuid::Uuid, Path, description = "The person"),
        ("role" = Role, Path, description = "The suspended role"),
    ),
    security(("bearer" = [])),
    responses((status = 204, description = "Restored"), CommandErrors)
)]
async fn restore_role(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((person, role)): ApiPath<(PersonId, Role)>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::RestoreRole { person, role }).await
}
