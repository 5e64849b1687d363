//! The example server: a working regional system over kadry, on a local SQLite file by default.
//!
//! ```sh
//! cargo run --example server                      # http://127.0.0.1:8080, kadry.db, demo region
//! cargo run --example server -- --bind 127.0.0.1:9000 --storage sqlite:/tmp/region.db
//! cargo run --features postgres --example server -- --storage postgres://postgres@127.0.0.1/test
//! ```
//!
//! Flags (and environment): `--bind ADDR` (`KADRY_BIND`, default `127.0.0.1:8080`; port 0 picks
//! a free one), `--storage sqlite:PATH|postgres:URL` (`KADRY_STORAGE`, default `sqlite:kadry.db`),
//! `--region samara|yugra|tatarstan` (`KADRY_REGION`, default `samara`), `--no-demo`,
//! `--schema NAME` (`KADRY_SCHEMA`, PostgreSQL: keep kadry in its own schema of the host's
//! database, created if missing),
//! `--now 2025-02-03|2025-02-03T09:00:00+04:00` (`KADRY_NOW`): start the region's clock at that
//! instant and let it run (a date means 09:00 in the region's time zone) — for sandboxes,
//! demonstrations and end-to-end tests that must live through a group's dates.
//! Logs go to stderr (`KADRY_LOG`, default `info`). Stdout gets the demo logins (on first
//! start) and then the line `kadry listening on http://ADDR`.
//! `--delivery-log PATH` (`KADRY_DELIVERY_LOG`): besides logging each notification the relay
//! delivers, append one JSON line `{"id":…,"person":…,"kind":…}` per delivery to PATH (one
//! `write` per line, in `O_APPEND` mode), so a test can count deliveries across restarts and
//! kills (the load test's `--kill-after`, docs/load.md).

mod api;
mod auth;
mod demo;
mod error;
mod import;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kadry::adapters::relay::Relay;
use kadry::core::model::Notification;
use kadry::core::ports::{Clock, Notifier, Store};
use kadry::core::types::Email;
use kadry::{LogNotifier, RandomIds, RegionPolicy, Service, ShiftedClock, SystemClock};
use tokio::sync::watch;

use crate::auth::{Auth, AuthDb};
use crate::state::AppState;

struct Args {
    bind: SocketAddr,
    storage: String,
    region: String,
    demo: bool,
    now: Option<String>,
    schema: Option<String>,
    delivery_log: Option<String>,
}

fn args() -> Result<Args, String> {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let mut a = Args {
        bind: env("KADRY_BIND", "127.0.0.1:8080").parse().map_err(|e| format!("KADRY_BIND: {e}"))?,
        storage: env("KADRY_STORAGE", "sqlite:kadry.db"),
        region: env("KADRY_REGION", "samara"),
        demo: true,
        now: std::env::var("KADRY_NOW").ok(),
        schema: std::env::var("KADRY_SCHEMA").ok(),
        delivery_log: std::env::var("KADRY_DELIVERY_LOG").ok(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--bind" => a.bind = value("--bind")?.parse().map_err(|e| format!("--bind: {e}"))?,
            "--storage" => a.storage = value("--storage")?,
            "--region" => a.region = value("--region")?,
            "--no-demo" => a.demo = false,
            "--now" => a.now = Some(value("--now")?),
            "--schema" => a.schema = Some(value("--schema")?),
            "--delivery-log" => a.delivery_log = Some(value("--delivery-log")?),
            "-h" | "--help" => {
                return Err("usage: server [--bind ADDR] [--storage sqlite:PATH|postgres:URL] [--region samara|yugra|tatarstan] [--no-demo] [--now DATE|RFC3339] [--schema NAME] [--delivery-log PATH]".into());
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

async fn open_store(spec: &str, schema: Option<&str>) -> Result<(Arc<dyn Store>, AuthDb), String> {
    if let Some(path) = spec.strip_prefix("sqlite:") {
        if schema.is_some() {
            return Err("--schema is for PostgreSQL".into());
        }
        let store = kadry::adapters::SqliteStore::open(path).await.map_err(|e| e.to_string())?;
        let db = AuthDb::Sqlite(store.pool().clone());
        return Ok((Arc::new(store), db));
    }
    #[cfg(feature = "postgres")]
    {
        let url = spec.strip_prefix("postgres:").filter(|u| u.starts_with("postgres")).unwrap_or(spec);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let store = match schema {
                Some(name) => kadry::adapters::PgStore::open_in_schema(url, name).await,
                None => kadry::adapters::PgStore::open(url).await,
            }
            .map_err(|e| e.to_string())?;
            let db = AuthDb::Postgres(store.pool().clone());
            return Ok((Arc::new(store), db));
        }
    }
    Err(format!("unknown storage {spec:?}: use sqlite:PATH or postgres:URL (with --features postgres)"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KADRY_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file stays greppable (the one-time codes).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
        .init();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kadry server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = args()?;
    let policy = RegionPolicy::preset(&args.region).ok_or_else(|| format!("unknown region {}", args.region))?;
    let (store, auth_db) = open_store(&args.storage, args.schema.as_deref()).await?;
    tracing::info!(storage = %args.storage, region = %args.region, "store open, migrations applied");
    let clock: Arc<dyn Clock> = match &args.now {
        None => Arc::new(SystemClock),
        Some(text) => {
            let start = start_instant(text, &policy)?;
            tracing::warn!(%start, "the clock starts at --now, not at the real time");
            Arc::new(ShiftedClock::starting_at(start))
        }
    };
    let service = Service::new(policy, store, clock, Arc::new(RandomIds));
    let auth = Arc::new(Auth::new(auth_db, service.clone()).await.map_err(|e| e.to_string())?);
    if args.demo {
        match demo::seed(&service, &auth).await {
            Ok(Some(logins)) => demo::print_logins(&logins),
            Ok(None) => tracing::info!("the region has data: demo not loaded"),
            Err(e) => return Err(format!("demo region: {e}")),
        }
    }
    let (stop, stopped) = watch::channel(false);
    let notifier: Arc<dyn Notifier> = match &args.delivery_log {
        None => Arc::new(LogNotifier),
        Some(path) => Arc::new(DeliveryLog::open(path)?),
    };
    let relay = Relay::new(service.clone(), notifier).spawn(stopped);
    let state = AppState { service, auth };
    let app = api::router(state);
    let listener = tokio::net::TcpListener::bind(args.bind).await.map_err(|e| format!("bind {}: {e}", args.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("kadry listening on http://{addr}");
    tracing::info!(%addr, "serving; OpenAPI at /api/v1/openapi.json");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| e.to_string())?;
    let _ = stop.send(true);
    let _ = relay.await;
    tracing::info!("stopped");
    Ok(())
}

/// `--now`: an RFC 3339 instant, or a date meaning 09:00 in the region's time zone.
fn start_instant(text: &str, policy: &RegionPolicy) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("--now {text:?}: use YYYY-MM-DD or an RFC 3339 instant"))?;
    let local = date.and_hms_opt(9, 0, 0).ok_or("--now: no such time")?;
    policy
        .time_zone
        .from_local_datetime(&local)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| format!("--now {text:?}: not a time in {}", policy.time_zone))
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// `--delivery-log`: the log notifier, plus one JSON line per delivery appended to a file.
struct DeliveryLog {
    file: std::sync::Mutex<std::fs::File>,
}

impl DeliveryLog {
    fn open(path: &str) -> Result<Self, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("--delivery-log {path}: {e}"))?;
        Ok(DeliveryLog { file: std::sync::Mutex::new(file) })
    }
}

#[async_trait::async_trait]
impl Notifier for DeliveryLog {
    async fn deliver(&self, n: &Notification, email: &Email) -> kadry::Result<()> {
        LogNotifier.deliver(n, email).await?;
        let line = serde_json::json!({ "id": n.id, "person": n.person, "kind": n.kind.as_str() }).to_string() + "\n";
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        std::io::Write::write_all(&mut *file, line.as_bytes())
            .map_err(|e| kadry::Error::Storage(format!("delivery log: {e}")))
    }
}
