//! The load test (docs/load.md): N concurrent clients against the example server or directly
//! against a store, over a generated region (`kadry::generate`) of any of the three regions
//! (`--region`), doing what that region's users do through the real commands: in Samara,
//! enrolments into scarce groups, voucher requests and approvals, transfers (with the new
//! workplace's confirmation) and reports; in Yugra, applications for next year's planned
//! training in the open window instead of vouchers; in Tatarstan, after a set-up that runs the
//! year's cycle to stage 6 (norm, limit, quota numbers issued), applications with the worker's
//! number, temporary refusals with the number reassigned, and the operator forming groups.
//! Bounded in time and requests; loopback only. At the end it reads the whole database back and
//! checks every invariant (`kadry::generate::check_invariants`: no group above capacity and
//! `taken` equal to the seated enrolments, no two vouchers within the interval, one account per
//! email and SNILS, one current workplace, applications once and inside their window, quota
//! numbers held once and within the year's issue, funding within its limits), that every
//! request answered with a success is in the database, and that every notification in the
//! outbox was delivered exactly once after the relay ran. It prints, per kind of request, the
//! count, the successes, the refusals by code, the throughput and latency percentiles.
//!
//! ```sh
//! cargo build --release --all-features --examples
//! target/release/examples/load --target store:memory --clients 64 --seconds 20
//! target/release/examples/load --target store:sqlite:/tmp/load.db --workers 2000
//! target/release/examples/load --target store:postgres:postgres://postgres@127.0.0.1:5432/test --schema kadry_load
//! target/release/examples/load --target server --server-bin target/release/examples/server --storage sqlite:/tmp/srv.db
//! target/release/examples/load --target server --storage sqlite:/tmp/kill.db --seconds 30 --kill-after 10
//! target/release/examples/load --region tatarstan --target server --storage sqlite:/tmp/tatarstan.db
//! ```
//!
//! Flags: `--target store:memory|store:sqlite:PATH|store:postgres:URL|server`; `--region
//! samara|yugra|tatarstan` (default samara: the region generated, the service's policy and the
//! server's `--region`); for `server`:
//! `--server-bin PATH` (default `target/release/examples/server`), `--storage
//! sqlite:PATH|postgres:URL` (default a SQLite file in a temporary directory) or `--url URL`
//! (a server already running over the same region and `--region`: no set-up beyond the
//! planning cycle's, no database checks unless `--storage` names its database, no delivery
//! checks); `--schema NAME` (PostgreSQL: the schema, recreated; default `kadry_load`);
//! `--clients N` (64), `--seconds S` (20), `--max-requests N` (no bound), `--workers N`
//! (2 000), `--seed S` (1), `--mix enrol=45,voucher=20,apply=0,quota=0,transfer=10,report=25`
//! (percentages of operations; each region has its own default, `voucher` is Samara's only and
//! `quota` Tatarstan's only), `--kill-after S`
//! (server only: SIGKILL the server after S seconds of load, restart it on the same database,
//! go on until `--seconds`, then check); `--seats MIN-MAX` (seats of each recruiting group,
//! default 8-25: scarce; large groups make most enrolments succeed). Exits 0 when every check passes, 1 on any invariant
//! violation, lost success, 5xx, transport or internal error, 2 on a bad flag.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::TimeZone as _;
use hdrhistogram::Histogram;
use kadry::adapters::relay::{Relay, RelaySettings};
use kadry::core::command::{Command, Query};
use kadry::core::ids::{GroupId, NotificationId, OrgId, PersonId, ProgramId};
use kadry::core::model::{Audience, Role};
use kadry::core::model::{EmploymentStatus, Funding, Notification, NotificationKind, VoucherStatus};
use kadry::core::planning::{ExpertiseStage, MemberVote, StudyForm, Vote};
use kadry::core::ports::Notifier;
use kadry::core::types::Email;
use kadry::core::{Outcome, QueryResult, Region};
use kadry::generate::{Generated, PASSWORD, Spec, check_deliveries, check_invariants, generate};
use kadry::{Actor, Metric, RandomIds, RegionPolicy, ScopeRef, Service, ShiftedClock};
use tokio::io::{AsyncBufReadExt, BufReader};

const USAGE: &str = "usage: load --target store:memory|store:sqlite:PATH|store:postgres:URL|server \
    [--region samara|yugra|tatarstan] [--server-bin PATH] [--storage sqlite:PATH|postgres:URL] [--url URL] \
    [--schema NAME] [--clients N] [--seconds S] [--max-requests N] [--workers N] [--seed S] \
    [--mix enrol=45,voucher=20,apply=0,quota=0,transfer=10,report=25] [--kill-after S] [--seats MIN-MAX]";

/// The operations `--mix` draws from, in this order.
const OPS: [&str; 6] = ["enrol", "voucher", "apply", "quota", "transfer", "report"];

/// A mix: the percentage of each of [`OPS`].
type Mix = [u32; 6];

/// What each region's users do (docs/load.md): Samara enrols, asks for vouchers, transfers and
/// reads reports; Yugra applies for next year's planned training in the open window instead of
/// asking for vouchers; Tatarstan applies with its quota numbers and refuses and reassigns them.
fn default_mix(region: Region) -> Mix {
    match region {
        Region::Samara => [45, 20, 0, 0, 10, 25],
        Region::Yugra => [30, 0, 35, 0, 10, 25],
        Region::Tatarstan => [20, 0, 30, 15, 10, 25],
    }
}

/// Seconds between two runs of the operator's forming of groups (Tatarstan, R-W4): one client
/// forms, so two runs never overlap, as one operator's would not.
const FORM_EVERY: Duration = Duration::from_secs(2);

/// The financing norm per worker the load's Tatarstan cycle sets (R-F1), in roubles.
const NORM: usize = 12_000;

/// The relay's batch: at most one batch may be redelivered after a SIGKILL (delivered, not
/// yet marked delivered when the process died).
const RELAY_BATCH: usize = 50;

// ---------------------------------------------------------------------------------------------
// Flags

#[derive(Debug, Clone, PartialEq)]
enum Target {
    Store(String),
    Server,
}

#[derive(Debug, Clone)]
struct Args {
    target: Target,
    server_bin: PathBuf,
    storage: Option<String>,
    url: Option<String>,
    schema: String,
    clients: usize,
    seconds: f64,
    max_requests: u64,
    workers: usize,
    seed: u64,
    region: Region,
    mix: Option<Mix>,
    kill_after: Option<f64>,
    seats: (u32, u32),
}

fn parse_mix(text: &str) -> Result<Mix, String> {
    let mut mix = [0u32; 6];
    for part in text.split(',') {
        let (name, value) = part.split_once('=').ok_or_else(|| format!("--mix: {part:?} is not name=percent"))?;
        let v: u32 = value.parse().map_err(|e| format!("--mix {name}: {e}"))?;
        let slot = OPS
            .iter()
            .position(|o| *o == name)
            .ok_or_else(|| format!("--mix: unknown operation {name} ({})", OPS.join(", ")))?;
        mix[slot] = v;
    }
    if mix.iter().sum::<u32>() != 100 {
        return Err("--mix: the percentages must add up to 100".into());
    }
    Ok(mix)
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        target: Target::Store("memory".into()),
        server_bin: PathBuf::from("target/release/examples/server"),
        storage: None,
        url: None,
        schema: "kadry_load".into(),
        clients: 64,
        seconds: 20.0,
        max_requests: u64::MAX,
        workers: 2_000,
        seed: 1,
        region: Region::Samara,
        mix: None,
        kill_after: None,
        seats: (8, 25),
    };
    let mut it = std::env::args().skip(1);
    let num = |name: &str, v: String| v.parse::<f64>().map_err(|e| format!("{name}: {e}"));
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--target" => {
                let v = value("--target")?;
                a.target = match v.as_str() {
                    "server" => Target::Server,
                    s => match s.strip_prefix("store:") {
                        Some(spec) if !spec.is_empty() => Target::Store(spec.to_string()),
                        _ => return Err(format!("--target: unknown target {v}")),
                    },
                }
            }
            "--server-bin" => a.server_bin = PathBuf::from(value("--server-bin")?),
            "--storage" => a.storage = Some(value("--storage")?),
            "--url" => a.url = Some(value("--url")?.trim_end_matches('/').to_string()),
            "--schema" => a.schema = value("--schema")?,
            "--clients" => a.clients = value("--clients")?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--seconds" => a.seconds = num("--seconds", value("--seconds")?)?,
            "--max-requests" => {
                a.max_requests = value("--max-requests")?.parse().map_err(|e| format!("--max-requests: {e}"))?
            }
            "--workers" => a.workers = value("--workers")?.parse().map_err(|e| format!("--workers: {e}"))?,
            "--seed" => a.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--mix" => a.mix = Some(parse_mix(&value("--mix")?)?),
            "--region" => {
                let v = value("--region")?;
                a.region = RegionPolicy::preset(&v)
                    .map(|p| p.region)
                    .ok_or_else(|| format!("--region: unknown region {v} (samara, yugra, tatarstan)"))?;
            }
            "--seats" => a.seats = kadry::generate::Spec::parse_seats(&value("--seats")?)?,
            "--kill-after" => a.kill_after = Some(num("--kill-after", value("--kill-after")?)?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let mix = a.mix.unwrap_or_else(|| default_mix(a.region));
    if mix[1] > 0 && a.region != Region::Samara {
        return Err(format!("--mix voucher: {} has no vouchers", a.region.as_str()));
    }
    if mix[3] > 0 && a.region != Region::Tatarstan {
        return Err(format!("--mix quota: {} has no quota numbers", a.region.as_str()));
    }
    a.mix = Some(mix);
    if !(1..=4096).contains(&a.clients) {
        return Err("--clients must be 1 to 4096".into());
    }
    if !(a.seconds > 0.0 && a.seconds <= 86_400.0) {
        return Err("--seconds must be above 0 and at most 86400".into());
    }
    let range = kadry::generate::MIN_WORKERS..=kadry::generate::MAX_WORKERS;
    if !range.contains(&a.workers) {
        return Err(format!("--workers must be {} to {}", range.start(), range.end()));
    }
    if let Some(k) = a.kill_after {
        if a.target != Target::Server || a.url.is_some() {
            return Err("--kill-after needs --target server without --url".into());
        }
        if !(k > 0.0 && k < a.seconds) {
            return Err("--kill-after must lie between 0 and --seconds".into());
        }
    }
    if let Target::Store(_) = a.target
        && (a.url.is_some() || a.storage.is_some())
    {
        return Err("--url and --storage are for --target server".into());
    }
    if let Some(s) = &a.storage
        && !(s.starts_with("sqlite:") || s.starts_with("postgres:"))
    {
        return Err("--storage takes sqlite:PATH or postgres:URL".into());
    }
    if let Some(u) = &a.url
        && !(u.starts_with("http://127.") || u.starts_with("http://localhost") || u.starts_with("http://[::1]"))
    {
        return Err("--url must be a loopback http:// address".into());
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------------
// Operations and their outcomes

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Enrol,
    VoucherRequest,
    VoucherApprove,
    Apply,
    QuotaShow,
    QuotaRefuse,
    QuotaReassign,
    Form,
    Transfer,
    ConfirmWorkplace,
    Report,
    Setup,
    Login,
}

impl Kind {
    const ALL: [Kind; 13] = [
        Kind::Enrol,
        Kind::VoucherRequest,
        Kind::VoucherApprove,
        Kind::Apply,
        Kind::QuotaShow,
        Kind::QuotaRefuse,
        Kind::QuotaReassign,
        Kind::Form,
        Kind::Transfer,
        Kind::ConfirmWorkplace,
        Kind::Report,
        Kind::Setup,
        Kind::Login,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Enrol => "enrol",
            Kind::VoucherRequest => "voucher.request",
            Kind::VoucherApprove => "voucher.approve",
            Kind::Apply => "apply",
            Kind::QuotaShow => "quota.show",
            Kind::QuotaRefuse => "quota.refuse",
            Kind::QuotaReassign => "quota.reassign",
            Kind::Form => "form_groups",
            Kind::Transfer => "transfer",
            Kind::ConfirmWorkplace => "workplace.confirm",
            Kind::Report => "report",
            Kind::Setup => "setup",
            Kind::Login => "login",
        }
    }
}

/// A step of the planning cycle's set-up before the load (Tatarstan, R-W3: the operator moves
/// the cycle to stage 6; workers answer the questionnaire; the ministry sets the norm and the
/// limit; providers submit programs, the expert council reviews them and votes, the ministry
/// approves the registry; the operator issues numbers).
#[derive(Debug, Clone)]
enum Step {
    ShowCycle,
    Advance,
    GrantExpert(PersonId),
    Questionnaire(PersonId),
    Norm(String),
    Limit(String),
    Submit(OrgId, String),
    Review(ProgramId, ExpertiseStage),
    Protocol(ProgramId, Vec<PersonId>),
    ApproveRegistry,
    IssueQuotas,
}

/// The questionnaire's answer (R-W3 stage 1): directions, topics and forms of study.
fn preferences() -> (Vec<String>, Vec<String>, Vec<StudyForm>) {
    (
        vec!["Функциональная грамотность".into()],
        vec!["Формирующее оценивание".into(), "Цифровая образовательная среда".into()],
        vec![StudyForm::Blended],
    )
}

/// The order the load's experts are appointed by.
const EXPERT_BASIS: &str = "приказ № 77 от 10.02.2025 «О составе Экспертного совета»";

#[derive(Debug, Clone)]
enum Op {
    Enrol {
        actor: PersonId,
        worker: PersonId,
        group: GroupId,
    },
    VoucherRequest {
        actor: PersonId,
        worker: PersonId,
    },
    VoucherApprove {
        actor: PersonId,
        worker: PersonId,
    },
    /// R-W2/R-W3: an application for next year's planned training (`plan_training`).
    Apply {
        actor: PersonId,
        worker: PersonId,
        program: ProgramId,
        year: i32,
        quota: Option<String>,
    },
    QuotaShow {
        actor: PersonId,
        worker: PersonId,
        year: i32,
    },
    QuotaRefuse {
        actor: PersonId,
        worker: PersonId,
        year: i32,
    },
    QuotaReassign {
        actor: PersonId,
        number: String,
        to: PersonId,
    },
    Form {
        actor: PersonId,
        year: i32,
    },
    Transfer {
        actor: PersonId,
        worker: PersonId,
        to: OrgId,
    },
    ConfirmWorkplace {
        actor: PersonId,
        worker: PersonId,
    },
    Report {
        actor: PersonId,
        metric: Metric,
        scope: Option<ScopeRef>,
    },
    /// R-W3 stage 1: the summary of the questionnaire's answers (counted as a report).
    Preferences {
        actor: PersonId,
        year: i32,
    },
    Setup {
        actor: PersonId,
        year: i32,
        step: Step,
    },
}

impl Op {
    fn kind(&self) -> Kind {
        match self {
            Op::Enrol { .. } => Kind::Enrol,
            Op::VoucherRequest { .. } => Kind::VoucherRequest,
            Op::VoucherApprove { .. } => Kind::VoucherApprove,
            Op::Apply { .. } => Kind::Apply,
            Op::QuotaShow { .. } => Kind::QuotaShow,
            Op::QuotaRefuse { .. } => Kind::QuotaRefuse,
            Op::QuotaReassign { .. } => Kind::QuotaReassign,
            Op::Form { .. } => Kind::Form,
            Op::Transfer { .. } => Kind::Transfer,
            Op::ConfirmWorkplace { .. } => Kind::ConfirmWorkplace,
            Op::Report { .. } | Op::Preferences { .. } => Kind::Report,
            Op::Setup { .. } => Kind::Setup,
        }
    }

    fn actor(&self) -> PersonId {
        match self {
            Op::Enrol { actor, .. }
            | Op::VoucherRequest { actor, .. }
            | Op::VoucherApprove { actor, .. }
            | Op::Apply { actor, .. }
            | Op::QuotaShow { actor, .. }
            | Op::QuotaRefuse { actor, .. }
            | Op::QuotaReassign { actor, .. }
            | Op::Form { actor, .. }
            | Op::Transfer { actor, .. }
            | Op::ConfirmWorkplace { actor, .. }
            | Op::Report { actor, .. }
            | Op::Preferences { actor, .. }
            | Op::Setup { actor, .. } => *actor,
        }
    }

    /// The command it runs, or `None` for a query.
    fn command(&self) -> Option<Command> {
        Some(match self.clone() {
            Op::Enrol { worker, group, .. } => Command::Enroll { worker, group },
            Op::VoucherRequest { worker, .. } => Command::RequestVoucher { worker },
            Op::VoucherApprove { worker, .. } => Command::ApproveVoucher { worker },
            Op::Apply { worker, program, year, quota, .. } => {
                Command::PlanTraining { worker, program, year, place: None, period: None, quota }
            }
            Op::QuotaRefuse { worker, year, .. } => Command::RefuseQuota { worker, year },
            Op::QuotaReassign { number, to, .. } => Command::ReassignQuota { number, to },
            Op::Form { year, .. } => Command::FormGroups { year },
            Op::Transfer { worker, to, .. } => Command::Transfer { person: worker, to },
            Op::ConfirmWorkplace { worker, .. } => Command::ConfirmWorkplace { person: worker },
            Op::Setup { year, step, .. } => match step {
                Step::Advance => Command::AdvanceStage { year },
                Step::GrantExpert(person) => {
                    Command::GrantRole { person, role: Role::Expert, scope: None, basis: EXPERT_BASIS.into() }
                }
                Step::Questionnaire(worker) => {
                    let (directions, topics, forms) = preferences();
                    Command::AnswerQuestionnaire { worker, year, directions, topics, forms }
                }
                Step::Submit(provider, title) => Command::SubmitProgram {
                    provider,
                    title,
                    hours: 36,
                    annotation: Some("Программа для реестра планового повышения квалификации".into()),
                    positions: Audience::All,
                    profile_for: Audience::All,
                    org_kinds: Audience::All,
                    subjects: Audience::All,
                    year: Some(year),
                    direction: Some("Функциональная грамотность".into()),
                    min_group: None,
                    max_group: None,
                    places: None,
                    form: None,
                },
                Step::Review(program, stage) => Command::ReviewProgram {
                    program,
                    stage,
                    passed: true,
                    conclusion: "Соответствует требованиям".into(),
                },
                Step::Protocol(program, members) => Command::RecordProtocol {
                    program,
                    number: format!("ЭС-{year}-1"),
                    votes: members.into_iter().map(|member| MemberVote { member, vote: Vote::For }).collect(),
                },
                Step::ApproveRegistry => Command::ApproveRegistry { year },
                Step::Norm(amount) => Command::SetFinancingNorm { year, program: None, amount: amount.parse().ok()? },
                Step::Limit(amount) => {
                    Command::SetFundingLimit { year, source: Funding::State, amount: amount.parse().ok()? }
                }
                Step::IssueQuotas => Command::IssueQuotas { year },
                Step::ShowCycle => return None,
            },
            Op::QuotaShow { .. } | Op::Report { .. } | Op::Preferences { .. } => return None,
        })
    }

    /// The query it asks, or `None` for a command.
    fn query(&self) -> Option<Query> {
        match self.clone() {
            Op::QuotaShow { worker, year, .. } => Some(Query::ShowQuota { worker, year }),
            Op::Report { metric, scope, .. } => Some(Query::Report { metric, scope }),
            Op::Preferences { year, .. } => Some(Query::PreferencesSummary { year }),
            Op::Setup { year, step: Step::ShowCycle, .. } => Some(Query::ShowCycle { year }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Res {
    Ok,
    /// A refusal with a catalogue code: an expected outcome.
    Refused(String),
    /// A 5xx, a transport error, an internal or storage error: a failure.
    Failed(String),
    /// The server was killed while the request was in flight: its outcome is unknown.
    Interrupted,
}

/// What a success left in the database, checked at the end.
#[derive(Debug, Clone)]
enum Success {
    Enrolled {
        worker: PersonId,
        group: GroupId,
    },
    VoucherIssued {
        worker: PersonId,
    },
    Moved {
        worker: PersonId,
        to: OrgId,
    },
    /// An application for `year` (R-W2, R-W3).
    Applied {
        worker: PersonId,
        program: ProgramId,
        year: i32,
    },
    /// A refused number moved to `to` (R-W3).
    Reassigned {
        number: String,
        to: PersonId,
    },
}

/// Per-kind statistics.
struct Stats {
    count: u64,
    ok: u64,
    refused: BTreeMap<String, u64>,
    failed: u64,
    interrupted: u64,
    failures: Vec<String>,
    latency: Histogram<u64>,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            count: 0,
            ok: 0,
            refused: BTreeMap::new(),
            failed: 0,
            interrupted: 0,
            failures: Vec::new(),
            latency: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"),
        }
    }

    fn record(&mut self, res: &Res, took: Duration) {
        self.count += 1;
        match res {
            Res::Ok => self.ok += 1,
            Res::Refused(code) => *self.refused.entry(code.clone()).or_default() += 1,
            Res::Failed(why) => {
                self.failed += 1;
                if self.failures.len() < 5 {
                    self.failures.push(why.clone());
                }
            }
            Res::Interrupted => self.interrupted += 1,
        }
        if *res != Res::Interrupted {
            let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
            self.latency.saturating_record(us);
        }
    }

    fn merge(&mut self, other: &Stats) {
        self.count += other.count;
        self.ok += other.ok;
        self.failed += other.failed;
        self.interrupted += other.interrupted;
        for (k, v) in &other.refused {
            *self.refused.entry(k.clone()).or_default() += v;
        }
        for f in &other.failures {
            if self.failures.len() < 5 {
                self.failures.push(f.clone());
            }
        }
        let _ = self.latency.add(&other.latency);
    }
}

// ---------------------------------------------------------------------------------------------
// Executors: the service in process, or the example server over HTTP

struct Http {
    client: reqwest::Client,
    base: RwLock<String>,
    sessions: Mutex<HashMap<PersonId, String>>,
    emails: HashMap<PersonId, String>,
    killed: AtomicBool,
}

#[derive(Clone)]
enum Exec {
    Service(Service),
    Http(Arc<Http>),
}

fn service_result<T>(r: kadry::Result<T>) -> Res {
    match r {
        Ok(_) => Res::Ok,
        Err(e) => match e.code() {
            c if c.starts_with("storage.") || c == "internal" => Res::Failed(format!("{c}: {e}")),
            c => Res::Refused(c.to_string()),
        },
    }
}

fn metric_path(m: Metric) -> &'static str {
    match m {
        Metric::Staff => "staff",
        Metric::PkOverdue => "pk_overdue",
        Metric::VouchersActive => "vouchers_active",
    }
}

/// A query's answer as JSON, as the server would send it.
fn answer_json(r: &QueryResult) -> Option<serde_json::Value> {
    match r {
        QueryResult::Quota(v) => serde_json::to_value(v).ok(),
        QueryResult::Cycle(v) => serde_json::to_value(v).ok(),
        _ => None,
    }
}

impl Exec {
    async fn run(&self, op: &Op, stats: &mut HashMap<Kind, Stats>) -> Res {
        self.fetch(op, stats).await.0
    }

    /// Runs `op`; for a query, also returns its answer as JSON.
    async fn fetch(&self, op: &Op, stats: &mut HashMap<Kind, Stats>) -> (Res, Option<serde_json::Value>) {
        match self {
            Exec::Service(s) => {
                let start = Instant::now();
                let actor = Actor::Person(op.actor());
                let (res, body) = match (op.command(), op.query()) {
                    (Some(c), _) => {
                        let r = s.execute(actor, c).await;
                        let body = match &r {
                            Ok(Outcome::Created(id)) => Some(serde_json::json!({ "id": id })),
                            _ => None,
                        };
                        (service_result(r), body)
                    }
                    (None, Some(q)) => {
                        let r = s.query(actor, q).await;
                        let body = r.as_ref().ok().and_then(answer_json);
                        (service_result(r), body)
                    }
                    (None, None) => (Res::Failed(format!("{op:?}: not a command or query")), None),
                };
                stats.entry(op.kind()).or_insert_with(Stats::new).record(&res, start.elapsed());
                (res, body)
            }
            Exec::Http(h) => h.run(op, stats).await,
        }
    }
}

impl Http {
    fn base(&self) -> String {
        self.base.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn transport(&self, e: impl std::fmt::Display) -> Res {
        if self.killed.load(Ordering::SeqCst) { Res::Interrupted } else { Res::Failed(format!("transport: {e}")) }
    }

    async fn outcome(&self, r: Result<reqwest::Response, reqwest::Error>) -> Res {
        self.answer(r).await.0
    }

    /// The outcome and, on a success with a JSON body, the body.
    async fn answer(&self, r: Result<reqwest::Response, reqwest::Error>) -> (Res, Option<serde_json::Value>) {
        let resp = match r {
            Ok(r) => r,
            Err(e) => return (self.transport(e), None),
        };
        let status = resp.status();
        if status.is_success() {
            return match resp.bytes().await {
                Ok(b) => (Res::Ok, serde_json::from_slice(&b).ok()),
                Err(e) => (self.transport(e), None),
            };
        }
        (self.refusal(status, resp).await, None)
    }

    async fn refusal(&self, status: reqwest::StatusCode, resp: reqwest::Response) -> Res {
        let body = match resp.text().await {
            Ok(b) => b,
            Err(e) => return self.transport(e),
        };
        let code = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string));
        match code {
            Some(code) if status.is_client_error() => Res::Refused(code),
            _ => Res::Failed(format!("{status}: {}", body.chars().take(200).collect::<String>())),
        }
    }

    async fn session(&self, person: PersonId, stats: &mut HashMap<Kind, Stats>) -> Result<String, Res> {
        if let Some(t) = self.sessions.lock().unwrap_or_else(|e| e.into_inner()).get(&person) {
            return Ok(t.clone());
        }
        let email = self.emails.get(&person).cloned().ok_or_else(|| Res::Failed(format!("no account for {person}")))?;
        let start = Instant::now();
        let body = serde_json::json!({ "email": email, "password": PASSWORD });
        let r = self.client.post(format!("{}/api/v1/auth/login", self.base())).json(&body).send().await;
        let (res, token) = match r {
            Err(e) => (self.transport(e), None),
            Ok(resp) if resp.status().is_success() => match resp.json::<serde_json::Value>().await {
                Ok(v) => match v.get("token").and_then(|t| t.as_str()) {
                    Some(t) => (Res::Ok, Some(t.to_string())),
                    None => (Res::Failed("login: no token".into()), None),
                },
                Err(e) => (self.transport(e), None),
            },
            Ok(resp) => (self.outcome(Ok(resp)).await, None),
        };
        stats.entry(Kind::Login).or_insert_with(Stats::new).record(&res, start.elapsed());
        match token {
            Some(t) => {
                self.sessions.lock().unwrap_or_else(|e| e.into_inner()).insert(person, t.clone());
                Ok(t)
            }
            None => Err(res),
        }
    }

    /// Signs in every one of `persons` before the load, `tasks` at a time, so the measured
    /// window holds no password hashing; returns the logins' statistics.
    async fn warm_up(self: &Arc<Self>, persons: Vec<PersonId>, tasks: usize) -> HashMap<Kind, Stats> {
        let tasks = tasks.clamp(1, persons.len().max(1));
        let mut handles = Vec::with_capacity(tasks);
        for t in 0..tasks {
            let mine: Vec<PersonId> = persons.iter().skip(t).step_by(tasks).copied().collect();
            let h = self.clone();
            handles.push(tokio::spawn(async move {
                let mut stats = HashMap::new();
                for p in mine {
                    let _ = h.session(p, &mut stats).await;
                }
                stats
            }));
        }
        let mut all: HashMap<Kind, Stats> = HashMap::new();
        for h in handles {
            if let Ok(stats) = h.await {
                for (k, s) in stats {
                    all.entry(k).or_insert_with(Stats::new).merge(&s);
                }
            }
        }
        all
    }

    async fn run(&self, op: &Op, stats: &mut HashMap<Kind, Stats>) -> (Res, Option<serde_json::Value>) {
        let token = match self.session(op.actor(), stats).await {
            Ok(t) => t,
            Err(res) => {
                // The operation was not attempted: count it as what stopped it.
                stats.entry(op.kind()).or_insert_with(Stats::new).record(&res, Duration::ZERO);
                return (res, None);
            }
        };
        let base = self.base();
        let c = &self.client;
        let start = Instant::now();
        let req = match op {
            Op::Enrol { worker, group, .. } => c
                .post(format!("{base}/api/v1/groups/{group}/enrollments"))
                .json(&serde_json::json!({ "worker": worker })),
            Op::VoucherRequest { worker, .. } => c.post(format!("{base}/api/v1/persons/{worker}/voucher")),
            Op::VoucherApprove { worker, .. } => c.post(format!("{base}/api/v1/persons/{worker}/voucher/approve")),
            Op::Transfer { worker, to, .. } => {
                c.post(format!("{base}/api/v1/persons/{worker}/transfer")).json(&serde_json::json!({ "to": to }))
            }
            Op::ConfirmWorkplace { worker, .. } => c.post(format!("{base}/api/v1/persons/{worker}/workplace/confirm")),
            Op::Apply { worker, program, year, quota, .. } => c
                .post(format!("{base}/api/v1/persons/{worker}/plans"))
                .json(&serde_json::json!({ "program": program, "year": year, "quota": quota })),
            Op::QuotaShow { worker, year, .. } => c.get(format!("{base}/api/v1/persons/{worker}/quota/{year}")),
            Op::QuotaRefuse { worker, year, .. } => {
                c.post(format!("{base}/api/v1/persons/{worker}/quota/{year}/refuse"))
            }
            Op::QuotaReassign { number, to, .. } => {
                c.post(format!("{base}/api/v1/quotas/{number}/reassign")).json(&serde_json::json!({ "to": to }))
            }
            Op::Form { year, .. } => c.post(format!("{base}/api/v1/planning/{year}/forming")),
            Op::Preferences { year, .. } => c.get(format!("{base}/api/v1/planning/{year}/preferences")),
            Op::Setup { year, step, .. } => match step {
                Step::ShowCycle => c.get(format!("{base}/api/v1/planning/{year}")),
                Step::GrantExpert(person) => c
                    .post(format!("{base}/api/v1/persons/{person}/roles"))
                    .json(&serde_json::json!({ "role": Role::Expert, "basis": EXPERT_BASIS })),
                Step::Questionnaire(worker) => {
                    let (directions, topics, forms) = preferences();
                    c.put(format!("{base}/api/v1/persons/{worker}/questionnaire/{year}"))
                        .json(&serde_json::json!({ "directions": directions, "topics": topics, "forms": forms }))
                }
                Step::Submit(provider, title) => c.post(format!("{base}/api/v1/programs")).json(&serde_json::json!({
                    "provider": provider,
                    "title": title,
                    "hours": 36,
                    "annotation": "Программа для реестра планового повышения квалификации",
                    "positions": ["all"],
                    "profile_for": ["all"],
                    "year": year,
                    "direction": "Функциональная грамотность",
                })),
                Step::Review(program, stage) => c.post(format!("{base}/api/v1/programs/{program}/reviews")).json(
                    &serde_json::json!({ "stage": stage, "passed": true, "conclusion": "Соответствует требованиям" }),
                ),
                Step::Protocol(program, members) => {
                    let votes: Vec<serde_json::Value> =
                        members.iter().map(|m| serde_json::json!({ "member": m, "vote": Vote::For })).collect();
                    c.post(format!("{base}/api/v1/programs/{program}/protocol"))
                        .json(&serde_json::json!({ "number": format!("ЭС-{year}-1"), "votes": votes }))
                }
                Step::ApproveRegistry => c.post(format!("{base}/api/v1/planning/{year}/registry/approve")),
                Step::Advance => c.post(format!("{base}/api/v1/planning/{year}/advance")),
                Step::Norm(amount) => {
                    c.put(format!("{base}/api/v1/planning/{year}/norm")).json(&serde_json::json!({ "amount": amount }))
                }
                Step::Limit(amount) => c
                    .put(format!("{base}/api/v1/planning/{year}/limits/state"))
                    .json(&serde_json::json!({ "amount": amount })),
                Step::IssueQuotas => c.post(format!("{base}/api/v1/planning/{year}/quotas")),
            },
            Op::Report { metric, scope, .. } => {
                let mut url = format!("{base}/api/v1/reports/{}", metric_path(*metric));
                match scope {
                    Some(ScopeRef::Organisation(o)) => url += &format!("?scope_kind=organisation&scope={o}"),
                    Some(ScopeRef::Territory(t)) => url += &format!("?scope_kind=territory&scope={t}"),
                    None => {}
                }
                c.get(url)
            }
        };
        let (res, body) = self.answer(req.bearer_auth(token).send().await).await;
        if matches!(&res, Res::Refused(code) if code == "auth.required") {
            // A session lost (a restarted server): sign in again next time.
            self.sessions.lock().unwrap_or_else(|e| e.into_inner()).remove(&op.actor());
        }
        stats.entry(op.kind()).or_insert_with(Stats::new).record(&res, start.elapsed());
        (res, body)
    }
}

// ---------------------------------------------------------------------------------------------
// Clients

struct Shared {
    region: Generated,
    /// Percentages of each of [`OPS`].
    mix: Mix,
    /// The planning year applications are for: the year after "today".
    year: i32,
    /// Organisations by id.
    org_index: HashMap<OrgId, usize>,
    /// The year's registry (Tatarstan): programs the expert council recommended and the
    /// ministry approved during the set-up.
    registry: Vec<ProgramId>,
    deadline: Instant,
    max_requests: u64,
    issued: AtomicU64,
    stop: AtomicBool,
    /// Organisations a worker may be transferred to.
    destinations: Vec<usize>,
}

struct ClientOut {
    stats: HashMap<Kind, Stats>,
    successes: Vec<Success>,
}

/// One client: its own workers (every `clients`-th one), so a worker's operations run one after
/// another and the client knows where each works.
/// The worker's number for `year` as their responsible sees it (R-W3): the number, its status
/// (`assigned`, `used`, `refused`) and its organisation; `None` when they hold none.
async fn held_number(
    exec: &Exec,
    actor: PersonId,
    worker: PersonId,
    year: i32,
    stats: &mut HashMap<Kind, Stats>,
) -> Option<(String, String, Option<OrgId>)> {
    let (res, body) = exec.fetch(&Op::QuotaShow { actor, worker, year }, stats).await;
    let body = body.filter(|_| res == Res::Ok)?;
    let status = body.get("status")?.as_str()?.to_string();
    if status == "none" {
        return None;
    }
    let number = body.get("number")?.as_str()?.to_string();
    let org = body.get("quota").and_then(|q| q.get("org")).and_then(|o| serde_json::from_value(o.clone()).ok());
    Some((number, status, org))
}

async fn client(
    shared: Arc<Shared>,
    exec: Exec,
    mine: Vec<usize>,
    orgs: &mut HashMap<usize, usize>,
    (seed, first): (u64, bool),
) -> ClientOut {
    let g = &shared.region;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = ClientOut { stats: HashMap::new(), successes: Vec::new() };
    if mine.is_empty() {
        return out;
    }
    // Cumulative bounds of the mix's operations.
    let mut bound = [0u32; 6];
    let mut sum = 0;
    for (i, m) in shared.mix.iter().enumerate() {
        sum += m;
        bound[i] = sum;
    }
    let [enrol, voucher, apply, quota, transfer, _] = bound;
    let year = shared.year;
    let tatarstan = g.spec.region == Region::Tatarstan;
    let mut formed = Instant::now();
    // Tatarstan: this client's workers known to hold no number, or a used one.
    let mut spent: HashSet<usize> = HashSet::new();
    while Instant::now() < shared.deadline && !shared.stop.load(Ordering::Relaxed) {
        if shared.issued.fetch_add(1, Ordering::Relaxed) >= shared.max_requests {
            break;
        }
        // In process, a store's call may finish without ever waiting: yield, so that no client
        // keeps a runtime thread from the others (the operator forming groups, the timers).
        tokio::task::yield_now().await;
        // Tatarstan, R-W4: one client is the operator forming groups from the applications.
        if tatarstan && first && formed.elapsed() >= FORM_EVERY {
            formed = Instant::now();
            exec.run(&Op::Form { actor: g.operator, year }, &mut out.stats).await;
            continue;
        }
        let w = mine[rng.usize(..mine.len())];
        let worker = g.workers[w].id;
        let org = orgs.get(&w).copied().unwrap_or(g.workers[w].org as usize);
        let resp = g.orgs[org].responsible;
        let mut roll = rng.u32(..100);
        if tatarstan && spent.contains(&w) && (voucher..quota).contains(&roll) {
            // Tatarstan: a worker whose number is used, or who holds none, has no application
            // or refusal left to make this year: they enrol instead.
            roll = 0;
        }
        if roll < enrol {
            let group = g.groups[rng.usize(..g.groups.len())].id;
            if exec.run(&Op::Enrol { actor: resp, worker, group }, &mut out.stats).await == Res::Ok {
                out.successes.push(Success::Enrolled { worker, group });
            }
        } else if roll < voucher {
            let r = exec.run(&Op::VoucherRequest { actor: resp, worker }, &mut out.stats).await;
            if matches!(&r, Res::Ok) || matches!(&r, Res::Refused(c) if c == "voucher.pending_exists") {
                let approve = Op::VoucherApprove { actor: g.operator, worker };
                if exec.run(&approve, &mut out.stats).await == Res::Ok {
                    out.successes.push(Success::VoucherIssued { worker });
                }
            }
        } else if roll < apply {
            // The responsible applies for the worker for next year (Yugra: in the window until
            // 15 October; Tatarstan: at stage 6, with the worker's number, looked up first).
            let number = if tatarstan {
                match held_number(&exec, resp, worker, year, &mut out.stats).await {
                    Some((n, status, _)) if status == "assigned" => Some(n),
                    Some((_, status, _)) if status == "refused" => continue,
                    _ => {
                        spent.insert(w);
                        continue;
                    }
                }
            } else {
                None
            };
            // Tatarstan: half the applications go to the year's registry.
            let program = if !shared.registry.is_empty() && rng.bool() {
                shared.registry[rng.usize(..shared.registry.len())]
            } else {
                g.programs[rng.usize(..g.programs.len())].id
            };
            let op = Op::Apply { actor: resp, worker, program, year, quota: number };
            if exec.run(&op, &mut out.stats).await == Res::Ok {
                out.successes.push(Success::Applied { worker, program, year });
            }
        } else if roll < quota {
            // Tatarstan, R-W3: a temporary refusal agreed by the organisation, and the number
            // reassigned by the organisation's operator to another of its workers.
            let Some((number, status, quota_org)) = held_number(&exec, resp, worker, year, &mut out.stats).await else {
                spent.insert(w);
                continue;
            };
            if status == "assigned" {
                let refuse = Op::QuotaRefuse { actor: resp, worker, year };
                if exec.run(&refuse, &mut out.stats).await != Res::Ok {
                    continue;
                }
            } else if status != "refused" {
                spent.insert(w);
                continue;
            }
            let Some(oi) = quota_org.and_then(|o| shared.org_index.get(&o).copied()) else { continue };
            let (from, to) = g.orgs[oi].staff;
            let to = g.workers[from + rng.usize(..to - from)].id;
            let op = Op::QuotaReassign { actor: g.orgs[oi].responsible, number: number.clone(), to };
            if exec.run(&op, &mut out.stats).await == Res::Ok {
                out.successes.push(Success::Reassigned { number, to });
            }
        } else if roll < transfer {
            let to_index = shared.destinations[rng.usize(..shared.destinations.len())];
            if to_index == org {
                continue;
            }
            let to = g.orgs[to_index].id;
            if exec.run(&Op::Transfer { actor: resp, worker, to }, &mut out.stats).await == Res::Ok {
                orgs.insert(w, to_index);
                let confirm = Op::ConfirmWorkplace { actor: g.operator, worker };
                if exec.run(&confirm, &mut out.stats).await == Res::Ok {
                    out.successes.push(Success::Moved { worker, to });
                }
            }
        } else {
            // Vouchers only where the region has them.
            let metrics: &[Metric] = if g.spec.region == Region::Samara {
                &[Metric::Staff, Metric::PkOverdue, Metric::VouchersActive]
            } else {
                &[Metric::Staff, Metric::PkOverdue]
            };
            let metric = metrics[rng.usize(..metrics.len())];
            let op = if tatarstan && rng.u32(..10) == 0 {
                // The ministry reads what the questionnaire asked for (R-W3 stage 1).
                Op::Preferences { actor: g.ministry, year }
            } else if rng.u32(..5) == 0 {
                let t = &g.territories[g.orgs[org].territory];
                Op::Report { actor: t.official, metric, scope: Some(ScopeRef::Territory(t.id)) }
            } else {
                Op::Report { actor: resp, metric, scope: Some(ScopeRef::Organisation(g.orgs[org].id)) }
            };
            exec.run(&op, &mut out.stats).await;
        }
    }
    out
}

/// Runs the clients until the deadline (or the request bound, or a stop); returns what they
/// saw. Each client keeps its workers' organisations across phases in `orgs`.
async fn run_clients(
    shared: &Arc<Shared>,
    exec: &Exec,
    orgs: &mut [HashMap<usize, usize>],
    seed: u64,
) -> Vec<ClientOut> {
    let clients = orgs.len();
    let roles: HashSet<PersonId> = shared.region.accounts.iter().map(|a| a.person).collect();
    // Workers of schools, kindergartens and the like: their organisation's first worker holds
    // `org_responsible` (an administration's holds `territory`, a provider's `provider`).
    let served: HashSet<usize> = shared.destinations.iter().copied().collect();
    let mut handles = Vec::with_capacity(clients);
    for (c, map) in orgs.iter_mut().enumerate() {
        let mine: Vec<usize> = (c..shared.region.workers.len())
            .step_by(clients)
            .filter(|i| {
                let w = &shared.region.workers[*i];
                !roles.contains(&w.id) && served.contains(&(w.org as usize))
            })
            .collect();
        let (shared, exec, mut map) = (shared.clone(), exec.clone(), std::mem::take(map));
        let s = seed ^ ((c as u64 + 1) << 20);
        handles.push(tokio::spawn(async move {
            let out = client(shared, exec, mine, &mut map, (s, c == 0)).await;
            (out, map)
        }));
    }
    let mut outs = Vec::with_capacity(clients);
    for (c, h) in handles.into_iter().enumerate() {
        match h.await {
            Ok((out, map)) => {
                orgs[c] = map;
                outs.push(out);
            }
            Err(e) => {
                let mut stats = HashMap::new();
                let mut s = Stats::new();
                s.record(&Res::Failed(format!("client panicked: {e}")), Duration::ZERO);
                stats.insert(Kind::Enrol, s);
                outs.push(ClientOut { stats, successes: Vec::new() });
            }
        }
    }
    outs
}

// ---------------------------------------------------------------------------------------------
// The server process

struct ServerProc {
    child: tokio::process::Child,
    url: String,
}

async fn spawn_server(
    a: &Args,
    storage: &str,
    today: chrono::NaiveDate,
    log: &std::path::Path,
) -> Result<ServerProc, String> {
    let mut cmd = tokio::process::Command::new(&a.server_bin);
    cmd.arg("--storage")
        .arg(storage)
        .args(["--bind", "127.0.0.1:0", "--no-demo", "--now"])
        .arg(today.to_string())
        .arg("--delivery-log")
        .arg(log)
        .env("KADRY_LOG", std::env::var("KADRY_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if storage.starts_with("postgres:") {
        cmd.arg("--schema").arg(&a.schema);
    }
    // The server's policy is the region's the load generated (not KADRY_REGION's).
    cmd.arg("--region").arg(a.region.as_str());
    let mut child = cmd.spawn().map_err(|e| {
        format!("{}: {e} (build it: cargo build --release --all-features --examples)", a.server_bin.display())
    })?;
    let stdout = child.stdout.take().ok_or("the server's stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(300), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("kadry listening on ") {
                return Some(url.trim().to_string());
            }
        }
        None
    })
    .await
    .map_err(|_| "the server did not start within 300 s".to_string())?
    .ok_or("the server exited before listening")?;
    // Keep draining its stdout so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(ServerProc { child, url })
}

/// Runs the region's planning cycle up to where its users work during the load, through the
/// commands its operator, ministry, providers, experts and responsibles would send, and returns
/// the registry's programs (to apply for) and the set-up's statistics. Samara and Yugra plan by
/// dates ("today" lies in Yugra's application window): nothing to do. Tatarstan plans by stages
/// (R-W3): the operator opens the year's cycle and appoints the expert council (the territory
/// officials); at stage 1 one in forty workers answers the questionnaire (by their
/// responsible); at stage 2 the ministry sets the financing norm and the state-assignment limit
/// (R-F1) and every provider submits a program for the year; at stage 3 the council reviews each
/// (technical, then content expertise) and votes for it; at stage 5 the ministry approves the
/// registry and the operator issues the quota numbers; the load runs at stage 6 (applications
/// with a number, refusals and reassignment, forming). A cycle at stage 6 already (a server over
/// a region prepared before, `--url`) is left as it is; one part-way or past stage 6 is an error.
async fn prepare(exec: &Exec, g: &Generated, year: i32) -> Result<(Vec<ProgramId>, HashMap<Kind, Stats>), String> {
    let mut stats = HashMap::new();
    if g.spec.region != Region::Tatarstan {
        return Ok((Vec::new(), stats));
    }
    let op = |actor, step| Op::Setup { actor, year, step };
    let (res, body) = exec.fetch(&op(g.operator, Step::ShowCycle), &mut stats).await;
    let stage = body.as_ref().and_then(|b| b.get("stage")).and_then(serde_json::Value::as_u64);
    let Some(stage) = stage.filter(|_| res == Res::Ok) else {
        return Err(format!("set-up: the {year} cycle could not be read: {res:?}"));
    };
    match stage {
        0 => {}
        6 => return Ok((Vec::new(), stats)),
        s => return Err(format!("set-up: the {year} cycle is at stage {s}: use a fresh region, or one at stage 6")),
    }
    let experts: Vec<PersonId> = g.territories.iter().map(|t| t.official).collect();
    let roles: HashSet<PersonId> = g.accounts.iter().map(|a| a.person).collect();
    // The limit: the norm for every worker, twice over; enrolments commit it too.
    let limit = format!("{}.00", NORM * 2 * g.workers.len());
    let mut registry = Vec::new();
    for stage in 0..6 {
        let mut steps = Vec::new();
        match stage {
            0 => steps.extend(experts.iter().map(|e| op(g.operator, Step::GrantExpert(*e)))),
            1 => {
                for (i, w) in g.workers.iter().enumerate() {
                    // Workers of schools and the like, whose first worker is `org_responsible`.
                    let served = w.org as usize > g.territories.len() && !g.orgs[w.org as usize].provider;
                    if i % 40 == 5 && served && w.pedagogical && !roles.contains(&w.id) {
                        let resp = g.orgs[w.org as usize].responsible;
                        steps.push(op(resp, Step::Questionnaire(w.id)));
                    }
                }
            }
            2 => {
                steps.push(op(g.ministry, Step::Norm(format!("{NORM}.00"))));
                steps.push(op(g.ministry, Step::Limit(limit.clone())));
                for (i, p) in g.providers.iter().enumerate() {
                    let title = format!("Функциональная грамотность: реестр {year}, программа {}", i + 1);
                    steps.push(op(p.curator, Step::Submit(g.orgs[p.org].id, title)));
                }
            }
            3 => {
                for p in &registry {
                    steps.push(op(experts[0], Step::Review(*p, ExpertiseStage::Technical)));
                    steps.push(op(experts[experts.len() - 1], Step::Review(*p, ExpertiseStage::Content)));
                    steps.push(op(experts[0], Step::Protocol(*p, experts.clone())));
                }
            }
            5 => {
                steps.push(op(g.ministry, Step::ApproveRegistry));
                steps.push(op(g.operator, Step::IssueQuotas));
            }
            _ => {}
        }
        steps.push(op(g.operator, Step::Advance));
        for s in steps {
            let (res, body) = exec.fetch(&s, &mut stats).await;
            if res != Res::Ok {
                return Err(format!("set-up at stage {stage}: {s:?}: {res:?}"));
            }
            if let Op::Setup { step: Step::Submit(..), .. } = s {
                let id = body.as_ref().and_then(|b| b.get("id")).and_then(|i| serde_json::from_value(i.clone()).ok());
                registry.push(ProgramId(id.ok_or("set-up: a submitted program without its id")?));
            }
        }
    }
    Ok((registry, stats))
}

/// Stops the server politely (SIGTERM, then SIGKILL after 10 s).
async fn stop_server(mut p: ServerProc) {
    if let Some(pid) = p.child.id() {
        let _ = tokio::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
    }
    if tokio::time::timeout(Duration::from_secs(10), p.child.wait()).await.is_err() {
        let _ = p.child.kill().await;
    }
}

// ---------------------------------------------------------------------------------------------
// The in-process relay's notifier: counts deliveries by id

#[derive(Default)]
struct Counting {
    seen: Mutex<HashMap<NotificationId, u32>>,
}

#[async_trait]
impl Notifier for Counting {
    async fn deliver(&self, n: &Notification, _: &Email) -> kadry::Result<()> {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()).entry(n.id).or_default() += 1;
        Ok(())
    }
}

fn read_delivery_log(path: &std::path::Path) -> Result<HashMap<NotificationId, u32>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        // A line cut short by a kill would not parse: count it as a failure to deliver.
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?;
        let id = v.get("id").and_then(|x| x.as_str()).and_then(|s| uuid::Uuid::parse_str(s).ok());
        let id = id.ok_or_else(|| format!("{} line {}: no id", path.display(), i + 1))?;
        *out.entry(NotificationId(id)).or_default() += 1;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Main

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("load: {e}");
            }
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(a).await {
        Ok(true) => {
            println!("load: PASS");
            std::process::ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("load: FAIL");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("load: {e}");
            println!("load: FAIL: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn run(a: Args) -> Result<bool, String> {
    let spec = Spec { seats: a.seats, region: a.region, ..Spec::new(a.workers, a.seed) };
    let policy = RegionPolicy::preset(a.region.as_str()).ok_or("no such region")?;
    let mix = a.mix.unwrap_or_else(|| default_mix(a.region));
    // Applications are for the year after "today" (3 March 2025: Yugra's window for 2026 is
    // open from 1 January to 15 October 2025; Tatarstan's cycle is moved to stage 6 below).
    let year = RegionPolicy::default_planning_year(spec.today);
    let work_dir = std::env::temp_dir().join(format!("kadry-load-{}", std::process::id()));
    std::fs::create_dir_all(&work_dir).map_err(|e| e.to_string())?;
    let delivery_log = work_dir.join("deliveries.jsonl");

    // Set-up: the region, in the database under test (or, for --url, in memory to know its ids).
    let t0 = Instant::now();
    let (region, opened, storage) = match &a.target {
        Target::Store(s) => {
            let opened = common::open(s, Some(&a.schema), true).await?;
            let region = generate(&*opened.store(), &spec).await.map_err(|e| format!("generate: {e}"))?;
            (region, Some(opened), None)
        }
        Target::Server if a.url.is_some() => {
            let memory = common::open("memory", None, true).await?;
            let region = generate(&*memory.store(), &spec).await.map_err(|e| format!("generate: {e}"))?;
            let opened = match &a.storage {
                Some(s) => Some(common::open(s, Some(&a.schema), false).await?),
                None => None,
            };
            (region, opened, a.storage.clone())
        }
        Target::Server => {
            let storage =
                a.storage.clone().unwrap_or_else(|| format!("sqlite:{}", work_dir.join("region.db").display()));
            let opened = common::open(&storage, Some(&a.schema), true).await?;
            let region = generate(&*opened.store(), &spec).await.map_err(|e| format!("generate: {e}"))?;
            common::store_passwords(&opened, &region.accounts, PASSWORD).await?;
            (region, Some(opened), Some(storage))
        }
    };
    println!(
        "region: {} workers, {} organisations, {} recruiting groups ({} seats), {} changes; set-up {:.1} s",
        region.counts.persons,
        region.orgs.len(),
        region.groups.len(),
        region.groups.iter().map(|g| u64::from(g.capacity)).sum::<u64>(),
        region.counts.changes,
        t0.elapsed().as_secs_f64()
    );
    let n_territories = region.territories.len();
    let destinations: Vec<usize> =
        (n_territories + 1..region.orgs.len()).filter(|i| !region.orgs[*i].provider).collect();
    if destinations.len() < 2 {
        return Err("the region has too few organisations to transfer between".into());
    }

    // The executor, and for the server its process.
    let mut server = None;
    let mut relay = None;
    let counting = Arc::new(Counting::default());
    let (stop_relay, relay_stopped) = tokio::sync::watch::channel(false);
    let exec = match &a.target {
        Target::Store(_) => {
            let store = opened.as_ref().map(|o| o.store()).ok_or("no store")?;
            let start = policy.time_zone.from_local_datetime(&spec.today.and_hms_opt(9, 0, 0).unwrap_or_default());
            let start = start.earliest().map(|t| t.with_timezone(&chrono::Utc)).ok_or("no start instant")?;
            let service =
                Service::new(policy.clone(), store, Arc::new(ShiftedClock::starting_at(start)), Arc::new(RandomIds));
            let settings = RelaySettings {
                poll_interval: Duration::from_millis(500),
                batch_size: RELAY_BATCH,
                ..Default::default()
            };
            relay = Some(Relay::new(service.clone(), counting.clone()).with_settings(settings).spawn(relay_stopped));
            Exec::Service(service)
        }
        Target::Server => {
            let url = match &a.url {
                Some(u) => u.clone(),
                None => {
                    // The server opens the database itself: close ours first (SQLite: one writer).
                    if let Some(common::Opened::Sqlite(s)) = &opened {
                        s.pool().close().await;
                    }
                    let storage = storage.clone().ok_or("no storage")?;
                    let p = spawn_server(&a, &storage, spec.today, &delivery_log).await?;
                    let url = p.url.clone();
                    server = Some(p);
                    url
                }
            };
            println!("server: {url}");
            let emails = region.accounts.iter().map(|x| (x.person, x.email.clone())).collect();
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(a.clients)
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(|e| e.to_string())?;
            Exec::Http(Arc::new(Http {
                client,
                base: RwLock::new(url),
                sessions: Mutex::new(HashMap::new()),
                emails,
                killed: AtomicBool::new(false),
            }))
        }
    };

    // Sessions first (server): the accounts the clients act as sign in before the clock starts.
    if let Exec::Http(h) = &exec {
        let mut persons: Vec<PersonId> = vec![region.operator, region.ministry];
        persons.extend(region.territories.iter().map(|t| t.official));
        persons.extend(destinations.iter().map(|o| region.orgs[*o].responsible));
        let warm = Instant::now();
        let n = persons.len();
        let stats = h.warm_up(persons, a.clients).await;
        let login = stats.get(&Kind::Login);
        let ok = login.map_or(0, |s| s.ok);
        let p50 = login.map_or(0.0, |s| s.latency.value_at_quantile(0.5) as f64 / 1000.0);
        println!(
            "sessions: {ok} of {n} accounts signed in before the load in {:.1} s (login p50 {p50:.1} ms)",
            warm.elapsed().as_secs_f64()
        );
        if ok as usize != n {
            return Err(format!("only {ok} of {n} accounts could sign in"));
        }
    }

    // The planning cycle's set-up (Tatarstan), through the same commands as the load.
    let (registry, setup) = prepare(&exec, &region, year).await?;
    if let Some(s) = setup.get(&Kind::Setup) {
        println!(
            "set-up: {} commands of the {year} cycle, {} done; {} programs in the registry",
            s.count,
            s.ok,
            registry.len()
        );
    }

    // The load.
    let shown: Vec<String> = OPS.iter().zip(mix).filter(|(_, m)| *m > 0).map(|(o, m)| format!("{o} {m}%")).collect();
    println!(
        "load: {}, {} clients, {} s{}, mix {}, load average before {}",
        a.region.as_str(),
        a.clients,
        a.seconds,
        a.kill_after.map(|k| format!(", SIGKILL after {k} s")).unwrap_or_default(),
        shown.join(" "),
        load_avg()
    );
    let org_index: HashMap<OrgId, usize> = region.orgs.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    let started = Instant::now();
    let shared = Arc::new(Shared {
        region,
        mix,
        year,
        org_index,
        registry,
        deadline: started + Duration::from_secs_f64(a.seconds),
        max_requests: a.max_requests,
        issued: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        destinations,
    });
    let mut orgs: Vec<HashMap<usize, usize>> = (0..a.clients).map(|_| HashMap::new()).collect();
    let mut outs = Vec::new();
    let mut kills = 0;
    if let (Some(k), Exec::Http(h)) = (a.kill_after, &exec) {
        // Phase 1: load until the kill; SIGKILL mid-load; restart on the same database.
        let phase1 = {
            let (shared, exec) = (shared.clone(), exec.clone());
            let mut orgs1 = std::mem::take(&mut orgs);
            let seed = a.seed;
            tokio::spawn(async move {
                let outs = run_clients(&shared, &exec, &mut orgs1, seed).await;
                (outs, orgs1)
            })
        };
        tokio::time::sleep(Duration::from_secs_f64(k)).await;
        let mut p = server.take().ok_or("no server to kill")?;
        h.killed.store(true, Ordering::SeqCst);
        shared.stop.store(true, Ordering::SeqCst);
        p.child.start_kill().map_err(|e| format!("SIGKILL: {e}"))?;
        let _ = p.child.wait().await;
        kills += 1;
        println!("killed the server (SIGKILL) after {:.1} s", started.elapsed().as_secs_f64());
        let (o, m) = phase1.await.map_err(|e| format!("phase 1: {e}"))?;
        outs.extend(o);
        orgs = m;
        let storage = storage.clone().ok_or("no storage")?;
        // What the kill left undelivered: the restarted server's relay must deliver it, once.
        let reader = common::open(&storage, Some(&a.schema), false).await?;
        let (_, outbox) = common::dump(&reader).await?;
        if let common::Opened::Sqlite(s) = &reader {
            s.pool().close().await;
        }
        drop(reader);
        println!(
            "at the kill: {} notifications in the outbox, {} committed but not delivered",
            outbox.len(),
            outbox.iter().filter(|e| !e.delivered).count()
        );
        let restart = Instant::now();
        let p = spawn_server(&a, &storage, spec.today, &delivery_log).await?;
        println!("restarted the server in {:.1} s: {}", restart.elapsed().as_secs_f64(), p.url);
        *h.base.write().unwrap_or_else(|e| e.into_inner()) = p.url.clone();
        h.sessions.lock().unwrap_or_else(|e| e.into_inner()).clear();
        h.killed.store(false, Ordering::SeqCst);
        server = Some(p);
        // Phase 2: the rest of the time.
        let rest = Arc::new(Shared {
            region: shared.region.clone(),
            mix,
            year,
            org_index: shared.org_index.clone(),
            registry: shared.registry.clone(),
            deadline: shared.deadline.max(Instant::now() + Duration::from_secs(2)),
            max_requests: a.max_requests,
            issued: AtomicU64::new(shared.issued.load(Ordering::SeqCst)),
            stop: AtomicBool::new(false),
            destinations: shared.destinations.clone(),
        });
        outs.extend(run_clients(&rest, &exec, &mut orgs, a.seed.wrapping_add(1)).await);
    } else {
        outs.extend(run_clients(&shared, &exec, &mut orgs, a.seed).await);
    }
    let elapsed = started.elapsed();
    let load_after = load_avg();

    // Statistics.
    let mut total: BTreeMap<Kind, Stats> = BTreeMap::new();
    let mut successes = Vec::new();
    for o in &outs {
        for (k, s) in &o.stats {
            total.entry(*k).or_insert_with(Stats::new).merge(s);
        }
        successes.extend(o.successes.iter().cloned());
    }
    let secs = elapsed.as_secs_f64();
    println!(
        "\n{:<18} {:>8} {:>8} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "kind", "count", "ok", "refused", "failed", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    let ms = |us: u64| us as f64 / 1000.0;
    let mut failed = 0;
    let mut interrupted = 0;
    let mut requests = 0;
    for k in Kind::ALL {
        let Some(s) = total.get(&k) else { continue };
        failed += s.failed;
        interrupted += s.interrupted;
        requests += s.count;
        let h = &s.latency;
        println!(
            "{:<18} {:>8} {:>8} {:>8} {:>7} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            k.name(),
            s.count,
            s.ok,
            s.refused.values().sum::<u64>(),
            s.failed,
            s.count as f64 / secs,
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.9)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max()),
        );
        if !s.refused.is_empty() {
            let list: Vec<String> = s.refused.iter().map(|(c, n)| format!("{c} {n}")).collect();
            println!("{:<18}   refused: {}", "", list.join(", "));
        }
        if s.interrupted > 0 {
            println!("{:<18}   interrupted by the kill (outcome unknown): {}", "", s.interrupted);
        }
        for f in &s.failures {
            println!("{:<18}   FAILED: {f}", "");
        }
    }
    println!(
        "total: {requests} requests in {secs:.1} s = {:.0} requests/s; {} successes to find in the database; \
         load average after {load_after}",
        requests as f64 / secs,
        successes.len()
    );

    // Checks against the database.
    let mut violations = Vec::new();
    if failed > 0 {
        violations.push(format!("{failed} requests failed (5xx, transport or internal errors)"));
    }
    let Some(opened) = opened else {
        println!("checks: no database to read (--url without --storage): invariants not checked");
        return Ok(violations.is_empty());
    };
    // Reopen the database if the set-up closed it for the server.
    let closed = matches!(opened, common::Opened::Sqlite(_)) && a.url.is_none() && a.target == Target::Server;
    let opened = match (&storage, closed) {
        (Some(s), true) => common::open(s, None, false).await?,
        _ => opened,
    };
    let deliveries = match (&a.target, a.url.is_some()) {
        (Target::Store(_), _) => {
            let _ = stop_relay.send(true);
            if let (Some(r), Exec::Service(s)) = (relay.take(), &exec) {
                let _ = r.await;
                // What the background relay had not picked up yet.
                while s.deliver_pending(&*counting, 500).await.map_err(|e| format!("relay: {e}"))? > 0 {}
            }
            Some(counting.seen.lock().unwrap_or_else(|e| e.into_inner()).clone())
        }
        (Target::Server, false) => {
            // The server's relay polls every 5 s: wait until nothing is pending.
            let wait = Instant::now();
            loop {
                let (_, outbox) = common::dump(&opened).await?;
                if outbox.iter().all(|e| e.delivered) {
                    break;
                }
                if wait.elapsed() > Duration::from_secs(120) {
                    violations.push("R-N1: notifications still pending 120 s after the load".into());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            println!("outbox drained {:.1} s after the load", wait.elapsed().as_secs_f64());
            if let Some(p) = server.take() {
                stop_server(p).await;
            }
            Some(read_delivery_log(&delivery_log)?)
        }
        (Target::Server, true) => None,
    };
    let (dump, outbox) = common::dump(&opened).await?;
    violations.extend(check_invariants(&dump, &policy));
    if let Some(d) = &deliveries {
        // After a SIGKILL, one relay batch may have been delivered but not marked: at least once.
        let repeats = d.values().filter(|n| **n > 1).count();
        violations.extend(check_deliveries(&outbox, d, kills * RELAY_BATCH));
        println!(
            "outbox: {} notifications, {} delivered, {} deliveries, {} delivered more than once",
            outbox.len(),
            outbox.iter().filter(|e| e.delivered).count(),
            d.values().map(|n| u64::from(*n)).sum::<u64>(),
            repeats
        );
    }
    // Every success is in the database.
    let today = spec.today;
    let seated = dump.seats();
    let issued: HashMap<PersonId, usize> = dump
        .vouchers
        .iter()
        .filter(|v| v.status == VoucherStatus::Issued && v.issued_on.is_some_and(|d| d >= today))
        .fold(HashMap::new(), |mut m, v| {
            *m.entry(v.person).or_default() += 1;
            m
        });
    let approved: HashMap<PersonId, usize> =
        outbox.iter().filter(|e| e.kind == NotificationKind::VoucherApproved).fold(HashMap::new(), |mut m, e| {
            *m.entry(e.person).or_default() += 1;
            m
        });
    let placed: HashSet<(PersonId, OrgId)> = dump
        .employments
        .iter()
        .filter(|e| e.status == EmploymentStatus::Active || e.status == EmploymentStatus::Dismissed)
        .map(|e| (e.person, e.org))
        .collect();
    let applied: HashSet<(PersonId, ProgramId, i32)> =
        dump.plans.iter().map(|p| (p.person, p.program, p.year)).collect();
    let moved: HashSet<(&str, PersonId)> =
        dump.quotas.iter().flat_map(|q| q.moves.iter().map(|m| (q.number.as_str(), m.to))).collect();
    let mut vouchers_ok: HashMap<PersonId, usize> = HashMap::new();
    let mut lost = 0;
    for s in &successes {
        let found = match s {
            Success::Enrolled { worker, group } => seated.contains(&(*worker, *group)),
            Success::VoucherIssued { worker } => {
                *vouchers_ok.entry(*worker).or_default() += 1;
                true
            }
            Success::Moved { worker, to } => placed.contains(&(*worker, *to)),
            Success::Applied { worker, program, year } => applied.contains(&(*worker, *program, *year)),
            Success::Reassigned { number, to } => moved.contains(&(number.as_str(), *to)),
        };
        if !found {
            lost += 1;
            if lost <= 5 {
                violations.push(format!("a success is not in the database: {s:?}"));
            }
        }
    }
    for (worker, n) in &vouchers_ok {
        if issued.get(worker).copied().unwrap_or(0) < *n {
            violations.push(format!("worker {worker}: {n} vouchers approved, fewer issued in the database"));
        }
        let notes = approved.get(worker).copied().unwrap_or(0);
        if notes < *n || (interrupted == 0 && notes != *n) {
            violations.push(format!("worker {worker}: {n} vouchers approved, {notes} voucher.approved notifications"));
        }
    }
    if lost > 5 {
        violations.push(format!("{lost} successes in all are not in the database"));
    }
    println!(
        "checks: {} persons, {} groups, {} enrolments, {} vouchers, {} employments, {} applications, {} quota numbers \
         read back; {} successes verified",
        dump.persons.len(),
        dump.groups.len(),
        dump.enrollments.len(),
        dump.vouchers.len(),
        dump.employments.len(),
        dump.plans.len(),
        dump.quotas.len(),
        successes.len()
    );
    if let Some(p) = server.take() {
        stop_server(p).await;
    }
    for v in violations.iter().take(50) {
        println!("VIOLATION: {v}");
    }
    if violations.is_empty() {
        let _ = std::fs::remove_dir_all(&work_dir);
    } else {
        println!("kept {} for inspection", work_dir.display());
    }
    Ok(violations.is_empty())
}
