//! Authentication for the example: passwords (argon2), sessions, email confirmation and
//! password recovery codes, login rate limiting.
//!
//! - **Passwords** live in `kadry_example_credentials` in the store's own database (SQLite or
//!   PostgreSQL), as argon2id PHC strings (default parameters, random salt). At least
//!   [`MIN_PASSWORD_CHARS`] characters.
//! - **Sessions** are bearer tokens (256 random bits, hex) kept **in memory** for
//!   [`SESSION_TTL`]: a restart logs everyone out.
//! - **One-time codes** (6 digits, [`CODE_TTL`], at most [`CODE_TRIES`] wrong tries) confirm an
//!   email or reset a password. They are kept in memory too and delivered by the example's log
//!   notifier: an `info` line `one-time code email=… code=… purpose=confirm_email|reset_password`.
//!   A real host sends them by mail.
//! - **Login rate limiting** (in memory): at most [`EMAIL_FAILURES`] failed logins per email and
//!   [`IP_FAILURES`] per client IP within [`LOGIN_WINDOW`], then 429 `auth.rate_limited`. The IP
//!   is the peer address (`ConnectInfo`): behind a reverse proxy every client shares the proxy's.
//!
//! Routes (nested under `/api/v1/auth`): `POST /register`, `/confirm`, `/resend`, `/login`,
//! `/logout`, `/recover`, `/reset`, and `GET /me`. Handlers elsewhere take [`Authed`] (a session
//! is required) or [`MaybeAuthed`] (anonymous without a token); their OpenAPI operations name
//! the security scheme [`BEARER`], which [`Auth::routes`] registers.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kadry::core::ids::{OrgId, PersonId};
use kadry::core::model::{Person, Position};
use kadry::core::types::Email;
use kadry::{Actor, Command, Query, Service};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiJson, ApiResult, ErrorJson};
use crate::state::AppState;

/// The name of the OpenAPI security scheme (HTTP bearer) that operations taking [`Authed`]
/// list in `security(...)`; registered by [`Auth::routes`].
pub const BEARER: &str = "bearer";
/// How long a session lives after login.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);
/// How long a one-time code is valid.
pub const CODE_TTL: Duration = Duration::from_secs(30 * 60);
/// Wrong tries after which a one-time code is void.
pub const CODE_TRIES: u32 = 5;
/// The window failed logins are counted in.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed logins per email allowed within [`LOGIN_WINDOW`].
pub const EMAIL_FAILURES: usize = 5;
/// Failed logins per client IP allowed within [`LOGIN_WINDOW`].
pub const IP_FAILURES: usize = 20;
/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted (hashing cost stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// The 503 of the operations that read or write the store.
const STORAGE_UNAVAILABLE: &str = "`storage.conflict` or `storage.failed`: retry after the `Retry-After` seconds";

/// An argon2id hash (default parameters) verified against when the account does not exist or
/// has no password yet, so a wrong email takes as long as a wrong password. Its password is in
/// the tests; it never logs anybody in (login also needs a stored hash).
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$a2FkcnktZXhhbXBsZS1kdW1teQ$44yLV3H9A7vbGy5vAG8Gz+C/ZUeRjVYMz49+cHGnv5s";

// ---------------------------------------------------------------------------------------------
// Passwords

fn password_error() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "input.invalid",
        format!("the password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters long"),
        format!("Пароль должен содержать от {MIN_PASSWORD_CHARS} до {MAX_PASSWORD_CHARS} символов"),
    )
}

/// Checks the password policy: 422 `input.invalid` when too short or too long.
fn check_password(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) { Ok(()) } else { Err(password_error()) }
}

/// An argon2id PHC string for `password`, with a random salt.
fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

fn storage(e: impl std::fmt::Display) -> ApiError {
    ApiError::from(kadry::Error::Storage(e.to_string()))
}

/// Runs CPU-heavy argon2 work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(storage)
}

// ---------------------------------------------------------------------------------------------
// Credentials table

/// Where credentials live: the store's own database.
pub enum AuthDb {
    /// SQLite.
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS kadry_example_credentials (\
     person TEXT PRIMARY KEY, hash TEXT NOT NULL, updated_at BIGINT NOT NULL)";
const PUT_HASH: &str = "INSERT INTO kadry_example_credentials (person, hash, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (person) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at";
const GET_HASH: &str = "SELECT hash FROM kadry_example_credentials WHERE person = $1";

impl AuthDb {
    async fn create_table(&self) -> Result<(), sqlx::Error> {
        match self {
            AuthDb::Sqlite(pool) => sqlx::query(CREATE_TABLE).execute(pool).await.map(|_| ()),
            #[cfg(feature = "postgres")]
            AuthDb::Postgres(pool) => sqlx::query(CREATE_TABLE).execute(pool).await.map(|_| ()),
        }
    }

    /// Stores a hash; `updated_at` is in Unix microseconds.
    async fn put(&self, person: PersonId, hash: &str, updated_at: i64) -> Result<(), sqlx::Error> {
        let person = person.to_string();
        match self {
            AuthDb::Sqlite(pool) => {
                sqlx::query(PUT_HASH).bind(person).bind(hash).bind(updated_at).execute(pool).await.map(|_| ())
            }
            #[cfg(feature = "postgres")]
            AuthDb::Postgres(pool) => {
                sqlx::query(PUT_HASH).bind(person).bind(hash).bind(updated_at).execute(pool).await.map(|_| ())
            }
        }
    }

    async fn get(&self, person: PersonId) -> Result<Option<String>, sqlx::Error> {
        let person = person.to_string();
        let row: Option<(String,)> = match self {
            AuthDb::Sqlite(pool) => sqlx::query_as(GET_HASH).bind(person).fetch_optional(pool).await?,
            #[cfg(feature = "postgres")]
            AuthDb::Postgres(pool) => sqlx::query_as(GET_HASH).bind(person).fetch_optional(pool).await?,
        };
        Ok(row.map(|(h,)| h))
    }
}

// ---------------------------------------------------------------------------------------------
// In-memory state: sessions, codes, failed logins. Times are `Instant`s passed in, so tests
// move time without sleeping.

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// 256 random bits, hex (two v4 UUIDs: 244 random bits plus fixed version bits).
fn random_token() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// Six random digits.
fn random_code() -> String {
    format!("{:06}", Uuid::new_v4().as_u128() % 1_000_000)
}

struct Session {
    person: PersonId,
    expires: Instant,
}

/// Bearer sessions.
#[derive(Default)]
struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn create(&self, person: PersonId, now: Instant) -> String {
        let token = random_token();
        let mut map = lock(&self.0);
        map.retain(|_, s| s.expires > now);
        map.insert(token.clone(), Session { person, expires: now + SESSION_TTL });
        token
    }

    fn get(&self, token: &str, now: Instant) -> Option<PersonId> {
        let mut map = lock(&self.0);
        match map.get(token) {
            Some(s) if s.expires > now => Some(s.person),
            Some(_) => {
                map.remove(token);
                None
            }
            None => None,
        }
    }

    fn remove(&self, token: &str) {
        lock(&self.0).remove(token);
    }

    fn remove_person(&self, person: PersonId) {
        lock(&self.0).retain(|_, s| s.person != person);
    }
}

/// What a one-time code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Purpose {
    ConfirmEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::ConfirmEmail => "confirm_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

struct PendingCode {
    person: PersonId,
    code: String,
    expires: Instant,
    wrong: u32,
}

/// One-time codes, one per (purpose, email key); a new one replaces the old.
#[derive(Default)]
struct Codes(Mutex<HashMap<(Purpose, String), PendingCode>>);

impl Codes {
    fn issue(&self, purpose: Purpose, email_key: &str, person: PersonId, now: Instant) -> String {
        let code = random_code();
        let mut map = lock(&self.0);
        map.retain(|_, c| c.expires > now);
        map.insert(
            (purpose, email_key.to_string()),
            PendingCode { person, code: code.clone(), expires: now + CODE_TTL, wrong: 0 },
        );
        code
    }

    /// The code's person when `given` matches; the code is then used up. A wrong code counts a
    /// try; after [`CODE_TRIES`] wrong ones, or once expired, the code is void.
    fn redeem(&self, purpose: Purpose, email_key: &str, given: &str, now: Instant) -> Option<PersonId> {
        let given: String = given.chars().filter(|c| !c.is_whitespace()).collect();
        let key = (purpose, email_key.to_string());
        let mut map = lock(&self.0);
        let entry = map.get_mut(&key)?;
        if entry.expires <= now || entry.wrong >= CODE_TRIES {
            map.remove(&key);
            return None;
        }
        if entry.code == given {
            let person = entry.person;
            map.remove(&key);
            return Some(person);
        }
        entry.wrong += 1;
        if entry.wrong >= CODE_TRIES {
            map.remove(&key);
        }
        None
    }
}

/// Failures per key within a sliding window.
struct Limiter {
    limit: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    fn new(limit: usize, window: Duration) -> Self {
        Limiter { limit, window, hits: Mutex::new(HashMap::new()) }
    }

    fn prune(window: Duration, q: &mut VecDeque<Instant>, now: Instant) {
        while q.front().is_some_and(|t| now.saturating_duration_since(*t) >= window) {
            q.pop_front();
        }
    }

    /// How long until `key` may try again; `None` when it may now.
    fn blocked(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut map = lock(&self.hits);
        let q = map.get_mut(key)?;
        Self::prune(self.window, q, now);
        if q.len() < self.limit {
            if q.is_empty() {
                map.remove(key);
            }
            return None;
        }
        let oldest_counted = q.get(q.len() - self.limit).copied().unwrap_or(now);
        Some((oldest_counted + self.window).saturating_duration_since(now).max(Duration::from_secs(1)))
    }

    fn fail(&self, key: &str, now: Instant) {
        let mut map = lock(&self.hits);
        if map.len() > 10_000 {
            let window = self.window;
            map.retain(|_, q| {
                Self::prune(window, q, now);
                !q.is_empty()
            });
        }
        let q = map.entry(key.to_string()).or_default();
        Self::prune(self.window, q, now);
        q.push_back(now);
    }

    fn clear(&self, key: &str) {
        lock(&self.hits).remove(key);
    }
}

// ---------------------------------------------------------------------------------------------
// Auth

/// Passwords, sessions and codes. Sessions and codes are in memory: a restart logs everyone
/// out and voids pending codes.
pub struct Auth {
    db: AuthDb,
    service: Service,
    sessions: Sessions,
    codes: Codes,
    by_email: Limiter,
    by_ip: Limiter,
}

fn code_invalid() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "auth.code_invalid",
        "the code is wrong or has expired",
        "Код неверен или срок его действия истёк",
    )
}

fn login_invalid() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "auth.invalid",
        "wrong email or password",
        "Неверный адрес электронной почты или пароль",
    )
}

/// The lookup key of a typed email: its canonical key when it parses, else the trimmed
/// lowercase text (it matches no account but still counts against the rate limit).
fn email_key(email: &str) -> String {
    Email::parse(email).map(|e| e.key().to_string()).unwrap_or_else(|_| email.trim().to_lowercase())
}

impl Auth {
    /// Opens the credentials table, creating it if missing.
    pub async fn new(db: AuthDb, service: Service) -> kadry::Result<Self> {
        db.create_table().await.map_err(|e| kadry::Error::Storage(format!("credentials table: {e}")))?;
        Ok(Auth {
            db,
            service,
            sessions: Sessions::default(),
            codes: Codes::default(),
            by_email: Limiter::new(EMAIL_FAILURES, LOGIN_WINDOW),
            by_ip: Limiter::new(IP_FAILURES, LOGIN_WINDOW),
        })
    }

    /// Sets a person's password (422 `input.invalid` when it breaks the policy). Does not end
    /// their sessions; a reset through a code does.
    pub async fn set_password(&self, person: PersonId, password: &str) -> Result<(), ApiError> {
        check_password(password)?;
        let password = password.to_string();
        let hash = blocking(move || hash_password(&password)).await?.map_err(storage)?;
        self.db.put(person, &hash, Utc::now().timestamp_micros()).await.map_err(storage)
    }

    /// The `/auth` routes, with the [`BEARER`] security scheme in their OpenAPI components.
    pub fn routes() -> OpenApiRouter<AppState> {
        let components = utoipa::openapi::ComponentsBuilder::new()
            .security_scheme(BEARER, SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)))
            .build();
        let api = utoipa::openapi::OpenApiBuilder::new().components(Some(components)).build();
        OpenApiRouter::with_openapi(api)
            .routes(routes!(register))
            .routes(routes!(confirm))
            .routes(routes!(resend))
            .routes(routes!(login))
            .routes(routes!(logout))
            .routes(routes!(recover))
            .routes(routes!(reset))
            .routes(routes!(me))
    }

    /// The person an email belongs to, if any (never an error for a malformed email).
    async fn person_by_email(&self, email: &str) -> Result<Option<Person>, ApiError> {
        let Ok(email) = Email::parse(email) else { return Ok(None) };
        let mut tx = self.service.store().read().await?;
        Ok(tx.person_by_email(email.key()).await?)
    }

    async fn person(&self, id: PersonId) -> Result<Option<Person>, ApiError> {
        let mut tx = self.service.store().read().await?;
        Ok(tx.person(id).await?)
    }

    /// Issues a code and delivers it through the log (the example's notifier).
    fn send_code(&self, purpose: Purpose, person: &Person) {
        let code = self.codes.issue(purpose, person.email.key(), person.id, Instant::now());
        tracing::info!(email = %person.email.as_str(), code = %code, purpose = purpose.as_str(), "one-time code");
    }

    /// The actor behind an `Authorization` header: `None` without one; 401 for a malformed,
    /// unknown or expired token.
    fn actor(&self, headers: &HeaderMap) -> Result<Option<Actor>, ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
        let token = bearer(value).ok_or_else(ApiError::unauthorized)?;
        let person = self.sessions.get(token, Instant::now()).ok_or_else(ApiError::unauthorized)?;
        Ok(Some(Actor::Person(person)))
    }
}

/// The token of an `Authorization: Bearer TOKEN` value.
fn bearer(value: &HeaderValue) -> Option<&str> {
    let (scheme, token) = value.to_str().ok()?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The authenticated actor: 401 `auth.required` without a valid `Authorization: Bearer TOKEN`.
pub struct Authed(pub Actor);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.auth.actor(&parts.headers)?.map(Authed).ok_or_else(ApiError::unauthorized)
    }
}

/// The actor if a session is presented: `Actor::Anonymous` without an `Authorization` header,
/// 401 `auth.required` for an invalid or expired token.
pub struct MaybeAuthed(pub Actor);

impl FromRequestParts<AppState> for MaybeAuthed {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(MaybeAuthed(state.auth.actor(&parts.headers)?.unwrap_or(Actor::Anonymous)))
    }
}

/// The peer's IP, when the server is served with `ConnectInfo<SocketAddr>`.
struct ClientIp(Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies

/// A position, as in the staff lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PositionName {
    /// Учитель.
    Teacher,
    /// Руководитель.
    Head,
    /// Заместитель руководителя.
    DeputyHead,
    /// Педагог-психолог.
    Psychologist,
    /// Учитель-логопед.
    SpeechTherapist,
    /// Тьютор.
    Tutor,
    /// Воспитатель.
    Educator,
    /// Методист.
    Methodist,
    /// Any other position.
    Other,
}

impl From<PositionName> for Position {
    fn from(p: PositionName) -> Self {
        match p {
            PositionName::Teacher => Position::Teacher,
            PositionName::Head => Position::Head,
            PositionName::DeputyHead => Position::DeputyHead,
            PositionName::Psychologist => Position::Psychologist,
            PositionName::SpeechTherapist => Position::SpeechTherapist,
            PositionName::Tutor => Position::Tutor,
            PositionName::Educator => Position::Educator,
            PositionName::Methodist => Position::Methodist,
            PositionName::Other => Position::Other,
        }
    }
}

/// Self-registration (R-A4, R-A7): the workplace stays pending until the organisation's
/// responsible confirms it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// Full name, e.g. "Иванова Мария Петровна".
    pub full_name: String,
    /// Personal email (unique, R-A2).
    pub email: String,
    /// Password, 10 to 1024 characters.
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
    /// The workplace.
    pub org: Uuid,
    /// The position.
    pub position: PositionName,
    /// Whether the position is pedagogical (default: any position but `other`).
    #[serde(default)]
    pub pedagogical: Option<bool>,
    /// Consent to personal data processing (required, R-A4).
    #[serde(default)]
    pub consent: bool,
    /// SNILS, either written form.
    #[serde(default)]
    pub snils: Option<String>,
    /// Subject taught, e.g. "math".
    #[serde(default)]
    pub subject: Option<String>,
    /// Year of birth.
    #[serde(default)]
    pub birth_year: Option<i32>,
}

/// A new account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    /// The person's id.
    pub person: Uuid,
}

/// An email and the code sent to it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The account's email.
    pub email: String,
    /// The six-digit code.
    pub code: String,
}

/// An email to send a code to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// The account's email.
    pub email: String,
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email.
    pub email: String,
    /// The password.
    pub password: String,
}

/// A session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The bearer token: send `Authorization: Bearer TOKEN`.
    pub token: String,
    /// The person logged in.
    pub person: Uuid,
    /// When the session ends (12 h after login; earlier if the server restarts).
    pub expires_at: DateTime<Utc>,
}

/// A new password, with the recovery code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The account's email.
    pub email: String,
    /// The six-digit code.
    pub code: String,
    /// The new password, 10 to 1024 characters.
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

/// A role on a person's card.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleCard {
    /// The role, e.g. `org_responsible`.
    pub role: String,
    /// Suspended (R-A9).
    pub suspended: bool,
}

/// A person's card (the `show_person` query), as `GET /me` returns it.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code, reason = "documents the JSON GET /me returns")]
pub struct PersonCard {
    /// Id.
    pub id: Uuid,
    /// Full name (the confirmed one).
    pub full_name: String,
    /// Email (the confirmed one).
    pub email: String,
    /// SNILS in the canonical form.
    pub snils: Option<String>,
    /// The current workplace's name, or `"none"`.
    pub org: String,
    /// `active`, `pending`, `dismissed`, or `none`.
    pub employment: String,
    /// The position trained for.
    pub position: Option<PositionName>,
    /// Whether the email is confirmed.
    pub email_confirmed: bool,
    /// Whether a personal data change awaits confirmation.
    pub pending_change: bool,
    /// Roles held.
    pub roles: Vec<RoleCard>,
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Registers oneself; stores the password and sends an email confirmation code.
#[utoipa::path(
    post, path = "/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered; a confirmation code was sent", body = Registered),
        (status = 400, description = "Malformed JSON", body = ErrorJson),
        (status = 404, description = "No such organisation", body = ErrorJson),
        (status = 409, description = "Refused by the rules (email or SNILS taken, no consent, …)", body = ErrorJson),
        (status = 422, description = "Invalid field (password too short, malformed email or SNILS, …)", body = ErrorJson),
        (status = 503, description = STORAGE_UNAVAILABLE, body = ErrorJson),
    )
)]
async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    check_password(&body.password)?;
    let command = Command::RegisterPerson {
        full_name: body.full_name,
        email: body.email,
        org: OrgId(body.org),
        position: body.position.into(),
        pedagogical: body.pedagogical.unwrap_or(body.position != PositionName::Other),
        consent: body.consent,
        snils: body.snils,
        subject: body.subject,
        birth_year: body.birth_year,
    };
    let outcome = state.service.execute(Actor::Anonymous, command).await?;
    let id = PersonId(outcome.created().ok_or_else(|| storage("register_person created nothing"))?);
    state.auth.set_password(id, &body.password).await?;
    if let Some(person) = state.auth.person(id).await? {
        state.auth.send_code(Purpose::ConfirmEmail, &person);
    }
    Ok((StatusCode::CREATED, Json(Registered { person: id.0 })))
}

/// Confirms the email with the code sent to it (R-A5).
#[utoipa::path(
    post, path = "/confirm", tag = "auth",
    request_body = ConfirmRequest,
    responses(
        (status = 204, description = "Confirmed"),
        (status = 400, description = "Malformed JSON", body = ErrorJson),
        (status = 422, description = "`auth.code_invalid`: wrong, used or expired code", body = ErrorJson),
        (status = 503, description = STORAGE_UNAVAILABLE, body = ErrorJson),
    )
)]
async fn confirm(State(state): State<AppState>, ApiJson(body): ApiJson<ConfirmRequest>) -> ApiResult<StatusCode> {
    let person = state
        .auth
        .codes
        .redeem(Purpose::ConfirmEmail, &email_key(&body.email), &body.code, Instant::now())
        .ok_or_else(code_invalid)?;
    state.service.execute(Actor::Person(person), Command::ConfirmEmail { person }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a new confirmation code if the account exists and is unconfirmed; always 202.
#[utoipa::path(
    post, path = "/resend", tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "Accepted (whether or not the account exists)"),
        (status = 400, description = "Malformed JSON", body = ErrorJson),
    )
)]
async fn resend(State(state): State<AppState>, ApiJson(body): ApiJson<EmailRequest>) -> ApiResult<StatusCode> {
    match state.auth.person_by_email(&body.email).await {
        Ok(Some(p)) if !p.email_confirmed => state.auth.send_code(Purpose::ConfirmEmail, &p),
        Ok(_) => {}
        Err(e) => tracing::warn!(code = %e.body.code, error = %e.body.message, "resend: lookup failed"),
    }
    Ok(StatusCode::ACCEPTED)
}

/// A login refusal: an API error, or a rate limit with its own `Retry-After`.
enum LoginError {
    Api(ApiError),
    Limited(Duration),
}

impl From<ApiError> for LoginError {
    fn from(e: ApiError) -> Self {
        LoginError::Api(e)
    }
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        match self {
            LoginError::Api(e) => e.into_response(),
            LoginError::Limited(wait) => {
                let e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "auth.rate_limited",
                    "too many failed logins; try again later",
                    "Слишком много неудачных попыток входа; повторите позже",
                );
                let mut r = e.into_response();
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
                r
            }
        }
    }
}

/// Logs in. An unconfirmed account may log in; it can then only confirm its email (R-A5).
#[utoipa::path(
    post, path = "/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A session", body = LoginResponse),
        (status = 400, description = "Malformed JSON", body = ErrorJson),
        (status = 401, description = "`auth.invalid`: wrong email or password", body = ErrorJson),
        (status = 429, description = "`auth.rate_limited`: 5 failures per email or 20 per client IP in 15 minutes; see `Retry-After`", body = ErrorJson),
        (status = 503, description = STORAGE_UNAVAILABLE, body = ErrorJson),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, LoginError> {
    let auth = &state.auth;
    let now = Instant::now();
    let email_key = format!("email:{}", email_key(&body.email));
    let ip_key = ip.map(|ip| format!("ip:{ip}"));
    let wait = [auth.by_email.blocked(&email_key, now), ip_key.as_deref().and_then(|k| auth.by_ip.blocked(k, now))];
    if let Some(wait) = wait.into_iter().flatten().max() {
        return Err(LoginError::Limited(wait));
    }
    let person = auth.person_by_email(&body.email).await?;
    let hash = match &person {
        Some(p) => auth.db.get(p.id).await.map_err(storage)?,
        None => None,
    };
    let password = body.password;
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_string());
    let ok =
        password.chars().count() <= MAX_PASSWORD_CHARS && blocking(move || verify_password(&password, &hash)).await?;
    let person = match person {
        Some(p) if ok && known => p,
        _ => {
            let now = Instant::now();
            auth.by_email.fail(&email_key, now);
            if let Some(k) = &ip_key {
                auth.by_ip.fail(k, now);
            }
            return Err(login_invalid().into());
        }
    };
    auth.by_email.clear(&email_key);
    let token = auth.sessions.create(person.id, Instant::now());
    let expires_at = Utc::now() + SESSION_TTL;
    Ok(Json(LoginResponse { token, person: person.id.0, expires_at }))
}

/// Ends the session presented.
#[utoipa::path(
    post, path = "/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "`auth.required`: no valid session", body = ErrorJson),
    )
)]
async fn logout(State(state): State<AppState>, _: Authed, headers: HeaderMap) -> ApiResult<StatusCode> {
    if let Some(token) = headers.get(header::AUTHORIZATION).and_then(bearer) {
        state.auth.sessions.remove(token);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a password reset code if the account exists; always 202. Accounts created by an
/// organisation's responsible or the operator set their first password this way.
#[utoipa::path(
    post, path = "/recover", tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "Accepted (whether or not the account exists)"),
        (status = 400, description = "Malformed JSON", body = ErrorJson),
    )
)]
async fn recover(State(state): State<AppState>, ApiJson(body): ApiJson<EmailRequest>) -> ApiResult<StatusCode> {
    match state.auth.person_by_email(&body.email).await {
        Ok(Some(p)) => state.auth.send_code(Purpose::ResetPassword, &p),
        Ok(None) => {}
        Err(e) => tracing::warn!(code = %e.body.code, error = %e.body.message, "recover: lookup failed"),
    }
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with a recovery code and ends the person's sessions. The code proves
/// the mailbox, so an unconfirmed email becomes confirmed.
#[utoipa::path(
    post, path = "/reset", tag = "auth",
    request_body = ResetRequest,
    responses(
        (status = 204, description = "Password set; every session of the person ended"),
        (status = 400, description = "Malformed JSON", body = ErrorJson),
        (status = 422, description = "`auth.code_invalid`, or `input.invalid` for a password under 10 or over 1024 characters", body = ErrorJson),
        (status = 503, description = STORAGE_UNAVAILABLE, body = ErrorJson),
    )
)]
async fn reset(State(state): State<AppState>, ApiJson(body): ApiJson<ResetRequest>) -> ApiResult<StatusCode> {
    check_password(&body.password)?;
    let auth = &state.auth;
    let person = auth
        .codes
        .redeem(Purpose::ResetPassword, &email_key(&body.email), &body.code, Instant::now())
        .ok_or_else(code_invalid)?;
    auth.set_password(person, &body.password).await?;
    auth.sessions.remove_person(person);
    if auth.person(person).await?.is_some_and(|p| !p.email_confirmed)
        && let Err(e) = state.service.execute(Actor::Person(person), Command::ConfirmEmail { person }).await
    {
        tracing::warn!(%person, error = %e, "reset: confirming the email failed");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's card. An unconfirmed account gets 403 `account.email_unconfirmed` (R-A5).
#[utoipa::path(
    get, path = "/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's card", body = PersonCard),
        (status = 401, description = "`auth.required`: no valid session", body = ErrorJson),
        (status = 403, description = "`account.email_unconfirmed`: the email is not confirmed yet (R-A5)", body = ErrorJson),
        (status = 503, description = STORAGE_UNAVAILABLE, body = ErrorJson),
    )
)]
async fn me(State(state): State<AppState>, Authed(actor): Authed) -> ApiResult<Json<serde_json::Value>> {
    let Actor::Person(person) = actor else { return Err(ApiError::unauthorized()) };
    let card = state.service.query(actor, Query::ShowPerson { person }).await?;
    Ok(Json(serde_json::to_value(card).map_err(storage)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(n: u128) -> PersonId {
        PersonId(Uuid::from_u128(n))
    }

    #[test]
    fn hashes_and_verifies() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("correct horse battery", "not a hash"));
        let again = hash_password("correct horse battery").expect("hash");
        assert_ne!(h, again, "salts are random");
    }

    #[test]
    fn dummy_hash_is_a_real_hash_of_the_default_cost() {
        let h = hash_password("whatever-password").expect("hash");
        let params = |s: &str| s.split('$').nth(3).map(str::to_string);
        assert_eq!(params(DUMMY_HASH), params(&h));
        // It parses and verifies, so checking it costs as much as checking a real one.
        assert!(verify_password("no account has this password: 3f1c9a7e", DUMMY_HASH));
        assert!(!verify_password("", DUMMY_HASH));
        assert!(!verify_password("kadry-demo-2025", DUMMY_HASH));
    }

    #[test]
    fn password_policy() {
        assert!(check_password("123456789").is_err());
        assert!(check_password("1234567890").is_ok());
        assert!(check_password("пароль-дес").is_ok(), "characters, not bytes");
        assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        let e = password_error();
        assert_eq!((e.status, e.body.code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "input.invalid"));
    }

    #[test]
    fn codes_are_six_digits_and_single_use() {
        let codes = Codes::default();
        let t0 = Instant::now();
        let code = codes.issue(Purpose::ConfirmEmail, "a@b.ru", pid(1), t0);
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(codes.redeem(Purpose::ResetPassword, "a@b.ru", &code, t0), None, "purposes are separate");
        assert_eq!(codes.redeem(Purpose::ConfirmEmail, "a@b.ru", &format!(" {code} "), t0), Some(pid(1)));
        assert_eq!(codes.redeem(Purpose::ConfirmEmail, "a@b.ru", &code, t0), None, "used up");
    }

    #[test]
    fn codes_expire() {
        let codes = Codes::default();
        let t0 = Instant::now();
        let code = codes.issue(Purpose::ResetPassword, "a@b.ru", pid(1), t0);
        assert_eq!(codes.redeem(Purpose::ResetPassword, "a@b.ru", &code, t0 + CODE_TTL), None);
        let code = codes.issue(Purpose::ResetPassword, "a@b.ru", pid(1), t0);
        assert_eq!(
            codes.redeem(Purpose::ResetPassword, "a@b.ru", &code, t0 + CODE_TTL - Duration::from_secs(1)),
            Some(pid(1))
        );
    }

    #[test]
    fn codes_allow_five_wrong_tries() {
        let codes = Codes::default();
        let t0 = Instant::now();
        let code = codes.issue(Purpose::ConfirmEmail, "a@b.ru", pid(1), t0);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..CODE_TRIES - 1 {
            assert_eq!(codes.redeem(Purpose::ConfirmEmail, "a@b.ru", wrong, t0), None);
        }
        assert_eq!(codes.redeem(Purpose::ConfirmEmail, "a@b.ru", &code, t0), Some(pid(1)), "four wrong tries keep it");

        let code = codes.issue(Purpose::ConfirmEmail, "a@b.ru", pid(1), t0);
        for _ in 0..CODE_TRIES {
            assert_eq!(codes.redeem(Purpose::ConfirmEmail, "a@b.ru", wrong, t0), None);
        }
        assert_eq!(codes.redeem(Purpose::ConfirmEmail, "a@b.ru", &code, t0), None, "void after five");

        let old = codes.issue(Purpose::ConfirmEmail, "a@b.ru", pid(1), t0);
        let new = codes.issue(Purpose::ConfirmEmail, "a@b.ru", pid(1), t0);
        if old != new {
            assert_eq!(codes.redeem(Purpose::ConfirmEmail, "a@b.ru", &old, t0), None, "a new code replaces the old");
        }
        assert_eq!(codes.redeem(Purpose::ConfirmEmail, "a@b.ru", &new, t0), Some(pid(1)));
    }

    #[test]
    fn rate_limiter_window() {
        let l = Limiter::new(EMAIL_FAILURES, LOGIN_WINDOW);
        let t0 = Instant::now();
        for i in 0..EMAIL_FAILURES {
            assert_eq!(l.blocked("k", t0 + Duration::from_secs(i as u64)), None);
            l.fail("k", t0 + Duration::from_secs(i as u64));
        }
        let t = t0 + Duration::from_secs(60);
        assert_eq!(l.blocked("k", t), Some(LOGIN_WINDOW - Duration::from_secs(60)));
        assert_eq!(l.blocked("other", t), None, "keys are separate");
        // The first failure leaves the window: one more try.
        assert_eq!(l.blocked("k", t0 + LOGIN_WINDOW), None);
        l.fail("k", t0 + LOGIN_WINDOW);
        assert!(l.blocked("k", t0 + LOGIN_WINDOW).is_some());
        // Everything old leaves the window.
        assert_eq!(l.blocked("k", t0 + LOGIN_WINDOW * 2 + Duration::from_secs(1)), None);
        // Clearing forgets the failures.
        for _ in 0..EMAIL_FAILURES {
            l.fail("k", t);
        }
        assert!(l.blocked("k", t).is_some());
        l.clear("k");
        assert_eq!(l.blocked("k", t), None);
    }

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let token = s.create(pid(1), t0);
        assert_eq!(token.len(), 64);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(s.get(&token, t0 + SESSION_TTL - Duration::from_secs(1)), Some(pid(1)));
        assert_eq!(s.get(&token, t0 + SESSION_TTL), None);
        assert_eq!(s.get(&token, t0), None, "an expired session is gone");
        assert_eq!(s.get("nonsense", t0), None);

        let a = s.create(pid(1), t0);
        let b = s.create(pid(1), t0);
        let c = s.create(pid(2), t0);
        s.remove(&a);
        assert_eq!(s.get(&a, t0), None);
        s.remove_person(pid(1));
        assert_eq!(s.get(&b, t0), None);
        assert_eq!(s.get(&c, t0), Some(pid(2)));
    }

    #[test]
    fn bearer_header() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(bearer(&v("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&v("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&v("Basic abc")), None);
        assert_eq!(bearer(&v("Bearer")), None);
        assert_eq!(bearer(&v("Bearer ")), None);
        assert_eq!(bearer(&HeaderValue::from_bytes(b"Bearer \xff").expect("header")), None);
    }

    #[test]
    fn email_keys() {
        assert_eq!(email_key(" Ivanova@Example.RU "), email_key("ivanova@example.ru"));
        assert_eq!(email_key("not an email"), "not an email");
    }
}
