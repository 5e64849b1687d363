//! Errors as JSON: the stable code, an English and a Russian message, and the HTTP status.
//!
//! | codes | status |
//! |---|---|
//! | malformed JSON or query (`input.invalid` raised by the server) | 400 |
//! | `auth.required` (no or expired session), `auth.invalid` (bad login) | 401 |
//! | `access.denied`, `account.email_unconfirmed` | 403 |
//! | `not_found` | 404 |
//! | rule refusals (`state.invalid`, `voucher.*`, `group.*`, …) | 409 |
//! | `input.*` from the rules (fields that parse but are invalid) | 422 |
//! | `auth.code_invalid` (a wrong, used or expired one-time code) | 422 |
//! | `auth.rate_limited` | 429 |
//! | `storage.conflict`, `storage.failed` | 503 (with `Retry-After`) |

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An error response body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorJson {
    /// The stable code, e.g. `voucher.too_soon`.
    pub code: String,
    /// English message.
    pub message: String,
    /// Russian message for end users.
    pub message_ru: String,
}

/// An error with its HTTP status.
#[derive(Debug)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorJson,
}

impl ApiError {
    /// An error of the server's own.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>, message_ru: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorJson { code: code.into(), message: message.into(), message_ru: message_ru.into() },
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        let m = message.into();
        Self::new(StatusCode::BAD_REQUEST, "input.invalid", m.clone(), format!("Некорректный запрос: {m}"))
    }

    /// 401: no valid session.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "auth.required", "authentication required", "Требуется вход в систему")
    }
}

impl From<kadry::Error> for ApiError {
    fn from(e: kadry::Error) -> Self {
        let code = e.code();
        let status = match code {
            // R-A5: an account that has not confirmed its email may not act yet.
            "access.denied" | "account.email_unconfirmed" => StatusCode::FORBIDDEN,
            "not_found" => StatusCode::NOT_FOUND,
            "storage.conflict" | "storage.failed" => StatusCode::SERVICE_UNAVAILABLE,
            c if c.starts_with("input.") => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        ApiError { status, body: ErrorJson { code: code.into(), message: e.to_string(), message_ru: e.message_ru() } }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.status == StatusCode::SERVICE_UNAVAILABLE || self.status == StatusCode::TOO_MANY_REQUESTS;
        let mut r = (self.status, Json(self.body)).into_response();
        if retry {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        }
        r
    }
}

/// A JSON body whose rejection is a 400 with a coded error body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(ApiError::bad_request(json_rejection(&e))),
        }
    }
}

fn json_rejection(e: &JsonRejection) -> String {
    e.body_text()
}

/// A query string whose rejection is a 400 with a coded error body.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::bad_request(query_rejection(&e))),
        }
    }
}

fn query_rejection(e: &QueryRejection) -> String {
    e.body_text()
}

/// Handlers' result.
pub type ApiResult<T> = Result<T, ApiError>;
