//! Territories and organisations.

use axum::extract::State;
use axum::http::StatusCode;
use kadry::core::command::{DirectoryView, StaffView};
use kadry::core::ids::{OrgId, TerritoryId};
use kadry::core::model::{License, OrgKind, Ownership};
use kadry::{Command, Query};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, CommandErrors, CreatedResponse, QueryErrors, ask, create, run, view};
use crate::auth::{Authed, MaybeAuthed};
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(directory))
        .routes(routes!(register_territory))
        .routes(routes!(register_org))
        .routes(routes!(reorganize_org))
        .routes(routes!(show_staff))
}

/// The directory's filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DirectoryFilter {
    /// Only this territory's organisations.
    pub territory: Option<TerritoryId>,
}

/// The directory: territories and open organisations by name — what a worker registers at
/// (`org` of `/api/v1/auth/register`) and what an operator picks from.
///
/// Actor: anybody, with or without a session.
#[utoipa::path(
    get, path = "/api/v1/directory", tag = "orgs",
    params(DirectoryFilter),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The directory", body = DirectoryView), QueryErrors)
)]
async fn directory(
    State(state): State<AppState>,
    MaybeAuthed(actor): MaybeAuthed,
    ApiQuery(f): ApiQuery<DirectoryFilter>,
) -> ApiResult<axum::Json<DirectoryView>> {
    view!(ask(&state, actor, Query::Directory { territory: f.territory }).await?, Directory)
}

/// A new territory.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerritory {
    /// Its name.
    pub name: String,
}

/// Registers a territory (a municipal education authority).
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/territories", tag = "orgs",
    request_body = NewTerritory,
    security(("bearer" = [])),
    responses((status = 201, description = "Registered", body = super::Created), CommandErrors)
)]
async fn register_territory(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(body): ApiJson<NewTerritory>,
) -> ApiResult<CreatedResponse> {
    create(&state, actor, Command::RegisterTerritory { name: body.name }).await
}

/// A provider's educational licence (R-P3).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenseIn {
    /// The licence number; also the series of the provider's certificates.
    pub number: String,
    /// The last day it is valid; absent for a licence without an end.
    #[serde(default)]
    pub valid_until: Option<chrono::NaiveDate>,
    /// The day it was issued (R-P3): no group starts before it.
    #[serde(default)]
    pub issued_on: Option<chrono::NaiveDate>,
}

/// A new organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrg {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: OrgKind,
    /// Its territory.
    pub territory: TerritoryId,
    /// For a structural subdivision: the organisation it belongs to (R-A12).
    #[serde(default)]
    pub parent: Option<OrgId>,
    /// A provider's licence (kinds `dpo`, `university`, `college`).
    #[serde(default)]
    pub license: Option<LicenseIn>,
    /// Ownership (R-P4); `regional` when absent.
    #[serde(default)]
    pub ownership: Option<Ownership>,
}

/// Registers an organisation.
///
/// Actors: the operator, territory staff of that territory.
#[utoipa::path(
    post, path = "/api/v1/orgs", tag = "orgs",
    request_body = NewOrg,
    security(("bearer" = [])),
    responses((status = 201, description = "Registered", body = super::Created), CommandErrors)
)]
async fn register_org(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(body): ApiJson<NewOrg>,
) -> ApiResult<CreatedResponse> {
    let license =
        body.license.map(|l| License { number: l.number, valid_until: l.valid_until, issued_on: l.issued_on });
    let c = Command::RegisterOrg {
        name: body.name,
        kind: body.kind,
        territory: body.territory,
        parent: body.parent,
        license,
        ownership: body.ownership,
    };
    create(&state, actor, c).await
}

/// The successor of a reorganised organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reorganize {
    /// The successor organisation.
    pub into: OrgId,
}

/// Reorganises (merges) an organisation into another, or liquidates it into its successor: its
/// staff move with their accounts and states (R-E5); it closes.
///
/// Actors: the operator, territory staff of both.
#[utoipa::path(
    post, path = "/api/v1/orgs/{id}/reorganize", tag = "orgs",
    params(("id" = uuid::Uuid, Path, description = "The organisation that closes")),
    request_body = Reorganize,
    security(("bearer" = [])),
    responses((status = 204, description = "Reorganised"), CommandErrors)
)]
async fn reorganize_org(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(org): ApiPath<OrgId>,
    ApiJson(body): ApiJson<Reorganize>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ReorganizeOrg { org, into: body.into }).await
}

/// An organisation's staff list: active and pending workplaces.
///
/// Actors: its org responsible and head, territory staff of its territory, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/orgs/{id}/staff", tag = "orgs",
    params(("id" = uuid::Uuid, Path, description = "The organisation")),
    security(("bearer" = [])),
    responses((status = 200, description = "The staff list", body = StaffView), QueryErrors)
)]
async fn show_staff(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(org): ApiPath<OrgId>,
) -> ApiResult<axum::Json<StaffView>> {
    view!(ask(&state, actor, Query::ShowStaff { org }).await?, Staff)
}
