//! A worker's voucher, training plans, training history and notifications.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use kadry::core::command::{NotificationsView, TrainingView, VoucherView};
use kadry::core::ids::{PersonId, ProgramId, TerritoryId};
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
        .routes(routes!(request_voucher, show_voucher))
        .routes(routes!(approve_voucher))
        .routes(routes!(reject_voucher))
        .routes(routes!(cancel_voucher))
        .routes(routes!(record_paper_voucher))
        .routes(routes!(plan_training))
        .routes(routes!(show_training))
        .routes(routes!(show_notifications))
}

/// Applies for a voucher (R-V1..R-V4); the operator decides within the approval deadline.
///
/// Actors: the worker, their org responsible.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/voucher", tag = "vouchers",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    security(("bearer" = [])),
    responses((status = 204, description = "Requested"), CommandErrors)
)]
async fn request_voucher(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::RequestVoucher { worker }).await
}

/// The worker's current voucher: its status, dates and blocks.
///
/// Actors: the worker, their org responsible and head, territory staff, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/persons/{id}/voucher", tag = "vouchers",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    security(("bearer" = [])),
    responses((status = 200, description = "The voucher", body = VoucherView), QueryErrors)
)]
async fn show_voucher(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
) -> ApiResult<axum::Json<VoucherView>> {
    view!(ask(&state, actor, Query::ShowVoucher { worker }).await?, Voucher)
}

/// Issues the requested voucher today.
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/voucher/approve", tag = "vouchers",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    security(("bearer" = [])),
    responses((status = 204, description = "Issued"), CommandErrors)
)]
async fn approve_voucher(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ApproveVoucher { worker }).await
}

/// Why a voucher is rejected or cancelled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// The reason, shown to the worker.
    pub reason: String,
}

/// Rejects the voucher application.
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/voucher/reject", tag = "vouchers",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    request_body = Reason,
    security(("bearer" = [])),
    responses((status = 204, description = "Rejected"), CommandErrors)
)]
async fn reject_voucher(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
    ApiJson(b): ApiJson<Reason>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::RejectVoucher { worker, reason: b.reason }).await
}

/// Cancels the worker's last issued voucher (a duplicate or a mistake); it stops counting for
/// the interval rule (R-V10). One with blocks reserved or consumed is refused.
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/voucher/cancel", tag = "vouchers",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    request_body = Reason,
    security(("bearer" = [])),
    responses((status = 204, description = "Cancelled"), CommandErrors)
)]
async fn cancel_voucher(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
    ApiJson(b): ApiJson<Reason>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::CancelVoucher { worker, reason: b.reason }).await
}

/// A paper voucher issued outside the system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperVoucher {
    /// Its issue date.
    pub issued_on: NaiveDate,
}

/// Records a paper voucher (R-V10).
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/paper-vouchers", tag = "vouchers",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    request_body = PaperVoucher,
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), CommandErrors)
)]
async fn record_paper_voucher(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
    ApiJson(b): ApiJson<PaperVoucher>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::RecordPaperVoucher { worker, issued_on: b.issued_on }).await
}

/// A planned training.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlan {
    /// The program.
    pub program: ProgramId,
    /// The planning year.
    pub year: i32,
    /// The preferred place of study, a territory (R-W4); the workplace's territory when absent.
    #[serde(default)]
    pub place: Option<TerritoryId>,
    /// The preferred quarter, 1–4.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 4)]
    pub period: Option<u8>,
    /// The worker's unique number (Tatarstan, R-W3).
    #[serde(default)]
    pub quota: Option<String>,
}

/// Plans a training — applies for it — for a planning year, inside the planning window
/// (R-W1..R-W4).
///
/// Actors: the worker, their org responsible.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/plans", tag = "training",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    request_body = NewPlan,
    security(("bearer" = [])),
    responses((status = 201, description = "Planned", body = super::Created), CommandErrors)
)]
async fn plan_training(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
    ApiJson(b): ApiJson<NewPlan>,
) -> ApiResult<CreatedResponse> {
    create(
        &state,
        actor,
        Command::PlanTraining {
            worker,
            program: b.program,
            year: b.year,
            place: b.place,
            period: b.period,
            quota: b.quota,
        },
    )
    .await
}

/// The worker's training history: finished trainings and certificates.
///
/// Actors: the worker, their org responsible and head, territory staff, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/persons/{id}/training", tag = "training",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    security(("bearer" = [])),
    responses((status = 200, description = "The history", body = TrainingView), QueryErrors)
)]
async fn show_training(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
) -> ApiResult<axum::Json<TrainingView>> {
    view!(ask(&state, actor, Query::ShowTraining { worker }).await?, Training)
}

/// Notifications sent to the person (R-N1), oldest first.
///
/// Actors: the person, their org responsible and head, territory staff, the ministry, the
/// operator.
#[utoipa::path(
    get, path = "/api/v1/persons/{id}/notifications", tag = "training",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    security(("bearer" = [])),
    responses((status = 200, description = "The notifications", body = NotificationsView), QueryErrors)
)]
async fn show_notifications(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
) -> ApiResult<axum::Json<NotificationsView>> {
    view!(ask(&state, actor, Query::ShowNotifications { person }).await?, Notifications)
}
