//! The domain model: territories, organisations, persons and their accounts, employment, roles,
//! programs, groups, enrolments, vouchers, training records and notifications.
//!
//! These are plain data. Rules live in [`crate::decide`]; storage adapters persist these types
//! as they are.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::*;
use crate::types::{Email, FullName, Snils};

/// A territory: a municipal education authority (территориальное управление).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Territory {
    /// Its id.
    pub id: TerritoryId,
    /// Its name.
    pub name: String,
}

/// The kind of an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// A general-education school.
    School,
    /// A preschool (детский сад).
    Kindergarten,
    /// A college (СПО); may be a provider.
    College,
    /// Additional education for children (дополнительное образование).
    Additional,
    /// A provider of additional professional education (ДПО).
    Dpo,
    /// A university; may be a provider.
    University,
    /// Anything else.
    Other,
}

impl OrgKind {
    /// Whether organisations of this kind may hold a licence and train (R-P3).
    pub fn may_provide(self) -> bool {
        matches!(self, OrgKind::Dpo | OrgKind::University | OrgKind::College)
    }
}

/// Who owns an organisation (R-P4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// Under federal authority.
    Federal,
    /// Under the region's authority (the default).
    #[default]
    Regional,
    /// Under a municipality.
    Municipal,
    /// Private.
    Private,
}

/// A provider's educational licence (R-P3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct License {
    /// The licence number; also the series of the provider's certificates.
    pub number: String,
    /// The last day the licence is valid; `None` for a licence without an end (the usual case
    /// since 2021).
    pub valid_until: Option<NaiveDate>,
    /// The day it was issued (002 §4.1: «лицензия с указанием номера и даты выдачи, срока
    /// действия»); a group may not start before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<NaiveDate>,
}

/// An organisation: a school, kindergarten, provider, or a structural subdivision of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    /// Its id.
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: OrgKind,
    /// The territory it belongs to.
    pub territory: TerritoryId,
    /// For a structural subdivision (R-A12): the organisation it belongs to.
    pub parent: Option<OrgId>,
    /// A provider's licence.
    pub license: Option<License>,
    /// Who owns it (R-P4).
    pub ownership: Ownership,
    /// The day it was reorganised into another or liquidated (R-E5); kept for history.
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
}

/// A position (должность) a worker holds and trains for (R-E4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Учитель.
    Teacher,
    /// Руководитель.
    Head,
    /// Заместитель руководителя.
    DeputyHead,
    /// Педагог-психолог.
    Psychologist,
    /// Учитель-логопед.
    SpeechTherapist,
    /// Тьютор.
    Tutor,
    /// Воспитатель.
    Educator,
    /// Методист.
    Methodist,
    /// Any other position.
    Other,
}

/// A list of values an audience is restricted to, or all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Audience<T> {
    /// Every value matches (`["all"]`).
    All,
    /// Only these values match; an empty list matches nothing.
    Only(Vec<T>),
}

impl<T: PartialEq> Audience<T> {
    /// Whether `value` is in the audience.
    pub fn contains(&self, value: &T) -> bool {
        match self {
            Audience::All => true,
            Audience::Only(v) => v.contains(value),
        }
    }
}

/// A pending change of a person's personal data (R-A8), applied when confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonChange {
    /// A new full name.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub full_name: Option<FullName>,
    /// A new email.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub email: Option<Email>,
    /// A new SNILS.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub snils: Option<Snils>,
    /// A new subject taught.
    pub subject: Option<String>,
    /// The day the change was proposed: unconfirmed after 10 working days it shows in the
    /// report of overdue confirmations (R-A11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
}

impl PersonChange {
    /// Whether the change changes nothing.
    pub fn is_empty(&self) -> bool {
        self.full_name.is_none() && self.email.is_none() && self.snils.is_none() && self.subject.is_none()
    }
}

/// A person and their account: one for life in the region (R-A1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// Their id.
    pub id: PersonId,
    /// Full name.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub full_name: FullName,
    /// Personal, unique email (R-A2).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub email: Email,
    /// Whether the email was confirmed (R-A5).
    pub email_confirmed: bool,
    /// SNILS, unique where given (R-A3).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub snils: Option<Snils>,
    /// The subject taught, e.g. "math".
    pub subject: Option<String>,
    /// Year of birth (for age bands in reports).
    pub birth_year: Option<i32>,
    /// When consent to personal data processing was given (R-A4).
    pub consent_at: DateTime<Utc>,
    /// A change awaiting confirmation (R-A8).
    pub pending_change: Option<PersonChange>,
    /// When the account was created.
    pub registered_at: DateTime<Utc>,
    /// What the federal registry (ФИС ФРДО) and the reports need beyond the account, entered
    /// and checked when given (R-G6, R-R1).
    #[serde(default, skip_serializing_if = "Profile::is_empty")]
    pub profile: Profile,
}

/// A person's sex, as the federal registry records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Мужской.
    Male,
    /// Женский.
    Female,
}

/// The level of a worker's own vocational education (уровень образования).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EducationLevel {
    /// Высшее образование (ВО).
    Higher,
    /// Среднее профессиональное образование (СПО).
    SecondaryVocational,
}

/// The worker's diploma of higher or secondary vocational education: ДПО is open only to
/// holders of one (273-ФЗ art. 76 p. 3), and the federal registry records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EducationDoc {
    /// Its level.
    pub level: EducationLevel,
    /// The surname written in the diploma (it may differ from today's).
    pub surname: String,
    /// The diploma's series, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// The diploma's number.
    pub number: String,
    /// The qualification, profession or speciality it names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<String>,
}

/// Personal data for the federal registry and for reports in any slice (R-G6, R-R1), kept
/// beside the account. Every text is normalised and checked when entered, so an export never
/// fails on a record kadry accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    /// Citizenship as an OKSM country code (643 — Russia).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizenship: Option<String>,
    /// The diploma of vocational education.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub education: Option<EducationDoc>,
    /// The day pedagogical experience began (for experience bands in reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experience_since: Option<NaiveDate>,
    /// The person asked for no reminders (R-R1 reminders keep a per-person opt-out).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reminders_off: bool,
}

impl Profile {
    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        *self == Profile::default()
    }
}

/// A qualification category from the worker's last attestation (аттестация педагогических
/// работников).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Соответствие занимаемой должности.
    Conformity,
    /// Первая квалификационная категория.
    First,
    /// Высшая квалификационная категория.
    Highest,
    /// Педагог-методист.
    Methodologist,
    /// Педагог-наставник.
    Mentor,
}

/// The state of an employment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EmploymentStatus {
    /// Awaiting confirmation by the organisation's responsible (R-A7, R-E2, R-E3).
    Pending,
    /// On the staff list.
    Active,
    /// Left the staff list (R-E1, R-E2); kept in history (R-A11).
    Dismissed,
}

/// A person's workplace at an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Employment {
    /// Its id.
    pub id: EmploymentId,
    /// The worker.
    pub person: PersonId,
    /// The organisation.
    pub org: OrgId,
    /// The position trained for (R-E4).
    pub position: Position,
    /// Whether the position is pedagogical (R-V1).
    pub pedagogical: bool,
    /// Its state.
    pub status: EmploymentStatus,
    /// The day it started (or was claimed).
    pub since: NaiveDate,
    /// The day it ended, if dismissed.
    pub until: Option<NaiveDate>,
    /// On parental leave (отпуск по уходу за ребёнком): eligibility for planned training is a
    /// policy choice (`RegionPolicy::eligibility_includes_parental_leave`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parental_leave: bool,
    /// The qualification category from the last attestation in this position; none when not
    /// attested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
}

impl Employment {
    /// Whether this is the person's current workplace (active or pending).
    pub fn is_current(&self) -> bool {
        self.status != EmploymentStatus::Dismissed
    }
}

/// The eight roles of the catalogue; every account holds [`Role::Worker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Работник образования; scope: self.
    Worker,
    /// Ответственный работник ОО; scope: one organisation.
    OrgResponsible,
    /// Руководитель ОО; scope: one organisation.
    OrgHead,
    /// Работник территориального управления; scope: one territory.
    Territory,
    /// Работник организации-организатора курсов; scope: one provider organisation.
    Provider,
    /// Экспертный совет; scope: region.
    Expert,
    /// Министерство; scope: region (read all, approve).
    Ministry,
    /// Оператор АИС; scope: region (administers).
    Operator,
}

impl Role {
    /// All roles, in catalogue order.
    pub const ALL: [Role; 8] = [
        Role::Worker,
        Role::OrgResponsible,
        Role::OrgHead,
        Role::Territory,
        Role::Provider,
        Role::Expert,
        Role::Ministry,
        Role::Operator,
    ];

    /// The catalogue's identifier, e.g. `org_responsible`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::OrgResponsible => "org_responsible",
            Role::OrgHead => "org_head",
            Role::Territory => "territory",
            Role::Provider => "provider",
            Role::Expert => "expert",
            Role::Ministry => "ministry",
            Role::Operator => "operator",
        }
    }

    /// The kind of scope the role is granted for.
    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::Worker => ScopeKind::Own,
            Role::OrgResponsible | Role::OrgHead | Role::Provider => ScopeKind::Organisation,
            Role::Territory => ScopeKind::Territory,
            Role::Expert | Role::Ministry | Role::Operator => ScopeKind::Region,
        }
    }
}

/// What kind of scope a role takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// The person themself.
    Own,
    /// One organisation.
    Organisation,
    /// One territory.
    Territory,
    /// The whole region.
    Region,
}

/// The scope a role is granted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The whole region.
    Region,
    /// One territory.
    Territory(TerritoryId),
    /// One organisation (for `provider`: the provider organisation).
    Organisation(OrgId),
}

/// A role granted to a person on a basis document (001 §2.4, §2.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleGrant {
    /// The holder.
    pub person: PersonId,
    /// The role.
    pub role: Role,
    /// Its scope.
    pub scope: Scope,
    /// The order it is granted on, e.g. "приказ № 12 от 01.09.2024".
    pub basis: String,
    /// When it was granted.
    pub granted_at: DateTime<Utc>,
    /// Suspended after a change of the holder's personal data (R-A9).
    pub suspended: bool,
}

/// A person's request for a role, awaiting the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleRequest {
    /// The requester.
    pub person: PersonId,
    /// The role.
    pub role: Role,
    /// Its scope.
    pub scope: Scope,
    /// The basis document.
    pub basis: String,
    /// When it was requested.
    pub requested_at: DateTime<Utc>,
}

/// Whether a program has passed expertise (R-P1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProgramStatus {
    /// Submitted, awaiting expertise.
    Submitted,
    /// Recommended for the registry by the expert council (R-W3), awaiting the ministry.
    Recommended,
    /// Not recommended by the expert council (or failed an expertise stage).
    Rejected,
    /// Passed expertise (in Tatarstan: in the approved registry): published, may get groups.
    Approved,
}

/// An additional professional program (R-P2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Program {
    /// Its id.
    pub id: ProgramId,
    /// The provider organisation.
    pub provider: OrgId,
    /// Its title.
    pub title: String,
    /// Hours.
    pub hours: u32,
    /// The annotation shown in the catalogue (R-P2).
    #[serde(default)]
    pub annotation: Option<String>,
    /// Positions it is meant for.
    pub positions: Audience<Position>,
    /// Positions it is profile for (R-V7).
    pub profile_for: Audience<Position>,
    /// Organisation kinds it is meant for.
    pub org_kinds: Audience<OrgKind>,
    /// Subjects it is meant for.
    pub subjects: Audience<String>,
    /// The planning year it is offered for (R-W1); `None` for an out-of-plan program.
    pub year: Option<i32>,
    /// Expertise state.
    pub status: ProgramStatus,
    /// The direction it belongs to (the registry is ordered by direction, R-W3 stage 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// The smallest group forming may make (R-W4); the policy's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_group: Option<u32>,
    /// The largest group forming may make (R-W4); the policy's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_group: Option<u32>,
    /// Places offered for its planning year (the state assignment); as many as applied when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<u32>,
    /// Expertise conclusions and the council's protocol (R-W3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expertise: Option<crate::planning::Expertise>,
    /// The form of study (for the federal registry); in person when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<crate::planning::StudyForm>,
}

impl Program {
    /// How many voucher blocks of `block_hours` the program takes: `ceil(hours / block_hours)`.
    pub fn blocks(&self, block_hours: u32) -> u32 {
        self.hours.div_ceil(block_hours.max(1))
    }
}

/// How a group is paid for (R-V9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    /// By named education vouchers.
    Voucher,
    /// By the state assignment (госзадание).
    State,
    /// Paid (внебюджет).
    Paid,
}

/// The status of a group as shown to users; derived from its dates and results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupStatus {
    /// Before its start: taking enrolments.
    Recruiting,
    /// Started, results not yet recorded.
    InProgress,
    /// Results recorded.
    Completed,
    /// Cancelled by the provider.
    Cancelled,
}

/// A study group of a program (R-G1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    /// Its id.
    pub id: GroupId,
    /// The program.
    pub program: ProgramId,
    /// The provider (the program's).
    pub provider: OrgId,
    /// First day.
    pub starts: NaiveDate,
    /// Last day.
    pub ends: NaiveDate,
    /// Place of study.
    pub place: String,
    /// Seats (R-G3).
    pub capacity: u32,
    /// Seats taken: kept by the store with a conditional update, never above `capacity`.
    pub taken: u32,
    /// Funding kind.
    pub funding: Funding,
    /// The day results were recorded.
    pub completed_on: Option<NaiveDate>,
    /// Whether the provider cancelled it.
    pub cancelled: bool,
    /// For a group formed from applications (R-W4): its line of the plan-schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<GroupPlan>,
}

/// A formed group's line of the plan-schedule (R-W2, R-W4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupPlan {
    /// The planning year.
    pub year: i32,
    /// The place of study (municipality).
    pub place: TerritoryId,
    /// The quarter, 1–4.
    pub period: u8,
}

impl Group {
    /// The status on `today`.
    pub fn status(&self, today: NaiveDate) -> GroupStatus {
        if self.cancelled {
            GroupStatus::Cancelled
        } else if self.completed_on.is_some() {
            GroupStatus::Completed
        } else if today >= self.starts {
            GroupStatus::InProgress
        } else {
            GroupStatus::Recruiting
        }
    }
}

/// The state of an enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentStatus {
    /// Holds a seat (and voucher blocks).
    Enrolled,
    /// Removed (R-G5): seat and blocks freed; kept in history.
    Removed,
    /// Completed with a pass: blocks consumed, certificate issued.
    Passed,
    /// Completed with a fail: blocks consumed, statement issued.
    Failed,
    /// Not listed at completion: did not complete; blocks freed.
    NotCompleted,
}

impl EnrollmentStatus {
    /// Whether the enrolment holds a seat or voucher blocks (reserved or consumed).
    pub fn holds_blocks(self) -> bool {
        matches!(self, EnrollmentStatus::Enrolled | EnrollmentStatus::Passed | EnrollmentStatus::Failed)
    }
}

/// An enrolment of a worker in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Enrollment {
    /// Its id.
    pub id: EnrollmentId,
    /// The group.
    pub group: GroupId,
    /// The worker.
    pub person: PersonId,
    /// The voucher it is paid by, for voucher-funded groups.
    pub voucher: Option<VoucherId>,
    /// Voucher blocks it holds (R-V8).
    pub blocks: u32,
    /// Of those, blocks profile for the worker's position (R-V7).
    pub profile_blocks: u32,
    /// Confirmed by the provider (R-G5).
    pub confirmed: bool,
    /// Its state.
    pub status: EnrollmentStatus,
    /// When it was made.
    pub enrolled_at: DateTime<Utc>,
    /// The amount committed against the state-assignment limit when forming placed the worker
    /// (R-F1); released on removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub committed: Option<crate::planning::Money>,
}

/// The state of a voucher record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VoucherStatus {
    /// Applied for, awaiting the operator (R-V3, R-V4).
    Requested,
    /// Rejected; does not count for R-V2.
    Rejected,
    /// Issued (electronic or paper).
    Issued,
    /// Cancelled by the operator (a duplicate or a mistake); stops counting for R-V2 (R-V10).
    Cancelled,
}

/// A named education voucher (ИОЧ) or an application for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Voucher {
    /// Its id.
    pub id: VoucherId,
    /// The worker.
    pub person: PersonId,
    /// Its state.
    pub status: VoucherStatus,
    /// The application day (none for a paper voucher).
    pub requested_on: Option<NaiveDate>,
    /// The last day for the operator's decision (R-V4).
    pub approve_by: Option<NaiveDate>,
    /// The issue day.
    pub issued_on: Option<NaiveDate>,
    /// The last day it may be presented (R-V5).
    pub valid_until: Option<NaiveDate>,
    /// Blocks it holds (R-V7).
    pub blocks_total: u32,
    /// Whether it is a paper voucher recorded by the operator (R-V10).
    pub paper: bool,
    /// The workplace when issued (R-V10).
    pub org: Option<OrgId>,
    /// The position when issued (R-V10).
    pub position: Option<Position>,
    /// A rejection or cancellation reason.
    pub reason: Option<String>,
    /// The amount committed against the voucher limit at issue (R-F1); released on
    /// cancellation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub committed: Option<crate::planning::Money>,
}

impl Voucher {
    /// Whether the voucher counts for the interval rule (R-V2): issued, not cancelled.
    pub fn counts_for_interval(&self) -> bool {
        self.status == VoucherStatus::Issued
    }
}

/// A certificate (удостоверение о повышении квалификации) issued on a pass (R-G6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Certificate {
    /// The provider's series (its licence number).
    pub series: String,
    /// The registration number, gap-free per provider and year.
    pub number: String,
    /// The issue day.
    pub issued_on: NaiveDate,
    /// The verification code printed on it: with the series and number it opens the public
    /// lookup ([`crate::command::Query::VerifyCertificate`]).
    #[serde(default)]
    pub code: String,
}

impl Certificate {
    /// A verification code from a fresh id: its last ten hexadecimal digits, upper case (40
    /// random bits from a random id source).
    pub fn code_from(id: uuid::Uuid) -> String {
        let hex = id.simple().to_string().to_uppercase();
        hex[hex.len() - 10..].to_string()
    }
}

/// A training a worker finished, passed or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingRecord {
    /// The worker.
    pub person: PersonId,
    /// The group, for trainings run in kadry.
    pub group: Option<GroupId>,
    /// The program.
    pub program: Option<ProgramId>,
    /// The program's title.
    pub program_title: String,
    /// The provider.
    pub provider: Option<OrgId>,
    /// Hours.
    pub hours: u32,
    /// The last day of the training.
    pub completed_on: NaiveDate,
    /// Whether the final attestation was passed.
    pub passed: bool,
    /// The certificate, on a pass.
    pub certificate: Option<Certificate>,
    /// The statement (справка об обучении), on a fail or a non-completion (273-ФЗ art. 60
    /// p. 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<Statement>,
    /// Whether the listener completed the program (took the final attestation); false for a
    /// non-completion the provider reported (R-W3 stage 7).
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub completed: bool,
    /// Why the listener did not complete, as the provider reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Hours attended, as the provider recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attended_hours: Option<u32>,
    /// How the training was paid for; none for a training outside the region's funding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funding: Option<Funding>,
    /// Where the record came from.
    #[serde(default, skip_serializing_if = "TrainingSource::is_group")]
    pub source: TrainingSource,
    /// The first day of the training, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<NaiveDate>,
    /// For a training entered from a document: the document's series and number, and the
    /// provider's name as written on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// The provider's name, for a training entered from a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
}

fn yes() -> bool {
    true
}

/// Where a training record came from (R-G6, R-V10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrainingSource {
    /// A group run in kadry: the provider recorded the results.
    #[default]
    Group,
    /// A training outside the region's funding (another region, a federal provider, paid by
    /// the worker), entered by the territory operator from the document.
    External,
    /// A paper record from before kadry, entered from the archive.
    Paper,
}

impl TrainingSource {
    /// Whether the record comes from a group run in kadry.
    pub fn is_group(&self) -> bool {
        *self == TrainingSource::Group
    }
}

/// A statement of study (справка об обучении или о периоде обучения), issued on a fail or a
/// non-completion, numbered gap-free per provider and year apart from certificates (R-G6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Statement {
    /// The registration number, e.g. `С-2026-000001`.
    pub number: String,
    /// The issue day.
    pub issued_on: NaiveDate,
}

/// A planned training: a worker's choice of program for a planning year (R-W1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanEntry {
    /// Its id.
    pub id: PlanId,
    /// The worker.
    pub person: PersonId,
    /// The program.
    pub program: ProgramId,
    /// The planning year.
    pub year: i32,
    /// When it was planned.
    pub planned_at: DateTime<Utc>,
    /// Its state.
    #[serde(default)]
    pub status: crate::planning::PlanStatus,
    /// The worker's organisation when applying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgId>,
    /// The preferred place of study (municipality, R-W4); the organisation's territory when
    /// not chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<TerritoryId>,
    /// The preferred quarter, 1–4; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u8>,
    /// The quota number it was made with (Tatarstan, R-W3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<String>,
    /// The group it was placed in or offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupId>,
    /// Why it was not placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unplaced: Option<crate::planning::UnplacedReason>,
    /// The last day an offered seat is held (R-W4 waitlist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_until: Option<NaiveDate>,
}

/// The kinds of notification (R-N1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NotificationKind {
    /// A voucher was issued.
    #[serde(rename = "voucher.approved")]
    VoucherApproved,
    /// A voucher application was rejected.
    #[serde(rename = "voucher.rejected")]
    VoucherRejected,
    /// The provider confirmed an enrolment.
    #[serde(rename = "enrollment.confirmed")]
    EnrollmentConfirmed,
    /// The worker was removed from a group.
    #[serde(rename = "enrollment.removed")]
    EnrollmentRemoved,
    /// A group was cancelled.
    #[serde(rename = "group.cancelled")]
    GroupCancelled,
    /// A group's results were recorded.
    #[serde(rename = "group.completed")]
    GroupCompleted,
    /// Forming placed the worker's application in a group (R-W4).
    #[serde(rename = "plan.placed")]
    PlanPlaced,
    /// A freed seat is offered from the waitlist, held until a day (R-W4).
    #[serde(rename = "waitlist.offered")]
    SeatOffered,
    /// The worker's voucher lapses soon.
    #[serde(rename = "reminder.voucher")]
    VoucherExpiring,
    /// The worker's three-year floor comes soon (R-V11).
    #[serde(rename = "reminder.floor")]
    FloorApproaching,
    /// A voucher application waits past the approval deadline (to the operators, R-V4).
    #[serde(rename = "reminder.approval")]
    ApprovalOverdue,
}

impl NotificationKind {
    /// The stable identifier, e.g. `voucher.approved`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::VoucherApproved => "voucher.approved",
            NotificationKind::VoucherRejected => "voucher.rejected",
            NotificationKind::EnrollmentConfirmed => "enrollment.confirmed",
            NotificationKind::EnrollmentRemoved => "enrollment.removed",
            NotificationKind::GroupCancelled => "group.cancelled",
            NotificationKind::GroupCompleted => "group.completed",
            NotificationKind::PlanPlaced => "plan.placed",
            NotificationKind::SeatOffered => "waitlist.offered",
            NotificationKind::VoucherExpiring => "reminder.voucher",
            NotificationKind::FloorApproaching => "reminder.floor",
            NotificationKind::ApprovalOverdue => "reminder.approval",
        }
    }

    /// The subject line for the recipient, in Russian.
    pub fn subject_ru(self) -> &'static str {
        match self {
            NotificationKind::VoucherApproved => "Заявка на именной образовательный чек одобрена",
            NotificationKind::VoucherRejected => "Заявка на именной образовательный чек отклонена",
            NotificationKind::EnrollmentConfirmed => "Запись в группу подтверждена",
            NotificationKind::EnrollmentRemoved => "Вы исключены из группы",
            NotificationKind::GroupCancelled => "Группа отменена",
            NotificationKind::GroupCompleted => "Обучение в группе завершено",
            NotificationKind::PlanPlaced => "Ваша заявка включена в группу",
            NotificationKind::SeatOffered => "Освободилось место в группе",
            NotificationKind::VoucherExpiring => "Срок действия именного образовательного чека истекает",
            NotificationKind::FloorApproaching => "Подходит срок повышения квалификации",
            NotificationKind::ApprovalOverdue => "Заявка на именной образовательный чек ждёт решения дольше срока",
        }
    }
}

/// A notification to a person, written with the change it announces (R-N1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    /// Its id, for deduplication by consumers.
    pub id: NotificationId,
    /// The recipient.
    pub person: PersonId,
    /// What it announces.
    pub kind: NotificationKind,
    /// When.
    pub at: DateTime<Utc>,
    /// Details in Russian (e.g. the voucher's validity, the group's dates).
    pub details_ru: String,
}

/// An audit trail entry: every committed command (who, when, what, on whose behalf).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who acted.
    pub actor: crate::access::Actor,
    /// The command's name, e.g. `approve_voucher`.
    pub action: String,
    /// The person the command was about, if any (acting on their behalf).
    pub subject: Option<PersonId>,
}
