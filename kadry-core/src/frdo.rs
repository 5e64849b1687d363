//! ФИС ФРДО: the federal registry of documents on education and its upload template for
//! documents on additional professional education (ДПО).
//!
//! The registry takes issued qualification-upgrade certificates and retraining diplomas as a
//! spreadsheet whose columns are fixed by the registry's template. The template is data here:
//! a [`Template`] is a list of column titles, each paired with the [`Field`] it holds, so a new
//! template version is a new constant, not new code. [`FrdoRecord::cells`] walks a template's
//! fields and renders one string per column in the loader's formats:
//!
//! - dates as `dd.mm.yyyy`;
//! - СНИЛС as `XXX-XXX-XXX YY`;
//! - dictionary values exactly as the loader lists them, case included ([`DocumentKind`],
//!   [`DocumentStatus`], [`ProgramKind`], [`EducationLevel`], [`Sex`], [`StudyForm`],
//!   [`FundingSource`], [`StudyPlace`]);
//! - «Да» / «Нет» for the confirmation columns;
//! - numbers plain.
//!
//! The loader refuses invisible characters (no-break spaces, zero-width characters, tabs), so
//! text is checked when kadry accepts it ([`check_text`], [`normalize_text`], [`check_oksm`],
//! [`FrdoRecord::validate`]): a record that passed validation always exports.
//!
//! Pure: no I/O.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::types::Snils;

// ---------------------------------------------------------------------------
// Fields and templates
// ---------------------------------------------------------------------------

/// What a template column holds: one variant per column of any known template version.
///
/// [`Field::title`] is the column's title in the current template ([`TEMPLATE_2024`]); a
/// template may title a field differently (see [`Template::columns`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Column 1, Вид документа ([`DocumentKind`]).
    DocumentKind,
    /// Column 2, Статус документа ([`DocumentStatus`]).
    DocumentStatus,
    /// Column 3, Подтверждение утраты (Да | Нет).
    LossConfirmed,
    /// Column 4, Подтверждение обмена (Да | Нет).
    ExchangeConfirmed,
    /// Column 5, Подтверждение уничтожения (Да | Нет).
    DestructionConfirmed,
    /// Columns 3–5 merged into one (older templates): «Да» if any of them is «Да».
    LossExchangeDestructionConfirmed,
    /// Column 6, Серия документа.
    Series,
    /// Column 7, Номер документа.
    Number,
    /// Column 8, Дата выдачи документа.
    IssueDate,
    /// Column 9, Регистрационный номер.
    RegistrationNumber,
    /// Column 10, Дополнительная профессиональная программа ([`ProgramKind`]).
    ProgramKind,
    /// Column 11, Наименование дополнительной профессиональной программы.
    ProgramTitle,
    /// Column 12, Наименование области профессиональной деятельности.
    ActivityField,
    /// Column 13, Укрупненные группы специальностей.
    SpecialityGroup,
    /// Column 14, Наименование квалификации, профессии, специальности.
    Qualification,
    /// Column 15, Уровень образования ВО/СПО ([`EducationLevel`]).
    EducationLevel,
    /// Column 16, Фамилия, указанная в дипломе о ВО или СПО.
    DiplomaSurname,
    /// Column 17, Серия документа о ВО/СПО.
    DiplomaSeries,
    /// Column 18, Номер документа о ВО/СПО.
    DiplomaNumber,
    /// Column 19, Год начала обучения.
    StartYear,
    /// Column 20, Год окончания обучения.
    EndYear,
    /// Column 21, Срок обучения, часов.
    Hours,
    /// Column 22, Фамилия получателя.
    Surname,
    /// Column 23, Имя получателя.
    GivenName,
    /// Column 24, Отчество получателя.
    Patronymic,
    /// Column 25, Дата рождения получателя.
    BirthDate,
    /// Column 26, Пол получателя ([`Sex`]).
    Sex,
    /// Column 27, СНИЛС.
    Snils,
    /// Column 28, Форма обучения ([`StudyForm`]).
    StudyForm,
    /// Column 29, Источник финансирования обучения ([`FundingSource`]).
    FundingSource,
    /// Column 30, Форма получения образования на момент прекращения образовательных отношений
    /// ([`StudyPlace`]).
    StudyPlace,
    /// Column 31, Гражданство получателя (код страны по ОКСМ).
    Citizenship,
    /// Column 32, Наименование документа об образовании (оригинала).
    OriginalName,
    /// Column 33, Серия (оригинала).
    OriginalSeries,
    /// Column 34, Номер (оригинала).
    OriginalNumber,
    /// Column 35, Регистрационный N (оригинала).
    OriginalRegistrationNumber,
    /// Column 36, Дата выдачи (оригинала).
    OriginalIssueDate,
    /// Column 37, Фамилия получателя (оригинала).
    OriginalSurname,
    /// Column 38, Имя получателя (оригинала).
    OriginalGivenName,
    /// Column 39, Отчество получателя (оригинала).
    OriginalPatronymic,
    /// Column 40, Номер документа для изменения (corrections; kadry does not issue them, so always
    /// empty).
    DocumentToChange,
}

impl Field {
    /// The column's title in the current template ([`TEMPLATE_2024`]); for
    /// [`Field::LossExchangeDestructionConfirmed`], the legacy template's title.
    #[must_use]
    pub const fn title(self) -> &'static str {
        match self {
            Self::DocumentKind => "Вид документа",
            Self::DocumentStatus => "Статус документа",
            Self::LossConfirmed => "Подтверждение утраты",
            Self::ExchangeConfirmed => "Подтверждение обмена",
            Self::DestructionConfirmed => "Подтверждение уничтожения",
            Self::LossExchangeDestructionConfirmed => "Подтверждение утраты/обмена/уничтожения",
            Self::Series => "Серия документа",
            Self::Number => "Номер документа",
            Self::IssueDate => "Дата выдачи документа",
            Self::RegistrationNumber => "Регистрационный номер",
            Self::ProgramKind => "Дополнительная профессиональная программа",
            Self::ProgramTitle => "Наименование дополнительной профессиональной программы",
            Self::ActivityField => "Наименование области профессиональной деятельности",
            Self::SpecialityGroup => "Укрупненные группы специальностей",
            Self::Qualification => "Наименование квалификации, профессии, специальности",
            Self::EducationLevel => "Уровень образования ВО/СПО",
            Self::DiplomaSurname => "Фамилия, указанная в дипломе о ВО или СПО",
            Self::DiplomaSeries => "Серия документа о ВО/СПО",
            Self::DiplomaNumber => "Номер документа о ВО/СПО",
            Self::StartYear => "Год начала обучения",
            Self::EndYear => "Год окончания обучения",
            Self::Hours => "Срок обучения, часов",
            Self::Surname => "Фамилия получателя",
            Self::GivenName => "Имя получателя",
            Self::Patronymic => "Отчество получателя",
            Self::BirthDate => "Дата рождения получателя",
            Self::Sex => "Пол получателя",
            Self::Snils => "СНИЛС",
            Self::StudyForm => "Форма обучения",
            Self::FundingSource => "Источник финансирования обучения",
            Self::StudyPlace => "Форма получения образования на момент прекращения образовательных отношений",
            Self::Citizenship => "Гражданство получателя (код страны по ОКСМ)",
            Self::OriginalName => "Наименование документа об образовании (оригинала)",
            Self::OriginalSeries => "Серия (оригинала)",
            Self::OriginalNumber => "Номер (оригинала)",
            Self::OriginalRegistrationNumber => "Регистрационный N (оригинала)",
            Self::OriginalIssueDate => "Дата выдачи (оригинала)",
            Self::OriginalSurname => "Фамилия получателя (оригинала)",
            Self::OriginalGivenName => "Имя получателя (оригинала)",
            Self::OriginalPatronymic => "Отчество получателя (оригинала)",
            Self::DocumentToChange => "Номер документа для изменения",
        }
    }

    /// Whether the column holds a date (rendered `dd.mm.yyyy`).
    #[must_use]
    pub const fn is_date(self) -> bool {
        matches!(self, Self::IssueDate | Self::BirthDate | Self::OriginalIssueDate)
    }
}

/// A version of the registry's upload template: the sheet name and the columns in order, each
/// column a title ([`Template::columns`]) and what it holds ([`Template::fields`]); the two
/// lists have the same length (checked at compile time for the known templates).
#[derive(Debug, PartialEq, Eq)]
pub struct Template {
    /// The version id, e.g. `"2024"`; see [`Template::by_version`].
    pub version: &'static str,
    /// The worksheet name the loader expects, «Шаблон».
    pub sheet: &'static str,
    /// The column titles, in order, exactly as the loader expects them.
    pub columns: &'static [&'static str],
    /// What each column holds, parallel to [`Template::columns`].
    pub fields: &'static [Field],
}

impl Template {
    /// The template the registry takes now: [`TEMPLATE_2024`].
    pub const CURRENT: &'static Template = &TEMPLATE_2024;

    /// Every known template, current first.
    pub const ALL: &'static [&'static Template] = &[&TEMPLATE_2024, &TEMPLATE_LEGACY];

    /// The template with this version id (`"2024"`, `"legacy"`).
    #[must_use]
    pub fn by_version(version: &str) -> Option<&'static Template> {
        Self::ALL.iter().copied().find(|t| t.version == version)
    }

    /// The columns as (title, field) pairs, in order.
    pub fn layout(&self) -> impl Iterator<Item = (&'static str, Field)> + '_ {
        self.columns.iter().copied().zip(self.fields.iter().copied())
    }

    /// The 0-based index of the column holding `field`, if the template has one.
    #[must_use]
    pub fn position(&self, field: Field) -> Option<usize> {
        self.fields.iter().position(|&f| f == field)
    }
}

/// The current template's 40 column titles, in order.
const COLUMNS_2024: [&str; 40] = [
    "Вид документа",
    "Статус документа",
    "Подтверждение утраты",
    "Подтверждение обмена",
    "Подтверждение уничтожения",
    "Серия документа",
    "Номер документа",
    "Дата выдачи документа",
    "Регистрационный номер",
    "Дополнительная профессиональная программа",
    "Наименование дополнительной профессиональной программы",
    "Наименование области профессиональной деятельности",
    "Укрупненные группы специальностей",
    "Наименование квалификации, профессии, специальности",
    "Уровень образования ВО/СПО",
    "Фамилия, указанная в дипломе о ВО или СПО",
    "Серия документа о ВО/СПО",
    "Номер документа о ВО/СПО",
    "Год начала обучения",
    "Год окончания обучения",
    "Срок обучения, часов",
    "Фамилия получателя",
    "Имя получателя",
    "Отчество получателя",
    "Дата рождения получателя",
    "Пол получателя",
    "СНИЛС",
    "Форма обучения",
    "Источник финансирования обучения",
    "Форма получения образования на момент прекращения образовательных отношений",
    "Гражданство получателя (код страны по ОКСМ)",
    "Наименование документа об образовании (оригинала)",
    "Серия (оригинала)",
    "Номер (оригинала)",
    "Регистрационный N (оригинала)",
    "Дата выдачи (оригинала)",
    "Фамилия получателя (оригинала)",
    "Имя получателя (оригинала)",
    "Отчество получателя (оригинала)",
    "Номер документа для изменения",
];

/// What the current template's 40 columns hold, in order.
const FIELDS_2024: [Field; 40] = [
    Field::DocumentKind,
    Field::DocumentStatus,
    Field::LossConfirmed,
    Field::ExchangeConfirmed,
    Field::DestructionConfirmed,
    Field::Series,
    Field::Number,
    Field::IssueDate,
    Field::RegistrationNumber,
    Field::ProgramKind,
    Field::ProgramTitle,
    Field::ActivityField,
    Field::SpecialityGroup,
    Field::Qualification,
    Field::EducationLevel,
    Field::DiplomaSurname,
    Field::DiplomaSeries,
    Field::DiplomaNumber,
    Field::StartYear,
    Field::EndYear,
    Field::Hours,
    Field::Surname,
    Field::GivenName,
    Field::Patronymic,
    Field::BirthDate,
    Field::Sex,
    Field::Snils,
    Field::StudyForm,
    Field::FundingSource,
    Field::StudyPlace,
    Field::Citizenship,
    Field::OriginalName,
    Field::OriginalSeries,
    Field::OriginalNumber,
    Field::OriginalRegistrationNumber,
    Field::OriginalIssueDate,
    Field::OriginalSurname,
    Field::OriginalGivenName,
    Field::OriginalPatronymic,
    Field::DocumentToChange,
];

/// The legacy template's 38 column titles: columns 3–5 merged, column 15 titled differently.
const COLUMNS_LEGACY: [&str; 38] = [
    "Вид документа",
    "Статус документа",
    "Подтверждение утраты/обмена/уничтожения",
    "Серия документа",
    "Номер документа",
    "Дата выдачи документа",
    "Регистрационный номер",
    "Дополнительная профессиональная программа",
    "Наименование дополнительной профессиональной программы",
    "Наименование области профессиональной деятельности",
    "Укрупненные группы специальностей",
    "Наименование квалификации, профессии, специальности",
    "Уровень имеющегося образования",
    "Фамилия, указанная в дипломе о ВО или СПО",
    "Серия документа о ВО/СПО",
    "Номер документа о ВО/СПО",
    "Год начала обучения",
    "Год окончания обучения",
    "Срок обучения, часов",
    "Фамилия получателя",
    "Имя получателя",
    "Отчество получателя",
    "Дата рождения получателя",
    "Пол получателя",
    "СНИЛС",
    "Форма обучения",
    "Источник финансирования обучения",
    "Форма получения образования на момент прекращения образовательных отношений",
    "Гражданство получателя (код страны по ОКСМ)",
    "Наименование документа об образовании (оригинала)",
    "Серия (оригинала)",
    "Номер (оригинала)",
    "Регистрационный N (оригинала)",
    "Дата выдачи (оригинала)",
    "Фамилия получателя (оригинала)",
    "Имя получателя (оригинала)",
    "Отчество получателя (оригинала)",
    "Номер документа для изменения",
];

/// What the legacy template's 38 columns hold, in order.
const FIELDS_LEGACY: [Field; 38] = [
    Field::DocumentKind,
    Field::DocumentStatus,
    Field::LossExchangeDestructionConfirmed,
    Field::Series,
    Field::Number,
    Field::IssueDate,
    Field::RegistrationNumber,
    Field::ProgramKind,
    Field::ProgramTitle,
    Field::ActivityField,
    Field::SpecialityGroup,
    Field::Qualification,
    Field::EducationLevel,
    Field::DiplomaSurname,
    Field::DiplomaSeries,
    Field::DiplomaNumber,
    Field::StartYear,
    Field::EndYear,
    Field::Hours,
    Field::Surname,
    Field::GivenName,
    Field::Patronymic,
    Field::BirthDate,
    Field::Sex,
    Field::Snils,
    Field::StudyForm,
    Field::FundingSource,
    Field::StudyPlace,
    Field::Citizenship,
    Field::OriginalName,
    Field::OriginalSeries,
    Field::OriginalNumber,
    Field::OriginalRegistrationNumber,
    Field::OriginalIssueDate,
    Field::OriginalSurname,
    Field::OriginalGivenName,
    Field::OriginalPatronymic,
    Field::DocumentToChange,
];

/// The current upload template: 40 columns on the sheet «Шаблон», version `"2024"`.
pub const TEMPLATE_2024: Template =
    Template { version: "2024", sheet: "Шаблон", columns: &COLUMNS_2024, fields: &FIELDS_2024 };

/// The older upload template: 38 columns on the sheet «Шаблон», version `"legacy"`. Columns
/// 3–5 are one column «Подтверждение утраты/обмена/уничтожения» («Нет» for originals), and
/// column 15 is titled «Уровень имеющегося образования».
pub const TEMPLATE_LEGACY: Template =
    Template { version: "legacy", sheet: "Шаблон", columns: &COLUMNS_LEGACY, fields: &FIELDS_LEGACY };

// ---------------------------------------------------------------------------
// Dictionaries
// ---------------------------------------------------------------------------

/// Defines a dictionary enum: serde as the snake_case name (the Russian string accepted as an
/// alias), `as_ru`, `as_snake`, `parse`, `ALL`, `Display` (Russian) and `FromStr`.
macro_rules! dictionary {
    (
        $(#[$meta:meta])*
        $name:ident, $field:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $snake:literal, $ru:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        // The variants' serialised names are their snake_case names (checked by a test).
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = frdo::$name, rename_all = "snake_case"))]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $snake, alias = $ru)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in the dictionary's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The exact string the registry's loader expects, case included.
            #[must_use]
            pub const fn as_ru(self) -> &'static str {
                match self {
                    $(Self::$variant => $ru,)+
                }
            }

            /// The snake_case name, as serialised.
            #[must_use]
            pub const fn as_snake(self) -> &'static str {
                match self {
                    $(Self::$variant => $snake,)+
                }
            }

            /// Parses the exact Russian string or the snake_case name.
            ///
            /// # Errors
            ///
            /// [`Problem::UnknownValue`] (for the dictionary's column) when the input is neither.
            pub fn parse(s: &str) -> Result<Self, FrdoError> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_ru() == s || v.as_snake() == s)
                    .ok_or(FrdoError::new(Field::$field.title(), Problem::UnknownValue))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_ru())
            }
        }

        impl FromStr for $name {
            type Err = FrdoError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

dictionary! {
    /// Column 1, Вид документа.
    DocumentKind, DocumentKind {
        /// «Удостоверение о повышении квалификации».
        QualificationUpgrade => "qualification_upgrade", "Удостоверение о повышении квалификации";
        /// «Диплом о профессиональной переподготовке».
        Retraining => "retraining", "Диплом о профессиональной переподготовке";
    }
}

dictionary! {
    /// Column 2, Статус документа.
    DocumentStatus, DocumentStatus {
        /// «Оригинал».
        Original => "original", "Оригинал";
        /// «Дубликат».
        Duplicate => "duplicate", "Дубликат";
    }
}

dictionary! {
    /// Column 10, Дополнительная профессиональная программа.
    ProgramKind, ProgramKind {
        /// «Повышение квалификации».
        QualificationUpgrade => "qualification_upgrade", "Повышение квалификации";
        /// «Профессиональная переподготовка».
        Retraining => "retraining", "Профессиональная переподготовка";
    }
}

dictionary! {
    /// Column 15, Уровень образования ВО/СПО.
    EducationLevel, EducationLevel {
        /// «Высшее образование».
        Higher => "higher", "Высшее образование";
        /// «Среднее профессиональное образование».
        SecondaryVocational => "secondary_vocational", "Среднее профессиональное образование";
    }
}

dictionary! {
    /// Column 26, Пол получателя.
    Sex, Sex {
        /// «Муж».
        Male => "male", "Муж";
        /// «Жен».
        Female => "female", "Жен";
    }
}

dictionary! {
    /// Column 28, Форма обучения.
    StudyForm, StudyForm {
        /// «Очная».
        FullTime => "full_time", "Очная";
        /// «Заочная».
        Extramural => "extramural", "Заочная";
        /// «Очно-заочная».
        PartTime => "part_time", "Очно-заочная";
    }
}

dictionary! {
    /// Column 29, Источник финансирования обучения.
    FundingSource, FundingSource {
        /// The budget of a constituent entity (the region).
        RegionalBudget => "regional_budget", "Обучение за счет бюджетных ассигнований бюджетов субъектов Российской Федерации";
        /// The federal budget.
        FederalBudget => "federal_budget", "Обучение за счет бюджетных ассигнований федерального бюджета";
        /// A municipal budget.
        LocalBudget => "local_budget", "Обучение за счет бюджетных ассигнований местных бюджетов";
        /// Paid by the learner or an employer.
        Paid => "paid", "Платное обучение";
    }
}

dictionary! {
    /// Column 30, Форма получения образования на момент прекращения образовательных
    /// отношений. kadry's records are always [`StudyPlace::InOrganisation`].
    StudyPlace, StudyPlace {
        /// «в образовательной организации».
        InOrganisation => "in_organisation", "в образовательной организации";
        /// «вне образовательной организации».
        OutsideOrganisation => "outside_organisation", "вне образовательной организации";
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// What is wrong with a value (see [`FrdoError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Problem {
    /// A required value is empty (or only whitespace and invisible characters).
    #[error("is empty")]
    Empty,
    /// The text changes under [`normalize_text`]: invisible characters, tabs, line breaks,
    /// doubled or surrounding spaces.
    #[error("contains invisible characters, tabs, line breaks or extra spaces")]
    NotNormalized,
    /// Not a value of the column's dictionary.
    #[error("is not a value of the dictionary")]
    UnknownValue,
    /// Not a 3-digit OKSM country code.
    #[error("must be a 3-digit OKSM country code")]
    NotOksm,
    /// A year or a date outside 1900–2100.
    #[error("is outside the years 1900–2100")]
    OutOfRange,
    /// The end year is before the start year.
    #[error("end year is before the start year")]
    EndBeforeStart,
    /// The number of hours is zero.
    #[error("must be greater than zero")]
    Zero,
    /// The issue date is before the year the studies ended.
    #[error("issue date is before the end year of the studies")]
    IssuedBeforeEnd,
    /// The birth date is not before the issue date.
    #[error("birth date is not before the issue date")]
    BornAfterIssue,
    /// The document kind and the programme kind disagree (a certificate for a retraining
    /// programme, or a diploma for a qualification upgrade).
    #[error("does not match the kind of the document")]
    KindMismatch,
    /// A duplicate without the original's details, or an original with them.
    #[error("the original's details are required for a duplicate and only for a duplicate")]
    StatusMismatch,
    /// A duplicate confirming none of loss, exchange or destruction.
    #[error("a duplicate must confirm loss, exchange or destruction")]
    NoReason,
}

impl Problem {
    /// The problem in Russian, for users.
    #[must_use]
    pub const fn message_ru(self) -> &'static str {
        match self {
            Self::Empty => "не заполнено",
            Self::NotNormalized => "содержит невидимые символы, табуляцию, переводы строк или лишние пробелы",
            Self::UnknownValue => "значение отсутствует в справочнике",
            Self::NotOksm => "должно быть трёхзначным кодом страны по ОКСМ",
            Self::OutOfRange => "вне диапазона 1900–2100 годов",
            Self::EndBeforeStart => "год окончания обучения раньше года начала",
            Self::Zero => "должно быть больше нуля",
            Self::IssuedBeforeEnd => "дата выдачи раньше года окончания обучения",
            Self::BornAfterIssue => "дата рождения не раньше даты выдачи",
            Self::KindMismatch => "не соответствует виду документа",
            Self::StatusMismatch => "сведения об оригинале заполняются для дубликата и только для него",
            Self::NoReason => "для дубликата требуется подтверждение утраты, обмена или уничтожения",
        }
    }
}

/// A value the registry's loader would refuse: the column (its title) and the problem.
///
/// Never repeats the value itself, so personal data does not reach logs through errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("column «{column}»: {problem}")]
pub struct FrdoError {
    /// The column title (see [`Field::title`]) or, for [`check_text`], the caller's label.
    pub column: &'static str,
    /// What is wrong.
    pub problem: Problem,
}

impl FrdoError {
    /// An error for `column`.
    #[must_use]
    pub const fn new(column: &'static str, problem: Problem) -> Self {
        Self { column, problem }
    }

    /// The error in Russian, e.g. «Серия документа: не заполнено».
    #[must_use]
    pub fn message_ru(&self) -> String {
        format!("«{}»: {}", self.column, self.problem.message_ru())
    }
}

// ---------------------------------------------------------------------------
// Text checks
// ---------------------------------------------------------------------------

/// Invisible format characters [`normalize_text`] removes (zero-width characters, the soft
/// hyphen, direction marks and embeddings, the byte-order mark).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

/// Normalises text for the registry's loader.
///
/// Every Unicode whitespace character (space, tab, line breaks, no-break spaces U+00A0,
/// U+202F, U+2007, other typographic spaces) becomes a space; zero-width and other invisible
/// format characters (U+200B, U+200C, U+200D, U+2060, U+FEFF, U+00AD, direction marks) and
/// control characters are removed; runs of spaces collapse to one; the result is trimmed.
///
/// ```
/// use kadry_core::frdo::normalize_text;
///
/// assert_eq!(normalize_text("\u{feff} Иванова\u{a0}\u{a0}Мария\u{200b}\t"), "Иванова Мария");
/// ```
#[must_use]
pub fn normalize_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = true;
        } else if is_invisible(c) || c.is_control() {
            // Dropped; a space around it still counts.
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    out
}

/// Checks a required text value at entry: returns it normalised ([`normalize_text`]).
///
/// `field` names the value in the error, e.g. a column title ([`Field::title`]).
///
/// # Errors
///
/// [`Problem::Empty`] when nothing is left after normalisation.
pub fn check_text(field: &'static str, s: &str) -> Result<String, FrdoError> {
    let text = normalize_text(s);
    if text.is_empty() { Err(FrdoError::new(field, Problem::Empty)) } else { Ok(text) }
}

/// Checks a citizenship code at entry: an OKSM country code of exactly 3 ASCII digits
/// (`"643"` is Russia), after [`normalize_text`]. Returns the normalised code.
///
/// # Errors
///
/// [`Problem::Empty`] for an empty input, [`Problem::NotOksm`] for anything but 3 digits.
pub fn check_oksm(code: &str) -> Result<String, FrdoError> {
    let column = Field::Citizenship.title();
    let code = check_text(column, code)?;
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(FrdoError::new(column, Problem::NotOksm))
    }
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/// The OKSM code of Russia.
pub const OKSM_RUSSIA: &str = "643";

/// The years dates and study years may fall in.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// The details of the original document a duplicate replaces (columns 3–5 and 32–39).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OriginalDocument {
    /// Column 3: the original was lost.
    pub lost: bool,
    /// Column 4: the original was exchanged.
    pub exchanged: bool,
    /// Column 5: the original was destroyed.
    pub destroyed: bool,
    /// Column 32: the original's name.
    pub name: String,
    /// Column 33: the original's series.
    pub series: Option<String>,
    /// Column 34: the original's number.
    pub number: String,
    /// Column 35: the original's registration number.
    pub registration_number: String,
    /// Column 36: the original's issue date.
    pub issue_date: NaiveDate,
    /// Column 37: the recipient's surname on the original.
    pub surname: String,
    /// Column 38: the recipient's given name on the original.
    pub given_name: String,
    /// Column 39: the recipient's patronymic on the original.
    pub patronymic: Option<String>,
}

/// One issued document, a row of the upload template.
///
/// Text fields must be normalised ([`normalize_text`]; use [`check_text`] at entry) and
/// non-empty when present; [`FrdoRecord::validate`] checks that and the rest. Column 40
/// (corrections) is always empty; columns 3–5 and 32–39 come from
/// [`FrdoRecord::original`], `None` for originals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FrdoRecord {
    /// Column 1.
    pub document_kind: DocumentKind,
    /// Column 2.
    pub status: DocumentStatus,
    /// Column 6.
    pub series: String,
    /// Column 7.
    pub number: String,
    /// Column 8.
    pub issue_date: NaiveDate,
    /// Column 9.
    pub registration_number: String,
    /// Column 10.
    pub program_kind: ProgramKind,
    /// Column 11.
    pub program_title: String,
    /// Column 12.
    pub activity_field: Option<String>,
    /// Column 13.
    pub speciality_group: Option<String>,
    /// Column 14.
    pub qualification: Option<String>,
    /// Column 15: the level of the recipient's ВО/СПО diploma.
    pub education_level: EducationLevel,
    /// Column 16: the surname written in the ВО/СПО diploma.
    pub diploma_surname: String,
    /// Column 17.
    pub diploma_series: Option<String>,
    /// Column 18.
    pub diploma_number: String,
    /// Column 19.
    pub start_year: i32,
    /// Column 20.
    pub end_year: i32,
    /// Column 21: academic hours, positive.
    pub hours: u32,
    /// Column 22.
    pub surname: String,
    /// Column 23.
    pub given_name: String,
    /// Column 24.
    pub patronymic: Option<String>,
    /// Column 25.
    pub birth_date: NaiveDate,
    /// Column 26.
    pub sex: Sex,
    /// Column 27 (none for recipients without one).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub snils: Option<Snils>,
    /// Column 28.
    pub study_form: StudyForm,
    /// Column 29.
    pub funding_source: FundingSource,
    /// Column 30: [`StudyPlace::InOrganisation`] for kadry's records.
    pub study_place: StudyPlace,
    /// Column 31: the OKSM country code, [`OKSM_RUSSIA`] for Russia (see [`check_oksm`]).
    pub citizenship: String,
    /// Columns 3–5 and 32–39: the original a duplicate replaces; `None` for originals.
    pub original: Option<OriginalDocument>,
}

/// «Да» or «Нет».
const fn yes_no(b: bool) -> &'static str {
    if b { "Да" } else { "Нет" }
}

/// `dd.mm.yyyy`.
fn date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

impl FrdoRecord {
    /// One string per column of `template`, in order (see [`FrdoRecord::cell`]).
    #[must_use]
    pub fn cells(&self, template: &Template) -> Vec<String> {
        template.fields.iter().map(|&field| self.cell(field)).collect()
    }

    /// The string for one column: dates `dd.mm.yyyy`, СНИЛС `XXX-XXX-XXX YY`, dictionary
    /// values exactly as the loader lists them, numbers plain, «Да»/«Нет» for confirmations
    /// («Нет» for originals), empty for absent optional values.
    #[must_use]
    pub fn cell(&self, field: Field) -> String {
        let text = |s: &str| s.to_owned();
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let orig = self.original.as_ref();
        match field {
            Field::DocumentKind => text(self.document_kind.as_ru()),
            Field::DocumentStatus => text(self.status.as_ru()),
            Field::LossConfirmed => text(yes_no(orig.is_some_and(|o| o.lost))),
            Field::ExchangeConfirmed => text(yes_no(orig.is_some_and(|o| o.exchanged))),
            Field::DestructionConfirmed => text(yes_no(orig.is_some_and(|o| o.destroyed))),
            Field::LossExchangeDestructionConfirmed => {
                text(yes_no(orig.is_some_and(|o| o.lost || o.exchanged || o.destroyed)))
            }
            Field::Series => text(&self.series),
            Field::Number => text(&self.number),
            Field::IssueDate => date(self.issue_date),
            Field::RegistrationNumber => text(&self.registration_number),
            Field::ProgramKind => text(self.program_kind.as_ru()),
            Field::ProgramTitle => text(&self.program_title),
            Field::ActivityField => opt(&self.activity_field),
            Field::SpecialityGroup => opt(&self.speciality_group),
            Field::Qualification => opt(&self.qualification),
            Field::EducationLevel => text(self.education_level.as_ru()),
            Field::DiplomaSurname => text(&self.diploma_surname),
            Field::DiplomaSeries => opt(&self.diploma_series),
            Field::DiplomaNumber => text(&self.diploma_number),
            Field::StartYear => self.start_year.to_string(),
            Field::EndYear => self.end_year.to_string(),
            Field::Hours => self.hours.to_string(),
            Field::Surname => text(&self.surname),
            Field::GivenName => text(&self.given_name),
            Field::Patronymic => opt(&self.patronymic),
            Field::BirthDate => date(self.birth_date),
            Field::Sex => text(self.sex.as_ru()),
            Field::Snils => self.snils.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            Field::StudyForm => text(self.study_form.as_ru()),
            Field::FundingSource => text(self.funding_source.as_ru()),
            Field::StudyPlace => text(self.study_place.as_ru()),
            Field::Citizenship => text(&self.citizenship),
            Field::OriginalName => orig.map(|o| o.name.clone()).unwrap_or_default(),
            Field::OriginalSeries => orig.and_then(|o| o.series.clone()).unwrap_or_default(),
            Field::OriginalNumber => orig.map(|o| o.number.clone()).unwrap_or_default(),
            Field::OriginalRegistrationNumber => orig.map(|o| o.registration_number.clone()).unwrap_or_default(),
            Field::OriginalIssueDate => orig.map(|o| date(o.issue_date)).unwrap_or_default(),
            Field::OriginalSurname => orig.map(|o| o.surname.clone()).unwrap_or_default(),
            Field::OriginalGivenName => orig.map(|o| o.given_name.clone()).unwrap_or_default(),
            Field::OriginalPatronymic => orig.and_then(|o| o.patronymic.clone()).unwrap_or_default(),
            Field::DocumentToChange => String::new(),
        }
    }

    /// Checks everything the registry's loader would refuse, listing every problem:
    ///
    /// - required text empty, optional text present but empty, text that changes under
    ///   [`normalize_text`];
    /// - citizenship not 3 ASCII digits;
    /// - years and dates outside 1900–2100; end year before start year; zero hours; issue date
    ///   before the end year; birth date not before the issue date;
    /// - document kind and programme kind disagreeing;
    /// - the original's details missing for a duplicate or present for an original; a
    ///   duplicate confirming none of loss, exchange or destruction.
    ///
    /// # Errors
    ///
    /// Every problem found, in column order.
    pub fn validate(&self) -> Result<(), Vec<FrdoError>> {
        let mut errors = Vec::new();
        let mut push = |field: Field, problem: Problem| errors.push(FrdoError::new(field.title(), problem));

        let kinds_agree = matches!(
            (self.document_kind, self.program_kind),
            (DocumentKind::QualificationUpgrade, ProgramKind::QualificationUpgrade)
                | (DocumentKind::Retraining, ProgramKind::Retraining)
        );
        let duplicate = self.status == DocumentStatus::Duplicate;
        if duplicate != self.original.is_some() {
            push(Field::DocumentStatus, Problem::StatusMismatch);
        }
        if let Some(o) = &self.original
            && !(o.lost || o.exchanged || o.destroyed)
        {
            push(Field::LossConfirmed, Problem::NoReason);
        }
        required(&mut push, Field::Series, &self.series);
        required(&mut push, Field::Number, &self.number);
        date_in_range(&mut push, Field::IssueDate, self.issue_date);
        required(&mut push, Field::RegistrationNumber, &self.registration_number);
        if !kinds_agree {
            push(Field::ProgramKind, Problem::KindMismatch);
        }
        required(&mut push, Field::ProgramTitle, &self.program_title);
        optional(&mut push, Field::ActivityField, self.activity_field.as_deref());
        optional(&mut push, Field::SpecialityGroup, self.speciality_group.as_deref());
        optional(&mut push, Field::Qualification, self.qualification.as_deref());
        required(&mut push, Field::DiplomaSurname, &self.diploma_surname);
        optional(&mut push, Field::DiplomaSeries, self.diploma_series.as_deref());
        required(&mut push, Field::DiplomaNumber, &self.diploma_number);
        let years_in_range = YEARS.contains(&self.start_year) && YEARS.contains(&self.end_year);
        if !YEARS.contains(&self.start_year) {
            push(Field::StartYear, Problem::OutOfRange);
        }
        if !YEARS.contains(&self.end_year) {
            push(Field::EndYear, Problem::OutOfRange);
        } else if self.end_year < self.start_year {
            push(Field::EndYear, Problem::EndBeforeStart);
        }
        if years_in_range && self.issue_date.year() < self.end_year {
            push(Field::IssueDate, Problem::IssuedBeforeEnd);
        }
        if self.hours == 0 {
            push(Field::Hours, Problem::Zero);
        }
        required(&mut push, Field::Surname, &self.surname);
        required(&mut push, Field::GivenName, &self.given_name);
        optional(&mut push, Field::Patronymic, self.patronymic.as_deref());
        date_in_range(&mut push, Field::BirthDate, self.birth_date);
        if self.birth_date >= self.issue_date {
            push(Field::BirthDate, Problem::BornAfterIssue);
        }
        match check_oksm(&self.citizenship) {
            Ok(code) if code == self.citizenship => {}
            Ok(_) => push(Field::Citizenship, Problem::NotNormalized),
            Err(e) => push(Field::Citizenship, e.problem),
        }
        if let Some(o) = &self.original {
            required(&mut push, Field::OriginalName, &o.name);
            optional(&mut push, Field::OriginalSeries, o.series.as_deref());
            required(&mut push, Field::OriginalNumber, &o.number);
            required(&mut push, Field::OriginalRegistrationNumber, &o.registration_number);
            date_in_range(&mut push, Field::OriginalIssueDate, o.issue_date);
            required(&mut push, Field::OriginalSurname, &o.surname);
            required(&mut push, Field::OriginalGivenName, &o.given_name);
            optional(&mut push, Field::OriginalPatronymic, o.patronymic.as_deref());
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// A required text: non-empty and normalised.
fn required(push: &mut impl FnMut(Field, Problem), field: Field, s: &str) {
    let normalized = normalize_text(s);
    if normalized.is_empty() {
        push(field, Problem::Empty);
    } else if normalized != s {
        push(field, Problem::NotNormalized);
    }
}

/// An optional text: when present, as a required one.
fn optional(push: &mut impl FnMut(Field, Problem), field: Field, s: Option<&str>) {
    if let Some(s) = s {
        required(push, field, s);
    }
}

/// A date whose year is in 1900–2100.
fn date_in_range(push: &mut impl FnMut(Field, Problem), field: Field, d: NaiveDate) {
    if !YEARS.contains(&d.year()) {
        push(field, Problem::OutOfRange);
    }
}

// Each template has as many fields as titles.
const _: () = assert!(TEMPLATE_2024.columns.len() == TEMPLATE_2024.fields.len());
const _: () = assert!(TEMPLATE_LEGACY.columns.len() == TEMPLATE_LEGACY.fields.len());

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The OpenAPI schema names every dictionary value by its variant's snake_case name; the
    /// serialised names must be exactly those.
    #[test]
    fn serialised_names_are_the_variants_snake_case() {
        fn snake(debug: String) -> String {
            let mut out = String::new();
            for (i, c) in debug.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            }
            out
        }
        macro_rules! check {
            ($($t:ty),+) => {$(
                for v in <$t>::ALL {
                    assert_eq!(v.as_snake(), snake(format!("{v:?}")));
                    assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(v.as_snake()));
                }
            )+};
        }
        check!(DocumentKind, DocumentStatus, ProgramKind, EducationLevel, Sex, StudyForm, FundingSource, StudyPlace);
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A valid original certificate.
    fn record() -> FrdoRecord {
        FrdoRecord {
            document_kind: DocumentKind::QualificationUpgrade,
            status: DocumentStatus::Original,
            series: "63".to_owned(),
            number: "0001234".to_owned(),
            issue_date: ymd(2026, 12, 1),
            registration_number: "ПК-2026/0457".to_owned(),
            program_kind: ProgramKind::QualificationUpgrade,
            program_title: "Формирование функциональной грамотности школьников".to_owned(),
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
            birth_date: ymd(1985, 3, 9),
            sex: Sex::Female,
            snils: Some(Snils::parse("11223344595").unwrap()),
            study_form: StudyForm::PartTime,
            funding_source: FundingSource::RegionalBudget,
            study_place: StudyPlace::InOrganisation,
            citizenship: OKSM_RUSSIA.to_owned(),
            original: None,
        }
    }

    fn duplicate() -> FrdoRecord {
        FrdoRecord {
            status: DocumentStatus::Duplicate,
            original: Some(OriginalDocument {
                lost: true,
                exchanged: false,
                destroyed: false,
                name: "Удостоверение о повышении квалификации".to_owned(),
                series: None,
                number: "0000999".to_owned(),
                registration_number: "ПК-2025/0001".to_owned(),
                issue_date: ymd(2025, 6, 30),
                surname: "Петрова".to_owned(),
                given_name: "Мария".to_owned(),
                patronymic: None,
            }),
            ..record()
        }
    }

    fn problems(r: &FrdoRecord) -> Vec<(&'static str, Problem)> {
        r.validate().err().unwrap_or_default().into_iter().map(|e| (e.column, e.problem)).collect()
    }

    #[test]
    fn current_template_has_the_40_columns_in_order() {
        let t = Template::CURRENT;
        assert_eq!(t.version, "2024");
        assert_eq!(t.sheet, "Шаблон");
        assert_eq!(t.columns.len(), 40);
        assert_eq!(t.fields.len(), 40);
        assert_eq!(t.columns[0], "Вид документа");
        assert_eq!(t.columns[14], "Уровень образования ВО/СПО");
        assert_eq!(t.columns[26], "СНИЛС");
        assert_eq!(t.columns[30], "Гражданство получателя (код страны по ОКСМ)");
        assert_eq!(t.columns[39], "Номер документа для изменения");
        for (title, field) in t.layout() {
            assert_eq!(title, field.title());
        }
        assert_eq!(t.position(Field::Snils), Some(26));
    }

    #[test]
    fn legacy_template_merges_columns_3_to_5() {
        let t = Template::by_version("legacy").unwrap();
        assert_eq!(t, &TEMPLATE_LEGACY);
        assert_eq!(t.columns.len(), 38);
        assert_eq!(t.columns[2], "Подтверждение утраты/обмена/уничтожения");
        assert_eq!(t.fields[2], Field::LossExchangeDestructionConfirmed);
        assert_eq!(t.columns[12], "Уровень имеющегося образования");
        assert_eq!(t.fields[12], Field::EducationLevel);
        assert_eq!(t.columns[24], "СНИЛС");
        assert_eq!(t.position(Field::LossConfirmed), None);
        // Apart from the merge and column 15, the same titles in the same order.
        let current: Vec<&str> =
            TEMPLATE_2024.columns.iter().copied().filter(|c| !c.starts_with("Подтверждение")).collect();
        let legacy: Vec<&str> = t.columns.iter().copied().filter(|c| !c.starts_with("Подтверждение")).collect();
        let differing: Vec<_> = current.iter().zip(&legacy).filter(|(a, b)| a != b).collect();
        assert_eq!(differing, vec![(&"Уровень образования ВО/СПО", &"Уровень имеющегося образования")]);
        assert_eq!(Template::by_version("2024"), Some(&TEMPLATE_2024));
        assert_eq!(Template::by_version("2031"), None);
    }

    #[test]
    fn cells_format_dates_snils_and_dictionaries() {
        let r = record();
        let cells = r.cells(&TEMPLATE_2024);
        assert_eq!(cells.len(), 40);
        assert_eq!(cells[0], "Удостоверение о повышении квалификации");
        assert_eq!(cells[1], "Оригинал");
        assert_eq!(&cells[2..5], ["Нет", "Нет", "Нет"]);
        assert_eq!(cells[7], "01.12.2026");
        assert_eq!(cells[9], "Повышение квалификации");
        assert_eq!(cells[11], "");
        assert_eq!(cells[14], "Высшее образование");
        assert_eq!(cells[18], "2026");
        assert_eq!(cells[20], "72");
        assert_eq!(cells[24], "09.03.1985");
        assert_eq!(cells[25], "Жен");
        assert_eq!(cells[26], "112-233-445 95");
        assert_eq!(cells[27], "Очно-заочная");
        assert_eq!(cells[28], "Обучение за счет бюджетных ассигнований бюджетов субъектов Российской Федерации");
        assert_eq!(cells[29], "в образовательной организации");
        assert_eq!(cells[30], "643");
        assert!(cells[31..].iter().all(String::is_empty));

        let legacy = r.cells(&TEMPLATE_LEGACY);
        assert_eq!(legacy.len(), 38);
        assert_eq!(legacy[2], "Нет");
        assert_eq!(legacy[12], "Высшее образование");
        assert_eq!(legacy[24], "112-233-445 95");

        let no_snils = FrdoRecord { snils: None, ..record() };
        assert_eq!(no_snils.cell(Field::Snils), "");
    }

    #[test]
    fn duplicates_fill_the_confirmations_and_the_original() {
        let r = duplicate();
        assert_eq!(r.validate(), Ok(()));
        let cells = r.cells(&TEMPLATE_2024);
        assert_eq!(cells[1], "Дубликат");
        assert_eq!(&cells[2..5], ["Да", "Нет", "Нет"]);
        assert_eq!(cells[31], "Удостоверение о повышении квалификации");
        assert_eq!(cells[32], "");
        assert_eq!(cells[35], "30.06.2025");
        assert_eq!(cells[39], "");
        assert_eq!(r.cells(&TEMPLATE_LEGACY)[2], "Да");
    }

    #[test]
    fn dictionaries_render_and_parse_exactly() {
        assert_eq!(DocumentKind::Retraining.as_ru(), "Диплом о профессиональной переподготовке");
        assert_eq!(DocumentStatus::Duplicate.as_ru(), "Дубликат");
        assert_eq!(ProgramKind::Retraining.as_ru(), "Профессиональная переподготовка");
        assert_eq!(EducationLevel::SecondaryVocational.as_ru(), "Среднее профессиональное образование");
        assert_eq!(Sex::Male.as_ru(), "Муж");
        assert_eq!(StudyForm::FullTime.as_ru(), "Очная");
        assert_eq!(StudyForm::Extramural.as_ru(), "Заочная");
        assert_eq!(
            FundingSource::FederalBudget.as_ru(),
            "Обучение за счет бюджетных ассигнований федерального бюджета"
        );
        assert_eq!(FundingSource::LocalBudget.as_ru(), "Обучение за счет бюджетных ассигнований местных бюджетов");
        assert_eq!(FundingSource::Paid.as_ru(), "Платное обучение");
        assert_eq!(StudyPlace::OutsideOrganisation.as_ru(), "вне образовательной организации");

        assert_eq!(Sex::parse("Жен"), Ok(Sex::Female));
        assert_eq!(Sex::parse("female"), Ok(Sex::Female));
        assert_eq!("regional_budget".parse(), Ok(FundingSource::RegionalBudget));
        assert_eq!(Sex::parse("жен"), Err(FrdoError { column: "Пол получателя", problem: Problem::UnknownValue }));
        assert!(StudyForm::parse("Очная ").is_err());
        assert_eq!(DocumentKind::QualificationUpgrade.to_string(), "Удостоверение о повышении квалификации");

        // serde: the snake_case name out, either spelling in.
        for v in FundingSource::ALL {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.as_snake()));
            let back: FundingSource = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *v);
            let ru: FundingSource = serde_json::from_str(&format!("\"{}\"", v.as_ru())).unwrap();
            assert_eq!(ru, *v);
        }
        assert_eq!(serde_json::to_string(&EducationLevel::SecondaryVocational).unwrap(), "\"secondary_vocational\"");
        assert_eq!(serde_json::to_string(&DocumentKind::QualificationUpgrade).unwrap(), "\"qualification_upgrade\"");
    }

    #[test]
    fn records_round_trip_through_serde() {
        let r = duplicate();
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"issue_date\":\"2026-12-01\""));
        assert!(json.contains("\"snils\":\"112-233-445 95\""));
        let back: FrdoRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn normalisation_strips_each_invisible_character() {
        for c in ['\u{00A0}', '\u{202F}', '\u{2007}', '\t', '\n', '\r'] {
            assert_eq!(normalize_text(&format!("а{c}б")), "а б", "{:?}", c);
            assert_eq!(normalize_text(&format!("{c}а{c}{c}б{c}")), "а б", "{:?}", c);
        }
        for c in ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{0007}', '\u{007F}'] {
            assert_eq!(normalize_text(&format!("а{c}б")), "аб", "{:?}", c);
            assert_eq!(normalize_text(&format!("{c}а {c} б{c}")), "а б", "{:?}", c);
        }
        assert_eq!(normalize_text("  Иванова   Мария  "), "Иванова Мария");
        assert_eq!(normalize_text("\u{200B}\u{A0}\t"), "");
        assert_eq!(normalize_text("Очно-заочная"), "Очно-заочная");
    }

    #[test]
    fn entry_checks() {
        assert_eq!(check_text("Фамилия получателя", " Иванова\u{A0}"), Ok("Иванова".to_owned()));
        assert_eq!(
            check_text("Фамилия получателя", "\u{200B} \t"),
            Err(FrdoError::new("Фамилия получателя", Problem::Empty))
        );
        assert_eq!(check_oksm("643"), Ok("643".to_owned()));
        assert_eq!(check_oksm(" 112 "), Ok("112".to_owned()));
        for bad in ["64", "6433", "RUS", "６４３", "6 43"] {
            assert_eq!(check_oksm(bad).unwrap_err().problem, Problem::NotOksm, "{bad}");
        }
        assert_eq!(check_oksm("").unwrap_err().problem, Problem::Empty);
        let e = FrdoError::new(Field::Series.title(), Problem::Empty);
        assert_eq!(e.to_string(), "column «Серия документа»: is empty");
        assert_eq!(e.message_ru(), "«Серия документа»: не заполнено");
    }

    #[test]
    fn validate_accepts_a_clean_record() {
        assert_eq!(record().validate(), Ok(()));
        let retraining = FrdoRecord {
            document_kind: DocumentKind::Retraining,
            program_kind: ProgramKind::Retraining,
            qualification: Some("Учитель информатики".to_owned()),
            snils: None,
            patronymic: None,
            start_year: 2025,
            ..record()
        };
        assert_eq!(retraining.validate(), Ok(()));
    }

    #[test]
    fn validate_catches_each_problem() {
        use Problem::*;
        let cases: Vec<(FrdoRecord, Vec<(&str, Problem)>)> = vec![
            (FrdoRecord { series: String::new(), ..record() }, vec![("Серия документа", Empty)]),
            (FrdoRecord { number: " ".to_owned(), ..record() }, vec![("Номер документа", Empty)]),
            (
                FrdoRecord { program_title: "Курс\u{A0}1".to_owned(), ..record() },
                vec![(Field::ProgramTitle.title(), NotNormalized)],
            ),
            (
                FrdoRecord { surname: "Иванова\u{200B}".to_owned(), ..record() },
                vec![("Фамилия получателя", NotNormalized)],
            ),
            (FrdoRecord { given_name: " Мария".to_owned(), ..record() }, vec![("Имя получателя", NotNormalized)]),
            (FrdoRecord { patronymic: Some(String::new()), ..record() }, vec![("Отчество получателя", Empty)]),
            (
                FrdoRecord { diploma_series: Some("10\t63".to_owned()), ..record() },
                vec![("Серия документа о ВО/СПО", NotNormalized)],
            ),
            (
                FrdoRecord { activity_field: Some("Образование\nи наука".to_owned()), ..record() },
                vec![(Field::ActivityField.title(), NotNormalized)],
            ),
            (FrdoRecord { start_year: 2027, ..record() }, vec![("Год окончания обучения", EndBeforeStart)]),
            (FrdoRecord { end_year: 2027, ..record() }, vec![("Дата выдачи документа", IssuedBeforeEnd)]),
            (FrdoRecord { hours: 0, ..record() }, vec![("Срок обучения, часов", Zero)]),
            (FrdoRecord { citizenship: "RU".to_owned(), ..record() }, vec![(Field::Citizenship.title(), NotOksm)]),
            (
                FrdoRecord { citizenship: " 643".to_owned(), ..record() },
                vec![(Field::Citizenship.title(), NotNormalized)],
            ),
            (FrdoRecord { citizenship: String::new(), ..record() }, vec![(Field::Citizenship.title(), Empty)]),
            (
                FrdoRecord { birth_date: ymd(2026, 12, 1), ..record() },
                vec![("Дата рождения получателя", BornAfterIssue)],
            ),
            (FrdoRecord { birth_date: ymd(1899, 12, 31), ..record() }, vec![("Дата рождения получателя", OutOfRange)]),
            (
                FrdoRecord { start_year: 1800, end_year: 12026, ..record() },
                vec![("Год начала обучения", OutOfRange), ("Год окончания обучения", OutOfRange)],
            ),
            (
                FrdoRecord { program_kind: ProgramKind::Retraining, ..record() },
                vec![(Field::ProgramKind.title(), KindMismatch)],
            ),
            (FrdoRecord { status: DocumentStatus::Duplicate, ..record() }, vec![("Статус документа", StatusMismatch)]),
            (
                FrdoRecord { status: DocumentStatus::Original, ..duplicate() },
                vec![("Статус документа", StatusMismatch)],
            ),
        ];
        for (r, expected) in cases {
            assert_eq!(problems(&r), expected, "{r:?}");
        }

        let mut no_reason = duplicate();
        if let Some(o) = no_reason.original.as_mut() {
            o.lost = false;
            o.number = String::new();
        }
        assert_eq!(problems(&no_reason), vec![("Подтверждение утраты", NoReason), ("Номер (оригинала)", Empty)]);

        // Every problem is listed, in column order.
        let many = FrdoRecord { series: String::new(), hours: 0, surname: "\t".to_owned(), ..record() };
        assert_eq!(
            problems(&many),
            vec![("Серия документа", Empty), ("Срок обучения, часов", Zero), ("Фамилия получателя", Empty)]
        );
    }

    fn snils_with_check(first_nine: u32) -> Snils {
        let nine = format!("{first_nine:09}");
        let sum: u32 = nine.chars().zip((1..=9).rev()).map(|(d, w)| d.to_digit(10).unwrap() * w).sum();
        Snils::parse(&format!("{nine}{:02}", (sum % 101) % 100)).unwrap()
    }

    /// Text mostly normalised, sometimes with stray invisible characters.
    fn text() -> impl Strategy<Value = String> {
        let ch = prop_oneof![
            8 => prop::char::range('а', 'я'),
            2 => Just(' '),
            1 => prop::sample::select(vec!['\t', '\n', '\u{A0}', '\u{202F}', '\u{2007}', '\u{200B}', '\u{FEFF}', '\u{2060}', '-', '"', ',']),
        ];
        (prop::collection::vec(ch, 1..12), prop::bool::weighted(0.98)).prop_map(|(chars, clean)| {
            let s: String = chars.into_iter().collect();
            if clean { normalize_text(&s) } else { s }
        })
    }

    fn record_strategy() -> impl Strategy<Value = FrdoRecord> {
        let texts = (text(), text(), text(), text(), text(), text(), text(), text());
        let options = (
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        );
        let numbers = (1960i32..2100, 0i32..3, 0i32..2, 0u64..365, 16i32..60, 0u64..365, 0u32..2000);
        let dictionaries = (
            prop::sample::select(DocumentKind::ALL),
            prop::sample::select(EducationLevel::ALL),
            prop::sample::select(Sex::ALL),
            prop::sample::select(StudyForm::ALL),
            prop::sample::select(FundingSource::ALL),
            prop::sample::select(StudyPlace::ALL),
        );
        let other = (prop::option::of((0u32..1_000_000_000).prop_map(snils_with_check)), "[0-9]{3}|643|[A-Z]{2}");
        (texts, options, numbers, dictionaries, other).prop_map(
            |(
                (series, number, reg, title, diploma_surname, diploma_number, surname, given),
                (activity, group, qualification, diploma_series, patronymic),
                (start, length, lag, issue_day, age, birth_day, hours),
                (kind, level, sex, form, funding, place),
                (snils, citizenship),
            )| FrdoRecord {
                document_kind: kind,
                status: DocumentStatus::Original,
                series,
                number,
                issue_date: ymd(start + length + lag, 1, 1) + chrono::Days::new(issue_day),
                registration_number: reg,
                program_kind: match kind {
                    DocumentKind::QualificationUpgrade => ProgramKind::QualificationUpgrade,
                    DocumentKind::Retraining => ProgramKind::Retraining,
                },
                program_title: title,
                activity_field: activity,
                speciality_group: group,
                qualification,
                education_level: level,
                diploma_surname,
                diploma_series,
                diploma_number,
                start_year: start,
                end_year: start + length,
                hours,
                surname,
                given_name: given,
                patronymic,
                birth_date: ymd(start - age, 1, 1) + chrono::Days::new(birth_day),
                sex,
                snils,
                study_form: form,
                funding_source: funding,
                study_place: place,
                citizenship,
                original: None,
            },
        )
    }

    fn is_date_cell(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 10
            && b[2] == b'.'
            && b[5] == b'.'
            && b.iter().enumerate().all(|(i, c)| i == 2 || i == 5 || c.is_ascii_digit())
    }

    proptest! {
        #[test]
        fn validated_records_yield_clean_cells(r in record_strategy()) {
            if r.validate().is_ok() {
                for template in Template::ALL {
                    let cells = r.cells(template);
                    prop_assert_eq!(cells.len(), template.columns.len());
                    for (cell, field) in cells.iter().zip(template.fields) {
                        prop_assert!(
                            !cell.chars().any(|c| matches!(
                                c,
                                '\t' | '\n' | '\r' | '\u{A0}' | '\u{202F}' | '\u{2007}'
                                    | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
                            )),
                            "{:?}: {:?}", field, cell
                        );
                        prop_assert_eq!(cell.trim(), cell.as_str());
                        if field.is_date() && !cell.is_empty() {
                            prop_assert!(is_date_cell(cell), "{:?}", cell);
                        }
                    }
                    for field in [Field::IssueDate, Field::BirthDate] {
                        let i = template.position(field).unwrap();
                        prop_assert!(is_date_cell(&cells[i]), "{:?}", cells[i]);
                    }
                }
            }
        }

        #[test]
        fn normalised_text_is_stable_and_passes_check_text(s in any::<String>()) {
            let n = normalize_text(&s);
            prop_assert_eq!(normalize_text(&n), n.clone());
            match check_text("x", &s) {
                Ok(t) => prop_assert_eq!(t, n),
                Err(e) => {
                    prop_assert_eq!(e.problem, Problem::Empty);
                    prop_assert!(n.is_empty());
                }
            }
        }
    }
}
