//! Storage benchmark: enrolment throughput and latency on each store, beside a hand-written
//! SQL baseline on the same database.
//!
//! The region: each store gets a region from the synthetic generator (`kadry::generate`, seed
//! 2025, Samara's rules), 50 000 workers by default (`KADRY_BENCH_REGION` sets another size):
//! territories, organisations of every kind, providers with programs, and ten years of every
//! worker's history (trainings, completed enrolments, vouchers), which the rules read on each
//! enrolment. Its generation is part of the set-up and its time is printed (`region …`).
//!
//! The workload ("enrolment"): a generated worker's organisation responsible enrols them
//! (a pedagogical worker of a school, kindergarten, college or additional education) into a
//! state-funded group with plenty of capacity, through `Service::execute(Command::Enroll)`.
//! Each measurement enrols N workers split across K concurrent tokio tasks (K = 1, 8, 64) on a
//! multi-thread runtime; criterion's `iter_custom` times the whole batch, so one "iteration"
//! is one enrolment and criterion's throughput is enrolments per second.
//!
//! Set-up stays outside the timed region: every batch gets fresh groups opened by one
//! provider's curator, each client its own (at most [`GROUP_FILL`] enrolments each, capacity
//! [`GROUP_CAPACITY`]), and workers come in a fixed shuffled order from a rotating pool: a
//! worker enrols again only after every other worker has, and never twice in one batch. On
//! SQLite the WAL is checkpointed after set-up, before the timer starts.
//!
//! The baseline does the same durable work in one minimal transaction on plain tables
//! (`BEGIN; UPDATE groups SET taken = taken + 1 WHERE id = $1 AND taken < capacity; INSERT
//! INTO enrollments …; COMMIT`, `BEGIN IMMEDIATE` on SQLite) in the bench's own PostgreSQL
//! schema, or in the bench's SQLite file, with the same pool settings as kadry's store. A second
//! baseline, `baseline+audit`, adds the audit row every committed command writes (R-A11).
//!
//! After each store's criterion group, a separate timed loop (not criterion) records every
//! request's latency and prints p50/p99 per store × concurrency, with the CPU time this
//! process and the machine's `postgres` processes spent per enrolment meanwhile.
//!
//! Run: `cargo bench --bench storage --all-features`. PostgreSQL comes from
//! `KADRY_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`); the bench
//! uses the schemas `kadry_bench_store` and `kadry_bench_baseline`, recreated on each run and
//! dropped at the end. `KADRY_BENCH_STORES` (e.g. `postgres`) limits the run to some stores.

use std::collections::VecDeque;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use kadry::adapters::{PgStore, SqliteStore};
use kadry::core::command::Command;
use kadry::core::ids::*;
use kadry::core::model::*;
use kadry::core::ports::{ManualClock, Store};
use kadry::generate;
use kadry::{Actor, MemoryStore, RandomIds, RegionPolicy, Service};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

/// Concurrent clients per measurement.
const CLIENTS: [usize; 3] = [1, 8, 64];
/// Enrolments per fresh group.
const GROUP_FILL: usize = 250;
/// A group's capacity: plenty, never reached.
const GROUP_CAPACITY: u32 = 1_000;
/// kadry's SQLite pool size for a file (as `SqliteStore::open`).
const SQLITE_POOL: u32 = 8;
/// kadry's PostgreSQL pool size (as `PgStore::open_in_schema`).
const PG_POOL: u32 = 32;

const STORE_SCHEMA: &str = "kadry_bench_store";
const BASELINE_SCHEMA: &str = "kadry_bench_baseline";

fn database_url() -> String {
    std::env::var("KADRY_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Criterion's warm-up and measurement time per benchmark of a store (flat sampling, 10
/// samples): long enough that each sample gives every client several requests.
fn timing(store: &str) -> (Duration, Duration) {
    match store {
        "memory" => (Duration::from_millis(500), Duration::from_secs(2)),
        _ => (Duration::from_secs(1), Duration::from_secs(8)),
    }
}

/// Whether to run `store` at all: `KADRY_BENCH_STORES` (comma-separated, e.g. `postgres`)
/// picks stores; unset runs all three. Criterion's own filter only skips its measurements, not
/// a store's set-up and latency loop.
fn wanted(store: &str) -> bool {
    std::env::var("KADRY_BENCH_STORES").map_or(true, |v| v.split(',').any(|s| s.trim() == store))
}

/// Requests per (store, clients) in the latency loop; `KADRY_BENCH_LATENCY_N` overrides.
fn latency_requests(store: &str) -> usize {
    if let Some(n) = std::env::var("KADRY_BENCH_LATENCY_N").ok().and_then(|v| v.parse().ok()) {
        return n;
    }
    match store {
        "memory" => 20_000,
        _ => 2_000,
    }
}

// ---------------------------------------------------------------------------------------------
// kadry: a generated Samara region over any store
// ---------------------------------------------------------------------------------------------

/// The generated region's workers: `KADRY_BENCH_REGION` (at least 2 000), else 50 000
/// (Samara's size, the generator's default).
fn region_workers() -> usize {
    std::env::var("KADRY_BENCH_REGION")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n >= 2_000)
        .unwrap_or(generate::DEFAULT_WORKERS)
}

/// One enrolment to make.
#[derive(Clone, Copy)]
struct Job {
    resp: PersonId,
    worker: PersonId,
    group: GroupId,
}

/// A worker who may be enrolled, with the responsible of their organisation.
struct PooledWorker {
    id: PersonId,
    resp: PersonId,
}

/// A region from the synthetic generator (`kadry::generate`, seed 2025): territories,
/// organisations of every kind, providers and programs, and ten years of each worker's history
/// (trainings, enrolments, vouchers), which the rules read on every enrolment. The bench's own
/// groups are opened on demand by one municipal-eligible provider's curator.
struct World {
    service: Service,
    curator: PersonId,
    program: ProgramId,
    workers: Mutex<VecDeque<PooledWorker>>,
    groups_opened: AtomicUsize,
    /// For a SQLite store: its file, to checkpoint the WAL after set-up.
    sqlite: Option<SqlitePool>,
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

async fn created(service: &Service, actor: PersonId, c: Command) -> uuid::Uuid {
    service.execute(Actor::Person(actor), c).await.expect("set-up command").created().expect("an id")
}

impl World {
    async fn build(name: &str, store: Arc<dyn Store>, sqlite: Option<SqlitePool>) -> Arc<World> {
        let spec = generate::Spec::new(region_workers(), 2025);
        let started = Instant::now();
        let region = generate::generate(&*store, &spec).await.expect("the generated region");
        println!(
            "region   {name:<8} {} workers, {} changes generated in {:.1} s",
            spec.workers,
            region.counts.changes,
            started.elapsed().as_secs_f64()
        );
        // Noon of the region's "today" in Samara: the bench's groups start months later.
        let noon = spec.today.and_hms_opt(12, 0, 0).expect("noon");
        let now = chrono_tz::Europe::Samara.from_local_datetime(&noon).unwrap().with_timezone(&Utc);
        let service = Service::new(RegionPolicy::samara(), store, Arc::new(ManualClock::new(now)), Arc::new(RandomIds));
        // A provider any school may use (R-P4: not private) and its first program; the
        // generated programs are open to every position, kind of organisation and subject.
        let (pi, provider) = region.providers.iter().enumerate().find(|(_, p)| !p.private).expect("a public provider");
        let program = region.programs.iter().find(|p| p.provider == pi).expect("a program").id;
        // Pedagogical workers of schools, kindergartens, colleges and additional education,
        // enrolled by their organisation's responsible; in a fixed shuffled order, so that
        // consecutive enrolments come from different organisations.
        let mut pool: Vec<PooledWorker> = region
            .workers
            .iter()
            .filter_map(|w| {
                let org = &region.orgs[w.org as usize];
                (w.pedagogical && org.kind != OrgKind::Other && !org.provider && w.id != org.responsible)
                    .then_some(PooledWorker { id: w.id, resp: org.responsible })
            })
            .collect();
        fastrand::Rng::with_seed(7).shuffle(&mut pool);
        Arc::new(World {
            service,
            curator: provider.curator,
            program,
            workers: Mutex::new(pool.into()),
            groups_opened: AtomicUsize::new(0),
            sqlite,
        })
    }

    async fn open_group(&self) -> GroupId {
        // Spread the groups over the autumn; all start after the clock's date.
        let n = self.groups_opened.fetch_add(1, Ordering::Relaxed);
        let starts = day(2025, 9, 1) + chrono::Days::new((n % 60) as u64);
        GroupId(
            created(
                &self.service,
                self.curator,
                Command::OpenGroup {
                    program: self.program,
                    starts,
                    ends: starts + chrono::Days::new(11),
                    place: "Тольятти".into(),
                    capacity: GROUP_CAPACITY,
                    funding: Funding::State,
                },
            )
            .await,
        )
    }

    /// `n` enrolments for one measurement across `clients`: distinct workers, fresh groups.
    /// Workers rotate: one enrols again only after every other worker of the pool has.
    async fn jobs(self: &Arc<Self>, n: usize, clients: usize) -> Vec<Job> {
        let picked: Vec<(PersonId, PersonId)> = {
            let mut pool = self.workers.lock().await;
            assert!(n <= pool.len(), "a batch of {n} needs more workers than the region's {}", pool.len());
            pool.rotate_left(n);
            pool.iter().rev().take(n).map(|w| (w.id, w.resp)).collect()
        };
        let (slots, count) = group_slots(n, clients);
        let mut groups = Vec::with_capacity(count);
        for _ in 0..count {
            groups.push(self.open_group().await);
        }
        picked.into_iter().zip(slots).map(|((worker, resp), g)| Job { resp, worker, group: groups[g] }).collect()
    }
}

async fn kadry_enrol(service: Service, job: Job) {
    let cmd = Command::Enroll { worker: job.worker, group: job.group };
    if let Err(e) = service.execute(Actor::Person(job.resp), cmd).await {
        panic!("enrolment refused: {} ({e})", e.code());
    }
}

// ---------------------------------------------------------------------------------------------
// The hand-written SQL baseline
// ---------------------------------------------------------------------------------------------

/// One baseline enrolment: a group id and a person id (the enrolment id is made per request).
#[derive(Clone)]
struct RawJob {
    group: Arc<str>,
    person: Arc<str>,
}

#[derive(Clone)]
enum Baseline {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

const BASELINE_DDL: [&str; 3] = [
    "CREATE TABLE groups (id TEXT PRIMARY KEY, capacity BIGINT NOT NULL, taken BIGINT NOT NULL DEFAULT 0, \
     CHECK (taken >= 0 AND taken <= capacity))",
    "CREATE TABLE enrollments (id TEXT PRIMARY KEY, grp TEXT NOT NULL REFERENCES groups (id), \
     person TEXT NOT NULL, status TEXT NOT NULL, enrolled_at BIGINT NOT NULL)",
    "CREATE INDEX enrollments_person ON enrollments (person)",
];

/// The audit table of the second baseline ("baseline+audit"): one row per committed command,
/// who, when, what and about whom, with a sequence key as kadry's has (per dialect).
const BASELINE_AUDIT_DDL_SQLITE: &str = "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT)";
const BASELINE_AUDIT_DDL_PG: &str = "CREATE TABLE audit (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at BIGINT NOT NULL, \
     actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT)";

impl Baseline {
    async fn sqlite(path: &std::path::Path) -> Baseline {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_POOL)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .expect("baseline sqlite");
        for ddl in BASELINE_DDL.into_iter().chain([BASELINE_AUDIT_DDL_SQLITE]) {
            sqlx::query(ddl).execute(&pool).await.expect("baseline schema");
        }
        Baseline::Sqlite(pool)
    }

    async fn postgres(url: &str) -> Baseline {
        let options = PgConnectOptions::from_str(url).expect("database url");
        let admin = PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await.expect("postgres");
        let ddl = format!("DROP SCHEMA IF EXISTS {BASELINE_SCHEMA} CASCADE; CREATE SCHEMA {BASELINE_SCHEMA}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl)).execute(&admin).await.expect("baseline schema");
        admin.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(PG_POOL)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.options([("search_path", BASELINE_SCHEMA)]))
            .await
            .expect("baseline postgres");
        for ddl in BASELINE_DDL.into_iter().chain([BASELINE_AUDIT_DDL_PG]) {
            sqlx::query(ddl).execute(&pool).await.expect("baseline schema");
        }
        Baseline::Pg(pool)
    }

    /// `n` enrolments across `clients`: fresh groups as for kadry, a fresh person id each.
    async fn jobs(&self, n: usize, clients: usize) -> Vec<RawJob> {
        let (slots, count) = group_slots(n, clients);
        let mut groups: Vec<Arc<str>> = Vec::with_capacity(count);
        for _ in 0..count {
            let id: Arc<str> = uuid::Uuid::new_v4().to_string().into();
            let sql = "INSERT INTO groups (id, capacity, taken) VALUES ($1, $2, 0)";
            let cap = i64::from(GROUP_CAPACITY);
            match self {
                Baseline::Sqlite(p) => sqlx::query(sql).bind(&*id).bind(cap).execute(p).await.map(drop),
                Baseline::Pg(p) => sqlx::query(sql).bind(&*id).bind(cap).execute(p).await.map(drop),
            }
            .expect("baseline group");
            groups.push(id);
        }
        slots
            .into_iter()
            .map(|g| RawJob { group: groups[g].clone(), person: uuid::Uuid::new_v4().to_string().into() })
            .collect()
    }

    /// The durable work of one enrolment, in one transaction; with `audit`, also the audit row
    /// kadry writes for every committed command (R-A11).
    async fn enrol(self, job: RawJob, audit: bool) {
        const TAKE: &str = "UPDATE groups SET taken = taken + 1 WHERE id = $1 AND taken < capacity";
        const PUT: &str =
            "INSERT INTO enrollments (id, grp, person, status, enrolled_at) VALUES ($1, $2, $3, 'enrolled', $4)";
        const AUDIT: &str = "INSERT INTO audit (at, actor, action, subject) VALUES ($1, $2, 'enroll', $3)";
        let id = uuid::Uuid::new_v4().to_string();
        let at = Utc::now().timestamp_micros();
        macro_rules! work {
            ($tx:expr) => {{
                let n = sqlx::query(TAKE).bind(&*job.group).execute(&mut *$tx).await.expect("take seat");
                assert_eq!(n.rows_affected(), 1, "group full");
                sqlx::query(PUT)
                    .bind(id)
                    .bind(&*job.group)
                    .bind(&*job.person)
                    .bind(at)
                    .execute(&mut *$tx)
                    .await
                    .expect("insert");
                if audit {
                    sqlx::query(AUDIT)
                        .bind(at)
                        .bind(&*job.group)
                        .bind(&*job.person)
                        .execute(&mut *$tx)
                        .await
                        .expect("audit");
                }
            }};
        }
        match self {
            Baseline::Sqlite(pool) => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
                work!(tx);
                tx.commit().await.expect("commit");
            }
            Baseline::Pg(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                work!(tx);
                tx.commit().await.expect("commit");
            }
        }
    }

    async fn close(&self) {
        match self {
            Baseline::Sqlite(p) => p.close().await,
            Baseline::Pg(p) => p.close().await,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running a batch across K clients
// ---------------------------------------------------------------------------------------------

/// The client (task) that runs job `i` of `n`: contiguous slices, as even as can be.
fn client_of(i: usize, n: usize, clients: usize) -> usize {
    i * clients / n.max(1)
}

/// The group of each of `n` jobs, and how many groups: every client enrols into groups of its
/// own, a fresh one per `GROUP_FILL` of its jobs, so no two clients ever queue for one group's
/// row (a hot group would serialise kadry and the baseline alike on that row's lock).
fn group_slots(n: usize, clients: usize) -> (Vec<usize>, usize) {
    let mut slots = Vec::with_capacity(n);
    let mut count = 0;
    let mut offset = 0;
    for i in 0..n {
        if i == 0 || client_of(i, n, clients) != client_of(i - 1, n, clients) {
            offset = 0;
        }
        if offset % GROUP_FILL == 0 {
            count += 1;
        }
        slots.push(count - 1);
        offset += 1;
    }
    (slots, count)
}

/// Splits `jobs` into `clients` contiguous slices, one task each, and runs them at once.
/// Returns the wall time of the whole batch and, if `record`, every request's latency and the
/// CPU seconds used meanwhile (this process, postgres processes).
async fn run_batch<J, F, Fut>(jobs: Vec<J>, clients: usize, record: bool, enrol: F) -> Batch
where
    J: Send + 'static,
    F: Fn(J) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let n = jobs.len();
    let mut slices: Vec<Vec<J>> = (0..clients).map(|_| Vec::with_capacity(n / clients + 1)).collect();
    for (i, j) in jobs.into_iter().enumerate() {
        slices[client_of(i, n, clients)].push(j);
    }
    let cpu = record.then(Cpu::now);
    let start = Instant::now();
    let tasks: Vec<_> = slices
        .into_iter()
        .map(|slice| {
            let enrol = enrol.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(if record { slice.len() } else { 0 });
                for j in slice {
                    let t = Instant::now();
                    enrol(j).await;
                    if record {
                        lat.push(t.elapsed());
                    }
                }
                lat
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(if record { n } else { 0 });
    for t in tasks {
        latencies.extend(t.await.expect("a client task"));
    }
    let wall = start.elapsed();
    Batch { wall, latencies, cpu: cpu.map(|c| c.since()).unwrap_or_default() }
}

/// A batch's result.
struct Batch {
    wall: Duration,
    latencies: Vec<Duration>,
    cpu: (f64, f64),
}

/// SQLite: folds the WAL into the database file, so that the set-up's writes are not
/// checkpointed inside the timed region.
async fn checkpoint(pool: &SqlitePool) {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_all(pool).await.expect("checkpoint");
}

async fn kadry_batch(world: &Arc<World>, n: usize, clients: usize, record: bool) -> Batch {
    let jobs = world.jobs(n, clients).await;
    if let Some(pool) = &world.sqlite {
        checkpoint(pool).await;
    }
    let service = world.service.clone();
    run_batch(jobs, clients, record, move |j| kadry_enrol(service.clone(), j)).await
}

async fn baseline_batch(base: &Baseline, n: usize, clients: usize, record: bool, audit: bool) -> Batch {
    let jobs = base.jobs(n, clients).await;
    if let Baseline::Sqlite(pool) = base {
        checkpoint(pool).await;
    }
    let base = base.clone();
    run_batch(jobs, clients, record, move |j| base.clone().enrol(j, audit)).await
}

// ---------------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU time (clock ticks) used so far by this process and by all `postgres` processes on the
/// machine (read from `/proc`; zero where unavailable). The latter includes other sessions.
struct Cpu {
    bench: u64,
    postgres: u64,
}

/// utime + stime of a `/proc/<pid>/stat` line, and the process's command name.
fn proc_ticks(stat: &str) -> Option<(&str, u64)> {
    let (head, tail) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1;
    let fields: Vec<&str> = tail.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

impl Cpu {
    fn now() -> Cpu {
        let bench =
            std::fs::read_to_string("/proc/self/stat").ok().and_then(|s| proc_ticks(&s).map(|(_, t)| t)).unwrap_or(0);
        let mut postgres = 0;
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat"))
                    && let Some(("postgres", t)) = proc_ticks(&stat)
                {
                    postgres += t;
                }
            }
        }
        Cpu { bench, postgres }
    }

    /// Seconds of CPU used since `self`: (this process, postgres processes).
    fn since(&self) -> (f64, f64) {
        let now = Cpu::now();
        // Linux reports these in USER_HZ, 100 per second on every mainstream platform.
        let secs = |a: u64, b: u64| a.saturating_sub(b) as f64 / 100.0;
        (secs(now.bench, self.bench), secs(now.postgres, self.postgres))
    }
}

fn report_latency(store: &str, system: &str, clients: usize, batch: Batch) {
    let Batch { wall, latencies: mut lat, cpu: (cpu_bench, cpu_pg) } = batch;
    lat.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let n = lat.len().max(1) as f64;
    println!(
        "latency  {store:<8} {system:<8} clients={clients:<3} n={:<6} p50={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms  \
         {:>7.0} enrolments/s  cpu/enrolment: bench {:>6.0} us, postgres {:>6.0} us",
        lat.len(),
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 99.0)),
        ms(lat.last().copied().unwrap_or_default()),
        lat.len() as f64 / wall.as_secs_f64(),
        cpu_bench * 1e6 / n,
        cpu_pg * 1e6 / n,
    );
}

/// The baselines measured beside kadry: the minimal transaction (seat and enrolment),
/// and the same with the audit row every committed command also writes (R-A11).
const BASELINES: [(&str, bool); 2] = [("baseline", false), ("baseline+audit", true)];

/// One store: criterion's throughput for kadry (and the baseline, if any) at each concurrency,
/// then the latency loop.
fn bench_store(c: &mut Criterion, rt: &Runtime, store: &str, world: &Arc<World>, base: Option<&Baseline>) {
    let mut group = c.benchmark_group(format!("enrol/{store}"));
    let (warm_up, measurement) = timing(store);
    group.throughput(Throughput::Elements(1)).sampling_mode(SamplingMode::Flat);
    group.warm_up_time(warm_up).measurement_time(measurement);
    for clients in CLIENTS {
        group.bench_with_input(BenchmarkId::new("kadry", clients), &clients, |b, &k| {
            b.iter_custom(|iters| rt.block_on(kadry_batch(world, iters as usize, k, false)).wall);
        });
        if let Some(base) = base {
            for (name, audit) in BASELINES {
                group.bench_with_input(BenchmarkId::new(name, clients), &clients, |b, &k| {
                    b.iter_custom(|iters| rt.block_on(baseline_batch(base, iters as usize, k, false, audit)).wall);
                });
            }
        }
    }
    group.finish();
    let n = latency_requests(store);
    for clients in CLIENTS {
        report_latency(store, "kadry", clients, rt.block_on(kadry_batch(world, n, clients, true)));
        if let Some(base) = base {
            for (name, audit) in BASELINES {
                report_latency(store, name, clients, rt.block_on(baseline_batch(base, n, clients, true, audit)));
            }
        }
    }
}

fn storage(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");

    if wanted("memory") {
        let world = rt.block_on(World::build("memory", Arc::new(MemoryStore::new()), None));
        bench_store(c, &rt, "memory", &world, None);
    }
    if wanted("sqlite") {
        sqlite(c, &rt);
    }
    if wanted("postgres") {
        postgres(c, &rt);
    }
}

/// SQLite: a temporary file; the baseline's tables live in the same file.
fn sqlite(c: &mut Criterion, rt: &Runtime) {
    let dir = std::env::temp_dir().join(format!("kadry-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let path = dir.join("kadry.db");
    let (world, base, pool) = rt.block_on(async {
        let store = SqliteStore::open(path.to_str().expect("a utf-8 path")).await.expect("sqlite store");
        let pool = store.pool().clone();
        let world = World::build("sqlite", Arc::new(store), Some(pool.clone())).await;
        sqlx::raw_sql("ANALYZE").execute(&pool).await.expect("analyze");
        (world, Baseline::sqlite(&path).await, pool)
    });
    bench_store(c, rt, "sqlite", &world, Some(&base));
    rt.block_on(async {
        base.close().await;
        pool.close().await;
    });
    drop(world);
    let _ = std::fs::remove_dir_all(&dir);
}

/// PostgreSQL: kadry in its own schema, the baseline in another, same server.
fn postgres(c: &mut Criterion, rt: &Runtime) {
    let url = database_url();
    let (world, base, pool) = rt.block_on(async {
        let store = PgStore::recreate_schema(&url, STORE_SCHEMA).await.expect("postgres store");
        let pool = store.pool().clone();
        let world = World::build("postgres", Arc::new(store), None).await;
        vacuum_analyze(&pool).await;
        (world, Baseline::postgres(&url).await, pool)
    });
    bench_store(c, rt, "postgres", &world, Some(&base));
    rt.block_on(async {
        base.close().await;
        pool.close().await;
        drop_schemas(&url).await;
    });
}

/// After the region's load, as a host does after a bulk load: vacuums and analyses kadry's
/// tables, so that the planner knows their sizes and autovacuum does not start on them in the
/// middle of a measurement.
async fn vacuum_analyze(pool: &PgPool) {
    let started = Instant::now();
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
            .fetch_all(pool)
            .await
            .expect("kadry's tables");
    let list: Vec<String> = tables.into_iter().map(|(t,)| format!("\"{t}\"")).collect();
    let sql = format!("VACUUM (ANALYZE) {}", list.join(", "));
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await.expect("vacuum analyze");
    println!("region   postgres vacuumed and analysed in {:.1} s", started.elapsed().as_secs_f64());
}

/// Leaves the database as found: drops the bench's two schemas.
async fn drop_schemas(url: &str) {
    let options = PgConnectOptions::from_str(url).expect("database url");
    let admin = PgPoolOptions::new().max_connections(1).connect_with(options).await.expect("postgres");
    let ddl = format!("DROP SCHEMA IF EXISTS {STORE_SCHEMA} CASCADE; DROP SCHEMA IF EXISTS {BASELINE_SCHEMA} CASCADE");
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl)).execute(&admin).await.expect("drop the bench schemas");
    admin.close().await;
}

fn config() -> Criterion {
    Criterion::default().sample_size(10).configure_from_args()
}

criterion_group! {
    name = benches;
    config = config();
    targets = storage
}
criterion_main!(benches);
