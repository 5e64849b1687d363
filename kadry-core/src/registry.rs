//! R-G6: the registry of those trained (реестр обученных) — per group for the provider, per
//! period for the ministry, a territory or an organisation — and the ФИС ФРДО record of each
//! issued certificate.
//!
//! Pure: the service reads the records and the people, these functions build the lines.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::frdo::{self, Field, FrdoRecord};
use crate::ids::{GroupId, OrgId, PersonId, ProgramId, TerritoryId};
use crate::model::{
    EducationLevel, Employment, Funding, Group, Organisation, Person, Position, Program, Sex, TrainingRecord,
    TrainingSource,
};
use crate::planning::StudyForm;

/// How a listener finished (R-G6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// Passed the final attestation: a certificate.
    Passed,
    /// Failed it: a statement.
    Failed,
    /// Did not complete the program: a statement, with the reason the provider gave.
    NotCompleted,
}

impl Finish {
    /// How `record` finished.
    pub fn of(record: &TrainingRecord) -> Self {
        if record.passed {
            Finish::Passed
        } else if record.completed {
            Finish::Failed
        } else {
            Finish::NotCompleted
        }
    }

    /// The Russian label, for registries.
    pub fn label_ru(self) -> &'static str {
        match self {
            Finish::Passed => "освоил, выдано удостоверение",
            Finish::Failed => "не прошёл итоговую аттестацию, выдана справка",
            Finish::NotCompleted => "не завершил обучение, выдана справка",
        }
    }
}

/// Where a worker was employed when they trained, for a registry line and its scope.
#[derive(Debug, Clone, Copy, Default)]
pub struct Workplace<'a> {
    /// The employment current on the training's last day (else the latest one).
    pub employment: Option<&'a Employment>,
    /// Its organisation.
    pub org: Option<&'a Organisation>,
}

/// The employment current on `day`: begun by then and not ended before it; else the latest
/// begun one; else none.
pub fn employment_on(employments: &[Employment], day: NaiveDate) -> Option<&Employment> {
    let begun = || employments.iter().filter(|e| e.since <= day);
    begun()
        .filter(|e| e.until.is_none_or(|u| u >= day))
        .max_by_key(|e| e.since)
        .or_else(|| begun().max_by_key(|e| e.since))
        .or_else(|| employments.iter().min_by_key(|e| e.since))
}

/// One line of a registry of those trained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistryLine {
    /// The listener.
    pub person: PersonId,
    /// Their full name.
    pub full_name: String,
    /// Their organisation when they trained.
    pub org: Option<OrgId>,
    /// Its name.
    pub org_name: Option<String>,
    /// Its territory.
    pub territory: Option<TerritoryId>,
    /// Their position.
    pub position: Option<Position>,
    /// The program, for trainings run in kadry.
    pub program: Option<ProgramId>,
    /// The program's title.
    pub program_title: String,
    /// Hours.
    pub hours: u32,
    /// Hours attended, where the provider recorded them.
    pub attended_hours: Option<u32>,
    /// The group, for trainings run in kadry.
    pub group: Option<GroupId>,
    /// The provider, for trainings run in kadry.
    pub provider: Option<OrgId>,
    /// The provider's name.
    pub provider_name: Option<String>,
    /// The first day, when known.
    pub starts: Option<NaiveDate>,
    /// The last day.
    pub ends: NaiveDate,
    /// How the listener finished.
    pub finish: Finish,
    /// Why they did not complete, as the provider reported it.
    pub reason: Option<String>,
    /// The document: the certificate's series and number, the statement's number, or the
    /// document an external or paper record was entered from.
    pub document: Option<String>,
    /// When the document was issued.
    pub issued_on: Option<NaiveDate>,
    /// How the training was paid for.
    pub funding: Option<Funding>,
    /// Where the record came from.
    pub source: TrainingSource,
}

/// A registry of those trained: a group's or a period's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistryView {
    /// Lines.
    pub count: usize,
    /// Passed: certificates.
    pub passed: usize,
    /// Failed the final attestation.
    pub failed: usize,
    /// Did not complete.
    pub not_completed: usize,
    /// Hours of the passed trainings.
    pub hours: u64,
    /// The lines, by last day, then name.
    pub lines: Vec<RegistryLine>,
}

impl RegistryView {
    /// Counts the lines and orders them by last day, then name, then person.
    pub fn new(mut lines: Vec<RegistryLine>) -> Self {
        lines.sort_by(|a, b| {
            (a.ends, &a.full_name, a.person, &a.document).cmp(&(b.ends, &b.full_name, b.person, &b.document))
        });
        let of = |f: Finish| lines.iter().filter(|l| l.finish == f).count();
        RegistryView {
            count: lines.len(),
            passed: of(Finish::Passed),
            failed: of(Finish::Failed),
            not_completed: of(Finish::NotCompleted),
            hours: lines.iter().filter(|l| l.finish == Finish::Passed).map(|l| u64::from(l.hours)).sum(),
            lines,
        }
    }
}

/// The registry line of one record.
pub fn line(
    record: &TrainingRecord,
    person: &Person,
    at: Workplace<'_>,
    group: Option<&Group>,
    provider: Option<&Organisation>,
) -> RegistryLine {
    let (document, issued_on) = match (&record.certificate, &record.statement) {
        (Some(c), _) => (Some(format!("{} {}", c.series, c.number)), Some(c.issued_on)),
        (None, Some(s)) => (Some(s.number.clone()), Some(s.issued_on)),
        (None, None) => (record.document.clone(), None),
    };
    RegistryLine {
        person: person.id,
        full_name: person.full_name.as_str().to_string(),
        org: at.org.map(|o| o.id),
        org_name: at.org.map(|o| o.name.clone()),
        territory: at.org.map(|o| o.territory),
        position: at.employment.map(|e| e.position),
        program: record.program,
        program_title: record.program_title.clone(),
        hours: record.hours,
        attended_hours: record.attended_hours,
        group: record.group,
        provider: record.provider,
        provider_name: provider.map(|p| p.name.clone()).or_else(|| record.provider_name.clone()),
        starts: record.started_on.or_else(|| group.map(|g| g.starts)),
        ends: record.completed_on,
        finish: Finish::of(record),
        reason: record.reason.clone(),
        document,
        issued_on,
        funding: record.funding.or_else(|| group.map(|g| g.funding)),
        source: record.source,
    }
}

/// A certificate kadry issued that cannot be exported yet: the ФИС ФРДО columns its holder's
/// profile still lacks (R-G6). The profile is completed with `SetProfile`; nothing is
/// guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FrdoMissing {
    /// The holder.
    pub person: PersonId,
    /// Their full name.
    pub full_name: String,
    /// The certificate's series.
    pub series: String,
    /// The certificate's number.
    pub number: String,
    /// The titles of the columns without a value, as the template names them.
    pub columns: Vec<String>,
}

/// The certificates of a period in the ФИС ФРДО template: those ready and those whose
/// holders' data are incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FrdoView {
    /// The template's version.
    pub template: String,
    /// The records ready for the upload, by issue day, then number.
    pub records: Vec<FrdoRecord>,
    /// The certificates left out, and why.
    pub missing: Vec<FrdoMissing>,
}

/// ФИС ФРДО's form of study for kadry's (column 28): in person → «Очная», blended →
/// «Очно-заочная», distance → «Заочная» (distance courses are registered as extramural study
/// with distance technologies). A program without a form is in person.
pub fn frdo_form(form: Option<StudyForm>) -> frdo::StudyForm {
    match form {
        None | Some(StudyForm::InPerson) => frdo::StudyForm::FullTime,
        Some(StudyForm::Blended) => frdo::StudyForm::PartTime,
        Some(StudyForm::Distance) => frdo::StudyForm::Extramural,
    }
}

/// ФИС ФРДО's funding source (column 29): vouchers and the state assignment are the region's
/// budget; paid groups are paid.
pub fn frdo_funding(funding: Funding) -> frdo::FundingSource {
    match funding {
        Funding::Voucher | Funding::State => frdo::FundingSource::RegionalBudget,
        Funding::Paid => frdo::FundingSource::Paid,
    }
}

/// The ФИС ФРДО record of a certificate kadry issued (R-G6), or the columns the holder's
/// profile lacks. Records without a certificate (statements, external and paper trainings)
/// are not kadry's to upload: `None`.
pub fn frdo_record(
    record: &TrainingRecord,
    person: &Person,
    program: Option<&Program>,
    group: Option<&Group>,
) -> Option<Result<FrdoRecord, FrdoMissing>> {
    let cert = record.certificate.as_ref()?;
    if record.source != TrainingSource::Group {
        return None;
    }
    let p = &person.profile;
    let mut missing: Vec<Field> = Vec::new();
    if p.education.is_none() {
        missing.extend([Field::EducationLevel, Field::DiplomaSurname, Field::DiplomaNumber]);
    }
    if p.birth_date.is_none() {
        missing.push(Field::BirthDate);
    }
    if p.sex.is_none() {
        missing.push(Field::Sex);
    }
    if p.citizenship.is_none() {
        missing.push(Field::Citizenship);
    }
    let funding = record.funding.or_else(|| group.map(|g| g.funding));
    if funding.is_none() {
        missing.push(Field::FundingSource);
    }
    let (Some(education), Some(birth_date), Some(sex), Some(citizenship), Some(funding), true) =
        (&p.education, p.birth_date, p.sex, &p.citizenship, funding, missing.is_empty())
    else {
        return Some(Err(FrdoMissing {
            person: person.id,
            full_name: person.full_name.as_str().to_string(),
            series: cert.series.clone(),
            number: cert.number.clone(),
            columns: missing.iter().map(|f| f.title().to_string()).collect(),
        }));
    };
    let starts = record.started_on.or_else(|| group.map(|g| g.starts)).unwrap_or(record.completed_on);
    let name = &person.full_name;
    let out = FrdoRecord {
        document_kind: frdo::DocumentKind::QualificationUpgrade,
        status: frdo::DocumentStatus::Original,
        series: cert.series.clone(),
        number: cert.number.clone(),
        issue_date: cert.issued_on,
        registration_number: cert.number.clone(),
        program_kind: frdo::ProgramKind::QualificationUpgrade,
        program_title: frdo::normalize_text(&record.program_title),
        activity_field: None,
        speciality_group: None,
        qualification: None,
        education_level: match education.level {
            EducationLevel::Higher => frdo::EducationLevel::Higher,
            EducationLevel::SecondaryVocational => frdo::EducationLevel::SecondaryVocational,
        },
        diploma_surname: education.surname.clone(),
        diploma_series: education.series.clone(),
        diploma_number: education.number.clone(),
        start_year: starts.year(),
        end_year: record.completed_on.year(),
        hours: record.hours,
        surname: name.surname().to_string(),
        given_name: name.given_name().to_string(),
        patronymic: name.patronymic().map(str::to_string),
        birth_date,
        sex: match sex {
            Sex::Male => frdo::Sex::Male,
            Sex::Female => frdo::Sex::Female,
        },
        snils: person.snils.clone(),
        study_form: frdo_form(program.and_then(|p| p.form)),
        funding_source: frdo_funding(funding),
        study_place: frdo::StudyPlace::InOrganisation,
        citizenship: citizenship.clone(),
        original: None,
    };
    // Entry checks make this pass for every record kadry accepted; should one slip through,
    // the certificate is listed with the columns at fault instead of breaking the upload.
    Some(out.validate().map(|()| out).map_err(|errors| FrdoMissing {
        person: person.id,
        full_name: person.full_name.as_str().to_string(),
        series: cert.series.clone(),
        number: cert.number.clone(),
        columns: errors.iter().map(|e| e.to_string()).collect(),
    }))
}
