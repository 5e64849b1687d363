//! Decisions about a worker's records beyond the account: personal data for the federal
//! registry (R-G6) and reports (R-R1), the attestation category, trainings entered from a
//! document, and reminders (each sent once, with a per-person opt-out).

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::decide::Ctx;
use crate::error::{Error, Result};
use crate::frdo::normalize_text;
use crate::ids::*;
use crate::model::*;
use crate::policy::RegionPolicy;
use crate::ports::{Change, StaffRow};

/// The personal data a [`crate::command::Command::SetProfile`] gives.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    /// Date of birth.
    pub birth_date: Option<NaiveDate>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Citizenship (OKSM).
    pub citizenship: Option<String>,
    /// The diploma.
    pub education: Option<EducationDoc>,
    /// The day pedagogical experience began.
    pub experience_since: Option<NaiveDate>,
}

fn text(field: &str, s: &str, max: usize) -> Result<String> {
    let t = normalize_text(s);
    if t.is_empty() {
        return Err(Error::InvalidInput(format!("{field} is empty")));
    }
    if t.chars().count() > max {
        return Err(Error::InvalidInput(format!("{field} is longer than {max} characters")));
    }
    Ok(t)
}

fn optional_text(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>> {
    match s.map(normalize_text) {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => text(field, &t, max).map(Some),
    }
}

/// R-G6, R-R1: checks and records personal data; every text is normalised (no-break spaces,
/// zero-width characters and tabs go) so the federal registry's loader never refuses what
/// kadry accepted. Refused: nothing given, a birth date before 1900 or under 14 years ago, an
/// OKSM code that is not three digits, an empty diploma surname or number, experience
/// starting in the future or before the age of 14.
pub fn set_profile(ctx: &Ctx<'_>, mut person: Person, input: ProfileInput) -> Result<Vec<Change>> {
    let ProfileInput { birth_date, sex, citizenship, education, experience_since } = input;
    if birth_date.is_none()
        && sex.is_none()
        && citizenship.is_none()
        && education.is_none()
        && experience_since.is_none()
    {
        return Err(Error::InvalidInput("nothing to record".into()));
    }
    let p = &mut person.profile;
    if let Some(b) = birth_date {
        let youngest = RegionPolicy::add_months(b, 14 * 12);
        if b.year() < 1900 || youngest > ctx.today {
            return Err(Error::InvalidInput(format!("birth date {b} is not a worker's")));
        }
        p.birth_date = Some(b);
        person.birth_year = Some(b.year());
    }
    if let Some(s) = sex {
        p.sex = Some(s);
    }
    if let Some(c) = citizenship {
        let c = normalize_text(&c);
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::InvalidInput(format!("citizenship {c:?} is not an OKSM code of three digits")));
        }
        p.citizenship = Some(c);
    }
    if let Some(e) = education {
        p.education = Some(EducationDoc {
            level: e.level,
            surname: text("the surname in the diploma", &e.surname, 100)?,
            series: optional_text("the diploma's series", e.series.as_deref(), 20)?,
            number: text("the diploma's number", &e.number, 40)?,
            qualification: optional_text("the qualification", e.qualification.as_deref(), 300)?,
        });
    }
    if let Some(since) = experience_since {
        let too_young = p.birth_date.is_some_and(|b| since < RegionPolicy::add_months(b, 14 * 12));
        if since > ctx.today || too_young {
            return Err(Error::InvalidInput(format!("experience cannot start on {since}")));
        }
        p.experience_since = Some(since);
    }
    Ok(vec![Change::PutPerson(person)])
}

/// Records the attestation category of the worker's current position.
pub fn set_category(employments: &[Employment], category: Option<Category>) -> Result<Vec<Change>> {
    let e = crate::decide::current_employment(employments).ok_or(Error::EmploymentNone)?;
    if e.category == category {
        return Ok(Vec::new());
    }
    Ok(vec![Change::PutEmployment(Employment { category, ..e.clone() })])
}

/// A training entered from a document.
#[derive(Debug, Clone)]
pub struct EnteredTraining {
    /// `external` or `paper`.
    pub source: TrainingSource,
    /// Title.
    pub program_title: String,
    /// Provider's name.
    pub provider_name: String,
    /// Hours.
    pub hours: u32,
    /// First day.
    pub started_on: Option<NaiveDate>,
    /// Last day.
    pub completed_on: NaiveDate,
    /// The document's series and number.
    pub document: String,
}

/// The fewest hours of a qualification-upgrade program (273-ФЗ art. 76; приказ Минобрнауки
/// № 499, p. 12: «не может быть менее 16 часов»).
pub const MIN_HOURS: u32 = 16;

/// R-G6, R-V11: a training outside the region's funding, or a paper record, entered by the
/// territory operator from the document. It counts for the three-year floor like any passed
/// training; it carries no certificate of kadry's and no funding.
pub fn record_training(ctx: &Ctx<'_>, worker: PersonId, t: EnteredTraining) -> Result<Vec<Change>> {
    if t.source == TrainingSource::Group {
        return Err(Error::InvalidInput("a group's results are recorded by its provider".into()));
    }
    if !(MIN_HOURS..=2000).contains(&t.hours) {
        return Err(Error::InvalidInput(format!(
            "{} hours: a qualification upgrade takes {MIN_HOURS} to 2000",
            t.hours
        )));
    }
    if t.completed_on > ctx.today || t.completed_on.year() < 1990 {
        return Err(Error::InvalidInput(format!("the training cannot end on {}", t.completed_on)));
    }
    if t.started_on.is_some_and(|s| s > t.completed_on) {
        return Err(Error::InvalidInput("the training ends before it starts".into()));
    }
    Ok(vec![Change::AddTraining(TrainingRecord {
        person: worker,
        group: None,
        program: None,
        program_title: text("the program's title", &t.program_title, 500)?,
        provider: None,
        hours: t.hours,
        completed_on: t.completed_on,
        passed: true,
        certificate: None,
        statement: None,
        completed: true,
        reason: None,
        attended_hours: None,
        funding: None,
        source: t.source,
        started_on: t.started_on,
        document: Some(text("the document's series and number", &t.document, 60)?),
        provider_name: Some(text("the provider's name", &t.provider_name, 500)?),
    })])
}

/// Turns reminders on or off.
pub fn set_reminders(mut person: Person, enabled: bool) -> Vec<Change> {
    if person.profile.reminders_off != enabled {
        return Vec::new();
    }
    person.profile.reminders_off = !enabled;
    vec![Change::PutPerson(person)]
}

/// A reminder due today, with the id that makes it once-only: the same reminder (kind,
/// recipient, what it is about, threshold) always has the same id, and a store holds an id once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// Its id.
    pub id: Uuid,
    /// The recipient.
    pub person: PersonId,
    /// Its kind.
    pub kind: NotificationKind,
    /// The text, in Russian.
    pub details_ru: String,
}

fn reminder_id(kind: NotificationKind, person: PersonId, about: &str, threshold: i64) -> Uuid {
    let name = format!("{}|{person}|{about}|{threshold}", kind.as_str());
    Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes())
}

/// The tightest threshold `days_left` has reached (thresholds in days, any order).
fn threshold(days_left: i64, thresholds: &[u32]) -> Option<i64> {
    thresholds.iter().map(|t| i64::from(*t)).filter(|t| days_left >= 0 && days_left <= *t).min()
}

/// The reminders due on `today` for the rows of the region: a voucher still usable with 90,
/// 30 or 7 days left; the three-year floor (R-V11) 90 or 30 days away for an active
/// pedagogical worker. Only the tightest threshold reached is sent, so a missed day sends one
/// reminder, not three. People who opted out get none.
pub fn worker_reminders(policy: &RegionPolicy, rows: &[StaffRow], today: NaiveDate) -> Vec<Reminder> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in rows.iter().filter(|r| r.employment.status == EmploymentStatus::Active && !r.person.reminders_off) {
        let person = r.employment.person;
        if !seen.insert(person) {
            continue;
        }
        for v in &r.vouchers {
            let Some(until) = v.valid_until else { continue };
            if !crate::decide::voucher_active(v, &r.voucher_enrollments, today) {
                continue;
            }
            let left = (until - today).num_days();
            if let Some(t) = threshold(left, &policy.reminders.voucher_days) {
                out.push(Reminder {
                    id: reminder_id(NotificationKind::VoucherExpiring, person, &v.id.to_string(), t),
                    person,
                    kind: NotificationKind::VoucherExpiring,
                    details_ru: format!(
                        "Именной образовательный чек действует до {}: осталось дней — {left}. Запишитесь в группу, \
                         пока чек действует.",
                        until.format("%d.%m.%Y")
                    ),
                });
            }
        }
        if r.employment.pedagogical
            && let Some(last) = r.last_passed_on
        {
            let due = RegionPolicy::add_months(last, policy.training_cycle_months);
            let left = (due - today).num_days();
            if let Some(t) = threshold(left, &policy.reminders.floor_days) {
                out.push(Reminder {
                    id: reminder_id(NotificationKind::FloorApproaching, person, &last.to_string(), t),
                    person,
                    kind: NotificationKind::FloorApproaching,
                    details_ru: format!(
                        "Последнее повышение квалификации завершено {}; следующее нужно пройти до {} \
                             (ст. 47 273-ФЗ).",
                        last.format("%d.%m.%Y"),
                        due.format("%d.%m.%Y")
                    ),
                });
            }
        }
    }
    out
}

/// R-V4: a reminder to each operator of every application past its approval deadline, once
/// per application and operator.
pub fn approval_reminders(rows: &[StaffRow], operators: &[(PersonId, bool)], today: NaiveDate) -> Vec<Reminder> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in rows {
        for v in r.vouchers.iter().filter(|v| v.status == VoucherStatus::Requested) {
            let Some(by) = v.approve_by.filter(|by| *by < today) else { continue };
            if !seen.insert(v.id) {
                continue;
            }
            for (op, off) in operators {
                if *off {
                    continue;
                }
                out.push(Reminder {
                    id: reminder_id(NotificationKind::ApprovalOverdue, *op, &v.id.to_string(), 0),
                    person: *op,
                    kind: NotificationKind::ApprovalOverdue,
                    details_ru: format!(
                        "Заявка на именной образовательный чек от {} ждёт решения; срок истёк {}.",
                        v.requested_on.map(|d| d.format("%d.%m.%Y").to_string()).unwrap_or_default(),
                        by.format("%d.%m.%Y")
                    ),
                });
            }
        }
    }
    out
}

/// The changes that send `due` reminders, skipping those already sent (`sent` holds the ids of
/// the recipients' notifications).
pub fn send(ctx: &Ctx<'_>, due: Vec<Reminder>, sent: &std::collections::HashSet<Uuid>) -> Vec<Change> {
    due.into_iter()
        .filter(|r| !sent.contains(&r.id))
        .map(|r| {
            Change::Notify(Notification {
                id: NotificationId(r.id),
                person: r.person,
                kind: r.kind,
                at: ctx.now,
                details_ru: r.details_ru,
            })
        })
        .collect()
}
