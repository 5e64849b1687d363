//! The storage contract and the scenario suites on every store: memory, a real SQLite file,
//! and a real PostgreSQL server (`KADRY_TEST_DATABASE_URL`; skipped, saying so, without it).

use std::path::PathBuf;
use std::sync::Arc;

use kadry::MemoryStore;
use kadry::adapters::testkit::run_contract;
use kadry::core::ports::Store;
use kadry::scenario::{StorageSpec, run_paths};

fn database_url() -> Option<String> {
    let url = std::env::var("KADRY_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        println!("skipped: KADRY_TEST_DATABASE_URL is not set");
    }
    url
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kadry-storage-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_memory() {
    run_contract(|_| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> }).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_sqlite_file() {
    run_contract(|name| async move {
        let path = temp_path(&format!("{name}.db"));
        Arc::new(kadry::adapters::SqliteStore::open(path.to_str().unwrap()).await.unwrap()) as Arc<dyn Store>
    })
    .await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_postgres() {
    let Some(url) = database_url() else { return };
    run_contract(|name| {
        let url = url.clone();
        async move {
            let schema = format!("kadry_contract_{name}");
            Arc::new(kadry::adapters::PgStore::recreate_schema(&url, &schema).await.unwrap()) as Arc<dyn Store>
        }
    })
    .await;
}

async fn scenarios_on(storage: StorageSpec) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("tests/scenarios")];
    let shared = root.join("../shared/spec/scenarios");
    if shared.is_dir() {
        paths.push(shared);
    }
    let summary = run_paths(&paths, &storage).await.unwrap_or_else(|e| panic!("{e}"));
    let failures: Vec<String> =
        summary.reports.iter().flat_map(|r| r.failures.iter().map(ToString::to_string)).collect();
    assert!(failures.is_empty(), "{storage:?}\n{}\n{}", failures.join("\n"), summary.line());
    println!("{storage:?}: {}", summary.line());
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_on_sqlite() {
    scenarios_on(StorageSpec::Sqlite(temp_path("scenario.db").to_str().unwrap().to_string())).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_on_postgres() {
    let Some(url) = database_url() else { return };
    scenarios_on(StorageSpec::Postgres(url)).await;
}

/// Migrations are idempotent and kept in kadry's own table.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn migrations_run_once_in_kadrys_own_table() {
    let path = temp_path("migrate.db");
    let store = kadry::adapters::SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    store.migrate().await.unwrap();
    let reopened = kadry::adapters::SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(
        reopened.applied_migrations().await.unwrap(),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        "each migration recorded once"
    );
}
