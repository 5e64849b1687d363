//! The annual planning cycle (issue 5): the year's cycle record, program expertise by the
//! expert council, eligibility for planned training, Tatarstan's quota numbers, the
//! questionnaire of preferences, automatic forming of groups with a waitlist, and financing
//! limits.
//!
//! Plain data and pure functions; the service loads state, these decide. Rule ids: R-W1..R-W4,
//! R-F1, R-P1.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
pub use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::*;
use crate::model::*;
use crate::policy::RegionPolicy;
use crate::ports::StaffRow;

/// An amount of money in roubles, exact to the kopeck (R-F1).
pub type Money = Decimal;

/// The largest amount kadry accepts: 10^13 roubles, far beyond any regional budget, so that
/// kopecks fit a 64-bit column.
pub const MONEY_MAX: i64 = 10_000_000_000_000;

/// R-F1: parses an amount: non-negative, at most two decimal places, at most [`MONEY_MAX`].
pub fn check_money(amount: Money) -> Result<Money> {
    if amount.is_sign_negative()
        || amount.scale() > 2 && amount.normalize().scale() > 2
        || amount > Decimal::from(MONEY_MAX)
    {
        return Err(Error::InvalidInput(format!("amount {amount}: roubles, at most two decimals, not negative")));
    }
    let mut a = amount.round_dp(2);
    a.rescale(2);
    Ok(a)
}

/// An amount in kopecks, as the SQL stores keep it (exact integers for the conditional
/// update that holds a limit, R-F1).
pub fn to_kopecks(amount: Money) -> i64 {
    let k = (amount.round_dp(2) * Decimal::ONE_HUNDRED).trunc();
    i64::try_from(k).unwrap_or(i64::MAX)
}

/// An amount from kopecks.
pub fn from_kopecks(kopecks: i64) -> Money {
    Decimal::new(kopecks, 2)
}

/// A financing norm for one program (Tatarstan stage 2: «норматив финансирования … в расчёте
/// на одного работника»).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgramNorm {
    /// The program.
    pub program: ProgramId,
    /// Roubles per worker.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub amount: Money,
}

/// The planning cycle of one year: its stage (Tatarstan), the ministry's priorities and
/// financing norms, and the days its milestones were reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cycle {
    /// The planning year.
    pub year: i32,
    /// The current stage (R-W3: Tatarstan's eight stages, 1–8); 0 before the cycle opens.
    pub stage: u8,
    /// The ministry's priority directions for the year (Tatarstan stage 2).
    #[serde(default)]
    pub priorities: Vec<String>,
    /// The financing norm per worker for any program (R-F1).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub norm: Option<Money>,
    /// Norms for particular programs, overriding [`Cycle::norm`].
    #[serde(default)]
    pub program_norms: Vec<ProgramNorm>,
    /// The day the ministry approved and published the registry (Tatarstan stage 5).
    #[serde(default)]
    pub registry_approved_on: Option<NaiveDate>,
    /// The day quota numbers were issued (Tatarstan stage 5).
    #[serde(default)]
    pub quotas_issued_on: Option<NaiveDate>,
    /// The day groups were last formed.
    #[serde(default)]
    pub formed_on: Option<NaiveDate>,
    /// The day the consolidated plan-schedule was approved (Yugra, R-W2).
    #[serde(default)]
    pub plan_approved_on: Option<NaiveDate>,
}

impl Cycle {
    /// A cycle not yet opened.
    pub fn new(year: i32) -> Self {
        Cycle {
            year,
            stage: 0,
            priorities: Vec::new(),
            norm: None,
            program_norms: Vec::new(),
            registry_approved_on: None,
            quotas_issued_on: None,
            formed_on: None,
            plan_approved_on: None,
        }
    }

    /// R-F1: the norm per worker for `program`: its own, else the year's, else zero.
    pub fn norm_for(&self, program: Option<ProgramId>) -> Money {
        program
            .and_then(|p| self.program_norms.iter().find(|n| n.program == p))
            .map(|n| n.amount)
            .or(self.norm)
            .unwrap_or(Decimal::ZERO)
    }
}

/// One stage of expertise (Tatarstan: «техническая экспертиза и содержательная экспертиза»).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExpertiseStage {
    /// Technical expertise: first.
    Technical,
    /// Content expertise: after a passed technical one.
    Content,
}

/// An expert's conclusion at one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    /// The stage.
    pub stage: ExpertiseStage,
    /// The expert.
    pub expert: PersonId,
    /// Whether the program passed it.
    pub passed: bool,
    /// The conclusion's text.
    pub conclusion: String,
    /// The day.
    pub on: NaiveDate,
}

/// A council member's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// For including the program in the registry.
    For,
    /// Against.
    Against,
    /// Abstained: present, not voting.
    Abstain,
}

/// A member's vote in a protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberVote {
    /// The member (holds the `expert` role).
    pub member: PersonId,
    /// The vote.
    pub vote: Vote,
}

/// The council's protocol on a program (004, Положение об отборе п. 2.4: «решения принимаются
/// большинством голосов …, оформляются в виде протокола»).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Protocol {
    /// The protocol's number, e.g. "3".
    pub number: String,
    /// The meeting day.
    pub on: NaiveDate,
    /// The members' votes.
    pub votes: Vec<MemberVote>,
    /// Whether the program is recommended for the registry.
    pub recommended: bool,
}

/// R-W3: the council's decision: a majority of those voting (for against against; abstentions
/// do not vote). A tie is not a majority.
pub fn council_decision(votes: &[MemberVote]) -> bool {
    let yes = votes.iter().filter(|v| v.vote == Vote::For).count();
    let no = votes.iter().filter(|v| v.vote == Vote::Against).count();
    yes > no
}

/// A program's expertise record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Expertise {
    /// Expert conclusions, in order.
    pub reviews: Vec<Review>,
    /// The council's protocol.
    pub protocol: Option<Protocol>,
}

impl Expertise {
    /// Whether the last conclusion at `stage` was a pass.
    pub fn passed(&self, stage: ExpertiseStage) -> bool {
        self.reviews.iter().rev().find(|r| r.stage == stage).is_some_and(|r| r.passed)
    }
}

/// Why a worker is due for planned training in a year (R-W3 stage 1, R-V11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EligibilityReason {
    /// No passed training on record.
    NeverTrained,
    /// The last passed training's cycle ends by the year's end.
    CycleEnds,
}

/// A worker due for planned training in a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Eligible {
    /// The worker.
    pub person: PersonId,
    /// Their organisation.
    pub org: OrgId,
    /// Its territory.
    pub territory: TerritoryId,
    /// Their position.
    pub position: Position,
    /// Why.
    pub reason: EligibilityReason,
    /// The last day of the last passed training.
    pub last_passed_on: Option<NaiveDate>,
    /// The day the training cycle ends (the last day a training keeps the worker within it).
    pub due_by: Option<NaiveDate>,
}

/// The last day of `year`.
pub fn year_end(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// R-W3 stage 1 (004: «автоматическая выборка работников образования, имеющих право на плановое
/// повышение квалификации, на соответствующий календарный год»), R-V11: the active pedagogical
/// workers with no training passed within the training cycle by the end of `year`, each with
/// the reason; those on parental leave only when the policy includes them. Ordered by person.
pub fn eligible(policy: &RegionPolicy, rows: &[StaffRow], year: i32) -> Vec<Eligible> {
    let end = year_end(year);
    let mut out: Vec<Eligible> = rows
        .iter()
        .filter(|r| r.employment.status == EmploymentStatus::Active && r.employment.pedagogical)
        .filter(|r| policy.eligibility_includes_parental_leave || !r.employment.parental_leave)
        .filter_map(|r| {
            let (reason, due_by) = match r.last_passed_on {
                None => (EligibilityReason::NeverTrained, None),
                Some(last) => {
                    let due = RegionPolicy::add_months(last, policy.training_cycle_months);
                    if due > end {
                        return None;
                    }
                    (EligibilityReason::CycleEnds, Some(due))
                }
            };
            Some(Eligible {
                person: r.employment.person,
                org: r.employment.org,
                territory: r.territory,
                position: r.employment.position,
                reason,
                last_passed_on: r.last_passed_on,
                due_by,
            })
        })
        .collect();
    out.sort_by_key(|e| e.person);
    out.dedup_by_key(|e| e.person);
    out
}

/// R-W3 stage 1, R-V11: the latest last passed day that still makes a worker due in `year`:
/// [`eligible`] keeps a worker whose cycle ends by the year's end, and a cycle of
/// `training_cycle_months` from a day ends by the end of `year` exactly when the day is on or
/// before the last day of the month `training_cycle_months` before December of `year`. Stores
/// select by it (`last_passed <= this`) instead of adding months to every worker's day.
pub fn due_if_last_passed_by(policy: &RegionPolicy, year: i32) -> NaiveDate {
    let month = i64::from(year) * 12 + 11 - i64::from(policy.training_cycle_months);
    let (y, m) = (month.div_euclid(12), month.rem_euclid(12) + 1);
    i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, u32::try_from(m).unwrap_or(1), 1))
        .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
        .and_then(|next| next.pred_opt())
        .unwrap_or(NaiveDate::MIN)
}

/// The state of a quota number (R-W3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaStatus {
    /// Held, not yet used for an application.
    Assigned,
    /// Used for an application.
    Used,
    /// Its holder temporarily refused planned training; awaiting reassignment.
    Refused,
}

/// One move of a quota number between workers (kept for the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaMove {
    /// The day.
    pub on: NaiveDate,
    /// The previous holder.
    pub from: PersonId,
    /// The new holder.
    pub to: PersonId,
    /// Who reassigned it.
    pub by: PersonId,
}

/// A Tatarstan unique number (уникальный номер): the right to apply for planned training in a
/// year (R-W3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quota {
    /// The number, e.g. `2026-000042`: unique.
    pub number: String,
    /// The year.
    pub year: i32,
    /// Its holder (after a refusal: the worker who refused, until reassigned).
    pub holder: PersonId,
    /// The organisation it belongs to: it moves only within it.
    pub org: OrgId,
    /// That organisation's territory (the district operator's scope).
    pub territory: TerritoryId,
    /// Its state.
    pub status: QuotaStatus,
    /// The day of the holder's temporary refusal.
    pub refused_on: Option<NaiveDate>,
    /// The amount committed for it (R-F1).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub committed: Money,
    /// Reassignments, oldest first.
    pub moves: Vec<QuotaMove>,
}

/// The quota number for the `n`-th (1-based) eligible worker of `year`.
pub fn quota_number(year: i32, n: usize) -> String {
    format!("{year}-{n:06}")
}

/// Who may reassign a refused number when (R-W3): the organisation's operator at once, the
/// district operator after `days` working days, the regional operator after twice that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reassigner {
    /// The organisation's operator (org responsible).
    Organisation,
    /// The district (territory) operator.
    District,
    /// The regional operator.
    Regional,
}

/// A questionnaire of preferences (R-W3 stage 1: «анкета с указанием предпочитаемых
/// направлений, тем повышения квалификации, форм обучения»).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preferences {
    /// The worker.
    pub person: PersonId,
    /// The planning year.
    pub year: i32,
    /// Preferred directions.
    pub directions: Vec<String>,
    /// Preferred topics.
    pub topics: Vec<String>,
    /// Preferred forms of study.
    pub forms: Vec<StudyForm>,
    /// The day it was answered (the last answer counts).
    pub answered_on: NaiveDate,
}

/// A form of study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StudyForm {
    /// In person (очная).
    InPerson,
    /// Part-time (очно-заочная).
    Blended,
    /// Distance learning (дистанционная).
    Distance,
}

/// The state of an application (a planned training) for a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Applied, awaiting forming.
    #[default]
    Applied,
    /// Placed in a group (enrolled).
    Placed,
    /// Not placed by forming; see the reason.
    Unplaced,
    /// Waiting for a seat (R-W4 waitlist).
    Waitlisted,
    /// Offered a freed seat, held until a day.
    Offered,
    /// Withdrawn (a declined or expired offer, a temporary refusal).
    Withdrawn,
}

/// Why forming left an application out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnplacedReason {
    /// The program's places for the year are taken: on the waitlist.
    NoPlaces,
    /// Too few applications for the program, place and period to form a group of the
    /// program's minimum size.
    BelowMinimum,
    /// The applications left over after the groups were filled to their maximum: on the
    /// waitlist.
    GroupsFull,
    /// The program cannot get groups (not in the registry, or its provider's licence does not
    /// cover the period).
    ProgramUnavailable,
}

impl UnplacedReason {
    /// Whether the application waits on the waitlist for a freed seat.
    pub fn waitlisted(self) -> bool {
        matches!(self, UnplacedReason::NoPlaces | UnplacedReason::GroupsFull)
    }
}

/// An application as forming sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormingApp {
    /// The application.
    pub id: PlanId,
    /// The program.
    pub program: ProgramId,
    /// The place of study (municipality).
    pub place: TerritoryId,
    /// The preferred quarter, 1–4; `None`: any.
    pub period: Option<u8>,
    /// The order of arrival: earlier first.
    pub order: (chrono::DateTime<chrono::Utc>, PlanId),
}

/// A program's limits for forming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormingLimits {
    /// The smallest group.
    pub min: u32,
    /// The largest group.
    pub max: u32,
    /// Places the program offers in the year; `None`: as many as applied.
    pub places: Option<u32>,
    /// Whether the program can get groups at all.
    pub available: bool,
}

/// A group formed from applications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormedGroup {
    /// The program.
    pub program: ProgramId,
    /// The place of study.
    pub place: TerritoryId,
    /// The quarter, 1–4.
    pub period: u8,
    /// The applications placed in it, in order of arrival.
    pub members: Vec<PlanId>,
}

/// What forming produced: every application either in a group or unplaced with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Forming {
    /// The groups, ordered by program, place, period.
    pub groups: Vec<FormedGroup>,
    /// The applications left out, with the reason, in order of arrival per program.
    pub unplaced: Vec<(PlanId, UnplacedReason)>,
}

/// How many groups of `min..=max` to form from `n` applications: as many as needed to seat
/// everyone, fewer when that would make a group smaller than `min`.
pub fn group_count(n: u32, min: u32, max: u32) -> u32 {
    let (min, max) = (min.max(1), max.max(min.max(1)));
    if n < min {
        return 0;
    }
    let mut k = n.div_ceil(max);
    while k > 0 && n / k < min {
        k -= 1;
    }
    k
}

/// R-W3, R-W4: forms groups from applications, by program, place (municipality) and period.
///
/// Deterministic: the same applications (in any order) give the same groups. Per program the
/// first `places` applications in order of arrival compete for groups, the rest are unplaced
/// `no_places` (waitlisted). Applications without a preferred period join the period of their
/// program and place with the most applications (the earliest on a tie; the first quarter when
/// none has one). Each cell gets [`group_count`] groups of balanced sizes within the program's
/// minimum and maximum; a cell below the minimum is unplaced `below_minimum`, the overflow of
/// full groups `groups_full` (waitlisted). Never above a group's maximum.
pub fn form_groups(apps: &[FormingApp], limits: &BTreeMap<ProgramId, FormingLimits>) -> Forming {
    let mut by_program: BTreeMap<ProgramId, Vec<&FormingApp>> = BTreeMap::new();
    for a in apps {
        by_program.entry(a.program).or_default().push(a);
    }
    let mut out = Forming::default();
    for (program, mut list) in by_program {
        list.sort_by_key(|a| a.order);
        let Some(lim) = limits.get(&program).copied().filter(|l| l.available) else {
            out.unplaced.extend(list.iter().map(|a| (a.id, UnplacedReason::ProgramUnavailable)));
            continue;
        };
        let places = lim.places.map_or(list.len(), |p| (p as usize).min(list.len()));
        let (competing, over) = list.split_at(places);
        // Cells by place and period; flexible applications join their place's busiest period.
        let mut explicit: BTreeMap<(TerritoryId, u8), u32> = BTreeMap::new();
        for a in competing {
            if let Some(p) = a.period {
                *explicit.entry((a.place, p)).or_default() += 1;
            }
        }
        let mut cells: BTreeMap<(TerritoryId, u8), Vec<PlanId>> = BTreeMap::new();
        for a in competing {
            let period = a.period.unwrap_or_else(|| {
                explicit
                    .range((a.place, 0)..=(a.place, u8::MAX))
                    .max_by(|x, y| x.1.cmp(y.1).then(y.0.1.cmp(&x.0.1)))
                    .map_or(1, |((_, p), _)| *p)
            });
            cells.entry((a.place, period)).or_default().push(a.id);
        }
        for ((place, period), members) in cells {
            let n = u32::try_from(members.len()).unwrap_or(u32::MAX);
            let k = group_count(n, lim.min, lim.max);
            if k == 0 {
                out.unplaced.extend(members.iter().map(|id| (*id, UnplacedReason::BelowMinimum)));
                continue;
            }
            let seated = n.min(k * lim.max.max(lim.min.max(1))) as usize;
            let (base, extra) = (seated / k as usize, seated % k as usize);
            let mut at = 0;
            for i in 0..k as usize {
                let size = base + usize::from(i < extra);
                out.groups.push(FormedGroup { program, place, period, members: members[at..at + size].to_vec() });
                at += size;
            }
            out.unplaced.extend(members[seated..].iter().map(|id| (*id, UnplacedReason::GroupsFull)));
        }
        out.unplaced.extend(over.iter().map(|a| (a.id, UnplacedReason::NoPlaces)));
    }
    out
}

/// The first and last day of quarter `q` (1–4) of `year`.
pub fn quarter_bounds(year: i32, q: u8) -> Option<(NaiveDate, NaiveDate)> {
    if !(1..=4).contains(&q) {
        return None;
    }
    let first_month = u32::from(q - 1) * 3 + 1;
    let starts = NaiveDate::from_ymd_opt(year, first_month, 1)?;
    let next = if q == 4 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, first_month + 3, 1)?
    };
    Some((starts, next.pred_opt()?))
}

/// The quarter (1–4) of a day.
pub fn quarter_of(d: NaiveDate) -> u8 {
    u8::try_from(d.month0() / 3 + 1).unwrap_or(1)
}

/// R-W2: the last day for the monitoring of quarter `q` of `year`: the 10th of the month after
/// the quarter («ежеквартально до 10 числа месяца, следующего за отчётным»).
pub fn monitoring_due(year: i32, q: u8) -> Option<NaiveDate> {
    let (_, last) = quarter_bounds(year, q)?;
    let next = last.succ_opt()?;
    NaiveDate::from_ymd_opt(next.year(), next.month(), 10)
}

/// A funding account: the limit the ministry set for a year and source, and what is committed
/// against it (R-F1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FundingAccount {
    /// The year.
    pub year: i32,
    /// The source: vouchers (ИОЧ) or the state assignment (госзадание).
    pub source: Funding,
    /// The limit; `None`: none set yet (commitments are tracked, not bounded).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub limit: Option<Money>,
    /// Committed so far.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub used: Money,
    /// How many commitments.
    pub commitments: u64,
}

/// The order sources are listed in: vouchers, the state assignment, paid.
pub fn source_order(source: Funding) -> u8 {
    match source {
        Funding::Voucher => 0,
        Funding::State => 1,
        Funding::Paid => 2,
    }
}

/// R-F1: the change committing `amount` (`count` commitments) against a year and source; none
/// for a zero amount (no norm set for the year).
pub fn commitment(year: i32, source: Funding, amount: Money, count: u64) -> Option<crate::ports::Change> {
    (amount > Decimal::ZERO && count > 0).then_some(crate::ports::Change::Commit { year, source, amount, count })
}

/// R-F1: refuses a commitment of `amount` that would take `account` past its limit.
pub fn check_commitment(account: Option<&FundingAccount>, amount: Money) -> Result<()> {
    if let Some(a) = account
        && let Some(limit) = a.limit
        && a.used + amount > limit
    {
        return Err(Error::FundingLimitExceeded);
    }
    Ok(())
}

/// Why a program is recommended to a worker (R-R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecommendationReason {
    /// It is profile for the worker's position (R-V7).
    ProfileForPosition,
    /// It is meant for the worker's subject by name.
    ForSubject,
    /// Its direction or title matches a direction or topic the worker asked for in the
    /// questionnaire.
    AskedFor,
    /// Its title, direction or annotation mentions a professional deficit the worker reported
    /// in their latest diagnostic (R-R2).
    Deficit,
    /// Its direction is one of the ministry's priorities for the year.
    Priority,
    /// The worker is due for training by the end of the year (R-V11).
    Due,
}

/// A program recommended to a worker, with its score and reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    /// The program.
    pub program: ProgramId,
    /// Its title.
    pub title: String,
    /// Hours.
    pub hours: u32,
    /// The higher, the better the match.
    pub score: u32,
    /// Why, strongest first.
    pub reasons: Vec<RecommendationReason>,
}

/// What a trajectory is built from.
pub struct TrajectoryInput<'a> {
    /// The worker's position.
    pub position: Position,
    /// The worker's subject.
    pub subject: Option<&'a str>,
    /// Programs the worker may take (approved, audience matching).
    pub programs: &'a [Program],
    /// Programs the worker passed already.
    pub taken: &'a [ProgramId],
    /// The worker's questionnaire for the year.
    pub preferences: Option<&'a Preferences>,
    /// The year's priority directions.
    pub priorities: &'a [String],
    /// The deficit topics the worker reported in their latest deficits survey (R-R2).
    pub deficits: &'a [String],
    /// Whether the worker is due for training by the end of the year.
    pub due: bool,
}

fn mentions(haystack: &str, needle: &str) -> bool {
    !needle.trim().is_empty() && haystack.to_lowercase().contains(&needle.trim().to_lowercase())
}

/// R-R3: programs the worker has not taken, ranked: profile for their position (3), for their
/// subject by name (2), asked for in the questionnaire (2), answering a professional deficit the
/// worker reported (2, R-R2), a priority direction (1), and — when
/// the worker is due — every recommendation says so. Ties by title. Only programs with at
/// least one reason besides `due` are recommended.
pub fn trajectory(input: &TrajectoryInput<'_>) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = input
        .programs
        .iter()
        .filter(|p| !input.taken.contains(&p.id))
        .filter_map(|p| {
            let mut reasons = Vec::new();
            let mut score = 0;
            if p.profile_for.contains(&input.position) && p.profile_for != Audience::All {
                reasons.push(RecommendationReason::ProfileForPosition);
                score += 3;
            }
            if let (Audience::Only(subjects), Some(mine)) = (&p.subjects, input.subject)
                && subjects.iter().any(|x| x.eq_ignore_ascii_case(mine))
            {
                reasons.push(RecommendationReason::ForSubject);
                score += 2;
            }
            let text = format!("{} {}", p.direction.as_deref().unwrap_or_default(), p.title);
            if let Some(prefs) = input.preferences
                && prefs.directions.iter().chain(&prefs.topics).any(|w| mentions(&text, w))
            {
                reasons.push(RecommendationReason::AskedFor);
                score += 2;
            }
            let described = format!("{text} {}", p.annotation.as_deref().unwrap_or_default());
            if input.deficits.iter().any(|w| mentions(&described, w)) {
                reasons.push(RecommendationReason::Deficit);
                score += 2;
            }
            if input.priorities.iter().any(|d| p.direction.as_deref().is_some_and(|pd| pd.eq_ignore_ascii_case(d))) {
                reasons.push(RecommendationReason::Priority);
                score += 1;
            }
            if reasons.is_empty() {
                return None;
            }
            if input.due {
                reasons.push(RecommendationReason::Due);
            }
            Some(Recommendation { program: p.id, title: p.title.clone(), hours: p.hours, score, reasons })
        })
        .collect();
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.title.cmp(&b.title)).then(a.program.cmp(&b.program)));
    out
}

/// Decisions of the planning cycle: pure functions of the loaded state, like [`crate::decide`].
pub mod decide {
    use std::collections::BTreeMap;

    use chrono::NaiveDate;

    use super::*;
    use crate::decide::{Ctx, non_empty};
    use crate::policy::WindowAction;
    use crate::ports::Change;

    fn check_year(year: i32) -> Result<()> {
        if (2000..=2100).contains(&year) { Ok(()) } else { Err(Error::InvalidInput(format!("year {year}"))) }
    }

    fn stage_of(cycle: Option<&Cycle>) -> u8 {
        cycle.map_or(0, |c| c.stage)
    }

    /// R-W1..R-W3: `action` for `year` is inside its dated window and at its stage.
    pub fn gate(ctx: &Ctx<'_>, action: WindowAction, year: i32, cycle: Option<&Cycle>) -> Result<()> {
        check_year(year)?;
        ctx.policy.check_planning(action, year, ctx.today, stage_of(cycle))
    }

    /// R-W3: the cycle moves to its next stage, one at a time; the first move opens it.
    pub fn advance_stage(ctx: &Ctx<'_>, cycle: Option<Cycle>, year: i32) -> Result<Vec<Change>> {
        check_year(year)?;
        let last = ctx.policy.stages.iter().map(|s| s.number).max().unwrap_or(0);
        if last == 0 {
            return Err(Error::InvalidState(format!("{} plans by dates, not stages", ctx.policy.region.as_str())));
        }
        let mut c = cycle.unwrap_or_else(|| Cycle::new(year));
        if c.stage >= last {
            return Err(Error::InvalidState(format!("the {year} cycle is at its last stage")));
        }
        c.stage += 1;
        Ok(vec![Change::PutCycle(c)])
    }

    fn texts(field: &str, items: &[String]) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for i in items {
            let t = non_empty(field, i)?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// R-W3 stage 2: the ministry's priority directions.
    pub fn set_priorities(
        ctx: &Ctx<'_>,
        cycle: Option<Cycle>,
        year: i32,
        priorities: &[String],
    ) -> Result<Vec<Change>> {
        gate(ctx, WindowAction::SetNorms, year, cycle.as_ref())?;
        let priorities = texts("priority", priorities)?;
        let c = Cycle { priorities, ..cycle.unwrap_or_else(|| Cycle::new(year)) };
        Ok(vec![Change::PutCycle(c)])
    }

    /// R-F1, R-W3 stage 2: the financing norm per worker, for a program or for all.
    pub fn set_norm(
        ctx: &Ctx<'_>,
        cycle: Option<Cycle>,
        year: i32,
        program: Option<ProgramId>,
        amount: Money,
    ) -> Result<Vec<Change>> {
        gate(ctx, WindowAction::SetNorms, year, cycle.as_ref())?;
        let amount = check_money(amount)?;
        let mut c = cycle.unwrap_or_else(|| Cycle::new(year));
        match program {
            None => c.norm = Some(amount),
            Some(p) => {
                c.program_norms.retain(|n| n.program != p);
                c.program_norms.push(ProgramNorm { program: p, amount });
            }
        }
        Ok(vec![Change::PutCycle(c)])
    }

    /// R-F1: the ministry's limit for a year and source; never below what is committed.
    pub fn set_limit(
        account: Option<&FundingAccount>,
        year: i32,
        source: Funding,
        amount: Money,
    ) -> Result<Vec<Change>> {
        check_year(year)?;
        let limit = check_money(amount)?;
        if source == Funding::Paid {
            return Err(Error::InvalidInput("paid training has no budget limit".into()));
        }
        if account.is_some_and(|a| a.used > limit) {
            return Err(Error::FundingLimitExceeded);
        }
        Ok(vec![Change::SetLimit { year, source, limit }])
    }

    fn council_program(ctx: &Ctx<'_>, program: &Program) -> Result<i32> {
        if !ctx.policy.council_expertise {
            return Err(Error::InvalidState(format!(
                "in {} the operator approves programs after expertise",
                ctx.policy.region.as_str()
            )));
        }
        program.year.ok_or_else(|| Error::InvalidInput("a registry program names its planning year".into()))
    }

    /// R-W3 stage 3: the program's expertise record, while its expertise is open: a council
    /// region, a planning year at its expertise stage, a program not yet decided.
    fn open_expertise(ctx: &Ctx<'_>, cycle: Option<&Cycle>, program: &Program) -> Result<Expertise> {
        let year = council_program(ctx, program)?;
        gate(ctx, WindowAction::Expertise, year, cycle)?;
        if program.status != ProgramStatus::Submitted {
            return Err(Error::InvalidState("the program's expertise is over".into()));
        }
        Ok(program.expertise.clone().unwrap_or_default())
    }

    /// R-W3 stage 3: an expert's conclusion; content expertise follows a passed technical one,
    /// and a failed stage rejects the program.
    pub fn review_program(
        ctx: &Ctx<'_>,
        cycle: Option<&Cycle>,
        program: &Program,
        expert: PersonId,
        stage: ExpertiseStage,
        passed: bool,
        conclusion: &str,
    ) -> Result<Vec<Change>> {
        let mut ex = open_expertise(ctx, cycle, program)?;
        let conclusion = non_empty("conclusion", conclusion)?;
        if stage == ExpertiseStage::Content && !ex.passed(ExpertiseStage::Technical) {
            return Err(Error::InvalidState("content expertise follows a passed technical expertise".into()));
        }
        ex.reviews.push(Review { stage, expert, passed, conclusion, on: ctx.today });
        let status = if passed { ProgramStatus::Submitted } else { ProgramStatus::Rejected };
        Ok(vec![Change::PutProgram(Program { status, expertise: Some(ex), ..program.clone() })])
    }

    /// R-W3 stage 3: the council's protocol; `non_members` are voters without the expert role.
    pub fn record_protocol(
        ctx: &Ctx<'_>,
        cycle: Option<&Cycle>,
        program: &Program,
        number: &str,
        votes: &[MemberVote],
        non_members: &[PersonId],
    ) -> Result<Vec<Change>> {
        let mut ex = open_expertise(ctx, cycle, program)?;
        let number = non_empty("protocol number", number)?;
        if !ex.passed(ExpertiseStage::Technical) || !ex.passed(ExpertiseStage::Content) {
            return Err(Error::InvalidState("the council votes after technical and content expertise".into()));
        }
        if votes.is_empty() {
            return Err(Error::InvalidInput("a protocol records the members' votes".into()));
        }
        if let Some(p) = non_members.first() {
            return Err(Error::InvalidInput(format!("{p} is not a member of the expert council")));
        }
        let mut seen = std::collections::HashSet::new();
        if !votes.iter().all(|v| seen.insert(v.member)) {
            return Err(Error::InvalidInput("a member votes once".into()));
        }
        let recommended = council_decision(votes);
        ex.protocol = Some(Protocol { number, on: ctx.today, votes: votes.to_vec(), recommended });
        let status = if recommended { ProgramStatus::Recommended } else { ProgramStatus::Rejected };
        Ok(vec![Change::PutProgram(Program { status, expertise: Some(ex), ..program.clone() })])
    }

    /// R-W3 stage 5: the ministry approves the registry: every recommended program of the year
    /// is published; only these get groups and applications.
    pub fn approve_registry(
        ctx: &Ctx<'_>,
        cycle: Option<Cycle>,
        year: i32,
        programs: &[Program],
    ) -> Result<Vec<Change>> {
        if !ctx.policy.council_expertise {
            return Err(Error::InvalidState("the region has no registry of the expert council".into()));
        }
        gate(ctx, WindowAction::ApproveRegistry, year, cycle.as_ref())?;
        let mut chosen: Vec<&Program> =
            programs.iter().filter(|p| p.year == Some(year) && p.status == ProgramStatus::Recommended).collect();
        if chosen.is_empty() {
            return Err(Error::InvalidState(format!("no program is recommended for {year}")));
        }
        chosen.sort_by(|a, b| (&a.direction, &a.title, a.id).cmp(&(&b.direction, &b.title, b.id)));
        let mut changes: Vec<Change> = chosen
            .into_iter()
            .map(|p| Change::PutProgram(Program { status: ProgramStatus::Approved, ..p.clone() }))
            .collect();
        let c = Cycle { registry_approved_on: Some(ctx.today), ..cycle.unwrap_or_else(|| Cycle::new(year)) };
        changes.push(Change::PutCycle(c));
        Ok(changes)
    }

    /// R-W3 stage 5, R-F1: a unique number for every eligible worker who holds none, each
    /// committing the year's norm against the state-assignment limit.
    pub fn issue_quotas(
        ctx: &Ctx<'_>,
        cycle: Option<Cycle>,
        year: i32,
        eligible: &[Eligible],
        existing: &[Quota],
        account: Option<&FundingAccount>,
    ) -> Result<Vec<Change>> {
        if !ctx.policy.quotas {
            return Err(Error::InvalidState(format!("{} issues no quota numbers", ctx.policy.region.as_str())));
        }
        gate(ctx, WindowAction::IssueQuotas, year, cycle.as_ref())?;
        let cycle = cycle.unwrap_or_else(|| Cycle::new(year));
        let norm = cycle.norm_for(None);
        // Holders, and those who refused this year and saw their number move on: a second run
        // (for workers hired since) gives neither a new one.
        let holders: std::collections::HashSet<PersonId> =
            existing.iter().flat_map(|q| std::iter::once(q.holder).chain(q.moves.iter().map(|m| m.from))).collect();
        let fresh: Vec<&Eligible> = eligible.iter().filter(|e| !holders.contains(&e.person)).collect();
        let total = norm * Decimal::from(fresh.len() as u64);
        check_commitment(account, total)?; // R-F1
        let mut changes = Vec::with_capacity(fresh.len() + 2);
        for (i, e) in fresh.iter().enumerate() {
            changes.push(Change::PutQuota(Quota {
                number: quota_number(year, existing.len() + i + 1),
                year,
                holder: e.person,
                org: e.org,
                territory: e.territory,
                status: QuotaStatus::Assigned,
                refused_on: None,
                committed: norm,
                moves: Vec::new(),
            }));
        }
        changes.extend(commitment(year, Funding::State, total, fresh.len() as u64));
        changes.push(Change::PutCycle(Cycle { quotas_issued_on: Some(ctx.today), ..cycle }));
        Ok(changes)
    }

    /// R-W3 stage 6: a temporary refusal, agreed by the organisation: the number awaits
    /// reassignment.
    pub fn refuse_quota(ctx: &Ctx<'_>, cycle: Option<&Cycle>, quota: Option<Quota>, year: i32) -> Result<Vec<Change>> {
        gate(ctx, WindowAction::ReassignQuota, year, cycle)?;
        let q = quota.ok_or(Error::QuotaInvalid)?;
        match q.status {
            QuotaStatus::Assigned => {}
            QuotaStatus::Used => {
                return Err(Error::InvalidState("the number is used by an application".into()));
            }
            QuotaStatus::Refused => return Err(Error::InvalidState("the refusal is recorded already".into())),
        }
        Ok(vec![Change::PutQuota(Quota { status: QuotaStatus::Refused, refused_on: Some(ctx.today), ..q })])
    }

    /// R-W3: the first day `who` may reassign a number refused on `refused_on`.
    pub fn reassign_from(ctx: &Ctx<'_>, refused_on: NaiveDate, who: Reassigner) -> NaiveDate {
        let n = ctx.policy.quota_reassign_working_days;
        match who {
            Reassigner::Organisation => refused_on,
            Reassigner::District => ctx.calendar.add_working_days(refused_on, n + 1),
            Reassigner::Regional => ctx.calendar.add_working_days(refused_on, 2 * n + 1),
        }
    }

    /// What a reassignment reads about the new holder.
    pub struct NewHolder<'a> {
        /// The worker.
        pub person: PersonId,
        /// Their employments.
        pub employments: &'a [Employment],
        /// The number they hold this year, if any.
        pub quota: Option<&'a Quota>,
    }

    /// R-W3 stage 6: a refused number moves to another worker of the same organisation — by
    /// its operator, after the deadline by the district operator, then the regional one.
    pub fn reassign_quota(
        ctx: &Ctx<'_>,
        cycle: Option<&Cycle>,
        quota: Quota,
        to: &NewHolder<'_>,
        by: (PersonId, Reassigner),
    ) -> Result<Vec<Change>> {
        gate(ctx, WindowAction::ReassignQuota, quota.year, cycle)?;
        if quota.status != QuotaStatus::Refused {
            return Err(Error::InvalidState("only a refused number is reassigned".into()));
        }
        let refused_on = quota.refused_on.unwrap_or(ctx.today);
        let from = reassign_from(ctx, refused_on, by.1);
        if ctx.today < from {
            return Err(Error::AccessDenied(format!("this operator may reassign the number from {from}")));
        }
        let e = crate::decide::active_employment(to.employments)?;
        if e.org != quota.org {
            return Err(Error::QuotaOtherOrg);
        }
        if !e.pedagogical {
            return Err(Error::InvalidInput("quota numbers go to pedagogical workers".into()));
        }
        if to.quota.is_some() {
            return Err(Error::InvalidState("the worker holds a number for the year already".into()));
        }
        let mut moves = quota.moves.clone();
        moves.push(QuotaMove { on: ctx.today, from: quota.holder, to: to.person, by: by.0 });
        Ok(vec![Change::PutQuota(Quota {
            holder: to.person,
            status: QuotaStatus::Assigned,
            refused_on: None,
            moves,
            ..quota
        })])
    }

    /// R-W3 stage 1: the worker's questionnaire of preferences (the last answer counts).
    pub fn answer_questionnaire(
        ctx: &Ctx<'_>,
        cycle: Option<&Cycle>,
        person: PersonId,
        employments: &[Employment],
        year: i32,
        answers: (&[String], &[String], &[StudyForm]),
    ) -> Result<Vec<Change>> {
        gate(ctx, WindowAction::Questionnaire, year, cycle)?;
        crate::decide::active_employment(employments)?;
        let (directions, topics, forms) = answers;
        let directions = texts("direction", directions)?;
        let topics = texts("topic", topics)?;
        if directions.is_empty() && topics.is_empty() {
            return Err(Error::InvalidInput("name at least one direction or topic".into()));
        }
        let mut forms = forms.to_vec();
        forms.sort();
        forms.dedup();
        Ok(vec![Change::PutPreferences(Preferences {
            person,
            year,
            directions,
            topics,
            forms,
            answered_on: ctx.today,
        })])
    }

    /// What forming reads besides the applications.
    pub struct FormingInput<'a> {
        /// The year.
        pub year: i32,
        /// The cycle.
        pub cycle: Option<Cycle>,
        /// The year's applications.
        pub plans: &'a [PlanEntry],
        /// The programs applied for, with their providers.
        pub programs: &'a BTreeMap<ProgramId, (Program, Organisation)>,
        /// Territory names (a group's place).
        pub places: &'a BTreeMap<TerritoryId, String>,
        /// Listeners already placed per program (earlier forming runs).
        pub placed: &'a BTreeMap<ProgramId, u32>,
        /// The state-assignment account.
        pub account: Option<&'a FundingAccount>,
    }

    /// R-W4, R-W2, R-F1: forms the year's groups from the waiting applications
    /// ([`form_groups`]) and enrols the placed workers; the rest are waitlisted or reported
    /// unplaced with the reason. A placement without a quota number commits the program's
    /// norm against the state-assignment limit.
    pub fn form(ctx: &Ctx<'_>, input: FormingInput<'_>) -> Result<(Forming, Vec<Change>)> {
        let year = input.year;
        gate(ctx, WindowAction::ConsolidatePlan, year, input.cycle.as_ref())?;
        let cycle = input.cycle.unwrap_or_else(|| Cycle::new(year));
        let waiting =
            |p: &&PlanEntry| matches!(p.status, PlanStatus::Applied | PlanStatus::Unplaced | PlanStatus::Waitlisted);
        let plans: BTreeMap<PlanId, &PlanEntry> = input.plans.iter().filter(waiting).map(|p| (p.id, p)).collect();
        let apps: Vec<FormingApp> = plans
            .values()
            .filter_map(|p| {
                Some(FormingApp {
                    id: p.id,
                    program: p.program,
                    place: p.place?,
                    period: p.period,
                    order: (p.planned_at, p.id),
                })
            })
            .collect();
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
        let limits: BTreeMap<ProgramId, FormingLimits> = input
            .programs
            .iter()
            .map(|(id, (p, provider))| {
                let min = p.min_group.unwrap_or(ctx.policy.forming.min_group).max(1);
                let max = p.max_group.unwrap_or(ctx.policy.forming.max_group).max(min);
                let placed = input.placed.get(id).copied().unwrap_or(0);
                // R-P1, R-P3: a published program whose provider's licence covers the year.
                let licensed = provider.license.as_ref().is_some_and(|l| {
                    l.valid_until.is_none_or(|u| u >= year_end(year)) && l.issued_on.is_none_or(|i| i <= first)
                });
                let available = p.status == ProgramStatus::Approved && p.year.is_none_or(|y| y == year) && licensed;
                (*id, FormingLimits { min, max, places: p.places.map(|n| n.saturating_sub(placed)), available })
            })
            .collect();
        let forming = form_groups(&apps, &limits);
        let mut changes = Vec::new();
        let mut committed = Decimal::ZERO;
        let mut commitments = 0u64;
        for fg in &forming.groups {
            let (program, _) = &input.programs[&fg.program];
            let (starts, ends) =
                quarter_bounds(year, fg.period).ok_or_else(|| Error::InvalidInput(format!("quarter {}", fg.period)))?;
            let id = GroupId(ctx.id());
            let lim = limits[&fg.program];
            let place = input.places.get(&fg.place).cloned().unwrap_or_else(|| fg.place.to_string());
            changes.push(Change::PutGroup(Group {
                id,
                program: program.id,
                provider: program.provider,
                starts,
                ends,
                place,
                capacity: lim.max.max(u32::try_from(fg.members.len()).unwrap_or(u32::MAX)),
                taken: 0,
                funding: Funding::State,
                completed_on: None,
                cancelled: false,
                plan: Some(GroupPlan { year, place: fg.place, period: fg.period }),
            }));
            for m in &fg.members {
                let plan = plans[m];
                let amount = Some(cycle.norm_for(Some(program.id))).filter(|a| plan.quota.is_none() && !a.is_zero());
                if let Some(a) = amount {
                    committed += a;
                    commitments += 1;
                }
                changes.push(Change::TakeSeat(id));
                changes.push(placement(ctx, id, plan.person, amount));
                changes.push(Change::PutPlan(PlanEntry {
                    status: PlanStatus::Placed,
                    group: Some(id),
                    unplaced: None,
                    ..plan.clone()
                }));
                changes.push(ctx.notify(
                    plan.person,
                    NotificationKind::PlanPlaced,
                    format!(
                        "{}: {} — {}, {}",
                        program.title,
                        starts.format("%d.%m.%Y"),
                        ends.format("%d.%m.%Y"),
                        input.places.get(&fg.place).map_or("", String::as_str)
                    ),
                ));
            }
        }
        for (id, reason) in &forming.unplaced {
            let plan = plans[id];
            let status = if reason.waitlisted() { PlanStatus::Waitlisted } else { PlanStatus::Unplaced };
            if plan.status != status || plan.unplaced != Some(*reason) {
                changes.push(Change::PutPlan(PlanEntry { status, unplaced: Some(*reason), ..(*plan).clone() }));
            }
        }
        // Applications without a place cannot be formed: unplaced, never dropped.
        for p in plans.values().filter(|p| p.place.is_none()) {
            changes.push(Change::PutPlan(PlanEntry {
                status: PlanStatus::Unplaced,
                unplaced: Some(UnplacedReason::ProgramUnavailable),
                ..(*p).clone()
            }));
        }
        check_commitment(input.account, committed)?; // R-F1
        changes.extend(commitment(year, Funding::State, committed, commitments));
        changes.push(Change::PutCycle(Cycle { formed_on: Some(ctx.today), ..cycle }));
        Ok((forming, changes))
    }

    /// The enrolment of a placed application (forming, an accepted offer): a state-funded seat,
    /// with what it committed (R-F1).
    fn placement(ctx: &Ctx<'_>, group: GroupId, person: PersonId, committed: Option<Money>) -> Change {
        Change::PutEnrollment(Enrollment {
            id: EnrollmentId(ctx.id()),
            group,
            person,
            voucher: None,
            blocks: 0,
            profile_blocks: 0,
            confirmed: false,
            status: EnrollmentStatus::Enrolled,
            enrolled_at: ctx.now,
            committed,
        })
    }

    /// R-W2: the ministry approves the consolidated plan-schedule once groups are formed.
    pub fn approve_plan(ctx: &Ctx<'_>, cycle: Option<Cycle>, year: i32) -> Result<Vec<Change>> {
        gate(ctx, WindowAction::ConsolidatePlan, year, cycle.as_ref())?;
        let c = cycle
            .filter(|c| c.formed_on.is_some())
            .ok_or_else(|| Error::InvalidState(format!("no groups are formed for {year} yet")))?;
        Ok(vec![Change::PutCycle(Cycle { plan_approved_on: Some(ctx.today), ..c })])
    }

    /// R-W4: the next in line for a seat freed in `group`: a waitlisted application of the same
    /// program — those for the group's place and period first, then by order of arrival.
    pub fn next_in_line<'p>(group: &Group, plans: &'p [PlanEntry]) -> Option<&'p PlanEntry> {
        let plan = group.plan.as_ref()?;
        plans
            .iter()
            .filter(|p| p.program == group.program && p.status == PlanStatus::Waitlisted && p.year == plan.year)
            .min_by_key(|p| {
                let here = p.place == Some(plan.place) && p.period.is_none_or(|q| q == plan.period);
                (!here, p.planned_at, p.id)
            })
    }

    /// R-W4: offers a seat freed in `group` to the next in line, holding it for the policy's
    /// working days; `None` when nobody waits.
    pub fn offer_seat(ctx: &Ctx<'_>, group: &Group, plans: &[PlanEntry]) -> Option<(PlanId, Vec<Change>)> {
        let next = next_in_line(group, plans)?;
        let until = ctx.calendar.add_working_days(ctx.today, ctx.policy.forming.offer_hold_working_days);
        Some((
            next.id,
            vec![
                Change::TakeSeat(group.id),
                Change::PutPlan(PlanEntry {
                    status: PlanStatus::Offered,
                    group: Some(group.id),
                    offer_until: Some(until),
                    ..next.clone()
                }),
                ctx.notify(
                    next.person,
                    NotificationKind::SeatOffered,
                    format!(
                        "место в группе {} — {} сохраняется до {}",
                        group.starts.format("%d.%m.%Y"),
                        group.place,
                        until.format("%d.%m.%Y")
                    ),
                ),
            ],
        ))
    }

    /// R-W4: a seat in `group` frees (a removal, a declined or expired offer): offer it to
    /// each next in line in turn. `plans` is updated as offers are made.
    pub fn pass_seat_on(ctx: &Ctx<'_>, group: &Group, plans: &mut [PlanEntry]) -> Vec<Change> {
        match offer_seat(ctx, group, plans) {
            Some((id, changes)) => {
                if let Some(p) = plans.iter_mut().find(|p| p.id == id) {
                    p.status = PlanStatus::Offered;
                }
                changes
            }
            None => Vec::new(),
        }
    }

    /// R-W4: accepts an offered seat while it is held: the worker is enrolled.
    pub fn accept_offer(ctx: &Ctx<'_>, plan: &PlanEntry, group: &Group, norm: Money) -> Result<Vec<Change>> {
        if plan.status != PlanStatus::Offered {
            return Err(Error::InvalidState("no seat is offered for this application".into()));
        }
        if plan.offer_until.is_some_and(|u| ctx.today > u) {
            return Err(Error::InvalidState("the offer has expired".into()));
        }
        let committed = Some(norm).filter(|n| plan.quota.is_none() && !n.is_zero());
        let mut changes = vec![
            placement(ctx, group.id, plan.person, committed),
            Change::PutPlan(PlanEntry {
                status: PlanStatus::Placed,
                offer_until: None,
                unplaced: None,
                ..plan.clone()
            }),
        ];
        if let Some(amount) = committed {
            let year = group.plan.as_ref().map_or(plan.year, |p| p.year);
            changes.extend(commitment(year, Funding::State, amount, 1));
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// R-W3 stage 1, R-V11: the day stores select by agrees with adding the cycle to every
    /// last passed day, for every day of 2010–2031, cycles of 1 to 60 months and the edges
    /// (months of 28–31 days, 29 February).
    #[test]
    fn r_w3_due_if_last_passed_by_agrees_with_adding_the_cycle() {
        let mut policy = RegionPolicy::samara();
        for months in [1, 11, 12, 13, 35, 36, 37, 60] {
            policy.training_cycle_months = months;
            for year in [2015, 2024, 2025, 2026, 2031] {
                let by = due_if_last_passed_by(&policy, year);
                let mut day = d(2010, 1, 1);
                while day <= d(2031, 12, 31) {
                    let due = RegionPolicy::add_months(day, months) <= year_end(year);
                    assert_eq!(day <= by, due, "{months} months, {year}, last passed {day} (by {by})");
                    day = day.succ_opt().unwrap();
                }
            }
        }
        policy.training_cycle_months = 36;
        assert_eq!(due_if_last_passed_by(&policy, 2026), d(2023, 12, 31));
    }

    #[test]
    fn r_w3_majority_of_those_voting() {
        let v = |vote| MemberVote { member: PersonId(Uuid::nil()), vote };
        assert!(council_decision(&[v(Vote::For), v(Vote::For), v(Vote::Against)]));
        assert!(!council_decision(&[v(Vote::For), v(Vote::Against)]), "a tie is no majority");
        assert!(council_decision(&[v(Vote::For), v(Vote::Abstain), v(Vote::Abstain)]));
        assert!(!council_decision(&[v(Vote::Abstain)]));
        assert!(!council_decision(&[]));
    }

    #[test]
    fn group_counts_respect_min_and_max() {
        assert_eq!(group_count(5, 6, 10), 0);
        assert_eq!(group_count(6, 6, 10), 1);
        assert_eq!(group_count(10, 6, 10), 1);
        assert_eq!(group_count(11, 6, 10), 1, "two groups would be 6 + 5");
        assert_eq!(group_count(12, 6, 10), 2);
        assert_eq!(group_count(25, 5, 10), 3);
    }

    #[test]
    fn quarters_and_monitoring_days() {
        assert_eq!(quarter_bounds(2026, 1), Some((d(2026, 1, 1), d(2026, 3, 31))));
        assert_eq!(quarter_bounds(2026, 4), Some((d(2026, 10, 1), d(2026, 12, 31))));
        assert_eq!(quarter_bounds(2026, 5), None);
        assert_eq!(quarter_of(d(2026, 8, 15)), 3);
        assert_eq!(monitoring_due(2026, 1), Some(d(2026, 4, 10))); // R-W2
        assert_eq!(monitoring_due(2026, 4), Some(d(2027, 1, 10)));
    }

    #[test]
    fn r_f1_money_is_exact_and_bounded() {
        assert_eq!(to_kopecks(Decimal::new(1250050, 2)), 1_250_050);
        assert_eq!(from_kopecks(1_250_050), Decimal::new(1250050, 2));
        assert!(check_money(Decimal::new(-1, 0)).is_err());
        assert!(check_money(Decimal::new(1001, 3)).is_err());
        assert!(check_money(Decimal::new(1000, 3)).is_ok(), "1.000 is 1.00");
        let acc = FundingAccount {
            year: 2026,
            source: Funding::State,
            limit: Some(Decimal::from(100)),
            used: Decimal::from(60),
            commitments: 2,
        };
        assert!(check_commitment(Some(&acc), Decimal::from(40)).is_ok());
        assert_eq!(check_commitment(Some(&acc), Decimal::new(4001, 2)).unwrap_err().code(), "funding.limit_exceeded");
        assert!(check_commitment(None, Decimal::from(1_000_000)).is_ok());
    }

    #[test]
    fn norms_fall_back_to_the_years() {
        let mut c = Cycle::new(2026);
        let p = ProgramId(Uuid::from_u128(7));
        assert_eq!(c.norm_for(Some(p)), Decimal::ZERO);
        c.norm = Some(Decimal::from(9000));
        c.program_norms.push(ProgramNorm { program: p, amount: Decimal::from(12000) });
        assert_eq!(c.norm_for(Some(p)), Decimal::from(12000));
        assert_eq!(c.norm_for(Some(ProgramId(Uuid::from_u128(8)))), Decimal::from(9000));
        assert_eq!(c.norm_for(None), Decimal::from(9000));
    }

    #[test]
    fn r_w3_a_second_issue_skips_holders_and_refusers() {
        use crate::calendar::{CalendarRegion, ProductionCalendar};
        use crate::decide::Ctx;
        use crate::ports::{Change, SequentialIds};
        let policy = RegionPolicy::tatarstan();
        let calendar = ProductionCalendar::new(CalendarRegion::Tatarstan);
        let ids = SequentialIds::default();
        let now = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default();
        let ctx = Ctx { now, today: d(2025, 6, 2), policy: &policy, calendar: &calendar, ids: &ids };
        let p = |n: u128| PersonId(Uuid::from_u128(n));
        let (org, territory) = (OrgId(Uuid::from_u128(50)), TerritoryId(Uuid::from_u128(60)));
        let due = |n| Eligible {
            person: p(n),
            org,
            territory,
            position: Position::Teacher,
            reason: EligibilityReason::NeverTrained,
            last_passed_on: None,
            due_by: None,
        };
        // 1 holds a number; 2 refused and saw it move to 4; 3 is new.
        let moved = Quota {
            number: "2026-000002".into(),
            year: 2026,
            holder: p(4),
            org,
            territory,
            status: QuotaStatus::Assigned,
            refused_on: None,
            committed: Decimal::ZERO,
            moves: vec![QuotaMove { on: d(2025, 9, 1), from: p(2), to: p(4), by: p(9) }],
        };
        let held = Quota { number: "2026-000001".into(), holder: p(1), moves: vec![], ..moved.clone() };
        let mut cycle = Cycle::new(2026);
        cycle.stage = 5;
        let changes =
            decide::issue_quotas(&ctx, Some(cycle), 2026, &[due(1), due(2), due(3)], &[held, moved], None).unwrap();
        let issued: Vec<(String, PersonId)> = changes
            .iter()
            .filter_map(|c| if let Change::PutQuota(q) = c { Some((q.number.clone(), q.holder)) } else { None })
            .collect();
        assert_eq!(issued, vec![("2026-000003".to_string(), p(3))]);
    }

    #[test]
    fn r_r3_trajectory_ranks_with_reasons_and_skips_what_was_taken() {
        let program = |n: u128, title: &str| Program {
            form: Default::default(),
            id: ProgramId(Uuid::from_u128(n)),
            provider: OrgId(Uuid::from_u128(99)),
            title: title.into(),
            hours: 36,
            annotation: None,
            positions: Audience::All,
            profile_for: Audience::Only(vec![]),
            org_kinds: Audience::All,
            subjects: Audience::All,
            year: None,
            status: ProgramStatus::Approved,
            direction: None,
            min_group: None,
            max_group: None,
            places: None,
            expertise: None,
        };
        let profile =
            Program { profile_for: Audience::Only(vec![Position::Teacher]), ..program(1, "Я профильная") };
        let math = Program { subjects: Audience::Only(vec!["math".into()]), ..program(2, "Б математика") };
        let asked = Program {
            direction: Some("Функциональная грамотность".into()), ..program(3, "А грамотность")
        };
        let plain = program(4, "В ничего");
        let taken =
            Program { profile_for: Audience::Only(vec![Position::Teacher]), ..program(5, "Г пройдена") };
        let inclusion = Program {
            annotation: Some("Работа с детьми с ОВЗ".into()), ..program(6, "Д инклюзия")
        };
        let programs = [profile, math, asked, plain, taken, inclusion];
        let prefs = Preferences {
            person: PersonId(Uuid::nil()),
            year: 2026,
            directions: vec!["функциональная грамотность".into()],
            topics: vec![],
            forms: vec![],
            answered_on: d(2025, 2, 3),
        };
        let input = TrajectoryInput {
            position: Position::Teacher,
            subject: Some("Math"),
            programs: &programs,
            taken: &[ProgramId(Uuid::from_u128(5))],
            preferences: Some(&prefs),
            priorities: &["Функциональная грамотность".to_string()],
            deficits: &["овз".to_string(), "Математика".to_string()],
            due: true,
        };
        let got: Vec<(u128, u32, Vec<RecommendationReason>)> =
            trajectory(&input).into_iter().map(|r| (r.program.0.as_u128(), r.score, r.reasons)).collect();
        use RecommendationReason as R;
        assert_eq!(
            got,
            vec![
                (2, 4, vec![R::ForSubject, R::Deficit, R::Due]),
                (3, 3, vec![R::AskedFor, R::Priority, R::Due]),
                (1, 3, vec![R::ProfileForPosition, R::Due]),
                (6, 2, vec![R::Deficit, R::Due]),
            ],
            "by score, then title (А before Я); nothing without a reason; nothing taken; R-R2 \
             deficits match title, direction or annotation"
        );
        let no_deficits = TrajectoryInput { deficits: &[], ..input };
        assert!(trajectory(&no_deficits).iter().all(|r| !r.reasons.contains(&R::Deficit)));
    }

    mod forming {
        //! R-W4: forming is property-tested: every application accounted for once, groups within
        //! their sizes, places never exceeded, the same input (in any order) the same groups.
        use super::super::*;
        use proptest::prelude::*;
        use uuid::Uuid;

        fn apps() -> impl Strategy<Value = Vec<FormingApp>> {
            prop::collection::vec((0u128..4, 0u128..3, prop::option::of(1u8..=4), 0i64..1000), 0..120).prop_map(|v| {
                v.into_iter()
                    .enumerate()
                    .map(|(i, (program, place, period, t))| FormingApp {
                        id: PlanId(Uuid::from_u128(10_000 + i as u128)),
                        program: ProgramId(Uuid::from_u128(program + 1)),
                        place: TerritoryId(Uuid::from_u128(place + 100)),
                        period,
                        order: (
                            chrono::DateTime::from_timestamp(t, 0).unwrap_or_default(),
                            PlanId(Uuid::from_u128(10_000 + i as u128)),
                        ),
                    })
                    .collect()
            })
        }

        fn limits() -> impl Strategy<Value = BTreeMap<ProgramId, FormingLimits>> {
            prop::collection::vec((1u32..6, 0u32..10, prop::option::of(0u32..60), prop::bool::weighted(0.9)), 4)
                .prop_map(|v| {
                    v.into_iter()
                        .enumerate()
                        .map(|(i, (min, extra, places, available))| {
                            (
                                ProgramId(Uuid::from_u128(i as u128 + 1)),
                                FormingLimits { min, max: min + extra, places, available },
                            )
                        })
                        .collect()
                })
        }

        proptest! {
            #[test]
            fn r_w4_forming_accounts_for_everyone_within_sizes_and_places(
                apps in apps(),
                limits in limits(),
                seed in any::<u64>(),
            ) {
                let f = form_groups(&apps, &limits);
                // Every application exactly once.
                let mut seen: Vec<PlanId> = f.groups.iter().flat_map(|g| g.members.iter().copied()).collect();
                seen.extend(f.unplaced.iter().map(|(id, _)| *id));
                seen.sort();
                let mut all: Vec<PlanId> = apps.iter().map(|a| a.id).collect();
                all.sort();
                prop_assert_eq!(seen, all);
                // Groups within the program's sizes, in one place and quarter.
                for g in &f.groups {
                    let l = limits[&g.program];
                    prop_assert!(l.available);
                    prop_assert!(g.members.len() as u32 >= l.min && g.members.len() as u32 <= l.max);
                    prop_assert!((1..=4).contains(&g.period));
                    for m in &g.members {
                        let a = apps.iter().find(|a| a.id == *m).unwrap();
                        prop_assert_eq!(a.place, g.place);
                        prop_assert!(a.period.is_none_or(|p| p == g.period));
                    }
                }
                // Never more placed than the program's places.
                for (p, l) in &limits {
                    let placed: usize = f.groups.iter().filter(|g| g.program == *p).map(|g| g.members.len()).sum();
                    if let Some(places) = l.places {
                        prop_assert!(placed <= places as usize);
                    }
                }
                // The same input in another order gives the same groups.
                let mut shuffled = apps.clone();
                let n = shuffled.len();
                if n > 1 {
                    let mut x = seed;
                    for i in (1..n).rev() {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        shuffled.swap(i, (x >> 33) as usize % (i + 1));
                    }
                }
                let again = form_groups(&shuffled, &limits);
                prop_assert_eq!(again, f);
            }
        }
    }
}
