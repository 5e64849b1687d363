//! The scenario runner: executes the conformance suite format (`scenario-format.md`, version 1)
//! against a [`Service`] on a chosen store.
//!
//! A scenario names things (`ivanova`, `school1`); the runner maps names to ids as creating
//! steps introduce them, sets the clock to each step's local time, runs the step as the named
//! actor, and compares what came with what was expected.

pub mod format;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use kadry_adapters::MemoryStore;
use kadry_core::command::{Attendance, Command, Metric, NonCompletion, Query, ScopeRef};
use kadry_core::ids::*;
use kadry_core::model::{Audience, Funding, License, OrgKind, Ownership, Position, Role};
use kadry_core::planning::{ExpertiseStage, MemberVote, Money, StudyForm};
use kadry_core::ports::{ManualClock, SequentialIds, Store};
use kadry_core::{Actor, Error, RegionPolicy, Service};

pub use format::{Expect, ParseError, Scenario, Step, collect_files, parse_file, parse_str, value_matches};

/// Where a scenario run keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageSpec {
    /// The in-memory store (the default).
    Memory,
    /// A SQLite file (`sqlite:PATH`).
    Sqlite(String),
    /// A PostgreSQL server (`postgres:URL`).
    Postgres(String),
}

impl std::str::FromStr for StorageSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "memory" {
            Ok(StorageSpec::Memory)
        } else if let Some(p) = s.strip_prefix("sqlite:") {
            Ok(StorageSpec::Sqlite(p.to_string()))
        } else if let Some(url) = s.strip_prefix("postgres:").filter(|u| u.starts_with("postgres")) {
            Ok(StorageSpec::Postgres(url.to_string())) // `postgres:postgres://…`
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(StorageSpec::Postgres(s.to_string()))
        } else {
            Err(format!("unknown storage {s:?}: use memory, sqlite:PATH or postgres:URL"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StorageSpec;

    #[test]
    fn storage_specs_parse() {
        assert_eq!("memory".parse(), Ok(StorageSpec::Memory));
        assert_eq!("sqlite:/tmp/k.db".parse(), Ok(StorageSpec::Sqlite("/tmp/k.db".into())));
        let url = "postgres://postgres@127.0.0.1:5432/test";
        assert_eq!(format!("postgres:{url}").parse(), Ok(StorageSpec::Postgres(url.into())));
        assert_eq!(url.parse(), Ok(StorageSpec::Postgres(url.into())));
        assert!("mysql://x".parse::<StorageSpec>().is_err());
    }
}

impl StorageSpec {
    /// Opens a fresh store for one scenario: a new in-memory store; for SQLite a new
    /// database file per scenario beside PATH (`PATH` itself for the first, then
    /// `PATH.N`), or `:memory:`; for PostgreSQL a new schema per scenario in the database.
    pub async fn open(&self, n: usize) -> Result<Arc<dyn Store>, String> {
        match self {
            StorageSpec::Memory => Ok(Arc::new(MemoryStore::new())),
            #[cfg(feature = "sqlite")]
            StorageSpec::Sqlite(path) => {
                let path = if path == ":memory:" || n == 0 { path.clone() } else { format!("{path}.{n}") };
                if path != ":memory:" {
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{path}{suffix}"));
                    }
                }
                let store = kadry_adapters::SqliteStore::open(&path).await.map_err(|e| e.to_string())?;
                Ok(Arc::new(store))
            }
            #[cfg(feature = "postgres")]
            StorageSpec::Postgres(url) => {
                let schema = format!("kadry_scenario_{n}");
                let store = kadry_adapters::PgStore::recreate_schema(url, &schema).await.map_err(|e| e.to_string())?;
                Ok(Arc::new(store))
            }
            #[allow(unreachable_patterns)]
            other => Err(format!("this build has no store for {other:?}: enable the `sqlite` or `postgres` feature")),
        }
    }
}

/// A step that did not come out as expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepFailure {
    /// The scenario file.
    pub file: PathBuf,
    /// The step number (1-based).
    pub step: usize,
    /// The step's line.
    pub line: usize,
    /// The step's action.
    pub action: String,
    /// What was expected.
    pub expected: String,
    /// What came.
    pub got: String,
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: step {} ({}): expected {}, got {}",
            self.file.display(),
            self.line,
            self.step,
            self.action,
            self.expected,
            self.got
        )
    }
}

/// The outcome of one scenario.
#[derive(Debug, Clone)]
pub struct ScenarioReport {
    /// The file.
    pub file: PathBuf,
    /// Its title.
    pub title: String,
    /// Failed steps; empty when the scenario passed.
    pub failures: Vec<StepFailure>,
}

impl ScenarioReport {
    /// Whether every step came out as expected.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A named thing in a scenario.
#[derive(Debug, Clone, Copy)]
enum Named {
    Territory(TerritoryId),
    Org(OrgId),
    Person(PersonId),
    Program(ProgramId),
    Group(GroupId),
    Survey(SurveyId),
}

/// Runs one parsed scenario on a fresh store (`index` tells scenarios of one run apart, so
/// each gets its own database).
pub async fn run_scenario(scenario: &Scenario, storage: &StorageSpec, index: usize) -> ScenarioReport {
    let mut report =
        ScenarioReport { file: scenario.file.clone(), title: scenario.title.clone(), failures: Vec::new() };
    let fail = |step: Option<&Step>, expected: &str, got: String| StepFailure {
        file: scenario.file.clone(),
        step: step.map_or(0, |s| s.index),
        line: step.map_or(0, |s| s.line),
        action: step.map_or_else(|| "setup".to_string(), |s| s.action.clone()),
        expected: expected.to_string(),
        got,
    };
    let Some(policy) = RegionPolicy::preset(&scenario.policy) else {
        report.failures.push(fail(None, "a known policy", scenario.policy.clone()));
        return report;
    };
    let store = match storage.open(index).await {
        Ok(s) => s,
        Err(e) => {
            report.failures.push(fail(None, "a store", e));
            return report;
        }
    };
    let tz = policy.time_zone;
    let to_utc = |at: NaiveDateTime| tz.from_local_datetime(&at).earliest().map(|t| t.with_timezone(&Utc));
    let start = scenario.steps.first().and_then(|s| to_utc(s.at)).unwrap_or_else(Utc::now);
    let clock = Arc::new(ManualClock::new(start));
    let service = Service::new(policy, store, clock.clone(), Arc::new(SequentialIds::default()));
    let mut runner = Runner { service, names: HashMap::new() };
    if let Err(e) = runner.bootstrap().await {
        report.failures.push(fail(None, "the built-in operator and ministry", e.to_string()));
        return report;
    }
    for step in &scenario.steps {
        let Some(at) = to_utc(step.at) else {
            report.failures.push(fail(Some(step), "a valid local time", step.at.to_string()));
            continue;
        };
        clock.set(at);
        let got = runner.run_step(step).await;
        if let Some((expected, got)) = compare(&step.expect, got) {
            report.failures.push(fail(Some(step), &expected, got));
        }
    }
    report
}

/// What a step produced: a JSON result, a refusal, or a runner-level problem.
enum StepResult {
    Ok(Value),
    Refused(Error),
    Broken(String),
}

fn compare(expect: &Expect, got: StepResult) -> Option<(String, String)> {
    let describe = |g: &StepResult| match g {
        StepResult::Ok(_) => "ok".to_string(),
        StepResult::Refused(e) => format!("{} ({e})", e.code()),
        StepResult::Broken(m) => format!("a broken step: {m}"),
    };
    match (expect, &got) {
        (Expect::Ok, StepResult::Ok(_)) => None,
        (Expect::Error(code), StepResult::Refused(e)) if e.code() == code => None,
        (Expect::Fields(fields), StepResult::Ok(actual)) => {
            let wrong: Vec<String> = fields
                .iter()
                .filter_map(|(k, v)| {
                    let a = actual.get(k).unwrap_or(&Value::Null);
                    (!value_matches(v, a)).then(|| format!("{k} = {a}"))
                })
                .collect();
            if wrong.is_empty() { None } else { Some((Value::Object(fields.clone()).to_string(), wrong.join(", "))) }
        }
        (Expect::Ok, _) => Some(("ok".into(), describe(&got))),
        (Expect::Error(code), _) => Some((code.clone(), describe(&got))),
        (Expect::Fields(f), _) => Some((Value::Object(f.clone()).to_string(), describe(&got))),
    }
}

struct Runner {
    service: Service,
    names: HashMap<String, Named>,
}

type Args = Map<String, Value>;

fn bad(msg: impl Into<String>) -> Error {
    Error::InvalidInput(msg.into())
}

fn str_arg<'a>(a: &'a Args, k: &str) -> Result<&'a str, Error> {
    a.get(k).and_then(Value::as_str).ok_or_else(|| bad(format!("`{k}` is required and must be text")))
}

fn opt_str(a: &Args, k: &str) -> Result<Option<String>, Error> {
    match a.get(k) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("`{k}` must be text"))),
    }
}

fn opt_bool(a: &Args, k: &str) -> Result<Option<bool>, Error> {
    match a.get(k) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad(format!("`{k}` must be true or false"))),
    }
}

fn int_arg(a: &Args, k: &str) -> Result<Option<i64>, Error> {
    match a.get(k) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| bad(format!("`{k}` must be a whole number"))),
    }
}

fn u32_arg(a: &Args, k: &str) -> Result<u32, Error> {
    let v = int_arg(a, k)?.ok_or_else(|| bad(format!("`{k}` is required")))?;
    u32::try_from(v).map_err(|_| bad(format!("`{k}` out of range")))
}

fn opt_u32(a: &Args, k: &str) -> Result<Option<u32>, Error> {
    int_arg(a, k)?.map(|v| u32::try_from(v).map_err(|_| bad(format!("`{k}` out of range")))).transpose()
}

fn year_arg(a: &Args) -> Result<i32, Error> {
    let y = int_arg(a, "year")?.ok_or_else(|| bad("`year` is required"))?;
    i32::try_from(y).map_err(|_| bad("`year` out of range"))
}

/// An amount of roubles, written as text ("9000.50") or a number.
fn money_arg(a: &Args, k: &str) -> Result<Money, Error> {
    let text = match a.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(bad(format!("`{k}` is required: an amount of roubles"))),
    };
    <Money as std::str::FromStr>::from_str(text.trim()).map_err(|_| bad(format!("`{k}` is not an amount: {text}")))
}

fn texts(a: &Args, k: &str) -> Result<Vec<String>, Error> {
    match a.get(k) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad(format!("`{k}` must list text"))))
            .collect(),
        Some(_) => Err(bad(format!("`{k}` must be a list"))),
    }
}

fn date_arg(a: &Args, k: &str) -> Result<NaiveDate, Error> {
    let s = str_arg(a, k)?;
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad(format!("`{k}` must be a date YYYY-MM-DD")))
}

fn opt_date(a: &Args, k: &str) -> Result<Option<NaiveDate>, Error> {
    if a.contains_key(k) { date_arg(a, k).map(Some) } else { Ok(None) }
}

fn enum_arg<T: serde::de::DeserializeOwned>(v: &Value, k: &str) -> Result<T, Error> {
    serde_json::from_value(v.clone()).map_err(|_| bad(format!("unknown value {v} for `{k}`")))
}

fn audience<T: serde::de::DeserializeOwned>(a: &Args, k: &str, absent: Audience<T>) -> Result<Audience<T>, Error> {
    match a.get(k) {
        None => Ok(absent),
        Some(Value::Array(items)) => {
            if items.iter().any(|v| v.as_str() == Some("all")) {
                return Ok(Audience::All);
            }
            items.iter().map(|v| enum_arg(v, k)).collect::<Result<Vec<T>, _>>().map(Audience::Only)
        }
        Some(_) => Err(bad(format!("`{k}` must be a list"))),
    }
}

impl Runner {
    async fn bootstrap(&mut self) -> Result<(), Error> {
        let op = self
            .service
            .bootstrap_operator("Оператор Регионального Центра", "operator@kadry.invalid", "регламент АИС")
            .await?;
        self.names.insert("operator".into(), Named::Person(op));
        let cmd = Command::RegisterOfficial {
            full_name: "Министерство Образования".into(),
            email: "ministry@kadry.invalid".into(),
            role: Role::Ministry,
            basis: "положение о министерстве".into(),
        };
        let id = PersonId(self.service.execute(Actor::Person(op), cmd).await?.created().unwrap_or_default());
        self.service.execute(Actor::Person(id), Command::ConfirmEmail { person: id }).await?;
        self.names.insert("ministry".into(), Named::Person(id));
        Ok(())
    }

    /// `verify_certificate` with `worker = "ivanova"`: the series, number and code of the
    /// worker's last certificate, unless the step gives them (a wrong `code`, say).
    async fn fill_certificate(&self, with: &mut Args) -> Result<(), Error> {
        let (Some(Named::Person(op)), Some(Named::Person(worker))) =
            (self.named("operator"), with.get("worker").and_then(Value::as_str).and_then(|n| self.named(n)))
        else {
            return Err(bad("`worker` must name a person"));
        };
        let kadry_core::QueryResult::Training(t) =
            self.service.query(Actor::Person(op), Query::ShowTraining { worker }).await?
        else {
            return Err(bad("show_training answered something else"));
        };
        let cert = t.records.iter().rev().find_map(|r| r.certificate.clone()).ok_or_else(|| bad("no certificate"))?;
        with.remove("worker");
        for (k, v) in [("series", cert.series), ("number", cert.number), ("code", cert.code)] {
            with.entry(k.to_string()).or_insert(Value::String(v));
        }
        Ok(())
    }

    /// `form_groups` with `name = "g"`: the formed groups become `g1`, `g2`, … in the
    /// plan-schedule's order (period, place, title).
    async fn name_formed_groups(&mut self, year: i32, prefix: &str) -> Result<(), Error> {
        let Some(Named::Person(op)) = self.named("operator") else {
            return Err(bad("no operator"));
        };
        let kadry_core::QueryResult::PlanSchedule(plan) =
            self.service.query(Actor::Person(op), Query::PlanSchedule { year }).await?
        else {
            return Err(bad("plan_schedule answered something else"));
        };
        for (i, line) in plan.lines.iter().enumerate() {
            self.names.entry(format!("{prefix}{}", i + 1)).or_insert(Named::Group(line.group.id));
        }
        Ok(())
    }

    fn named(&self, name: &str) -> Option<Named> {
        self.names.get(name).copied()
    }

    /// A referenced thing of one kind; an unknown name becomes an id nobody has (so the
    /// service answers `not_found` or `access.denied`, by its order of checks).
    fn resolve<T>(
        &self,
        a: &Args,
        k: &str,
        kind: &str,
        pick: fn(Named) -> Option<T>,
        nil: fn(uuid::Uuid) -> T,
    ) -> Result<T, Error> {
        match self.named(str_arg(a, k)?) {
            Some(n) => pick(n).ok_or_else(|| bad(format!("`{k}` must name {kind}"))),
            None => Ok(nil(uuid::Uuid::nil())),
        }
    }

    fn person(&self, a: &Args, k: &str) -> Result<PersonId, Error> {
        self.resolve(a, k, "a person", |n| if let Named::Person(id) = n { Some(id) } else { None }, PersonId)
    }

    fn org(&self, a: &Args, k: &str) -> Result<OrgId, Error> {
        self.resolve(a, k, "an organisation", |n| if let Named::Org(id) = n { Some(id) } else { None }, OrgId)
    }

    fn opt_org(&self, a: &Args, k: &str) -> Result<Option<OrgId>, Error> {
        if a.contains_key(k) { self.org(a, k).map(Some) } else { Ok(None) }
    }

    fn opt_territory(&self, a: &Args, k: &str) -> Result<Option<TerritoryId>, Error> {
        if a.contains_key(k) { self.territory(a, k).map(Some) } else { Ok(None) }
    }

    fn territory(&self, a: &Args, k: &str) -> Result<TerritoryId, Error> {
        self.resolve(a, k, "a territory", |n| if let Named::Territory(id) = n { Some(id) } else { None }, TerritoryId)
    }

    fn program(&self, a: &Args, k: &str) -> Result<ProgramId, Error> {
        self.resolve(a, k, "a program", |n| if let Named::Program(id) = n { Some(id) } else { None }, ProgramId)
    }

    fn group(&self, a: &Args, k: &str) -> Result<GroupId, Error> {
        self.resolve(a, k, "a group", |n| if let Named::Group(id) = n { Some(id) } else { None }, GroupId)
    }

    fn survey(&self, a: &Args, k: &str) -> Result<SurveyId, Error> {
        self.resolve(a, k, "a survey", |n| if let Named::Survey(id) = n { Some(id) } else { None }, SurveyId)
    }

    /// Report filters, as a table `{ position = ["teacher"], territory = ["tlt"] }` or a list
    /// `[{ dimension = "position", values = ["teacher"] }]`; territories and organisations by
    /// name.
    fn filters(&self, a: &Args, k: &str) -> Result<Vec<kadry_core::report::Filter>, Error> {
        use kadry_core::report::{Dimension, Filter};
        let m = match a.get(k) {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let mut table = Map::new();
                for item in items {
                    let f: Filter = enum_arg(item, k)?;
                    let values = f.values.into_iter().map(Value::String).collect();
                    table.insert(f.dimension.as_str().to_string(), Value::Array(values));
                }
                let mut args = Args::new();
                args.insert(k.to_string(), Value::Object(table));
                return self.filters(&args, k);
            }
            Some(Value::Object(m)) => m,
            Some(_) => return Err(bad(format!("`{k}` must be a table of dimension = [values]"))),
        };
        m.iter()
            .map(|(d, v)| {
                let dimension = Dimension::parse(d)?;
                let items = match v {
                    Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                };
                let values = items
                    .iter()
                    .map(|v| {
                        let s = v.as_str().ok_or_else(|| bad(format!("`{k}.{d}` must list text")))?;
                        Ok(match (dimension, self.named(s)) {
                            (Dimension::Territory, Some(Named::Territory(t))) => t.to_string(),
                            (Dimension::Organisation, Some(Named::Org(o))) => o.to_string(),
                            _ => s.to_string(),
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                Ok(Filter { dimension, values })
            })
            .collect()
    }

    /// `questions = [{ key, text, scale = [min, max] } | { key, text, options = [..], multiple? }]`.
    fn questions(a: &Args) -> Result<Vec<kadry_core::survey::Question>, Error> {
        use kadry_core::survey::{Question, QuestionKind};
        let Some(Value::Array(items)) = a.get("questions") else {
            return Err(bad("`questions` is required: a list of tables"));
        };
        items
            .iter()
            .map(|q| {
                let q = q.as_object().ok_or_else(|| bad("a question must be a table"))?;
                let kind = match (q.get("scale"), q.get("options")) {
                    (Some(Value::Array(mm)), None) if mm.len() == 2 => {
                        let n = |v: &Value| {
                            v.as_i64()
                                .and_then(|x| i32::try_from(x).ok())
                                .ok_or_else(|| bad("`scale` takes two numbers"))
                        };
                        QuestionKind::Scale { min: n(&mm[0])?, max: n(&mm[1])? }
                    }
                    (None, Some(_)) => QuestionKind::Choice {
                        options: texts(q, "options")?,
                        multiple: opt_bool(q, "multiple")?.unwrap_or(false),
                    },
                    _ => return Err(bad("a question takes `scale = [min, max]` or `options = [..]`")),
                };
                Ok(Question { key: str_arg(q, "key")?.into(), text: str_arg(q, "text")?.into(), kind })
            })
            .collect()
    }

    /// `answers = { q1 = 4, q2 = ["ФГОС"], q3 = "да" }`: a number for a scale, options for a
    /// choice (one option may be written alone).
    fn answers(a: &Args) -> Result<std::collections::BTreeMap<String, kadry_core::survey::AnswerValue>, Error> {
        use kadry_core::survey::AnswerValue;
        let Some(Value::Object(m)) = a.get("answers") else {
            return Err(bad("`answers` is required: a table of key = value"));
        };
        m.iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::Number(n) => AnswerValue::Scale(
                        n.as_i64()
                            .and_then(|x| i32::try_from(x).ok())
                            .ok_or_else(|| bad(format!("`{k}`: a whole number")))?,
                    ),
                    Value::String(s) => AnswerValue::Choice(vec![s.clone()]),
                    Value::Array(_) => AnswerValue::Choice(texts(m, k)?),
                    _ => return Err(bad(format!("`{k}` takes a number or options"))),
                };
                Ok((k.clone(), value))
            })
            .collect()
    }

    fn scope(&self, a: &Args, k: &str) -> Result<Option<ScopeRef>, Error> {
        let Some(name) = opt_str(a, k)? else {
            return Ok(None);
        };
        match self.named(&name) {
            Some(Named::Org(o)) => Ok(Some(ScopeRef::Organisation(o))),
            Some(Named::Territory(t)) => Ok(Some(ScopeRef::Territory(t))),
            Some(_) => Err(bad(format!("`{k}` must name an organisation or a territory"))),
            None => Err(Error::NotFound(format!("scope {name}"))),
        }
    }

    /// A table keyed by person names (`{ ivanova = 70 }`), each value read by `value`.
    fn by_person<T>(
        &self,
        a: &Args,
        k: &str,
        value: impl Fn(&Value) -> Option<T>,
    ) -> Result<Vec<(PersonId, T)>, Error> {
        match a.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Object(items)) => items
                .iter()
                .map(|(name, v)| match (self.named(name), value(v)) {
                    (Some(Named::Person(id)), Some(t)) => Ok((id, t)),
                    (Some(Named::Person(_)), None) => Err(bad(format!("`{k}.{name}` has a wrong value"))),
                    _ => Err(bad(format!("`{k}` must be keyed by persons"))),
                })
                .collect(),
            Some(_) => Err(bad(format!("`{k}` must be a table keyed by persons"))),
        }
    }

    fn people(&self, a: &Args, k: &str) -> Result<Vec<PersonId>, Error> {
        match a.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v.as_str().and_then(|n| self.named(n)) {
                    Some(Named::Person(id)) => Ok(id),
                    _ => Err(bad(format!("`{k}` must list persons"))),
                })
                .collect(),
            Some(_) => Err(bad(format!("`{k}` must be a list"))),
        }
    }

    fn actor(&self, step: &Step) -> Result<Actor, String> {
        if step.by == "system" {
            return Ok(Actor::System);
        }
        match self.named(&step.by) {
            Some(Named::Person(id)) => Ok(Actor::Person(id)),
            Some(_) => Err(format!("`{}` is not a person", step.by)),
            None if step.action == "register_person"
                && step.with.get("id").and_then(Value::as_str) == Some(&step.by) =>
            {
                Ok(Actor::Anonymous)
            }
            None => Err(format!("unknown actor `{}`", step.by)),
        }
    }

    async fn run_step(&mut self, step: &Step) -> StepResult {
        let actor = match self.actor(step) {
            Ok(a) => a,
            Err(m) => return StepResult::Broken(m),
        };
        let mut with = step.with.clone();
        if step.action == "verify_certificate"
            && with.contains_key("worker")
            && let Err(e) = self.fill_certificate(&mut with).await
        {
            return StepResult::Broken(format!("the worker's certificate: {e}"));
        }
        let a = &with;
        if let Some(new) = a.get("id").and_then(Value::as_str)
            && self.names.contains_key(new)
        {
            return StepResult::Broken(format!("the name `{new}` is already taken in this file"));
        }
        match self.build(&step.action, a) {
            Ok(Built::Command(cmd, introduces)) => match self.service.execute(actor, (*cmd).clone()).await {
                Ok(outcome) => {
                    if let (Command::FormGroups { year }, Some(prefix)) = (&*cmd, a.get("name").and_then(Value::as_str))
                        && let Err(e) = self.name_formed_groups(*year, prefix).await
                    {
                        return StepResult::Broken(format!("naming the formed groups: {e}"));
                    }
                    if let (Some(name), Some(id)) = (a.get("id").and_then(Value::as_str), outcome.created()) {
                        self.names.insert(name.to_string(), introduces(id));
                    }
                    StepResult::Ok(serde_json::json!({ "id": outcome.created() }))
                }
                Err(e) => StepResult::Refused(e),
            },
            Ok(Built::Query(q)) => match self.service.query(actor, q).await {
                Ok(r) => StepResult::Ok(serde_json::to_value(r).unwrap_or(Value::Null)),
                Err(e) => StepResult::Refused(e),
            },
            Err(BuildError::Refused(e)) => StepResult::Refused(e),
            Err(BuildError::Unknown) => StepResult::Broken(format!("unknown action `{}`", step.action)),
        }
    }

    #[allow(clippy::too_many_lines)]
    fn build(&self, action: &str, a: &Args) -> Result<Built, BuildError> {
        use Command as C;
        let none = |_: uuid::Uuid| Named::Person(PersonId(uuid::Uuid::nil()));
        let cmd = |c: Command, introduces: fn(uuid::Uuid) -> Named| Ok(Built::Command(Box::new(c), introduces));
        let q = |q: Query| Ok(Built::Query(q));
        match action {
            "register_territory" => {
                cmd(C::RegisterTerritory { name: str_arg(a, "name")?.into() }, |u| Named::Territory(TerritoryId(u)))
            }
            "register_org" => {
                let kind: OrgKind = enum_arg(a.get("kind").ok_or_else(|| bad("`kind` is required"))?, "kind")?;
                let parent = match a.get("parent") {
                    Some(_) => Some(self.org(a, "parent")?),
                    None => None,
                };
                let license = match a.get("license") {
                    None => None,
                    Some(Value::Object(l)) => Some(License {
                        number: str_arg(l, "number")?.into(),
                        valid_until: if l.contains_key("valid_until") {
                            Some(date_arg(l, "valid_until")?)
                        } else {
                            None
                        },
                        issued_on: if l.contains_key("issued_on") { Some(date_arg(l, "issued_on")?) } else { None },
                    }),
                    Some(_) => return Err(bad("`license` must be a table").into()),
                };
                let ownership: Option<Ownership> = a.get("ownership").map(|v| enum_arg(v, "ownership")).transpose()?;
                let c = C::RegisterOrg {
                    name: str_arg(a, "name")?.into(),
                    kind,
                    territory: self.territory(a, "territory")?,
                    parent,
                    license,
                    ownership,
                };
                cmd(c, |u| Named::Org(OrgId(u)))
            }
            "reorganize_org" => cmd(C::ReorganizeOrg { org: self.org(a, "org")?, into: self.org(a, "into")? }, none),
            "register_official" => {
                let role: Role = enum_arg(a.get("role").ok_or_else(|| bad("`role` is required"))?, "role")?;
                let c = C::RegisterOfficial {
                    full_name: str_arg(a, "full_name")?.into(),
                    email: str_arg(a, "email")?.into(),
                    role,
                    basis: opt_str(a, "basis")?.unwrap_or_default(),
                };
                cmd(c, |u| Named::Person(PersonId(u)))
            }
            "register_person" => {
                let position: Position =
                    enum_arg(a.get("position").ok_or_else(|| bad("`position` is required"))?, "position")?;
                let birth_year =
                    int_arg(a, "birth_year")?.map(|y| i32::try_from(y).map_err(|_| bad("birth_year"))).transpose()?;
                let c = C::RegisterPerson {
                    full_name: str_arg(a, "full_name")?.into(),
                    email: str_arg(a, "email")?.into(),
                    org: self.org(a, "org")?,
                    position,
                    pedagogical: opt_bool(a, "pedagogical")?.unwrap_or(true),
                    consent: opt_bool(a, "consent")?.unwrap_or(true),
                    snils: opt_str(a, "snils")?,
                    subject: opt_str(a, "subject")?,
                    birth_year,
                };
                cmd(c, |u| Named::Person(PersonId(u)))
            }
            "confirm_email" => cmd(C::ConfirmEmail { person: self.person(a, "person")? }, none),
            "grant_role" | "request_role" => {
                let role: Role = enum_arg(a.get("role").ok_or_else(|| bad("`role` is required"))?, "role")?;
                let basis = opt_str(a, "basis")?.unwrap_or_default();
                let scope = self.scope(a, "scope")?;
                let c = if action == "grant_role" {
                    C::GrantRole { person: self.person(a, "person")?, role, scope, basis }
                } else {
                    C::RequestRole { role, scope, basis }
                };
                cmd(c, none)
            }
            "approve_role_request" | "restore_role" => {
                let role: Role = enum_arg(a.get("role").ok_or_else(|| bad("`role` is required"))?, "role")?;
                let person = self.person(a, "person")?;
                let c = if action == "restore_role" {
                    C::RestoreRole { person, role }
                } else {
                    C::ApproveRoleRequest { person, role }
                };
                cmd(c, none)
            }
            "update_person" => cmd(
                C::UpdatePerson {
                    person: self.person(a, "person")?,
                    full_name: opt_str(a, "full_name")?,
                    email: opt_str(a, "email")?,
                    snils: opt_str(a, "snils")?,
                    subject: opt_str(a, "subject")?,
                },
                none,
            ),
            "confirm_person_change" => cmd(C::ConfirmPersonChange { person: self.person(a, "person")? }, none),
            "confirm_workplace" => cmd(C::ConfirmWorkplace { person: self.person(a, "person")? }, none),
            "dismiss" => cmd(C::Dismiss { person: self.person(a, "person")? }, none),
            "transfer" => cmd(C::Transfer { person: self.person(a, "person")?, to: self.org(a, "to")? }, none),
            "claim_workplace" => {
                let position: Position =
                    enum_arg(a.get("position").ok_or_else(|| bad("`position` is required"))?, "position")?;
                cmd(
                    C::ClaimWorkplace { org: self.org(a, "org")?, position, pedagogical: opt_bool(a, "pedagogical")? },
                    none,
                )
            }
            "request_voucher" => cmd(C::RequestVoucher { worker: self.person(a, "worker")? }, none),
            "approve_voucher" => cmd(C::ApproveVoucher { worker: self.person(a, "worker")? }, none),
            "reject_voucher" => {
                cmd(C::RejectVoucher { worker: self.person(a, "worker")?, reason: str_arg(a, "reason")?.into() }, none)
            }
            "cancel_voucher" => {
                cmd(C::CancelVoucher { worker: self.person(a, "worker")?, reason: str_arg(a, "reason")?.into() }, none)
            }
            "record_paper_voucher" => cmd(
                C::RecordPaperVoucher { worker: self.person(a, "worker")?, issued_on: date_arg(a, "issued_on")? },
                none,
            ),
            "submit_program" => {
                let year = int_arg(a, "year")?.map(|y| i32::try_from(y).map_err(|_| bad("year"))).transpose()?;
                if !a.contains_key("positions") {
                    return Err(bad("`positions` is required").into());
                }
                let c = C::SubmitProgram {
                    form: a.get("form").map(|v| enum_arg(v, "form")).transpose()?,
                    provider: self.org(a, "provider")?,
                    title: str_arg(a, "title")?.into(),
                    hours: u32_arg(a, "hours")?,
                    annotation: opt_str(a, "annotation")?,
                    positions: audience(a, "positions", Audience::All)?,
                    profile_for: audience(a, "profile_for", Audience::Only(Vec::new()))?,
                    org_kinds: audience(a, "org_kinds", Audience::All)?,
                    subjects: audience(a, "subjects", Audience::All)?,
                    year,
                    direction: opt_str(a, "direction")?,
                    min_group: opt_u32(a, "min_group")?,
                    max_group: opt_u32(a, "max_group")?,
                    places: opt_u32(a, "places")?,
                };
                cmd(c, |u| Named::Program(ProgramId(u)))
            }
            "approve_program" => cmd(C::ApproveProgram { program: self.program(a, "program")? }, none),
            "open_group" => {
                let funding: Funding =
                    enum_arg(a.get("funding").ok_or_else(|| bad("`funding` is required"))?, "funding")?;
                let c = C::OpenGroup {
                    program: self.program(a, "program")?,
                    starts: date_arg(a, "starts")?,
                    ends: date_arg(a, "ends")?,
                    place: str_arg(a, "place")?.into(),
                    capacity: u32_arg(a, "capacity")?,
                    funding,
                };
                cmd(c, |u| Named::Group(GroupId(u)))
            }
            "enroll" => cmd(C::Enroll { worker: self.person(a, "worker")?, group: self.group(a, "group")? }, none),
            "confirm_enrollment" => {
                cmd(C::ConfirmEnrollment { worker: self.person(a, "worker")?, group: self.group(a, "group")? }, none)
            }
            "remove_from_group" => {
                cmd(C::RemoveFromGroup { worker: self.person(a, "worker")?, group: self.group(a, "group")? }, none)
            }
            "complete_group" => cmd(
                C::CompleteGroup {
                    not_completed: self
                        .by_person(a, "not_completed", |v| v.as_str().map(str::to_string))?
                        .into_iter()
                        .map(|(person, reason)| NonCompletion { person, reason })
                        .collect(),
                    attendance: self
                        .by_person(a, "attendance", |v| v.as_u64().and_then(|h| u32::try_from(h).ok()))?
                        .into_iter()
                        .map(|(person, hours)| Attendance { person, hours })
                        .collect(),
                    group: self.group(a, "group")?,
                    passed: self.people(a, "passed")?,
                    failed: self.people(a, "failed")?,
                },
                none,
            ),
            "plan_training" => {
                let period = opt_u32(a, "period")?.map(|q| u8::try_from(q).map_err(|_| bad("period"))).transpose()?;
                cmd(
                    C::PlanTraining {
                        worker: self.person(a, "worker")?,
                        program: self.program(a, "program")?,
                        year: year_arg(a)?,
                        place: self.opt_territory(a, "place")?,
                        period,
                        quota: opt_str(a, "quota")?,
                    },
                    |u| Named::Person(PersonId(u)),
                )
            }
            "advance_stage" => cmd(C::AdvanceStage { year: year_arg(a)? }, none),
            "set_priorities" => cmd(C::SetPriorities { year: year_arg(a)?, priorities: texts(a, "priorities")? }, none),
            "set_financing_norm" => {
                let program = if a.contains_key("program") { Some(self.program(a, "program")?) } else { None };
                cmd(C::SetFinancingNorm { year: year_arg(a)?, program, amount: money_arg(a, "amount")? }, none)
            }
            "set_funding_limit" => {
                let source: Funding = enum_arg(a.get("source").ok_or_else(|| bad("`source` is required"))?, "source")?;
                cmd(C::SetFundingLimit { year: year_arg(a)?, source, amount: money_arg(a, "amount")? }, none)
            }
            "review_program" => {
                let stage: ExpertiseStage =
                    enum_arg(a.get("stage").ok_or_else(|| bad("`stage` is required"))?, "stage")?;
                cmd(
                    C::ReviewProgram {
                        program: self.program(a, "program")?,
                        stage,
                        passed: opt_bool(a, "passed")?.ok_or_else(|| bad("`passed` is required"))?,
                        conclusion: opt_str(a, "conclusion")?.unwrap_or_default(),
                    },
                    none,
                )
            }
            "record_protocol" => {
                let votes = match a.get("votes") {
                    Some(Value::Object(m)) => m
                        .iter()
                        .map(|(name, v)| match self.named(name) {
                            Some(Named::Person(member)) => Ok(MemberVote { member, vote: enum_arg(v, "votes")? }),
                            _ => Err(bad(format!("`votes`: {name} is not a person"))),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    Some(_) => return Err(bad("`votes` must be a table of member = vote").into()),
                    None => Vec::new(),
                };
                cmd(
                    C::RecordProtocol {
                        program: self.program(a, "program")?,
                        number: opt_str(a, "number")?.unwrap_or_default(),
                        votes,
                    },
                    none,
                )
            }
            "approve_registry" => cmd(C::ApproveRegistry { year: year_arg(a)? }, none),
            "issue_quotas" => cmd(C::IssueQuotas { year: year_arg(a)? }, none),
            "refuse_quota" => cmd(C::RefuseQuota { worker: self.person(a, "worker")?, year: year_arg(a)? }, none),
            "reassign_quota" => {
                cmd(C::ReassignQuota { number: str_arg(a, "number")?.into(), to: self.person(a, "to")? }, none)
            }
            "answer_questionnaire" => {
                let forms = match a.get("forms") {
                    None => Vec::new(),
                    Some(Value::Array(items)) => {
                        items.iter().map(|v| enum_arg::<StudyForm>(v, "forms")).collect::<Result<Vec<_>, _>>()?
                    }
                    Some(_) => return Err(bad("`forms` must be a list").into()),
                };
                cmd(
                    C::AnswerQuestionnaire {
                        worker: self.person(a, "worker")?,
                        year: year_arg(a)?,
                        directions: texts(a, "directions")?,
                        topics: texts(a, "topics")?,
                        forms,
                    },
                    none,
                )
            }
            "set_parental_leave" => cmd(
                C::SetParentalLeave {
                    worker: self.person(a, "worker")?,
                    on_leave: opt_bool(a, "on_leave")?.ok_or_else(|| bad("`on_leave` is required"))?,
                },
                none,
            ),
            "form_groups" => cmd(C::FormGroups { year: year_arg(a)? }, none),
            "approve_plan" => cmd(C::ApprovePlan { year: year_arg(a)? }, none),
            "accept_offer" | "decline_offer" => {
                let (worker, program, year) = (self.person(a, "worker")?, self.program(a, "program")?, year_arg(a)?);
                let c = if action == "accept_offer" {
                    C::AcceptOffer { worker, program, year }
                } else {
                    C::DeclineOffer { worker, program, year }
                };
                cmd(c, none)
            }
            "expire_offers" => cmd(C::ExpireOffers { year: year_arg(a)? }, none),
            "create_survey" => {
                use kadry_core::survey::SurveyKind;
                let kind = match str_arg(a, "kind")? {
                    "monitoring" => SurveyKind::Monitoring,
                    "deficits" => SurveyKind::Deficits,
                    "satisfaction" => SurveyKind::Satisfaction { group: self.group(a, "group")? },
                    other => return Err(bad(format!("unknown survey kind {other:?}")).into()),
                };
                let opt_date = |k: &str| if a.contains_key(k) { date_arg(a, k).map(Some) } else { Ok(None) };
                cmd(
                    C::CreateSurvey {
                        title: str_arg(a, "title")?.into(),
                        kind,
                        questions: Self::questions(a)?,
                        target: self.filters(a, "target")?,
                        scope: self.scope(a, "scope")?,
                        opens_on: opt_date("opens_on")?,
                        closes_on: opt_date("closes_on")?,
                    },
                    |u| Named::Survey(SurveyId(u)),
                )
            }
            "close_survey" => cmd(C::CloseSurvey { survey: self.survey(a, "survey")? }, none),
            "answer_survey" => cmd(
                C::AnswerSurvey {
                    survey: self.survey(a, "survey")?,
                    person: self.person(a, "person")?,
                    answers: Self::answers(a)?,
                },
                none,
            ),
            "surveys" => q(Query::Surveys { person: self.person(a, "person")? }),
            "survey_results" => {
                let group_by = texts(a, "group_by")?
                    .iter()
                    .map(|d| kadry_core::report::Dimension::parse(d))
                    .collect::<Result<Vec<_>, _>>()?;
                q(Query::SurveyResults { survey: self.survey(a, "survey")?, group_by, scope: self.scope(a, "scope")? })
            }
            "show_cycle" => q(Query::ShowCycle { year: year_arg(a)? }),
            "eligibility" => q(Query::Eligibility { year: year_arg(a)?, scope: self.scope(a, "scope")? }),
            "show_quota" => q(Query::ShowQuota { worker: self.person(a, "worker")?, year: year_arg(a)? }),
            "show_applications" => q(Query::ShowApplications { worker: self.person(a, "worker")?, year: year_arg(a)? }),
            "plan_schedule" => q(Query::PlanSchedule { year: year_arg(a)? }),
            "plan_execution" => {
                let quarter = u8::try_from(u32_arg(a, "quarter")?).map_err(|_| bad("quarter"))?;
                q(Query::PlanExecution { year: year_arg(a)?, quarter })
            }
            "funding_report" => q(Query::FundingReport { year: year_arg(a)? }),
            "preferences_summary" => q(Query::PreferencesSummary { year: year_arg(a)? }),
            "trajectory" => q(Query::Trajectory { worker: self.person(a, "worker")?, year: year_arg(a)? }),
            "verify_certificate" => q(Query::VerifyCertificate {
                series: str_arg(a, "series")?.into(),
                number: str_arg(a, "number")?.into(),
                code: str_arg(a, "code")?.into(),
            }),
            "show_person" => q(Query::ShowPerson { person: self.person(a, "person")? }),
            "show_staff" => q(Query::ShowStaff { org: self.org(a, "org")? }),
            "show_voucher" => q(Query::ShowVoucher { worker: self.person(a, "worker")? }),
            "show_group" => q(Query::ShowGroup { group: self.group(a, "group")? }),
            "show_program" => q(Query::ShowProgram { program: self.program(a, "program")? }),
            "directory" => q(Query::Directory { territory: self.opt_territory(a, "territory")? }),
            "catalogue" => q(Query::Catalogue {
                provider: self.opt_org(a, "provider")?,
                open_only: !opt_bool(a, "all")?.unwrap_or(false),
            }),
            "show_training" => q(Query::ShowTraining { worker: self.person(a, "worker")? }),
            "show_notifications" => q(Query::ShowNotifications { person: self.person(a, "person")? }),
            "set_profile" => cmd(
                C::SetProfile {
                    person: self.person(a, "person")?,
                    birth_date: opt_date(a, "birth_date")?,
                    sex: a.get("sex").map(|v| enum_arg(v, "sex")).transpose()?,
                    citizenship: opt_str(a, "citizenship")?,
                    education: a.get("education").map(|v| enum_arg(v, "education")).transpose()?,
                    experience_since: opt_date(a, "experience_since")?,
                },
                none,
            ),
            "set_category" => cmd(
                C::SetCategory {
                    worker: self.person(a, "worker")?,
                    category: a.get("category").map(|v| enum_arg(v, "category")).transpose()?,
                },
                none,
            ),
            "record_training" => cmd(
                C::RecordTraining {
                    worker: self.person(a, "worker")?,
                    source: enum_arg(a.get("source").ok_or_else(|| bad("`source` is required"))?, "source")?,
                    program_title: str_arg(a, "program")?.to_string(),
                    provider_name: str_arg(a, "provider")?.to_string(),
                    hours: u32_arg(a, "hours")?,
                    started_on: opt_date(a, "starts")?,
                    completed_on: date_arg(a, "ends")?,
                    document: str_arg(a, "document")?.to_string(),
                },
                none,
            ),
            "set_reminders" => cmd(
                C::SetReminders {
                    person: self.person(a, "person")?,
                    enabled: opt_bool(a, "enabled")?.ok_or_else(|| bad("`enabled` is required"))?,
                },
                none,
            ),
            "send_reminders" => cmd(C::SendReminders, none),
            "slice" => q(Query::Slice {
                group_by: a.get("group_by").map(|v| enum_arg(v, "group_by")).transpose()?.unwrap_or_default(),
                filters: self.filters(a, "filters")?,
                scope: self.scope(a, "scope")?,
            }),
            "ready_report" => q(Query::Ready {
                report: enum_arg(a.get("report").ok_or_else(|| bad("`report` is required"))?, "report")?,
                scope: self.scope(a, "scope")?,
            }),
            "overdue" => q(Query::Overdue { scope: self.scope(a, "scope")? }),
            "group_registry" => q(Query::GroupRegistry { group: self.group(a, "group")? }),
            "registry" => q(Query::Registry {
                from: date_arg(a, "from")?,
                to: date_arg(a, "to")?,
                scope: self.scope(a, "scope")?,
            }),
            "frdo_export" => q(Query::FrdoExport {
                from: date_arg(a, "from")?,
                to: date_arg(a, "to")?,
                provider: self.opt_org(a, "provider")?,
            }),
            "report" => {
                let metric: Metric = enum_arg(a.get("metric").ok_or_else(|| bad("`metric` is required"))?, "metric")?;
                q(Query::Report { metric, scope: self.scope(a, "scope")? })
            }
            _ => Err(BuildError::Unknown),
        }
    }
}

enum Built {
    Command(Box<Command>, fn(uuid::Uuid) -> Named),
    Query(Query),
}

enum BuildError {
    Refused(Error),
    Unknown,
}

impl From<Error> for BuildError {
    fn from(e: Error) -> Self {
        BuildError::Refused(e)
    }
}

/// The totals of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Scenario reports, in file order.
    pub reports: Vec<ScenarioReport>,
}

impl Summary {
    /// Scenarios that passed.
    pub fn passed(&self) -> usize {
        self.reports.iter().filter(|r| r.passed()).count()
    }

    /// Scenarios that failed.
    pub fn failed(&self) -> usize {
        self.reports.len() - self.passed()
    }

    /// The closing line: `N passed, M failed`.
    pub fn line(&self) -> String {
        format!("{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Parses every file under `paths` (files or folders of `.toml`), then runs them all. A file
/// that cannot be read or parsed stops the run before anything executes.
pub async fn run_paths(paths: &[PathBuf], storage: &StorageSpec) -> Result<Summary, ParseError> {
    let files = collect_files(paths)?;
    let scenarios = files.iter().map(|f| parse_file(f)).collect::<Result<Vec<_>, _>>()?;
    let mut summary = Summary::default();
    for (i, s) in scenarios.iter().enumerate() {
        summary.reports.push(run_scenario(s, storage, i).await);
    }
    Ok(summary)
}

/// Runs one file, for tests.
pub async fn run_file(path: &Path, storage: &StorageSpec) -> Result<ScenarioReport, ParseError> {
    let s = parse_file(path)?;
    Ok(run_scenario(&s, storage, 0).await)
}
