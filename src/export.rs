//! Exports: a generic [`Table`] written as CSV ([`to_csv`]) or XLSX ([`to_xlsx`]), every
//! export stamped with when and by whom it was made ([`Stamp`]).
//!
//! The ФИС ФРДО upload table is one such table: [`Table::from_frdo`] renders
//! [`FrdoRecord`]s with a [`Template`] of `kadry_core::frdo`, every cell as text so dates
//! (`dd.mm.yyyy`) and СНИЛС (`XXX-XXX-XXX YY`) keep the loader's formats. The registry takes the
//! XLSX; the CSV is for reading and for other tools (a spreadsheet opening a CSV may still
//! convert `01.12.2026` to a date of its own).
//!
//! Both writers are deterministic: the same table gives the same bytes.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use kadry::export::{to_csv, to_xlsx, Cell, Stamp, Table};
//!
//! let stamp = Stamp {
//!     at: Utc.with_ymd_and_hms(2026, 11, 24, 18, 30, 0).unwrap(),
//!     by: "Иванов Иван Иванович".to_owned(),
//!     tz: chrono_tz::Europe::Samara,
//! };
//! assert_eq!(stamp.line_ru(), "Сформировано 24.11.2026 22:30 (Europe/Samara), Иванов Иван Иванович");
//!
//! let mut table = Table::new("Сводка", vec!["Школа".to_owned(), "Слушателей".to_owned()], stamp);
//! table.rows.push(vec![Cell::Text("Школа № 1".to_owned()), Cell::Int(12)]);
//! let csv = to_csv(&table);
//! assert!(csv.starts_with("\u{feff}Школа,Слушателей\r\n".as_bytes()));
//! let xlsx = to_xlsx(&table).unwrap();
//! assert!(xlsx.starts_with(b"PK"));
//! ```

use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use kadry_core::command::SliceView;
use kadry_core::frdo::{FrdoRecord, Template};
use kadry_core::registry::RegistryView;
use kadry_core::report::{Dimension, funding_key, label_ru, position_key};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

/// The name of the XLSX worksheet holding the stamp.
pub const INFO_SHEET: &str = "Сведения";

/// The largest integer an XLSX number (an IEEE double) holds exactly: 2^53.
const EXACT_INT_MAX: u64 = 1 << 53;

/// When and by whom an export was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The moment the export was made.
    pub at: DateTime<Utc>,
    /// Who made it, e.g. the user's full name.
    pub by: String,
    /// The time zone the moment is shown in (the region's).
    pub tz: Tz,
}

impl Stamp {
    /// The moment in the stamp's time zone, `dd.mm.yyyy HH:MM`, e.g. `24.11.2026 22:30`.
    #[must_use]
    pub fn local_time(&self) -> String {
        self.at.with_timezone(&self.tz).format("%d.%m.%Y %H:%M").to_string()
    }

    /// The stamp in Russian, e.g.
    /// «Сформировано 24.11.2026 22:30 (Europe/Samara), Иванов Иван Иванович».
    #[must_use]
    pub fn line_ru(&self) -> String {
        format!("Сформировано {} ({}), {}", self.local_time(), self.tz.name(), self.by)
    }
}

impl std::fmt::Display for Stamp {
    /// `made on 24.11.2026 22:30 (Europe/Samara) by Иванов Иван Иванович`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "made on {} ({}) by {}", self.local_time(), self.tz.name(), self.by)
    }
}

/// One cell of a [`Table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text, written as a string in every format (never converted to a number or a date).
    Text(String),
    /// An integer, a number in XLSX (as text beyond ±2^53, which a double cannot hold exactly).
    Int(i64),
    /// An exact decimal as text, e.g. money `"1234.50"` (digits, an optional leading `-` and
    /// one `.`): written as is to CSV, as a number shown with the same decimals to XLSX (as
    /// text if it is not such a decimal).
    Decimal(String),
    /// No value.
    Empty,
}

impl Cell {
    /// The cell as CSV writes it: text and decimals as is, integers in decimal, empty as `""`.
    #[must_use]
    pub fn as_text(&self) -> String {
        match self {
            Self::Text(s) | Self::Decimal(s) => s.clone(),
            Self::Int(i) => i.to_string(),
            Self::Empty => String::new(),
        }
    }
}

/// A table to export: a sheet name, column titles, rows and the stamp.
///
/// Rows should have one cell per column ([`Table::from_frdo`] guarantees it); the writers
/// write rows as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The XLSX worksheet name, e.g. «Шаблон»; [`to_xlsx`] makes a name Excel would refuse
    /// acceptable (at most 31 characters, none of `[]:*?/\`, not [`INFO_SHEET`]).
    pub sheet: String,
    /// The column titles, in order.
    pub columns: Vec<String>,
    /// The rows, each one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// When and by whom the export was made.
    pub stamp: Stamp,
    /// The version of the upload template the table follows, if any (shown as «Шаблон» on the
    /// XLSX stamp sheet).
    pub template: Option<String>,
}

impl Table {
    /// An empty table (no rows, no template version).
    #[must_use]
    pub fn new(sheet: impl Into<String>, columns: Vec<String>, stamp: Stamp) -> Self {
        Self { sheet: sheet.into(), columns, rows: Vec::new(), stamp, template: None }
    }

    /// The ФИС ФРДО upload table: the template's sheet and columns, one row per record
    /// ([`FrdoRecord::cells`]), every cell [`Cell::Text`] (empty strings included, so the
    /// loader sees empty text), and the template's version.
    ///
    /// Does not validate: records are expected to have passed [`FrdoRecord::validate`] when
    /// kadry accepted them.
    #[must_use]
    pub fn from_frdo<'a>(template: &Template, records: impl IntoIterator<Item = &'a FrdoRecord>, stamp: Stamp) -> Self {
        Self {
            sheet: template.sheet.to_owned(),
            columns: template.columns.iter().map(|&c| c.to_owned()).collect(),
            rows: records.into_iter().map(|r| r.cells(template).into_iter().map(Cell::Text).collect()).collect(),
            stamp,
            template: Some(template.version.to_owned()),
        }
    }
}

/// A worksheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, not blank (a
/// longer title is cut; the full one stays in the CSV and the stamp sheet).
fn sheet_name(title: &str) -> String {
    let clean: String =
        title.chars().map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') { ' ' } else { c }).collect();
    let cut: String = clean.trim().chars().take(31).collect();
    let cut = cut.trim_end().trim_matches('\'').to_string();
    if cut.is_empty() || cut == INFO_SHEET { "Лист1".to_owned() } else { cut }
}

/// `dd.mm.yyyy`, or empty.
fn day(d: Option<NaiveDate>) -> Cell {
    d.map_or(Cell::Empty, |d| Cell::Text(d.format("%d.%m.%Y").to_string()))
}

fn text(s: Option<&str>) -> Cell {
    s.map_or(Cell::Empty, |s| Cell::Text(s.to_owned()))
}

impl Table {
    /// The registry of those trained (реестр обученных, R-G6), one row per line, with Russian
    /// column titles.
    #[must_use]
    pub fn from_registry(title: impl Into<String>, view: &RegistryView, stamp: Stamp) -> Self {
        let columns = [
            "№",
            "ФИО",
            "Организация",
            "Должность",
            "Программа",
            "Часов",
            "Посещено часов",
            "Организация ДПО",
            "Начало",
            "Окончание",
            "Результат",
            "Причина",
            "Документ",
            "Дата выдачи",
            "Источник финансирования",
        ];
        let mut table = Self::new(title, columns.iter().map(|&c| c.to_owned()).collect(), stamp);
        for (i, l) in view.lines.iter().enumerate() {
            table.rows.push(vec![
                Cell::Int(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                Cell::Text(l.full_name.clone()),
                text(l.org_name.as_deref()),
                l.position.map_or(Cell::Empty, |p| Cell::Text(label_ru(Dimension::Position, position_key(p)))),
                Cell::Text(l.program_title.clone()),
                Cell::Int(i64::from(l.hours)),
                l.attended_hours.map_or(Cell::Empty, |h| Cell::Int(i64::from(h))),
                text(l.provider_name.as_deref()),
                day(l.starts),
                day(Some(l.ends)),
                Cell::Text(l.finish.label_ru().to_owned()),
                text(l.reason.as_deref()),
                text(l.document.as_deref()),
                day(l.issued_on),
                l.funding.map_or(Cell::Empty, |f| Cell::Text(label_ru(Dimension::Funding, funding_key(Some(f))))),
            ]);
        }
        table
    }

    /// A report in a slice (R-R1): a column per dimension (the Russian labels), then workers
    /// and hours trained within the cycle.
    #[must_use]
    pub fn from_slice(title: impl Into<String>, view: &SliceView, stamp: Stamp) -> Self {
        let mut columns: Vec<String> = view.dimensions.iter().map(|d| d.title_ru().to_owned()).collect();
        columns.extend(["Работников".to_owned(), "Часов обучения за три года".to_owned()]);
        let mut table = Self::new(title, columns, stamp);
        for r in &view.rows {
            let mut row: Vec<Cell> = r.labels.iter().map(|l| Cell::Text(l.clone())).collect();
            row.push(Cell::Int(i64::try_from(r.workers).unwrap_or(i64::MAX)));
            row.push(Cell::Int(i64::try_from(r.hours).unwrap_or(i64::MAX)));
            table.rows.push(row);
        }
        table
    }
}

/// Why an export could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The XLSX writer refused the table (an invalid or duplicate sheet name, a value beyond
    /// Excel's limits, …); the payload is the writer's message.
    #[error("cannot write the XLSX workbook: {0}")]
    Xlsx(String),
    /// More rows or columns than a worksheet holds.
    #[error("the table has more rows or columns than a worksheet holds")]
    TooLarge,
}

impl From<XlsxError> for ExportError {
    fn from(e: XlsxError) -> Self {
        Self::Xlsx(e.to_string())
    }
}

/// Writes a table as CSV.
///
/// - UTF-8 with a byte-order mark, so that Excel opens Cyrillic text correctly;
/// - comma-separated, RFC 4180: fields quoted when they hold a comma, a quote or a line break,
///   quotes doubled, lines ended by CRLF;
/// - the header row (the column titles in order), then the rows ([`Cell::as_text`]);
/// - then one empty line and the stamp line `Сформировано,<dd.mm.yyyy HH:MM>,<by>` (local time
///   of the stamp's time zone).
#[must_use]
pub fn to_csv(table: &Table) -> Vec<u8> {
    // Writing to a `Vec` cannot fail, and a flexible writer refuses no record.
    const INFALLIBLE: &str = "writing CSV to a Vec cannot fail";
    let writer =
        |buf: Vec<u8>| csv::WriterBuilder::new().flexible(true).terminator(csv::Terminator::CRLF).from_writer(buf);

    let mut out = writer("\u{feff}".as_bytes().to_vec());
    out.write_record(&table.columns).expect(INFALLIBLE);
    for row in &table.rows {
        out.write_record(row.iter().map(Cell::as_text)).expect(INFALLIBLE);
    }
    let mut buf = out.into_inner().expect(INFALLIBLE);
    buf.extend_from_slice(b"\r\n");

    let mut out = writer(buf);
    out.write_record(["Сформировано", &table.stamp.local_time(), &table.stamp.by]).expect(INFALLIBLE);
    out.into_inner().expect(INFALLIBLE)
}

/// Writes a table as an XLSX workbook.
///
/// - The first worksheet, named [`Table::sheet`]: row 1 the column titles in order (bold,
///   wrapped, frozen), the rows below. [`Cell::Text`] is written as a string with the text
///   number format `@` (never converted to a number or a date), [`Cell::Int`] and
///   [`Cell::Decimal`] as numbers (see there), [`Cell::Empty`] left blank. Column widths follow
///   the longest value, between 8 and 60 characters.
/// - The second worksheet, [`INFO_SHEET`] «Сведения»: «Сформировано» / the local date and time
///   with the time zone, «Кем» / who, and «Шаблон» / the template version when the table has
///   one.
///
/// The document's creation time is the stamp's, so the same table gives the same bytes.
///
/// # Errors
///
/// [`ExportError::Xlsx`] when the writer fails, [`ExportError::TooLarge`] beyond a worksheet's
/// rows or columns. A sheet name Excel would refuse (longer than 31 characters, with
/// `[]:*?/\`, blank, or «Сведения») is made acceptable instead (see `sheet_name`).
pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let created = ExcelDateTime::from_timestamp(table.stamp.at.timestamp())?;
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));

    let header = Format::new().set_bold().set_text_wrap().set_align(FormatAlign::Top);
    let text = Format::new().set_num_format("@");

    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.sheet))?;
    for (c, title) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(0, col(c)?, title, &header)?;
    }
    for (r, cells) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| ExportError::TooLarge)?;
        for (c, cell) in cells.iter().enumerate() {
            let c = col(c)?;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string_with_format(r, c, s, &text)?;
                }
                Cell::Int(i) if i.unsigned_abs() <= EXACT_INT_MAX => {
                    #[allow(clippy::cast_precision_loss)] // Exact up to 2^53, checked above.
                    sheet.write_number(r, c, *i as f64)?;
                }
                Cell::Int(i) => {
                    sheet.write_string(r, c, i.to_string())?;
                }
                Cell::Decimal(s) => match decimal(s) {
                    Some((value, places)) => {
                        let format = if places == 0 {
                            Format::new().set_num_format("0")
                        } else {
                            Format::new().set_num_format(format!("0.{}", "0".repeat(places)))
                        };
                        sheet.write_number_with_format(r, c, value, &format)?;
                    }
                    None => {
                        sheet.write_string_with_format(r, c, s, &text)?;
                    }
                },
                Cell::Empty => {}
            }
        }
    }
    for (c, width) in column_widths(table).into_iter().enumerate() {
        sheet.set_column_width(col(c)?, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;

    let info = workbook.add_worksheet();
    info.set_name(INFO_SHEET)?;
    let stamp = &table.stamp;
    let mut lines =
        vec![("Сформировано", format!("{} ({})", stamp.local_time(), stamp.tz.name())), ("Кем", stamp.by.clone())];
    if let Some(version) = &table.template {
        lines.push(("Шаблон", version.clone()));
    }
    for (r, (label, value)) in (0u32..).zip(&lines) {
        info.write_string_with_format(r, 0, *label, &header)?;
        info.write_string_with_format(r, 1, value, &text)?;
    }
    info.set_column_width(0, 16)?;
    info.set_column_width(1, 50)?;

    Ok(workbook.save_to_buffer()?)
}

/// A worksheet column index.
fn col(c: usize) -> Result<u16, ExportError> {
    u16::try_from(c).map_err(|_| ExportError::TooLarge)
}

/// A plain decimal (`-?digits[.digits]`): its value and number of decimal places.
fn decimal(s: &str) -> Option<(f64, usize)> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (unsigned.contains('.') && frac.is_empty()) {
        return None;
    }
    let value: f64 = s.parse().ok()?;
    value.is_finite().then_some((value, frac.len()))
}

/// Column widths in characters: the longest value (titles count up to 30, as they wrap),
/// between 8 and 60.
fn column_widths(table: &Table) -> Vec<u16> {
    let len = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = table.columns.iter().map(|t| len(t).min(30)).collect();
    for row in &table.rows {
        for (c, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(len(&cell.as_text()));
            }
        }
    }
    widths.into_iter().map(|w| u16::try_from((w + 2).clamp(8, 60)).unwrap_or(60)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use chrono::{NaiveDate, TimeZone};
    use kadry_core::frdo::{
        DocumentKind, DocumentStatus, EducationLevel, FundingSource, ProgramKind, Sex, StudyForm, StudyPlace,
        TEMPLATE_2024, TEMPLATE_LEGACY,
    };
    use kadry_core::types::Snils;

    fn stamp() -> Stamp {
        Stamp {
            at: Utc.with_ymd_and_hms(2026, 11, 24, 18, 30, 0).unwrap(),
            by: "Иванов Иван Иванович".to_owned(),
            tz: chrono_tz::Europe::Samara,
        }
    }

    /// Any title makes a workbook: Excel's sheet names are at most 31 characters without
    /// `[]:*?/\`, and the stamp sheet's name is taken.
    #[test]
    fn any_title_makes_a_workbook() {
        assert_eq!(sheet_name("Повышение квалификации за три года").chars().count(), 31);
        assert_eq!(sheet_name("Отчёт [1/2]: итоги?"), "Отчёт  1 2   итоги");
        assert_eq!(sheet_name(" ** "), "Лист1");
        assert_eq!(sheet_name(INFO_SHEET), "Лист1");
        for title in ["Повышение квалификации за три года по всем территориям", "a/b", "", INFO_SHEET]
        {
            let table = Table::new(title, vec!["x".to_owned()], stamp());
            let xlsx = to_xlsx(&table).unwrap_or_else(|e| panic!("{title:?}: {e}"));
            let book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
            assert_eq!(book.sheet_names().len(), 2, "{title:?}");
        }
    }

    fn record() -> FrdoRecord {
        FrdoRecord {
            document_kind: DocumentKind::QualificationUpgrade,
            status: DocumentStatus::Original,
            series: "63".to_owned(),
            number: "0001234".to_owned(),
            issue_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            registration_number: "ПК-2026/0457".to_owned(),
            program_kind: ProgramKind::QualificationUpgrade,
            program_title: "Формирование функциональной грамотности, \"читательской\" и математической".to_owned(),
            activity_field: None,
            speciality_group: None,
            qualification: None,
            education_level: EducationLevel::Higher,
            diploma_surname: "Петрова".to_owned(),
            diploma_series: Some("106318".to_owned()),
            diploma_number: "0457812".to_owned(),
            start_year: 2026,
            end_year: 2026,
            hours: 72,
            surname: "Иванова".to_owned(),
            given_name: "Мария".to_owned(),
            patronymic: Some("Петровна".to_owned()),
            birth_date: NaiveDate::from_ymd_opt(1985, 3, 9).unwrap(),
            sex: Sex::Female,
            snils: Some(Snils::parse("11223344595").unwrap()),
            study_form: StudyForm::PartTime,
            funding_source: FundingSource::RegionalBudget,
            study_place: StudyPlace::InOrganisation,
            citizenship: "643".to_owned(),
            original: None,
        }
    }

    fn frdo_table() -> Table {
        let second = FrdoRecord { surname: "Сидоров".to_owned(), sex: Sex::Male, snils: None, ..record() };
        let records = [record(), second];
        assert!(records.iter().all(|r| r.validate().is_ok()));
        Table::from_frdo(&TEMPLATE_2024, &records, stamp())
    }

    fn read_xlsx(bytes: Vec<u8>) -> Xlsx<std::io::Cursor<Vec<u8>>> {
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap()
    }

    fn strings(row: &[Data]) -> Vec<String> {
        row.iter()
            .map(|d| match d {
                Data::String(s) => s.clone(),
                Data::Empty => String::new(),
                other => panic!("not a string: {other:?}"),
            })
            .collect()
    }

    /// Parses CSV bytes (after the BOM): the header and every record after it.
    fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let body = bytes.strip_prefix("\u{feff}".as_bytes()).expect("a BOM");
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(body);
        let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
        let records = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<String>>()).collect();
        (header, records)
    }

    #[test]
    fn stamp_renders_local_time() {
        let s = stamp();
        assert_eq!(s.local_time(), "24.11.2026 22:30");
        assert_eq!(s.line_ru(), "Сформировано 24.11.2026 22:30 (Europe/Samara), Иванов Иван Иванович");
        assert_eq!(s.to_string(), "made on 24.11.2026 22:30 (Europe/Samara) by Иванов Иван Иванович");
        let yekaterinburg = Stamp { tz: chrono_tz::Asia::Yekaterinburg, ..stamp() };
        assert_eq!(yekaterinburg.local_time(), "24.11.2026 23:30");
    }

    #[test]
    fn frdo_table_is_all_text_in_template_order() {
        let t = frdo_table();
        assert_eq!(t.sheet, "Шаблон");
        assert_eq!(t.columns, TEMPLATE_2024.columns);
        assert_eq!(t.template.as_deref(), Some("2024"));
        assert_eq!(t.rows.len(), 2);
        assert!(t.rows.iter().all(|r| r.len() == 40 && r.iter().all(|c| matches!(c, Cell::Text(_)))));
        assert_eq!(t.rows[0][26], Cell::Text("112-233-445 95".to_owned()));
        assert_eq!(t.rows[1][26], Cell::Text(String::new()));
        let legacy = Table::from_frdo(&TEMPLATE_LEGACY, &[record()], stamp());
        assert_eq!(legacy.columns.len(), 38);
        assert_eq!(legacy.template.as_deref(), Some("legacy"));
    }

    #[test]
    fn xlsx_reads_back_with_the_template_and_the_stamp() {
        let table = frdo_table();
        let bytes = to_xlsx(&table).unwrap();
        assert_eq!(bytes, to_xlsx(&table).unwrap(), "deterministic");
        let mut book = read_xlsx(bytes);
        assert_eq!(book.sheet_names(), ["Шаблон", "Сведения"]);

        let sheet = book.worksheet_range("Шаблон").unwrap();
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows.len(), 3);
        assert_eq!(strings(rows[0]), TEMPLATE_2024.columns);
        let first = strings(rows[1]);
        assert_eq!(first, record().cells(&TEMPLATE_2024));
        assert_eq!(rows[1][26], Data::String("112-233-445 95".to_owned()));
        assert_eq!(rows[1][7], Data::String("01.12.2026".to_owned()));
        assert_eq!(rows[1][24], Data::String("09.03.1985".to_owned()));
        assert_eq!(rows[1][20], Data::String("72".to_owned()));
        assert_eq!(rows[1][30], Data::String("643".to_owned()));
        assert_eq!(strings(rows[2])[21], "Сидоров");

        let info = book.worksheet_range("Сведения").unwrap();
        let info: Vec<Vec<String>> = info.rows().map(strings).collect();
        assert_eq!(
            info,
            [["Сформировано", "24.11.2026 22:30 (Europe/Samara)"], ["Кем", "Иванов Иван Иванович"], ["Шаблон", "2024"],]
        );
    }

    #[test]
    fn xlsx_writes_numbers_as_numbers() {
        let mut table =
            Table::new("Сводка", vec!["А".to_owned(), "Б".to_owned(), "В".to_owned(), "Г".to_owned()], stamp());
        table.rows.push(vec![
            Cell::Int(12),
            Cell::Decimal("1234.50".to_owned()),
            Cell::Empty,
            Cell::Text("007".to_owned()),
        ]);
        table.rows.push(vec![
            Cell::Int(i64::MAX),
            Cell::Decimal("1,5".to_owned()),
            Cell::Decimal("-3".to_owned()),
            Cell::Empty,
        ]);
        let mut book = read_xlsx(to_xlsx(&table).unwrap());
        let sheet = book.worksheet_range("Сводка").unwrap();
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows[1][0], Data::Float(12.0));
        assert_eq!(rows[1][1], Data::Float(1234.5));
        assert_eq!(rows[1][2], Data::Empty);
        assert_eq!(rows[1][3], Data::String("007".to_owned()));
        assert_eq!(rows[2][0], Data::String(i64::MAX.to_string()));
        assert_eq!(rows[2][1], Data::String("1,5".to_owned()));
        assert_eq!(rows[2][2], Data::Float(-3.0));
        let info = book.worksheet_range("Сведения").unwrap();
        assert_eq!(info.rows().count(), 2, "no template row");
    }

    #[test]
    fn csv_reads_back_with_header_rows_and_stamp() {
        let table = frdo_table();
        let bytes = to_csv(&table);
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.ends_with("\r\n\r\nСформировано,24.11.2026 22:30,Иванов Иван Иванович\r\n"), "{text}");

        let (header, records) = read_csv(&bytes);
        assert_eq!(header, TEMPLATE_2024.columns);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], record().cells(&TEMPLATE_2024));
        assert_eq!(records[0][26], "112-233-445 95");
        assert_eq!(records[0][7], "01.12.2026");
        assert_eq!(records[1][21], "Сидоров");
        assert_eq!(records[2], ["Сформировано", "24.11.2026 22:30", "Иванов Иван Иванович"]);
    }

    #[test]
    fn csv_round_trips_commas_quotes_and_line_breaks() {
        let tricky = "Школа № 5, корпус \"Б\"\nвторая строка";
        let mut table = Table::new(
            "Лист",
            vec!["Название, полное".to_owned(), "Число".to_owned(), "Сумма".to_owned(), "Пусто".to_owned()],
            stamp(),
        );
        table.rows.push(vec![
            Cell::Text(tricky.to_owned()),
            Cell::Int(-7),
            Cell::Decimal("1234.50".to_owned()),
            Cell::Empty,
        ]);
        let (header, records) = read_csv(&to_csv(&table));
        assert_eq!(header, ["Название, полное", "Число", "Сумма", "Пусто"]);
        assert_eq!(records[0], [tricky, "-7", "1234.50", ""]);
        assert_eq!(records[1][0], "Сформировано");
    }
}
