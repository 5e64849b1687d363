//! A worker's records (R-G6, R-R1): the data the federal registry and the reports need, the
//! attestation category, trainings entered from documents, and reminders.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use kadry::Command;
use kadry::core::ids::PersonId;
use kadry::core::model::{Category, EducationDoc, Sex, TrainingSource};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiPath, CommandErrors, run};
use crate::auth::Authed;
use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_profile))
        .routes(routes!(set_category))
        .routes(routes!(record_training))
        .routes(routes!(set_reminders))
        .routes(routes!(send_reminders))
}

/// What the federal registry and the reports need beyond the account; absent fields are
/// kept as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileIn {
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub birth_date: Option<NaiveDate>,
    /// `male` or `female`.
    #[serde(default)]
    pub sex: Option<Sex>,
    /// Citizenship, the OKSM code (`643` for Russia).
    #[serde(default)]
    pub citizenship: Option<String>,
    /// The diploma of higher or secondary vocational education.
    #[serde(default)]
    pub education: Option<EducationDoc>,
    /// The first day of pedagogical experience, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub experience_since: Option<NaiveDate>,
}

/// Records a person's data for the federal registry and the reports, checked on entry so the
/// ФИС ФРДО export never fails on them (R-G6).
///
/// Actors: the person, their org responsible, the operator.
#[utoipa::path(
    put, path = "/api/v1/persons/{id}/profile", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    request_body = ProfileIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), CommandErrors)
)]
async fn set_profile(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
    ApiJson(b): ApiJson<ProfileIn>,
) -> ApiResult<StatusCode> {
    let c = Command::SetProfile {
        person,
        birth_date: b.birth_date,
        sex: b.sex,
        citizenship: b.citizenship,
        education: b.education,
        experience_since: b.experience_since,
    };
    run(&state, actor, c).await
}

/// An attestation category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryIn {
    /// The category; none removes it.
    pub category: Option<Category>,
}

/// Records the attestation category of the worker's current position (R-R1).
///
/// Actors: their org responsible, the operator.
#[utoipa::path(
    put, path = "/api/v1/persons/{id}/category", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    request_body = CategoryIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), CommandErrors)
)]
async fn set_category(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
    ApiJson(b): ApiJson<CategoryIn>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::SetCategory { worker, category: b.category }).await
}

/// A training entered from its document.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainingIn {
    /// `external` (outside the region's funding) or `paper` (from the archive).
    pub source: TrainingSource,
    /// The program's title.
    pub program_title: String,
    /// The provider's name, as on the document.
    pub provider_name: String,
    /// Hours, 16 to 2 000.
    pub hours: u32,
    /// The first day, `YYYY-MM-DD`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub started_on: Option<NaiveDate>,
    /// The last day, `YYYY-MM-DD`.
    #[schema(value_type = String)]
    pub completed_on: NaiveDate,
    /// The document's series and number.
    pub document: String,
}

/// Enters a passed training from its document: one outside the region's funding (Tatarstan)
/// or a paper record; it counts for the three-year floor (R-G6, R-V11).
///
/// Actors: territory staff (workers of their territory), the operator.
#[utoipa::path(
    post, path = "/api/v1/persons/{id}/trainings", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The worker")),
    request_body = TrainingIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Recorded"), CommandErrors)
)]
async fn record_training(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(worker): ApiPath<PersonId>,
    ApiJson(b): ApiJson<TrainingIn>,
) -> ApiResult<StatusCode> {
    let c = Command::RecordTraining {
        worker,
        source: b.source,
        program_title: b.program_title,
        provider_name: b.provider_name,
        hours: b.hours,
        started_on: b.started_on,
        completed_on: b.completed_on,
        document: b.document,
    };
    run(&state, actor, c).await
}

/// Reminders on or off.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemindersIn {
    /// Whether to receive reminders.
    pub enabled: bool,
}

/// Turns a person's reminders on or off.
///
/// Actors: the person, the operator.
#[utoipa::path(
    put, path = "/api/v1/persons/{id}/reminders", tag = "persons",
    params(("id" = uuid::Uuid, Path, description = "The person")),
    request_body = RemindersIn,
    security(("bearer" = [])),
    responses((status = 204, description = "Set"), CommandErrors)
)]
async fn set_reminders(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(person): ApiPath<PersonId>,
    ApiJson(b): ApiJson<RemindersIn>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::SetReminders { person, enabled: b.enabled }).await
}

/// Sends the reminders due today through the outbox, once each: vouchers running out
/// (90/30/7 days), the three-year floor approaching (90/30 days), approvals past their term
/// (to the operator). A host's scheduler calls it daily.
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/reminders/send", tag = "persons",
    security(("bearer" = [])),
    responses((status = 204, description = "Sent"), CommandErrors)
)]
async fn send_reminders(State(state): State<AppState>, Authed(actor): Authed) -> ApiResult<StatusCode> {
    run(&state, actor, Command::SendReminders).await
}
