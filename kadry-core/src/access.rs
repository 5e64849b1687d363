//! The permission model: who may do what, and where. Every command and query is checked here,
//! in one place ([`authorize`]), before any argument or rule is looked at.
//!
//! A role's grant has a scope (the person themself, an organisation, a territory, the region);
//! an action has a [`Target`] resolved from the current state (the person it is about, the
//! organisations and territory it touches, the provider it belongs to). The actor may act when
//! one of their unsuspended grants has a role the action admits ([`roles_for`]) and a scope that
//! covers the target.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{OrgId, PersonId, TerritoryId};
use crate::model::{Person, Role, RoleGrant, Scope};

/// Who issues a command or a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// A person with an account.
    Person(PersonId),
    /// Somebody without an account yet: may only register themself.
    Anonymous,
    /// The host's scheduled work: may run queries and scheduled commands.
    System,
}

/// Every command and query of the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Action {
    RegisterTerritory,
    RegisterOrg,
    ReorganizeOrg,
    RegisterPerson,
    RegisterOfficial,
    ConfirmEmail,
    GrantRole,
    RequestRole,
    ApproveRoleRequest,
    RestoreRole,
    UpdatePerson,
    ConfirmPersonChange,
    ConfirmWorkplace,
    Dismiss,
    Transfer,
    ClaimWorkplace,
    RequestVoucher,
    ApproveVoucher,
    RejectVoucher,
    RecordPaperVoucher,
    CancelVoucher,
    SubmitProgram,
    ApproveProgram,
    OpenGroup,
    Enroll,
    ConfirmEnrollment,
    RemoveFromGroup,
    CompleteGroup,
    PlanTraining,
    AdvanceStage,
    SetPriorities,
    SetFinancingNorm,
    SetFundingLimit,
    ReviewProgram,
    RecordProtocol,
    ApproveRegistry,
    IssueQuotas,
    RefuseQuota,
    ReassignQuota,
    AnswerQuestionnaire,
    SetParentalLeave,
    FormGroups,
    ApprovePlan,
    AcceptOffer,
    DeclineOffer,
    ExpireOffers,
    SetProfile,
    SetCategory,
    RecordTraining,
    SetReminders,
    SendReminders,
    ShowPerson,
    ShowStaff,
    ShowVoucher,
    ShowGroup,
    ShowProgram,
    ShowDirectory,
    ShowTraining,
    ShowNotifications,
    Report,
    ShowCycle,
    Eligibility,
    ShowQuota,
    ShowApplications,
    PlanSchedule,
    PlanExecution,
    FundingReport,
    PreferencesSummary,
    VerifyCertificate,
    Trajectory,
    Slice,
    Overdue,
    GroupRegistry,
    Registry,
    FrdoExport,
    CreateSurvey,
    CloseSurvey,
    AnswerSurvey,
    Surveys,
    SurveyResults,
}

impl Action {
    /// Every action, for exhaustive tests.
    pub const ALL: [Action; 80] = [
        Action::RegisterTerritory,
        Action::RegisterOrg,
        Action::ReorganizeOrg,
        Action::RegisterOfficial,
        Action::RegisterPerson,
        Action::ConfirmEmail,
        Action::GrantRole,
        Action::RequestRole,
        Action::ApproveRoleRequest,
        Action::RestoreRole,
        Action::UpdatePerson,
        Action::ConfirmPersonChange,
        Action::ConfirmWorkplace,
        Action::Dismiss,
        Action::Transfer,
        Action::ClaimWorkplace,
        Action::RequestVoucher,
        Action::ApproveVoucher,
        Action::RejectVoucher,
        Action::RecordPaperVoucher,
        Action::CancelVoucher,
        Action::SubmitProgram,
        Action::ApproveProgram,
        Action::OpenGroup,
        Action::Enroll,
        Action::ConfirmEnrollment,
        Action::RemoveFromGroup,
        Action::CompleteGroup,
        Action::PlanTraining,
        Action::AdvanceStage,
        Action::SetPriorities,
        Action::SetFinancingNorm,
        Action::SetFundingLimit,
        Action::ReviewProgram,
        Action::RecordProtocol,
        Action::ApproveRegistry,
        Action::IssueQuotas,
        Action::RefuseQuota,
        Action::ReassignQuota,
        Action::AnswerQuestionnaire,
        Action::SetParentalLeave,
        Action::FormGroups,
        Action::ApprovePlan,
        Action::AcceptOffer,
        Action::DeclineOffer,
        Action::ExpireOffers,
        Action::SetProfile,
        Action::SetCategory,
        Action::RecordTraining,
        Action::SetReminders,
        Action::SendReminders,
        Action::ShowPerson,
        Action::ShowStaff,
        Action::ShowVoucher,
        Action::ShowGroup,
        Action::ShowProgram,
        Action::ShowDirectory,
        Action::ShowTraining,
        Action::ShowNotifications,
        Action::Report,
        Action::ShowCycle,
        Action::Eligibility,
        Action::ShowQuota,
        Action::ShowApplications,
        Action::PlanSchedule,
        Action::PlanExecution,
        Action::FundingReport,
        Action::PreferencesSummary,
        Action::VerifyCertificate,
        Action::Trajectory,
        Action::Slice,
        Action::Overdue,
        Action::GroupRegistry,
        Action::Registry,
        Action::FrdoExport,
        Action::CreateSurvey,
        Action::CloseSurvey,
        Action::AnswerSurvey,
        Action::Surveys,
        Action::SurveyResults,
    ];

    /// Whether the action is a query (changes nothing).
    pub fn is_query(self) -> bool {
        matches!(
            self,
            Action::ShowPerson
                | Action::ShowStaff
                | Action::ShowVoucher
                | Action::ShowGroup
                | Action::ShowProgram
                | Action::ShowDirectory
                | Action::ShowTraining
                | Action::ShowNotifications
                | Action::Report
                | Action::ShowCycle
                | Action::Eligibility
                | Action::ShowQuota
                | Action::ShowApplications
                | Action::PlanSchedule
                | Action::PlanExecution
                | Action::FundingReport
                | Action::PreferencesSummary
                | Action::VerifyCertificate
                | Action::Trajectory
                | Action::Slice
                | Action::Overdue
                | Action::GroupRegistry
                | Action::Registry
                | Action::FrdoExport
                | Action::Surveys
                | Action::SurveyResults
        )
    }

    /// Whether the host's scheduler (`Actor::System`) may run it: queries, and the sweep of
    /// expired waitlist offers.
    pub fn is_scheduled(self) -> bool {
        self.is_query() || matches!(self, Action::ExpireOffers | Action::SendReminders)
    }

    /// Whether every person may run it (programs and groups are visible to every person).
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Action::ShowGroup
                | Action::ShowProgram
                | Action::ShowDirectory
                | Action::ShowCycle
                | Action::VerifyCertificate
        )
    }

    /// Whether somebody without an account may run it: registering themself, and reading the
    /// directory of territories and organisations they register at.
    pub fn is_anonymous(self) -> bool {
        matches!(self, Action::RegisterPerson | Action::ShowDirectory | Action::VerifyCertificate)
    }
}

/// The roles that may perform `action` (scope permitting). The single table of the permission
/// model; `scenario-format.md` names the actor of every command.
pub fn roles_for(action: Action) -> &'static [Role] {
    use Action as A;
    use Role::*;
    match action {
        A::RegisterTerritory => &[Operator],
        A::RegisterOrg | A::ReorganizeOrg => &[Territory, Operator],
        A::RegisterOfficial => &[Operator],
        // R-A6: a responsible registers workers of their own organisation; self-registration is
        // the anonymous path.
        A::RegisterPerson => &[OrgResponsible, Operator],
        A::ConfirmEmail | A::RequestRole | A::ClaimWorkplace => &[Worker],
        A::GrantRole | A::ApproveRoleRequest | A::RestoreRole => &[Operator],
        // R-A8
        A::UpdatePerson => &[Worker, OrgResponsible, Operator],
        A::ConfirmPersonChange | A::ConfirmWorkplace => &[OrgResponsible, Operator],
        // R-E1, R-E2
        A::Dismiss | A::Transfer => &[OrgResponsible],
        // R-V3
        A::RequestVoucher => &[Worker, OrgResponsible],
        // R-V4, R-V10
        A::ApproveVoucher | A::RejectVoucher | A::RecordPaperVoucher | A::CancelVoucher => &[Operator],
        A::SubmitProgram | A::OpenGroup | A::ConfirmEnrollment | A::CompleteGroup => &[Provider],
        // R-P1
        A::ApproveProgram => &[Operator],
        // R-G2, R-W1
        A::Enroll | A::PlanTraining => &[Worker, OrgResponsible],
        // R-G5
        A::RemoveFromGroup => &[OrgResponsible, Provider],
        // R-R3: the trajectory is read like the training history.
        A::ShowPerson | A::ShowVoucher | A::ShowTraining | A::ShowNotifications | A::Trajectory | A::Surveys => {
            &[Worker, OrgResponsible, OrgHead, Territory, Ministry, Operator]
        }
        // R-R1
        A::ShowStaff | A::Report | A::Slice | A::Overdue | A::Registry => {
            &[OrgResponsible, OrgHead, Territory, Ministry, Operator]
        }
        // R-G6: the provider prints its groups' registries and uploads its certificates; the
        // ministry and the operator see every provider's.
        A::GroupRegistry | A::FrdoExport => &[Provider, Ministry, Operator],
        // R-R2: results are read like a slice, within the reader's scope.
        A::SurveyResults => &[OrgResponsible, OrgHead, Territory, Ministry, Operator],
        // R-R2: the operator designs forms; the ministry for the region, a territory for its own.
        A::CreateSurvey | A::CloseSurvey => &[Territory, Ministry, Operator],
        // R-R2: a worker answers for themself.
        A::AnswerSurvey => &[Worker],
        // R-G6: a certificate's public check needs no account.
        A::ShowGroup | A::ShowProgram | A::ShowDirectory | A::ShowCycle | A::VerifyCertificate => &Role::ALL,
        // R-W3: the regional operator runs the cycle; the ministry sets norms, limits and
        // approves; the expert council reviews.
        A::AdvanceStage | A::IssueQuotas | A::FormGroups | A::ExpireOffers => &[Operator],
        // R-F1
        A::SetPriorities | A::SetFinancingNorm | A::SetFundingLimit | A::ApproveRegistry | A::ApprovePlan => {
            &[Ministry]
        }
        A::ReviewProgram | A::RecordProtocol => &[Expert],
        // R-W3: the organisation's operator, else the district, else the regional operator.
        A::RefuseQuota | A::ReassignQuota => &[OrgResponsible, Territory, Operator],
        A::AnswerQuestionnaire | A::AcceptOffer | A::DeclineOffer => &[Worker, OrgResponsible],
        A::SetParentalLeave | A::SetCategory => &[OrgResponsible, Operator],
        // R-G6, R-R1: personal data for the registry, as R-A8's editors.
        A::SetProfile => &[Worker, OrgResponsible, Operator],
        // R-G6: trainings outside the region's funding and paper records, from the document.
        A::RecordTraining => &[Territory, Operator],
        A::SetReminders => &[Worker, Operator],
        A::SendReminders => &[Operator],
        A::ShowQuota | A::ShowApplications => &[Worker, OrgResponsible, OrgHead, Territory, Ministry, Operator],
        A::Eligibility => &[OrgResponsible, OrgHead, Territory, Ministry, Operator],
        A::PlanSchedule | A::PlanExecution => &[Ministry, Operator],
        A::FundingReport => &[Ministry, Operator],
        A::PreferencesSummary => &[Expert, Ministry, Operator],
    }
}

/// An organisation an action touches, with its territory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrgRef {
    /// The organisation.
    pub org: OrgId,
    /// Its territory.
    pub territory: TerritoryId,
}

/// What an action touches, resolved from the current state before authorisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The person the action is about (the `worker` role covers only its holder).
    pub person: Option<PersonId>,
    /// The organisations that must all lie in an organisation or territory scope.
    pub orgs: Vec<OrgRef>,
    /// A territory the action is on (a territory report, a new organisation's territory).
    pub territory: Option<TerritoryId>,
    /// The provider organisation the action belongs to (covered by the `provider` role).
    pub provider: Option<OrgId>,
}

impl Target {
    /// A target about a person, at their current organisations.
    pub fn person(person: PersonId, orgs: Vec<OrgRef>) -> Self {
        Target { person: Some(person), orgs, ..Default::default() }
    }

    /// A target at one organisation.
    pub fn org(org: OrgRef) -> Self {
        Target { orgs: vec![org], ..Default::default() }
    }

    /// A target in one territory.
    pub fn territory(territory: TerritoryId) -> Self {
        Target { territory: Some(territory), ..Default::default() }
    }

    /// A target owned by a provider.
    pub fn provider(provider: OrgId) -> Self {
        Target { provider: Some(provider), ..Default::default() }
    }

    /// The whole region.
    pub fn region() -> Self {
        Target::default()
    }
}

/// Whether a grant of `role` with `scope`, held by `holder`, covers `target`.
pub fn covers(holder: PersonId, role: Role, scope: Scope, target: &Target) -> bool {
    match role {
        Role::Worker => target.person == Some(holder),
        Role::Provider => matches!(scope, Scope::Organisation(p) if target.provider == Some(p)),
        Role::OrgResponsible | Role::OrgHead => match scope {
            // R-A12: exactly the organisation; a structural subdivision has its own responsible.
            Scope::Organisation(o) => {
                target.territory.is_none() && !target.orgs.is_empty() && target.orgs.iter().all(|r| r.org == o)
            }
            _ => false,
        },
        Role::Territory => match scope {
            Scope::Territory(t) => {
                let orgs_in = target.orgs.iter().all(|r| r.territory == t);
                let terr_in = target.territory.is_none_or(|tt| tt == t);
                let something = !target.orgs.is_empty() || target.territory.is_some();
                something && orgs_in && terr_in
            }
            _ => false,
        },
        Role::Expert | Role::Ministry | Role::Operator => true,
    }
}

/// What the authoriser knows of the actor: their account and grants.
#[derive(Debug, Clone)]
pub struct ActorInfo<'a> {
    /// Who acts.
    pub actor: Actor,
    /// Their account, for a person.
    pub person: Option<&'a Person>,
    /// Their explicit grants (the `worker` role is implicit).
    pub grants: &'a [RoleGrant],
}

/// Decides whether the actor may perform `action` on `target`: first whether they may act at
/// all (an account with a confirmed email, R-A5), then role and scope (`access.denied`,
/// including a suspended grant, R-A9).
pub fn authorize(info: &ActorInfo<'_>, action: Action, target: &Target) -> Result<()> {
    match info.actor {
        Actor::Anonymous => {
            return if action.is_anonymous() {
                Ok(())
            } else {
                Err(Error::AccessDenied(format!("{action:?} needs an account")))
            };
        }
        Actor::System => {
            return if action.is_scheduled() {
                Ok(())
            } else {
                Err(Error::AccessDenied(format!("{action:?} is not scheduled work")))
            };
        }
        Actor::Person(_) => {}
    }
    let person = info.person.ok_or_else(|| Error::AccessDenied("unknown actor".into()))?;
    // R-A5: a person acts only after confirming the email.
    if !person.email_confirmed && action != Action::ConfirmEmail {
        return Err(Error::EmailUnconfirmed);
    }
    let allowed = roles_for(action);
    if action.is_public() {
        return Ok(());
    }
    if allowed.contains(&Role::Worker) && covers(person.id, Role::Worker, Scope::Region, target) {
        return Ok(());
    }
    let ok = info
        .grants
        .iter()
        .filter(|g| g.person == person.id && !g.suspended && allowed.contains(&g.role))
        .any(|g| covers(person.id, g.role, g.scope, target));
    if ok { Ok(()) } else { Err(Error::AccessDenied(format!("{action:?} is outside the actor's roles or scope"))) }
}
