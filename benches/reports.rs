//! Reports benchmark (R-R1, issue 6 item 9): a report in any slice grouped by territory ×
//! position × training status over a region of 1 000 000 workers on PostgreSQL, beside the
//! hand-written SQL a DBA would write for the same report, on the same database in the same run.
//!
//! Set-up (outside the timed region): the bench uses its own database, `kadry_bench_reports`
//! (created if absent), migrates it through `PgStore::open`, and bulk-loads a deterministic
//! region with set-based SQL (`INSERT … SELECT … FROM generate_series`): 60 territories, 10 000
//! organisations of six kinds, 1 000 000 persons with an active employment each (about 95 %
//! pedagogical), 40 000 second workplaces, 25 000 dismissed and 2 000 pending employments, and
//! about 3 000 000 training records over ten years (a fifth of them failures, an eighth entered
//! from documents outside the region's funding). Every row's `doc` is the JSON kadry's own
//! readers decode, consistent with the columns beside it; the set-up checks that on a sample
//! (the documents decode, and for a few organisations `report::aggregate` over
//! `Tx::staff_rows` equals `Tx::slice`). The load is skipped when the database already holds
//! the generator's marker, so re-runs start at once; after a load the tables are vacuumed and
//! analysed. The load sets `session_replication_role = replica` to skip the per-row foreign-key
//! triggers, so the URL's role must be a superuser (`postgres` on the development machine).
//!
//! Timed, in one criterion group: `kadry` opens a read transaction through the adapter and
//! calls `Tx::slice`; `baseline` runs the hand-written statement ([`BASELINE_SQL`]) through
//! sqlx on the same pool. Before timing, both must return the same rows (keys, workers, hours).
//! Flat sampling, 10 samples, 3 s warm-up and 60 s of measurement: the timed part takes about
//! 3½ minutes at 5–6 s a statement.
//!
//! Run: `cargo bench --bench reports --features postgres`. PostgreSQL comes from
//! `KADRY_BENCH_DATABASE_URL`, else `KADRY_TEST_DATABASE_URL`, else
//! `postgres://postgres@127.0.0.1:5432/postgres`; only the database named in the URL is used to
//! create `kadry_bench_reports`, which is kept between runs.

use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use kadry::RegionPolicy;
use kadry::adapters::PgStore;
use kadry::core::ids::OrgId;
use kadry::core::model::Scope;
use kadry::core::ports::Store;
use kadry::core::report::{Dimension, SliceRow, SliceSpec, aggregate};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::runtime::Runtime;

/// The bench's own database.
const DATABASE: &str = "kadry_bench_reports";
/// Persons, each with one active employment.
const WORKERS: i64 = 1_000_000;
/// What the generator wrote; a database holding another marker (or none) is reloaded.
const MARKER: &str = "reports v2: 60 territories, 10000 orgs, 1000000 workers, summary";

fn database_url() -> String {
    std::env::var("KADRY_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("KADRY_TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The day the report is for: every generated training ended before it.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).expect("a date")
}

/// The report: the whole region by territory × position × training status.
fn spec(scope: Scope) -> SliceSpec {
    let group_by = vec![Dimension::Territory, Dimension::Position, Dimension::TrainingStatus];
    SliceSpec::new(&RegionPolicy::samara(), scope, group_by, Vec::new(), today()).expect("a valid slice")
}

// ---------------------------------------------------------------------------------------------
// The generated region
// ---------------------------------------------------------------------------------------------

/// Ids are UUIDs with a prefix per entity and the row's number in the last group.
const LOAD: [&str; 9] = [
    "CREATE TABLE IF NOT EXISTS bench_reports_marker (marker TEXT PRIMARY KEY)",
    "TRUNCATE kadry_territories, kadry_orgs, kadry_persons, kadry_employments, kadry_trainings, \
     kadry_training_summary, bench_reports_marker CASCADE",
    // 60 territories.
    "INSERT INTO kadry_territories (id, doc)
     SELECT t, jsonb_build_object('id', t, 'name', 'Муниципальный район № ' || i)::text
     FROM (SELECT i, '10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0') AS t FROM generate_series(1, 60) i) s",
    // 10 000 organisations: half schools, 30 % kindergartens, 10 % additional education, 5 %
    // colleges, 250 ДПО providers and 250 universities (the providers hold licences).
    "INSERT INTO kadry_orgs (id, territory, parent, doc, kind)
     SELECT o, t, NULL, jsonb_build_object('id', o, 'name', 'Образовательная организация № ' || j, 'kind', kind,
            'territory', t, 'parent', NULL,
            'license', CASE WHEN kind IN ('college', 'dpo', 'university')
                THEN jsonb_build_object('number', 'Л035-01277-63/' || j, 'valid_until', NULL) END,
            'ownership', CASE WHEN kind IN ('school', 'kindergarten', 'additional') THEN 'municipal' ELSE 'regional' END,
            'closed_on', NULL)::text, kind
     FROM (SELECT j, '20000000-0000-4000-8000-' || lpad(to_hex(j), 12, '0') AS o,
                  '10000000-0000-4000-8000-' || lpad(to_hex((j - 1) % 60 + 1), 12, '0') AS t,
                  CASE WHEN j % 20 < 10 THEN 'school' WHEN j % 20 < 16 THEN 'kindergarten'
                       WHEN j % 20 < 18 THEN 'additional' WHEN j % 20 = 18 THEN 'college'
                       WHEN j % 40 = 19 THEN 'dpo' ELSE 'university' END AS kind
           FROM generate_series(1, 10000) j) s",
    // 1 000 000 persons; two in three have a profile with a diploma and the start of experience.
    "INSERT INTO kadry_persons (id, email_key, snils, doc, subject, birth_year, education, experience_since, pending_since)
     SELECT p, email, NULL, jsonb_build_object('id', p,
            'full_name', (ARRAY['Иванова Мария Петровна', 'Петров Сергей Иванович', 'Смирнова Анна Викторовна',
                                'Кузнецов Олег Николаевич'])[i % 4 + 1],
            'email', email, 'email_confirmed', true, 'snils', NULL, 'subject', subject, 'birth_year', birth_year,
            'consent_at', '2024-01-15T09:00:00Z', 'pending_change', NULL, 'registered_at', '2024-01-15T09:00:00Z',
            'profile', CASE WHEN education IS NOT NULL THEN jsonb_build_object(
                'education', jsonb_build_object('level', education, 'surname', 'Иванова', 'number', lpad(i::text, 7, '0')),
                'experience_since', experience_since) ELSE '{}'::jsonb END)::text,
            subject, birth_year, education, experience_since, NULL
     FROM (SELECT i, '30000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0') AS p,
                  'w' || i || '@bench.kadry.invalid' AS email,
                  CASE WHEN i % 10 < 6 THEN (ARRAY['математика', 'русский язык', 'история', 'физика', 'биология',
                       'английский язык'])[i % 6 + 1] END AS subject,
                  1960 + i % 40 AS birth_year,
                  CASE i % 3 WHEN 1 THEN 'higher' WHEN 2 THEN 'secondary_vocational' END AS education,
                  CASE WHEN i % 3 <> 0 THEN (1982 + i % 40 + i % 5) || '-09-01' END AS experience_since
           FROM generate_series(1, 1000000) i) s",
    // Employments: every person's main workplace (100 per organisation), a second workplace for
    // one in 25, an earlier dismissed one for one in 40, a pending claim for one in 500.
    "INSERT INTO kadry_employments (id, person, org, status, doc, position, pedagogical, category)
     SELECT e, p, o, status, jsonb_build_object('id', e, 'person', p, 'org', o, 'position', position,
            'pedagogical', position <> 'other', 'status', status, 'since', since, 'until', until,
            'category', category)::text, position, position <> 'other', category
     FROM (SELECT i, status, since, until, category,
                  prefix || lpad(to_hex(i), 12, '0') AS e,
                  '30000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0') AS p,
                  '20000000-0000-4000-8000-' || lpad(to_hex(j), 12, '0') AS o,
                  CASE WHEN kind = 'second' THEN CASE WHEN i % 50 = 0 THEN 'teacher' ELSE 'tutor' END
                       WHEN r < 70 OR r BETWEEN 84 AND 94 THEN CASE WHEN j % 20 BETWEEN 10 AND 15 THEN 'educator' ELSE 'teacher' END
                       WHEN r = 70 THEN 'head' WHEN r <= 73 THEN 'deputy_head' WHEN r <= 76 THEN 'psychologist'
                       WHEN r <= 78 THEN 'speech_therapist' WHEN r <= 80 THEN 'tutor' WHEN r <= 83 THEN 'methodist'
                       ELSE 'other' END AS position
           FROM (SELECT i, 'main' AS kind, '40000000-0000-4000-8000-' AS prefix, (i - 1) % 10000 + 1 AS j,
                        (i - 1) / 10000 AS r, 'active' AS status, '2016-09-01' AS since, NULL AS until,
                        (ARRAY['highest', 'first', 'conformity', NULL, NULL, 'first', 'methodologist', NULL, 'mentor',
                               NULL])[i % 10 + 1] AS category
                 FROM generate_series(1, 1000000) i
                 UNION ALL
                 SELECT i, 'second', '41000000-0000-4000-8000-', (i - 1 + 60) % 10000 + 1, 0, 'active', '2020-09-01',
                        NULL, NULL
                 FROM generate_series(25, 1000000, 25) i
                 UNION ALL
                 SELECT i, 'dismissed', '42000000-0000-4000-8000-', (i - 1 + 1234) % 10000 + 1, (i - 1) / 10000,
                        'dismissed', '2010-09-01', '2016-08-31', NULL
                 FROM generate_series(7, 1000000, 40) i
                 UNION ALL
                 SELECT i, 'pending', '43000000-0000-4000-8000-', (i - 1 + 4321) % 10000 + 1, (i - 1) / 10000,
                        'pending', '2026-08-25', NULL, NULL
                 FROM generate_series(3, 1000000, 500) i) g) s",
    // Training records: 0–6 per person (3 on average) over ten years before the report's day;
    // one in eight entered from a document (outside the region's funding, always passed), the
    // rest from groups of the 250 ДПО providers, a fifth of them failed (a statement instead of
    // a certificate). Certificate and statement numbers are unique per provider and year.
    "INSERT INTO kadry_trainings (person, provider, cert_year, cert_number, passed, completed_on, doc, hours, funding,
                                  stmt_year, stmt_number)
     SELECT p, provider, CASE WHEN passed AND provider IS NOT NULL THEN y END, cert, passed, d, jsonb_build_object(
            'person', p, 'group', NULL, 'program', NULL, 'program_title', 'Программа повышения квалификации № ' || prog,
            'provider', provider, 'hours', hours, 'completed_on', d, 'passed', passed,
            'certificate', CASE WHEN cert IS NOT NULL THEN jsonb_build_object('series', 'Л035-01277-63/' || pj,
                'number', cert, 'issued_on', d, 'code', upper(lpad(to_hex(n), 10, '0'))) END)
            || CASE WHEN provider IS NULL THEN jsonb_build_object('source', 'external', 'document', 'ПК ' || n,
                   'provider_name', 'ФГАОУ ДПО «Академия Минпросвещения России»')
               WHEN NOT passed THEN jsonb_build_object('statement', jsonb_build_object('number', stmt, 'issued_on', d),
                   'funding', funding, 'started_on', (d::date - 11)::text)
               ELSE jsonb_build_object('funding', funding, 'started_on', (d::date - 11)::text) END,
            hours, CASE WHEN provider IS NOT NULL THEN funding END,
            CASE WHEN stmt IS NOT NULL THEN y END, stmt
     FROM (SELECT p, n, d, y, pj, prog, hours, funding, passed,
                  CASE WHEN external THEN NULL ELSE '20000000-0000-4000-8000-' || lpad(to_hex(pj), 12, '0') END AS provider,
                  CASE WHEN passed AND NOT external THEN y || '-' || lpad(n::text, 8, '0') END AS cert,
                  CASE WHEN NOT passed THEN 'С-' || y || '-' || lpad(n::text, 8, '0') END AS stmt
           FROM (SELECT p, n, d, substr(d, 1, 4)::int AS y, external, 40 * ((h / 3 + j) % 250) + 19 AS pj,
                        (h / 17 + j) % 400 AS prog, (ARRAY[16, 24, 36, 72, 108, 144])[(h / 11 + j) % 6 + 1] AS hours,
                        (ARRAY['state', 'voucher', 'paid', 'state'])[(h / 19 + j) % 4 + 1] AS funding,
                        external OR (h / 49 + j) % 5 <> 0 AS passed
                 FROM (SELECT p, h, j, i * 8 + j AS n, ((h / 13 + j) % 8 = 0) AS external,
                              (date '2016-09-01' + ((h / 7 + j * 1009) % 3647)::int)::text AS d
                       FROM (SELECT i, '30000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0') AS p,
                                    (i * 2654435761) % 4294967296 AS h
                             FROM generate_series(1::bigint, 1000000) i) x
                       CROSS JOIN LATERAL generate_series(1, (h % 7)::int) j) y) z) w",
    // Each worker's last passed day, as `Change::AddTraining` keeps it (migration 0009).
    "INSERT INTO kadry_training_summary (person, last_passed)
     SELECT person, MAX(completed_on) FROM kadry_trainings WHERE passed GROUP BY person",
    "INSERT INTO bench_reports_marker (marker) VALUES ($1)",
];

/// Creates the bench's database if absent and opens kadry's store on it (which migrates).
async fn open_store(url: &str) -> PgStore {
    let admin_options = PgConnectOptions::from_str(url).expect("database url");
    let admin = PgPoolOptions::new().max_connections(1).connect_with(admin_options.clone()).await.expect("postgres");
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(DATABASE)
        .fetch_optional(&admin)
        .await
        .expect("pg_database");
    if exists.is_none() {
        sqlx::raw_sql("CREATE DATABASE kadry_bench_reports").execute(&admin).await.expect("create the bench database");
    }
    admin.close().await;
    // Two connections: one for the timed statements, one spare.
    PgStore::connect_with(admin_options.database(DATABASE), 2).await.expect("kadry's store")
}

/// Loads the region unless the marker says it is there; then vacuums and analyses.
async fn load(pool: &PgPool) {
    let have: Option<(String,)> =
        sqlx::query_as("SELECT marker FROM bench_reports_marker").fetch_optional(pool).await.unwrap_or(None);
    if have.as_ref().is_some_and(|(m,)| m == MARKER) {
        eprintln!("reports: the region is loaded already ({MARKER})");
        return;
    }
    eprintln!("reports: loading {WORKERS} workers (a few minutes) …");
    let start = Instant::now();
    let mut tx = pool.begin().await.expect("begin");
    // The rows are valid by construction: skip the per-row foreign-key triggers of the load.
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.expect("replica role");
    sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *tx).await.expect("work_mem");
    for (i, sql) in LOAD.iter().enumerate() {
        let step = Instant::now();
        let q = sqlx::query(*sql);
        let q = if sql.contains("$1") { q.bind(MARKER) } else { q };
        let r = q.execute(&mut *tx).await.unwrap_or_else(|e| panic!("load step {i}: {e}"));
        eprintln!("reports:   step {i}: {} rows in {:.1} s", r.rows_affected(), step.elapsed().as_secs_f64());
    }
    tx.commit().await.expect("commit the load");
    let step = Instant::now();
    sqlx::raw_sql(
        "VACUUM ANALYZE kadry_territories, kadry_orgs, kadry_persons, kadry_employments, kadry_trainings, \
         kadry_training_summary, kadry_vouchers, kadry_enrollments",
    )
    .execute(pool)
    .await
    .expect("vacuum analyze");
    eprintln!(
        "reports: loaded in {:.0} s (vacuum and analyse {:.0} s)",
        start.elapsed().as_secs_f64(),
        step.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------------
// The two contenders
// ---------------------------------------------------------------------------------------------

/// The report as a DBA would write it by hand on the same schema: each worker's last passed
/// day from the summary kept on write (migration 0009) and the hours within the cycle, joined to
/// the active employments and their organisations, grouped. `$1` is the cycle's first day
/// (R-V11).
const BASELINE_SQL: &str = "\
WITH hours AS (
    SELECT person, SUM(hours) AS hours FROM kadry_trainings WHERE passed AND completed_on >= $1 GROUP BY person)
SELECT o.territory, e.position,
       CASE WHEN s.last_passed IS NULL THEN 'never' WHEN s.last_passed >= $1 THEN 'trained' ELSE 'overdue' END,
       COUNT(DISTINCT e.person), CAST(COALESCE(SUM(h.hours), 0) AS BIGINT)
FROM kadry_employments e
JOIN kadry_orgs o ON o.id = e.org
LEFT JOIN kadry_training_summary s ON s.person = e.person
LEFT JOIN hours h ON h.person = e.person
WHERE e.status = 'active'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3";

async fn kadry_slice(store: &PgStore, spec: &SliceSpec) -> Vec<SliceRow> {
    let mut tx = store.read().await.expect("a read transaction");
    let rows = tx.slice(spec).await.expect("kadry's slice");
    tx.commit().await.expect("end the transaction");
    rows
}

/// The baseline with the same session setting kadry gives its reports (JIT off, see
/// docs/performance.md), in a transaction of its own.
async fn baseline_slice(pool: &PgPool, spec: &SliceSpec) -> Vec<SliceRow> {
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SET LOCAL jit = off").execute(&mut *tx).await.expect("jit off");
    let rows: Vec<(String, String, String, i64, i64)> =
        sqlx::query_as(BASELINE_SQL).bind(spec.cutoff.to_string()).fetch_all(&mut *tx).await.expect("the baseline");
    tx.commit().await.expect("end the transaction");
    rows.into_iter()
        .map(|(t, p, s, w, h)| SliceRow { key: vec![t, p, s], workers: w as u64, hours: h as u64 })
        .collect()
}

/// Both answer the same rows, every training status is well populated, and the documents are
/// what kadry reads: for a few organisations, the in-memory aggregate over `staff_rows` (which
/// decodes every document) equals the pushed-down slice (which reads the columns).
async fn check(store: &PgStore, spec: &SliceSpec) {
    let mut ours = kadry_slice(store, spec).await;
    let mut theirs = baseline_slice(store.pool(), spec).await;
    ours.sort_by(|a, b| a.key.cmp(&b.key));
    theirs.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(ours.len(), theirs.len(), "kadry and the baseline disagree on the groups");
    assert_eq!(ours, theirs, "kadry and the baseline disagree");
    let total = |status: &str| ours.iter().filter(|r| r.key[2] == status).map(|r| r.workers).sum::<u64>();
    let (trained, overdue, never) = (total("trained"), total("overdue"), total("never"));
    eprintln!(
        "reports: {} groups; workers by status (a worker with two workplaces counts in each group): \
         trained {trained}, overdue {overdue}, never {never}; hours {}",
        ours.len(),
        ours.iter().map(|r| r.hours).sum::<u64>()
    );
    for (status, n) in [("trained", trained), ("overdue", overdue), ("never", never)] {
        assert!(n > 50_000, "too few workers {status}: {n}");
    }
    // The summary holds exactly each worker's last passed day as the records fold to it.
    let (differ,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT person, MAX(completed_on) AS last_passed FROM kadry_trainings \
         WHERE passed GROUP BY person) f FULL JOIN kadry_training_summary s ON s.person = f.person \
         WHERE s.last_passed IS DISTINCT FROM f.last_passed",
    )
    .fetch_one(store.pool())
    .await
    .expect("compare the summary with the records");
    assert_eq!(differ, 0, "the summary disagrees with the records for {differ} workers");
    let mut tx = store.read().await.expect("a read transaction");
    assert_eq!(tx.territories().await.expect("territories").len(), 60);
    assert_eq!(tx.orgs().await.expect("organisations").len(), 10_000);
    for j in [1_u32, 12, 19, 59, 4_321, 9_999] {
        let org = OrgId(uuid::Uuid::parse_str(&format!("20000000-0000-4000-8000-{j:012x}")).expect("an id"));
        let spec = SliceSpec { scope: Scope::Organisation(org), ..spec.clone() };
        let rows = tx.staff_rows(spec.scope).await.expect("staff rows decode");
        assert!(rows.len() >= 100, "organisation {j}: {} rows", rows.len());
        assert_eq!(aggregate(&rows, &spec), tx.slice(&spec).await.expect("slice"), "organisation {j}");
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
    let rt: Runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let url = database_url();
    let spec = spec(Scope::Region);
    let store = rt.block_on(async {
        let store = open_store(&url).await;
        load(store.pool()).await;
        check(&store, &spec).await;
        store
    });
    let pool = store.pool().clone();
    let mut group = c.benchmark_group("reports/postgres");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.warm_up_time(Duration::from_secs(3)).measurement_time(Duration::from_secs(60));
    group.bench_function("kadry territory×position×training_status 1M", |b| {
        b.iter(|| rt.block_on(kadry_slice(&store, &spec)));
    });
    group.bench_function("baseline territory×position×training_status 1M", |b| {
        b.iter(|| rt.block_on(baseline_slice(&pool, &spec)));
    });
    group.finish();
    rt.block_on(pool.close());
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
