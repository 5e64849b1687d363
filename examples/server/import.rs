//! Bulk import of staff lists over HTTP: `POST /api/v1/orgs/{org}/staff/import?dry_run=true|false`
//! with the CSV as the raw body (see `docs/import.md`). All rows or none.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use kadry::core::ids::OrgId;
use kadry::import::{CreatedPerson, ImportReport, RowError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult, ErrorJson};
use crate::state::AppState;

/// The largest staff list accepted: 5 MiB (about 40 000 rows).
pub const MAX_CSV_BYTES: usize = 5 * 1024 * 1024;

/// The import routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_staff)).layer(DefaultBodyLimit::max(MAX_CSV_BYTES))
}

/// The import's query string.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check the file against the rules and the existing accounts without committing anything
    /// (default: false).
    #[serde(default)]
    pub dry_run: bool,
}

/// One problem of the import.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorJson {
    /// The 1-based line of the file (the header's line for header problems).
    #[schema(example = 3)]
    pub line: u64,
    /// The column's header as written in the file; null when the whole row is meant.
    #[schema(example = "СНИЛС")]
    pub column: Option<String>,
    /// The stable code.
    #[schema(example = "input.snils_invalid")]
    pub code: String,
    /// English message.
    pub message: String,
    /// Russian message for the responsible.
    pub message_ru: String,
}

/// A person the import registered.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedJson {
    /// The line of the file.
    pub line: u64,
    /// The new account's id.
    pub person: uuid::Uuid,
}

/// The import report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportJson {
    /// Data rows in the file.
    pub rows: usize,
    /// People registered (0 unless committed).
    pub imported: usize,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Every problem, by line; empty when the file imports cleanly.
    pub errors: Vec<RowErrorJson>,
    /// The accounts created, by line (committed imports only).
    pub created: Vec<CreatedJson>,
}

impl From<ImportReport> for ImportReportJson {
    fn from(r: ImportReport) -> Self {
        let error = |e: RowError| RowErrorJson {
            line: e.line,
            column: e.column,
            code: e.code,
            message: e.message,
            message_ru: e.message_ru,
        };
        let created = |c: CreatedPerson| CreatedJson { line: c.line, person: c.person.0 };
        ImportReportJson {
            rows: r.rows,
            imported: r.imported,
            dry_run: r.dry_run,
            errors: r.errors.into_iter().map(error).collect(),
            created: r.created.into_iter().map(created).collect(),
        }
    }
}

/// The status of a report: 200 when clean, 403 when the actor may not register staff of the
/// organisation, 404 when it does not exist, 422 for any other problem.
fn status(r: &ImportReport) -> StatusCode {
    let has = |code: &str| r.errors.iter().any(|e| e.code == code);
    if r.errors.is_empty() {
        StatusCode::OK
    } else if has("access.denied") || has("account.email_unconfirmed") {
        StatusCode::FORBIDDEN
    } else if has("not_found") {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// Imports an organisation's staff list (R-A6, R-A10).
///
/// The body is the CSV file itself (UTF-8, `;` or `,`, header row; see `docs/import.md`).
/// All or none: people are registered only when every row is good and `dry_run` is false;
/// otherwise nothing changes and the report lists every problem with its line and column.
#[utoipa::path(
    post,
    path = "/api/v1/orgs/{org}/staff/import",
    tag = "orgs",
    security(("bearer" = [])),
    params(("org" = uuid::Uuid, Path, description = "The organisation"), ImportParams),
    request_body(content = String, content_type = "text/csv", description = "The staff list, at most 5 MiB"),
    responses(
        (status = 200, description = "Imported, or a clean dry run", body = ImportReportJson),
        (status = 400, description = "Malformed path or query (`input.invalid`)", body = ErrorJson),
        (status = 401, description = "No valid session (`auth.required`)", body = ErrorJson),
        (status = 403, description = "Not a responsible of this organisation nor the operator; nothing imported", body = ImportReportJson),
        (status = 404, description = "No such organisation; nothing imported", body = ImportReportJson),
        (status = 413, description = "The file is larger than 5 MiB (`input.invalid`)", body = ErrorJson),
        (status = 422, description = "Bad rows; nothing imported", body = ImportReportJson),
        (status = 503, description = "Storage failure or conflict; nothing imported, retry", body = ErrorJson),
    )
)]
async fn import_staff(
    Authed(actor): Authed,
    State(state): State<AppState>,
    org: Result<Path<uuid::Uuid>, PathRejection>,
    ApiQuery(params): ApiQuery<ImportParams>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<ImportReportJson>)> {
    let Path(org) = org.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "input.invalid",
                format!("the file is larger than {MAX_CSV_BYTES} bytes"),
                "Файл больше 5 МБ: разделите список на части",
            )
        } else {
            ApiError::bad_request(e.body_text())
        }
    })?;
    let report = kadry::import::import_staff(&state.service, actor, OrgId(org), &body, params.dry_run).await?;
    tracing::info!(
        %org, rows = report.rows, imported = report.imported, errors = report.errors.len(), dry_run = report.dry_run,
        "staff import"
    );
    Ok((status(&report), Json(report.into())))
}
