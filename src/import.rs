//! Bulk import of an organisation's staff list from CSV (feature `import`, on by default).
//!
//! The org responsible's main chore is to register every worker of the organisation (R-A6,
//! R-A10: 100 %). [`parse_staff_csv`] reads the list a region exports from Excel (UTF-8, with or
//! without a BOM, `;` or `,` as delimiter, English or Russian headers) and reports every problem
//! with its file line and column; [`import_staff`] registers the good rows through
//! [`Service::execute_batch`] as ONE unit of work: all rows or none, and a dry run reports the
//! same errors without committing anything. The template is documented in `docs/import.md`.
//!
//! ```
//! let csv = "ФИО;Электронная почта;Должность;Согласие\n\
//!            Иванова Мария Петровна;ivanova@example.ru;учитель;да\n";
//! let parsed = kadry::import::parse_staff_csv(csv.as_bytes());
//! assert!(parsed.errors.is_empty());
//! assert_eq!(parsed.staff[0].line, 2);
//! ```

use std::collections::{HashMap, HashSet};

use kadry_core::command::Command;
use kadry_core::ids::{OrgId, PersonId};
use kadry_core::model::Position;
use kadry_core::types::{Email, EmailError, FullName, NameError, Snils, SnilsError};
use kadry_core::{Actor, Error, Service};
use serde::{Deserialize, Serialize};

/// A column of the staff template. Headers are matched case-insensitively, ignoring
/// invisible characters, `ё`/`е`, `_`/space and a trailing `*` (a "required" mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// `full_name` / `ФИО`: surname, given name and (optional) patronymic. Required.
    FullName,
    /// `email` / `Электронная почта`: the personal email (R-A2). Required.
    Email,
    /// `position` / `Должность`: a position code or its Russian name. Required.
    Position,
    /// `pedagogical` / `Педагогический`: yes/no; empty means yes.
    Pedagogical,
    /// `consent` / `Согласие`: consent to personal data processing, must be yes (R-A4).
    /// Required.
    Consent,
    /// `snils` / `СНИЛС`: either written form (R-A3). Optional.
    Snils,
    /// `subject` / `Предмет`: the subject taught. Optional.
    Subject,
    /// `birth_year` / `Год рождения`: four digits, 1900–2100. Optional.
    BirthYear,
}

impl Column {
    /// Every column, in template order.
    pub const ALL: [Column; 8] = [
        Column::FullName,
        Column::Email,
        Column::Position,
        Column::Pedagogical,
        Column::Consent,
        Column::Snils,
        Column::Subject,
        Column::BirthYear,
    ];

    /// The column's code, its English header (`full_name`, …).
    pub fn code(self) -> &'static str {
        match self {
            Column::FullName => "full_name",
            Column::Email => "email",
            Column::Position => "position",
            Column::Pedagogical => "pedagogical",
            Column::Consent => "consent",
            Column::Snils => "snils",
            Column::Subject => "subject",
            Column::BirthYear => "birth_year",
        }
    }

    /// The other headers accepted for the column (Russian first).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::FullName => &["ФИО", "Ф.И.О.", "Фамилия Имя Отчество", "full name"],
            Column::Email => &["Электронная почта", "Адрес электронной почты", "Эл. почта", "e-mail"],
            Column::Position => &["Должность"],
            Column::Pedagogical => &["Педагогический", "Педагогическая должность"],
            Column::Consent => &["Согласие", "Согласие на обработку персональных данных", "Согласие на обработку ПДн"],
            Column::Snils => &["СНИЛС"],
            Column::Subject => &["Предмет", "Преподаваемый предмет"],
            Column::BirthYear => &["Год рождения"],
        }
    }

    /// Whether the file must have the column.
    pub fn required(self) -> bool {
        matches!(self, Column::FullName | Column::Email | Column::Position | Column::Consent)
    }

    /// The column a header names, if any.
    pub fn from_header(header: &str) -> Option<Column> {
        let h = header_key(header);
        Column::ALL.into_iter().find(|c| header_key(c.code()) == h || c.aliases().iter().any(|a| header_key(a) == h))
    }
}

/// One problem of an import, where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The 1-based line of the file the row starts on (the header's line for header problems).
    pub line: u64,
    /// The column's header as written in the file (its code when the column is missing), or
    /// `None` when the problem is the whole row.
    pub column: Option<String>,
    /// A stable code from the catalogue (`input.email_invalid`, `account.email_taken`, …).
    pub code: String,
    /// An English message.
    pub message: String,
    /// A Russian message for the responsible.
    pub message_ru: String,
}

impl RowError {
    fn new(line: u64, column: Option<String>, code: &str, message: impl Into<String>, ru: impl Into<String>) -> Self {
        RowError { line, column, code: code.to_string(), message: message.into(), message_ru: ru.into() }
    }

    /// A refusal of the service for the row on `line`, in `column`.
    pub fn from_error(line: u64, column: Option<String>, error: &Error) -> Self {
        RowError::new(line, column, error.code(), error.to_string(), error.message_ru())
    }
}

/// A row that parsed: the data of one `RegisterPerson` (consent given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRow {
    /// The 1-based line of the file the row starts on.
    pub line: u64,
    /// Full name, normalised.
    pub full_name: FullName,
    /// Email.
    pub email: Email,
    /// Position.
    pub position: Position,
    /// Whether the position is pedagogical.
    pub pedagogical: bool,
    /// SNILS.
    pub snils: Option<Snils>,
    /// Subject taught.
    pub subject: Option<String>,
    /// Year of birth.
    pub birth_year: Option<i32>,
}

impl StaffRow {
    /// The command that registers the row's person at `org`.
    pub fn command(&self, org: OrgId) -> Command {
        Command::RegisterPerson {
            full_name: self.full_name.as_str().to_string(),
            email: self.email.as_str().to_string(),
            org,
            position: self.position,
            pedagogical: self.pedagogical,
            consent: true,
            snils: self.snils.as_ref().map(|s| s.as_str().to_string()),
            subject: self.subject.clone(),
            birth_year: self.birth_year,
        }
    }
}

/// What [`parse_staff_csv`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedStaff {
    /// Data rows in the file (blank rows not counted).
    pub rows: usize,
    /// The recognised columns with their headers as written in the file, in file order.
    pub header: Vec<(Column, String)>,
    /// The rows to register: those without errors, and the first line of rows repeated in the
    /// file (it is still checked against existing accounts; its repeats are not).
    pub staff: Vec<StaffRow>,
    /// Every problem found, by line.
    pub errors: Vec<RowError>,
}

impl ParsedStaff {
    /// The column's header as written in the file, or its code when the file lacks it.
    pub fn header_name(&self, column: Column) -> String {
        self.header.iter().find(|(c, _)| *c == column).map_or_else(|| column.code().to_string(), |(_, h)| h.clone())
    }
}

/// A person the import created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedPerson {
    /// The line of the file.
    pub line: u64,
    /// The new account.
    pub person: PersonId,
}

/// The outcome of [`import_staff`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Data rows in the file.
    pub rows: usize,
    /// People registered: all rows when committed, otherwise 0.
    pub imported: usize,
    /// Whether this was a dry run (nothing committed by design).
    pub dry_run: bool,
    /// Every problem, by line; empty when the file imports (or would import) cleanly.
    pub errors: Vec<RowError>,
    /// The accounts created, by line (committed imports only).
    pub created: Vec<CreatedPerson>,
}

/// Parses a staff list: UTF-8 CSV (a BOM is skipped) with a header row, `;` or `,` as the
/// delimiter (whichever the header line holds more of). Never panics: every problem becomes a
/// [`RowError`] with its line and column.
pub fn parse_staff_csv(input: &[u8]) -> ParsedStaff {
    let mut out = ParsedStaff::default();
    let mut input = input;
    while let Some(rest) = input.strip_prefix(b"\xEF\xBB\xBF") {
        input = rest;
    }
    if input.starts_with(b"\xFF\xFE") || input.starts_with(b"\xFE\xFF") {
        out.errors.push(not_utf8(1, None));
        return out;
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(detect_delimiter(input))
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut lines = LineCounter::default();
    let mut header: Option<Header> = None;
    let mut drafts = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = lines.line_at(input, e.position().map_or(0, csv::Position::byte));
                out.errors.push(RowError::new(
                    line,
                    None,
                    "input.invalid",
                    format!("unreadable CSV: {e}"),
                    "Файл CSV не читается с этой строки",
                ));
                break;
            }
        }
        // The reader's own line numbers are off after CRLF and blank lines: count them here.
        let line = lines.line_at(input, record.position().map_or(0, csv::Position::byte));
        let cells: Vec<Option<String>> = record.iter().map(|c| std::str::from_utf8(c).ok().map(clean)).collect();
        if cells.iter().all(|c| c.as_deref() == Some("")) {
            continue;
        }
        match &header {
            None => header = Some(Header::parse(line, &cells, &mut out)),
            Some(h) => {
                out.rows += 1;
                if h.ok {
                    drafts.push(h.row(line, &cells, &mut out.errors));
                }
            }
        }
    }
    match &header {
        None => out.errors.push(RowError::new(
            1,
            None,
            "input.invalid",
            "the file is empty: expected a header row and staff rows",
            "Файл пуст: нужна строка заголовков и строки с работниками",
        )),
        Some(h) if h.ok && out.rows == 0 => out.errors.push(RowError::new(
            h.line,
            None,
            "input.invalid",
            "the file has a header but no staff rows",
            "В файле есть заголовки, но нет ни одного работника",
        )),
        Some(_) => {}
    }
    let (repeated_lines, dup_errors) = find_repeats(&drafts, &out);
    out.errors.extend(dup_errors);
    out.staff = drafts.into_iter().filter(|d| !repeated_lines.contains(&d.line)).filter_map(|d| d.row).collect();
    out.errors.sort_by_key(|e| e.line);
    out
}

/// Imports a staff list into `org` for `actor` (its org responsible, or the operator): parses
/// `csv`, registers every good row (the workplace confirmed, R-A6) in ONE unit of work, and
/// reports every problem by line: the file's own and the service's refusals (an email or SNILS
/// of an existing account, `access.denied` for another organisation's responsible, …).
///
/// All or none: the batch commits only when `dry_run` is false and every row is good;
/// otherwise nothing changes and `imported` is 0. A dry run reports the same errors.
///
/// # Errors
///
/// `access.denied` for an anonymous actor; `storage.*` when the store fails (nothing committed).
pub async fn import_staff(
    service: &Service,
    actor: Actor,
    org: OrgId,
    csv: &[u8],
    dry_run: bool,
) -> kadry_core::Result<ImportReport> {
    if actor == Actor::Anonymous {
        return Err(Error::AccessDenied("a staff list is imported by an org responsible or the operator".into()));
    }
    let parsed = parse_staff_csv(csv);
    let commit = !dry_run && parsed.errors.is_empty();
    let results = if parsed.staff.is_empty() {
        Vec::new()
    } else {
        let commands = parsed.staff.iter().map(|r| r.command(org)).collect();
        service.execute_batch(actor, commands, commit).await?
    };
    if let Some(Err(e)) = results.iter().find(|r| matches!(r, Err(Error::Storage(_) | Error::Conflict(_)))) {
        return Err(e.clone());
    }
    let committed = commit && results.iter().all(Result::is_ok);
    let mut errors = parsed.errors.clone();
    let mut created = Vec::new();
    for (row, result) in parsed.staff.iter().zip(results) {
        match result {
            Ok(outcome) if committed => {
                if let Some(id) = outcome.created() {
                    created.push(CreatedPerson { line: row.line, person: PersonId(id) });
                }
            }
            Ok(_) => {}
            Err(e) => {
                let column = match e {
                    Error::EmailTaken | Error::EmailInvalid(_) => Some(parsed.header_name(Column::Email)),
                    Error::SnilsTaken | Error::SnilsInvalid(_) => Some(parsed.header_name(Column::Snils)),
                    Error::ConsentRequired => Some(parsed.header_name(Column::Consent)),
                    _ => None,
                };
                errors.push(RowError::from_error(row.line, column, &e));
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    Ok(ImportReport { rows: parsed.rows, imported: created.len(), dry_run, errors, created })
}

// --- the header ------------------------------------------------------------

struct Header {
    line: u64,
    /// The column of each field; `None` for an empty header cell (ignored when empty below).
    by_index: Vec<Option<Column>>,
    names: HashMap<Column, String>,
    ok: bool,
}

impl Header {
    fn parse(line: u64, cells: &[Option<String>], out: &mut ParsedStaff) -> Header {
        let mut h = Header { line, by_index: Vec::with_capacity(cells.len()), names: HashMap::new(), ok: true };
        let before = out.errors.len();
        for (i, cell) in cells.iter().enumerate() {
            let Some(text) = cell else {
                out.errors.push(not_utf8(line, None));
                h.by_index.push(None);
                continue;
            };
            if text.is_empty() {
                h.by_index.push(None);
                continue;
            }
            match Column::from_header(text) {
                Some(c) if h.names.contains_key(&c) => {
                    out.errors.push(RowError::new(
                        line,
                        Some(text.clone()),
                        "input.invalid",
                        format!("column {} is given twice (also as {:?})", c.code(), h.names[&c]),
                        format!("Столбец «{text}» повторяется (уже есть «{}»)", h.names[&c]),
                    ));
                    h.by_index.push(None);
                }
                Some(c) => {
                    h.names.insert(c, text.clone());
                    out.header.push((c, text.clone()));
                    h.by_index.push(Some(c));
                }
                None => {
                    out.errors.push(RowError::new(
                        line,
                        Some(text.clone()),
                        "input.invalid",
                        format!("unknown column {text:?} (field {}); expected: {}", i + 1, expected_columns()),
                        format!("Неизвестный столбец «{text}»; допустимы: {}", expected_columns_ru()),
                    ));
                    h.by_index.push(None);
                }
            }
        }
        for c in Column::ALL.into_iter().filter(|c| c.required() && !h.names.contains_key(c)) {
            out.errors.push(RowError::new(
                line,
                Some(c.code().to_string()),
                "input.invalid",
                format!("the required column {} ({}) is missing", c.code(), c.aliases()[0]),
                format!("Нет обязательного столбца «{}» ({})", c.aliases()[0], c.code()),
            ));
        }
        h.ok = out.errors.len() == before;
        h
    }

    fn row(&self, line: u64, cells: &[Option<String>], errors: &mut Vec<RowError>) -> Draft {
        let before = errors.len();
        for (i, cell) in cells.iter().enumerate() {
            let column = self.by_index.get(i).copied().flatten();
            match (column, cell) {
                (Some(_), _) => {}
                (None, Some(v)) if v.is_empty() => {}
                (None, None) => errors.push(not_utf8(line, None)),
                (None, Some(_)) => errors.push(RowError::new(
                    line,
                    None,
                    "input.invalid",
                    format!("field {} holds a value but has no known header", i + 1),
                    format!("В поле {} есть значение, но у столбца нет заголовка", i + 1),
                )),
            }
        }
        // Each known column's header and cell (missing cells are empty); `None` for a column the
        // file lacks or a cell that is not UTF-8 (reported here).
        let mut values: HashMap<Column, (String, String)> = HashMap::new();
        for (i, column) in self.by_index.iter().enumerate() {
            let Some(c) = *column else { continue };
            let name = self.names[&c].clone();
            match cells.get(i) {
                None => drop(values.insert(c, (name, String::new()))),
                Some(Some(v)) => drop(values.insert(c, (name, v.clone()))),
                Some(None) => errors.push(not_utf8(line, Some(name))),
            }
        }
        let cell = |c: Column| values.get(&c).map(|(n, v)| (n.clone(), v.as_str()));
        let full_name = cell(Column::FullName).and_then(|(n, v)| keep(errors, parse_full_name(line, n, v)));
        let email = cell(Column::Email).and_then(|(n, v)| keep(errors, parse_email(line, n, v)));
        let position = cell(Column::Position).and_then(|(n, v)| keep(errors, parse_position(line, n, v)));
        let pedagogical = match cell(Column::Pedagogical) {
            Some((n, v)) if !v.is_empty() => keep(errors, yes_no(v).ok_or_else(|| not_yes_no(line, n, v))),
            _ => Some(true),
        };
        let consent = cell(Column::Consent).and_then(|(n, v)| {
            let r = match yes_no(v) {
                Some(true) => Ok(()),
                None if !v.is_empty() => Err(not_yes_no(line, n, v)),
                _ => Err(RowError::from_error(line, Some(n), &Error::ConsentRequired)), // R-A4
            };
            keep(errors, r)
        });
        let snils = match cell(Column::Snils) {
            Some((n, v)) if !v.is_empty() => keep(errors, parse_snils(line, n, v).map(Some)),
            _ => Some(None),
        };
        let subject = cell(Column::Subject).map(|(_, v)| v.to_string()).filter(|v| !v.is_empty());
        let birth_year = match cell(Column::BirthYear) {
            Some((n, v)) if !v.is_empty() => keep(errors, parse_birth_year(line, n, v).map(Some)),
            _ => Some(None),
        };
        let snils_key = snils.clone().flatten();
        let email_key = email.clone();
        let row = match (full_name, email, position, pedagogical, consent, snils, birth_year) {
            (
                Some(full_name),
                Some(email),
                Some(position),
                Some(pedagogical),
                Some(()),
                Some(snils),
                Some(birth_year),
            ) if errors.len() == before => {
                Some(StaffRow { line, full_name, email, position, pedagogical, snils, subject, birth_year })
            }
            _ => None,
        };
        Draft { line, email: email_key, snils: snils_key, row }
    }
}

/// The value, or `None` with the error kept.
fn keep<T>(errors: &mut Vec<RowError>, r: Result<T, RowError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

/// A data row as read: its keys for the duplicate check, and the row if it had no errors.
struct Draft {
    line: u64,
    email: Option<Email>,
    snils: Option<Snils>,
    row: Option<StaffRow>,
}

/// Lines repeating an earlier line's email or SNILS (R-A2, R-A3 within the file), and an
/// error on every line involved.
fn find_repeats(drafts: &[Draft], parsed: &ParsedStaff) -> (HashSet<u64>, Vec<RowError>) {
    let mut repeated = HashSet::new();
    let mut errors = Vec::new();
    let mut by_email: HashMap<&str, Vec<u64>> = HashMap::new();
    let mut by_snils: HashMap<&str, Vec<u64>> = HashMap::new();
    for d in drafts {
        if let Some(e) = &d.email {
            by_email.entry(e.key()).or_default().push(d.line);
        }
        if let Some(s) = &d.snils {
            by_snils.entry(s.digits()).or_default().push(d.line);
        }
    }
    let groups = [
        (by_email, Column::Email, Error::EmailTaken, "email", "Этот адрес электронной почты"),
        (by_snils, Column::Snils, Error::SnilsTaken, "SNILS", "Этот СНИЛС"),
    ];
    for (groups, column, error, what, what_ru) in groups {
        let name = parsed.header_name(column);
        let mut groups: Vec<Vec<u64>> = groups.into_values().filter(|l| l.len() > 1).collect();
        groups.sort();
        for lines in groups {
            let list = lines.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
            let first = lines[0];
            for &line in &lines {
                errors.push(RowError::new(
                    line,
                    Some(name.clone()),
                    error.code(),
                    format!(
                        "the same {what} is on lines {list} of the file (first on line {first}): one account per person"
                    ),
                    format!("{what_ru} повторяется в файле: строки {list} (впервые — в строке {first})"),
                ));
            }
            repeated.extend(lines.into_iter().skip(1));
        }
    }
    (repeated, errors)
}

// --- cells -------------------------------------------------------------------

/// Removes invisible characters (BOM, zero-width, direction marks, soft hyphen), turns
/// no-break spaces, tabs and line breaks into spaces, collapses spaces and trims.
fn clean(s: &str) -> String {
    let visible: String = s
        .chars()
        .filter_map(|c| match c {
            '\u{FEFF}' | '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' => None,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => None,
            '\u{00A0}' | '\u{2007}' | '\u{202F}' => Some(' '),
            c if c.is_control() => Some(' '),
            c => Some(c),
        })
        .collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A header's comparison key.
fn header_key(s: &str) -> String {
    clean(s)
        .trim_end_matches('*')
        .to_lowercase()
        .replace('ё', "е")
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn expected_columns() -> String {
    Column::ALL.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
}

fn expected_columns_ru() -> String {
    Column::ALL.iter().map(|c| format!("«{}»", c.aliases()[0])).collect::<Vec<_>>().join(", ")
}

/// 1-based line numbers of byte offsets, counted once through the input (`\n`, `\r\n` and a
/// lone `\r` each end a line).
#[derive(Default)]
struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    /// The line of the record the reader reports at `byte`: the reader points at the end of
    /// the previous record, so line breaks there are skipped first.
    fn line_at(&mut self, input: &[u8], byte: u64) -> u64 {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(input.len());
        while matches!(input.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        while self.pos < start {
            match input[self.pos] {
                b'\n' => self.line += 1,
                b'\r' if input.get(self.pos + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.pos += 1;
        }
        self.line + 1
    }
}

/// `;` when the header line holds more semicolons than commas (outside quotes), else `,`.
fn detect_delimiter(input: &[u8]) -> u8 {
    let (mut semicolons, mut commas, mut quoted) = (0usize, 0usize, false);
    let first = input.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(input.len());
    for &b in &input[first..] {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b';' if !quoted => semicolons += 1,
            b',' if !quoted => commas += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

fn not_utf8(line: u64, column: Option<String>) -> RowError {
    RowError::new(
        line,
        column,
        "input.invalid",
        "the file is not UTF-8: save it as \"CSV UTF-8\"",
        "Файл не в кодировке UTF-8: сохраните его в Excel как «CSV UTF-8 (разделитель — запятая)»",
    )
}

fn parse_full_name(line: u64, column: String, v: &str) -> Result<FullName, RowError> {
    FullName::parse(v).map_err(|e| {
        let ru = match e {
            NameError::Empty => "Не заполнено ФИО",
            NameError::Malformed(_) => {
                "ФИО указано неверно: нужны фамилия, имя и отчество (если есть) — только буквы, дефис или апостроф"
            }
        };
        RowError::new(line, Some(column), "input.invalid", e.to_string(), ru)
    })
}

fn parse_email(line: u64, column: String, v: &str) -> Result<Email, RowError> {
    Email::parse(v).map_err(|e| {
        let ru = match e {
            EmailError::Empty => "Не заполнен адрес электронной почты",
            EmailError::Malformed(_) => "Некорректный адрес электронной почты",
        };
        RowError::new(line, Some(column), "input.email_invalid", e.to_string(), ru)
    })
}

fn parse_snils(line: u64, column: String, v: &str) -> Result<Snils, RowError> {
    Snils::parse(v).map_err(|e| {
        let ru = match e {
            SnilsError::Format => "СНИЛС — 11 цифр в виде «XXX-XXX-XXX YY» или «XXXXXXXXXXX»",
            SnilsError::Checksum => "Контрольное число СНИЛС не совпадает: проверьте номер",
        };
        RowError::new(line, Some(column), "input.snils_invalid", e.to_string(), ru)
    })
}

fn parse_birth_year(line: u64, column: String, v: &str) -> Result<i32, RowError> {
    match v.parse::<i32>() {
        Ok(y) if (1900..=2100).contains(&y) && v.len() == 4 => Ok(y),
        _ => Err(RowError::new(
            line,
            Some(column),
            "input.invalid",
            "birth year: four digits between 1900 and 2100",
            "Год рождения — четыре цифры, от 1900 до 2100",
        )),
    }
}

/// The accepted spellings of a yes/no cell.
fn yes_no(v: &str) -> Option<bool> {
    match v.to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "да" | "д" => Some(true),
        "no" | "n" | "false" | "0" | "нет" | "н" => Some(false),
        _ => None,
    }
}

fn not_yes_no(line: u64, column: String, v: &str) -> RowError {
    RowError::new(
        line,
        Some(column),
        "input.invalid",
        format!("expected yes or no (да/нет, 1/0), got {v:?}"),
        format!("Ожидается «да» или «нет», указано «{v}»"),
    )
}

const POSITIONS_RU: &str = "учитель, руководитель, заместитель руководителя, педагог-психолог, учитель-логопед, тьютор, \
                            воспитатель, методист, другое";

fn parse_position(line: u64, column: String, v: &str) -> Result<Position, RowError> {
    if v.is_empty() {
        return Err(RowError::new(line, Some(column), "input.invalid", "position is empty", "Не заполнена должность"));
    }
    position_of(v).ok_or_else(|| {
        RowError::new(
            line,
            Some(column),
            "input.invalid",
            format!(
                "unknown position {v:?}; expected teacher, head, deputy_head, psychologist, speech_therapist, tutor, \
                 educator, methodist, other or their Russian names"
            ),
            format!("Неизвестная должность «{v}»; допустимы: {POSITIONS_RU}"),
        )
    })
}

/// A position from its code or its Russian name (`учитель математики` is a teacher,
/// `заместитель директора по УВР` a deputy head).
fn position_of(v: &str) -> Option<Position> {
    let s = v.to_lowercase().replace('ё', "е").replace(['—', '–'], "-");
    let s = s.split('-').map(str::trim).collect::<Vec<_>>().join("-");
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let deputy = ["заместитель руководителя", "заместитель директора", "заместитель заведующего"];
    Some(match s.as_str() {
        "teacher" | "учитель" => Position::Teacher,
        "head" | "руководитель" | "директор" | "заведующий" | "заведующая" => {
            Position::Head
        }
        "deputy_head" | "deputy head" => Position::DeputyHead,
        "psychologist" | "педагог-психолог" | "психолог" => Position::Psychologist,
        "speech_therapist" | "speech therapist" | "учитель-логопед" | "логопед" => {
            Position::SpeechTherapist
        }
        "tutor" | "тьютор" => Position::Tutor,
        "educator" | "воспитатель" => Position::Educator,
        "methodist" | "методист" => Position::Methodist,
        "other" | "другое" | "другая" | "иное" | "прочее" => Position::Other,
        s if deputy.iter().any(|d| s == *d || s.starts_with(&format!("{d} по "))) => Position::DeputyHead,
        s if s.starts_with("учитель ") => Position::Teacher,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "full_name,email,position,pedagogical,consent,snils,subject,birth_year";

    fn parse(s: &str) -> ParsedStaff {
        parse_staff_csv(s.as_bytes())
    }

    fn codes(p: &ParsedStaff) -> Vec<(u64, Option<&str>, &str)> {
        p.errors.iter().map(|e| (e.line, e.column.as_deref(), e.code.as_str())).collect()
    }

    #[test]
    fn reads_a_comma_file_with_every_column() {
        let p = parse(&format!(
            "{HEADER}\nИванова Мария Петровна,Ivanova@Example.ru,teacher,yes,yes,112-233-445 95,math,1980\n\
             Петров Пётр,petrov@example.ru,psychologist,,1,,,\n"
        ));
        assert_eq!(codes(&p), vec![]);
        assert_eq!(p.rows, 2);
        assert_eq!(p.staff.len(), 2);
        let r = &p.staff[0];
        assert_eq!(
            (r.line, r.full_name.as_str(), r.email.as_str()),
            (2, "Иванова Мария Петровна", "Ivanova@Example.ru")
        );
        assert_eq!((r.position, r.pedagogical, r.birth_year), (Position::Teacher, true, Some(1980)));
        assert_eq!(r.snils.as_ref().map(Snils::as_str), Some("112-233-445 95"));
        assert_eq!(r.subject.as_deref(), Some("math"));
        let r = &p.staff[1];
        assert_eq!(
            (r.line, r.position, r.pedagogical, r.snils.clone(), r.subject.clone()),
            (3, Position::Psychologist, true, None, None)
        );
        let Command::RegisterPerson { consent, org, .. } = p.staff[0].command(OrgId(uuid::Uuid::nil())) else {
            panic!("register_person")
        };
        assert!(consent);
        assert_eq!(org, OrgId(uuid::Uuid::nil()));
    }

    #[test]
    fn reads_an_excel_semicolon_file_with_bom_russian_headers_and_quotes() {
        let csv = "\u{FEFF}ФИО;Электронная почта;Должность;Педагогический;Согласие;СНИЛС;Предмет;Год рождения\r\n\
                   \"Иванова Мария Петровна\";ivanova@example.ru;Учитель;Да;да;11223344595;\"Математика; алгебра\";1980\r\n\
                   ;;;;;;;\r\n\
                   Петрова Анна;petrova@example.ru;Заместитель директора по УВР;нет;ДА;;;\r\n";
        let p = parse(csv);
        assert_eq!(codes(&p), vec![]);
        assert_eq!(p.rows, 2, "a row of empty cells is not a row");
        assert_eq!(p.header_name(Column::FullName), "ФИО");
        assert_eq!(p.staff[0].subject.as_deref(), Some("Математика; алгебра"));
        assert_eq!(p.staff[0].snils.as_ref().unwrap().as_str(), "112-233-445 95");
        assert_eq!((p.staff[1].line, p.staff[1].position, p.staff[1].pedagogical), (4, Position::DeputyHead, false));
    }

    #[test]
    fn detects_the_delimiter_from_the_header_only() {
        // Commas in the data of a `;` file are data.
        let p = parse("ФИО;email;position;consent\nИванова Мария;a@b.ru;учитель, информатики;да\n");
        assert_eq!(codes(&p), vec![(2, Some("position"), "input.invalid")]);
        let p = parse("ФИО,email,position,consent\n\"Иванова Мария\",a@b.ru,\"учитель информатики\",да\n");
        assert_eq!(codes(&p), vec![]);
        assert_eq!(p.staff[0].position, Position::Teacher);
    }

    #[test]
    fn header_aliases_and_marks() {
        for (header, column) in [
            ("ФИО*", Column::FullName),
            (" ф.и.о. ", Column::FullName),
            ("Full Name", Column::FullName),
            ("E-mail", Column::Email),
            ("Адрес  электронной\u{a0}почты", Column::Email),
            ("Согласие на обработку ПДн", Column::Consent),
            ("ГОД_РОЖДЕНИЯ", Column::BirthYear),
            ("birth year", Column::BirthYear),
            ("Снилс", Column::Snils),
            ("Педагогическая должность", Column::Pedagogical),
        ] {
            assert_eq!(Column::from_header(header), Some(column), "{header}");
        }
        assert_eq!(Column::from_header("Телефон"), None);
        for c in Column::ALL {
            assert_eq!(Column::from_header(c.code()), Some(c));
            for a in c.aliases() {
                assert_eq!(Column::from_header(a), Some(c), "{a}");
            }
        }
    }

    #[test]
    fn strips_invisible_characters_from_cells() {
        let csv = "\u{FEFF}\u{FEFF}ФИО\u{200B};email;position;consent;snils\n\
                   Иванова\u{a0}Мария\u{200D};\u{200B}ivanova@example.ru\u{a0};\u{FEFF}учитель;\u{2060}да;112\u{AD}-233-445\u{202F}95\n";
        let p = parse(csv);
        assert_eq!(codes(&p), vec![]);
        let r = &p.staff[0];
        assert_eq!((r.full_name.as_str(), r.email.as_str()), ("Иванова Мария", "ivanova@example.ru"));
        assert_eq!(r.snils.as_ref().unwrap().as_str(), "112-233-445 95");
        assert_eq!(p.header_name(Column::FullName), "ФИО");
    }

    #[test]
    fn positions_by_code_and_russian_name() {
        for (v, p) in [
            ("teacher", Position::Teacher),
            ("Учитель начальных классов", Position::Teacher),
            ("руководитель", Position::Head),
            ("Директор", Position::Head),
            ("заместитель руководителя", Position::DeputyHead),
            ("deputy_head", Position::DeputyHead),
            ("Педагог - психолог", Position::Psychologist),
            ("педагог–психолог", Position::Psychologist),
            ("учитель-логопед", Position::SpeechTherapist),
            ("SPEECH_THERAPIST", Position::SpeechTherapist),
            ("тьютор", Position::Tutor),
            ("воспитатель", Position::Educator),
            ("методист", Position::Methodist),
            ("other", Position::Other),
            ("другое", Position::Other),
        ] {
            assert_eq!(position_of(v), Some(p), "{v}");
        }
        for v in ["учитель-дефектолог", "заместитель главного бухгалтера", "учительница", "librarian"]
        {
            assert_eq!(position_of(v), None, "{v}");
        }
    }

    #[test]
    fn every_cell_error_with_its_line_and_column() {
        let csv = format!(
            "{HEADER}\n\
             Иванова,ivanova@example.ru,teacher,yes,yes,,,\n\
             Петрова Анна,not-an-email,teacher,yes,yes,,,\n\
             Сидорова Анна,s@example.ru,librarian,yes,yes,,,\n\
             Козлова Анна,k@example.ru,teacher,maybe,yes,,,\n\
             Орлова Анна,o@example.ru,teacher,yes,no,,,\n\
             Лебедева Анна,l@example.ru,teacher,yes,,,,\n\
             Зайцева Анна,z@example.ru,teacher,yes,конечно,,,\n\
             Волкова Анна,v@example.ru,teacher,yes,yes,112-233-445 96,,\n\
             Белова Анна,b@example.ru,teacher,yes,yes,12345,,\n\
             Морозова Анна,m@example.ru,teacher,yes,yes,,,1850\n\
             Новикова Анна,n@example.ru,teacher,yes,yes,,,19x0\n\
             ,,,,,,,\n\
             Смирнова Анна,sm@example.ru,,yes,yes,,,\n\
             Кузнецова Анна,,teacher,yes,yes,,,,\n\
             Попова Анна,p@example.ru,teacher,yes,yes,,,,extra\n"
        );
        let p = parse(&csv);
        assert_eq!(
            codes(&p),
            vec![
                (2, Some("full_name"), "input.invalid"),
                (3, Some("email"), "input.email_invalid"),
                (4, Some("position"), "input.invalid"),
                (5, Some("pedagogical"), "input.invalid"),
                (6, Some("consent"), "account.consent_required"),
                (7, Some("consent"), "account.consent_required"),
                (8, Some("consent"), "input.invalid"),
                (9, Some("snils"), "input.snils_invalid"),
                (10, Some("snils"), "input.snils_invalid"),
                (11, Some("birth_year"), "input.invalid"),
                (12, Some("birth_year"), "input.invalid"),
                (14, Some("position"), "input.invalid"),
                (15, Some("email"), "input.email_invalid"),
                (16, None, "input.invalid"),
            ]
        );
        assert_eq!(p.rows, 14);
        assert!(p.staff.is_empty());
        assert!(p.errors.iter().all(|e| !e.message.is_empty() && !e.message_ru.is_empty()));
        // Messages never echo personal data.
        assert!(p.errors.iter().all(|e| !e.message.contains("not-an-email") && !e.message_ru.contains("12345")));
    }

    #[test]
    fn several_errors_in_one_row_are_all_reported() {
        let p = parse(&format!("{HEADER}\nИванова,bad,чертёжник,yes,no,1,,3000\n"));
        assert_eq!(
            codes(&p),
            vec![
                (2, Some("full_name"), "input.invalid"),
                (2, Some("email"), "input.email_invalid"),
                (2, Some("position"), "input.invalid"),
                (2, Some("consent"), "account.consent_required"),
                (2, Some("snils"), "input.snils_invalid"),
                (2, Some("birth_year"), "input.invalid"),
            ]
        );
    }

    #[test]
    fn header_errors() {
        let p = parse("ФИО;Телефон;email;position\nИванова Мария;+7;a@b.ru;teacher\n");
        assert_eq!(codes(&p), vec![(1, Some("Телефон"), "input.invalid"), (1, Some("consent"), "input.invalid")]);
        assert_eq!(p.rows, 1);
        assert!(p.staff.is_empty());
        let p = parse("ФИО;full_name;email;position;consent\n");
        assert_eq!(codes(&p), vec![(1, Some("full_name"), "input.invalid")]);
        let p = parse("\n\nemail;position\n");
        assert_eq!(codes(&p), vec![(3, Some("full_name"), "input.invalid"), (3, Some("consent"), "input.invalid")]);
    }

    #[test]
    fn empty_files_and_header_only_files_are_errors() {
        for input in ["", "\u{FEFF}", "\n\n", ";;;\n"] {
            assert_eq!(codes(&parse(input)), vec![(1, None, "input.invalid")], "{input:?}");
        }
        let p = parse(&format!("{HEADER}\n\n"));
        assert_eq!(codes(&p), vec![(1, None, "input.invalid")]);
        assert_eq!(p.rows, 0);
    }

    #[test]
    fn short_rows_leave_the_missing_cells_empty() {
        let p = parse(&format!("{HEADER}\nИванова Мария,a@b.ru,teacher,yes,yes\nПетрова Анна,p@b.ru,teacher\n"));
        assert_eq!(codes(&p), vec![(3, Some("consent"), "account.consent_required")]);
        assert_eq!(p.staff.len(), 1);
    }

    #[test]
    fn extra_empty_cells_and_empty_header_cells_are_ignored() {
        let p = parse("ФИО;email;position;consent;;\nИванова Мария;a@b.ru;teacher;yes;;;\n");
        assert_eq!(codes(&p), vec![]);
        let p = parse("ФИО;email;position;consent;;\nИванова Мария;a@b.ru;teacher;yes;x;\n");
        assert_eq!(codes(&p), vec![(2, None, "input.invalid")]);
    }

    #[test]
    fn invalid_utf8_is_reported_on_its_line_and_column() {
        let mut csv = b"full_name;email;position;consent\n".to_vec();
        csv.extend_from_slice(b"\xC8\xE2\xE0\xED\xEE\xE2\xE0 \xCC\xE0\xF0\xE8\xFF;a@b.ru;teacher;yes\n"); // cp1251
        let p = parse_staff_csv(&csv);
        assert_eq!(codes(&p), vec![(2, Some("full_name"), "input.invalid")]);
        assert!(p.errors[0].message_ru.contains("UTF-8"));
        let p = parse_staff_csv(b"\xFF\xFEf\0u\0");
        assert_eq!(codes(&p), vec![(1, None, "input.invalid")]);
    }

    #[test]
    fn multiline_cells_report_the_line_the_row_starts_on() {
        let p =
            parse("ФИО,email,position,consent\n\"Иванова\nМария\",a@b.ru,teacher,yes\nПетрова,p@b.ru,teacher,yes\n");
        assert_eq!(codes(&p), vec![(4, Some("ФИО"), "input.invalid")]);
        assert_eq!(p.staff[0].full_name.as_str(), "Иванова Мария");
    }

    #[test]
    fn line_numbers_count_crlf_lone_cr_and_blank_lines() {
        for input in [
            "ФИО;email;position;consent\r\n\r\nИванова Мария;a@b.ru;teacher;yes\r\nПетрова;p@b.ru;teacher;yes\r\n",
            "ФИО;email;position;consent\r\rИванова Мария;a@b.ru;teacher;yes\rПетрова;p@b.ru;teacher;yes",
            "\nФИО;email;position;consent\nИванова Мария;a@b.ru;teacher;yes\nПетрова;p@b.ru;teacher;yes\n",
        ] {
            let p = parse(input);
            assert_eq!(codes(&p), vec![(4, Some("ФИО"), "input.invalid")], "{input:?}");
            assert_eq!(p.staff[0].line, 3, "{input:?}");
        }
    }

    #[test]
    fn duplicates_in_the_file_are_reported_on_every_line_naming_the_first() {
        let csv = format!(
            "{HEADER}\n\
             Иванова Мария,Ivanova@example.ru,teacher,yes,yes,112-233-445 95,,\n\
             Петрова Анна,petrova@example.ru,teacher,yes,yes,,,\n\
             Иванова Мария,ivanova@EXAMPLE.ru,teacher,yes,yes,,,\n\
             Сидорова Анна,sidorova@example.ru,teacher,yes,yes,11223344595,,\n\
             Иванова Мария,ivanova@example.ru,teacher,yes,yes,,,\n"
        );
        let p = parse(&csv);
        assert_eq!(
            codes(&p),
            vec![
                (2, Some("email"), "account.email_taken"),
                (2, Some("snils"), "account.snils_taken"),
                (4, Some("email"), "account.email_taken"),
                (5, Some("snils"), "account.snils_taken"),
                (6, Some("email"), "account.email_taken"),
            ]
        );
        assert!(p.errors.iter().filter(|e| e.code == "account.email_taken").all(|e| e.message.contains("2, 4, 6")
            && e.message.contains("first on line 2")
            && e.message_ru.contains("строке 2")));
        // The first line is still checked against existing accounts; its repeats are not.
        assert_eq!(p.staff.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn the_documented_example_file_parses_cleanly() {
        let doc = include_str!("../docs/import.md");
        let block = doc.split("```csv\n").nth(1).and_then(|b| b.split("```").next()).expect("a csv block");
        let p = parse(block);
        assert_eq!(codes(&p), vec![]);
        assert_eq!((p.rows, p.staff.len()), (4, 4));
        assert_eq!(p.staff[3].position, Position::DeputyHead);
        assert_eq!(p.staff[3].subject.as_deref(), Some("русский язык; литература"));
    }

    #[test]
    fn report_types_round_trip_through_json() {
        let report = ImportReport {
            rows: 1,
            imported: 0,
            dry_run: true,
            errors: vec![RowError::from_error(2, Some("email".into()), &Error::EmailTaken)],
            created: vec![CreatedPerson { line: 2, person: PersonId(uuid::Uuid::nil()) }],
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["errors"][0]["code"], "account.email_taken");
        assert_eq!(json["created"][0]["line"], 2);
        assert_eq!(serde_json::from_value::<ImportReport>(json).unwrap(), report);
    }

    fn row_strategy() -> impl Strategy<Value = (String, String, bool)> {
        (prop::sample::select(vec!["Иванова Мария", "Петров Пётр Ильич", "Smith John"]), "[a-z]{1,8}", any::<bool>())
            .prop_map(|(n, e, semi)| (n.to_string(), format!("{e}@example.ru"), semi))
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let p = parse_staff_csv(&bytes);
            prop_assert!(p.errors.iter().all(|e| e.line >= 1));
            prop_assert!(p.staff.len() <= p.rows);
        }

        #[test]
        fn never_panics_on_csv_like_text(s in "[a-zа-я;,\"\n\r\u{FEFF}\u{A0} @.0-9]{0,300}") {
            let mut input = format!("{HEADER}\n");
            input.push_str(&s);
            let p = parse(&input);
            prop_assert!(p.errors.iter().all(|e| e.line >= 1));
            prop_assert!(p.staff.len() <= p.rows);
        }

        #[test]
        fn good_rows_parse_with_either_delimiter(rows in prop::collection::vec(row_strategy(), 1..20)) {
            let semi = rows[0].2;
            let d = if semi { ";" } else { "," };
            let mut input = ["ФИО", "email", "Должность", "Согласие"].join(d) + "\n";
            let mut seen = HashSet::new();
            let mut expected = 0;
            for (name, email, _) in &rows {
                if seen.insert(email.clone()) {
                    expected += 1;
                    input.push_str(&[name.as_str(), email.as_str(), "учитель", "да"].join(d));
                    input.push('\n');
                }
            }
            let p = parse(&input);
            prop_assert_eq!(p.errors.len(), 0);
            prop_assert_eq!(p.staff.len(), expected);
            prop_assert!(p.staff.iter().enumerate().all(|(i, r)| r.line == i as u64 + 2));
        }
    }
}
