//! Reports benchmark (R-R1, issue 6 item 9; R-W3 stage 1, issue 7): a report in any slice grouped
//! by territory × position × training status, and the eligibility selection for the next year,
//! over a region of 1 000 000 workers (or `KADRY_BENCH_WORKERS`, e.g. 2 700 000 for all of
//! Russia) on PostgreSQL, each beside the hand-written SQL a DBA would write for it, on the same
//! database in the same run.
//!
//! Set-up (outside the timed region): the bench uses its own database, `kadry_bench_reports`
//! (`kadry_bench_reports_N` for another size; created if absent), migrates it through
//! `PgStore::open`, and bulk-loads a deterministic region with set-based SQL (`INSERT … SELECT …
//! FROM generate_series`). Per 1 000 000 workers: 60 territories, 10 000 organisations of six
//! kinds, 1 000 000 persons with an active employment each (about 95 % pedagogical, 1 in 50 on
//! parental leave), 40 000 second workplaces, 25 000 dismissed and 2 000 pending employments,
//! and about 3 000 000 training records over ten years (a fifth of them failures, an eighth
//! entered from documents outside the region's funding). The staff facts (migration 0010) are
//! then built by `PgStore::rebuild_staff_facts`, as a host does after a bulk load. Every row's `doc` is the JSON kadry's own
//! readers decode, consistent with the columns beside it; the set-up checks that on a sample
//! (the documents decode, and for a few organisations `report::aggregate` over
//! `Tx::staff_rows` equals `Tx::slice`). The load is skipped when the database already holds
//! the generator's marker, so re-runs start at once; after a load the tables are vacuumed and
//! analysed. The load sets `session_replication_role = replica` to skip the per-row foreign-key
//! triggers, so the URL's role must be a superuser (`postgres` on the development machine).
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
//! the national size; its load takes about 20 minutes once). PostgreSQL comes from
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
use kadry::core::planning::{Eligible, due_if_last_passed_by, eligible};
use kadry::core::ports::Store;
use kadry::core::report::{Dimension, SliceRow, SliceSpec, aggregate};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::runtime::Runtime;

/// Persons, each with one active employment: `KADRY_BENCH_WORKERS`, else 1 000 000.
fn workers() -> i64 {
    std::env::var("KADRY_BENCH_WORKERS").ok().and_then(|v| v.parse().ok()).filter(|n| *n >= 10_000).unwrap_or(1_000_000)
}

/// The bench's own database for a size.
fn database(workers: i64) -> String {
    if workers == 1_000_000 { "kadry_bench_reports".into() } else { format!("kadry_bench_reports_{workers}") }
}

/// What the generator wrote; a database holding another marker (or none) is reloaded.
fn marker(workers: i64) -> String {
    format!("reports v3: {workers} workers, staff facts")
}

fn database_url() -> String {
    std::env::var("KADRY_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("KADRY_TEST_DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The day the report is for: every generated training ended before it.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).expect("a date")
}

/// The year the eligibility selection is for: the one after the report's day.
const YEAR: i32 = 2027;

/// The report: the whole region by territory × position × training status.
fn spec(scope: Scope) -> SliceSpec {
    let group_by = vec![Dimension::Territory, Dimension::Position, Dimension::TrainingStatus];
    SliceSpec::new(&RegionPolicy::samara(), scope, group_by, Vec::new(), today()).expect("a valid slice")
}

// ---------------------------------------------------------------------------------------------
// The generated region
// ---------------------------------------------------------------------------------------------

/// Ids are UUIDs with a prefix per entity and the row's number in the last group. Sizes are
/// written for 1 000 000 workers and scaled by [`load_sql`].
const LOAD: [&str; 8] = [
    "CREATE TABLE IF NOT EXISTS bench_reports_marker (marker TEXT PRIMARY KEY)",
    "TRUNCATE kadry_territories, kadry_orgs, kadry_persons, kadry_employments, kadry_trainings, \
     kadry_staff_facts, bench_reports_marker CASCADE",
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
    "INSERT INTO kadry_employments (id, person, org, status, doc, position, pedagogical, category, parental_leave)
     SELECT e, p, o, status, (jsonb_build_object('id', e, 'person', p, 'org', o, 'position', position,
            'pedagogical', position <> 'other', 'status', status, 'since', since, 'until', until,
            'category', category) || CASE WHEN leave THEN '{\"parental_leave\": true}'::jsonb ELSE '{}'::jsonb END)::text,
            position, position <> 'other', category, leave
     FROM (SELECT i, status, since, until, category, kind = 'main' AND i % 50 = 7 AS leave,
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
    "INSERT INTO bench_reports_marker (marker) VALUES ($1)",
];

/// [`LOAD`] for `workers`: persons and their rows scale, with 100 workers an organisation and
/// 60 territories a million.
fn load_sql(workers: i64) -> Vec<String> {
    let orgs = workers / 100;
    let territories = (workers * 60 / 1_000_000).max(60);
    LOAD.iter()
        .map(|sql| {
            // Only the series' bounds: the ids' prefixes hold the same digits.
            sql.replace(", 1000000)", &format!(", {workers})"))
                .replace(", 1000000,", &format!(", {workers},"))
                .replace("% 10000", &format!("% {orgs}"))
                .replace("/ 10000", &format!("/ {orgs}"))
                .replace("generate_series(1, 10000)", &format!("generate_series(1, {orgs})"))
                .replace("% 60", &format!("% {territories}"))
                .replace("generate_series(1, 60)", &format!("generate_series(1, {territories})"))
        })
        .collect()
}

/// Creates the bench's database if absent and opens kadry's store on it (which migrates).
async fn open_store(url: &str, workers: i64) -> PgStore {
    let database = database(workers);
    let admin_options = PgConnectOptions::from_str(url).expect("database url");
    let admin = PgPoolOptions::new().max_connections(1).connect_with(admin_options.clone()).await.expect("postgres");
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&database)
        .fetch_optional(&admin)
        .await
        .expect("pg_database");
    if exists.is_none() {
        // The name is the bench's own (letters, digits and `_`).
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&admin)
            .await
            .expect("create the bench database");
    }
    admin.close().await;
    // Two connections: one for the timed statements, one spare.
    PgStore::connect_with(admin_options.database(&database), 2).await.expect("kadry's store")
}

/// Loads the region unless the marker says it is there, builds the staff facts, then vacuums
/// and analyses.
async fn load(store: &PgStore, workers: i64) {
    let pool = store.pool();
    let marker = marker(workers);
    let have: Option<(String,)> =
        sqlx::query_as("SELECT marker FROM bench_reports_marker").fetch_optional(pool).await.unwrap_or(None);
    if have.as_ref().is_some_and(|(m,)| *m == marker) {
        eprintln!("reports: the region is loaded already ({marker})");
        return;
    }
    eprintln!("reports: loading {workers} workers (a few minutes a million) …");
    let start = Instant::now();
    let mut tx = pool.begin().await.expect("begin");
    // The rows are valid by construction: skip the per-row foreign-key triggers of the load.
    sqlx::query("SET LOCAL session_replication_role = replica").execute(&mut *tx).await.expect("replica role");
    sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *tx).await.expect("work_mem");
    for (i, sql) in load_sql(workers).into_iter().enumerate() {
        let step = Instant::now();
        let bind = sql.contains("$1");
        let q = sqlx::query(sqlx::AssertSqlSafe(sql));
        let q = if bind { q.bind(marker.clone()) } else { q };
        let r = q.execute(&mut *tx).await.unwrap_or_else(|e| panic!("load step {i}: {e}"));
        eprintln!("reports:   step {i}: {} rows in {:.1} s", r.rows_affected(), step.elapsed().as_secs_f64());
    }
    tx.commit().await.expect("commit the load");
    let step = Instant::now();
    // Statistics first: the facts' statement is planned from them.
    sqlx::raw_sql("ANALYZE kadry_orgs, kadry_persons, kadry_employments, kadry_trainings")
        .execute(pool)
        .await
        .expect("analyse");
    let facts = store.rebuild_staff_facts().await.expect("the staff facts");
    eprintln!("reports:   staff facts: {facts} rows in {:.1} s", step.elapsed().as_secs_f64());
    let step = Instant::now();
    sqlx::raw_sql(
        "VACUUM ANALYZE kadry_territories, kadry_orgs, kadry_persons, kadry_employments, kadry_trainings, \
         kadry_staff_facts, kadry_vouchers, kadry_enrollments",
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
    let rows = tx.eligible(scope, &RegionPolicy::samara(), YEAR).await.expect("kadry's selection");
    tx.commit().await.expect("end the transaction");
    rows
}

type EligibleRow = (String, String, String, String, Option<String>);

async fn baseline_eligible(pool: &PgPool) -> Vec<EligibleRow> {
    let by = due_if_last_passed_by(&RegionPolicy::samara(), YEAR).to_string();
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
async fn check(store: &PgStore, spec: &SliceSpec, workers: i64) {
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
        assert!(n > 50_000, "too few workers {status}: {n}");
    }
    let selected = kadry_eligible(store, Scope::Region).await;
    let by_hand = baseline_eligible(store.pool()).await;
    assert_eq!(selected.len(), by_hand.len(), "kadry and the baseline select different numbers of workers");
    assert!(
        selected.iter().zip(&by_hand).all(|(a, b)| a.person.to_string() == b.0 && a.org.to_string() == b.1),
        "kadry and the baseline select different workers"
    );
    eprintln!("reports: {} workers due in {YEAR}", selected.len());
    let mut tx = store.read().await.expect("a read transaction");
    let territories = (workers * 60 / 1_000_000).max(60);
    assert_eq!(tx.territories().await.expect("territories").len() as i64, territories);
    assert_eq!(tx.orgs().await.expect("organisations").len() as i64, workers / 100);
    for j in [1_u32, 12, 19, 59, 4_321, 9_999] {
        let org = OrgId(uuid::Uuid::parse_str(&format!("20000000-0000-4000-8000-{j:012x}")).expect("an id"));
        let spec = SliceSpec { scope: Scope::Organisation(org), ..spec.clone() };
        let rows = tx.staff_rows(spec.scope).await.expect("staff rows decode");
        assert!(rows.len() >= 100, "organisation {j}: {} rows", rows.len());
        assert_eq!(aggregate(&rows, &spec), tx.slice(&spec).await.expect("slice"), "organisation {j}");
        let policy = RegionPolicy::samara();
        let due = tx.eligible(spec.scope, &policy, YEAR).await.expect("eligible");
        assert_eq!(due, eligible(&policy, &rows, YEAR), "organisation {j}: the selection");
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
    let workers = workers();
    let spec = spec(Scope::Region);
    let store = rt.block_on(async {
        let store = open_store(&url, workers).await;
        load(&store, workers).await;
        check(&store, &spec, workers).await;
        store
    });
    let pool = store.pool().clone();
    let size = if workers % 1_000_000 == 0 { format!("{}M", workers / 1_000_000) } else { format!("{workers}") };
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
    group.bench_function(format!("kadry eligibility {YEAR} {size}"), |b| {
        b.iter(|| rt.block_on(kadry_eligible(&store, Scope::Region)));
    });
    group.bench_function(format!("baseline eligibility {YEAR} {size}"), |b| {
        b.iter(|| rt.block_on(baseline_eligible(&pool)));
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
