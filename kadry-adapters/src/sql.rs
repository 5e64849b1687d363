//! SQL stores: SQLite (feature `sqlite`, the embedded default) and PostgreSQL (feature
//! `postgres`, production), one implementation expanded for each by a macro so both run the
//! same statements.
//!
//! Every entity keeps its full record as JSON in a `doc` column; the columns beside it carry
//! what constraints and lookups need (unique email key and SNILS, one open voucher application,
//! seats within capacity, certificate numbers, foreign keys). Migrations are embedded per dialect
//! and recorded in kadry's own table `kadry_migrations`, so kadry can live in a host's database.
//!
//! Concurrency: SQLite writers take the database with `BEGIN IMMEDIATE` (one writer at a time,
//! readers in parallel under WAL). PostgreSQL runs writers at READ COMMITTED and locks the rows
//! a rule hangs on (`SELECT … FOR UPDATE` through `Tx::lock`); seats move by a conditional
//! update; constraint violations map to the catalogue's codes; serialization failures, deadlocks
//! and a busy database become `storage.conflict`, which the service retries.
//!
//! Writes: every kind of row a change writes has one description (`RowKind`: table, typed
//! columns, key, conflict clause), from which both `Tx::apply`'s single-row statement and
//! `Store::load`'s multi-row one come. A load (`Batch`) writes each kind of a batch with one
//! statement (PostgreSQL: `UNNEST` of typed arrays; SQLite: `VALUES` lists within its bind
//! limit), the seats per group by one conditional update (R-G3), and the staff facts of the
//! workers it moved once, set-wise (R-R1).

use kadry_core::error::{Error, Result};
use kadry_core::model::*;
use kadry_core::ports::StaffRow;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The settings of a report's transaction on PostgreSQL (`SET LOCAL`). A report is one large
/// aggregate: JIT compilation costs more than it saves (2.3 s of CPU under load); its hash
/// tables get memory enough for a region's groups; and, since the planner cannot count the
/// groups of computed keys (it guesses a hundred times too many), a tuple passed up from a
/// parallel worker is priced at what a partial aggregate actually sends, so the workers
/// aggregate. See docs/performance.md. Public so that hand-written reports (the bench's
/// baseline) can run under the same settings.
pub const PG_REPORT_SETTINGS: &str =
    "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL parallel_tuple_cost = 0.001";

/// The name of kadry's own migrations table.
pub const MIGRATIONS_TABLE: &str = "kadry_migrations";

fn decode<T: DeserializeOwned>(doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| Error::Storage(format!("a stored record does not decode: {e}")))
}

fn encode<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Storage(format!("a record does not encode: {e}")))
}

/// The stable text of a unit enum (its serde name), for status columns.
fn label<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn micros(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp_micros()
}

/// Maps a database error to the catalogue: constraint violations to the rule they back,
/// conflicts to `storage.conflict`, the rest to `storage.failed`.
fn map_err(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            let name = d.constraint().unwrap_or_default().to_string();
            let msg = d.message().to_string();
            let hit = |constraint: &str, sqlite_text: &str| name == constraint || msg.contains(sqlite_text);
            if hit("kadry_persons_email_key", "kadry_persons.email_key") {
                Error::EmailTaken // R-A2
            } else if hit("kadry_persons_snils", "kadry_persons.snils") {
                Error::SnilsTaken // R-A3
            } else if hit("kadry_vouchers_one_open", "kadry_vouchers.person") {
                Error::VoucherPendingExists // R-V3
            } else if hit("kadry_groups_seats", "kadry_groups_seats") {
                Error::GroupFull // R-G3
            } else if hit("kadry_funding_within", "kadry_funding_within") {
                Error::FundingLimitExceeded // R-F1
            } else if hit("kadry_quotas_one_per_year", "kadry_quotas.holder") {
                Error::InvalidState("the worker holds a number for the year already".into()) // R-W3
            } else if hit("kadry_responses_once", "kadry_responses.survey") {
                Error::InvalidState("the survey is answered already: once each".into()) // R-R2
            } else if hit("kadry_plans_once", "kadry_plans.person") {
                Error::InvalidState("the training is already planned".into())
            } else if hit("kadry_trainings_certificate", "kadry_trainings.provider")
                || matches!(code.as_str(), "40001" | "40P01" | "55P03" | "5" | "6" | "261" | "262" | "517")
                || msg.contains("database is locked")
            {
                Error::Conflict(msg)
            } else if code == "23503" || msg.contains("FOREIGN KEY constraint failed") {
                Error::NotFound(format!("a referenced record: {msg}"))
            } else {
                Error::Storage(format!("{code}: {msg}"))
            }
        }
        sqlx::Error::PoolTimedOut => Error::Conflict("no free database connection".into()),
        _ => Error::Storage(e.to_string()),
    }
}

/// The facts insert of migration 0010 for the workers `$who` selects (`$who_e` is the same
/// condition on `e.person`): one row per active employment, the organisation's territory and
/// kind, the worker's profile columns, the last three passed trainings and whether the worker
/// holds another active employment. A literal so that both dialects prepare the same text.
macro_rules! facts_insert {
    ($who:literal, $who_e:literal) => {
        concat!(
            "INSERT INTO kadry_staff_facts (employment, seq, person, org, territory, org_kind, position, pedagogical, \
             category, parental_leave, subject, birth_year, education, experience_since, last_funding, d1, h1, d2, h2, \
             d3, h3, more, shared) \
             SELECT e.id, e.seq, e.person, e.org, o.territory, o.kind, e.position, e.pedagogical, e.category, \
             e.parental_leave, p.subject, p.birth_year, p.education, p.experience_since, r.funding, r.d1, \
             COALESCE(r.h1, 0), r.d2, COALESCE(r.h2, 0), r.d3, COALESCE(r.h3, 0), COALESCE(r.more, FALSE), c.shared \
             FROM kadry_employments e JOIN kadry_orgs o ON o.id = e.org JOIN kadry_persons p ON p.id = e.person \
             JOIN (SELECT person, COUNT(*) > 1 AS shared FROM kadry_employments WHERE status = 'active' AND ",
            $who,
            " GROUP BY person) c ON c.person = e.person \
             LEFT JOIN (SELECT person, MAX(CASE WHEN n = 1 THEN completed_on END) AS d1, \
             MAX(CASE WHEN n = 1 THEN hours END) AS h1, MAX(CASE WHEN n = 2 THEN completed_on END) AS d2, \
             MAX(CASE WHEN n = 2 THEN hours END) AS h2, MAX(CASE WHEN n = 3 THEN completed_on END) AS d3, \
             MAX(CASE WHEN n = 3 THEN hours END) AS h3, MAX(CASE WHEN n = 1 THEN funding END) AS funding, \
             MAX(n) > 3 AS more \
             FROM (SELECT person, completed_on, hours, funding, \
             ROW_NUMBER() OVER (PARTITION BY person ORDER BY completed_on DESC, seq DESC) AS n \
             FROM kadry_trainings WHERE passed AND ",
            $who,
            ") ranked WHERE n <= 4 GROUP BY person) r ON r.person = e.person \
             WHERE e.status = 'active' AND ",
            $who_e
        )
    };
}

/// Whose staff facts (migration 0010) a change moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FactsOf {
    /// One worker's: an employment, the person, a passed training.
    Person,
    /// Everyone employed by an organisation: its territory or kind.
    Org,
}

/// R-R1: the two statements that rewrite the staff facts of the workers `of` selects by their
/// ids, `ids` the condition on an id column (` = $1` for one; a set's differs by dialect): the
/// rows go, and the insert of migration 0010 puts back what the tables now say, so the facts
/// stay a function of the records and never drift.
fn facts_refresh(of: FactsOf, ids: &str) -> [String; 2] {
    let [delete, insert] = match of {
        FactsOf::Person => {
            ["DELETE FROM kadry_staff_facts WHERE person{ids}", facts_insert!("person{ids}", "e.person{ids}")]
        }
        FactsOf::Org => [
            "DELETE FROM kadry_staff_facts WHERE person IN (SELECT person FROM kadry_employments WHERE org{ids})",
            facts_insert!(
                "person IN (SELECT person FROM kadry_employments WHERE org{ids})",
                "e.person IN (SELECT person FROM kadry_employments WHERE org{ids})"
            ),
        ],
    };
    [delete.replace("{ids}", ids), insert.replace("{ids}", ids)]
}

/// Whose staff facts a change moves, and the key: a person or an organisation written, an
/// employment, a passed training (R-R1).
fn facts_of(change: &kadry_core::ports::Change) -> Option<(FactsOf, String)> {
    use kadry_core::ports::Change;
    match change {
        Change::PutOrg(o) => Some((FactsOf::Org, o.id.to_string())),
        Change::PutPerson(p) => Some((FactsOf::Person, p.id.to_string())),
        Change::PutEmployment(e) => Some((FactsOf::Person, e.person.to_string())),
        Change::AddTraining(t) if t.passed => Some((FactsOf::Person, t.person.to_string())),
        _ => None,
    }
}

/// A report scope as a filter on rows whose organisation's territory and id are in the columns
/// `territory` and `org`, and its bound value.
fn scope_on(scope: Scope, territory: &str, org: &str) -> (String, Option<String>) {
    match scope {
        Scope::Region => ("1 = 1".into(), None),
        Scope::Territory(t) => (format!("{territory} = $1"), Some(t.to_string())),
        Scope::Organisation(o) => (format!("{org} = $1"), Some(o.to_string())),
    }
}

/// The scope filter on `kadry_orgs o` for report rows, and its bound value.
fn scope_filter(scope: Scope) -> (String, Option<String>) {
    scope_on(scope, "o.territory", "o.id")
}

/// The scope filter on the staff facts `f` (migration 0010), and its bound value.
fn facts_scope(scope: Scope) -> (String, Option<String>) {
    scope_on(scope, "f.territory", "f.org")
}

/// R-R1: a report in any slice as one aggregate statement over the staff facts (migration
/// 0010: one row per active employment), filtered, grouped and counted in the database. It
/// must answer what [`kadry_core::report::aggregate`] computes from the same records (the
/// storage contract suite compares them). Only kadry's own fragments and computed dates and
/// numbers are written into the text; every value a caller gave is bound. Returns the
/// statement and its bound values in order.
///
/// A worker counts once in a group, with their hours once, however many of their active
/// employments fall into it.
pub fn slice_sql(spec: &kadry_core::report::SliceSpec) -> (String, Vec<String>) {
    use chrono::Datelike;
    use kadry_core::report::Dimension as D;
    let (scope, scope_value) = facts_scope(spec.scope);
    let mut binds: Vec<String> = scope_value.into_iter().collect();
    let today = spec.today.to_string();
    let cutoff = spec.cutoff.to_string();
    let year = spec.today.year();
    let mmdd = format!("{:02}-{:02}", spec.today.month(), spec.today.day());
    let expr = |d: D| -> String {
        match d {
            D::Territory => "f.territory".into(),
            D::Organisation => "f.org".into(),
            D::OrgKind => "COALESCE(f.org_kind, 'other')".into(),
            D::Position => "f.position".into(),
            D::Pedagogical => "CASE WHEN f.pedagogical THEN 'yes' ELSE 'no' END".into(),
            D::Subject => "COALESCE(f.subject, 'none')".into(),
            D::AgeBand => format!(
                "CASE WHEN f.birth_year IS NULL THEN 'unknown' WHEN {year} - f.birth_year < 30 THEN 'under_30' \
                 WHEN {year} - f.birth_year < 40 THEN '30_39' WHEN {year} - f.birth_year < 50 THEN '40_49' \
                 WHEN {year} - f.birth_year < 60 THEN '50_59' ELSE '60_plus' END"
            ),
            D::EducationLevel => "COALESCE(f.education, 'unknown')".into(),
            D::Category => "COALESCE(f.category, 'none')".into(),
            D::ExperienceBand => {
                let y = format!(
                    "({year} - CAST(substr(f.experience_since, 1, 4) AS INTEGER) \
                     - CASE WHEN substr(f.experience_since, 6, 5) > '{mmdd}' THEN 1 ELSE 0 END)"
                );
                format!(
                    "CASE WHEN f.experience_since IS NULL THEN 'unknown' WHEN {y} < 3 THEN 'under_3' \
                     WHEN {y} < 5 THEN '3_5' WHEN {y} < 10 THEN '5_10' WHEN {y} < 20 THEN '10_20' ELSE '20_plus' END"
                )
            }
            D::Funding => "CASE WHEN f.d1 IS NULL THEN 'none' ELSE COALESCE(f.last_funding, 'other') END".into(),
            D::TrainingStatus => {
                format!("CASE WHEN f.d1 IS NULL THEN 'never' WHEN f.d1 >= '{cutoff}' THEN 'trained' ELSE 'overdue' END")
            }
            D::VoucherStatus => format!(
                "CASE WHEN EXISTS (SELECT 1 FROM kadry_vouchers v WHERE v.person = f.person AND v.status = 'requested') \
                 THEN 'requested' ELSE COALESCE((SELECT CASE WHEN EXISTS (SELECT 1 FROM kadry_enrollments n \
                 WHERE n.voucher = v.id AND n.status IN ('passed', 'failed')) THEN 'used' \
                 WHEN v.valid_until >= '{today}' THEN 'active' ELSE 'expired' END \
                 FROM kadry_vouchers v WHERE v.person = f.person AND v.status = 'issued' \
                 ORDER BY v.issued_on DESC, v.seq DESC LIMIT 1), 'none') END"
            ),
        }
    };
    let mut wheres = vec![scope];
    for f in &spec.filters {
        let mut marks = Vec::new();
        for v in &f.values {
            binds.push(v.clone());
            marks.push(format!("${}", binds.len()));
        }
        wheres.push(format!("{} IN ({})", expr(f.dimension), marks.join(", ")));
    }
    // The hours within the cycle: the last three passed trainings are in the row; only a worker
    // with an older one still within the cycle needs their records folded.
    let within = |d: &str, h: &str| format!("CASE WHEN f.{d} >= '{cutoff}' THEN f.{h} ELSE 0 END");
    let inline = format!("{} + {} + {}", within("d1", "h1"), within("d2", "h2"), within("d3", "h3"));
    let folded = format!("f.more AND COALESCE(f.d3 >= '{cutoff}', FALSE)");
    let hours = format!(
        "CASE WHEN {folded} THEN (SELECT COALESCE(SUM(t.hours), 0) FROM kadry_trainings t \
         WHERE t.person = f.person AND t.passed AND t.completed_on >= '{cutoff}') ELSE {inline} END"
    );
    let ks: Vec<String> = (0..spec.group_by.len()).map(|i| format!("k{i}")).collect();
    let select_keys: String =
        spec.group_by.iter().enumerate().map(|(i, d)| format!("{} AS k{i}, ", expr(*d))).collect();
    let keys_comma: String = ks.iter().map(|k| format!("{k}, ")).collect();
    let by = |extra: &[&str]| -> String {
        let all: Vec<&str> = ks.iter().map(String::as_str).chain(extra.iter().copied()).collect();
        if all.is_empty() { String::new() } else { format!(" GROUP BY {}", all.join(", ")) }
    };
    let wheres = wheres.join(" AND ");
    // Two parts. The plain rows (a worker with one active employment and no record to fold,
    // nearly all) are counted as they are: no correlated subquery, so PostgreSQL aggregates
    // them by hash in its parallel workers. The rest (a worker with another active employment,
    // or with more trainings within the cycle than the row holds; partial indexes find them)
    // are reduced to one row per worker and group, with the fold, first.
    let plain = format!(
        "SELECT {select_keys}{inline} AS hours FROM kadry_staff_facts f \
         WHERE {wheres} AND NOT f.shared AND NOT ({folded})"
    );
    let careful = format!(
        "SELECT {select_keys}f.person AS person, {hours} AS hours FROM kadry_staff_facts f \
         WHERE {wheres} AND (f.shared OR ({folded}))"
    );
    let order = if ks.is_empty() { String::new() } else { format!(" ORDER BY {}", ks.join(", ")) };
    let sql = format!(
        "SELECT {keys_comma}CAST(COALESCE(SUM(w), 0) AS BIGINT) AS workers, CAST(COALESCE(SUM(h), 0) AS BIGINT) AS hours \
         FROM (SELECT {keys_comma}COUNT(*) AS w, SUM(hours) AS h FROM ({plain}) a{by_keys} \
         UNION ALL SELECT {keys_comma}COUNT(*) AS w, SUM(hours) AS h FROM \
         (SELECT {keys_comma}person, MAX(hours) AS hours FROM ({careful}) b{by_person}) c{by_keys}) parts{by_keys}{order}",
        by_keys = by(&[]),
        by_person = by(&["person"]),
    );
    (sql, binds)
}

/// One row of [`eligible_sql`]: the employment's order, the worker, the organisation, the
/// position and the last passed day.
type EligibleRow = (i64, String, String, String, Option<String>);

/// R-W3 stage 1, R-V11: the statement selecting from the staff facts the active pedagogical
/// employments of `scope` whose worker is due in `year` (never trained, or last passed on or
/// before [`kadry_core::planning::due_if_last_passed_by`]), leaving out those on parental leave
/// unless the policy includes them; and the scope's bound value.
fn eligible_sql(scope: Scope, policy: &kadry_core::policy::RegionPolicy, year: i32) -> (String, Option<String>) {
    let (scope, value) = facts_scope(scope);
    let by = kadry_core::planning::due_if_last_passed_by(policy, year);
    let leave = if policy.eligibility_includes_parental_leave { "" } else { " AND NOT f.parental_leave" };
    let sql = format!(
        "SELECT f.seq, f.person, f.org, f.position, f.d1 FROM kadry_staff_facts f \
         WHERE {scope} AND f.pedagogical{leave} AND (f.d1 IS NULL OR f.d1 <= '{by}')"
    );
    (sql, value)
}

fn parse_id<T: From<uuid::Uuid>>(s: &str) -> Result<T> {
    uuid::Uuid::parse_str(s).map(T::from).map_err(|e| Error::Storage(format!("a stored id does not parse: {e}")))
}

fn parse_day(s: &str) -> Result<chrono::NaiveDate> {
    s.parse().map_err(|e| Error::Storage(format!("a stored day does not parse: {e}")))
}

/// The workers of [`eligible_sql`]'s rows, as [`kadry_core::planning::eligible`] lists them:
/// by worker, each once, at their first employment. `orgs` are the scope's organisations with
/// their territories.
fn eligible_of(
    policy: &kadry_core::policy::RegionPolicy,
    rows: Vec<EligibleRow>,
    orgs: Vec<(String, String)>,
) -> Result<Vec<kadry_core::planning::Eligible>> {
    use kadry_core::planning::{EligibilityReason, Eligible};
    // A national selection is over a million rows: organisations are parsed once each,
    // positions decoded once per label, and the rows ordered by id (not by text) before a
    // worker's later employments go.
    let mut by_id: std::collections::HashMap<String, (kadry_core::ids::OrgId, kadry_core::ids::TerritoryId)> =
        std::collections::HashMap::with_capacity(orgs.len());
    for (id, territory) in orgs {
        let ids = (parse_id(&id)?, parse_id(&territory)?);
        by_id.insert(id, ids);
    }
    let mut positions: std::collections::HashMap<String, Position> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (seq, person, org, position, last) in rows {
        let (org, territory) =
            *by_id.get(&org).ok_or_else(|| Error::Storage(format!("an employment's organisation {org} is missing")))?;
        let position = match positions.get(&position) {
            Some(p) => *p,
            None => {
                let p: Position = decode(&serde_json::Value::String(position.clone()).to_string())?;
                positions.insert(position, p);
                p
            }
        };
        let last = last.as_deref().map(parse_day).transpose()?;
        let eligible = Eligible {
            person: parse_id(&person)?,
            org,
            territory,
            position,
            reason: if last.is_some() { EligibilityReason::CycleEnds } else { EligibilityReason::NeverTrained },
            last_passed_on: last,
            due_by: last.map(|d| kadry_core::policy::RegionPolicy::add_months(d, policy.training_cycle_months)),
        };
        out.push((seq, eligible));
    }
    out.sort_unstable_by_key(|(seq, e)| (e.person, *seq));
    out.dedup_by(|a, b| a.1.person == b.1.person);
    Ok(out.into_iter().map(|(_, e)| e).collect())
}

fn group_rows(
    employments: Vec<(Employment, Organisation)>,
    persons: Vec<(String, Person)>,
    trainings: Vec<(String, TrainingRecord)>,
    vouchers: Vec<(String, Voucher)>,
    enrollments: Vec<(String, Enrollment)>,
) -> Vec<StaffRow> {
    use std::collections::HashMap;
    let facts: HashMap<String, kadry_core::ports::PersonFacts> =
        persons.into_iter().map(|(k, p)| (k, kadry_core::ports::PersonFacts::of(&p))).collect();
    let mut passed: HashMap<String, Vec<kadry_core::ports::Passed>> = HashMap::new();
    for (p, t) in trainings {
        if let Some(x) = kadry_core::ports::Passed::of(&t) {
            passed.entry(p).or_default().push(x);
        }
    }
    let mut by_person_v: HashMap<String, Vec<Voucher>> = HashMap::new();
    for (p, v) in vouchers {
        by_person_v.entry(p).or_default().push(v);
    }
    let mut by_person_e: HashMap<String, Vec<Enrollment>> = HashMap::new();
    for (p, e) in enrollments {
        by_person_e.entry(p).or_default().push(e);
    }
    employments
        .into_iter()
        .map(|(e, o)| {
            let key = e.person.to_string();
            StaffRow {
                org_kind: o.kind,
                territory: o.territory,
                last_passed_on: passed.get(&key).and_then(|v| v.iter().map(|t| t.completed_on).max()),
                person: facts.get(&key).cloned().unwrap_or_default(),
                passed: passed.get(&key).cloned().unwrap_or_default(),
                vouchers: by_person_v.get(&key).cloned().unwrap_or_default(),
                voucher_enrollments: by_person_e.get(&key).cloned().unwrap_or_default(),
                employment: e,
            }
        })
        .collect()
}

/// A value bound into a write.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
}

impl Value {
    fn text(s: impl ToString) -> Value {
        Value::Text(Some(s.to_string()))
    }

    /// The value as text, for a row's key.
    fn key_text(&self) -> String {
        match self {
            Value::Text(t) => t.clone().unwrap_or_default(),
            Value::Int(i) => i.map(|i| i.to_string()).unwrap_or_default(),
            Value::Bool(b) => b.to_string(),
        }
    }
}

/// A column's type, as a multi-row write binds it (PostgreSQL's arrays are typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Int,
    Bool,
}

#[cfg(feature = "postgres")]
impl Ty {
    /// PostgreSQL's array of this type.
    fn pg_array(self) -> &'static str {
        match self {
            Ty::Text => "text[]",
            Ty::Int => "bigint[]",
            Ty::Bool => "boolean[]",
        }
    }
}

/// How one kind of change writes its row: the table, its columns with their types (the order
/// of the row's values), the columns that name a row, and what a row already there becomes.
/// One description serves the single-row statement of `Tx::apply` ([`RowKind::single`]) and
/// the multi-row statement of `Store::load` ([`RowKind::multi`]).
struct RowKind {
    /// Its place among a load's multi-row writes: after every kind whose rows its rows
    /// reference (the unit test `row_kinds_come_after_what_they_reference` reads the foreign
    /// keys).
    rank: usize,
    table: &'static str,
    columns: &'static [(&'static str, Ty)],
    /// The columns that name a row (none for an append without a key).
    key: &'static [&'static str],
    /// `Some`: an upsert on `key`, updating these columns; `None`: an insert, whose duplicate
    /// the table's constraints refuse.
    update: Option<&'static [&'static str]>,
    single: std::sync::OnceLock<String>,
}

impl RowKind {
    const fn new(
        rank: usize,
        table: &'static str,
        columns: &'static [(&'static str, Ty)],
        key: &'static [&'static str],
        update: Option<&'static [&'static str]>,
    ) -> RowKind {
        RowKind { rank, table, columns, key, update, single: std::sync::OnceLock::new() }
    }

    fn names(&self) -> String {
        self.columns.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
    }

    /// `ON CONFLICT … DO UPDATE …` for an upsert, nothing for an insert.
    fn conflict(&self) -> String {
        match self.update {
            Some(update) => {
                let set: Vec<String> = update.iter().map(|c| format!("{c} = excluded.{c}")).collect();
                format!(" ON CONFLICT ({}) DO UPDATE SET {}", self.key.join(", "), set.join(", "))
            }
            None => String::new(),
        }
    }

    /// The statement writing one row (placeholders `$1`… in column order).
    fn single(&'static self) -> &'static str {
        self.single.get_or_init(|| {
            let marks: Vec<String> = (1..=self.columns.len()).map(|i| format!("${i}")).collect();
            format!("INSERT INTO {} ({}) VALUES ({}){}", self.table, self.names(), marks.join(", "), self.conflict())
        })
    }

    /// The statement writing the rows of `{rows}`, a row source named `v` with this kind's
    /// columns, in the order `{order}` gives (the dialect fills both in). `WHERE true` keeps
    /// SQLite from reading the conflict clause's `ON` as a join's.
    fn multi(&self) -> String {
        let picked: Vec<String> = self.columns.iter().map(|(c, _)| format!("v.{c}")).collect();
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {{rows}} WHERE true{{order}}{}",
            self.table,
            self.names(),
            picked.join(", "),
            self.conflict()
        )
    }
}

use Ty::{Bool, Int, Text};

static TERRITORIES: RowKind =
    RowKind::new(0, "kadry_territories", &[("id", Text), ("doc", Text)], &["id"], Some(&["doc"]));
static ORGS: RowKind = RowKind::new(
    1,
    "kadry_orgs",
    &[("id", Text), ("territory", Text), ("parent", Text), ("doc", Text), ("kind", Text)],
    &["id"],
    Some(&["territory", "parent", "doc", "kind"]),
);
/// R-A2, R-A3: the email key and SNILS are unique in the table.
static PERSONS: RowKind = RowKind::new(
    2,
    "kadry_persons",
    &[
        ("id", Text),
        ("email_key", Text),
        ("snils", Text),
        ("doc", Text),
        ("subject", Text),
        ("birth_year", Int),
        ("education", Text),
        ("experience_since", Text),
        ("pending_since", Text),
    ],
    &["id"],
    Some(&["email_key", "snils", "doc", "subject", "birth_year", "education", "experience_since", "pending_since"]),
);
static PROGRAMS: RowKind =
    RowKind::new(3, "kadry_programs", &[("id", Text), ("provider", Text), ("doc", Text)], &["id"], Some(&["doc"]));
/// A group's seats (`taken`, 0 when inserted) move only by [`Change::TakeSeat`] and
/// [`Change::FreeSeat`] (R-G3).
///
/// [`Change::TakeSeat`]: kadry_core::ports::Change::TakeSeat
/// [`Change::FreeSeat`]: kadry_core::ports::Change::FreeSeat
static GROUPS: RowKind = RowKind::new(
    4,
    "kadry_groups",
    &[("id", Text), ("program", Text), ("provider", Text), ("capacity", Int), ("plan_year", Int), ("doc", Text)],
    &["id"],
    Some(&["capacity", "plan_year", "doc"]),
);
static EMPLOYMENTS: RowKind = RowKind::new(
    5,
    "kadry_employments",
    &[
        ("id", Text),
        ("person", Text),
        ("org", Text),
        ("status", Text),
        ("doc", Text),
        ("position", Text),
        ("pedagogical", Bool),
        ("category", Text),
        ("parental_leave", Bool),
    ],
    &["id"],
    Some(&["org", "status", "doc", "position", "pedagogical", "category", "parental_leave"]),
);
static GRANTS: RowKind = RowKind::new(
    6,
    "kadry_grants",
    &[("person", Text), ("role", Text), ("scope", Text), ("doc", Text)],
    &["person", "role", "scope"],
    Some(&["doc"]),
);
static ROLE_REQUESTS: RowKind = RowKind::new(
    7,
    "kadry_role_requests",
    &[("person", Text), ("role", Text), ("doc", Text)],
    &["person", "role"],
    Some(&["doc"]),
);
/// R-V3: one open application per worker, a partial unique index.
static VOUCHERS: RowKind = RowKind::new(
    8,
    "kadry_vouchers",
    &[("id", Text), ("person", Text), ("status", Text), ("doc", Text), ("issued_on", Text), ("valid_until", Text)],
    &["id"],
    Some(&["status", "doc", "issued_on", "valid_until"]),
);
static ENROLLMENTS: RowKind = RowKind::new(
    9,
    "kadry_enrollments",
    &[("id", Text), ("grp", Text), ("person", Text), ("voucher", Text), ("status", Text), ("doc", Text)],
    &["id"],
    Some(&["status", "doc"]),
);
/// R-G6: certificate and statement numbers are unique per provider and year.
static TRAININGS: RowKind = RowKind::new(
    10,
    "kadry_trainings",
    &[
        ("person", Text),
        ("provider", Text),
        ("cert_year", Int),
        ("cert_number", Text),
        ("passed", Bool),
        ("completed_on", Text),
        ("doc", Text),
        ("hours", Int),
        ("funding", Text),
        ("stmt_year", Int),
        ("stmt_number", Text),
    ],
    &[],
    None,
);
static PLANS: RowKind = RowKind::new(
    11,
    "kadry_plans",
    &[("id", Text), ("person", Text), ("program", Text), ("year", Int), ("doc", Text)],
    &["id"],
    Some(&["doc"]),
);
static CYCLES: RowKind = RowKind::new(12, "kadry_cycles", &[("year", Int), ("doc", Text)], &["year"], Some(&["doc"]));
/// R-W3: numbers unique, one per worker and year.
static QUOTAS: RowKind = RowKind::new(
    13,
    "kadry_quotas",
    &[("number", Text), ("year", Int), ("holder", Text), ("org", Text), ("doc", Text)],
    &["number"],
    Some(&["holder", "doc"]),
);
static PREFERENCES: RowKind = RowKind::new(
    14,
    "kadry_preferences",
    &[("person", Text), ("year", Int), ("doc", Text)],
    &["person", "year"],
    Some(&["doc"]),
);
static SURVEYS: RowKind = RowKind::new(
    15,
    "kadry_surveys",
    &[("id", Text), ("kind", Text), ("grp", Text), ("created_by", Text), ("doc", Text)],
    &["id"],
    Some(&["doc"]),
);
/// R-R2: the `UNIQUE (survey, person)` constraint keeps one answer each.
static RESPONSES: RowKind = RowKind::new(
    16,
    "kadry_responses",
    &[("survey", Text), ("person", Text), ("answered_on", Text), ("doc", Text)],
    &["survey", "person"],
    None,
);
/// R-N1: the outbox.
static OUTBOX: RowKind =
    RowKind::new(17, "kadry_outbox", &[("id", Text), ("person", Text), ("doc", Text)], &["id"], None);
static AUDIT: RowKind =
    RowKind::new(18, "kadry_audit", &[("at", Int), ("action", Text), ("subject", Text), ("doc", Text)], &[], None);
/// R-F1: the `CHECK` refuses a limit below what is committed.
static LIMITS: RowKind = RowKind::new(
    19,
    "kadry_funding",
    &[("year", Int), ("source", Text), ("amount_limit", Int)],
    &["year", "source"],
    Some(&["amount_limit"]),
);

/// Every kind of row, in the order a load writes them (each at its [`RowKind::rank`]).
static ROW_KINDS: [&RowKind; 20] = [
    &TERRITORIES,
    &ORGS,
    &PERSONS,
    &PROGRAMS,
    &GROUPS,
    &EMPLOYMENTS,
    &GRANTS,
    &ROLE_REQUESTS,
    &VOUCHERS,
    &ENROLLMENTS,
    &TRAININGS,
    &PLANS,
    &CYCLES,
    &QUOTAS,
    &PREFERENCES,
    &SURVEYS,
    &RESPONSES,
    &OUTBOX,
    &AUDIT,
    &LIMITS,
];

/// The row a change writes, in its kind's column order.
struct Row {
    kind: &'static RowKind,
    values: Vec<Value>,
}

impl Row {
    /// What names the row in its table (`None` for an append without a key).
    fn key(&self) -> Option<(&'static str, String)> {
        if self.kind.key.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .kind
            .key
            .iter()
            .filter_map(|k| self.kind.columns.iter().position(|(c, _)| c == k))
            .map(|i| self.values[i].key_text())
            .collect();
        Some((self.kind.table, parts.join("\u{1f}")))
    }
}

/// The row `change` writes, for every change that writes one row of its own; `None` for a
/// seat (an update, [`part_of`]), a deletion, a release and a commitment against a limit.
fn row_of(change: &kadry_core::ports::Change) -> Result<Option<Row>> {
    use kadry_core::ports::Change;
    let year = |d: &chrono::NaiveDate| Some(i64::from(chrono::Datelike::year(d)));
    let (kind, values): (&'static RowKind, Vec<Value>) = match change {
        Change::PutTerritory(t) => (&TERRITORIES, vec![Value::text(t.id), Value::text(encode(t)?)]),
        Change::PutOrg(o) => (
            &ORGS,
            vec![
                Value::text(o.id),
                Value::text(o.territory),
                Value::Text(o.parent.map(|p| p.to_string())),
                Value::text(encode(o)?),
                Value::text(label(&o.kind)),
            ],
        ),
        Change::PutPerson(p) => {
            let facts = kadry_core::ports::PersonFacts::of(p);
            (
                &PERSONS,
                vec![
                    Value::text(p.id),
                    Value::text(p.email.key()),
                    Value::Text(p.snils.as_ref().map(|s| s.digits().to_string())),
                    Value::text(encode(p)?),
                    Value::Text(facts.subject),
                    Value::Int(facts.birth_year.map(i64::from)),
                    Value::Text(facts.education.map(|l| label(&l))),
                    Value::Text(facts.experience_since.map(|d| d.to_string())),
                    Value::Text(facts.pending_since.map(|d| d.to_string())),
                ],
            )
        }
        Change::PutProgram(p) => (&PROGRAMS, vec![Value::text(p.id), Value::text(p.provider), Value::text(encode(p)?)]),
        Change::PutGroup(g) => (
            &GROUPS,
            vec![
                Value::text(g.id),
                Value::text(g.program),
                Value::text(g.provider),
                Value::Int(Some(i64::from(g.capacity))),
                Value::Int(g.plan.as_ref().map(|p| i64::from(p.year))),
                Value::text(encode(g)?),
            ],
        ),
        Change::PutEmployment(e) => (
            &EMPLOYMENTS,
            vec![
                Value::text(e.id),
                Value::text(e.person),
                Value::text(e.org),
                Value::text(label(&e.status)),
                Value::text(encode(e)?),
                Value::text(label(&e.position)),
                Value::Bool(e.pedagogical),
                Value::Text(e.category.map(|c| label(&c))),
                Value::Bool(e.parental_leave),
            ],
        ),
        Change::PutGrant(g) => (
            &GRANTS,
            vec![
                Value::text(g.person),
                Value::text(g.role.as_str()),
                Value::text(encode(&g.scope)?),
                Value::text(encode(g)?),
            ],
        ),
        Change::PutRoleRequest(r) => {
            (&ROLE_REQUESTS, vec![Value::text(r.person), Value::text(r.role.as_str()), Value::text(encode(r)?)])
        }
        Change::PutVoucher(v) => (
            &VOUCHERS,
            vec![
                Value::text(v.id),
                Value::text(v.person),
                Value::text(label(&v.status)),
                Value::text(encode(v)?),
                Value::Text(v.issued_on.map(|d| d.to_string())),
                Value::Text(v.valid_until.map(|d| d.to_string())),
            ],
        ),
        Change::PutEnrollment(e) => (
            &ENROLLMENTS,
            vec![
                Value::text(e.id),
                Value::text(e.group),
                Value::text(e.person),
                Value::Text(e.voucher.map(|v| v.to_string())),
                Value::text(label(&e.status)),
                Value::text(encode(e)?),
            ],
        ),
        Change::AddTraining(t) => (
            &TRAININGS,
            vec![
                Value::text(t.person),
                Value::Text(t.provider.map(|p| p.to_string())),
                Value::Int(t.certificate.as_ref().and_then(|c| year(&c.issued_on))),
                Value::Text(t.certificate.as_ref().map(|c| c.number.clone())),
                Value::Bool(t.passed),
                Value::text(t.completed_on),
                Value::text(encode(t)?),
                Value::Int(Some(i64::from(t.hours))),
                Value::Text(t.funding.map(|f| label(&f))),
                Value::Int(t.statement.as_ref().and_then(|c| year(&c.issued_on))),
                Value::Text(t.statement.as_ref().map(|c| c.number.clone())),
            ],
        ),
        Change::PutPlan(p) => (
            &PLANS,
            vec![
                Value::text(p.id),
                Value::text(p.person),
                Value::text(p.program),
                Value::Int(Some(i64::from(p.year))),
                Value::text(encode(p)?),
            ],
        ),
        Change::PutCycle(c) => (&CYCLES, vec![Value::Int(Some(i64::from(c.year))), Value::text(encode(c)?)]),
        Change::PutQuota(q) => (
            &QUOTAS,
            vec![
                Value::text(&q.number),
                Value::Int(Some(i64::from(q.year))),
                Value::text(q.holder),
                Value::text(q.org),
                Value::text(encode(q)?),
            ],
        ),
        Change::PutPreferences(p) => {
            (&PREFERENCES, vec![Value::text(p.person), Value::Int(Some(i64::from(p.year))), Value::text(encode(p)?)])
        }
        Change::PutSurvey(s) => (
            &SURVEYS,
            vec![
                Value::text(s.id),
                Value::text(s.kind.as_str()),
                Value::Text(s.kind.group().map(|g| g.to_string())),
                Value::text(s.created_by),
                Value::text(encode(s)?),
            ],
        ),
        Change::AddResponse(r) => (
            &RESPONSES,
            vec![Value::text(r.survey), Value::text(r.person), Value::text(r.answered_on), Value::text(encode(r)?)],
        ),
        Change::Notify(n) => (&OUTBOX, vec![Value::text(n.id), Value::text(n.person), Value::text(encode(n)?)]),
        Change::Audit(a) => (
            &AUDIT,
            vec![
                Value::Int(Some(micros(a.at))),
                Value::text(&a.action),
                Value::Text(a.subject.map(|s| s.to_string())),
                Value::text(encode(a)?),
            ],
        ),
        Change::SetLimit { year, source, limit } => (
            &LIMITS,
            vec![
                Value::Int(Some(i64::from(*year))),
                Value::text(label(source)),
                Value::Int(Some(kadry_core::planning::to_kopecks(*limit))),
            ],
        ),
        Change::TakeSeat(_)
        | Change::FreeSeat(_)
        | Change::DeleteRoleRequest { .. }
        | Change::Commit { .. }
        | Change::Release { .. } => return Ok(None),
    };
    Ok(Some(Row { kind, values }))
}

/// One write of a combined statement: its SQL (placeholders from `$1`), its values, the row it
/// writes (two writes of one row cannot share a statement) and the refusal when it must change
/// a row and changes none.
struct Part {
    sql: &'static str,
    values: Vec<Value>,
    row: Option<(&'static str, String)>,
    refusal: Option<fn() -> Error>,
}

/// R-G3: one seat, by a conditional update, never read-then-write.
const TAKE_SEAT: &str = "UPDATE kadry_groups SET taken = taken + 1 WHERE id = $1 AND taken < capacity";

/// The part `Tx::apply` runs for a change that writes one row, or takes a seat; `None` for
/// the others.
fn part_of(change: &kadry_core::ports::Change) -> Result<Option<Part>> {
    if let kadry_core::ports::Change::TakeSeat(id) = change {
        return Ok(Some(Part {
            sql: TAKE_SEAT,
            values: vec![Value::text(id)],
            row: Some((GROUPS.table, id.to_string())),
            refusal: Some(|| Error::GroupFull),
        }));
    }
    Ok(row_of(change)?.map(|row| Part { sql: row.kind.single(), row: row.key(), values: row.values, refusal: None }))
}

/// Whether a change is of a command's usual tail (a seat, an enrolment, a notification, the
/// audit entry), which PostgreSQL writes as parts of one statement. Other changes are written
/// alone: a change that moves the staff facts must be in the tables before they are rewritten.
fn in_tail(change: &kadry_core::ports::Change) -> bool {
    use kadry_core::ports::Change;
    matches!(change, Change::TakeSeat(_) | Change::PutEnrollment(_) | Change::Notify(_) | Change::Audit(_))
}

/// The writes of `changes` as parts of one statement, when every change is of a command's
/// tail ([`in_tail`]) and no row is written twice; `None` otherwise.
fn combinable(changes: &[kadry_core::ports::Change]) -> Result<Option<Vec<Part>>> {
    let mut parts: Vec<Part> = Vec::with_capacity(changes.len());
    for change in changes {
        if !in_tail(change) {
            return Ok(None);
        }
        let Some(part) = part_of(change)? else {
            return Ok(None);
        };
        if part.row.is_some() && parts.iter().any(|p| p.row == part.row) {
            return Ok(None);
        }
        parts.push(part);
    }
    Ok(Some(parts))
}

/// What [`Batch::gather`] did with a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gathered {
    /// It joined the batch.
    Joined,
    /// It writes a row the batch writes already, or a group whose seats the batch takes: write
    /// the batch first, then gather it again.
    WriteFirst,
    /// It is written on its own (a freed seat, a deleted role request, a commitment, a
    /// release), once the batch is written.
    Alone,
}

/// A kind of row and the rows of it a batch writes, in order.
type KindRows = (&'static RowKind, Vec<Vec<Value>>);

/// The changes of a load gathered for multi-row writes: each kind's rows in order, the seats
/// taken per group (R-G3), and the rows named so far. Writes of distinct rows commute, so a
/// batch writes its kinds one after another in [`RowKind::rank`] order (a row after the rows
/// it references), then its seats; a change to a row the batch holds already waits until the
/// batch is written ([`Gathered::WriteFirst`]), so every row goes through the states it
/// would go through one change at a time.
struct Batch {
    rows: Vec<Vec<Vec<Value>>>,
    seats: Vec<(String, i64)>,
    seat_at: std::collections::HashMap<String, usize>,
    named: std::collections::HashSet<(&'static str, String)>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            rows: ROW_KINDS.iter().map(|_| Vec::new()).collect(),
            seats: Vec::new(),
            seat_at: Default::default(),
            named: Default::default(),
        }
    }

    fn is_empty(&self) -> bool {
        self.seats.is_empty() && self.rows.iter().all(Vec::is_empty)
    }

    /// Gathers `change` if it can join the batch.
    fn gather(&mut self, change: &kadry_core::ports::Change) -> Result<Gathered> {
        if let kadry_core::ports::Change::TakeSeat(group) = change {
            // R-G3: a group's seats are summed and taken by one conditional update.
            let key = group.to_string();
            self.named.insert((GROUPS.table, key.clone()));
            match self.seat_at.get(&key) {
                Some(&i) => self.seats[i].1 += 1,
                None => {
                    self.seat_at.insert(key.clone(), self.seats.len());
                    self.seats.push((key, 1));
                }
            }
            return Ok(Gathered::Joined);
        }
        let Some(row) = row_of(change)? else {
            return Ok(Gathered::Alone);
        };
        if let Some(key) = row.key()
            && !self.named.insert(key)
        {
            return Ok(Gathered::WriteFirst);
        }
        self.rows[row.kind.rank].push(row.values);
        Ok(Gathered::Joined)
    }

    /// Empties the batch: each kind with rows and its rows, in rank order, and the seats to
    /// take per group.
    fn take(&mut self) -> (Vec<KindRows>, Vec<(String, i64)>) {
        let kinds = ROW_KINDS
            .iter()
            .zip(self.rows.iter_mut())
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(kind, rows)| (*kind, std::mem::take(rows)))
            .collect();
        self.seat_at.clear();
        self.named.clear();
        (kinds, std::mem::take(&mut self.seats))
    }
}

/// The workers and organisations whose staff facts a load moved, each once, in order.
#[derive(Default)]
struct Touched {
    persons: Vec<String>,
    orgs: Vec<String>,
    seen: std::collections::HashSet<(bool, String)>,
}

impl Touched {
    fn note(&mut self, change: &kadry_core::ports::Change) {
        if let Some((of, key)) = facts_of(change) {
            let org = of == FactsOf::Org;
            if self.seen.insert((org, key.clone())) {
                if org { self.orgs.push(key) } else { self.persons.push(key) }
            }
        }
    }
}

/// The columns of the seats a load takes: the group and how many.
const SEAT_COLUMNS: &[(&str, Ty)] = &[("id", Ty::Text), ("n", Ty::Int)];

/// R-G3: the seats of many groups as one conditional update over `{rows}` (group, count): a
/// group with too few seats free (or none such) is left as it is, and the load refuses with
/// `group.full` when fewer groups changed than it named.
const TAKE_SEATS: &str = "UPDATE kadry_groups AS g SET taken = g.taken + v.n FROM {rows} \
                          WHERE g.id = v.id AND g.taken + v.n <= g.capacity";

/// The column of the workers or organisations whose staff facts a load rewrites.
const ID_COLUMN: &[(&str, Ty)] = &[("id", Ty::Text)];

/// PostgreSQL: the row source of a multi-row write, `v` with `columns` (and `ord`, their
/// order), one typed array bound per column.
#[cfg(feature = "postgres")]
fn unnest_source(columns: &[(&str, Ty)]) -> String {
    let arrays: Vec<String> =
        columns.iter().enumerate().map(|(i, (_, ty))| format!("${}::{}", i + 1, ty.pg_array())).collect();
    let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
    format!("UNNEST({}) WITH ORDINALITY AS v({}, ord)", arrays.join(", "), names.join(", "))
}

/// A column of values, as PostgreSQL binds an array.
#[cfg(feature = "postgres")]
enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<bool>),
}

/// `rows` turned into columns of `columns`' types.
#[cfg(feature = "postgres")]
fn by_column(columns: &[(&str, Ty)], rows: Vec<Vec<Value>>) -> Result<Vec<Column>> {
    let n = rows.len();
    let mut out: Vec<Column> = columns
        .iter()
        .map(|(_, ty)| match ty {
            Ty::Text => Column::Text(Vec::with_capacity(n)),
            Ty::Int => Column::Int(Vec::with_capacity(n)),
            Ty::Bool => Column::Bool(Vec::with_capacity(n)),
        })
        .collect();
    for row in rows {
        if row.len() != columns.len() {
            return Err(Error::Storage("a row of another width than its table's columns".into()));
        }
        for (column, value) in out.iter_mut().zip(row) {
            match (column, value) {
                (Column::Text(c), Value::Text(v)) => c.push(v),
                (Column::Int(c), Value::Int(v)) => c.push(v),
                (Column::Bool(c), Value::Bool(v)) => c.push(v),
                _ => return Err(Error::Storage("a value of another type than its column".into())),
            }
        }
    }
    Ok(out)
}

/// SQLite's limit on a statement's bound values (`SQLITE_MAX_VARIABLE_NUMBER`): a multi-row
/// write sends at most this many at a time.
#[cfg(feature = "sqlite")]
const SQLITE_MAX_BINDS: usize = 32_766;

/// SQLite: the row source of a multi-row write of `rows` rows, `v` with `columns`, from a
/// `VALUES` list bound row after row. Its placeholders are anonymous (`?`): SQLite looks a
/// numbered or named one up in a list as long as the statement's, which makes a statement of
/// thousands of them cost quadratic time to prepare and bind.
#[cfg(feature = "sqlite")]
fn values_source(columns: &[(&str, Ty)], rows: usize) -> String {
    let names: Vec<String> = columns.iter().enumerate().map(|(i, (c, _))| format!("column{} AS {c}", i + 1)).collect();
    let tuple = format!("({})", vec!["?"; columns.len()].join(", "));
    format!("(SELECT {} FROM (VALUES {})) AS v", names.join(", "), vec![tuple; rows].join(", "))
}

/// `sql` with every placeholder `$n` renumbered `$(n + by)`.
fn shift_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' {
            let mut n = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            match n.parse::<usize>() {
                Ok(n) => out.push_str(&(n + by).to_string()),
                Err(_) => out.push_str(&n),
            }
        }
    }
    out
}

/// PostgreSQL: the parts as one statement of data-modifying `WITH` queries, answering how many
/// rows each part that can refuse changed, in order (a data-modifying `WITH` query runs to
/// completion whether or not it is read, so the others return nothing); and its values in
/// placeholder order.
fn combined_sql(parts: &[Part]) -> (String, Vec<&Value>) {
    let mut withs = Vec::with_capacity(parts.len());
    let mut counts = Vec::with_capacity(parts.len());
    let mut values = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let sql = shift_placeholders(part.sql, values.len());
        if part.refusal.is_some() {
            withs.push(format!("w{i} AS ({sql} RETURNING 1)"));
            counts.push(format!("(SELECT COUNT(*) FROM w{i})"));
        } else {
            withs.push(format!("w{i} AS ({sql})"));
        }
        values.extend(part.values.iter());
    }
    if counts.is_empty() {
        counts.push("0".into());
    }
    (format!("WITH {} SELECT {}", withs.join(", "), counts.join(", ")), values)
}

/// What [`kadry_core::ports::Tx::prefetch`] fetched: raw documents by key, read once and
/// decoded on use. Emptied by every applied change, so it never outlives what it mirrors.
#[derive(Default)]
struct ReadCache {
    persons: std::collections::HashMap<String, Option<String>>,
    grants: std::collections::HashMap<String, Vec<String>>,
    employments: std::collections::HashMap<String, Vec<String>>,
    vouchers: std::collections::HashMap<String, Vec<String>>,
    enrollments: std::collections::HashMap<String, Vec<String>>,
    groups: std::collections::HashMap<String, Option<(String, i64)>>,
    programs: std::collections::HashMap<String, String>,
    orgs: std::collections::HashMap<String, String>,
    /// Every year's cycle (a handful of rows), fetched with a group: a state-funded enrolment
    /// reads its year's norm (R-F1).
    cycles: Option<std::collections::HashMap<i32, String>>,
}

impl ReadCache {
    fn clear(&mut self) {
        *self = ReadCache::default();
    }

    /// One `UNION ALL` statement for `reads` (rows: kind, key, order, doc, taken) and its
    /// bound values, in placeholder order; `None` when everything is cached already. Every
    /// part is a plain index lookup or a two-table join: each part costs the server its own
    /// plan nodes and relations to open, so the persons read are one part, and nothing is
    /// sorted or numbered there (the grants are put in order by [`sorted_grants`]).
    fn statement(&self, reads: &[kadry_core::ports::Read]) -> Option<(String, Vec<String>)> {
        use kadry_core::ports::Read;
        // Rows: kind, key, order within the key, doc, taken seats. `$k` is the read's id.
        const GRANTS: &str =
            "SELECT 'g', person, CAST(0 AS BIGINT), doc, CAST(0 AS BIGINT) FROM kadry_grants WHERE person = $k";
        const EMPLOYMENTS: &str =
            "SELECT 'e', person, seq, doc, CAST(0 AS BIGINT) FROM kadry_employments WHERE person = $k";
        // The catalogue rows a read names (workplaces, a group's program and provider) are
        // scalar subqueries, not joins: a subquery is always one primary-key lookup per row of
        // the part, whatever the statistics say. As a join, the planner may drive it from the
        // other side: with few, large organisations it read every employment of each
        // organisation (a bitmap AND over the whole `org` index), which cost the prefetch half
        // its time (docs/performance.md, session 7). A workplace held twice is filed once.
        const WORKPLACES: &str = concat!(
            "SELECT 'o', e.org, CAST(0 AS BIGINT), (SELECT o.doc FROM kadry_orgs o WHERE o.id = e.org), ",
            "CAST(0 AS BIGINT) FROM kadry_employments e WHERE e.person = $k"
        );
        const VOUCHERS: &str = "SELECT 'v', person, seq, doc, CAST(0 AS BIGINT) FROM kadry_vouchers WHERE person = $k";
        const ENROLLMENTS: &str =
            "SELECT 'n', person, seq, doc, CAST(0 AS BIGINT) FROM kadry_enrollments WHERE person = $k";
        const GROUP: &str = "SELECT 'G', id, CAST(0 AS BIGINT), doc, taken FROM kadry_groups WHERE id = $k";
        const PROGRAM: &str = concat!(
            "SELECT 'r', g.program, CAST(0 AS BIGINT), (SELECT p.doc FROM kadry_programs p WHERE p.id = g.program), ",
            "CAST(0 AS BIGINT) FROM kadry_groups g WHERE g.id = $k"
        );
        const PROVIDER: &str = concat!(
            "SELECT 'o', g.provider, CAST(0 AS BIGINT), (SELECT o.doc FROM kadry_orgs o WHERE o.id = g.provider), ",
            "CAST(0 AS BIGINT) FROM kadry_groups g WHERE g.id = $k"
        );
        // Every cycle; `$k` only keeps the placeholders in step.
        const CYCLES: &str = concat!(
            "SELECT 'c', CAST(year AS TEXT), CAST(0 AS BIGINT), doc, CAST(0 AS BIGINT) FROM kadry_cycles ",
            "WHERE $k IS NOT NULL"
        );
        let mut persons: Vec<String> = Vec::new();
        let mut wanted: Vec<(String, &str)> = Vec::new();
        let mut cycles = self.cycles.is_some();
        let mut seen = std::collections::HashSet::new();
        for read in reads.iter().filter(|r| seen.insert(**r)) {
            let (key, parts): (String, Vec<(bool, &str)>) = match read {
                Read::Actor(p) => {
                    let k = p.to_string();
                    (k.clone(), vec![(self.grants.contains_key(&k), GRANTS)])
                }
                Read::Worker(p) => {
                    let k = p.to_string();
                    let employments = self.employments.contains_key(&k);
                    let w = vec![
                        (employments, EMPLOYMENTS),
                        (employments, WORKPLACES),
                        (self.vouchers.contains_key(&k), VOUCHERS),
                        (self.enrollments.contains_key(&k), ENROLLMENTS),
                    ];
                    (k, w)
                }
                Read::Group(g) => {
                    let k = g.to_string();
                    let cached = self.groups.contains_key(&k);
                    let w = vec![(cached, GROUP), (cached, PROGRAM), (cached, PROVIDER), (cycles, CYCLES)];
                    cycles = true;
                    (k, w)
                }
            };
            if matches!(read, Read::Actor(_) | Read::Worker(_))
                && !self.persons.contains_key(&key)
                && !persons.contains(&key)
            {
                persons.push(key.clone());
            }
            wanted.extend(parts.into_iter().filter(|(cached, _)| !cached).map(|(_, sql)| (key.clone(), sql)));
        }
        let mut parts: Vec<String> = Vec::new();
        if !persons.is_empty() {
            let list: Vec<String> = (1..=persons.len()).map(|n| format!("${n}")).collect();
            parts.push(format!(
                "SELECT 'p', id, CAST(0 AS BIGINT), doc, CAST(0 AS BIGINT) FROM kadry_persons WHERE id IN ({})",
                list.join(", ")
            ));
        }
        let mut binds: Vec<String> = persons;
        for (key, sql) in wanted {
            binds.push(key);
            parts.push(sql.replace("$k", &format!("${}", binds.len())));
        }
        (!parts.is_empty()).then(|| (parts.join(" UNION ALL "), binds))
    }

    /// Files the rows of [`ReadCache::statement`], marking every requested key as fetched
    /// (an absent row is an answer too).
    fn fill(&mut self, reads: &[kadry_core::ports::Read], mut rows: Vec<(String, String, i64, String, i64)>) {
        use kadry_core::ports::Read;
        for read in reads {
            match read {
                Read::Actor(p) => {
                    let k = p.to_string();
                    self.persons.entry(k.clone()).or_insert(None);
                    self.grants.entry(k).or_default();
                }
                Read::Worker(p) => {
                    let k = p.to_string();
                    self.persons.entry(k.clone()).or_insert(None);
                    self.employments.entry(k.clone()).or_default();
                    self.vouchers.entry(k.clone()).or_default();
                    self.enrollments.entry(k).or_default();
                }
                Read::Group(g) => {
                    self.groups.entry(g.to_string()).or_insert(None);
                    self.cycles.get_or_insert_with(Default::default);
                }
            }
        }
        rows.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
        for (kind, key, _, doc, taken) in rows {
            match kind.as_str() {
                "p" => {
                    self.persons.insert(key, Some(doc));
                }
                "g" => self.grants.entry(key).or_default().push(doc),
                "e" => self.employments.entry(key).or_default().push(doc),
                "v" => self.vouchers.entry(key).or_default().push(doc),
                "n" => self.enrollments.entry(key).or_default().push(doc),
                "G" => {
                    self.groups.insert(key, Some((doc, taken)));
                }
                "r" => {
                    self.programs.insert(key, doc);
                }
                "c" => {
                    if let Ok(year) = key.parse::<i32>() {
                        self.cycles.get_or_insert_with(Default::default).insert(year, doc);
                    }
                }
                _ => {
                    self.orgs.insert(key, doc);
                }
            }
        }
    }
}

/// A worker's grants in one order whichever way they were read: by role, then scope, as the
/// columns hold them (byte order, not the database's collation).
fn sorted_grants(mut grants: Vec<RoleGrant>) -> Vec<RoleGrant> {
    grants.sort_by_cached_key(|g| (g.role.as_str(), serde_json::to_string(&g.scope).unwrap_or_default()));
    grants
}

fn decode_all<T: DeserializeOwned>(docs: &[String]) -> Result<Vec<T>> {
    docs.iter().map(|d| decode(d)).collect()
}

fn group_of(doc: &str, taken: i64) -> Result<Group> {
    let mut g: Group = decode(doc)?;
    g.taken = u32::try_from(taken).unwrap_or(0);
    Ok(g)
}

macro_rules! sql_tx {
    (
        db: $Db:ty,
        tx: $Tx:ident,
        lock_person: $lock_person:expr,
        lock_group: $lock_group:expr,
        lock_year: $lock_year:expr,
        outbox_lock: $outbox_lock:expr,
        slice_setup: $slice_setup:expr,
        combine_writes: $combine_writes:expr $(,)?
    ) => {
        /// A unit of work on this store: a database transaction.
        pub struct $Tx {
            tx: sqlx::Transaction<'static, $Db>,
            write: bool,
            cache: super::ReadCache,
            /// The in-process writer's turn (SQLite), held until the transaction ends.
            _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
        }

        impl $Tx {
            async fn docs<T: serde::de::DeserializeOwned>(&mut self, sql: &'static str, key: String) -> Result<Vec<T>> {
                let docs: Vec<String> =
                    sqlx::query_scalar(sql).bind(key).fetch_all(&mut *self.tx).await.map_err(super::map_err)?;
                super::decode_all(&docs)
            }

            async fn all_docs<T: serde::de::DeserializeOwned>(&mut self, sql: &'static str) -> Result<Vec<T>> {
                let docs: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut *self.tx).await.map_err(super::map_err)?;
                super::decode_all(&docs)
            }

            async fn doc<T: serde::de::DeserializeOwned>(&mut self, sql: &'static str, key: String) -> Result<Option<T>> {
                let row: Option<(String,)> =
                    sqlx::query_as(sql).bind(key).fetch_optional(&mut *self.tx).await.map_err(super::map_err)?;
                row.map(|(d,)| super::decode(&d)).transpose()
            }

            async fn year_docs<T: serde::de::DeserializeOwned>(&mut self, sql: &'static str, year: i32) -> Result<Vec<T>> {
                let docs: Vec<String> = sqlx::query_scalar(sql)
                    .bind(i64::from(year))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                super::decode_all(&docs)
            }

            async fn year_doc<T: serde::de::DeserializeOwned>(
                &mut self,
                sql: &'static str,
                key: String,
                year: i32,
            ) -> Result<Option<T>> {
                let row: Option<(String,)> = sqlx::query_as(sql)
                    .bind(key)
                    .bind(i64::from(year))
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                row.map(|(d,)| super::decode(&d)).transpose()
            }

            async fn exec(&mut self, q: sqlx::query::Query<'_, $Db, <$Db as sqlx::Database>::Arguments>) -> Result<u64> {
                let r = q.execute(&mut *self.tx).await.map_err(super::map_err)?;
                Ok(r.rows_affected())
            }

            async fn keyed<T: serde::de::DeserializeOwned>(
                &mut self,
                sql: String,
                filter: Option<String>,
            ) -> Result<Vec<(String, T)>> {
                // Built only from kadry's own static fragments; values are bound.
                let q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
                let q = match filter {
                    Some(f) => q.bind(f),
                    None => q,
                };
                let rows = q.fetch_all(&mut *self.tx).await.map_err(super::map_err)?;
                rows.into_iter().map(|(k, d)| Ok((k, super::decode(&d)?))).collect()
            }

            /// Runs `parts` as one statement (one part alone as itself, several as data-modifying
            /// `WITH` queries, which only PostgreSQL has) and refuses as the first part that had
            /// to change a row and changed none.
            async fn run_parts(&mut self, parts: &[super::Part]) -> Result<()> {
                use sqlx::Row;
                // How many rows each part that can refuse changed, in order.
                let changed: Vec<i64> = if let [part] = parts {
                    let n = self.exec(bind_values(sqlx::query(part.sql), &part.values)).await?;
                    vec![i64::try_from(n).unwrap_or(i64::MAX)]
                } else {
                    let (sql, values) = super::combined_sql(parts);
                    // Built only from kadry's own statements; values are bound.
                    let q = bind_values(sqlx::query(sqlx::AssertSqlSafe(sql)), values);
                    let row = q.fetch_one(&mut *self.tx).await.map_err(super::map_err)?;
                    let refusing = parts.iter().filter(|p| p.refusal.is_some()).count();
                    (0..refusing).map(|i| row.try_get(i).map_err(super::map_err)).collect::<Result<_>>()?
                };
                let refusals = parts.iter().filter_map(|p| p.refusal);
                for (refusal, n) in refusals.zip(changed) {
                    if n == 0 {
                        return Err(refusal());
                    }
                }
                Ok(())
            }

            /// Rewrites the staff facts of the workers `of` selects by `key` (R-R1).
            async fn refresh_facts(&mut self, of: super::FactsOf, key: String) -> Result<()> {
                for sql in super::facts_refresh(of, " = $1") {
                    // Built only from kadry's own fragments; the key is bound.
                    self.exec(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key.clone())).await?;
                }
                Ok(())
            }

            /// A writer's unit of work on `tx`, holding `turn` (SQLite's writer's turn) until it
            /// ends.
            fn writer(tx: sqlx::Transaction<'static, $Db>, turn: Option<tokio::sync::OwnedMutexGuard<()>>) -> Self {
                $Tx { tx, write: true, cache: Default::default(), _turn: turn }
            }

            /// `Store::load`: [`Self::load_changes`] in this unit of work, then the commit.
            async fn load_and_commit(mut self, changes: Vec<Change>) -> Result<()> {
                self.load_changes(changes).await?;
                self.tx.commit().await.map_err(super::map_err)
            }

            /// `Store::load` in this unit of work: the changes gathered into batches
            /// ([`super::Batch`]) and written kind by kind with multi-row statements, a change
            /// written alone where it must be, then the staff facts of every worker and
            /// organisation the changes moved rewritten set-wise, once (R-R1).
            async fn load_changes(&mut self, changes: Vec<Change>) -> Result<()> {
                let mut batch = super::Batch::new();
                let mut touched = super::Touched::default();
                for change in changes {
                    touched.note(&change);
                    let mut gathered = batch.gather(&change)?;
                    if gathered == super::Gathered::WriteFirst {
                        self.write_batch(&mut batch).await?;
                        gathered = batch.gather(&change)?;
                    }
                    match gathered {
                        super::Gathered::Joined => {}
                        super::Gathered::Alone => {
                            self.write_batch(&mut batch).await?;
                            self.apply(change).await?;
                        }
                        super::Gathered::WriteFirst => {
                            return Err(Error::Storage("a change does not join an empty batch".into()));
                        }
                    }
                }
                self.write_batch(&mut batch).await?;
                self.fresh_statistics().await?;
                for (of, keys) in [(super::FactsOf::Person, touched.persons), (super::FactsOf::Org, touched.orgs)] {
                    let rows: Vec<Vec<super::Value>> = keys.into_iter().map(|k| vec![super::Value::Text(Some(k))]).collect();
                    self.run_rows(super::ID_COLUMN, rows, &super::facts_refresh(of, IDS_IN)).await?;
                }
                Ok(())
            }

            /// Writes what `batch` gathered and empties it: each kind's rows by one statement
            /// (one per chunk on SQLite), in rank order, then the seats of every group by one
            /// conditional update, refused with `group.full` when any group has too few free
            /// (R-G3), as the seat one too many would be one change at a time.
            async fn write_batch(&mut self, batch: &mut super::Batch) -> Result<()> {
                if batch.is_empty() {
                    return Ok(());
                }
                self.cache.clear();
                let (kinds, seats) = batch.take();
                for (kind, rows) in kinds {
                    self.run_rows(kind.columns, rows, &[kind.multi()]).await?;
                }
                if !seats.is_empty() {
                    let groups = seats.len() as u64;
                    let rows: Vec<Vec<super::Value>> = seats
                        .into_iter()
                        .map(|(group, n)| vec![super::Value::Text(Some(group)), super::Value::Int(Some(n))])
                        .collect();
                    let changed = self.run_rows(super::SEAT_COLUMNS, rows, &[super::TAKE_SEATS.to_string()]).await?;
                    if changed < groups {
                        return Err(Error::GroupFull);
                    }
                }
                Ok(())
            }
        }

        /// Binds `values` in order.
        fn bind_values<'q>(
            mut q: sqlx::query::Query<'q, $Db, <$Db as sqlx::Database>::Arguments>,
            values: impl IntoIterator<Item = &'q super::Value>,
        ) -> sqlx::query::Query<'q, $Db, <$Db as sqlx::Database>::Arguments> {
            for v in values {
                q = match v {
                    super::Value::Text(t) => q.bind(t.clone()),
                    super::Value::Int(i) => q.bind(*i),
                    super::Value::Bool(b) => q.bind(*b),
                };
            }
            q
        }

        #[async_trait::async_trait]
        impl kadry_core::ports::Tx for $Tx {
            async fn lock(&mut self, key: Lock) -> Result<()> {
                let sql: Option<&str> = match key {
                    Lock::Person(_) => $lock_person,
                    Lock::Group(_) => $lock_group,
                    Lock::Year(_) => $lock_year,
                };
                let Some(sql) = sql else { return Ok(()) };
                let q = sqlx::query(sql);
                let q = match key {
                    Lock::Person(p) => q.bind(p.to_string()),
                    Lock::Group(g) => q.bind(g.to_string()),
                    Lock::Year(year) => q.bind(i64::from(year)),
                };
                self.exec(q).await?;
                Ok(())
            }
            async fn prefetch(&mut self, reads: &[kadry_core::ports::Read]) -> Result<()> {
                let Some((sql, binds)) = self.cache.statement(reads) else {
                    return Ok(());
                };
                // Built only from kadry's own static fragments; values are bound.
                let mut q = sqlx::query_as::<_, (String, String, i64, String, i64)>(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    q = q.bind(b);
                }
                let rows = q.fetch_all(&mut *self.tx).await.map_err(super::map_err)?;
                self.cache.fill(reads, rows);
                Ok(())
            }
            async fn territory(&mut self, id: TerritoryId) -> Result<Option<Territory>> {
                self.doc("SELECT doc FROM kadry_territories WHERE id = $1", id.to_string()).await
            }
            async fn org(&mut self, id: OrgId) -> Result<Option<Organisation>> {
                if let Some(d) = self.cache.orgs.get(&id.to_string()) {
                    return super::decode(d).map(Some);
                }
                self.doc("SELECT doc FROM kadry_orgs WHERE id = $1", id.to_string()).await
            }
            async fn person(&mut self, id: PersonId) -> Result<Option<Person>> {
                if let Some(d) = self.cache.persons.get(&id.to_string()) {
                    return d.as_deref().map(super::decode).transpose();
                }
                self.doc("SELECT doc FROM kadry_persons WHERE id = $1", id.to_string()).await
            }
            async fn person_by_email(&mut self, key: &str) -> Result<Option<Person>> {
                self.doc("SELECT doc FROM kadry_persons WHERE email_key = $1", key.to_string()).await
            }
            async fn person_by_snils(&mut self, digits: &str) -> Result<Option<Person>> {
                self.doc("SELECT doc FROM kadry_persons WHERE snils = $1", digits.to_string()).await
            }
            async fn grants(&mut self, person: PersonId) -> Result<Vec<RoleGrant>> {
                let grants = match self.cache.grants.get(&person.to_string()) {
                    Some(d) => super::decode_all(d)?,
                    None => self.docs("SELECT doc FROM kadry_grants WHERE person = $1", person.to_string()).await?,
                };
                Ok(super::sorted_grants(grants))
            }
            async fn role_exists(&mut self, role: Role) -> Result<bool> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM kadry_grants WHERE role = $1")
                    .bind(role.as_str())
                    .fetch_one(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                Ok(n > 0)
            }
            async fn role_holders(&mut self, role: Role) -> Result<Vec<PersonId>> {
                let docs: Vec<RoleGrant> =
                    self.docs("SELECT doc FROM kadry_grants WHERE role = $1 ORDER BY person", role.as_str().to_string()).await?;
                let mut out: Vec<PersonId> = docs.into_iter().filter(|g| !g.suspended).map(|g| g.person).collect();
                out.dedup();
                Ok(out)
            }
            async fn role_requests(&mut self, person: PersonId) -> Result<Vec<RoleRequest>> {
                self.docs("SELECT doc FROM kadry_role_requests WHERE person = $1 ORDER BY role", person.to_string()).await
            }
            async fn employments(&mut self, person: PersonId) -> Result<Vec<Employment>> {
                if let Some(d) = self.cache.employments.get(&person.to_string()) {
                    return super::decode_all(d);
                }
                self.docs("SELECT doc FROM kadry_employments WHERE person = $1 ORDER BY seq", person.to_string()).await
            }
            async fn staff(&mut self, org: OrgId) -> Result<Vec<Employment>> {
                self.docs(
                    "SELECT doc FROM kadry_employments WHERE org = $1 AND status <> 'dismissed' ORDER BY seq",
                    org.to_string(),
                )
                .await
            }
            async fn vouchers(&mut self, person: PersonId) -> Result<Vec<Voucher>> {
                if let Some(d) = self.cache.vouchers.get(&person.to_string()) {
                    return super::decode_all(d);
                }
                self.docs("SELECT doc FROM kadry_vouchers WHERE person = $1 ORDER BY seq", person.to_string()).await
            }
            async fn program(&mut self, id: ProgramId) -> Result<Option<Program>> {
                if let Some(d) = self.cache.programs.get(&id.to_string()) {
                    return super::decode(d).map(Some);
                }
                self.doc("SELECT doc FROM kadry_programs WHERE id = $1", id.to_string()).await
            }
            async fn group(&mut self, id: GroupId) -> Result<Option<Group>> {
                if let Some(cached) = self.cache.groups.get(&id.to_string()) {
                    return cached.as_ref().map(|(d, taken)| super::group_of(d, *taken)).transpose();
                }
                let row: Option<(String, i64)> = sqlx::query_as("SELECT doc, taken FROM kadry_groups WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                row.map(|(doc, taken)| super::group_of(&doc, taken)).transpose()
            }
            async fn territories(&mut self) -> Result<Vec<Territory>> {
                self.all_docs("SELECT doc FROM kadry_territories").await
            }
            async fn orgs(&mut self) -> Result<Vec<Organisation>> {
                self.all_docs("SELECT doc FROM kadry_orgs").await
            }
            async fn programs(&mut self) -> Result<Vec<Program>> {
                self.all_docs("SELECT doc FROM kadry_programs").await
            }
            async fn program_groups(&mut self, program: ProgramId) -> Result<Vec<Group>> {
                let rows: Vec<(String, i64)> = sqlx::query_as("SELECT doc, taken FROM kadry_groups WHERE program = $1")
                    .bind(program.to_string())
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                rows.iter().map(|(doc, taken)| super::group_of(doc, *taken)).collect()
            }
            async fn group_enrollments(&mut self, group: GroupId) -> Result<Vec<Enrollment>> {
                self.docs("SELECT doc FROM kadry_enrollments WHERE grp = $1 ORDER BY seq", group.to_string()).await
            }
            async fn person_enrollments(&mut self, person: PersonId) -> Result<Vec<Enrollment>> {
                if let Some(d) = self.cache.enrollments.get(&person.to_string()) {
                    return super::decode_all(d);
                }
                self.docs("SELECT doc FROM kadry_enrollments WHERE person = $1 ORDER BY seq", person.to_string()).await
            }
            async fn trainings(&mut self, person: PersonId) -> Result<Vec<TrainingRecord>> {
                self.docs("SELECT doc FROM kadry_trainings WHERE person = $1 ORDER BY seq", person.to_string()).await
            }
            async fn plans(&mut self, person: PersonId) -> Result<Vec<PlanEntry>> {
                self.docs("SELECT doc FROM kadry_plans WHERE person = $1 ORDER BY year, id", person.to_string()).await
            }
            async fn notifications(&mut self, person: PersonId) -> Result<Vec<Notification>> {
                self.docs("SELECT doc FROM kadry_outbox WHERE person = $1 ORDER BY seq", person.to_string()).await
            }
            async fn certificate(&mut self, series: &str, number: &str) -> Result<Option<TrainingRecord>> {
                // Numbers repeat across providers; the series (in the record) tells them apart.
                let records: Vec<TrainingRecord> =
                    self.docs("SELECT doc FROM kadry_trainings WHERE cert_number = $1 ORDER BY seq", number.to_string()).await?;
                Ok(records.into_iter().find(|t| t.certificate.as_ref().is_some_and(|c| c.series == series)))
            }
            async fn trainings_between(
                &mut self,
                from: chrono::NaiveDate,
                to: chrono::NaiveDate,
                provider: Option<OrgId>,
            ) -> Result<Vec<TrainingRecord>> {
                let (from, to) = (from.to_string(), to.to_string());
                let docs: Vec<String> = match provider {
                    Some(p) => sqlx::query_scalar(
                        "SELECT doc FROM kadry_trainings WHERE provider = $1 AND completed_on >= $2 \
                         AND completed_on <= $3 ORDER BY completed_on, seq",
                    )
                    .bind(p.to_string())
                    .bind(from)
                    .bind(to)
                    .fetch_all(&mut *self.tx)
                    .await,
                    None => sqlx::query_scalar(
                        "SELECT doc FROM kadry_trainings WHERE completed_on >= $1 AND completed_on <= $2 \
                         ORDER BY completed_on, seq",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(&mut *self.tx)
                    .await,
                }
                .map_err(super::map_err)?;
                super::decode_all(&docs)
            }
            async fn documents_issued(&mut self, provider: OrgId, year: i32) -> Result<kadry_core::ports::Issued> {
                let (c, st): (i64, i64) = sqlx::query_as(
                    "SELECT COUNT(cert_number), COUNT(stmt_number) FROM kadry_trainings WHERE provider = $1 \
                     AND (cert_year = $2 OR stmt_year = $2)",
                )
                .bind(provider.to_string())
                .bind(i64::from(year))
                .fetch_one(&mut *self.tx)
                .await
                .map_err(super::map_err)?;
                Ok(kadry_core::ports::Issued {
                    certificates: u32::try_from(c).unwrap_or(u32::MAX),
                    statements: u32::try_from(st).unwrap_or(u32::MAX),
                })
            }
            async fn staff_rows(&mut self, scope: Scope) -> Result<Vec<StaffRow>> {
                let (filter, value) = super::scope_filter(scope);
                let current = format!(
                    "SELECT e.person FROM kadry_employments e JOIN kadry_orgs o ON o.id = e.org \
                     WHERE e.status <> 'dismissed' AND {filter}"
                );
                let rows: Vec<(String, String)> = {
                    let sql = format!(
                        "SELECT e.doc, o.doc FROM kadry_employments e JOIN kadry_orgs o ON o.id = e.org \
                         WHERE e.status <> 'dismissed' AND {filter} ORDER BY e.seq"
                    );
                    let q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
                    let q = match value.clone() {
                        Some(v) => q.bind(v),
                        None => q,
                    };
                    q.fetch_all(&mut *self.tx).await.map_err(super::map_err)?
                };
                let employments = rows
                    .iter()
                    .map(|(e, o)| Ok((super::decode::<Employment>(e)?, super::decode::<Organisation>(o)?)))
                    .collect::<Result<Vec<_>>>()?;
                let trainings = self
                    .keyed(format!("SELECT person, doc FROM kadry_trainings WHERE passed AND person IN ({current})"), value.clone())
                    .await?;
                let vouchers = self
                    .keyed(format!("SELECT person, doc FROM kadry_vouchers WHERE person IN ({current}) ORDER BY seq"), value.clone())
                    .await?;
                let enrollments = self
                    .keyed(
                        format!(
                            "SELECT person, doc FROM kadry_enrollments WHERE voucher IS NOT NULL AND person IN ({current}) ORDER BY seq"
                        ),
                        value.clone(),
                    )
                    .await?;
                let persons: Vec<(String, Person)> =
                    self.keyed(format!("SELECT id, doc FROM kadry_persons WHERE id IN ({current})"), value).await?;
                Ok(super::group_rows(employments, persons, trainings, vouchers, enrollments))
            }
            async fn eligible(
                &mut self,
                scope: Scope,
                policy: &kadry_core::policy::RegionPolicy,
                year: i32,
            ) -> Result<Vec<kadry_core::planning::Eligible>> {
                let (sql, value) = super::eligible_sql(scope, policy, year);
                // Built only from kadry's own fragments and a computed date; values are bound.
                let q = sqlx::query_as::<_, super::EligibleRow>(sqlx::AssertSqlSafe(sql));
                let q = match value {
                    Some(v) => q.bind(v),
                    None => q,
                };
                let rows = q.fetch_all(&mut *self.tx).await.map_err(super::map_err)?;
                // Each organisation's territory once, read after the rows (organisations are
                // never deleted, so every row's is there), rather than once per row.
                let (filter, value) = super::scope_filter(scope);
                let sql = format!("SELECT o.id, o.territory FROM kadry_orgs o WHERE {filter}");
                let q = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
                let q = match value {
                    Some(v) => q.bind(v),
                    None => q,
                };
                let orgs = q.fetch_all(&mut *self.tx).await.map_err(super::map_err)?;
                super::eligible_of(policy, rows, orgs)
            }
            async fn slice(
                &mut self,
                spec: &kadry_core::report::SliceSpec,
            ) -> Result<Vec<kadry_core::report::SliceRow>> {
                use sqlx::Row;
                let setup: Option<&'static str> = $slice_setup;
                if let Some(setup) = setup {
                    sqlx::raw_sql(setup).execute(&mut *self.tx).await.map_err(super::map_err)?;
                }
                let (sql, binds) = super::slice_sql(spec);
                // Built only from kadry's own fragments and computed dates; values are bound.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    q = q.bind(b);
                }
                let rows = q.fetch_all(&mut *self.tx).await.map_err(super::map_err)?;
                let n = spec.group_by.len();
                rows.iter()
                    .map(|r| {
                        let key = (0..n).map(|i| r.try_get::<String, _>(i)).collect::<std::result::Result<Vec<_>, _>>();
                        let workers: i64 = r.try_get(n).map_err(super::map_err)?;
                        let hours: i64 = r.try_get(n + 1).map_err(super::map_err)?;
                        Ok(kadry_core::report::SliceRow {
                            key: key.map_err(super::map_err)?,
                            workers: u64::try_from(workers).unwrap_or(0),
                            hours: u64::try_from(hours).unwrap_or(0),
                        })
                    })
                    .collect()
            }
            async fn cycle(&mut self, year: i32) -> Result<Option<kadry_core::planning::Cycle>> {
                if let Some(cycles) = &self.cache.cycles {
                    return cycles.get(&year).map(|d| super::decode(d)).transpose();
                }
                let row: Option<(String,)> = sqlx::query_as("SELECT doc FROM kadry_cycles WHERE year = $1")
                    .bind(i64::from(year))
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                row.map(|(d,)| super::decode(&d)).transpose()
            }
            async fn quota(&mut self, number: &str) -> Result<Option<kadry_core::planning::Quota>> {
                self.doc("SELECT doc FROM kadry_quotas WHERE number = $1", number.to_string()).await
            }
            async fn person_quota(&mut self, person: PersonId, year: i32) -> Result<Option<kadry_core::planning::Quota>> {
                self.year_doc("SELECT doc FROM kadry_quotas WHERE holder = $1 AND year = $2", person.to_string(), year).await
            }
            async fn quotas(&mut self, year: i32) -> Result<Vec<kadry_core::planning::Quota>> {
                self.year_docs("SELECT doc FROM kadry_quotas WHERE year = $1", year).await
            }
            async fn preferences(&mut self, person: PersonId, year: i32) -> Result<Option<kadry_core::planning::Preferences>> {
                self.year_doc("SELECT doc FROM kadry_preferences WHERE person = $1 AND year = $2", person.to_string(), year).await
            }
            async fn year_preferences(&mut self, year: i32) -> Result<Vec<kadry_core::planning::Preferences>> {
                self.year_docs("SELECT doc FROM kadry_preferences WHERE year = $1", year).await
            }
            async fn survey(&mut self, id: SurveyId) -> Result<Option<kadry_core::survey::Survey>> {
                self.doc("SELECT doc FROM kadry_surveys WHERE id = $1", id.to_string()).await
            }
            async fn surveys(&mut self) -> Result<Vec<kadry_core::survey::Survey>> {
                self.all_docs("SELECT doc FROM kadry_surveys").await
            }
            async fn responses(&mut self, survey: SurveyId) -> Result<Vec<kadry_core::survey::Response>> {
                self.docs("SELECT doc FROM kadry_responses WHERE survey = $1", survey.to_string()).await
            }
            async fn response(&mut self, survey: SurveyId, person: PersonId) -> Result<Option<kadry_core::survey::Response>> {
                let row: Option<(String,)> = sqlx::query_as("SELECT doc FROM kadry_responses WHERE survey = $1 AND person = $2")
                    .bind(survey.to_string())
                    .bind(person.to_string())
                    .fetch_optional(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                row.map(|(d,)| super::decode(&d)).transpose()
            }
            async fn year_plans(&mut self, year: i32) -> Result<Vec<PlanEntry>> {
                self.year_docs("SELECT doc FROM kadry_plans WHERE year = $1", year).await
            }
            async fn year_groups(&mut self, year: i32) -> Result<Vec<Group>> {
                let rows: Vec<(String, i64)> = sqlx::query_as("SELECT doc, taken FROM kadry_groups WHERE plan_year = $1")
                    .bind(i64::from(year))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                rows.iter().map(|(doc, taken)| super::group_of(doc, *taken)).collect()
            }
            async fn funding(&mut self, year: i32) -> Result<Vec<kadry_core::planning::FundingAccount>> {
                let rows: Vec<(String, Option<i64>, i64, i64)> = sqlx::query_as(
                    "SELECT source, amount_limit, used, commitments FROM kadry_funding WHERE year = $1 ORDER BY source",
                )
                .bind(i64::from(year))
                .fetch_all(&mut *self.tx)
                .await
                .map_err(super::map_err)?;
                rows.into_iter()
                    .map(|(source, limit, used, commitments)| {
                        Ok(kadry_core::planning::FundingAccount {
                            year,
                            source: super::decode(&format!("\"{source}\""))?,
                            limit: limit.map(kadry_core::planning::from_kopecks),
                            used: kadry_core::planning::from_kopecks(used),
                            commitments: u64::try_from(commitments).unwrap_or(0),
                        })
                    })
                    .collect()
            }
            async fn outbox(&mut self, now: chrono::DateTime<chrono::Utc>, limit: usize) -> Result<Vec<OutboxItem>> {
                let sql = format!(
                    "SELECT o.doc, p.doc, o.attempts FROM kadry_outbox o JOIN kadry_persons p ON p.id = o.person \
                     WHERE NOT o.delivered AND NOT o.gave_up AND (o.retry_at IS NULL OR o.retry_at <= $1) \
                     ORDER BY o.seq LIMIT $2 {}",
                    // A relay locks what it delivers; a read-only look locks nothing.
                    if self.write { $outbox_lock } else { "" }
                );
                let rows: Vec<(String, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(super::micros(now))
                    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .fetch_all(&mut *self.tx)
                    .await
                    .map_err(super::map_err)?;
                rows.into_iter()
                    .map(|(n, p, attempts)| {
                        let person: Person = super::decode(&p)?;
                        Ok(OutboxItem {
                            notification: super::decode(&n)?,
                            email: person.email,
                            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        })
                    })
                    .collect()
            }
            async fn mark_delivery(&mut self, id: NotificationId, outcome: Delivery) -> Result<()> {
                let (delivered, gave_up, retry_at) = match outcome {
                    Delivery::Delivered => (true, false, None),
                    Delivery::RetryAt(t) => (false, false, Some(super::micros(t))),
                    Delivery::GaveUp => (false, true, None),
                };
                let n = self
                    .exec(
                        sqlx::query(
                            "UPDATE kadry_outbox SET attempts = attempts + 1, delivered = $2, gave_up = $3, retry_at = $4 \
                             WHERE id = $1",
                        )
                        .bind(id.to_string())
                        .bind(delivered)
                        .bind(gave_up)
                        .bind(retry_at),
                    )
                    .await?;
                if n == 0 {
                    return Err(Error::NotFound("notification".into()));
                }
                Ok(())
            }
            async fn apply(&mut self, change: Change) -> Result<()> {
                if !self.write {
                    return Err(Error::Storage("a read-only unit of work cannot change state".into()));
                }
                self.cache.clear();
                // A row of its own, or a seat (R-G3): the statement of its kind's description
                // (`super::row_of`), which a load writes many rows at a time.
                if let Some(part) = super::part_of(&change)? {
                    self.run_parts(&[part]).await?;
                } else {
                    match &change {
                        Change::DeleteRoleRequest { person, role } => {
                            self.exec(
                                sqlx::query("DELETE FROM kadry_role_requests WHERE person = $1 AND role = $2")
                                    .bind(person.to_string())
                                    .bind(role.as_str()),
                            )
                            .await?;
                        }
                        Change::FreeSeat(id) => {
                            self.exec(
                                sqlx::query("UPDATE kadry_groups SET taken = taken - 1 WHERE id = $1 AND taken > 0")
                                    .bind(id.to_string()),
                            )
                            .await?;
                        }
                        Change::Commit { year, source, amount, count } => {
                            // R-F1: one conditional upsert, never read-then-write: the row is
                            // created with the first commitment, and a commitment that would pass
                            // the limit updates nothing.
                            let n = self
                                .exec(
                                    sqlx::query(
                                        "INSERT INTO kadry_funding (year, source, used, commitments) VALUES ($1, $2, $3, $4) \
                                         ON CONFLICT (year, source) DO UPDATE SET used = kadry_funding.used + excluded.used, \
                                         commitments = kadry_funding.commitments + excluded.commitments \
                                         WHERE kadry_funding.amount_limit IS NULL \
                                         OR kadry_funding.used + excluded.used <= kadry_funding.amount_limit",
                                    )
                                    .bind(i64::from(*year))
                                    .bind(super::label(source))
                                    .bind(kadry_core::planning::to_kopecks(*amount))
                                    .bind(i64::try_from(*count).unwrap_or(i64::MAX)),
                                )
                                .await?;
                            if n == 0 {
                                return Err(Error::FundingLimitExceeded);
                            }
                        }
                        Change::Release { year, source, amount } => {
                            self.exec(
                                sqlx::query(
                                    "UPDATE kadry_funding SET used = CASE WHEN used > $3 THEN used - $3 ELSE 0 END \
                                     WHERE year = $1 AND source = $2",
                                )
                                .bind(i64::from(*year))
                                .bind(super::label(source))
                                .bind(kadry_core::planning::to_kopecks(*amount)),
                            )
                            .await?;
                        }
                        other => {
                            return Err(Error::Storage(format!("no statement writes {other:?}")));
                        }
                    }
                }
                // R-R1: the staff facts of the workers the change moves.
                if let Some((of, key)) = super::facts_of(&change) {
                    self.refresh_facts(of, key).await?;
                }
                Ok(())
            }
            async fn apply_all(&mut self, changes: Vec<Change>) -> Result<()> {
                let combine: bool = $combine_writes;
                if combine && self.write && changes.len() > 1 {
                    if let Some(parts) = super::combinable(&changes)? {
                        self.cache.clear();
                        self.run_parts(&parts).await?;
                        return Ok(());
                    }
                }
                for change in changes {
                    self.apply(change).await?;
                }
                Ok(())
            }
            async fn commit(self: Box<Self>) -> Result<()> {
                if self.write {
                    self.tx.commit().await.map_err(super::map_err)
                } else {
                    self.tx.rollback().await.map_err(super::map_err)
                }
            }
        }
    };
}

macro_rules! store_common {
    ($Store:ident, $Pool:ty, $path:literal) => {
        impl $Store {
            /// The versions of kadry's migrations applied to this database, in order.
            pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
                let rows: Vec<(i64,)> =
                    sqlx::query_as("SELECT version FROM kadry_migrations WHERE success ORDER BY version")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(super::map_err)?;
                Ok(rows.into_iter().map(|(v,)| v).collect())
            }

            /// Applies pending migrations (idempotent); recorded in `kadry_migrations`.
            pub async fn migrate(&self) -> Result<()> {
                let mut migrator = sqlx::migrate!($path);
                migrator.dangerous_set_table_name(super::MIGRATIONS_TABLE);
                migrator.run(&self.pool).await.map_err(|e| Error::Storage(format!("migration failed: {e}")))
            }

            /// The connection pool, for hosts that read kadry's tables directly.
            pub fn pool(&self) -> &$Pool {
                &self.pool
            }

            /// Rebuilds the staff facts (migration 0010) of every worker from the records, in
            /// one transaction, and returns how many rows they hold. kadry keeps them on every
            /// change it applies; a host that loads or corrects kadry's tables directly (a bulk
            /// import, a repair) calls this afterwards, or reports and the eligibility selection
            /// would not see its rows.
            pub async fn rebuild_staff_facts(&self) -> Result<u64> {
                let mut tx = self.pool.begin().await.map_err(super::map_err)?;
                sqlx::query("DELETE FROM kadry_staff_facts").execute(&mut *tx).await.map_err(super::map_err)?;
                let n = sqlx::query(facts_insert!("1 = 1", "1 = 1"))
                    .execute(&mut *tx)
                    .await
                    .map_err(super::map_err)?
                    .rows_affected();
                tx.commit().await.map_err(super::map_err)?;
                Ok(n)
            }
        }
    };
}

/// SQLite: the embedded default.
#[cfg(feature = "sqlite")]
pub mod sqlite {
    use std::str::FromStr;
    use std::time::Duration;

    use kadry_core::error::{Error, Result};
    use kadry_core::ids::*;
    use kadry_core::model::*;
    use kadry_core::ports::{Change, Delivery, Lock, OutboxItem, StaffRow, Store, Tx};
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

    sql_tx! {
        db: sqlx::Sqlite,
        tx: SqliteTx,
        lock_person: None,
        lock_group: None,
        // Writers are serialised already: every writing unit of work is `BEGIN IMMEDIATE`.
        lock_year: None,
        outbox_lock: "",
        slice_setup: None,
        // SQLite runs in the process: a statement costs no round trip, and it has no
        // data-modifying `WITH`.
        combine_writes: false,
    }

    store_common!(SqliteStore, SqlitePool, "./migrations/sqlite");

    /// R-R1: the condition on an id column naming a load's workers or organisations whose
    /// staff facts are rewritten: the `VALUES` list of their ids (SQLite looks each up in the
    /// index).
    pub(super) const IDS_IN: &str = " IN (SELECT v.id FROM {rows})";

    impl SqliteTx {
        /// Nothing: kadry never gives SQLite statistics (`ANALYZE`), so it plans a load's
        /// statements by its rules, which prefer the indexes whatever the tables hold.
        async fn fresh_statistics(&mut self) -> Result<()> {
            Ok(())
        }

        /// Runs each of `statements` over `rows` (`{rows}`, wherever it stands, a `VALUES`
        /// list named `v` with `columns`; `{order}` nothing, SQLite reads `VALUES` in order),
        /// chunk after chunk of rows within SQLite's limit on bound values, each statement in
        /// turn on a chunk; returns the rows changed.
        async fn run_rows(
            &mut self,
            columns: &[(&str, super::Ty)],
            rows: Vec<Vec<super::Value>>,
            statements: &[String],
        ) -> Result<u64> {
            let uses = |sql: &String| sql.matches("{rows}").count().max(1);
            let most = statements.iter().map(uses).max().unwrap_or(1);
            let per = (super::SQLITE_MAX_BINDS / (columns.len() * most).max(1)).max(1);
            let mut changed = 0;
            for chunk in rows.chunks(per) {
                let source = super::values_source(columns, chunk.len());
                for sql in statements {
                    let text = sql.replace("{rows}", &source).replace("{order}", "");
                    // Built only from kadry's own fragments; values are bound, once for each
                    // time the rows are read. Not kept prepared: the text changes with the
                    // number of rows.
                    let values = (0..uses(sql)).flat_map(|_| chunk.iter().flatten());
                    let q = bind_values(sqlx::query(sqlx::AssertSqlSafe(text)), values);
                    changed += self.exec(q.persistent(false)).await?;
                }
            }
            Ok(changed)
        }
    }

    /// How long a writer waits for its turn: in this process's queue and in SQLite's busy
    /// handler (another process's writer).
    const WRITER_WAIT: Duration = Duration::from_secs(10);

    /// The SQLite store: a file (WAL, `busy_timeout`, writers with `BEGIN IMMEDIATE`) or
    /// `:memory:`.
    ///
    /// SQLite has one writer at a time. Writers of this process queue for their turn on an
    /// async mutex (first come, first served) before `BEGIN IMMEDIATE`, so a waiting writer is
    /// woken when the turn is free instead of polling in SQLite's busy handler, which sleeps up
    /// to 100 ms between tries. Other processes on the same file still meet `busy_timeout`.
    #[derive(Debug, Clone)]
    pub struct SqliteStore {
        pool: SqlitePool,
        writers: std::sync::Arc<tokio::sync::Mutex<()>>,
    }

    impl SqliteStore {
        /// Opens (creating if missing) the database at `path` — a file path or `:memory:` —
        /// and applies kadry's migrations.
        pub async fn open(path: &str) -> Result<Self> {
            let memory = path == ":memory:";
            let options = if memory {
                SqliteConnectOptions::from_str("sqlite::memory:").map_err(super::map_err)?
            } else {
                SqliteConnectOptions::new().filename(path).create_if_missing(true)
            };
            let options = options
                .journal_mode(if memory { SqliteJournalMode::Memory } else { SqliteJournalMode::Wal })
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(WRITER_WAIT)
                .foreign_keys(true);
            // An in-memory database lives in one connection; a file serves readers in parallel.
            let max = if memory { 1 } else { 8 };
            if !memory {
                // Switch a new file to WAL on one connection first: the switch needs the file to
                // itself, and the pool's connections would otherwise race for it ("database is
                // locked" while the first migrates). WAL then persists in the file.
                use sqlx::Connection;
                let c = sqlx::SqliteConnection::connect_with(&options).await.map_err(super::map_err)?;
                c.close().await.map_err(super::map_err)?;
            }
            Self::connect_with(options, max).await
        }

        /// Connects with explicit options and pool size, then migrates.
        pub async fn connect_with(options: SqliteConnectOptions, max_connections: u32) -> Result<Self> {
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(super::map_err)?;
            let store = SqliteStore { pool, writers: Default::default() };
            store.migrate().await?;
            Ok(store)
        }
    }

    #[async_trait::async_trait]
    impl Store for SqliteStore {
        async fn begin(&self) -> Result<Box<dyn Tx>> {
            // The turn first, then a connection: a writer never holds a pooled connection
            // while it queues, so readers keep theirs. A writer that waits longer than the
            // busy timeout gets `storage.conflict`, as SQLite's own busy handler would give.
            let turn = tokio::time::timeout(WRITER_WAIT, self.writers.clone().lock_owned())
                .await
                .map_err(|_| Error::Conflict("the database is busy: no writer's turn within 10 s".into()))?;
            let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(super::map_err)?;
            Ok(Box::new(SqliteTx { tx, write: true, cache: Default::default(), _turn: Some(turn) }))
        }
        async fn load(&self, changes: Vec<Change>) -> Result<()> {
            if changes.is_empty() {
                return Ok(());
            }
            let turn = tokio::time::timeout(WRITER_WAIT, self.writers.clone().lock_owned())
                .await
                .map_err(|_| Error::Conflict("the database is busy: no writer's turn within 10 s".into()))?;
            let tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(super::map_err)?;
            SqliteTx::writer(tx, Some(turn)).load_and_commit(changes).await
        }
        async fn read(&self) -> Result<Box<dyn Tx>> {
            let tx = self.pool.begin().await.map_err(super::map_err)?;
            Ok(Box::new(SqliteTx { tx, write: false, cache: Default::default(), _turn: None }))
        }
    }
}

/// PostgreSQL: the production store.
#[cfg(feature = "postgres")]
pub mod postgres {
    use std::str::FromStr;
    use std::time::Duration;

    use kadry_core::error::{Error, Result};
    use kadry_core::ids::*;
    use kadry_core::model::*;
    use kadry_core::ports::{Change, Delivery, Lock, OutboxItem, StaffRow, Store, Tx};
    use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

    /// R-W3, R-W4: locks a planning year's row in `kadry_year_locks`, creating it on the
    /// year's first lock; a second unit of work waits for the first to end, whether the row
    /// was there or not (the insert's conflict waits for the inserting transaction).
    pub(super) const LOCK_YEAR: &str =
        "INSERT INTO kadry_year_locks (year) VALUES ($1) ON CONFLICT (year) DO UPDATE SET year = excluded.year";

    sql_tx! {
        db: sqlx::Postgres,
        tx: PgTx,
        lock_person: Some("SELECT id FROM kadry_persons WHERE id = $1 FOR UPDATE"),
        lock_group: Some("SELECT id FROM kadry_groups WHERE id = $1 FOR UPDATE"),
        // R-W3, R-W4: a year's row, created by the first lock of it (migration 0011).
        lock_year: Some(LOCK_YEAR),
        outbox_lock: "FOR UPDATE OF o SKIP LOCKED",
        // A report's statement runs once over a million rows: compiling it (and again in
        // each parallel worker) costs more than it saves (docs/performance.md).
        slice_setup: Some(super::PG_REPORT_SETTINGS),
        // A command's tail (seat, enrolment, notification, audit) in one round trip.
        combine_writes: true,
    }

    store_common!(PgStore, PgPool, "./migrations/postgres");

    /// R-R1: the condition on an id column naming a load's workers or organisations whose
    /// staff facts are rewritten: one array of their ids, which PostgreSQL looks up in the
    /// indexes (a join with the array's `UNNEST` would be planned as a hash over whole tables,
    /// a load's cost growing with the region).
    const IDS_IN: &str = " = ANY($1::text[])";

    impl PgTx {
        /// Analyses the tables the staff facts' statements read that have doubled (by at
        /// least a thousand rows) since they were last analysed, so that a load that fills a
        /// region (the generator) does not rewrite the facts by plans made for tables a
        /// fraction of their size: with statistics of a few thousand employments, PostgreSQL
        /// joined a batch's workers with their trainings by a nested loop, quadratic in the
        /// batch (3.5 s for 1 800 workers against 0.2 s). A table is analysed at most about
        /// log₂(rows) times while it fills; `ANALYZE` counts this transaction's own rows, and
        /// its statistics become everyone's at the commit.
        async fn fresh_statistics(&mut self) -> Result<()> {
            let grown: Vec<String> = sqlx::query_scalar(
                "SELECT relname::text FROM pg_stat_user_tables WHERE relid IN ('kadry_employments'::regclass, \
                 'kadry_persons'::regclass, 'kadry_orgs'::regclass, 'kadry_trainings'::regclass, \
                 'kadry_staff_facts'::regclass) AND n_mod_since_analyze >= GREATEST(1000, n_live_tup / 2)",
            )
            .fetch_all(&mut *self.tx)
            .await
            .map_err(super::map_err)?;
            if !grown.is_empty() {
                // Names read from the catalogue, of kadry's own tables.
                let sql = format!("ANALYZE {}", grown.join(", "));
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *self.tx).await.map_err(super::map_err)?;
            }
            Ok(())
        }

        /// Runs each of `statements` over `rows` (`{rows}` an `UNNEST` of one typed array per
        /// column, named `v` with `columns` and `ord`; `{order}` their order), whatever their
        /// number: PostgreSQL's limit of 65 535 bound values never comes near, one array being
        /// one value. Returns the rows changed.
        async fn run_rows(
            &mut self,
            columns: &[(&str, super::Ty)],
            rows: Vec<Vec<super::Value>>,
            statements: &[String],
        ) -> Result<u64> {
            if rows.is_empty() {
                return Ok(0);
            }
            let source = super::unnest_source(columns);
            let arrays = super::by_column(columns, rows)?;
            let mut changed = 0;
            for sql in statements {
                let sql = sql.replace("{rows}", &source).replace("{order}", " ORDER BY v.ord");
                // Built only from kadry's own fragments; values are bound.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for array in &arrays {
                    q = match array {
                        super::Column::Text(v) => q.bind(v),
                        super::Column::Int(v) => q.bind(v),
                        super::Column::Bool(v) => q.bind(v),
                    };
                }
                changed += self.exec(q).await?;
            }
            Ok(changed)
        }
    }

    /// The PostgreSQL store.
    #[derive(Debug, Clone)]
    pub struct PgStore {
        pool: PgPool,
    }

    impl PgStore {
        /// Connects to `url` (`postgres://…`) and applies kadry's migrations.
        pub async fn open(url: &str) -> Result<Self> {
            let options = PgConnectOptions::from_str(url).map_err(super::map_err)?;
            Self::connect_with(options, 32).await
        }

        /// Connects with explicit options and pool size, then migrates. To keep kadry in its
        /// own schema of a host's database, set `search_path` in the options.
        pub async fn connect_with(options: PgConnectOptions, max_connections: u32) -> Result<Self> {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(super::map_err)?;
            let store = PgStore { pool };
            store.migrate().await?;
            Ok(store)
        }

        /// Connects to `url` with kadry in its own schema of the host's database (created if
        /// missing; `search_path` set on every connection), and migrates.
        pub async fn open_in_schema(url: &str, schema: &str) -> Result<Self> {
            Self::schema(url, schema, false).await
        }

        /// Like [`PgStore::open_in_schema`], but drops the schema first: a fresh, empty store
        /// (for tests and scenario runs).
        pub async fn recreate_schema(url: &str, schema: &str) -> Result<Self> {
            Self::schema(url, schema, true).await
        }

        async fn schema(url: &str, schema: &str, fresh: bool) -> Result<Self> {
            if schema.is_empty() || !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(Error::InvalidInput(format!("schema name {schema:?}")));
            }
            let options = PgConnectOptions::from_str(url).map_err(super::map_err)?;
            let admin =
                PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await.map_err(super::map_err)?;
            let drop = if fresh { format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE; ") } else { String::new() };
            let ddl = format!("{drop}CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
            sqlx::raw_sql(sqlx::AssertSqlSafe(ddl)).execute(&admin).await.map_err(super::map_err)?;
            admin.close().await;
            Self::connect_with(options.options([("search_path", schema)]), 32).await
        }
    }

    #[async_trait::async_trait]
    impl Store for PgStore {
        async fn begin(&self) -> Result<Box<dyn Tx>> {
            let tx = self.pool.begin().await.map_err(super::map_err)?;
            Ok(Box::new(PgTx { tx, write: true, cache: Default::default(), _turn: None }))
        }
        async fn load(&self, changes: Vec<Change>) -> Result<()> {
            if changes.is_empty() {
                return Ok(());
            }
            let tx = self.pool.begin().await.map_err(super::map_err)?;
            PgTx::writer(tx, None).load_and_commit(changes).await
        }
        async fn begin_locked(&self, locks: &[Lock]) -> Result<Box<dyn Tx>> {
            if locks.is_empty() {
                return self.begin().await;
            }
            // `BEGIN` and the row locks as one simple query: one round trip instead of one
            // and one per lock. The ids are UUIDs kadry formats itself (hex digits and
            // hyphens), so they are written into the text.
            let mut sql = String::from("BEGIN");
            for lock in locks {
                match lock {
                    Lock::Person(p) => {
                        sql.push_str(&format!("; SELECT id FROM kadry_persons WHERE id = '{p}' FOR UPDATE"))
                    }
                    Lock::Group(g) => {
                        sql.push_str(&format!("; SELECT id FROM kadry_groups WHERE id = '{g}' FOR UPDATE"))
                    }
                    // A number, formatted by Rust.
                    Lock::Year(year) => sql.push_str(&format!("; {}", LOCK_YEAR.replace("$1", &year.to_string()))),
                }
            }
            let tx = self.pool.begin_with(sqlx::AssertSqlSafe(sql)).await.map_err(super::map_err)?;
            Ok(Box::new(PgTx { tx, write: true, cache: Default::default(), _turn: None }))
        }
        async fn read(&self) -> Result<Box<dyn Tx>> {
            let tx = self
                .pool
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await
                .map_err(super::map_err)?;
            Ok(Box::new(PgTx { tx, write: false, cache: Default::default(), _turn: None }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kadry_core::ids::{GroupId, OrgId, PersonId, ProgramId, TerritoryId};
    use kadry_core::ports::Change;

    #[test]
    fn placeholders_are_renumbered_whole() {
        assert_eq!(shift_placeholders("VALUES ($1, $2, $10) WHERE x = '$'", 3), "VALUES ($4, $5, $13) WHERE x = '$'");
        assert_eq!(shift_placeholders("SELECT 1", 7), "SELECT 1");
    }

    /// The prefetch of an enrolment (the actor, the worker, the group): the two persons in
    /// one part, every part a plain lookup with the catalogue rows it names read by scalar
    /// subqueries (no join and no `IN (SELECT …)`, which PostgreSQL may plan as a scan or hash
    /// over a whole table, and no window), one value per placeholder.
    #[test]
    fn prefetch_reads_persons_once_and_never_scans_a_table() {
        use kadry_core::ports::Read;
        let (actor, worker) = (PersonId(uuid::Uuid::new_v4()), PersonId(uuid::Uuid::new_v4()));
        let group = GroupId(uuid::Uuid::new_v4());
        let reads = [Read::Actor(actor), Read::Worker(worker), Read::Group(group)];
        let (sql, binds) = ReadCache::default().statement(&reads).expect("nothing cached");
        assert_eq!(sql.matches("FROM kadry_persons").count(), 1, "{sql}");
        assert!(sql.contains("FROM kadry_persons WHERE id IN ($1, $2)"), "{sql}");
        assert_eq!(&binds[..2], [actor.to_string(), worker.to_string()]);
        assert_eq!(
            binds.len(),
            2 + 1 + 4 + 4,
            "grants; employments, workplaces, vouchers, enrolments; group, program, provider, cycles"
        );
        assert_eq!(sql.matches(" UNION ALL ").count(), 9, "ten parts: {sql}");
        assert!(!sql.contains("IN (SELECT") && !sql.contains("OVER ("), "{sql}");
        // Catalogue rows by primary key from the row that names them, never by a join the
        // planner could drive from the catalogue's side.
        assert!(!sql.contains(" JOIN "), "{sql}");
        assert_eq!(sql.matches("(SELECT o.doc FROM kadry_orgs o WHERE o.id = ").count(), 2, "{sql}");
        let last = format!("${}", binds.len());
        assert!(sql.contains(&last) && !sql.contains(&format!("${}", binds.len() + 1)), "{sql}");

        // A worker acting on themself: their person is read once.
        let (sql, binds) = ReadCache::default().statement(&[Read::Actor(worker), Read::Worker(worker)]).expect("sql");
        assert!(sql.contains("WHERE id IN ($1)"), "{sql}");
        assert_eq!(binds.len(), 1 + 1 + 4);

        // Everything fetched is answered from the cache: no statement at all.
        let mut cache = ReadCache::default();
        cache.fill(&reads, Vec::new());
        assert!(cache.statement(&reads).is_none());
    }

    /// A person's grants come in one order (role, then scope) whether read by the prefetch or
    /// on their own.
    #[test]
    fn grants_are_ordered_by_role_then_scope() {
        let person = PersonId(uuid::Uuid::new_v4());
        let grant = |role: Role, scope: Scope| RoleGrant {
            person,
            role,
            scope,
            basis: String::new(),
            granted_at: chrono::Utc::now(),
            suspended: false,
        };
        let (a, b) = (OrgId(uuid::Uuid::from_u128(1)), OrgId(uuid::Uuid::from_u128(2)));
        let sorted = sorted_grants(vec![
            grant(Role::Provider, Scope::Organisation(a)),
            grant(Role::OrgResponsible, Scope::Organisation(b)),
            grant(Role::OrgResponsible, Scope::Organisation(a)),
        ]);
        let got: Vec<(&str, Scope)> = sorted.iter().map(|g| (g.role.as_str(), g.scope)).collect();
        let mut want = got.clone();
        want.sort_by_key(|(r, s)| (*r, serde_json::to_string(s).unwrap_or_default()));
        assert_eq!(got, want);
        assert_eq!(got[0].1, Scope::Organisation(a), "{got:?}");
        assert_ne!(got[0].0, "provider", "{got:?}");
    }

    /// One description per kind of row: ranked in the order a load writes them, and every
    /// change that writes a row gives one value per column, of the column's type.
    #[test]
    fn every_row_kind_has_its_place_and_every_value_its_column() {
        for (i, kind) in ROW_KINDS.iter().enumerate() {
            assert_eq!(kind.rank, i, "{}", kind.table);
            assert!(kind.key.iter().all(|k| kind.columns.iter().any(|(c, _)| c == k)), "{}", kind.table);
        }
        let tables: std::collections::HashSet<&str> = ROW_KINDS.iter().map(|k| k.table).collect();
        assert_eq!(tables.len(), ROW_KINDS.len(), "one kind per table");
        let g = GroupId(uuid::Uuid::new_v4());
        let audit = Change::Audit(AuditEntry {
            at: chrono::Utc::now(),
            actor: kadry_core::access::Actor::System,
            action: "enroll".into(),
            subject: None,
        });
        let limit =
            Change::SetLimit { year: 2026, source: Funding::State, limit: kadry_core::planning::from_kopecks(1) };
        for change in [audit, limit, Change::PutCycle(kadry_core::planning::Cycle::new(2026))] {
            let row = row_of(&change).expect("encode").expect("a row");
            assert_eq!(row.values.len(), row.kind.columns.len(), "{}", row.kind.table);
            for (v, (c, ty)) in row.values.iter().zip(row.kind.columns) {
                let fits = matches!(
                    (ty, v),
                    (Ty::Text, Value::Text(_)) | (Ty::Int, Value::Int(_)) | (Ty::Bool, Value::Bool(_))
                );
                assert!(fits, "{}.{c}: {v:?}", row.kind.table);
            }
        }
        for change in [Change::TakeSeat(g), Change::FreeSeat(g)] {
            assert!(row_of(&change).expect("encode").is_none());
        }
    }

    /// A load writes each kind after every kind its rows reference, as the schema's foreign
    /// keys say (read from SQLite's migrated schema; PostgreSQL's has the same keys).
    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn row_kinds_come_after_what_they_reference() {
        let store = sqlite::SqliteStore::open(":memory:").await.expect("open");
        for kind in ROW_KINDS {
            let sql = format!("SELECT \"table\" FROM pragma_foreign_key_list('{}')", kind.table);
            let parents: Vec<String> =
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(store.pool()).await.expect("pragma");
            for parent in parents {
                if let Some(p) = ROW_KINDS.iter().find(|k| k.table == parent) {
                    assert!(p.rank <= kind.rank, "{} references {parent}, written later", kind.table);
                }
            }
        }
    }

    /// The single-row statement of `Tx::apply` and the multi-row one of `Store::load` come
    /// from one description: the same table, columns and conflict clause.
    #[test]
    fn single_and_multi_row_statements_share_one_description() {
        assert_eq!(
            ORGS.single(),
            "INSERT INTO kadry_orgs (id, territory, parent, doc, kind) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET territory = excluded.territory, parent = excluded.parent, \
             doc = excluded.doc, kind = excluded.kind"
        );
        assert_eq!(
            ORGS.multi(),
            "INSERT INTO kadry_orgs (id, territory, parent, doc, kind) SELECT v.id, v.territory, v.parent, v.doc, v.kind \
             FROM {rows} WHERE true{order} ON CONFLICT (id) DO UPDATE SET territory = excluded.territory, \
             parent = excluded.parent, doc = excluded.doc, kind = excluded.kind"
        );
        assert_eq!(AUDIT.single(), "INSERT INTO kadry_audit (at, action, subject, doc) VALUES ($1, $2, $3, $4)");
        assert!(!TRAININGS.multi().contains("ON CONFLICT"), "records are appended");
    }

    /// The row sources a multi-row write reads: PostgreSQL's typed arrays in order, SQLite's
    /// `VALUES` numbered row after row.
    #[test]
    fn row_sources_name_every_column() {
        #[cfg(feature = "postgres")]
        assert_eq!(unnest_source(SEAT_COLUMNS), "UNNEST($1::text[], $2::bigint[]) WITH ORDINALITY AS v(id, n, ord)");
        #[cfg(feature = "sqlite")]
        assert_eq!(
            values_source(SEAT_COLUMNS, 2),
            "(SELECT column1 AS id, column2 AS n FROM (VALUES (?, ?), (?, ?))) AS v"
        );
        let [delete, insert] = facts_refresh(FactsOf::Person, " = $1");
        assert_eq!(delete, "DELETE FROM kadry_staff_facts WHERE person = $1");
        assert_eq!(insert.matches("person = $1").count(), 3, "{insert}");
        #[cfg(feature = "sqlite")]
        {
            let [delete, insert] = facts_refresh(FactsOf::Org, sqlite::IDS_IN);
            assert!(delete.contains("WHERE org IN (SELECT v.id FROM {rows}))"), "{delete}");
            assert_eq!(insert.matches("{rows}").count(), 3, "{insert}");
        }
    }

    /// A load's batch: seats of one group summed (R-G3), a row written a second time (or a
    /// group whose seats the batch takes) only once the batch is written, a change no
    /// multi-row statement writes alone, and the kinds written in rank order.
    #[test]
    fn r_g3_a_batch_sums_seats_and_writes_a_row_twice_only_after_writing_it() {
        let g = GroupId(uuid::Uuid::new_v4());
        let group = Group {
            id: g,
            program: ProgramId(uuid::Uuid::new_v4()),
            provider: OrgId(uuid::Uuid::new_v4()),
            starts: chrono::NaiveDate::from_ymd_opt(2025, 4, 7).unwrap_or_default(),
            ends: chrono::NaiveDate::from_ymd_opt(2025, 4, 17).unwrap_or_default(),
            place: "Самара".into(),
            capacity: 3,
            taken: 0,
            funding: Funding::State,
            completed_on: None,
            cancelled: false,
            plan: None,
        };
        let territory = Change::PutTerritory(Territory { id: TerritoryId(uuid::Uuid::new_v4()), name: "Т".into() });
        let mut batch = Batch::new();
        assert!(batch.is_empty());
        for change in [Change::PutGroup(group.clone()), Change::TakeSeat(g), Change::TakeSeat(g), territory] {
            assert_eq!(batch.gather(&change).expect("gather"), Gathered::Joined, "{change:?}");
        }
        assert_eq!(batch.gather(&Change::PutGroup(group.clone())).expect("gather"), Gathered::WriteFirst);
        assert_eq!(batch.gather(&Change::FreeSeat(g)).expect("gather"), Gathered::Alone);
        let (kinds, seats) = batch.take();
        let tables: Vec<&str> = kinds.iter().map(|(k, rows)| (k.table, rows.len())).map(|(t, _)| t).collect();
        assert_eq!(tables, ["kadry_territories", "kadry_groups"], "parents first");
        assert_eq!(seats, [(g.to_string(), 2)]);
        assert!(batch.is_empty());
        // Seats first, then the group again: the seats wait for the new capacity.
        assert_eq!(batch.gather(&Change::TakeSeat(g)).expect("gather"), Gathered::Joined);
        assert_eq!(batch.gather(&Change::PutGroup(group)).expect("gather"), Gathered::WriteFirst);
    }

    /// R-G3: a command's seat and audit entry join one statement, whose seat part refuses with
    /// `group.full`; a row written twice, or a change kadry does not combine, keeps the changes
    /// apart.
    #[test]
    fn r_g3_writes_combine_only_when_each_row_is_written_once() {
        let g = GroupId(uuid::Uuid::new_v4());
        let audit = Change::Audit(AuditEntry {
            at: chrono::Utc::now(),
            actor: kadry_core::access::Actor::System,
            action: "enroll".into(),
            subject: None,
        });
        let parts = combinable(&[Change::TakeSeat(g), audit.clone()]).expect("encode").expect("combined");
        let (sql, values) = combined_sql(&parts);
        assert!(
            sql.starts_with("WITH w0 AS (UPDATE kadry_groups") && sql.contains("VALUES ($2, $3, $4, $5))"),
            "{sql}"
        );
        assert!(
            sql.ends_with("SELECT (SELECT COUNT(*) FROM w0)"),
            "only the seat, which can refuse, is counted: {sql}"
        );
        assert_eq!(values.len(), 5);
        assert_eq!(parts[0].refusal.map(|r| r().code()), Some("group.full"));
        assert!(combinable(&[Change::TakeSeat(g), Change::TakeSeat(g)]).expect("encode").is_none());
        assert!(combinable(&[Change::FreeSeat(g), audit]).expect("encode").is_none());
    }
}
