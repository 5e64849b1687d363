//! The example server's JSON request bodies, through the real router (`examples/server/`,
//! compiled in below), in process: the app state is built once on an in-memory SQLite store
//! with the demo region (a fixed clock, sequential ids) and every demo account signed in. Each
//! input picks an endpoint that takes a body (first byte), the account (second), the path
//! parameters (third and fourth) and sends the rest as the body. The response must never be a
//! 5xx, and every 4xx body must be an error carrying a catalogue code.
#![no_main]
// The server's modules are compiled here for their router; the rest of them goes unused.
#![allow(dead_code, unused_imports)]
// `cfg(feature = "postgres")` in the server: this crate has no such feature (SQLite only).
#![allow(unexpected_cfgs)]

/// The example server's modules (its `main.rs` aside), from `examples/server/`.
#[path = "../../examples/server"]
mod server {
    pub mod api;
    pub mod auth;
    pub mod demo;
    pub mod error;
    pub mod import;
    pub mod state;
}
// The server's modules name each other `crate::auth`, `crate::error`, …
use server::{api, auth, demo, error, import, state};

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use chrono::{TimeZone, Utc};
use kadry::adapters::SqliteStore;
use kadry::core::ports::{ManualClock, SequentialIds};
use kadry::{RegionPolicy, Service};
use kadry_fuzz::{is_catalogued, runtime};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::auth::{Auth, AuthDb};
use crate::state::AppState;

/// Codes of the server's own, besides the catalogue (`examples/server/error.rs`, `auth.rs`).
const SERVER_CODES: [&str; 4] = ["auth.required", "auth.invalid", "auth.code_invalid", "auth.rate_limited"];

/// The statuses an error code may come with (the table of `examples/server/error.rs`).
fn statuses(code: &str) -> &'static [u16] {
    match code {
        // Malformed path, query or body; a wrong method; a body over the limit; a field that
        // parses but is invalid.
        "input.invalid" => &[400, 405, 413, 422],
        c if c.starts_with("input.") => &[422],
        "auth.required" | "auth.invalid" => &[401],
        "auth.code_invalid" => &[422],
        "auth.rate_limited" => &[429],
        "access.denied" | "account.email_unconfirmed" => &[403],
        "not_found" => &[404],
        _ => &[409],
    }
}

/// The demo accounts, signed in once.
const ACCOUNTS: [&str; 8] = [
    "operator@demo.kadry.ru",
    "ministry@demo.kadry.ru",
    "territory@demo.kadry.ru",
    "responsible@demo.kadry.ru",
    "head@demo.kadry.ru",
    "provider@demo.kadry.ru",
    "teacher@demo.kadry.ru",
    "teacher2@demo.kadry.ru",
];

/// Every endpoint that reads a body (and `DELETE` of an enrolment), by method and path; `{id}`,
/// `{org}`, `{worker}`, `{program}` are filled with ids, `{year}`, `{role}`, `{source}` and
/// `{number}` with values of their kind. Sign-in, sign-out, registration and password reset are
/// left out: they hash passwords (slow) or would end the fuzzer's sessions.
const ENDPOINTS: &[(&str, &str)] = &[
    ("POST", "/api/v1/territories"),
    ("POST", "/api/v1/orgs"),
    ("POST", "/api/v1/orgs/{id}/reorganize"),
    ("POST", "/api/v1/orgs/{org}/staff/import"),
    ("POST", "/api/v1/persons"),
    ("POST", "/api/v1/officials"),
    ("PATCH", "/api/v1/persons/{id}"),
    ("POST", "/api/v1/persons/{id}/change/confirm"),
    ("POST", "/api/v1/persons/{id}/workplace/confirm"),
    ("POST", "/api/v1/persons/{id}/dismiss"),
    ("POST", "/api/v1/persons/{id}/transfer"),
    ("POST", "/api/v1/me/workplace"),
    ("POST", "/api/v1/persons/{id}/roles"),
    ("POST", "/api/v1/role-requests"),
    ("POST", "/api/v1/persons/{id}/role-requests/{role}/approve"),
    ("POST", "/api/v1/persons/{id}/roles/{role}/restore"),
    ("POST", "/api/v1/persons/{id}/voucher"),
    ("POST", "/api/v1/persons/{id}/voucher/approve"),
    ("POST", "/api/v1/persons/{id}/voucher/reject"),
    ("POST", "/api/v1/persons/{id}/voucher/cancel"),
    ("POST", "/api/v1/persons/{id}/paper-vouchers"),
    ("POST", "/api/v1/persons/{id}/plans"),
    ("POST", "/api/v1/programs"),
    ("POST", "/api/v1/programs/{id}/approve"),
    ("POST", "/api/v1/groups"),
    ("POST", "/api/v1/groups/{id}/enrollments"),
    ("POST", "/api/v1/groups/{id}/enrollments/{worker}/confirm"),
    ("DELETE", "/api/v1/groups/{id}/enrollments/{worker}"),
    ("POST", "/api/v1/groups/{id}/complete"),
    ("POST", "/api/v1/planning/{year}/advance"),
    ("PUT", "/api/v1/planning/{year}/priorities"),
    ("PUT", "/api/v1/planning/{year}/norm"),
    ("PUT", "/api/v1/planning/{year}/limits/{source}"),
    ("POST", "/api/v1/planning/{year}/quotas"),
    ("POST", "/api/v1/planning/{year}/registry/approve"),
    ("POST", "/api/v1/planning/{year}/forming"),
    ("POST", "/api/v1/planning/{year}/plan-schedule/approve"),
    ("POST", "/api/v1/planning/{year}/offers/expire"),
    ("POST", "/api/v1/programs/{id}/reviews"),
    ("POST", "/api/v1/programs/{id}/protocol"),
    ("POST", "/api/v1/persons/{id}/quota/{year}/refuse"),
    ("POST", "/api/v1/quotas/{number}/reassign"),
    ("PUT", "/api/v1/persons/{id}/questionnaire/{year}"),
    ("POST", "/api/v1/persons/{id}/applications/{year}/{program}/accept"),
    ("POST", "/api/v1/persons/{id}/applications/{year}/{program}/decline"),
    ("PUT", "/api/v1/persons/{id}/parental-leave"),
    ("PUT", "/api/v1/persons/{id}/profile"),
    ("PUT", "/api/v1/persons/{id}/category"),
    ("POST", "/api/v1/persons/{id}/trainings"),
    ("PUT", "/api/v1/persons/{id}/reminders"),
    ("POST", "/api/v1/reminders/send"),
    ("POST", "/api/v1/surveys"),
    ("POST", "/api/v1/surveys/{id}/close"),
    ("POST", "/api/v1/surveys/{id}/responses"),
    ("POST", "/api/v1/auth/confirm"),
    ("POST", "/api/v1/auth/resend"),
    ("POST", "/api/v1/auth/recover"),
];

/// How many sequential ids path parameters choose from (the demo region uses about 30).
const IDS: u8 = 48;
const ROLES: [&str; 9] =
    ["worker", "org_responsible", "org_head", "territory", "provider", "expert", "ministry", "operator", "x"];
const SOURCES: [&str; 4] = ["voucher", "state", "paid", "x"];

struct App {
    router: Router,
    tokens: Vec<String>,
}

/// Inputs served by one region before it is built afresh (`KADRY_FUZZ_INPUTS_PER_REGION`,
/// default 50 000; 0 keeps one region for the whole run): what the inputs create stays in the
/// in-memory database, which would otherwise grow past libFuzzer's memory limit in a long run.
/// A rebuild costs about a second of CPU (the demo's password hashing), counted against the
/// input that triggers it.
fn inputs_per_region() -> u32 {
    static N: OnceLock<u32> = OnceLock::new();
    *N.get_or_init(|| match std::env::var("KADRY_FUZZ_INPUTS_PER_REGION").ok().and_then(|v| v.parse().ok()) {
        Some(0) => u32::MAX,
        Some(n) => n,
        None => 50_000,
    })
}

thread_local! {
    static APP: RefCell<Option<(App, u32)>> = const { RefCell::new(None) };
}

/// Runs `f` on the current region, building one first if there is none or the current one has
/// served [`inputs_per_region`] inputs.
fn with_app<T>(f: impl FnOnce(&App) -> T) -> T {
    APP.with_borrow_mut(|slot| {
        if slot.as_ref().is_none_or(|(_, served)| *served >= inputs_per_region()) {
            // The old region goes first, inside the runtime (its pool's connections close).
            let old = slot.take();
            runtime().block_on(async move { drop(old) });
            *slot = Some((runtime().block_on(build()), 0));
        }
        let (app, served) = slot.as_mut().expect("a region");
        *served += 1;
        f(app)
    })
}

async fn build() -> App {
    let store = SqliteStore::open(":memory:").await.expect("an in-memory SQLite store");
    let pool = store.pool().clone();
    let policy = RegionPolicy::preset("samara").expect("the samara preset");
    let at = Utc.with_ymd_and_hms(2025, 2, 3, 6, 0, 0).single().expect("an instant");
    let clock = Arc::new(ManualClock::new(at));
    let service = Service::new(policy, Arc::new(store), clock, Arc::new(SequentialIds::default()));
    let auth = Arc::new(Auth::new(AuthDb::Sqlite(pool), service.clone()).await.expect("the credentials table"));
    demo::seed(&service, &auth).await.expect("the demo region").expect("a fresh region");
    let router = api::router(AppState { service, auth });
    let mut tokens = Vec::new();
    for email in ACCOUNTS {
        let body = json!({"email": email, "password": demo::DEMO_PASSWORD}).to_string();
        let req = Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("a request");
        let res = router.clone().oneshot(req).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::OK, "login {email}");
        let v: Value =
            serde_json::from_slice(&to_bytes(res.into_body(), usize::MAX).await.expect("a body")).expect("JSON");
        tokens.push(v["token"].as_str().expect("a token").to_string());
    }
    App { router, tokens }
}

/// The path of `template` with its parameters chosen by `a` and `b`.
fn fill(template: &str, a: u8, b: u8) -> String {
    let id = |x: u8| match x % (IDS + 2) {
        n if n < IDS => uuid::Uuid::from_u128(u128::from(n) + 1).to_string(),
        n if n == IDS => uuid::Uuid::nil().to_string(),
        _ => "not-a-uuid".to_string(),
    };
    let year = 2024 + i32::from(b % 4);
    template
        .replace("{id}", &id(a))
        .replace("{org}", &id(a))
        .replace("{worker}", &id(b))
        .replace("{program}", &id(b.rotate_left(3)))
        .replace("{year}", &year.to_string())
        .replace("{role}", ROLES[usize::from(b) % ROLES.len()])
        .replace("{source}", SOURCES[usize::from(b) % SOURCES.len()])
        .replace("{number}", &format!("{year}-{:06}", a % 16))
}

fuzz_target!(|data: &[u8]| {
    let [endpoint, account, a, b, body @ ..] = data else { return };
    let (method, template) = ENDPOINTS[usize::from(*endpoint) % ENDPOINTS.len()];
    let mut uri = fill(template, *a, *b);
    let import = template.ends_with("/staff/import");
    if import {
        uri.push_str(if b & 1 == 1 { "?dry_run=true" } else { "?dry_run=false" });
    }
    let (status, bytes) = with_app(|app| {
        let token = &app.tokens[usize::from(*account) % app.tokens.len()];
        let req = Request::builder()
            .method(method)
            .uri(&uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, if import { "text/csv" } else { "application/json" })
            .body(Body::from(body.to_vec()))
            .expect("a request");
        runtime().block_on(async {
            let res = app.router.clone().oneshot(req).await.expect("infallible");
            let status = res.status();
            (status, to_bytes(res.into_body(), usize::MAX).await.expect("a body"))
        })
    });
    let text = String::from_utf8_lossy(&bytes);
    assert!(!status.is_server_error(), "{method} {uri}: {status} {text}");
    if status.is_client_error() {
        let v: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{method} {uri}: {status}, not JSON ({e}): {text}"));
        // The import answers 403, 404 and 422 with its report (`docs/import.md`): every row's
        // error carries the code.
        let (errors, report) = match v["errors"].as_array() {
            Some(rows) if import => (rows.iter().collect(), true),
            _ => (vec![&v], false),
        };
        assert!(!errors.is_empty(), "{method} {uri}: {status}, a report without errors: {text}");
        for e in errors {
            let code = e["code"].as_str().unwrap_or_else(|| panic!("{method} {uri}: {status} without a code: {text}"));
            assert!(
                is_catalogued(code) || SERVER_CODES.contains(&code),
                "{method} {uri}: {status}, uncatalogued code {code}"
            );
            // A report's status is that of its gravest row (`examples/server/import.rs`).
            if !report {
                assert!(statuses(code).contains(&status.as_u16()), "{method} {uri}: {status} with {code}: {text}");
            }
            assert!(e["message"].is_string() && e["message_ru"].is_string(), "{method} {uri}: {status}: {text}");
        }
    }
});
