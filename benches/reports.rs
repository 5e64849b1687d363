//! Reports benchmark (R-R1, issue 6 item 9; R-W3 stage 1, issue 7): a report in any slice grouped
//! by territory × position × training status, and the eligibility selection for the next year,
//! over a region of 1 000 000 workers (or `KADRY_BENCH_WORKERS`, e.g. 2 700 000 for all of
//! Russia) on PostgreSQL, each beside the hand-written SQL a DBA would write for it, on the same
//! database in the same run.
//!
//! Set-up (outside the timed region): the bench uses its own database, `kadry_bench_generated`
//! (`kadry_bench_generated_N` for another size; created if absent), and fills it with the
//! synthetic region of [`kadry::generate::generate`] (seed 1, Samara, "today" 3 March 2025)
//! through kadry's own bulk path, `Store::load`: multi-row statements, and the staff facts
//! (migration 0010) kept by the adapter as it writes, so no rebuild follows. Per 1 000 000 workers:
//! 250 territories, 24 312 organisations of every kind with 400 providers, 2 405 programs and
//! 101 901 groups, 1 176 130 employments (one in five workers has a dismissed earlier one),
//! 985 109 vouchers, and 2 560 020 enrolments with their training records over the ten years
//! before "today" (see `docs/load.md`). A database holding another region (another
//! marker, or none) is dropped and created again; the load is skipped when the database holds
//! this one's marker, so re-runs start at once; after a load the tables are vacuumed and
//! analysed.
//!
//! The report is for the region's "today" and the eligibility selection for the year after: the
//! generated history lies before that day.
//!
//! Timed, in one criterion group, each in a read transaction of its own on the same pool:
//! - `kadry slice`: `Tx::slice` through the adapter;
//! - `baseline slice`: [`BASELINE_SQL`], the report by hand over the same staff facts;
//! - `records slice`: [`RECORDS_SQL`], the report by hand over the records themselves
//!   (employments, organisations, every passed training folded), as without the facts table;
//! - `kadry eligibility`: `Tx::eligible` for the year after the report's, decoded into
//!   `Eligible` values;
//! - `baseline eligibility`: [`ELIGIBILITY_SQL`], the same selection by hand, fetched as rows.
//!
//! Before timing, the three slices must return the same rows (keys, workers, hours), which also
//! checks the facts against the records, and the two selections the same workers.
//! Flat sampling, 10 samples, 3 s warm-up and 20 s of measurement each (criterion stretches it
//! when a statement is slower).
//!
//! Run: `cargo bench --bench reports --features postgres` (add `KADRY_BENCH_WORKERS=2700000` for
//! the national size). PostgreSQL comes from `KADRY_BENCH_DATABASE_URL`, else
//! `KADRY_TEST_DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`; only the
//! database named in the URL is used to create (or drop) the bench's own, which is kept between
//! runs. The URL's role must be allowed to create databases.

use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use kadry::RegionPolicy;
use kadry::adapters::PgStore;
use kadry::core::ids::OrgId;
use kadry::core::model::Scope;
use kadry::core::planning::{Eligible, due_if_last_passed_by, eligible};
use kadry::core::ports::Store;
use kadry::core::report::{Dimension, SliceRow, SliceSpec, aggregate};
use kadry::generate::{Spec, generate};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::runtime::Runtime;

/// Workers (every person is one): `KADRY_BENCH_WORKERS`, else 1 000 000.
fn workers() -> usize {
    std::env::var("KADRY_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| (10_000..=kadry::generate::MAX_WORKERS).contains(n))
        .unwrap_or(1_000_000)
}

/// The bench's own database for a size.
fn database(workers: usize) -> String {
    if workers == 1_000_000 { "kadry_bench_generated".into() } else { format!("kadry_bench_generated_{workers}") }
}

/// The region generated: the generator's, seed 1, at its default day.
fn region(workers: usize) -> Spec {
    Spec::new(workers, 1)
}

/// What the load wrote; a database holding another marker (or none) is loaded again.
fn marker(spec: &Spec) -> String {
    format!(
        "reports v4: kadry::generate {} workers, seed {}, {}, today {}, through Store::load",
        spec.workers,
        spec.seed,
        spec.region.as_str(),
        spec.today
    )
}

fn database_url() -> String {
    std::env::var("KADRY_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("KADRY_TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The day the report is for: the generated region's "today" (its history lies before it).
fn today() -> NaiveDate {
    Spec::default_today()
}

/// The year the eligibility selection is for: the one after the report's.
fn year() -> i32 {
    today().year() + 1
}

/// The report: the whole region by territory × position × training status.
fn spec(scope: Scope) -> SliceSpec {
    let group_by = vec![Dimension::Territory, Dimension::Position, Dimension::TrainingStatus];
    SliceSpec::new(&RegionPolicy::samara(), scope, group_by, Vec::new(), today()).expect("a valid slice")
}

// ---------------------------------------------------------------------------------------------
// The generated region
// ---------------------------------------------------------------------------------------------

/// Opens kadry's store on the bench's database (which migrates), after creating the database if
/// absent, or dropping and creating it again when it holds another region than `spec`'s.
/// Answers whether the region is there already.
async fn open_store(url: &str, spec: &Spec) -> (PgStore, bool) {
    let database = database(spec.workers);
    let admin_options = PgConnectOptions::from_str(url).expect("database url");
    let admin = PgPoolOptions::new().max_connections(1).connect_with(admin_options.clone()).await.expect("postgres");
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&database)
        .fetch_optional(&admin)
        .await
        .expect("pg_database");
    let options = admin_options.database(&database);
    let mut loaded = false;
    if exists.is_some() {
        let pool =
            PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await.expect("the bench database");
        let have: Option<(String,)> =
            sqlx::query_as("SELECT marker FROM bench_reports_marker").fetch_optional(&pool).await.unwrap_or(None);
        pool.close().await;
        loaded = have.is_some_and(|(m,)| m == marker(spec));
        if !loaded {
            eprintln!("reports: {database} holds another region: dropping it");
            // The name is the bench's own (letters, digits and `_`).
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {database} WITH (FORCE)")))
                .execute(&admin)
                .await
                .expect("drop the bench database");
        }
    }
    if exists.is_none() || !loaded {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&admin)
            .await
            .expect("create the bench database");
    }
    admin.close().await;
    // Two connections: one for the timed statements, one spare.
    (PgStore::connect_with(options, 2).await.expect("kadry's store"), loaded)
}

/// Time the process stood still: a thread that wakes every 100 ms adds up the gaps of a second
/// or more between its wake-ups (a process stopped by SIGSTOP, as on a shared machine where
/// another measurement pauses this one, sees its clock jump). The load's times are reported
/// with and without it.
struct Stalls {
    paused_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Stalls {
    fn watch() -> Stalls {
        use std::sync::atomic::Ordering;
        let stalls = Stalls { paused_ms: Default::default(), stop: Default::default() };
        let (paused, stop) = (stalls.paused_ms.clone(), stalls.stop.clone());
        std::thread::spawn(move || {
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let gap = last.elapsed();
                if gap >= Duration::from_secs(1) {
                    paused.fetch_add(gap.as_millis() as u64, Ordering::Relaxed);
                }
                last = Instant::now();
            }
        });
        stalls
    }

    /// Seconds stood still so far.
    fn paused(&self) -> f64 {
        self.paused_ms.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1000.0
    }
}

impl Drop for Stalls {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Generates the region into the store through `Store::load` (the staff facts kept as it goes),
/// vacuums and analyses, then writes the marker.
async fn load(store: &PgStore, spec: &Spec) {
    let pool = store.pool();
    eprintln!("reports: generating {} workers through Store::load …", spec.workers);
    let stalls = Stalls::watch();
    let start = Instant::now();
    let g = generate(store, spec).await.expect("the generated region");
    let paused = stalls.paused();
    let took = start.elapsed().as_secs_f64() - paused;
    let c = &g.counts;
    eprintln!(
        "reports:   {} workers, {} territories, {} organisations, {} groups, {} employments, {} vouchers, \
         {} enrolments, {} training records: {} changes in {} units of work, {took:.0} s running \
         ({:.0} workers/s, {:.0} changes/s; the process stood still {paused:.0} s more)",
        c.persons,
        c.territories,
        c.orgs,
        c.groups,
        c.employments,
        c.vouchers,
        c.enrollments,
        c.trainings,
        c.changes,
        c.transactions,
        c.persons as f64 / took,
        c.changes as f64 / took,
    );
    let step = Instant::now();
    sqlx::raw_sql("VACUUM ANALYZE").execute(pool).await.expect("vacuum analyze");
    let vacuum = step.elapsed().as_secs_f64() - (stalls.paused() - paused);
    sqlx::raw_sql("CREATE TABLE bench_reports_marker (marker TEXT PRIMARY KEY)").execute(pool).await.expect("marker");
    sqlx::query("INSERT INTO bench_reports_marker (marker) VALUES ($1)")
        .bind(marker(spec))
        .execute(pool)
        .await
        .expect("marker");
    eprintln!(
        "reports: loaded in {:.0} s running (generation {took:.0} s, vacuum and analyse {vacuum:.0} s; \
         stood still {:.0} s more)",
        start.elapsed().as_secs_f64() - stalls.paused(),
        stalls.paused()
    );
}

// ---------------------------------------------------------------------------------------------
// The contenders
// ---------------------------------------------------------------------------------------------

/// The report as a DBA would write it by hand over the staff facts (migration 0010): each
/// worker's training status from their last passed day and their hours within the cycle from
/// the three trainings kept in the row (folding the records only for a worker with more),
/// reduced to one row per worker and group, then counted. `$1` is the cycle's first day (R-V11).
const BASELINE_SQL: &str = "\
SELECT territory, position, status, COUNT(*), CAST(SUM(hours) AS BIGINT)
FROM (SELECT f.territory, f.position,
             CASE WHEN f.d1 IS NULL THEN 'never' WHEN f.d1 >= $1 THEN 'trained' ELSE 'overdue' END AS status,
             f.person,
             MAX(CASE WHEN f.more AND f.d3 >= $1
                      THEN (SELECT SUM(t.hours) FROM kadry_trainings t
                            WHERE t.person = f.person AND t.passed AND t.completed_on >= $1)
                      ELSE CASE WHEN f.d1 >= $1 THEN f.h1 ELSE 0 END + CASE WHEN f.d2 >= $1 THEN f.h2 ELSE 0 END
                           + CASE WHEN f.d3 >= $1 THEN f.h3 ELSE 0 END END) AS hours
      FROM kadry_staff_facts f
      GROUP BY 1, 2, 3, 4) w
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3";

/// The report by hand over the records, as without the staff facts: the active employments and
/// their organisations, each worker's passed trainings folded into the last day and the hours
/// within the cycle, reduced to one row per worker and group, then counted. `$1` is the cycle's
/// first day.
const RECORDS_SQL: &str = "\
WITH passed AS (
    SELECT person, MAX(completed_on) AS last_passed,
           SUM(CASE WHEN completed_on >= $1 THEN hours ELSE 0 END) AS hours
    FROM kadry_trainings WHERE passed GROUP BY person)
SELECT territory, position, status, COUNT(*), CAST(SUM(hours) AS BIGINT)
FROM (SELECT o.territory, e.position,
             CASE WHEN p.last_passed IS NULL THEN 'never' WHEN p.last_passed >= $1 THEN 'trained' ELSE 'overdue' END
                 AS status,
             e.person, MAX(COALESCE(p.hours, 0)) AS hours
      FROM kadry_employments e
      JOIN kadry_orgs o ON o.id = e.org
      LEFT JOIN passed p ON p.person = e.person
      WHERE e.status = 'active'
      GROUP BY 1, 2, 3, 4) w
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3";

/// The eligibility selection by hand over the staff facts (R-W3 stage 1, R-V11): the active
/// pedagogical workers not on parental leave, never trained or last trained on or before `$1`
/// (the last day whose cycle ends within the year), once each at their first employment.
const ELIGIBILITY_SQL: &str = "\
SELECT DISTINCT ON (person) person, org, territory, position, d1
FROM kadry_staff_facts
WHERE pedagogical AND NOT parental_leave AND (d1 IS NULL OR d1 <= $1)
ORDER BY person, seq";

async fn kadry_slice(store: &PgStore, spec: &SliceSpec) -> Vec<SliceRow> {
    let mut tx = store.read().await.expect("a read transaction");
    let rows = tx.slice(spec).await.expect("kadry's slice");
    tx.commit().await.expect("end the transaction");
    rows
}

/// A hand-written report with the settings kadry gives its reports
/// ([`kadry::adapters::sql::PG_REPORT_SETTINGS`]), in a transaction of its own.
async fn baseline_slice(pool: &PgPool, sql: &'static str, spec: &SliceSpec) -> Vec<SliceRow> {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::raw_sql(kadry::adapters::sql::PG_REPORT_SETTINGS).execute(&mut *tx).await.expect("the report settings");
    let rows: Vec<(String, String, String, i64, i64)> =
        sqlx::query_as(sql).bind(spec.cutoff.to_string()).fetch_all(&mut *tx).await.expect("the baseline");
    tx.commit().await.expect("end the transaction");
    rows.into_iter()
        .map(|(t, p, s, w, h)| SliceRow { key: vec![t, p, s], workers: w as u64, hours: h as u64 })
        .collect()
}

async fn kadry_eligible(store: &PgStore, scope: Scope) -> Vec<Eligible> {
    let mut tx = store.read().await.expect("a read transaction");
    let rows = tx.eligible(scope, &RegionPolicy::samara(), year()).await.expect("kadry's selection");
    tx.commit().await.expect("end the transaction");
    rows
}

type EligibleRow = (String, String, String, String, Option<String>);

async fn baseline_eligible(pool: &PgPool) -> Vec<EligibleRow> {
    let by = due_if_last_passed_by(&RegionPolicy::samara(), year()).to_string();
    let mut tx = pool.begin().await.expect("begin");
    let rows = sqlx::query_as(ELIGIBILITY_SQL).bind(by).fetch_all(&mut *tx).await.expect("the baseline");
    tx.commit().await.expect("end the transaction");
    rows
}

/// The three reports answer the same rows (so the facts agree with the records), every
/// training status is well populated, the two selections name the same workers, and the
/// documents are what kadry reads: for a few organisations, the in-memory aggregate over
/// `staff_rows` (which decodes every document) equals the pushed-down slice, and the selection
/// equals `planning::eligible` over the same rows.
async fn check(store: &PgStore, spec: &SliceSpec, workers: usize) {
    let mut ours = kadry_slice(store, spec).await;
    ours.sort_by(|a, b| a.key.cmp(&b.key));
    for (name, sql) in [("baseline", BASELINE_SQL), ("records", RECORDS_SQL)] {
        let mut theirs = baseline_slice(store.pool(), sql, spec).await;
        theirs.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(ours.len(), theirs.len(), "kadry and the {name} statement disagree on the groups");
        assert_eq!(ours, theirs, "kadry and the {name} statement disagree");
    }
    let total = |status: &str| ours.iter().filter(|r| r.key[2] == status).map(|r| r.workers).sum::<u64>();
    let (trained, overdue, never) = (total("trained"), total("overdue"), total("never"));
    eprintln!(
        "reports: {} groups; workers by status (a worker with two workplaces counts in each group): \
         trained {trained}, overdue {overdue}, never {never}; hours {}",
        ours.len(),
        ours.iter().map(|r| r.hours).sum::<u64>()
    );
    for (status, n) in [("trained", trained), ("overdue", overdue), ("never", never)] {
        assert!(n > workers as u64 / 20, "too few workers {status}: {n}");
    }
    let selected = kadry_eligible(store, Scope::Region).await;
    let by_hand = baseline_eligible(store.pool()).await;
    assert_eq!(selected.len(), by_hand.len(), "kadry and the baseline select different numbers of workers");
    assert!(
        selected.iter().zip(&by_hand).all(|(a, b)| a.person.to_string() == b.0 && a.org.to_string() == b.1),
        "kadry and the baseline select different workers"
    );
    eprintln!("reports: {} workers due in {}", selected.len(), year());
    let pool = store.pool();
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table}");
    let mut tx = store.read().await.expect("a read transaction");
    for (table, decoded) in [
        ("kadry_territories", tx.territories().await.expect("territories decode").len()),
        ("kadry_orgs", tx.orgs().await.expect("organisations decode").len()),
    ] {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(count(table))).fetch_one(pool).await.expect("a count");
        assert_eq!(decoded as i64, n, "{table}");
    }
    // Six organisations spread over the region, each with a staff of twenty or more.
    let staffed: Vec<(String,)> =
        sqlx::query_as("SELECT org FROM kadry_staff_facts GROUP BY org HAVING COUNT(*) >= 20 ORDER BY org")
            .fetch_all(pool)
            .await
            .expect("organisations");
    assert!(staffed.len() >= 6, "{} organisations with a staff", staffed.len());
    for k in 0..6 {
        let id = &staffed[k * (staffed.len() - 1) / 5].0;
        let org = OrgId(uuid::Uuid::parse_str(id).expect("an id"));
        let spec = SliceSpec { scope: Scope::Organisation(org), ..spec.clone() };
        let rows = tx.staff_rows(spec.scope).await.expect("staff rows decode");
        assert!(rows.len() >= 20, "organisation {id}: {} rows", rows.len());
        assert_eq!(aggregate(&rows, &spec), tx.slice(&spec).await.expect("slice"), "organisation {id}");
        let policy = RegionPolicy::samara();
        let due = tx.eligible(spec.scope, &policy, year()).await.expect("eligible");
        assert_eq!(due, eligible(&policy, &rows, year()), "organisation {id}: the selection");
        let p = rows[0].employment.person;
        tx.person(p).await.expect("a person decodes").expect("a person");
        tx.trainings(p).await.expect("trainings decode");
    }
    tx.commit().await.expect("end the transaction");
}

// ---------------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------------

fn reports(c: &mut Criterion) {
    let stalls = Stalls::watch();
    let rt: Runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let url = database_url();
    let workers = workers();
    let spec = spec(Scope::Region);
    let region = region(workers);
    let store = rt.block_on(async {
        let (store, loaded) = open_store(&url, &region).await;
        if loaded {
            eprintln!("reports: the region is loaded already ({})", marker(&region));
        } else {
            load(&store, &region).await;
        }
        check(&store, &spec, workers).await;
        store
    });
    let pool = store.pool().clone();
    let size =
        if workers.is_multiple_of(1_000_000) { format!("{}M", workers / 1_000_000) } else { format!("{workers}") };
    let mut group = c.benchmark_group("reports/postgres");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.warm_up_time(Duration::from_secs(3)).measurement_time(Duration::from_secs(20));
    group.bench_function(format!("kadry slice territory×position×training_status {size}"), |b| {
        b.iter(|| rt.block_on(kadry_slice(&store, &spec)));
    });
    group.bench_function(format!("baseline slice territory×position×training_status {size}"), |b| {
        b.iter(|| rt.block_on(baseline_slice(&pool, BASELINE_SQL, &spec)));
    });
    group.bench_function(format!("records slice territory×position×training_status {size}"), |b| {
        b.iter(|| rt.block_on(baseline_slice(&pool, RECORDS_SQL, &spec)));
    });
    let year = year();
    group.bench_function(format!("kadry eligibility {year} {size}"), |b| {
        b.iter(|| rt.block_on(kadry_eligible(&store, Scope::Region)));
    });
    group.bench_function(format!("baseline eligibility {year} {size}"), |b| {
        b.iter(|| rt.block_on(baseline_eligible(&pool)));
    });
    group.finish();
    rt.block_on(pool.close());
    // A measurement taken while the process stood still is longer by that time: say so.
    eprintln!("reports: the process stood still {:.0} s in this run, load included", stalls.paused());
}

fn config() -> Criterion {
    Criterion::default().configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = reports
}
criterion_main!(benches);
