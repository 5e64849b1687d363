//! Programs, study groups and enrolments.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use kadry::core::command::{CatalogueView, CertificateCheckView, GroupView, ProgramView};
use kadry::core::ids::{GroupId, OrgId, PersonId, ProgramId};
use kadry::core::model::{Audience, Funding, OrgKind, Position};
use kadry::{Command, Query};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::dto::{OrAll, audience, text_audience};
use super::{ApiPath, CommandErrors, CreatedResponse, QueryErrors, ask, create, run, view};
use crate::auth::{Authed, MaybeAuthed};
use crate::error::{ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue, submit_program))
        .routes(routes!(show_program))
        .routes(routes!(approve_program))
        .routes(routes!(open_group))
        .routes(routes!(show_group))
        .routes(routes!(enroll))
        // One `routes!` per path: `routes!` serves all its handlers on the path of each, so
        // grouping these two would also serve POST on `…/{worker}` and DELETE on `…/confirm`.
        .routes(routes!(confirm_enrollment))
        .routes(routes!(remove_from_group))
        .routes(routes!(complete_group))
        .routes(routes!(verify_certificate))
}

/// The verification code printed on a certificate.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CertificateCode {
    /// The verification code.
    pub code: String,
}

/// The public check of a certificate (удостоверение): with its series, number and verification
/// code, what it certifies — holder (surname and initials), program, hours, dates, provider
/// (R-G6). An unknown certificate and a wrong code answer alike, 404.
///
/// Actor: anybody, with or without a session.
#[utoipa::path(
    get, path = "/api/v1/certificates/{series}/{number}", tag = "groups",
    params(
        ("series" = String, Path, description = "The series (the provider's licence number)"),
        ("number" = String, Path, description = "The registration number"),
        CertificateCode,
    ),
    security((), ("bearer" = [])),
    responses((status = 200, description = "What the certificate certifies", body = CertificateCheckView), QueryErrors)
)]
async fn verify_certificate(
    State(state): State<AppState>,
    MaybeAuthed(actor): MaybeAuthed,
    ApiPath((series, number)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<CertificateCode>,
) -> ApiResult<axum::Json<CertificateCheckView>> {
    view!(ask(&state, actor, Query::VerifyCertificate { series, number, code: q.code }).await?, CertificateCheck)
}

/// The catalogue's filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogueFilter {
    /// Only this provider's programs.
    pub provider: Option<OrgId>,
    /// Also groups no longer recruiting (started, finished, completed); only open ones when absent.
    pub all: Option<bool>,
}

/// The catalogue (R-P2): approved programs by title, each with its groups by start date — what a
/// worker chooses a course from.
///
/// Actor: any person.
#[utoipa::path(
    get, path = "/api/v1/programs", tag = "programs",
    params(CatalogueFilter),
    security(("bearer" = [])),
    responses((status = 200, description = "The catalogue", body = CatalogueView), QueryErrors)
)]
async fn catalogue(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(f): ApiQuery<CatalogueFilter>,
) -> ApiResult<axum::Json<CatalogueView>> {
    let q = Query::Catalogue { provider: f.provider, open_only: !f.all.unwrap_or(false) };
    view!(ask(&state, actor, q).await?, Catalogue)
}

/// A new program. Audience lists: `["all"]` matches every value; an empty list matches none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgram {
    /// The provider organisation.
    pub provider: OrgId,
    /// Title.
    pub title: String,
    /// Hours.
    pub hours: u32,
    /// The annotation shown in the catalogue (R-P2).
    #[serde(default)]
    pub annotation: Option<String>,
    /// Positions it is meant for.
    pub positions: Vec<OrAll<Position>>,
    /// Positions it is profile for (R-V7); none when absent.
    #[serde(default)]
    pub profile_for: Option<Vec<OrAll<Position>>>,
    /// Organisation kinds it is meant for; all when absent.
    #[serde(default)]
    pub org_kinds: Option<Vec<OrAll<OrgKind>>>,
    /// Subjects it is meant for; all when absent.
    #[serde(default)]
    pub subjects: Option<Vec<String>>,
    /// The planning year it is offered for (R-W1); absent for an out-of-plan program.
    #[serde(default)]
    pub year: Option<i32>,
    /// Its direction (the registry is ordered by direction, R-W3).
    #[serde(default)]
    pub direction: Option<String>,
    /// The smallest group forming may make (R-W4).
    #[serde(default)]
    pub min_group: Option<u32>,
    /// The largest group forming may make (R-W4).
    #[serde(default)]
    pub max_group: Option<u32>,
    /// Places offered for the planning year.
    #[serde(default)]
    pub places: Option<u32>,
    /// The form of study (`in_person`, `blended`, `distance`), as the certificate's ФИС ФРДО
    /// record states it; in person when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub form: Option<kadry::core::planning::StudyForm>,
}

/// Submits a program for expertise (R-P1, R-P2).
///
/// Actor: provider staff of `provider`.
#[utoipa::path(
    post, path = "/api/v1/programs", tag = "programs",
    request_body = NewProgram,
    security(("bearer" = [])),
    responses((status = 201, description = "Submitted", body = super::Created), CommandErrors)
)]
async fn submit_program(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(b): ApiJson<NewProgram>,
) -> ApiResult<CreatedResponse> {
    let c = Command::SubmitProgram {
        form: b.form,
        provider: b.provider,
        title: b.title,
        hours: b.hours,
        annotation: b.annotation,
        positions: audience(b.positions),
        profile_for: b.profile_for.map_or(Audience::Only(Vec::new()), audience),
        org_kinds: b.org_kinds.map_or(Audience::All, audience),
        subjects: b.subjects.map_or(Audience::All, text_audience),
        year: b.year,
        direction: b.direction,
        min_group: b.min_group,
        max_group: b.max_group,
        places: b.places,
    };
    create(&state, actor, c).await
}

/// A program. Its audiences are `"all"` or `{"only": [...]}`.
///
/// Actor: any person.
#[utoipa::path(
    get, path = "/api/v1/programs/{id}", tag = "programs",
    params(("id" = uuid::Uuid, Path, description = "The program")),
    security(("bearer" = [])),
    responses((status = 200, description = "The program", body = ProgramView), QueryErrors)
)]
async fn show_program(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(program): ApiPath<ProgramId>,
) -> ApiResult<axum::Json<ProgramView>> {
    view!(ask(&state, actor, Query::ShowProgram { program }).await?, Program)
}

/// Records passed expertise: the program is published and may get groups (R-P1).
///
/// Actor: the operator.
#[utoipa::path(
    post, path = "/api/v1/programs/{id}/approve", tag = "programs",
    params(("id" = uuid::Uuid, Path, description = "The program")),
    security(("bearer" = [])),
    responses((status = 204, description = "Approved"), CommandErrors)
)]
async fn approve_program(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(program): ApiPath<ProgramId>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ApproveProgram { program }).await
}

/// A new study group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// The program (approved).
    pub program: ProgramId,
    /// First day.
    pub starts: NaiveDate,
    /// Last day.
    pub ends: NaiveDate,
    /// Place of study.
    pub place: String,
    /// Seats.
    pub capacity: u32,
    /// Funding.
    pub funding: Funding,
}

/// Opens a study group of an approved program (R-G1, R-P1, R-P3).
///
/// Actor: provider staff of the program's provider.
#[utoipa::path(
    post, path = "/api/v1/groups", tag = "groups",
    request_body = NewGroup,
    security(("bearer" = [])),
    responses((status = 201, description = "Opened", body = super::Created), CommandErrors)
)]
async fn open_group(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiJson(b): ApiJson<NewGroup>,
) -> ApiResult<CreatedResponse> {
    let c = Command::OpenGroup {
        program: b.program,
        starts: b.starts,
        ends: b.ends,
        place: b.place,
        capacity: b.capacity,
        funding: b.funding,
    };
    create(&state, actor, c).await
}

/// A group: status, dates, seats.
///
/// Actor: any person.
#[utoipa::path(
    get, path = "/api/v1/groups/{id}", tag = "groups",
    params(("id" = uuid::Uuid, Path, description = "The group")),
    security(("bearer" = [])),
    responses((status = 200, description = "The group", body = GroupView), QueryErrors)
)]
async fn show_group(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(group): ApiPath<GroupId>,
) -> ApiResult<axum::Json<GroupView>> {
    view!(ask(&state, actor, Query::ShowGroup { group }).await?, Group)
}

/// The worker to enrol.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollWorker {
    /// The worker.
    pub worker: PersonId,
}

/// Enrols a worker: takes a seat and, in a voucher-funded group, reserves `ceil(hours / 36)`
/// voucher blocks (R-G2..R-G4, R-V6..R-V9, R-P4). Returns the enrolment's id.
///
/// Actors: the worker, their org responsible.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/enrollments", tag = "groups",
    params(("id" = uuid::Uuid, Path, description = "The group")),
    request_body = EnrollWorker,
    security(("bearer" = [])),
    responses((status = 201, description = "Enrolled", body = super::Created), CommandErrors)
)]
async fn enroll(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(group): ApiPath<GroupId>,
    ApiJson(b): ApiJson<EnrollWorker>,
) -> ApiResult<CreatedResponse> {
    create(&state, actor, Command::Enroll { worker: b.worker, group }).await
}

/// Confirms an enrolment (R-G5).
///
/// Actor: provider staff of the group's provider.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/enrollments/{worker}/confirm", tag = "groups",
    params(
        ("id" = uuid::Uuid, Path, description = "The group"),
        ("worker" = uuid::Uuid, Path, description = "The enrolled worker"),
    ),
    security(("bearer" = [])),
    responses((status = 204, description = "Confirmed"), CommandErrors)
)]
async fn confirm_enrollment(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((group, worker)): ApiPath<(GroupId, PersonId)>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::ConfirmEnrollment { worker, group }).await
}

/// Removes a worker from a group, freeing the seat and the voucher blocks (R-G5).
///
/// Actors: the org responsible of the worker's organisation, provider staff.
#[utoipa::path(
    delete, path = "/api/v1/groups/{id}/enrollments/{worker}", tag = "groups",
    params(
        ("id" = uuid::Uuid, Path, description = "The group"),
        ("worker" = uuid::Uuid, Path, description = "The enrolled worker"),
    ),
    security(("bearer" = [])),
    responses((status = 204, description = "Removed"), CommandErrors)
)]
async fn remove_from_group(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath((group, worker)): ApiPath<(GroupId, PersonId)>,
) -> ApiResult<StatusCode> {
    run(&state, actor, Command::RemoveFromGroup { worker, group }).await
}

/// A group's results. Listeners in neither list did not complete; every one but those who
/// passed gets a statement (справка).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupResults {
    /// Those who passed the final attestation (they get certificates).
    pub passed: Vec<PersonId>,
    /// Those who failed it.
    #[serde(default)]
    pub failed: Vec<PersonId>,
    /// Hours attended per listener, where recorded (at most the program's).
    #[serde(default)]
    pub attendance: Vec<kadry::core::command::Attendance>,
    /// Listeners who did not complete, with the reason (Tatarstan stage 7).
    #[serde(default)]
    pub not_completed: Vec<kadry::core::command::NonCompletion>,
}

/// Records results on or after the group's last day (R-G6).
///
/// Actor: provider staff of the group's provider.
#[utoipa::path(
    post, path = "/api/v1/groups/{id}/complete", tag = "groups",
    params(("id" = uuid::Uuid, Path, description = "The group")),
    request_body = GroupResults,
    security(("bearer" = [])),
    responses((status = 204, description = "Completed"), CommandErrors)
)]
async fn complete_group(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(group): ApiPath<GroupId>,
    ApiJson(b): ApiJson<GroupResults>,
) -> ApiResult<StatusCode> {
    run(
        &state,
        actor,
        Command::CompleteGroup {
            attendance: b.attendance,
            not_completed: b.not_completed,
            group,
            passed: b.passed,
            failed: b.failed,
        },
    )
    .await
}
