//! Outputs: reports in any slice and what is overdue (R-R1), registries of those trained and
//! the ФИС ФРДО export (R-G6) — as JSON, or as a CSV or XLSX file stamped with when and by
//! whom it was made.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use kadry::core::command::{OverdueView, ReadyReport, SliceView};
use kadry::core::frdo;
use kadry::core::ids::{GroupId, OrgId};
use kadry::core::registry::{FrdoView, RegistryView};
use kadry::core::report::{Dimension, Filter};
use kadry::export::{Stamp, Table, to_csv, to_xlsx};
use kadry::{Actor, Query, QueryResult};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::reports::{ReportScope, ScopeKindParam};
use super::{ApiPath, QueryErrors, ask, internal};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(slice))
        .routes(routes!(ready))
        .routes(routes!(overdue))
        .routes(routes!(group_registry))
        .routes(routes!(registry))
        .routes(routes!(frdo_export))
}

/// How an output is returned.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// The view as JSON.
    #[default]
    Json,
    /// A CSV file (UTF-8 with a byte-order mark, CRLF, the stamp on its last line).
    Csv,
    /// An XLSX workbook (the table, and the stamp on the sheet «Сведения»).
    Xlsx,
}

/// A report in a slice: the dimensions, the filters, the slice and the format.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SliceParams {
    /// Dimensions to group by, comma-separated (at most four), e.g.
    /// `territory,training_status`; none for one total row.
    pub group_by: Option<String>,
    /// Filters, `;`-separated, each `dimension:key|key`, e.g.
    /// `position:teacher;training_status:overdue|never`.
    pub filter: Option<String>,
    /// What `scope` names.
    #[param(inline)]
    pub scope_kind: Option<ScopeKindParam>,
    /// The territory or organisation.
    pub scope: Option<Uuid>,
    /// `json` (the default), `csv` or `xlsx`.
    #[param(inline)]
    pub format: Option<Format>,
}

/// A dimension's name; an unknown one is a malformed request (400).
fn dimension(name: &str) -> ApiResult<Dimension> {
    Dimension::parse(name).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A dimension list `a,b`.
fn dimensions(s: Option<&str>) -> ApiResult<Vec<Dimension>> {
    let Some(s) = s.filter(|s| !s.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    s.split(',').map(|d| dimension(d.trim())).collect()
}

/// Filters `dimension:key|key;…`.
fn filters(s: Option<&str>) -> ApiResult<Vec<Filter>> {
    let Some(s) = s.filter(|s| !s.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    s.split(';')
        .map(|f| {
            let (d, keys) = f
                .split_once(':')
                .ok_or_else(|| ApiError::bad_request(format!("filter {f:?}: expected dimension:key|key")))?;
            let values = keys.split('|').map(|k| k.trim().to_string()).collect();
            Ok(Filter { dimension: dimension(d.trim())?, values })
        })
        .collect()
}

fn scope_of(kind: Option<ScopeKindParam>, scope: Option<Uuid>) -> ApiResult<Option<kadry::ScopeRef>> {
    ReportScope { scope_kind: kind, scope }.scope_ref()
}

/// Who made the export, for its stamp: the person's full name, or the scheduler.
async fn stamp(state: &AppState, actor: Actor) -> Stamp {
    let by = match actor {
        Actor::Person(id) => match state.service.query(actor, Query::ShowPerson { person: id }).await {
            Ok(QueryResult::Person(p)) => p.full_name,
            _ => id.to_string(),
        },
        Actor::System => "планировщик".to_owned(),
        Actor::Anonymous => "аноним".to_owned(),
    };
    Stamp { at: state.service.now(), by, tz: state.service.policy().time_zone }
}

/// The response for a table in a file format; the file name is ASCII, the sheet Russian.
fn file(table: &Table, format: Format, name: &str) -> ApiResult<Response> {
    let (body, mime, ext) = match format {
        Format::Csv => (to_csv(table), "text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            to_xlsx(table).map_err(|e| internal(&e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        Format::Json => return Err(internal("a JSON view is not a file")),
    };
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    Ok(([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}

/// An output as asked: the view as JSON, or the table made from it (stamped) as a file.
async fn respond<V: serde::Serialize>(
    state: &AppState,
    actor: Actor,
    view: V,
    format: Format,
    name: &str,
    table: impl FnOnce(&V, Stamp) -> Table,
) -> ApiResult<Response> {
    match format {
        Format::Json => Ok(axum::Json(view).into_response()),
        _ => file(&table(&view, stamp(state, actor).await), format, name),
    }
}

async fn slice_out(state: &AppState, actor: Actor, query: Query, format: Format, title: &str) -> ApiResult<Response> {
    let QueryResult::Slice(view) = ask(state, actor, query).await? else {
        return Err(internal("unexpected query result, wanted Slice"));
    };
    respond(state, actor, view, format, "slice", |v, stamp| Table::from_slice(title, v, stamp)).await
}

/// A report in any slice (R-R1): workers and hours trained within the cycle, filtered and
/// grouped by any of the dimensions, as JSON, CSV or XLSX.
///
/// Actors: the ministry and the operator (any slice), territory staff (their territory and its
/// organisations), an org responsible or head (their organisation).
#[utoipa::path(
    get, path = "/api/v1/reports/slice", tag = "reports",
    params(SliceParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The slice (JSON), or the file", content(
        (SliceView = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )), QueryErrors)
)]
async fn slice(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<SliceParams>,
) -> ApiResult<Response> {
    let query = Query::Slice {
        group_by: dimensions(q.group_by.as_deref())?,
        filters: filters(q.filter.as_deref())?,
        scope: scope_of(q.scope_kind, q.scope)?,
    };
    slice_out(&state, actor, query, q.format.unwrap_or_default(), "Отчёт").await
}

/// A ready-made report's parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadyParams {
    /// What `scope` names.
    #[param(inline)]
    pub scope_kind: Option<ScopeKindParam>,
    /// The territory or organisation.
    pub scope: Option<Uuid>,
    /// `json` (the default), `csv` or `xlsx`.
    #[param(inline)]
    pub format: Option<Format>,
}

/// A ready-made report (R-R1, R-V11): `floor` — the three-year floor of 273-ФЗ art. 47 by
/// territory and training status; `vouchers` — by territory and voucher status.
///
/// Actors: as for slices.
#[utoipa::path(
    get, path = "/api/v1/reports/ready/{report}", tag = "reports",
    params(("report" = inline(ReadyReport), Path, description = "`floor` or `vouchers`"), ReadyParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The slice (JSON), or the file", content(
        (SliceView = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )), QueryErrors)
)]
async fn ready(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(report): ApiPath<ReadyReport>,
    ApiQuery(q): ApiQuery<ReadyParams>,
) -> ApiResult<Response> {
    let title = match report {
        ReadyReport::Floor => "Повышение квалификации",
        ReadyReport::Vouchers => "Именные образовательные чеки",
    };
    let query = Query::Ready { report, scope: scope_of(q.scope_kind, q.scope)? };
    slice_out(&state, actor, query, q.format.unwrap_or_default(), title).await
}

/// What waits past its deadline (R-V4, R-A7, R-A8): voucher applications past the operator's
/// five working days, personal data and workplaces unconfirmed after ten.
///
/// Actors: as for slices.
#[utoipa::path(
    get, path = "/api/v1/reports/overdue", tag = "reports",
    params(ReportScope),
    security(("bearer" = [])),
    responses((status = 200, description = "What is overdue", body = OverdueView), QueryErrors)
)]
async fn overdue(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<ReportScope>,
) -> ApiResult<axum::Json<OverdueView>> {
    super::view!(ask(&state, actor, Query::Overdue { scope: q.scope_ref()? }).await?, Overdue)
}

/// An output's format.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `json` (the default), `csv` or `xlsx`.
    #[param(inline)]
    pub format: Option<Format>,
}

async fn registry_out(
    state: &AppState,
    actor: Actor,
    query: Query,
    format: Format,
    title: &str,
) -> ApiResult<Response> {
    let QueryResult::Registry(view) = ask(state, actor, query).await? else {
        return Err(internal("unexpected query result, wanted Registry"));
    };
    respond(state, actor, view, format, "registry", |v, stamp| Table::from_registry(title, v, stamp)).await
}

/// The registry of those trained in a group (R-G6): every listener, how they finished, their
/// certificate or statement.
///
/// Actors: the group's provider, the ministry, the operator.
#[utoipa::path(
    get, path = "/api/v1/groups/{id}/registry", tag = "groups",
    params(("id" = Uuid, Path, description = "The group"), FormatParam),
    security(("bearer" = [])),
    responses((status = 200, description = "The registry (JSON), or the file", content(
        (RegistryView = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )), QueryErrors)
)]
async fn group_registry(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(group): ApiPath<GroupId>,
    ApiQuery(q): ApiQuery<FormatParam>,
) -> ApiResult<Response> {
    registry_out(&state, actor, Query::GroupRegistry { group }, q.format.unwrap_or_default(), "Реестр группы").await
}

/// A period and a slice.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodParams {
    /// The first day, `YYYY-MM-DD`.
    #[param(value_type = String)]
    pub from: NaiveDate,
    /// The last day, `YYYY-MM-DD`.
    #[param(value_type = String)]
    pub to: NaiveDate,
    /// What `scope` names.
    #[param(inline)]
    pub scope_kind: Option<ScopeKindParam>,
    /// The territory or organisation.
    pub scope: Option<Uuid>,
    /// `json` (the default), `csv` or `xlsx`.
    #[param(inline)]
    pub format: Option<Format>,
}

/// The registry of those trained in a period (R-G6, R-R1): every training that ended within
/// it, of workers in the slice (by where they worked then).
///
/// Actors: as for slices.
#[utoipa::path(
    get, path = "/api/v1/registry", tag = "reports",
    params(PeriodParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The registry (JSON), or the file", content(
        (RegistryView = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )), QueryErrors)
)]
async fn registry(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<PeriodParams>,
) -> ApiResult<Response> {
    let query = Query::Registry { from: q.from, to: q.to, scope: scope_of(q.scope_kind, q.scope)? };
    registry_out(&state, actor, query, q.format.unwrap_or_default(), "Реестр обученных").await
}

/// The ФИС ФРДО export's parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FrdoParams {
    /// The first issue day, `YYYY-MM-DD`.
    #[param(value_type = String)]
    pub from: NaiveDate,
    /// The last issue day, `YYYY-MM-DD`.
    #[param(value_type = String)]
    pub to: NaiveDate,
    /// One provider (a provider's staff must name their own); every provider when absent.
    pub provider: Option<Uuid>,
    /// `json` (the default: the records and the certificates left out), `csv` or `xlsx`
    /// (the upload template, the records only).
    #[param(inline)]
    pub format: Option<Format>,
}

/// The certificates issued in a period in the ФИС ФРДО upload template (R-G6): the XLSX opens
/// as the loader expects — the sheet «Шаблон», the 2024 template's columns in order, every
/// value text. Certificates whose holders' data are incomplete are listed in the JSON view
/// (`missing`), never exported half-filled.
///
/// Actors: a provider (its own), the ministry, the operator.
#[utoipa::path(
    get, path = "/api/v1/frdo", tag = "reports",
    params(FrdoParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The records (JSON), or the upload file", content(
        (FrdoView = "application/json"),
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )), QueryErrors)
)]
async fn frdo_export(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiQuery(q): ApiQuery<FrdoParams>,
) -> ApiResult<Response> {
    let query = Query::FrdoExport { from: q.from, to: q.to, provider: q.provider.map(OrgId) };
    let QueryResult::Frdo(view) = ask(&state, actor, query).await? else {
        return Err(internal("unexpected query result, wanted Frdo"));
    };
    respond(&state, actor, view, q.format.unwrap_or_default(), "frdo", |v, stamp| {
        Table::from_frdo(&frdo::TEMPLATE_2024, &v.records, stamp)
    })
    .await
}
