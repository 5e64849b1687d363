//! What `examples/generate.rs` and `examples/load` share: opening a store from a
//! `--storage`-style spec, and storing the generated accounts' passwords where the example
//! server reads them (`kadry_example_credentials`, see `examples/server/auth.rs`), and reading
//! a whole store back for the invariant checks (`kadry::generate::check_invariants`).

#![allow(dead_code)]

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use kadry::core::model::{Employment, Enrollment, Group, Notification, Person, PlanEntry, Voucher};
use kadry::core::planning::{FundingAccount, Quota, from_kopecks};
use kadry::core::ports::Store;
use kadry::generate::{Account, Dump, OutboxEntry};

/// An open store and, for SQL stores, its pool.
pub enum Opened {
    /// In memory.
    Memory(Arc<kadry::MemoryStore>),
    /// A SQLite file.
    Sqlite(Arc<kadry::adapters::SqliteStore>),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(Arc<kadry::adapters::PgStore>),
}

impl Opened {
    /// The store behind the port.
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Opened::Memory(s) => s.clone(),
            Opened::Sqlite(s) => s.clone(),
            #[cfg(feature = "postgres")]
            Opened::Postgres(s) => s.clone(),
        }
    }
}

/// Opens `memory`, `sqlite:PATH` or `postgres:URL`; with `schema`, PostgreSQL keeps kadry in
/// that schema, dropped and created afresh when `fresh`.
pub async fn open(spec: &str, schema: Option<&str>, fresh: bool) -> Result<Opened, String> {
    if spec == "memory" {
        return Ok(Opened::Memory(Arc::new(kadry::MemoryStore::new())));
    }
    if let Some(path) = spec.strip_prefix("sqlite:") {
        if fresh {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
        let s = kadry::adapters::SqliteStore::open(path).await.map_err(|e| format!("{spec}: {e}"))?;
        return Ok(Opened::Sqlite(Arc::new(s)));
    }
    #[cfg(feature = "postgres")]
    if let Some(url) = spec.strip_prefix("postgres:") {
        let s = match (schema, fresh) {
            (Some(name), true) => kadry::adapters::PgStore::recreate_schema(url, name).await,
            (Some(name), false) => kadry::adapters::PgStore::open_in_schema(url, name).await,
            (None, _) => kadry::adapters::PgStore::open(url).await,
        }
        .map_err(|e| format!("{url}: {e}"))?;
        return Ok(Opened::Postgres(Arc::new(s)));
    }
    let _ = (schema, fresh);
    Err(format!("unknown storage {spec:?}: use memory, sqlite:PATH or postgres:URL (feature postgres)"))
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS kadry_example_credentials (\
     person TEXT PRIMARY KEY, hash TEXT NOT NULL, updated_at BIGINT NOT NULL)";
const PUT: &str = "INSERT INTO kadry_example_credentials (person, hash, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (person) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at";

/// Gives every account the password `password` in the example server's credentials table
/// (one argon2id hash, shared: the salt is in the PHC string). Nothing to do in memory.
pub async fn store_passwords(opened: &Opened, accounts: &[Account], password: &str) -> Result<usize, String> {
    let hash = Argon2::default().hash_password(password.as_bytes()).map_err(|e| e.to_string())?.to_string();
    let at = chrono::Utc::now().timestamp_micros();
    // The same statements on either pool type, in one transaction.
    macro_rules! put_all {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.map_err(|e| e.to_string())?;
            sqlx::query(CREATE).execute(&mut *tx).await.map_err(|e| e.to_string())?;
            for a in accounts {
                let q = sqlx::query(PUT).bind(a.person.to_string()).bind(&hash).bind(at);
                q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
            }
            tx.commit().await.map_err(|e| e.to_string())?;
            Ok(accounts.len())
        }};
    }
    match opened {
        Opened::Memory(_) => Ok(0),
        Opened::Sqlite(s) => put_all!(s.pool()),
        #[cfg(feature = "postgres")]
        Opened::Postgres(s) => put_all!(s.pool()),
    }
}

fn decode<T: serde::de::DeserializeOwned>(doc: &str) -> Result<T, String> {
    serde_json::from_str(doc).map_err(|e| format!("a stored record does not decode: {e}"))
}

/// Reads the whole store back: its main tables and the outbox (for SQL stores, from the
/// tables' `doc` columns; a group's seats from its `taken` column; funding accounts from their
/// columns, in kopecks).
pub async fn dump(opened: &Opened) -> Result<(Dump, Vec<OutboxEntry>), String> {
    macro_rules! read_sql {
        ($pool:expr) => {{
            let pool = $pool;
            let docs = |table: &'static str| async move {
                let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT doc FROM {table}")))
                    .fetch_all(pool)
                    .await
                    .map_err(|e| format!("{table}: {e}"))?;
                Ok::<_, String>(rows.into_iter().map(|(d,)| d).collect::<Vec<_>>())
            };
            let mut d = Dump::default();
            for doc in docs("kadry_persons").await? {
                d.persons.push(decode::<Person>(&doc)?);
            }
            for doc in docs("kadry_employments").await? {
                d.employments.push(decode::<Employment>(&doc)?);
            }
            for doc in docs("kadry_vouchers").await? {
                d.vouchers.push(decode::<Voucher>(&doc)?);
            }
            for doc in docs("kadry_enrollments").await? {
                d.enrollments.push(decode::<Enrollment>(&doc)?);
            }
            for doc in docs("kadry_plans").await? {
                d.plans.push(decode::<PlanEntry>(&doc)?);
            }
            for doc in docs("kadry_quotas").await? {
                d.quotas.push(decode::<Quota>(&doc)?);
            }
            let funding: Vec<(i64, String, Option<i64>, i64, i64)> =
                sqlx::query_as("SELECT year, source, amount_limit, used, commitments FROM kadry_funding")
                    .fetch_all(pool)
                    .await
                    .map_err(|e| format!("kadry_funding: {e}"))?;
            for (year, source, limit, used, commitments) in funding {
                d.funding.push(FundingAccount {
                    year: i32::try_from(year).map_err(|e| format!("kadry_funding: {e}"))?,
                    source: decode(&format!("\"{source}\""))?,
                    limit: limit.map(from_kopecks),
                    used: from_kopecks(used),
                    commitments: u64::try_from(commitments).unwrap_or(0),
                });
            }
            let groups: Vec<(String, i64)> = sqlx::query_as("SELECT doc, taken FROM kadry_groups")
                .fetch_all(pool)
                .await
                .map_err(|e| format!("kadry_groups: {e}"))?;
            for (doc, taken) in groups {
                let mut g: Group = decode(&doc)?;
                g.taken = u32::try_from(taken).unwrap_or(u32::MAX);
                d.groups.push(g);
            }
            let rows: Vec<(String, bool)> = sqlx::query_as("SELECT doc, delivered FROM kadry_outbox ORDER BY seq")
                .fetch_all(pool)
                .await
                .map_err(|e| format!("kadry_outbox: {e}"))?;
            let mut outbox = Vec::with_capacity(rows.len());
            for (doc, delivered) in rows {
                let n: Notification = decode(&doc)?;
                outbox.push(OutboxEntry { id: n.id, person: n.person, kind: n.kind, delivered });
            }
            (d, outbox)
        }};
    }
    Ok(match opened {
        Opened::Memory(s) => {
            let outbox = s
                .outbox_records()
                .into_iter()
                .map(|r| OutboxEntry {
                    id: r.notification.id,
                    person: r.notification.person,
                    kind: r.notification.kind,
                    delivered: r.delivered,
                })
                .collect();
            (s.dump(), outbox)
        }
        Opened::Sqlite(s) => read_sql!(s.pool()),
        #[cfg(feature = "postgres")]
        Opened::Postgres(s) => read_sql!(s.pool()),
    })
}
