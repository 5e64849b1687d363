//! Reports.

use axum::extract::State;
use kadry::core::command::ReportView;
use kadry::core::ids::{OrgId, TerritoryId};
use kadry::{Metric, Query, ScopeRef};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiPath, QueryErrors, ask, view};
use crate::auth::Authed;
use crate::error::{ApiError, ApiQuery, ApiResult};
use crate::state::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}

/// The kind of a report's slice.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKindParam {
    /// A territory.
    Territory,
    /// An organisation.
    Organisation,
}

/// The slice of a report: both parameters, or neither for the region.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportScope {
    /// What `scope` names.
    #[param(inline)]
    pub scope_kind: Option<ScopeKindParam>,
    /// The territory or organisation.
    pub scope: Option<Uuid>,
}

impl ReportScope {
    /// The slice named: the region when neither parameter is given; 400 when only one is.
    pub fn scope_ref(&self) -> ApiResult<Option<ScopeRef>> {
        match (self.scope_kind, self.scope) {
            (None, None) => Ok(None),
            (Some(ScopeKindParam::Territory), Some(id)) => Ok(Some(ScopeRef::Territory(TerritoryId(id)))),
            (Some(ScopeKindParam::Organisation), Some(id)) => Ok(Some(ScopeRef::Organisation(OrgId(id)))),
            _ => Err(ApiError::bad_request("`scope_kind` and `scope` go together")),
        }
    }
}

/// A report metric over the region, a territory or an organisation (R-R1, R-V11).
///
/// Actors: the ministry and the operator (any slice), territory staff (their territory and its
/// organisations), an org responsible or head (their organisation).
#[utoipa::path(
    get, path = "/api/v1/reports/{metric}", tag = "reports",
    params(("metric" = Metric, Path, description = "The metric"), ReportScope),
    security(("bearer" = [])),
    responses((status = 200, description = "The value", body = ReportView), QueryErrors)
)]
async fn report(
    State(state): State<AppState>,
    Authed(actor): Authed,
    ApiPath(metric): ApiPath<Metric>,
    ApiQuery(q): ApiQuery<ReportScope>,
) -> ApiResult<axum::Json<ReportView>> {
    view!(ask(&state, actor, Query::Report { metric, scope: q.scope_ref()? }).await?, Report)
}
