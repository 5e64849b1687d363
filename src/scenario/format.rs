//! Reading scenario files, format version 1 (`scenario-format.md`).
//!
//! This is the parsing layer of the scenario runner: it turns a `.toml` file into a
//! [`Scenario`] of dated [`Step`]s and checks everything that can be checked without running
//! it (required keys, the policy, the shape of `at`, `with` and `expect`, time never going back,
//! no unknown keys). Every problem is a [`ParseError`] that names the file and, where it can,
//! the line.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Number, Value};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

/// The policies a scenario may name in `policy`.
const POLICIES: [&str; 3] = ["samara", "yugra", "tatarstan"];
/// Keys allowed at the top level of a file.
const TOP_KEYS: [&str; 4] = ["title", "policy", "source", "step"];
/// Keys allowed in a `[[step]]`.
const STEP_KEYS: [&str; 6] = ["at", "by", "do", "with", "expect", "note"];

/// One scenario file: a story told as dated steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file it was read from (as given to [`parse_str`] or [`parse_file`]).
    pub file: PathBuf,
    /// `title`: what the scenario shows.
    pub title: String,
    /// `policy`: `samara`, `yugra` or `tatarstan`.
    pub policy: String,
    /// `source`: the regulation the story comes from, if given.
    pub source: Option<String>,
    /// The steps in file order; never empty.
    pub steps: Vec<Step>,
}

/// One `[[step]]` of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based step number.
    pub index: usize,
    /// 1-based line of the step's `[[step]]` header in the file.
    pub line: usize,
    /// When the step happens, in the policy's local time. A date alone means 12:00; a step
    /// without `at` happens at the previous step's time.
    pub at: NaiveDateTime,
    /// `by`: who acts (a name introduced earlier, or `operator`, `ministry`, `system`).
    pub by: String,
    /// `do`: the command or query.
    pub action: String,
    /// `with`: the arguments, converted from TOML. Strings stay strings (dates included);
    /// TOML datetimes, if any, become their string form. Empty when `with` is absent.
    pub with: Map<String, Value>,
    /// `expect`: what must come of the step.
    pub expect: Expect,
    /// `note`: free text, if given.
    pub note: Option<String>,
}

/// What must come of a step.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Expect {
    /// `expect = "ok"` or no `expect`: the step must succeed.
    #[default]
    Ok,
    /// `expect = "voucher.none"`: the step must be refused with exactly this error code.
    Error(String),
    /// `expect = { status = "active" }`: the step must succeed and its result must hold these
    /// fields with these values (compare with [`value_matches`]).
    Fields(Map<String, Value>),
}

/// Why a scenario file could not be read or parsed.
///
/// Displays as `FILE:LINE: reason`, or `FILE: reason` when there is no line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file (or folder) concerned.
    pub file: PathBuf,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

impl std::error::Error for ParseError {}

/// Reads and parses one scenario file.
///
/// A file that cannot be read (missing, not UTF-8, …) is a [`ParseError`] without a line.
pub fn parse_file(path: &Path) -> Result<Scenario, ParseError> {
    let text = std::fs::read_to_string(path).map_err(|e| ParseError {
        file: path.to_path_buf(),
        line: None,
        reason: format!("cannot read: {e}"),
    })?;
    parse_str(path, &text)
}

/// Expands PATHs into the scenario files to run: a file is taken as it is, a folder gives its
/// `*.toml` files in name order (not recursive). An unreadable path is a [`ParseError`].
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ParseError> {
    let unreadable = |path: &Path, e: std::io::Error| ParseError {
        file: path.to_path_buf(),
        line: None,
        reason: format!("cannot read: {e}"),
    };
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| unreadable(path, e))?;
        if !meta.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut found = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| unreadable(path, e))? {
            let entry = entry.map_err(|e| unreadable(path, e))?;
            let file = entry.path();
            let is_toml = file.extension().is_some_and(|ext| ext == "toml");
            if is_toml && file.is_file() {
                found.push(file);
            }
        }
        found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        files.extend(found);
    }
    Ok(files)
}

/// Parses the text of a scenario file; `file` is only used to name it in the result and in
/// errors.
///
/// Checks: TOML syntax; `title` and `policy` present, `policy` one of
/// `samara | yugra | tatarstan`; at least one step; each step has `by` and `do`, the first has
/// `at`; `at` is `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` and never earlier
/// than the previous step's; `with` is a table; `expect` is `"ok"`, an error code (`a.b`,
/// `not_found`) or an inline table; no unknown keys.
pub fn parse_str(file: &Path, text: &str) -> Result<Scenario, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let cx = Cx { file, text };
    let root =
        DeTable::parse(text).map_err(|e| cx.err_at(e.span(), format!("invalid TOML: {}", e.message().trim())))?;
    let root = root.get_ref();

    if let Some(key) = first_unknown_key(root, &TOP_KEYS) {
        return Err(cx.err(
            key.span(),
            format!("unknown key `{}` at the top level (expected one of: {})", key.get_ref(), TOP_KEYS.join(", ")),
        ));
    }

    let title = match lookup(root, "title") {
        None => return Err(cx.err_at(None, "missing `title`")),
        Some((_, v)) => cx.string(v, "`title`")?,
    };
    if title.trim().is_empty() {
        return Err(cx.err(lookup_span(root, "title"), "`title` is empty"));
    }
    let policy = match lookup(root, "policy") {
        None => return Err(cx.err_at(None, "missing `policy`")),
        Some((_, v)) => {
            let policy = cx.string(v, "`policy`")?;
            if !POLICIES.contains(&policy.as_str()) {
                return Err(cx.err(v.span(), format!("policy `{policy}` is not one of {}", POLICIES.join(", "))));
            }
            policy
        }
    };
    let source = match lookup(root, "source") {
        None => None,
        Some((_, v)) => Some(cx.string(v, "`source`")?),
    };

    let items = match lookup(root, "step") {
        None => return Err(cx.err_at(None, "no steps (add at least one `[[step]]`)")),
        Some((key, v)) => match v.get_ref() {
            DeValue::Array(items) => items,
            other => {
                return Err(cx.err(
                    key.span(),
                    format!("`step` must be an array of tables (`[[step]]`), not {}", other.type_str()),
                ));
            }
        },
    };
    if items.is_empty() {
        return Err(cx.err(lookup_span(root, "step"), "no steps (add at least one `[[step]]`)"));
    }

    let mut steps: Vec<Step> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let step = cx.step(i + 1, item, steps.last())?;
        steps.push(step);
    }

    Ok(Scenario { file: file.to_path_buf(), title, policy, source, steps })
}

/// Compares an expected field value (from [`Expect::Fields`]) with the actual value of that
/// field in a step's result.
///
/// - dates compare as `YYYY-MM-DD` strings: an expected date also matches an actual date and
///   time string on that day (`"2025-01-15"` matches `"2025-01-15T10:00:00"`);
/// - counts compare as integers: expected `2` matches actual `2` or `2.0`;
/// - booleans as booleans, strings exactly (no conversion between types: `"2"` is not `2`);
/// - arrays element by element; tables field by field, where fields the expected table does
///   not name are ignored.
pub fn value_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(e), Value::Bool(a)) => e == a,
        (Value::Number(e), Value::Number(a)) => numbers_equal(e, a),
        (Value::String(e), Value::String(a)) => e == a || (parse_date(e).is_some() && date_part(a) == Some(e.as_str())),
        (Value::Array(e), Value::Array(a)) => e.len() == a.len() && e.iter().zip(a).all(|(e, a)| value_matches(e, a)),
        (Value::Object(e), Value::Object(a)) => {
            e.iter().all(|(k, ev)| a.get(k).is_some_and(|av| value_matches(ev, av)))
        }
        _ => false,
    }
}

fn numbers_equal(e: &Number, a: &Number) -> bool {
    if let (Some(e), Some(a)) = (e.as_i64(), a.as_i64()) {
        return e == a;
    }
    if let (Some(e), Some(a)) = (e.as_u64(), a.as_u64()) {
        return e == a;
    }
    match (e.as_f64(), a.as_f64()) {
        (Some(e), Some(a)) => e == a,
        _ => false,
    }
}

/// The `YYYY-MM-DD` part of a date or date-and-time string.
fn date_part(s: &str) -> Option<&str> {
    let date = s.get(..10)?;
    parse_date(date)?;
    match s.as_bytes().get(10) {
        None | Some(b'T' | b't' | b' ') => Some(date),
        Some(_) => None,
    }
}

/// Parses exactly `YYYY-MM-DD`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Parses `YYYY-MM-DD` (meaning 12:00), `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS`.
fn parse_at(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    let date = parse_date(s.get(..10)?)?;
    let time = match b.len() {
        10 => NaiveTime::from_hms_opt(12, 0, 0)?,
        16 | 19 => {
            if b[10] != b'T' || b[13] != b':' {
                return None;
            }
            let hour = digits(&b[11..13])?;
            let minute = digits(&b[14..16])?;
            let second = if b.len() == 19 {
                if b[16] != b':' {
                    return None;
                }
                digits(&b[17..19])?
            } else {
                0
            };
            NaiveTime::from_hms_opt(hour, minute, second)?
        }
        _ => return None,
    };
    Some(date.and_time(time))
}

/// ASCII digits only (no sign, no spaces) as a number.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n.checked_mul(10)?.checked_add(u32::from(c - b'0'))).flatten()
    })
}

/// `not_found`, or a dotted code such as `voucher.none`: segments of lowercase letters,
/// digits and `_`, each starting with a letter.
fn is_error_code(s: &str) -> bool {
    if s == "not_found" {
        return true;
    }
    let mut segments = 0;
    for seg in s.split('.') {
        let mut chars = seg.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !starts_with_letter || !rest_ok {
            return false;
        }
        segments += 1;
    }
    segments >= 2
}

/// The entry for `key` in a parsed table (works whatever order the map keeps).
fn lookup<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<(&'t Spanned<DeString<'i>>, &'t Spanned<DeValue<'i>>)> {
    table.iter().find(|(k, _)| k.get_ref() == key)
}

/// The span of the value of `key`, if present.
fn lookup_span(table: &DeTable<'_>, key: &str) -> Option<Range<usize>> {
    lookup(table, key).map(|(_, v)| v.span())
}

/// The first key (in file order) that is not among `allowed`.
fn first_unknown_key<'t, 'i>(table: &'t DeTable<'i>, allowed: &[&str]) -> Option<&'t Spanned<DeString<'i>>> {
    table.iter().map(|(k, _)| k).filter(|k| !allowed.contains(&k.get_ref().as_ref())).min_by_key(|k| k.span().start)
}

/// Parsing context: the file name and text, for errors with line numbers.
struct Cx<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Cx<'_> {
    /// 1-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn err_at(&self, span: Option<Range<usize>>, reason: impl Into<String>) -> ParseError {
        ParseError { file: self.file.to_path_buf(), line: span.map(|s| self.line_of(s.start)), reason: reason.into() }
    }

    fn err(&self, span: impl Into<Option<Range<usize>>>, reason: impl Into<String>) -> ParseError {
        self.err_at(span.into(), reason)
    }

    fn string(&self, v: &Spanned<DeValue<'_>>, what: &str) -> Result<String, ParseError> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(self.err(v.span(), format!("{what} must be a string, not {}", other.type_str()))),
        }
    }

    fn step(&self, index: usize, item: &Spanned<DeValue<'_>>, previous: Option<&Step>) -> Result<Step, ParseError> {
        let line = self.line_of(item.span().start);
        let here = |reason: String| ParseError {
            file: self.file.to_path_buf(),
            line: Some(line),
            reason: format!("step {index}: {reason}"),
        };
        let at_span = |span: Range<usize>, reason: String| self.err(span, format!("step {index}: {reason}"));
        let DeValue::Table(table) = item.get_ref() else {
            return Err(here(format!("a step must be a table, not {}", item.get_ref().type_str())));
        };

        if let Some(key) = first_unknown_key(table, &STEP_KEYS) {
            return Err(at_span(
                key.span(),
                format!("unknown key `{}` (expected one of: {})", key.get_ref(), STEP_KEYS.join(", ")),
            ));
        }

        let required = |key: &str| -> Result<String, ParseError> {
            let Some((_, v)) = lookup(table, key) else {
                return Err(here(format!("missing `{key}`")));
            };
            let s = self
                .string(v, &format!("`{key}`"))
                .map_err(|e| ParseError { reason: format!("step {index}: {}", e.reason), ..e })?;
            if s.trim().is_empty() {
                return Err(at_span(v.span(), format!("`{key}` is empty")));
            }
            Ok(s)
        };
        let by = required("by")?;
        let action = required("do")?;

        let at = match (lookup(table, "at"), previous) {
            (None, None) => return Err(here("missing `at` (required on the first step)".into())),
            (None, Some(prev)) => prev.at,
            (Some((_, v)), previous) => {
                let raw = match v.get_ref() {
                    DeValue::String(s) => s.to_string(),
                    DeValue::Datetime(d) => d.to_string(),
                    other => {
                        return Err(at_span(
                            v.span(),
                            format!(
                                "`at` must be a string \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM\", not {}",
                                other.type_str()
                            ),
                        ));
                    }
                };
                let Some(at) = parse_at(&raw) else {
                    return Err(at_span(
                        v.span(),
                        format!("`at` = {raw:?} is not a date \"YYYY-MM-DD\" or a date and time \"YYYY-MM-DDTHH:MM\""),
                    ));
                };
                if let Some(prev) = previous
                    && at < prev.at
                {
                    return Err(at_span(
                        v.span(),
                        format!(
                            "time goes back: {} is earlier than step {}'s {}",
                            at.format("%Y-%m-%dT%H:%M"),
                            prev.index,
                            prev.at.format("%Y-%m-%dT%H:%M")
                        ),
                    ));
                }
                at
            }
        };

        let with = match lookup(table, "with") {
            None => Map::new(),
            Some((_, v)) => match v.get_ref() {
                DeValue::Table(t) => self
                    .table_to_json(t)
                    .map_err(|e| ParseError { reason: format!("step {index}: `with`: {}", e.reason), ..e })?,
                other => {
                    return Err(at_span(v.span(), format!("`with` must be a table, not {}", other.type_str())));
                }
            },
        };

        let expect = match lookup(table, "expect") {
            None => Expect::Ok,
            Some((_, v)) => match v.get_ref() {
                DeValue::String(s) if s == "ok" => Expect::Ok,
                DeValue::String(s) if is_error_code(s) => Expect::Error(s.to_string()),
                DeValue::String(s) => {
                    return Err(at_span(
                        v.span(),
                        format!(
                            "`expect` = {s:?} is neither \"ok\" nor an error code such as \"voucher.none\" or \"not_found\""
                        ),
                    ));
                }
                DeValue::Table(t) => Expect::Fields(
                    self.table_to_json(t)
                        .map_err(|e| ParseError { reason: format!("step {index}: `expect`: {}", e.reason), ..e })?,
                ),
                other => {
                    return Err(at_span(
                        v.span(),
                        format!("`expect` must be \"ok\", an error code or an inline table, not {}", other.type_str()),
                    ));
                }
            },
        };

        let note = match lookup(table, "note") {
            None => None,
            Some((_, v)) => Some(
                self.string(v, "`note`")
                    .map_err(|e| ParseError { reason: format!("step {index}: {}", e.reason), ..e })?,
            ),
        };

        Ok(Step { index, line, at, by, action, with, expect, note })
    }

    fn table_to_json(&self, table: &DeTable<'_>) -> Result<Map<String, Value>, ParseError> {
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        let mut map = Map::new();
        for (k, v) in entries {
            map.insert(k.get_ref().to_string(), self.to_json(v)?);
        }
        Ok(map)
    }

    fn to_json(&self, v: &Spanned<DeValue<'_>>) -> Result<Value, ParseError> {
        Ok(match v.get_ref() {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Integer(i) => {
                let n = if let Ok(n) = i64::from_str_radix(i.as_str(), i.radix()) {
                    Number::from(n)
                } else if let Ok(n) = u64::from_str_radix(i.as_str(), i.radix()) {
                    Number::from(n)
                } else {
                    return Err(self.err(v.span(), format!("integer {i} is out of range")));
                };
                Value::Number(n)
            }
            DeValue::Float(f) => {
                let n = f.as_str().parse::<f64>().ok().and_then(Number::from_f64);
                match n {
                    Some(n) => Value::Number(n),
                    None => {
                        return Err(self.err(v.span(), format!("{f} is not a finite number")));
                    }
                }
            }
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::String(d.to_string()),
            DeValue::Array(items) => {
                Value::Array(items.iter().map(|item| self.to_json(item)).collect::<Result<_, _>>()?)
            }
            DeValue::Table(t) => Value::Object(self.table_to_json(t)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/spec/scenarios");

    fn parse(text: &str) -> Result<Scenario, ParseError> {
        parse_str(Path::new("t.toml"), text)
    }

    fn dt(s: &str) -> NaiveDateTime {
        parse_at(s).expect("valid test date")
    }

    /// The error's line and reason, for an input that must fail.
    fn fail(text: &str) -> (Option<usize>, String) {
        match parse(text) {
            Ok(s) => panic!("expected an error, parsed {s:?}"),
            Err(e) => (e.line, e.reason),
        }
    }

    const HEAD: &str = "title = \"t\"\npolicy = \"samara\"\n";

    fn examples() -> Option<Vec<PathBuf>> {
        let dir = Path::new(EXAMPLES);
        if !dir.is_dir() {
            println!("skipped: {EXAMPLES} is absent");
            return None;
        }
        Some(collect_files(&[dir.to_path_buf()]).expect("example folder is readable"))
    }

    #[test]
    fn every_example_parses() {
        let Some(files) = examples() else { return };
        assert!(!files.is_empty());
        for file in files {
            let s = parse_file(&file).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.steps.is_empty());
            assert_eq!(s.file, file);
            for (i, step) in s.steps.iter().enumerate() {
                assert_eq!(step.index, i + 1);
            }
        }
    }

    #[test]
    fn working_days_example() {
        let file = Path::new(EXAMPLES).join("samara-working-days.toml");
        if !file.is_file() {
            println!("skipped: {} is absent", file.display());
            return;
        }
        let s = parse_file(&file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.policy, "samara");
        assert_eq!(s.steps.len(), 10);
        assert_eq!(s.steps[0].at, dt("2024-12-27T09:00"));
        assert_eq!(s.steps[0].line, 5);
        assert_eq!(s.steps[0].action, "register_territory");
        assert_eq!(s.steps[0].with["id"], json!("tlt"));
        // inherited
        assert_eq!(s.steps[1].at, dt("2024-12-27T09:00"));
        assert_eq!(s.steps[8].at, dt("2024-12-27T15:00"));
        assert_eq!(s.steps[9].at, dt("2024-12-27T15:00"));
        let Expect::Fields(fields) = &s.steps[9].expect else { panic!("fields expected") };
        assert_eq!(fields["approve_by"], json!("2025-01-14"));
        assert!(s.steps[9].note.is_some());
        assert_eq!(s.steps[1].expect, Expect::Ok);
    }

    #[test]
    fn full_step() {
        let text = format!(
            "{HEAD}source = \"003\"\n\n[[step]]\nat = \"2025-01-13\"\nby = \"operator\"\ndo = \"x\"\n\
             with = {{ id = \"a\", n = 3, f = 1.5, b = true, d = 2025-01-13, l = [1, \"q\"], t = {{ u = \"2030-12-31\" }} }}\n\
             expect = \"voucher.none\"\nnote = \"n\"\n\
             [[step]]\nat = \"2025-01-13T14:30:15\"\nby = \"x\"\ndo = \"show\"\nexpect = {{ count = 2, ok = false }}\n\
             [[step]]\nby = \"x\"\ndo = \"y\"\nexpect = \"not_found\"\n[[step]]\nat = 2025-01-14T08:00:00\nby = \"x\"\ndo = \"y\"\nexpect = \"ok\"\n"
        );
        let s = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.title, "t");
        assert_eq!(s.source.as_deref(), Some("003"));
        assert_eq!(s.steps.len(), 4);
        let a = &s.steps[0];
        assert_eq!((a.index, a.line), (1, 5));
        assert_eq!(a.at, dt("2025-01-13T12:00"), "a date alone means noon");
        assert_eq!(
            Value::Object(a.with.clone()),
            json!({"id": "a", "n": 3, "f": 1.5, "b": true, "d": "2025-01-13", "l": [1, "q"], "t": {"u": "2030-12-31"}})
        );
        assert_eq!(a.expect, Expect::Error("voucher.none".into()));
        assert_eq!(a.note.as_deref(), Some("n"));
        let b = &s.steps[1];
        assert_eq!(b.line, 12);
        assert_eq!(b.at, dt("2025-01-13T14:30:15"));
        assert!(b.with.is_empty());
        assert_eq!(b.expect, Expect::Fields(json!({"count": 2, "ok": false}).as_object().cloned().unwrap_or_default()));
        assert_eq!(s.steps[2].at, b.at);
        assert_eq!(s.steps[2].expect, Expect::Error("not_found".into()));
        assert_eq!(s.steps[3].at, dt("2025-01-14T08:00"));
        assert_eq!(s.steps[3].expect, Expect::Ok);
    }

    #[test]
    fn inline_array_of_steps() {
        let text = format!(
            "{HEAD}step = [\n  {{ at = \"2025-01-01\", by = \"a\", do = \"b\" }},\n  {{ by = \"a\", do = \"c\" }},\n]\n"
        );
        let s = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[1].line, 5);
        assert_eq!(s.steps[1].at, dt("2025-01-01T12:00"));
    }

    #[test]
    fn bom_and_crlf() {
        let text = "\u{feff}title = \"t\"\r\npolicy = \"yugra\"\r\n\r\n[[step]]\r\nat = \"2025-01-01\"\r\nby = \"a\"\r\ndo = \"b\"\r\n";
        let s = parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.steps[0].line, 4);
    }

    #[test]
    fn error_invalid_toml() {
        let (line, reason) = fail("title = \"t\"\npolicy = \"samara\"\n[[step]\nby = 1\n");
        assert_eq!(line, Some(3));
        assert!(reason.starts_with("invalid TOML"), "{reason}");
        let (line, _) = fail("title = \"t\"\ntitle = \"u\"\n");
        assert_eq!(line, Some(2));
        let (line, _) = fail("title = \"t\n");
        assert_eq!(line, Some(1));
    }

    #[test]
    fn error_missing_title_or_policy() {
        let (line, reason) = fail("policy = \"samara\"\n[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\n");
        assert_eq!((line, reason.as_str()), (None, "missing `title`"));
        let (line, reason) = fail("title = \"t\"\n[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\n");
        assert_eq!((line, reason.as_str()), (None, "missing `policy`"));
        let (line, reason) = fail("title = 5\npolicy = \"samara\"\n");
        assert_eq!(line, Some(1));
        assert!(reason.contains("must be a string"), "{reason}");
        let (line, reason) = fail("title = \" \"\npolicy = \"samara\"\n");
        assert_eq!(line, Some(1));
        assert!(reason.contains("empty"), "{reason}");
    }

    #[test]
    fn error_bad_policy() {
        let (line, reason) = fail("title = \"t\"\n\npolicy = \"moscow\"\n");
        assert_eq!(line, Some(3));
        assert!(reason.contains("`moscow`"), "{reason}");
        let (line, _) = fail("title = \"t\"\npolicy = [\"samara\"]\n");
        assert_eq!(line, Some(2));
    }

    #[test]
    fn error_no_steps() {
        let (line, reason) = fail(HEAD);
        assert_eq!(line, None);
        assert!(reason.contains("no steps"), "{reason}");
        let (line, reason) = fail(&format!("{HEAD}step = []\n"));
        assert_eq!(line, Some(3));
        assert!(reason.contains("no steps"), "{reason}");
        let (line, reason) = fail(&format!("{HEAD}[step]\nby = \"a\"\n"));
        assert_eq!(line, Some(3));
        assert!(reason.contains("array of tables"), "{reason}");
        let (line, reason) = fail(&format!("{HEAD}step = [\n1]\n"));
        assert_eq!(line, Some(4));
        assert!(reason.contains("step 1: a step must be a table"), "{reason}");
    }

    #[test]
    fn error_step_without_by_or_do() {
        let (line, reason) =
            fail(&format!("{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\n\n[[step]]\ndo = \"b\"\n"));
        assert_eq!((line, reason.as_str()), (Some(8), "step 2: missing `by`"));
        let (line, reason) = fail(&format!("{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\n"));
        assert_eq!((line, reason.as_str()), (Some(3), "step 1: missing `do`"));
        let (line, reason) = fail(&format!("{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = 7\n"));
        assert_eq!(line, Some(6));
        assert!(reason.contains("`do` must be a string"), "{reason}");
        let (line, reason) = fail(&format!("{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"\"\ndo = \"b\"\n"));
        assert_eq!(line, Some(5));
        assert!(reason.contains("`by` is empty"), "{reason}");
    }

    #[test]
    fn error_first_step_without_at() {
        let (line, reason) = fail(&format!("{HEAD}\n[[step]]\nby = \"a\"\ndo = \"b\"\n"));
        assert_eq!(line, Some(4));
        assert!(reason.starts_with("step 1: missing `at`"), "{reason}");
    }

    #[test]
    fn error_bad_at() {
        for bad in [
            "\"2025-1-13\"",
            "\"13.01.2025\"",
            "\"2025-02-30\"",
            "\"2025-01-13 14:30\"",
            "\"2025-01-13T14:3\"",
            "\"2025-01-13T24:00\"",
            "\"2025-01-13T14:30Z\"",
            "\"2025-01-13T14:30:00+04:00\"",
            "\"\"",
            "20250113",
            "2025-01-13T10:00:00Z",
            "10:00:00",
        ] {
            let (line, reason) = fail(&format!("{HEAD}[[step]]\nby = \"a\"\ndo = \"b\"\nat = {bad}\n"));
            assert_eq!(line, Some(6), "{bad}");
            assert!(reason.starts_with("step 1: `at`"), "{bad}: {reason}");
        }
    }

    #[test]
    fn error_time_goes_back() {
        let (line, reason) = fail(&format!(
            "{HEAD}[[step]]\nat = \"2025-01-13T09:00\"\nby = \"a\"\ndo = \"b\"\n[[step]]\nby = \"a\"\ndo = \"b\"\n\
             [[step]]\nby = \"a\"\ndo = \"b\"\nat = \"2025-01-13T08:59\"\n"
        ));
        assert_eq!(line, Some(13));
        assert!(reason.starts_with("step 3: time goes back"), "{reason}");
        // a date alone is noon, so it goes back from 13:00 on the same day
        let (line, _) = fail(&format!(
            "{HEAD}[[step]]\nat = \"2025-01-13T13:00\"\nby = \"a\"\ndo = \"b\"\n[[step]]\nat = \"2025-01-13\"\nby = \"a\"\ndo = \"b\"\n"
        ));
        assert_eq!(line, Some(8));
        // the same time is fine
        let ok = parse(&format!(
            "{HEAD}[[step]]\nat = \"2025-01-13T12:00\"\nby = \"a\"\ndo = \"b\"\n[[step]]\nat = \"2025-01-13\"\nby = \"a\"\ndo = \"b\"\n"
        ));
        assert!(ok.is_ok());
    }

    #[test]
    fn error_bad_expect() {
        let step = "[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\n";
        for bad in [
            "1",
            "true",
            "[\"ok\"]",
            "\"OK\"",
            "\"voucher\"",
            "\"Voucher.none\"",
            "\"voucher..none\"",
            "\"voucher.none \"",
            "\"\"",
            "\"voucher.\"",
        ] {
            let (line, reason) = fail(&format!("{HEAD}{step}expect = {bad}\n"));
            assert_eq!(line, Some(7), "{bad}");
            assert!(reason.starts_with("step 1: `expect`"), "{bad}: {reason}");
        }
        for good in ["\"input.email_invalid\"", "\"a.b.c_2\"", "\"not_found\"", "\"ok\"", "{}"] {
            assert!(parse(&format!("{HEAD}{step}expect = {good}\n")).is_ok(), "{good}");
        }
        let s = parse(&format!("{HEAD}{step}[step.expect]\nstatus = \"active\"\n")).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(&s.steps[0].expect, Expect::Fields(f) if f["status"] == json!("active")));
    }

    #[test]
    fn error_unknown_keys() {
        let (line, reason) = fail("title = \"t\"\nversion = 1\npolicy = \"samara\"\nzzz = 2\n");
        assert_eq!(line, Some(2));
        assert!(reason.contains("unknown key `version`"), "{reason}");
        let (line, reason) = fail(&format!(
            "{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\n[[step]]\nby = \"a\"\ndo = \"b\"\nexpected = \"ok\"\n"
        ));
        assert_eq!(line, Some(10));
        assert!(reason.starts_with("step 2: unknown key `expected`"), "{reason}");
    }

    #[test]
    fn error_with_not_a_table() {
        let (line, reason) =
            fail(&format!("{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\nwith = \"worker\"\n"));
        assert_eq!(line, Some(7));
        assert!(reason.starts_with("step 1: `with` must be a table"), "{reason}");
        let (line, reason) =
            fail(&format!("{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\nwith = {{ x = nan }}\n"));
        assert_eq!(line, Some(7));
        assert!(reason.contains("not a finite number"), "{reason}");
    }

    #[test]
    fn error_note_not_a_string() {
        let (line, reason) = fail(&format!("{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\nnote = 1\n"));
        assert_eq!(line, Some(7));
        assert!(reason.contains("`note` must be a string"), "{reason}");
    }

    #[test]
    fn display() {
        let e = ParseError { file: "a/b.toml".into(), line: Some(7), reason: "bad".into() };
        assert_eq!(e.to_string(), "a/b.toml:7: bad");
        let e = ParseError { line: None, ..e };
        assert_eq!(e.to_string(), "a/b.toml: bad");
    }

    #[test]
    fn value_matching() {
        assert!(value_matches(&json!(2), &json!(2)));
        assert!(value_matches(&json!(2), &json!(2.0)));
        assert!(value_matches(&json!(2.0), &json!(2)));
        assert!(!value_matches(&json!(2), &json!(3)));
        assert!(!value_matches(&json!(2), &json!(2.5)));
        assert!(!value_matches(&json!(2), &json!("2")));
        assert!(value_matches(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!value_matches(&json!(-1), &json!(u64::MAX)));
        assert!(value_matches(&json!(true), &json!(true)));
        assert!(!value_matches(&json!(true), &json!(false)));
        assert!(!value_matches(&json!(true), &json!("true")));
        assert!(!value_matches(&json!(false), &json!(0)));
        assert!(value_matches(&json!("active"), &json!("active")));
        assert!(!value_matches(&json!("active"), &json!("Active")));
        assert!(!value_matches(&json!("active"), &json!("active ")));
        assert!(value_matches(&json!("2025-01-15"), &json!("2025-01-15")));
        assert!(value_matches(&json!("2025-01-15"), &json!("2025-01-15T10:00:00")));
        assert!(value_matches(&json!("2025-01-15"), &json!("2025-01-15 10:00:00+04:00")));
        assert!(!value_matches(&json!("2025-01-15"), &json!("2025-01-16")));
        assert!(!value_matches(&json!("2025-01-15"), &json!("2025-01-150")));
        assert!(!value_matches(&json!("2025-01-15T10:00"), &json!("2025-01-15")));
        assert!(!value_matches(&json!("2025-01-15"), &json!(null)));
        assert!(value_matches(&json!(null), &json!(null)));
        assert!(value_matches(&json!([1, "a"]), &json!([1.0, "a"])));
        assert!(!value_matches(&json!([1]), &json!([1, 2])));
        assert!(value_matches(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(!value_matches(&json!({"a": 1, "c": 3}), &json!({"a": 1})));
    }

    #[test]
    fn collecting_files() {
        let dir = std::env::temp_dir().join(format!("kadry-format-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub.toml")).expect("temp dir");
        for name in ["b.toml", "a.toml", "c.txt", "sub.toml/d.toml"] {
            std::fs::write(dir.join(name), "").expect("temp file");
        }
        let single = dir.join("c.txt");
        let got = collect_files(&[dir.clone(), single.clone()]);
        let missing = collect_files(&[dir.join("missing.toml")]);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(got, Ok(vec![dir.join("a.toml"), dir.join("b.toml"), single]));
        let e = missing.expect_err("missing path");
        assert_eq!(e.file, dir.join("missing.toml"));
        assert_eq!(e.line, None);
        assert!(parse_file(&dir.join("missing.toml")).is_err());
    }

    /// Deterministic mutations of every example (and a small file when they are absent):
    /// parsing must never panic, and every error must carry a line inside the text.
    #[test]
    fn mutated_inputs_never_panic() {
        let mut texts = vec![format!(
            "{HEAD}[[step]]\nat = \"2025-01-13T09:00\"\nby = \"a\"\ndo = \"b\"\nwith = {{ x = [1, 2.5, {{ y = 2025-01-01 }}] }}\nexpect = {{ n = 1 }}\n"
        )];
        if let Some(files) = examples() {
            texts.extend(files.iter().take(4).filter_map(|f| std::fs::read_to_string(f).ok()));
        }
        let inserts = [
            "[",
            "]",
            "\"",
            "=",
            "\n",
            "{",
            "}",
            "[[step]]\n",
            "at = \"2020-01-01\"\n",
            "x = 1\n",
            "#",
            "\u{feff}",
            "é",
            ",",
        ];
        let check = |t: &str| {
            if let Err(e) = parse(t) {
                let lines = t.lines().count().max(1) + 1;
                assert!(e.line.is_none_or(|l| l >= 1 && l <= lines), "{e}");
            }
        };
        for text in &texts {
            let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(7).collect();
            for (n, &i) in cuts.iter().enumerate() {
                check(&text[..i]);
                let mut t = text.clone();
                t.insert_str(i, inserts[n % inserts.len()]);
                check(&t);
                if let Some(c) = text[i..].chars().next() {
                    let mut t = text.clone();
                    t.replace_range(i..i + c.len_utf8(), "");
                    check(&t);
                }
            }
            let lines: Vec<&str> = text.lines().collect();
            for skip in 0..lines.len() {
                let t: Vec<&str> = lines.iter().enumerate().filter(|&(j, _)| j != skip).map(|(_, l)| *l).collect();
                check(&t.join("\n"));
            }
        }
        // deep nesting
        check(&format!("{HEAD}x = {}{}\n", "[".repeat(5000), "]".repeat(5000)));
        check(&format!(
            "{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\nwith = {{ a = {}1{} }}\n",
            "[".repeat(2000),
            "]".repeat(2000)
        ));
        check(&format!(
            "{HEAD}[[step]]\nat = \"2025-01-01\"\nby = \"a\"\ndo = \"b\"\nwith = {{ a = 99999999999999999999, b = 0xffffffffffffffff }}\n"
        ));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn never_panics_on_any_text(text in "\\PC*") {
                let _ = parse(&text);
            }

            #[test]
            fn never_panics_on_tomlish_text(text in "(title|policy|step|\\[\\[step\\]\\]|at|by|do|with|expect|note|=|\"|samara|2025-01-0[1-9]|T1[0-9]:[0-5][0-9]|\\{|\\}|\\[|\\]|,|\n| |ok|a\\.b|[0-9]+|\\.)*") {
                let _ = parse(&text);
            }

            #[test]
            fn value_matches_is_total(a in "\\PC{0,20}", n in any::<i64>(), f in any::<f64>()) {
                let _ = value_matches(&json!(a), &json!(a.clone()));
                prop_assert!(value_matches(&json!(n), &json!(n)));
                let _ = value_matches(&json!(n), &json!(f));
                prop_assert!(value_matches(&json!(a), &json!(a)));
            }
        }
    }
}
