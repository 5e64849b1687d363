//! The permission model as a table: every role × every action × a target inside and outside
//! the grant's scope, against the actors the scenario vocabulary names for each action.

use chrono::{TimeZone, Utc};
use kadry_core::access::{Action, Actor, ActorInfo, OrgRef, Target, authorize, roles_for};
use kadry_core::ids::*;
use kadry_core::model::{Person, Role, RoleGrant, Scope};
use kadry_core::types::{Email, FullName};
use uuid::Uuid;

/// The vocabulary's actors per action, restated independently of `roles_for`:
/// W worker (self), R org responsible, H org head, T territory, P provider, E expert,
/// M ministry, O operator; `*` public to every person.
const TABLE: &[(Action, &str)] = &[
    (Action::RegisterTerritory, "O"),
    (Action::RegisterOrg, "TO"),
    (Action::ReorganizeOrg, "TO"),
    (Action::RegisterPerson, "RO"),
    (Action::RegisterOfficial, "O"),
    (Action::ConfirmEmail, "W"),
    (Action::GrantRole, "O"),
    (Action::RequestRole, "W"),
    (Action::ApproveRoleRequest, "O"),
    (Action::RestoreRole, "O"),
    (Action::UpdatePerson, "WRO"),
    (Action::ConfirmPersonChange, "RO"),
    (Action::ConfirmWorkplace, "RO"),
    (Action::Dismiss, "R"),
    (Action::Transfer, "R"),
    (Action::ClaimWorkplace, "W"),
    (Action::RequestVoucher, "WR"),
    (Action::ApproveVoucher, "O"),
    (Action::RejectVoucher, "O"),
    (Action::RecordPaperVoucher, "O"),
    (Action::CancelVoucher, "O"),
    (Action::SubmitProgram, "P"),
    (Action::ApproveProgram, "O"),
    (Action::OpenGroup, "P"),
    (Action::Enroll, "WR"),
    (Action::ConfirmEnrollment, "P"),
    (Action::RemoveFromGroup, "RP"),
    (Action::CompleteGroup, "P"),
    (Action::PlanTraining, "WR"),
    (Action::ShowPerson, "WRHTMO"),
    (Action::ShowStaff, "RHTMO"),
    (Action::ShowVoucher, "WRHTMO"),
    (Action::ShowGroup, "*"),
    (Action::ShowProgram, "*"),
    (Action::ShowDirectory, "*"),
    (Action::ShowTraining, "WRHTMO"),
    (Action::ShowNotifications, "WRHTMO"),
    (Action::Report, "RHTMO"),
    // R-W3: the regional operator runs the cycle.
    (Action::AdvanceStage, "O"),
    // R-W3, R-F1: the ministry sets priorities, norms and limits, approves registry and plan.
    (Action::SetPriorities, "M"),
    (Action::SetFinancingNorm, "M"),
    (Action::SetFundingLimit, "M"),
    // R-W3: the expert council.
    (Action::ReviewProgram, "E"),
    (Action::RecordProtocol, "E"),
    (Action::ApproveRegistry, "M"),
    (Action::IssueQuotas, "O"),
    // R-W3: the organisation's operator, else the district, else the region.
    (Action::RefuseQuota, "RTO"),
    (Action::ReassignQuota, "RTO"),
    (Action::AnswerQuestionnaire, "WR"),
    (Action::SetParentalLeave, "RO"),
    // R-W4, R-W2
    (Action::FormGroups, "O"),
    (Action::ApprovePlan, "M"),
    (Action::AcceptOffer, "WR"),
    (Action::DeclineOffer, "WR"),
    (Action::ExpireOffers, "O"),
    (Action::ShowCycle, "*"),
    (Action::Eligibility, "RHTMO"),
    (Action::ShowQuota, "WRHTMO"),
    (Action::ShowApplications, "WRHTMO"),
    (Action::PlanSchedule, "MO"),
    (Action::PlanExecution, "MO"),
    (Action::FundingReport, "MO"),
    (Action::PreferencesSummary, "EMO"),
    // R-G6: public.
    (Action::VerifyCertificate, "*"),
    // R-R3: like the training history.
    (Action::Trajectory, "WRHTMO"),
    // R-R1: reports in any slice, and what is overdue, for the slices' holders.
    (Action::Slice, "RHTMO"),
    (Action::Overdue, "RHTMO"),
    // R-G6, R-R1: personal data as R-A8's editors; trainings from documents by the territory.
    (Action::SetProfile, "WRO"),
    (Action::SetCategory, "RO"),
    (Action::RecordTraining, "TO"),
    (Action::SetReminders, "WO"),
    (Action::SendReminders, "O"),
    // R-G6: the registry of a period is read like a report; a group's registry and the
    // ФИС ФРДО export are the provider's own, and the ministry's and the operator's.
    (Action::Registry, "RHTMO"),
    (Action::GroupRegistry, "PMO"),
    (Action::FrdoExport, "PMO"),
    // R-R2: the operator designs forms (the ministry for the region, a territory for its own),
    // workers answer for themselves, results are read like a slice.
    (Action::CreateSurvey, "TMO"),
    (Action::CloseSurvey, "TMO"),
    (Action::AnswerSurvey, "W"),
    (Action::Surveys, "WRHTMO"),
    (Action::SurveyResults, "RHTMO"),
];

fn letter(role: Role) -> char {
    match role {
        Role::Worker => 'W',
        Role::OrgResponsible => 'R',
        Role::OrgHead => 'H',
        Role::Territory => 'T',
        Role::Provider => 'P',
        Role::Expert => 'E',
        Role::Ministry => 'M',
        Role::Operator => 'O',
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn person(n: u128, confirmed: bool) -> Person {
    Person {
        profile: Default::default(),
        id: PersonId(id(n)),
        full_name: FullName::parse("Иванова Мария Петровна").unwrap(),
        email: Email::parse(&format!("p{n}@example.ru")).unwrap(),
        email_confirmed: confirmed,
        snils: None,
        subject: None,
        birth_year: None,
        consent_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        pending_change: None,
        registered_at: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
    }
}

const ORG: u128 = 100;
const TERRITORY: u128 = 200;
const OTHER_ORG: u128 = 101;
const OTHER_TERRITORY: u128 = 201;

fn scope_for(role: Role) -> Scope {
    match role {
        Role::OrgResponsible | Role::OrgHead | Role::Provider => Scope::Organisation(OrgId(id(ORG))),
        Role::Territory => Scope::Territory(TerritoryId(id(TERRITORY))),
        _ => Scope::Region,
    }
}

fn grant(holder: &Person, role: Role, suspended: bool) -> Vec<RoleGrant> {
    if role == Role::Worker {
        return vec![];
    }
    vec![RoleGrant {
        person: holder.id,
        role,
        scope: scope_for(role),
        basis: "приказ № 1".into(),
        granted_at: holder.registered_at,
        suspended,
    }]
}

/// A target inside every scope the test grants: the holder themself, at ORG in TERRITORY, of
/// provider ORG.
fn inside(holder: &Person) -> Target {
    Target {
        person: Some(holder.id),
        orgs: vec![OrgRef { org: OrgId(id(ORG)), territory: TerritoryId(id(TERRITORY)) }],
        territory: None,
        provider: Some(OrgId(id(ORG))),
    }
}

/// A target outside every scope but the region: another person at another organisation.
fn outside() -> Target {
    Target {
        person: Some(PersonId(id(999))),
        orgs: vec![OrgRef { org: OrgId(id(OTHER_ORG)), territory: TerritoryId(id(OTHER_TERRITORY)) }],
        territory: None,
        provider: Some(OrgId(id(OTHER_ORG))),
    }
}

#[test]
fn the_table_covers_every_action() {
    assert_eq!(TABLE.len(), Action::ALL.len());
    for a in Action::ALL {
        assert!(TABLE.iter().any(|(t, _)| *t == a), "{a:?} missing from the table");
    }
}

#[test]
fn every_role_every_action_inside_and_outside_scope() {
    let holder = person(1, true);
    let mut checked = 0;
    for (action, who) in TABLE {
        for role in Role::ALL {
            let grants = grant(&holder, role, false);
            let info = ActorInfo { actor: Actor::Person(holder.id), person: Some(&holder), grants: &grants };
            let named = *who == "*" || who.contains(letter(role));
            let region_wide = matches!(role, Role::Expert | Role::Ministry | Role::Operator);
            // The worker role is implicit: a worker-named action is allowed on oneself whatever
            // else the holder has.
            let self_ok = who.contains('W');
            let expect_in = named || self_ok;
            let expect_out = *who == "*" || (named && region_wide);
            let got_in = authorize(&info, *action, &inside(&holder)).is_ok();
            let got_out = authorize(&info, *action, &outside());
            assert_eq!(got_in, expect_in, "{action:?} by {role:?} inside scope");
            assert_eq!(got_out.is_ok(), expect_out, "{action:?} by {role:?} outside scope");
            if let Err(e) = got_out {
                assert_eq!(e.code(), "access.denied");
            }
            checked += 2;
        }
        // The implementation's table agrees with the vocabulary's.
        let mut letters: Vec<char> = roles_for(*action).iter().map(|r| letter(*r)).collect();
        letters.sort_unstable();
        let mut expected: Vec<char> = if *who == "*" { "WRHTPEMO".chars().collect() } else { who.chars().collect() };
        expected.sort_unstable();
        assert_eq!(letters, expected, "{action:?}");
    }
    assert_eq!(checked, TABLE.len() * 8 * 2);
}

/// A territory role covers organisations in its territory and the territory itself, nothing
/// region-wide; an organisation role never covers a territory slice.
#[test]
fn territory_and_region_slices() {
    let holder = person(1, true);
    let t = TerritoryId(id(TERRITORY));
    for (role, terr_ok, region_ok) in [
        (Role::Territory, true, false),
        (Role::OrgResponsible, false, false),
        (Role::OrgHead, false, false),
        (Role::Ministry, true, true),
    ] {
        let grants = grant(&holder, role, false);
        let info = ActorInfo { actor: Actor::Person(holder.id), person: Some(&holder), grants: &grants };
        assert_eq!(authorize(&info, Action::Report, &Target::territory(t)).is_ok(), terr_ok, "{role:?} territory");
        assert_eq!(authorize(&info, Action::Report, &Target::region()).is_ok(), region_ok, "{role:?} region");
    }
}

/// R-A9: a suspended grant gives nothing; the holder still acts as a worker for themself.
#[test]
fn r_a9_suspended_grant_is_denied() {
    let holder = person(1, true);
    let grants = grant(&holder, Role::OrgResponsible, true);
    let info = ActorInfo { actor: Actor::Person(holder.id), person: Some(&holder), grants: &grants };
    let target = Target { person: None, ..inside(&holder) };
    assert_eq!(authorize(&info, Action::ShowStaff, &target).unwrap_err().code(), "access.denied");
    assert_eq!(authorize(&info, Action::Dismiss, &target).unwrap_err().code(), "access.denied");
    assert!(authorize(&info, Action::ShowPerson, &inside(&holder)).is_ok());
}

/// R-A5: before confirming the email a person may only confirm it.
#[test]
fn r_a5_unconfirmed_email_may_only_confirm() {
    let holder = person(1, false);
    let grants = grant(&holder, Role::Operator, false);
    let info = ActorInfo { actor: Actor::Person(holder.id), person: Some(&holder), grants: &grants };
    for action in Action::ALL {
        let r = authorize(&info, action, &inside(&holder));
        if action == Action::ConfirmEmail {
            assert!(r.is_ok());
        } else {
            assert_eq!(r.unwrap_err().code(), "account.email_unconfirmed", "{action:?}");
        }
    }
}

/// Somebody without an account may only register; scheduled work may only read and sweep
/// expired waitlist offers (R-W4).
#[test]
fn anonymous_and_system_actors() {
    for action in Action::ALL {
        let anon =
            authorize(&ActorInfo { actor: Actor::Anonymous, person: None, grants: &[] }, action, &Target::region());
        let anonymous_ok = matches!(action, Action::RegisterPerson | Action::ShowDirectory | Action::VerifyCertificate);
        assert_eq!(anon.is_ok(), anonymous_ok, "{action:?}");
        let sys = authorize(&ActorInfo { actor: Actor::System, person: None, grants: &[] }, action, &Target::region());
        let scheduled = matches!(action, Action::ExpireOffers | Action::SendReminders);
        assert_eq!(sys.is_ok(), action.is_query() || scheduled, "{action:?}");
    }
}

/// R-A12: an organisation scope covers exactly that organisation, not a subdivision of it.
#[test]
fn r_a12_subdivision_is_outside_the_parents_scope() {
    let holder = person(1, true);
    let grants = grant(&holder, Role::OrgResponsible, false);
    let info = ActorInfo { actor: Actor::Person(holder.id), person: Some(&holder), grants: &grants };
    let subdivision = Target::org(OrgRef { org: OrgId(id(102)), territory: TerritoryId(id(TERRITORY)) });
    assert_eq!(authorize(&info, Action::ShowStaff, &subdivision).unwrap_err().code(), "access.denied");
}
