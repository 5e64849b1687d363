//! Commands (they change state) and queries (they don't), with their results.
//!
//! Commands carry raw user input where parsing can fail (names, emails, SNILS): the decision
//! parses them and refuses with an `input.*` code. Ids of things that must exist are typed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::*;
use crate::model::*;

/// A scope named in a role grant or request: an organisation or a territory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScopeRef {
    /// An organisation (for `org_responsible`, `org_head`, `provider`).
    Organisation(OrgId),
    /// A territory (for `territory`).
    Territory(TerritoryId),
}

/// Hours a listener attended (R-G6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attendance {
    /// The listener.
    pub person: PersonId,
    /// Hours attended, at most the program's.
    pub hours: u32,
}

/// A listener who did not complete, as the provider reports it (R-W3 stage 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NonCompletion {
    /// The listener.
    pub person: PersonId,
    /// Why, e.g. "болезнь".
    pub reason: String,
}

/// A command: everything that changes state. The actor is passed beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Command {
    /// Registers a territory (by: operator).
    RegisterTerritory {
        /// Its name.
        name: String,
    },
    /// Registers an organisation (by: operator, territory of that territory).
    RegisterOrg {
        /// Its name.
        name: String,
        /// Its kind.
        kind: OrgKind,
        /// Its territory.
        territory: TerritoryId,
        /// For a structural subdivision: its parent (R-A12).
        parent: Option<OrgId>,
        /// A provider's licence (R-P3).
        license: Option<License>,
        /// Ownership (R-P4); regional when absent.
        ownership: Option<Ownership>,
    },
    /// Reorganises (merges) an organisation into another, or liquidates it into its successor:
    /// its current staff move with their accounts and states, never recreated (R-E5)
    /// (by: operator, territory of both).
    ReorganizeOrg {
        /// The organisation that closes.
        org: OrgId,
        /// Its successor.
        into: OrgId,
    },
    /// Registers a person with a workplace [the person themself as `Actor::Anonymous`, an org
    /// responsible of `org`, or the operator] (R-A2..R-A7).
    RegisterPerson {
        /// Full name.
        full_name: String,
        /// Personal email.
        email: String,
        /// The workplace.
        org: OrgId,
        /// The position.
        position: Position,
        /// Whether the position is pedagogical.
        pedagogical: bool,
        /// Consent to personal data processing (R-A4).
        consent: bool,
        /// SNILS, either written form.
        snils: Option<String>,
        /// Subject taught.
        subject: Option<String>,
        /// Year of birth.
        birth_year: Option<i32>,
    },
    /// Registers a regional official without a workplace in the staff lists (ministry, expert
    /// council, operator) and grants the role (by: operator). A kadry addition.
    RegisterOfficial {
        /// Full name.
        full_name: String,
        /// Email.
        email: String,
        /// `ministry`, `expert` or `operator`.
        role: Role,
        /// The order the role is granted on.
        basis: String,
    },
    /// Confirms the person's email (the host verifies the code) (by: the person) (R-A5).
    ConfirmEmail {
        /// The person.
        person: PersonId,
    },
    /// Grants a role on a basis document (by: operator).
    GrantRole {
        /// The person.
        person: PersonId,
        /// The role.
        role: Role,
        /// Its scope; none for region roles.
        scope: Option<ScopeRef>,
        /// The order, e.g. "приказ № 12 от 01.09.2024".
        basis: String,
    },
    /// Requests a role for oneself (by: any person).
    RequestRole {
        /// The role.
        role: Role,
        /// Its scope.
        scope: Option<ScopeRef>,
        /// The basis document.
        basis: String,
    },
    /// Grants a requested role (by: operator).
    ApproveRoleRequest {
        /// The requester.
        person: PersonId,
        /// The role.
        role: Role,
    },
    /// Lifts an R-A9 suspension and applies the pending personal change (by: operator).
    RestoreRole {
        /// The person.
        person: PersonId,
        /// The role.
        role: Role,
    },
    /// Proposes a change of personal data, pending confirmation (R-A8, R-A9).
    UpdatePerson {
        /// The person.
        person: PersonId,
        /// A new full name.
        full_name: Option<String>,
        /// A new email.
        email: Option<String>,
        /// A new SNILS.
        snils: Option<String>,
        /// A new subject.
        subject: Option<String>,
    },
    /// Confirms a pending change (by: org responsible, operator) (R-A8).
    ConfirmPersonChange {
        /// The person.
        person: PersonId,
    },
    /// Confirms a pending workplace (by: org responsible of that organisation, operator) (R-A7).
    ConfirmWorkplace {
        /// The person.
        person: PersonId,
    },
    /// Dismisses the worker (R-E1) (by: org responsible).
    Dismiss {
        /// The worker.
        person: PersonId,
    },
    /// Transfers the worker out to another organisation (R-E2) (by: org responsible).
    Transfer {
        /// The worker.
        person: PersonId,
        /// The new organisation.
        to: OrgId,
    },
    /// Picks a new workplace while having none (R-E3) (by: the person).
    ClaimWorkplace {
        /// The organisation.
        org: OrgId,
        /// The position.
        position: Position,
        /// Whether it is pedagogical (default: yes).
        pedagogical: Option<bool>,
    },
    /// Applies for a voucher (R-V1..R-V4) (by: the worker, their org responsible).
    RequestVoucher {
        /// The worker.
        worker: PersonId,
    },
    /// Issues the requested voucher today (by: operator).
    ApproveVoucher {
        /// The worker.
        worker: PersonId,
    },
    /// Rejects the application (by: operator).
    RejectVoucher {
        /// The worker.
        worker: PersonId,
        /// Why.
        reason: String,
    },
    /// Records a paper voucher (R-V10) (by: operator).
    RecordPaperVoucher {
        /// The worker.
        worker: PersonId,
        /// Its issue date.
        issued_on: NaiveDate,
    },
    /// Cancels the worker's last issued voucher (R-V10) (by: operator).
    CancelVoucher {
        /// The worker.
        worker: PersonId,
        /// Why.
        reason: String,
    },
    /// Submits a program (R-P2, R-W1) (by: provider staff).
    SubmitProgram {
        /// The provider.
        provider: OrgId,
        /// Title.
        title: String,
        /// Hours.
        hours: u32,
        /// The annotation (R-P2).
        #[serde(default)]
        annotation: Option<String>,
        /// Positions it is for.
        positions: Audience<Position>,
        /// Positions it is profile for.
        profile_for: Audience<Position>,
        /// Organisation kinds it is for.
        org_kinds: Audience<OrgKind>,
        /// Subjects it is for.
        subjects: Audience<String>,
        /// The planning year.
        year: Option<i32>,
        /// The direction (the registry is ordered by direction).
        #[serde(default)]
        direction: Option<String>,
        /// The smallest group forming may make (R-W4).
        #[serde(default)]
        min_group: Option<u32>,
        /// The largest group forming may make (R-W4).
        #[serde(default)]
        max_group: Option<u32>,
        /// Places offered for the year.
        #[serde(default)]
        places: Option<u32>,
        /// The form of study, as the certificate's ФИС ФРДО record states it; in person when
        /// absent.
        #[serde(default)]
        form: Option<crate::planning::StudyForm>,
    },
    /// Records passed expertise (R-P1) (by: operator).
    ApproveProgram {
        /// The program.
        program: ProgramId,
    },
    /// Opens a group (R-G1, R-P1, R-P3) (by: provider staff).
    OpenGroup {
        /// The program.
        program: ProgramId,
        /// First day.
        starts: NaiveDate,
        /// Last day.
        ends: NaiveDate,
        /// Place.
        place: String,
        /// Seats.
        capacity: u32,
        /// Funding.
        funding: Funding,
    },
    /// Enrols a worker (R-G2..R-G4, R-V6..R-V9, R-P4) (by: the worker, their org responsible).
    Enroll {
        /// The worker.
        worker: PersonId,
        /// The group.
        group: GroupId,
    },
    /// Confirms an enrolment (R-G5) (by: provider staff).
    ConfirmEnrollment {
        /// The worker.
        worker: PersonId,
        /// The group.
        group: GroupId,
    },
    /// Removes a worker from a group, freeing the seat and blocks (R-G5) [org responsible,
    /// provider staff].
    RemoveFromGroup {
        /// The worker.
        worker: PersonId,
        /// The group.
        group: GroupId,
    },
    /// Records results after the group ends (R-G6) (by: provider staff).
    CompleteGroup {
        /// The group.
        group: GroupId,
        /// Those who passed the final attestation.
        passed: Vec<PersonId>,
        /// Those who failed it.
        failed: Vec<PersonId>,
        /// Hours attended per listener, where recorded.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attendance: Vec<Attendance>,
        /// Listeners who did not complete, with the reason (R-W3 stage 7). Listeners named
        /// nowhere did not complete either.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        not_completed: Vec<NonCompletion>,
    },
    /// Plans a training for a planning year — in Yugra and Tatarstan, the application for
    /// planned training (R-W1..R-W4) (by: the worker, their org responsible).
    PlanTraining {
        /// The worker.
        worker: PersonId,
        /// The program.
        program: ProgramId,
        /// The planning year.
        year: i32,
        /// The preferred place of study (R-W4); the organisation's territory when absent.
        #[serde(default)]
        place: Option<TerritoryId>,
        /// The preferred quarter, 1–4.
        #[serde(default)]
        period: Option<u8>,
        /// The worker's quota number (Tatarstan, R-W3).
        #[serde(default)]
        quota: Option<String>,
    },
    /// Moves the year's cycle to its next stage (R-W3; by: operator). The first call opens the
    /// cycle at stage 1.
    AdvanceStage {
        /// The planning year.
        year: i32,
    },
    /// Sets the year's priority directions (R-W3 stage 2; by: ministry).
    SetPriorities {
        /// The planning year.
        year: i32,
        /// The directions, in order of priority.
        priorities: Vec<String>,
    },
    /// Sets the financing norm per worker, for one program or for all (R-F1, R-W3 stage 2;
    /// by: ministry).
    SetFinancingNorm {
        /// The planning year.
        year: i32,
        /// The program; every program when absent.
        program: Option<ProgramId>,
        /// Roubles per worker.
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        amount: crate::planning::Money,
    },
    /// Sets the limit for a year and source (R-F1; by: ministry).
    SetFundingLimit {
        /// The year.
        year: i32,
        /// `voucher` or `state`.
        source: Funding,
        /// Roubles.
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        amount: crate::planning::Money,
    },
    /// Records an expert's conclusion at a stage of expertise (R-W3 stage 3; by: expert).
    ReviewProgram {
        /// The program.
        program: ProgramId,
        /// Technical, then content.
        stage: crate::planning::ExpertiseStage,
        /// Whether it passed.
        passed: bool,
        /// The conclusion.
        conclusion: String,
    },
    /// Records the council's protocol: the members' votes decide by majority of those voting
    /// (R-W3 stage 3; by: expert).
    RecordProtocol {
        /// The program.
        program: ProgramId,
        /// The protocol's number.
        number: String,
        /// The members' votes.
        votes: Vec<crate::planning::MemberVote>,
    },
    /// Approves and publishes the year's registry: every recommended program of the year
    /// (R-W3 stage 5; by: ministry).
    ApproveRegistry {
        /// The planning year.
        year: i32,
    },
    /// Issues a unique number to every eligible worker without one (R-W3 stage 5; by:
    /// operator); each commits the year's norm against the state-assignment limit (R-F1).
    IssueQuotas {
        /// The planning year.
        year: i32,
    },
    /// Records a worker's temporary refusal of planned training, agreed by their organisation
    /// (R-W3 stage 6; by: org responsible, territory, operator).
    RefuseQuota {
        /// The worker.
        worker: PersonId,
        /// The year.
        year: i32,
    },
    /// Reassigns a refused number to another worker of the same organisation (R-W3 stage 6;
    /// by: org responsible; after the deadline the territory, then the operator).
    ReassignQuota {
        /// The number.
        number: String,
        /// The new holder.
        to: PersonId,
    },
    /// Answers the questionnaire of preferences (R-W3 stage 1; by: the worker, their org
    /// responsible).
    AnswerQuestionnaire {
        /// The worker.
        worker: PersonId,
        /// The planning year.
        year: i32,
        /// Preferred directions.
        directions: Vec<String>,
        /// Preferred topics.
        topics: Vec<String>,
        /// Preferred forms of study.
        forms: Vec<crate::planning::StudyForm>,
    },
    /// Marks a worker on or back from parental leave (by: org responsible).
    SetParentalLeave {
        /// The worker.
        worker: PersonId,
        /// On leave.
        on_leave: bool,
    },
    /// Forms groups from the year's applications (R-W4; by: operator) — the consolidated
    /// plan-schedule's groups, enrolments included.
    FormGroups {
        /// The planning year.
        year: i32,
    },
    /// Approves the consolidated plan-schedule (R-W2; by: ministry).
    ApprovePlan {
        /// The planning year.
        year: i32,
    },
    /// Accepts a seat offered from the waitlist (R-W4; by: the worker, their org responsible).
    AcceptOffer {
        /// The worker.
        worker: PersonId,
        /// The application's program.
        program: ProgramId,
        /// The planning year.
        year: i32,
    },
    /// Declines an offered seat; it goes to the next in line (R-W4; by: the worker, their org
    /// responsible).
    DeclineOffer {
        /// The worker.
        worker: PersonId,
        /// The application's program.
        program: ProgramId,
        /// The planning year.
        year: i32,
    },
    /// Withdraws offers past their hold and offers the seats to the next in line (R-W4; by:
    /// operator, or the host's scheduler as `system`).
    ExpireOffers {
        /// The planning year.
        year: i32,
    },
    /// Records a worker's personal data for the federal registry and reports; the fields given
    /// replace those held, each normalised and checked (R-G6, R-R1) (by: the worker, their org
    /// responsible, operator).
    SetProfile {
        /// The worker.
        person: PersonId,
        /// Date of birth.
        #[serde(default)]
        birth_date: Option<NaiveDate>,
        /// Sex.
        #[serde(default)]
        sex: Option<Sex>,
        /// Citizenship, an OKSM code (643 — Russia).
        #[serde(default)]
        citizenship: Option<String>,
        /// The diploma of vocational education.
        #[serde(default)]
        education: Option<EducationDoc>,
        /// The day pedagogical experience began.
        #[serde(default)]
        experience_since: Option<NaiveDate>,
    },
    /// Records the attestation category of the worker's current position, or none (by: org
    /// responsible, operator).
    SetCategory {
        /// The worker.
        worker: PersonId,
        /// The category; none when not attested.
        category: Option<Category>,
    },
    /// Enters a training outside the region's funding or a paper record from the document
    /// (R-G6, R-V10) (by: territory, operator).
    RecordTraining {
        /// The worker.
        worker: PersonId,
        /// `external` or `paper`.
        source: TrainingSource,
        /// The program's title.
        program_title: String,
        /// The provider's name as on the document.
        provider_name: String,
        /// Hours (at least 16, as 273-ФЗ sets for qualification upgrade).
        hours: u32,
        /// The first day, if known.
        #[serde(default)]
        started_on: Option<NaiveDate>,
        /// The last day.
        completed_on: NaiveDate,
        /// The document's series and number.
        document: String,
    },
    /// Turns the person's reminders on or off (by: the person, operator).
    SetReminders {
        /// The person.
        person: PersonId,
        /// Whether reminders are sent.
        enabled: bool,
    },
    /// Sends the reminders due today, each once: vouchers about to lapse, the three-year floor
    /// approaching, applications past the approval deadline (to the operators) (by: operator,
    /// or the host's scheduler as `system`).
    SendReminders,
    /// Creates a survey (R-R2; by: operator, ministry, territory for its territory — scoped like
    /// reports). It opens today unless `opens_on` says later.
    CreateSurvey {
        /// Its title.
        title: String,
        /// Monitoring, satisfaction with a group's course, or the deficits diagnostic.
        kind: crate::survey::SurveyKind,
        /// The questions, in order.
        questions: Vec<crate::survey::Question>,
        /// The slice it is for within the scope (report filters); everyone when empty.
        #[serde(default)]
        target: Vec<crate::report::Filter>,
        /// The creator's slice of the region; the region when absent.
        #[serde(default)]
        scope: Option<ScopeRef>,
        /// The first day it may be answered; today when absent.
        #[serde(default)]
        opens_on: Option<NaiveDate>,
        /// The last day it may be answered; open until closed when absent.
        #[serde(default)]
        closes_on: Option<NaiveDate>,
    },
    /// Closes a survey: answers are refused from then on (R-R2; by: as `create_survey`, within
    /// the survey's scope).
    CloseSurvey {
        /// The survey.
        survey: SurveyId,
    },
    /// Answers a survey, once (R-R2; by: the worker for themself).
    AnswerSurvey {
        /// The survey.
        survey: SurveyId,
        /// The respondent.
        person: PersonId,
        /// The answers by question key: a number for a scale, a list of options for a choice.
        answers: std::collections::BTreeMap<String, crate::survey::AnswerValue>,
    },
}

impl Command {
    /// The read set the rules of this command will need, for [`crate::ports::Tx::prefetch`]:
    /// the acting person's account and grants, and for the commands on the hot paths of a
    /// registration window (enrolment and vouchers) the worker's and the group's rows.
    pub fn reads(&self, actor: Option<PersonId>) -> Vec<crate::ports::Read> {
        use crate::ports::Read;
        let mut reads: Vec<Read> = actor.map(Read::Actor).into_iter().collect();
        match self {
            Command::Enroll { worker, group }
            | Command::RemoveFromGroup { worker, group }
            | Command::ConfirmEnrollment { worker, group } => {
                reads.extend([Read::Worker(*worker), Read::Group(*group)]);
            }
            Command::RequestVoucher { worker }
            | Command::ApproveVoucher { worker }
            | Command::RejectVoucher { worker, .. }
            | Command::CancelVoucher { worker, .. } => reads.push(Read::Worker(*worker)),
            // R-R2: the respondent's workplaces decide the target slice.
            Command::AnswerSurvey { person, .. } => reads.push(Read::Worker(*person)),
            _ => {}
        }
        reads
    }

    /// The rows to lock before deciding: the worker the command is about (voucher interval,
    /// blocks, one enrolment per group), the group whose results are recorded, or the planning
    /// year whose cycle and applications the command reads and writes back (R-W3, R-W4), in
    /// [`crate::ports::Lock`]'s order.
    pub fn locks(&self, actor: Option<PersonId>) -> Vec<crate::ports::Lock> {
        use crate::ports::Lock;
        match self {
            Command::ConfirmEmail { person }
            | Command::GrantRole { person, .. }
            | Command::ApproveRoleRequest { person, .. }
            | Command::RestoreRole { person, .. }
            | Command::UpdatePerson { person, .. }
            | Command::ConfirmPersonChange { person }
            | Command::SetProfile { person, .. }
            | Command::SetReminders { person, .. }
            | Command::AnswerSurvey { person, .. }
            | Command::ConfirmWorkplace { person }
            | Command::Dismiss { person }
            | Command::Transfer { person, .. } => vec![Lock::Person(*person)],
            Command::RequestVoucher { worker }
            | Command::ApproveVoucher { worker }
            | Command::RejectVoucher { worker, .. }
            | Command::RecordPaperVoucher { worker, .. }
            | Command::CancelVoucher { worker, .. }
            | Command::PlanTraining { worker, .. }
            | Command::RefuseQuota { worker, .. }
            | Command::AnswerQuestionnaire { worker, .. }
            | Command::SetParentalLeave { worker, .. }
            | Command::SetCategory { worker, .. }
            | Command::RecordTraining { worker, .. } => vec![Lock::Person(*worker)],
            // R-W4: an offer accepted or declined moves the year's waitlist too; the person
            // first, then the year (`Lock`'s order).
            Command::AcceptOffer { worker, year, .. } | Command::DeclineOffer { worker, year, .. } => {
                vec![Lock::Person(*worker), Lock::Year(*year)]
            }
            // R-W3, R-W4: commands that read a year's cycle or applications and write them back.
            Command::AdvanceStage { year }
            | Command::SetPriorities { year, .. }
            | Command::SetFinancingNorm { year, .. }
            | Command::ApproveRegistry { year }
            | Command::IssueQuotas { year }
            | Command::FormGroups { year }
            | Command::ApprovePlan { year }
            | Command::ExpireOffers { year } => vec![Lock::Year(*year)],
            Command::ReassignQuota { to, .. } => vec![Lock::Person(*to)],
            Command::Enroll { worker, .. } | Command::RemoveFromGroup { worker, .. } => vec![Lock::Person(*worker)],
            Command::ConfirmEnrollment { group, .. } | Command::CompleteGroup { group, .. } => {
                vec![Lock::Group(*group)]
            }
            Command::ClaimWorkplace { .. } | Command::RequestRole { .. } => {
                actor.map(Lock::Person).into_iter().collect()
            }
            Command::RegisterTerritory { .. }
            | Command::RegisterOrg { .. }
            | Command::ReorganizeOrg { .. }
            | Command::RegisterPerson { .. }
            | Command::RegisterOfficial { .. }
            | Command::SubmitProgram { .. }
            | Command::ApproveProgram { .. }
            | Command::OpenGroup { .. }
            | Command::SetFundingLimit { .. }
            | Command::ReviewProgram { .. }
            | Command::RecordProtocol { .. }
            | Command::SendReminders
            | Command::CreateSurvey { .. }
            | Command::CloseSurvey { .. } => Vec::new(),
        }
    }

    /// The command's name, as in the scenario vocabulary.
    pub fn name(&self) -> &'static str {
        match self {
            Command::RegisterTerritory { .. } => "register_territory",
            Command::RegisterOrg { .. } => "register_org",
            Command::ReorganizeOrg { .. } => "reorganize_org",
            Command::RegisterPerson { .. } => "register_person",
            Command::RegisterOfficial { .. } => "register_official",
            Command::ConfirmEmail { .. } => "confirm_email",
            Command::GrantRole { .. } => "grant_role",
            Command::RequestRole { .. } => "request_role",
            Command::ApproveRoleRequest { .. } => "approve_role_request",
            Command::RestoreRole { .. } => "restore_role",
            Command::UpdatePerson { .. } => "update_person",
            Command::ConfirmPersonChange { .. } => "confirm_person_change",
            Command::ConfirmWorkplace { .. } => "confirm_workplace",
            Command::Dismiss { .. } => "dismiss",
            Command::Transfer { .. } => "transfer",
            Command::ClaimWorkplace { .. } => "claim_workplace",
            Command::RequestVoucher { .. } => "request_voucher",
            Command::ApproveVoucher { .. } => "approve_voucher",
            Command::RejectVoucher { .. } => "reject_voucher",
            Command::RecordPaperVoucher { .. } => "record_paper_voucher",
            Command::CancelVoucher { .. } => "cancel_voucher",
            Command::SubmitProgram { .. } => "submit_program",
            Command::ApproveProgram { .. } => "approve_program",
            Command::OpenGroup { .. } => "open_group",
            Command::Enroll { .. } => "enroll",
            Command::ConfirmEnrollment { .. } => "confirm_enrollment",
            Command::RemoveFromGroup { .. } => "remove_from_group",
            Command::CompleteGroup { .. } => "complete_group",
            Command::PlanTraining { .. } => "plan_training",
            Command::AdvanceStage { .. } => "advance_stage",
            Command::SetPriorities { .. } => "set_priorities",
            Command::SetFinancingNorm { .. } => "set_financing_norm",
            Command::SetFundingLimit { .. } => "set_funding_limit",
            Command::ReviewProgram { .. } => "review_program",
            Command::RecordProtocol { .. } => "record_protocol",
            Command::ApproveRegistry { .. } => "approve_registry",
            Command::IssueQuotas { .. } => "issue_quotas",
            Command::RefuseQuota { .. } => "refuse_quota",
            Command::ReassignQuota { .. } => "reassign_quota",
            Command::AnswerQuestionnaire { .. } => "answer_questionnaire",
            Command::SetParentalLeave { .. } => "set_parental_leave",
            Command::FormGroups { .. } => "form_groups",
            Command::ApprovePlan { .. } => "approve_plan",
            Command::AcceptOffer { .. } => "accept_offer",
            Command::DeclineOffer { .. } => "decline_offer",
            Command::ExpireOffers { .. } => "expire_offers",
            Command::SetProfile { .. } => "set_profile",
            Command::SetCategory { .. } => "set_category",
            Command::RecordTraining { .. } => "record_training",
            Command::SetReminders { .. } => "set_reminders",
            Command::SendReminders => "send_reminders",
            Command::CreateSurvey { .. } => "create_survey",
            Command::CloseSurvey { .. } => "close_survey",
            Command::AnswerSurvey { .. } => "answer_survey",
        }
    }
}

/// What a successful command returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done; nothing new was created that the caller needs to name.
    Done,
    /// A new thing was created with this id.
    Created(Uuid),
}

impl Outcome {
    /// The created id, if any.
    pub fn created(self) -> Option<Uuid> {
        match self {
            Outcome::Created(id) => Some(id),
            Outcome::Done => None,
        }
    }
}

/// A report metric (R-R1, R-V11). More slices come with the reports issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Active staff.
    Staff,
    /// Active pedagogical staff with no training passed within the training cycle (R-V11).
    PkOverdue,
    /// Workers holding an active voucher.
    VouchersActive,
}

/// The ready-made reports that are preset slices (R-R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReadyReport {
    /// The three-year floor (273-ФЗ art. 47, R-V11): pedagogical workers by territory and
    /// training status.
    Floor,
    /// Vouchers: workers by territory and voucher status (requested, active, used, expired).
    Vouchers,
}

impl ReadyReport {
    /// The slice the report is.
    pub fn preset(self) -> (Vec<crate::report::Dimension>, Vec<crate::report::Filter>) {
        use crate::report::{Dimension as D, Filter};
        match self {
            ReadyReport::Floor => (
                vec![D::Territory, D::TrainingStatus],
                vec![Filter { dimension: D::Pedagogical, values: vec!["yes".into()] }],
            ),
            ReadyReport::Vouchers => (vec![D::Territory, D::VoucherStatus], Vec::new()),
        }
    }
}

/// A query: reads, changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Query {
    /// A person's card.
    ShowPerson {
        /// The person.
        person: PersonId,
    },
    /// An organisation's staff list.
    ShowStaff {
        /// The organisation.
        org: OrgId,
    },
    /// A worker's current voucher.
    ShowVoucher {
        /// The worker.
        worker: PersonId,
    },
    /// A group.
    ShowGroup {
        /// The group.
        group: GroupId,
    },
    /// A program.
    ShowProgram {
        /// The program.
        program: ProgramId,
    },
    /// The directory of territories and open organisations (for registration and choosing a
    /// workplace); readable without an account.
    Directory {
        /// Only this territory's organisations.
        territory: Option<TerritoryId>,
    },
    /// The catalogue (R-P2): approved programs with their groups, for choosing a course.
    Catalogue {
        /// Only this provider's programs.
        provider: Option<OrgId>,
        /// Only groups still recruiting (R-G4); otherwise every group, past ones included.
        open_only: bool,
    },
    /// A worker's training history.
    ShowTraining {
        /// The worker.
        worker: PersonId,
    },
    /// Notifications sent to a person (R-N1).
    ShowNotifications {
        /// The person.
        person: PersonId,
    },
    /// A report metric over a slice (R-R1).
    Report {
        /// The metric.
        metric: Metric,
        /// The slice; the region when absent.
        scope: Option<ScopeRef>,
    },
    /// The year's planning cycle: stage, norms, milestones (R-W3).
    ShowCycle {
        /// The planning year.
        year: i32,
    },
    /// The workers due for planned training in a year, with the reason for each (R-W3 stage
    /// 1), over a slice.
    Eligibility {
        /// The planning year.
        year: i32,
        /// The slice; the region when absent.
        scope: Option<ScopeRef>,
    },
    /// A worker's quota number for a year (R-W3).
    ShowQuota {
        /// The worker.
        worker: PersonId,
        /// The year.
        year: i32,
    },
    /// A worker's applications (planned trainings) for a year, with their state.
    ShowApplications {
        /// The worker.
        worker: PersonId,
        /// The year.
        year: i32,
    },
    /// The consolidated plan-schedule: the year's formed groups and the applications left out
    /// (R-W2, R-W4).
    PlanSchedule {
        /// The planning year.
        year: i32,
    },
    /// Quarterly monitoring of the plan-schedule: planned vs started vs completed, by provider
    /// and territory (R-W2).
    PlanExecution {
        /// The planning year.
        year: i32,
        /// The quarter, 1–4.
        quarter: u8,
    },
    /// Financing: limits, commitments and what is left, per source (R-F1).
    FundingReport {
        /// The year.
        year: i32,
    },
    /// The questionnaire answers of a year, counted by direction, topic and form (R-W3).
    PreferencesSummary {
        /// The planning year.
        year: i32,
    },
    /// A worker's individual trajectory: programs recommended for a year, ranked, each with
    /// its reasons (R-R3).
    Trajectory {
        /// The worker.
        worker: PersonId,
        /// The year the questionnaire and priorities are read for.
        year: i32,
    },
    /// A report in any slice (R-R1): workers and hours trained within the cycle, filtered and
    /// grouped by any of the report dimensions, over the actor's slice.
    Slice {
        /// Dimensions to group by, in order (at most four; none: one total row).
        #[serde(default)]
        group_by: Vec<crate::report::Dimension>,
        /// Filters, all of which a row passes.
        #[serde(default)]
        filters: Vec<crate::report::Filter>,
        /// The slice; the region when absent.
        #[serde(default)]
        scope: Option<ScopeRef>,
    },
    /// A ready-made report (R-R1, R-V11): a preset slice.
    Ready {
        /// Which.
        report: ReadyReport,
        /// The slice; the region when absent.
        #[serde(default)]
        scope: Option<ScopeRef>,
    },
    /// What is past its deadline in a slice: voucher applications past the operator's five
    /// working days (R-V4) and personal data or workplaces unconfirmed after ten working days
    /// (R-A7, R-A8, R-A11).
    Overdue {
        /// The slice; the region when absent.
        #[serde(default)]
        scope: Option<ScopeRef>,
    },
    /// The registry of those trained in a group (R-G6): every listener with how they
    /// finished and their document (by: the provider, the ministry, the operator).
    GroupRegistry {
        /// The group.
        group: GroupId,
    },
    /// The registry of those trained in a period (R-G6, R-R1): every training that ended
    /// within `[from, to]`, of workers in the actor's slice (by where they worked then).
    Registry {
        /// The first day.
        from: NaiveDate,
        /// The last day.
        to: NaiveDate,
        /// The slice; the region when absent.
        #[serde(default)]
        scope: Option<ScopeRef>,
    },
    /// The certificates issued within `[from, to]` as ФИС ФРДО records (R-G6): a provider's
    /// own, or — for the ministry and the operator — every provider's or one's.
    FrdoExport {
        /// The first issue day.
        from: NaiveDate,
        /// The last issue day.
        to: NaiveDate,
        /// One provider; every provider when absent.
        #[serde(default)]
        provider: Option<OrgId>,
    },
    /// The public check of a certificate by its series, number and verification code: what it
    /// certifies, never just "valid" (R-G6). Readable without an account; an unknown
    /// certificate and a wrong code answer alike (`not_found`).
    VerifyCertificate {
        /// The series (the provider's licence number).
        series: String,
        /// The registration number.
        number: String,
        /// The verification code.
        code: String,
    },
    /// The open surveys a person may answer, each with whether they answered it (R-R2; read
    /// like `show_training`).
    Surveys {
        /// The person.
        person: PersonId,
    },
    /// A survey's results by slice (R-R2): respondents, scale means and distributions, option
    /// counts — deficits included —, over the reader's slice: nobody sees respondents outside
    /// it.
    SurveyResults {
        /// The survey.
        survey: SurveyId,
        /// Dimensions to group by, in order (at most four; none: one total row).
        #[serde(default)]
        group_by: Vec<crate::report::Dimension>,
        /// The reader's slice; the region when absent.
        #[serde(default)]
        scope: Option<ScopeRef>,
    },
}

impl Query {
    /// The query's name, as in the scenario vocabulary.
    pub fn name(&self) -> &'static str {
        match self {
            Query::ShowPerson { .. } => "show_person",
            Query::ShowStaff { .. } => "show_staff",
            Query::ShowVoucher { .. } => "show_voucher",
            Query::ShowGroup { .. } => "show_group",
            Query::ShowProgram { .. } => "show_program",
            Query::Catalogue { .. } => "catalogue",
            Query::Directory { .. } => "directory",
            Query::ShowTraining { .. } => "show_training",
            Query::ShowNotifications { .. } => "show_notifications",
            Query::Report { .. } => "report",
            Query::ShowCycle { .. } => "show_cycle",
            Query::Eligibility { .. } => "eligibility",
            Query::ShowQuota { .. } => "show_quota",
            Query::ShowApplications { .. } => "show_applications",
            Query::PlanSchedule { .. } => "plan_schedule",
            Query::PlanExecution { .. } => "plan_execution",
            Query::FundingReport { .. } => "funding_report",
            Query::PreferencesSummary { .. } => "preferences_summary",
            Query::VerifyCertificate { .. } => "verify_certificate",
            Query::Trajectory { .. } => "trajectory",
            Query::Slice { .. } => "slice",
            Query::Ready { .. } => "ready_report",
            Query::Overdue { .. } => "overdue",
            Query::GroupRegistry { .. } => "group_registry",
            Query::Registry { .. } => "registry",
            Query::FrdoExport { .. } => "frdo_export",
            Query::Surveys { .. } => "surveys",
            Query::SurveyResults { .. } => "survey_results",
        }
    }
}

/// A person's card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonView {
    /// Id.
    pub id: PersonId,
    /// Full name (the confirmed one).
    pub full_name: String,
    /// Email (the confirmed one).
    pub email: String,
    /// SNILS in the canonical form.
    pub snils: Option<String>,
    /// The current workplace's name, or `"none"`.
    pub org: String,
    /// `active`, `pending`, `dismissed`, or `none` for an account that never had a workplace.
    pub employment: &'static str,
    /// The position trained for.
    pub position: Option<Position>,
    /// Whether the email is confirmed.
    pub email_confirmed: bool,
    /// Whether a personal data change awaits confirmation.
    pub pending_change: bool,
    /// Roles held, with whether each is suspended.
    pub roles: Vec<RoleView>,
}

/// A role on a person's card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleView {
    /// The role.
    pub role: Role,
    /// Suspended (R-A9).
    pub suspended: bool,
}

/// One line of a staff list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffEntry {
    /// The worker.
    pub person: PersonId,
    /// Their name.
    pub full_name: String,
    /// Position.
    pub position: Position,
    /// `active` or `pending`.
    pub status: EmploymentStatus,
}

/// An organisation's staff list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffView {
    /// Active staff.
    pub count: usize,
    /// Workplaces awaiting confirmation.
    pub pending: usize,
    /// Everyone active or pending.
    pub staff: Vec<StaffEntry>,
}

/// A worker's current voucher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VoucherView {
    /// `none`, `requested`, `active`, `expired`, `closed`, `rejected`, or `cancelled`.
    pub status: &'static str,
    /// The operator's deadline (R-V4).
    pub approve_by: Option<NaiveDate>,
    /// Issue day.
    pub issued_on: Option<NaiveDate>,
    /// Last valid day (R-V5).
    pub valid_until: Option<NaiveDate>,
    /// Blocks held.
    pub blocks_total: u32,
    /// Blocks reserved or consumed.
    pub blocks_used: u32,
    /// Profile blocks reserved or consumed.
    pub profile_blocks: u32,
    /// Blocks consumed by completed trainings.
    pub blocks_consumed: u32,
    /// Whether it is a paper voucher.
    pub paper: bool,
    /// The next day a new voucher may be issued (R-V2), when one was issued.
    pub next_issue_from: Option<NaiveDate>,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupView {
    /// Id.
    pub id: GroupId,
    /// The program.
    pub program: ProgramId,
    /// The program's title.
    pub title: String,
    /// Status today.
    pub status: GroupStatus,
    /// First day.
    pub starts: NaiveDate,
    /// Last day.
    pub ends: NaiveDate,
    /// Place.
    pub place: String,
    /// Funding.
    pub funding: Funding,
    /// Enrolled listeners (holding a seat).
    pub enrolled: u32,
    /// Of those, confirmed by the provider.
    pub confirmed: u32,
    /// Seats.
    pub capacity: u32,
    /// Seats left.
    pub seats_left: u32,
}

/// A program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgramView {
    /// The program.
    #[serde(flatten)]
    pub program: Program,
}

/// The directory: territories and open organisations, each by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryView {
    /// Territories.
    pub territories: Vec<Territory>,
    /// Organisations not closed by a reorganisation.
    pub orgs: Vec<Organisation>,
}

/// The catalogue: approved programs, by title, each with its groups by start date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueView {
    /// The programs.
    pub programs: Vec<CatalogueEntry>,
}

/// One program of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueEntry {
    /// The program.
    #[serde(flatten)]
    pub program: Program,
    /// Its groups, earliest first.
    pub groups: Vec<GroupView>,
}

/// A worker's training history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingView {
    /// Trainings finished, pass or fail.
    pub completed: usize,
    /// Certificates (passes).
    pub certificates: usize,
    /// The last day of the last finished training.
    pub last_completed_on: Option<NaiveDate>,
    /// The last day of the last passed training.
    pub last_passed_on: Option<NaiveDate>,
    /// The records.
    pub records: Vec<TrainingRecord>,
}

/// Notifications sent to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationsView {
    /// How many.
    pub count: usize,
    /// The kind of the last one.
    pub last: Option<&'static str>,
    /// All of them, oldest first.
    pub items: Vec<Notification>,
}

/// A report value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportView {
    /// The metric.
    pub metric: Metric,
    /// Its value.
    pub value: u64,
}

/// What a query returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum QueryResult {
    /// `show_person`.
    Person(PersonView),
    /// `show_staff`.
    Staff(StaffView),
    /// `show_voucher`.
    Voucher(VoucherView),
    /// `show_group`.
    Group(GroupView),
    /// `show_program`.
    Program(ProgramView),
    /// `catalogue`.
    Catalogue(CatalogueView),
    /// `directory`.
    Directory(DirectoryView),
    /// `show_training`.
    Training(TrainingView),
    /// `show_notifications`.
    Notifications(NotificationsView),
    /// `report`.
    Report(ReportView),
    /// `show_cycle`.
    Cycle(CycleView),
    /// `eligibility`.
    Eligibility(EligibilityView),
    /// `show_quota`.
    Quota(QuotaView),
    /// `show_applications`.
    Applications(ApplicationsView),
    /// `plan_schedule`.
    PlanSchedule(PlanScheduleView),
    /// `plan_execution`.
    PlanExecution(PlanExecutionView),
    /// `funding_report`.
    Funding(FundingView),
    /// `preferences_summary`.
    Preferences(PreferencesView),
    /// `verify_certificate`.
    CertificateCheck(CertificateCheckView),
    /// `trajectory`.
    Trajectory(TrajectoryView),
    /// `slice`, `ready_report`.
    Slice(SliceView),
    /// `overdue`.
    Overdue(OverdueView),
    /// `group_registry`, `registry`.
    Registry(crate::registry::RegistryView),
    /// `frdo_export`.
    Frdo(crate::registry::FrdoView),
    /// `surveys`.
    Surveys(SurveysView),
    /// `survey_results`.
    SurveyResults(SurveyResultsView),
}

/// The open surveys a person may answer (R-R2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveysView {
    /// How many.
    pub count: usize,
    /// Of those, answered already.
    pub answered: usize,
    /// The surveys, by first day and title.
    pub surveys: Vec<SurveyEntry>,
}

/// A survey a person may answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveyEntry {
    /// The survey.
    #[serde(flatten)]
    pub survey: crate::survey::Survey,
    /// Whether the person answered it.
    pub answered: bool,
}

/// A survey's results by slice (R-R2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveyResultsView {
    /// The survey.
    pub survey: SurveyId,
    /// Its title.
    pub title: String,
    /// `monitoring`, `satisfaction` or `deficits`.
    pub kind: &'static str,
    /// Respondents in the reader's slice, each once.
    pub respondents: u64,
    /// The dimensions grouped by.
    pub dimensions: Vec<crate::report::Dimension>,
    /// The groups, ordered by key.
    pub rows: Vec<SurveyResultLine>,
}

/// One group of a survey's results, with its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SurveyResultLine {
    /// The keys, one per dimension.
    pub key: Vec<String>,
    /// The keys' Russian labels (territory and organisation names).
    pub labels: Vec<String>,
    /// Respondents in the group, each once.
    pub respondents: u64,
    /// Per question, in the form's order.
    pub questions: Vec<crate::survey::QuestionResult>,
}

/// A report in a slice (R-R1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SliceView {
    /// The dimensions grouped by.
    pub dimensions: Vec<crate::report::Dimension>,
    /// The groups, ordered by key.
    pub rows: Vec<SliceLine>,
    /// Hours trained within the cycle, over all groups.
    pub hours: u64,
}

/// One group of a slice, with its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SliceLine {
    /// The keys, one per dimension.
    pub key: Vec<String>,
    /// The keys' Russian labels (territory and organisation names).
    pub labels: Vec<String>,
    /// Workers, each once.
    pub workers: u64,
    /// Hours trained within the cycle.
    pub hours: u64,
}

/// What is past its deadline in a slice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueView {
    /// Voucher applications past the operator's deadline (R-V4).
    pub approvals: Vec<OverdueItem>,
    /// Personal-data changes and workplaces unconfirmed after ten working days (R-A7, R-A8).
    pub unconfirmed: Vec<OverdueItem>,
}

/// One overdue item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueItem {
    /// The worker.
    pub person: PersonId,
    /// Their organisation.
    pub org: OrgId,
    /// What waits: `voucher`, `personal_data` or `workplace`.
    pub what: String,
    /// Since when it waits.
    pub since: NaiveDate,
    /// The last day it was due.
    pub due: NaiveDate,
}

/// A worker's individual trajectory (R-R3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrajectoryView {
    /// How many programs are recommended.
    pub count: usize,
    /// Whether the worker is due for training by the end of the year (R-V11).
    pub due: bool,
    /// The recommendations, best first.
    pub programs: Vec<crate::planning::Recommendation>,
}

/// What a certificate certifies, for anyone holding its series, number and code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateCheckView {
    /// The series.
    pub series: String,
    /// The registration number.
    pub number: String,
    /// The holder: the surname and initials, e.g. `Иванова М. П.`.
    pub holder: String,
    /// The program's title.
    pub program: String,
    /// Hours.
    pub hours: u32,
    /// The first day of training, when the group is known.
    pub starts: Option<NaiveDate>,
    /// The last day of training.
    pub ends: NaiveDate,
    /// The provider's name.
    pub provider: String,
    /// The issue day.
    pub issued_on: NaiveDate,
}

/// The year's planning cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CycleView {
    /// The cycle.
    #[serde(flatten)]
    pub cycle: crate::planning::Cycle,
    /// The current stage's name, where the region has stages.
    pub stage_name: Option<String>,
}

/// The workers due for planned training.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EligibilityView {
    /// How many.
    pub count: usize,
    /// Of those, never trained.
    pub never_trained: usize,
    /// The workers, by person id.
    pub workers: Vec<crate::planning::Eligible>,
}

/// A worker's quota number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaView {
    /// The number, `none` when the worker holds none.
    pub number: String,
    /// `assigned`, `used`, `refused`, or `none`.
    pub status: &'static str,
    /// The record.
    pub quota: Option<crate::planning::Quota>,
}

/// A worker's applications for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationsView {
    /// How many.
    pub count: usize,
    /// The state of the first (most workers apply once): `applied`, `placed`, …, or `none`.
    pub status: &'static str,
    /// The applications, oldest first.
    pub items: Vec<PlanEntry>,
}

/// One line of the plan-schedule: a formed group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanLine {
    /// The group.
    pub group: GroupView,
    /// The provider.
    pub provider: OrgId,
    /// The place of study.
    pub place: TerritoryId,
    /// The quarter.
    pub period: u8,
}

/// The consolidated plan-schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanScheduleView {
    /// The planning year.
    pub year: i32,
    /// Formed groups.
    pub groups: usize,
    /// Applications placed.
    pub placed: usize,
    /// Applications waiting for forming.
    pub applied: usize,
    /// Applications on the waitlist.
    pub waitlisted: usize,
    /// Applications offered a seat.
    pub offered: usize,
    /// Applications not placed and not waitlisted (below the minimum, unavailable).
    pub unplaced: usize,
    /// The day the ministry approved it.
    pub approved_on: Option<NaiveDate>,
    /// The lines, by period, place and program.
    pub lines: Vec<PlanLine>,
}

/// One row of the plan-schedule's execution monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionRow {
    /// The provider.
    pub provider: OrgId,
    /// The place of study.
    pub territory: TerritoryId,
    /// Groups planned up to the quarter's end.
    pub planned: usize,
    /// Of those, started by the quarter's end (or today, if earlier).
    pub started: usize,
    /// Of those, ended by the quarter's end with results recorded.
    pub completed: usize,
    /// Listeners in the planned groups.
    pub listeners: u32,
}

/// The plan-schedule's execution for a quarter (R-W2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanExecutionView {
    /// The year.
    pub year: i32,
    /// The quarter.
    pub quarter: u8,
    /// The day the monitoring is due (the 10th of the next month).
    pub due: Option<NaiveDate>,
    /// Totals.
    pub planned: usize,
    /// Totals.
    pub started: usize,
    /// Totals.
    pub completed: usize,
    /// By provider and territory.
    pub rows: Vec<ExecutionRow>,
}

/// Financing for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundingView {
    /// The year.
    pub year: i32,
    /// The accounts, by source.
    pub accounts: Vec<FundingLine>,
}

/// One source's limit and use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundingLine {
    /// The source.
    pub source: Funding,
    /// The limit, if set.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub limit: Option<crate::planning::Money>,
    /// Committed.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub used: crate::planning::Money,
    /// Left under the limit.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub left: Option<crate::planning::Money>,
    /// Commitments made.
    pub commitments: u64,
}

/// Questionnaire answers counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreferencesView {
    /// Answers.
    pub answers: usize,
    /// Workers per direction, most wanted first.
    pub directions: Vec<Wanted>,
    /// Workers per topic, most wanted first.
    pub topics: Vec<Wanted>,
    /// Workers per form of study.
    pub forms: Vec<WantedForm>,
}

/// How many workers want a direction or topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Wanted {
    /// The direction or topic.
    pub name: String,
    /// Workers who named it.
    pub count: usize,
}

/// How many workers want a form of study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WantedForm {
    /// The form.
    pub form: crate::planning::StudyForm,
    /// Workers who named it.
    pub count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Lock;

    /// R-W3, R-W4: every command that reads a planning year's cycle or applications and
    /// writes them back locks the year; a worker's offer locks the worker first, then the
    /// year (`Lock`'s order, so no two commands wait on each other in a cycle).
    #[test]
    fn planning_commands_lock_their_year_after_the_worker() {
        let worker = PersonId(uuid::Uuid::from_u128(1));
        let program = ProgramId(uuid::Uuid::from_u128(2));
        for c in [
            Command::AdvanceStage { year: 2026 },
            Command::SetPriorities { year: 2026, priorities: vec![] },
            Command::SetFinancingNorm { year: 2026, program: None, amount: crate::planning::Money::ONE },
            Command::ApproveRegistry { year: 2026 },
            Command::IssueQuotas { year: 2026 },
            Command::FormGroups { year: 2026 },
            Command::ApprovePlan { year: 2026 },
            Command::ExpireOffers { year: 2026 },
        ] {
            assert_eq!(c.locks(None), [Lock::Year(2026)], "{}", c.name());
        }
        for c in [
            Command::AcceptOffer { worker, program, year: 2026 },
            Command::DeclineOffer { worker, program, year: 2026 },
        ] {
            assert_eq!(c.locks(None), [Lock::Person(worker), Lock::Year(2026)], "{}", c.name());
        }
        let enrol = Command::Enroll { worker, group: GroupId(uuid::Uuid::from_u128(3)) };
        assert_eq!(enrol.locks(None), [Lock::Person(worker)]);
    }
}
