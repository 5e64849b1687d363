//! Reports in any slice (R-R1): one query model — filters and a group-by over the dimensions
//! below — answering, per group, how many workers it holds and how many hours of training they
//! passed within the training cycle.
//!
//! The rows are the active employments in the actor's slice (a worker with two workplaces is in
//! both; `workers` counts each person once per group). [`aggregate`] computes a slice from the
//! rows a store returns ([`crate::ports::StaffRow`]); SQL stores push the same aggregation down
//! ([`crate::ports::Tx::slice`]) and must agree with it, which the storage contract suite checks.
//!
//! Every dimension value is a stable key (below); Russian labels come from [`label_ru`].
//!
//! | dimension | keys |
//! |---|---|
//! | `territory` | the territory's id |
//! | `organisation` | the organisation's id |
//! | `org_kind` | `school`, `kindergarten`, `college`, `additional`, `dpo`, `university`, `other` |
//! | `position` | `teacher`, `head`, `deputy_head`, `psychologist`, `speech_therapist`, `tutor`, `educator`, `methodist`, `other` |
//! | `pedagogical` | `yes`, `no` |
//! | `subject` | the subject as entered, `none` |
//! | `age_band` | `under_30`, `30_39`, `40_49`, `50_59`, `60_plus`, `unknown` (age reached this year) |
//! | `education_level` | `higher`, `secondary_vocational`, `unknown` |
//! | `category` | `highest`, `first`, `conformity`, `methodologist`, `mentor`, `none` |
//! | `experience_band` | `under_3`, `3_5`, `5_10`, `10_20`, `20_plus`, `unknown` (full years of pedagogical experience) |
//! | `funding` | how the last passed training was paid: `voucher`, `state`, `paid`, `other` (outside the region's funding), `none` (never trained) |
//! | `training_status` | `trained` (passed within the cycle), `overdue`, `never` (R-V11) |
//! | `voucher_status` | `requested` (an open application), else the last issued voucher: `used` (a course completed on it), `active` (valid), `expired`; else `none` |

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::*;
use crate::policy::RegionPolicy;
use crate::ports::StaffRow;

macro_rules! keyed_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident => $key:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $var),+ }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The stable key.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $key),+ }
            }
            /// Parses a key; `input.invalid` names the allowed ones.
            pub fn parse(s: &str) -> Result<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    Error::InvalidInput(format!("{s:?} is not one of {}", all.join(", ")))
                })
            }
        }
    };
}

keyed_enum!(
    /// A dimension a report can filter and group by (R-R1).
    Dimension {
        /// The organisation's territory.
        Territory => "territory",
        /// The organisation.
        Organisation => "organisation",
        /// The organisation's kind.
        OrgKind => "org_kind",
        /// The position.
        Position => "position",
        /// Whether the position is pedagogical.
        Pedagogical => "pedagogical",
        /// The subject taught.
        Subject => "subject",
        /// The age band.
        AgeBand => "age_band",
        /// The level of vocational education.
        EducationLevel => "education_level",
        /// The attestation category.
        Category => "category",
        /// The band of pedagogical experience.
        ExperienceBand => "experience_band",
        /// How the last passed training was paid for.
        Funding => "funding",
        /// Trained within the cycle, overdue, or never (R-V11).
        TrainingStatus => "training_status",
        /// The voucher's state.
        VoucherStatus => "voucher_status",
    }
);

/// The keys a dimension takes, for those with a fixed set (territory, organisation and
/// subject take any).
pub fn keys(d: Dimension) -> Option<&'static [&'static str]> {
    Some(match d {
        Dimension::Territory | Dimension::Organisation | Dimension::Subject => return None,
        Dimension::OrgKind => &["school", "kindergarten", "college", "additional", "dpo", "university", "other"],
        Dimension::Position => &[
            "teacher",
            "head",
            "deputy_head",
            "psychologist",
            "speech_therapist",
            "tutor",
            "educator",
            "methodist",
            "other",
        ],
        Dimension::Pedagogical => &["yes", "no"],
        Dimension::AgeBand => &["under_30", "30_39", "40_49", "50_59", "60_plus", "unknown"],
        Dimension::EducationLevel => &["higher", "secondary_vocational", "unknown"],
        Dimension::Category => &["highest", "first", "conformity", "methodologist", "mentor", "none"],
        Dimension::ExperienceBand => &["under_3", "3_5", "5_10", "10_20", "20_plus", "unknown"],
        Dimension::Funding => &["voucher", "state", "paid", "other", "none"],
        Dimension::TrainingStatus => &["trained", "overdue", "never"],
        Dimension::VoucherStatus => &["requested", "used", "active", "expired", "none"],
    })
}

/// The Russian label of a fixed key (territory and organisation names are resolved by the
/// service; a subject is its own label).
pub fn label_ru(d: Dimension, key: &str) -> String {
    let s = match (d, key) {
        (_, "unknown") => "не указано",
        (Dimension::OrgKind, "school") => "общеобразовательная организация",
        (Dimension::OrgKind, "kindergarten") => "дошкольная образовательная организация",
        (Dimension::OrgKind, "college") => "профессиональная образовательная организация",
        (Dimension::OrgKind, "additional") => "организация дополнительного образования",
        (Dimension::OrgKind, "dpo") => "организация ДПО",
        (Dimension::OrgKind, "university") => "образовательная организация высшего образования",
        (Dimension::OrgKind, "other") => "иная организация",
        (Dimension::Position, "teacher") => "учитель",
        (Dimension::Position, "head") => "руководитель",
        (Dimension::Position, "deputy_head") => "заместитель руководителя",
        (Dimension::Position, "psychologist") => "педагог-психолог",
        (Dimension::Position, "speech_therapist") => "учитель-логопед",
        (Dimension::Position, "tutor") => "тьютор",
        (Dimension::Position, "educator") => "воспитатель",
        (Dimension::Position, "methodist") => "методист",
        (Dimension::Position, "other") => "иная должность",
        (Dimension::Pedagogical, "yes") => "педагогическая должность",
        (Dimension::Pedagogical, "no") => "непедагогическая должность",
        (Dimension::Subject, "none") => "предмет не указан",
        (Dimension::AgeBand, "under_30") => "до 30 лет",
        (Dimension::AgeBand, "30_39") => "30–39 лет",
        (Dimension::AgeBand, "40_49") => "40–49 лет",
        (Dimension::AgeBand, "50_59") => "50–59 лет",
        (Dimension::AgeBand, "60_plus") => "60 лет и старше",
        (Dimension::EducationLevel, "higher") => "высшее образование",
        (Dimension::EducationLevel, "secondary_vocational") => "среднее профессиональное образование",
        (Dimension::Category, "highest") => "высшая категория",
        (Dimension::Category, "first") => "первая категория",
        (Dimension::Category, "conformity") => "соответствие занимаемой должности",
        (Dimension::Category, "methodologist") => "педагог-методист",
        (Dimension::Category, "mentor") => "педагог-наставник",
        (Dimension::Category, "none") => "без категории",
        (Dimension::ExperienceBand, "under_3") => "стаж до 3 лет",
        (Dimension::ExperienceBand, "3_5") => "стаж 3–5 лет",
        (Dimension::ExperienceBand, "5_10") => "стаж 5–10 лет",
        (Dimension::ExperienceBand, "10_20") => "стаж 10–20 лет",
        (Dimension::ExperienceBand, "20_plus") => "стаж 20 лет и более",
        (Dimension::Funding, "voucher") => "именной образовательный чек",
        (Dimension::Funding, "state") => "государственное задание",
        (Dimension::Funding, "paid") => "внебюджет",
        (Dimension::Funding, "other") => "вне региональной системы",
        (Dimension::Funding, "none") => "не обучался",
        (Dimension::TrainingStatus, "trained") => "обучен в пределах трёх лет",
        (Dimension::TrainingStatus, "overdue") => "срок повышения квалификации истёк",
        (Dimension::TrainingStatus, "never") => "не обучался",
        (Dimension::VoucherStatus, "requested") => "заявка на чек",
        (Dimension::VoucherStatus, "used") => "чек использован",
        (Dimension::VoucherStatus, "active") => "чек действует",
        (Dimension::VoucherStatus, "expired") => "срок чека истёк",
        (Dimension::VoucherStatus, "none") => "нет чека",
        _ => return key.to_string(),
    };
    s.to_string()
}

/// A filter: the rows whose value of `dimension` is one of `values`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filter {
    /// The dimension.
    pub dimension: Dimension,
    /// The keys kept.
    pub values: Vec<String>,
}

/// A slice to compute: the actor's scope, filters, a group-by, and the day it is computed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceSpec {
    /// The slice of the region.
    pub scope: Scope,
    /// Dimensions to group by, in order (none: one total row).
    pub group_by: Vec<Dimension>,
    /// Filters, all of which a row must pass.
    pub filters: Vec<Filter>,
    /// The day the report is for.
    pub today: NaiveDate,
    /// A training passed on or after this day is within the cycle (R-V11): see [`cutoff`].
    pub cutoff: NaiveDate,
}

impl SliceSpec {
    /// A slice on `today` under `policy`, with its filters checked (`input.invalid`).
    pub fn new(
        policy: &RegionPolicy,
        scope: Scope,
        group_by: Vec<Dimension>,
        filters: Vec<Filter>,
        today: NaiveDate,
    ) -> Result<Self> {
        if group_by.len() > 4 {
            return Err(Error::InvalidInput("a report groups by at most four dimensions".into()));
        }
        for (i, d) in group_by.iter().enumerate() {
            if group_by[..i].contains(d) {
                return Err(Error::InvalidInput(format!("{} is grouped by twice", d.as_str())));
            }
        }
        check_filters(&filters)?;
        Ok(SliceSpec { scope, group_by, filters, today, cutoff: cutoff(policy, today) })
    }
}

/// Checks filters (`input.invalid`): each keeps something, and every value is a key of its
/// dimension (an id for territory and organisation).
pub fn check_filters(filters: &[Filter]) -> Result<()> {
    for f in filters {
        if f.values.is_empty() {
            return Err(Error::InvalidInput(format!("the filter on {} keeps nothing", f.dimension.as_str())));
        }
        for v in &f.values {
            match keys(f.dimension) {
                Some(k) if !k.contains(&v.as_str()) => {
                    return Err(Error::InvalidInput(format!(
                        "{v:?} is not a value of {}: one of {}",
                        f.dimension.as_str(),
                        k.join(", ")
                    )));
                }
                None if matches!(f.dimension, Dimension::Territory | Dimension::Organisation)
                    && uuid::Uuid::parse_str(v).is_err() =>
                {
                    return Err(Error::InvalidInput(format!("{v:?} is not an id")));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// One group of a slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SliceRow {
    /// The group's keys, one per group-by dimension.
    pub key: Vec<String>,
    /// Workers in the group, each counted once.
    pub workers: u64,
    /// Hours of training passed within the cycle, summed over the group's rows.
    pub hours: u64,
}

/// R-V11: the first day a passed training still counts on `today`: the earliest `d` with
/// `d + cycle ≥ today` (month arithmetic as the rule's, so 29 Feb and month ends agree).
pub fn cutoff(policy: &RegionPolicy, today: NaiveDate) -> NaiveDate {
    let months = policy.training_cycle_months;
    let mut d = today.checked_sub_months(chrono::Months::new(months)).unwrap_or(NaiveDate::MIN);
    while let Some(prev) = d.pred_opt() {
        if RegionPolicy::add_months(prev, months) >= today {
            d = prev;
        } else {
            break;
        }
    }
    while RegionPolicy::add_months(d, months) < today {
        d = d.succ_opt().unwrap_or(d);
    }
    d
}

fn age_band(birth_year: Option<i32>, today: NaiveDate) -> &'static str {
    match birth_year.map(|y| today.year() - y) {
        None => "unknown",
        Some(a) if a < 30 => "under_30",
        Some(a) if a < 40 => "30_39",
        Some(a) if a < 50 => "40_49",
        Some(a) if a < 60 => "50_59",
        Some(_) => "60_plus",
    }
}

/// Full years from `since` to `today`.
pub fn full_years(since: NaiveDate, today: NaiveDate) -> i32 {
    let mut y = today.year() - since.year();
    if (today.month(), today.day()) < (since.month(), since.day()) {
        y -= 1;
    }
    y
}

fn experience_band(since: Option<NaiveDate>, today: NaiveDate) -> &'static str {
    match since.map(|s| full_years(s, today)) {
        None => "unknown",
        Some(y) if y < 3 => "under_3",
        Some(y) if y < 5 => "3_5",
        Some(y) if y < 10 => "5_10",
        Some(y) if y < 20 => "10_20",
        Some(_) => "20_plus",
    }
}

fn voucher_status(row: &StaffRow, today: NaiveDate) -> &'static str {
    if row.vouchers.iter().any(|v| v.status == VoucherStatus::Requested) {
        return "requested";
    }
    let last = row
        .vouchers
        .iter()
        .enumerate()
        .filter(|(_, v)| v.status == VoucherStatus::Issued)
        .max_by_key(|(i, v)| (v.issued_on, *i))
        .map(|(_, v)| v);
    let Some(v) = last else { return "none" };
    let used = row
        .voucher_enrollments
        .iter()
        .any(|e| e.voucher == Some(v.id) && matches!(e.status, EnrollmentStatus::Passed | EnrollmentStatus::Failed));
    if used {
        "used"
    } else if v.valid_until.is_some_and(|u| u >= today) {
        "active"
    } else {
        "expired"
    }
}

/// The key of a funding kind; `other` for trainings outside the region's funding.
pub fn funding_key(f: Option<Funding>) -> &'static str {
    match f {
        Some(Funding::Voucher) => "voucher",
        Some(Funding::State) => "state",
        Some(Funding::Paid) => "paid",
        None => "other",
    }
}

/// The key of `d` for a row on the spec's day.
pub fn key_of(d: Dimension, row: &StaffRow, spec: &SliceSpec) -> String {
    let e = &row.employment;
    let p = &row.person;
    let last = row.passed.iter().max_by_key(|t| t.completed_on);
    let s: &str = match d {
        Dimension::Territory => return row.territory.to_string(),
        Dimension::Organisation => return e.org.to_string(),
        Dimension::OrgKind => org_kind_key(row.org_kind),
        Dimension::Position => position_key(e.position),
        Dimension::Pedagogical => {
            if e.pedagogical {
                "yes"
            } else {
                "no"
            }
        }
        Dimension::Subject => return p.subject.clone().unwrap_or_else(|| "none".into()),
        Dimension::AgeBand => age_band(p.birth_year, spec.today),
        Dimension::EducationLevel => match p.education {
            Some(EducationLevel::Higher) => "higher",
            Some(EducationLevel::SecondaryVocational) => "secondary_vocational",
            None => "unknown",
        },
        Dimension::Category => match e.category {
            Some(Category::Highest) => "highest",
            Some(Category::First) => "first",
            Some(Category::Conformity) => "conformity",
            Some(Category::Methodologist) => "methodologist",
            Some(Category::Mentor) => "mentor",
            None => "none",
        },
        Dimension::ExperienceBand => experience_band(p.experience_since, spec.today),
        Dimension::Funding => match last {
            None => "none",
            Some(t) => funding_key(t.funding),
        },
        Dimension::TrainingStatus => match last {
            None => "never",
            Some(t) if t.completed_on >= spec.cutoff => "trained",
            Some(_) => "overdue",
        },
        Dimension::VoucherStatus => voucher_status(row, spec.today),
    };
    s.to_string()
}

/// The key of an organisation kind.
pub fn org_kind_key(k: OrgKind) -> &'static str {
    match k {
        OrgKind::School => "school",
        OrgKind::Kindergarten => "kindergarten",
        OrgKind::College => "college",
        OrgKind::Additional => "additional",
        OrgKind::Dpo => "dpo",
        OrgKind::University => "university",
        OrgKind::Other => "other",
    }
}

impl Dimension {
    /// The dimension's Russian title, for column headers.
    pub fn title_ru(self) -> &'static str {
        match self {
            Dimension::Territory => "Территория",
            Dimension::Organisation => "Организация",
            Dimension::OrgKind => "Тип организации",
            Dimension::Position => "Должность",
            Dimension::Pedagogical => "Педагогическая должность",
            Dimension::Subject => "Предмет",
            Dimension::AgeBand => "Возраст",
            Dimension::EducationLevel => "Уровень образования",
            Dimension::Category => "Квалификационная категория",
            Dimension::ExperienceBand => "Педагогический стаж",
            Dimension::Funding => "Источник финансирования",
            Dimension::TrainingStatus => "Повышение квалификации",
            Dimension::VoucherStatus => "Именной образовательный чек",
        }
    }
}

/// The key of a position.
pub fn position_key(p: Position) -> &'static str {
    match p {
        Position::Teacher => "teacher",
        Position::Head => "head",
        Position::DeputyHead => "deputy_head",
        Position::Psychologist => "psychologist",
        Position::SpeechTherapist => "speech_therapist",
        Position::Tutor => "tutor",
        Position::Educator => "educator",
        Position::Methodist => "methodist",
        Position::Other => "other",
    }
}

/// R-R1: the slice computed from a store's rows: only active employments inside the scope
/// the store was asked for, every filter applied, grouped and ordered by key.
///
/// A worker counts once in a group, and so do their hours, however many of their active
/// employments fall into it.
pub fn aggregate(rows: &[StaffRow], spec: &SliceSpec) -> Vec<SliceRow> {
    let mut groups: BTreeMap<Vec<String>, BTreeMap<crate::ids::PersonId, u64>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.employment.status == EmploymentStatus::Active) {
        if !spec.filters.iter().all(|f| f.values.contains(&key_of(f.dimension, row, spec))) {
            continue;
        }
        let key: Vec<String> = spec.group_by.iter().map(|d| key_of(*d, row, spec)).collect();
        let hours: u64 = row.passed.iter().filter(|t| t.completed_on >= spec.cutoff).map(|t| u64::from(t.hours)).sum();
        groups.entry(key).or_default().insert(row.employment.person, hours);
    }
    if spec.group_by.is_empty() && groups.is_empty() {
        // One total row, as an aggregate over no rows answers.
        groups.insert(Vec::new(), Default::default());
    }
    groups
        .into_iter()
        .map(|(key, persons)| SliceRow { key, workers: persons.len() as u64, hours: persons.values().sum() })
        .collect()
}
