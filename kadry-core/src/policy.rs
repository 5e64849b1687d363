//! Regional policy as data (`RegionPolicy`) and the presets `samara`, `yugra`, `tatarstan`.
//!
//! Every number a region chooses lives here, with the seed line it comes from; see
//! `docs/policies.md` for the sources and the ambiguities resolved.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarRegion;
use crate::error::{Error, Result};

/// The regions kadry ships presets for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    /// Самарская область: «Кадры в образовании», named education vouchers.
    Samara,
    /// ХМАО – Югра: АСУПК, annual catalogue and plan-schedule.
    Yugra,
    /// Республика Татарстан: the personalised model with quota numbers.
    Tatarstan,
}

impl Region {
    /// The identifier used in scenario files and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Samara => "samara",
            Region::Yugra => "yugra",
            Region::Tatarstan => "tatarstan",
        }
    }
}

/// The named education voucher parameters (R-V2, R-V4, R-V5, R-V7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoucherPolicy {
    /// R-V2: months between two issues (36).
    pub interval_months: u32,
    /// R-V5: months a voucher is valid from its issue date (12).
    pub validity_months: u32,
    /// R-V7: blocks per voucher (2).
    pub blocks: u32,
    /// R-V7: hours per block (36).
    pub block_hours: u32,
    /// R-V7: blocks that must be profile for the worker's position (1).
    pub min_profile_blocks: u32,
    /// R-V4: working days for the operator's decision (5).
    pub approval_sla_working_days: u32,
}

/// An action gated by a planning window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowAction {
    /// A provider submits a program for planning year Y (R-W1, R-W2 catalogue).
    SubmitProgram,
    /// A worker or responsible plans training / applies for planning year Y (R-W1, R-W2).
    PlanTraining,
    /// The consolidated plan-schedule for year Y is formed and approved (R-W2): forming
    /// groups from applications, approving the plan.
    ConsolidatePlan,
    /// A worker answers the questionnaire of preferences (R-W3 stage 1).
    Questionnaire,
    /// The ministry sets priorities and financing norms (R-W3 stage 2).
    SetNorms,
    /// The expert council reviews and votes (R-W3 stage 3).
    Expertise,
    /// The ministry approves and publishes the registry (R-W3 stage 5).
    ApproveRegistry,
    /// The regional operator issues quota numbers (R-W3 stage 5).
    IssueQuotas,
    /// A temporary refusal and the reassignment of its number (R-W3 stage 6).
    ReassignQuota,
}

impl WindowAction {
    /// The identifier, e.g. `plan_training`.
    pub fn as_str(self) -> &'static str {
        match self {
            WindowAction::SubmitProgram => "submit_program",
            WindowAction::PlanTraining => "plan_training",
            WindowAction::ConsolidatePlan => "consolidate_plan",
            WindowAction::Questionnaire => "questionnaire",
            WindowAction::SetNorms => "set_norms",
            WindowAction::Expertise => "expertise",
            WindowAction::ApproveRegistry => "approve_registry",
            WindowAction::IssueQuotas => "issue_quotas",
            WindowAction::ReassignQuota => "reassign_quota",
        }
    }
}

/// A day relative to the planning year Y: `year_offset` −1 means the year before Y.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanningDay {
    /// Offset from the planning year (usually −1: planning happens the year before).
    pub year_offset: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of month.
    pub day: u32,
}

impl PlanningDay {
    /// The calendar date for planning year `year`, if it exists.
    pub fn date(self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year + self.year_offset, self.month, self.day)
    }
}

/// A planning window: an action allowed for planning year Y from `opens` to `closes`, both
/// inclusive, in the region's local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanningWindow {
    /// The action gated.
    pub action: WindowAction,
    /// The first day, if the window has one.
    pub opens: Option<PlanningDay>,
    /// The last day.
    pub closes: PlanningDay,
    /// The seed line it comes from.
    pub source: String,
}

/// One stage of an ordered planning cycle (R-W3, Tatarstan's eight stages of 004): the actions
/// allowed while the year's cycle is at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Its number, 1–8.
    pub number: u8,
    /// What happens at it.
    pub name: String,
    /// The gated actions it allows.
    pub actions: Vec<WindowAction>,
    /// The seed line it comes from.
    pub source: String,
}

/// Parameters of forming groups from applications (R-W4) and of the waitlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormingPolicy {
    /// The smallest group, for programs that name none.
    pub min_group: u32,
    /// The largest group, for programs that name none.
    pub max_group: u32,
    /// Working days an offered seat is held for the next in line.
    pub offer_hold_working_days: u32,
}

/// A region's policy: every parameter the rules catalogue names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionPolicy {
    /// Which region.
    pub region: Region,
    /// The region's time zone: dates and windows are local.
    pub time_zone: Tz,
    /// The production calendar for working days.
    pub calendar: CalendarRegion,
    /// Voucher parameters; `None` where the region has no vouchers.
    pub voucher: Option<VoucherPolicy>,
    /// R-V11: the law's floor, months between trainings (36).
    pub training_cycle_months: u32,
    /// R-A7: working days for the operator to verify a self-registered workplace (5).
    pub workplace_verification_working_days: u32,
    /// R-A11: working days to correct data after a change (10).
    pub data_correction_working_days: u32,
    /// R-P4: from this day teachers of general-education schools train only at state or
    /// municipal providers; `None` disables the rule.
    pub provider_ownership_rule_from: Option<NaiveDate>,
    /// Planning windows (R-W1, R-W2, R-W3).
    pub windows: Vec<PlanningWindow>,
    /// An ordered cycle of stages (R-W3); empty where the region plans by dates only.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Whether programs pass the expert council (two-stage expertise, vote, protocol) and the
    /// ministry's registry instead of the operator's approval (R-W3).
    #[serde(default)]
    pub council_expertise: bool,
    /// Whether applications need a quota number (R-W3).
    #[serde(default)]
    pub quotas: bool,
    /// Working days the organisation's operator has to reassign a refused number before the
    /// district operator may, and the district operator before the regional operator may
    /// (R-W3; the seed sets no number: kadry's default is 5).
    #[serde(default = "default_reassign_days")]
    pub quota_reassign_working_days: u32,
    /// Whether workers on parental leave are selected as eligible (R-W3 stage 1).
    #[serde(default)]
    pub eligibility_includes_parental_leave: bool,
    /// Forming and waitlist parameters (R-W4).
    #[serde(default = "default_forming")]
    pub forming: FormingPolicy,
    /// Working days within which changed personal data and a claimed workplace are confirmed
    /// (R-A11: «в течение 10 рабочих дней»); past them they show in the overdue report.
    #[serde(default = "default_confirmation_days")]
    pub confirmation_working_days: u32,
    /// Reminders (R-R1 reminders): days before a voucher lapses, days before the three-year
    /// floor, and whether a pending approval past its deadline is reminded to the operators.
    #[serde(default)]
    pub reminders: ReminderPolicy,
}

fn default_confirmation_days() -> u32 {
    10
}

/// When reminders are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPolicy {
    /// Days before a voucher's last day, largest first.
    pub voucher_days: Vec<u32>,
    /// Days before the three-year floor (R-V11), largest first.
    pub floor_days: Vec<u32>,
    /// Whether operators are reminded of applications past the approval deadline (R-V4).
    pub approvals: bool,
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        ReminderPolicy { voucher_days: vec![90, 30, 7], floor_days: vec![90, 30], approvals: true }
    }
}

fn default_reassign_days() -> u32 {
    5
}

fn default_forming() -> FormingPolicy {
    FormingPolicy { min_group: 5, max_group: 25, offer_hold_working_days: 3 }
}

fn stage(number: u8, name: &str, actions: &[WindowAction], source: &str) -> Stage {
    Stage { number, name: name.to_string(), actions: actions.to_vec(), source: source.to_string() }
}

fn window(
    action: WindowAction,
    opens: Option<(i32, u32, u32)>,
    closes: (i32, u32, u32),
    source: &str,
) -> PlanningWindow {
    let day = |(year_offset, month, day)| PlanningDay { year_offset, month, day };
    PlanningWindow { action, opens: opens.map(day), closes: day(closes), source: source.to_string() }
}

/// R-P4: in force from 1 September 2025.
const PROVIDER_OWNERSHIP_RULE_FROM: Option<NaiveDate> = NaiveDate::from_ymd_opt(2025, 9, 1);

impl RegionPolicy {
    /// Samara: «Кадры в образовании» with named education vouchers (seeds 000, 001, 003).
    pub fn samara() -> Self {
        RegionPolicy {
            region: Region::Samara,
            time_zone: chrono_tz::Europe::Samara,
            calendar: CalendarRegion::Federal,
            voucher: Some(VoucherPolicy {
                interval_months: 36,
                validity_months: 12,
                blocks: 2,
                block_hours: 36,
                min_profile_blocks: 1,
                approval_sla_working_days: 5,
            }),
            training_cycle_months: 36,
            workplace_verification_working_days: 5,
            data_correction_working_days: 10,
            provider_ownership_rule_from: PROVIDER_OWNERSHIP_RULE_FROM,
            windows: vec![
                // R-W1
                window(
                    WindowAction::SubmitProgram,
                    None,
                    (-1, 11, 1),
                    "001 §3.3: не позднее 1 ноября каждого года вносит в АИС информацию о программах",
                ),
                // R-W1
                window(
                    WindowAction::PlanTraining,
                    Some((-1, 11, 1)),
                    (-1, 12, 1),
                    "001 §3.4–3.5: в период с 1 ноября по 1 декабря текущего года планирует обучение на плановый период",
                ),
            ],
            stages: Vec::new(),
            council_expertise: false,
            quotas: false,
            quota_reassign_working_days: default_reassign_days(),
            confirmation_working_days: default_confirmation_days(),
            reminders: ReminderPolicy::default(),
            eligibility_includes_parental_leave: false,
            forming: default_forming(),
        }
    }

    /// Yugra: АСУПК (seed 002). Windows of R-W2; the rest of the Yugra cycle is issue 5.
    pub fn yugra() -> Self {
        RegionPolicy {
            region: Region::Yugra,
            time_zone: chrono_tz::Asia::Yekaterinburg,
            calendar: CalendarRegion::Federal,
            voucher: None,
            training_cycle_months: 36,
            workplace_verification_working_days: 5,
            data_correction_working_days: 10,
            provider_ownership_rule_from: PROVIDER_OWNERSHIP_RULE_FROM,
            windows: vec![
                // R-W2
                window(
                    WindowAction::SubmitProgram,
                    None,
                    (-1, 6, 15),
                    "002 §3.1: Размещение каталога образовательных программ планового повышения квалификации ... в срок до 15 июня",
                ),
                // R-W2
                window(
                    WindowAction::PlanTraining,
                    Some((-1, 1, 1)),
                    (-1, 10, 15),
                    "002 §3.2: Прием заявок педагогических работников на обучение ... в срок до 15 октября",
                ),
                // R-W2
                window(
                    WindowAction::ConsolidatePlan,
                    Some((-1, 10, 16)),
                    (-1, 12, 15),
                    "002 §3.3: Формирование сводного плана-графика ... в срок до 15 декабря",
                ),
            ],
            stages: Vec::new(),
            council_expertise: false,
            quotas: false,
            quota_reassign_working_days: default_reassign_days(),
            confirmation_working_days: default_confirmation_days(),
            reminders: ReminderPolicy::default(),
            eligibility_includes_parental_leave: false,
            forming: default_forming(),
        }
    }

    /// Tatarstan: the personalised model (seed 004): eight stages in order, the expert council,
    /// quota numbers.
    pub fn tatarstan() -> Self {
        use WindowAction as W;
        RegionPolicy {
            region: Region::Tatarstan,
            time_zone: chrono_tz::Europe::Moscow,
            calendar: CalendarRegion::Tatarstan,
            voucher: None,
            training_cycle_months: 36,
            workplace_verification_working_days: 5,
            data_correction_working_days: 10,
            provider_ownership_rule_from: PROVIDER_OWNERSHIP_RULE_FROM,
            windows: Vec::new(),
            // R-W3: the eight stages of 004 p. 2.1, in order.
            stages: vec![
                stage(
                    1,
                    "selection of eligible workers; questionnaire of preferences",
                    &[W::Questionnaire],
                    "004 п. 2.1, первый этап: производит автоматическую выборку работников ...; заполняет анкету с указанием предпочитаемых направлений, тем ..., форм обучения",
                ),
                stage(
                    2,
                    "priorities and financing norm; providers submit programs",
                    &[W::SetNorms, W::SubmitProgram],
                    "004, второй этап: устанавливает приоритеты ...; определяет норматив финансирования ...; разрабатывает ... программы и представляет их на экспертизу",
                ),
                stage(
                    3,
                    "expert council: technical and content expertise, vote, protocol",
                    &[W::Expertise],
                    "004, третий этап: Экспертный совет проводит экспертизу ...; п. 2.1, 2.4 Положения об отборе",
                ),
                stage(
                    4,
                    "the regional operator forms the registry by direction",
                    &[],
                    "004, четвертый этап: формирует реестр дополнительных профессиональных программ на соответствующий год, упорядоченный по направлениям",
                ),
                stage(
                    5,
                    "the ministry approves and publishes the registry; unique numbers issued",
                    &[W::ApproveRegistry, W::IssueQuotas],
                    "004, пятый этап: утверждает реестр ...; присваивает работникам образования, имеющим право на плановое повышение квалификации, ... уникальный номер",
                ),
                stage(
                    6,
                    "applications with a unique number; temporary refusals and reassignment; forming of groups",
                    &[W::PlanTraining, W::ReassignQuota, W::ConsolidatePlan],
                    "004, шестой этап: формирует заявление ... с указанием в системе уникального номера; имеет право временно отказаться ...; пятый этап: автоматического формирования списков и групп слушателей",
                ),
                stage(
                    7,
                    "training, results, non-completers reported",
                    &[],
                    "004, седьмой этап: обучает ...; выдает удостоверение ...; сообщает ... сведения о работниках ..., не завершивших обучение",
                ),
                stage(
                    8,
                    "post-course monitoring",
                    &[],
                    "004, восьмой этап: проводит посткурсовое сопровождение (методический коучинг, мониторинговые исследования)",
                ),
            ],
            council_expertise: true,
            quotas: true,
            quota_reassign_working_days: default_reassign_days(),
            confirmation_working_days: default_confirmation_days(),
            reminders: ReminderPolicy::default(),
            eligibility_includes_parental_leave: false,
            forming: default_forming(),
        }
    }

    /// The preset named `name` (`samara`, `yugra`, `tatarstan`).
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "samara" => Some(Self::samara()),
            "yugra" => Some(Self::yugra()),
            "tatarstan" => Some(Self::tatarstan()),
            _ => None,
        }
    }

    /// The local calendar day of an instant, in the region's time zone.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// The window for `action`, if the region gates it.
    pub fn window(&self, action: WindowAction) -> Option<&PlanningWindow> {
        self.windows.iter().find(|w| w.action == action)
    }

    /// R-W1/R-W2: refuses `action` for planning year `year` on local day `today` outside its
    /// window (`planning.window_closed`). Actions without a window are always open.
    pub fn check_window(&self, action: WindowAction, year: i32, today: NaiveDate) -> Result<()> {
        let Some(w) = self.window(action) else {
            return Ok(());
        };
        let closes = w.closes.date(year).ok_or_else(|| Error::InvalidInput(format!("planning year {year}")))?;
        let opens = match w.opens {
            Some(d) => Some(d.date(year).ok_or_else(|| Error::InvalidInput(format!("planning year {year}")))?),
            None => None,
        };
        let too_early = opens.is_some_and(|o| today < o);
        if too_early || today > closes {
            let from = opens.map(|o| format!("from {o} ")).unwrap_or_default();
            return Err(Error::PlanningWindowClosed(format!(
                "{} for {year} is open {from}until {closes}",
                action.as_str()
            )));
        }
        Ok(())
    }

    /// R-W3: refuses `action` unless the year's cycle is at the stage that allows it
    /// (`planning.window_closed`). Regions without stages, and actions no stage names, are not
    /// gated here.
    pub fn check_stage(&self, action: WindowAction, year: i32, current: u8) -> Result<()> {
        let Some(st) = self.stages.iter().find(|s| s.actions.contains(&action)) else {
            return Ok(());
        };
        if st.number != current {
            let now = if current == 0 { "not opened".to_string() } else { format!("at stage {current}") };
            return Err(Error::PlanningWindowClosed(format!(
                "{} is allowed at stage {} ({}); the {year} cycle is {now}",
                action.as_str(),
                st.number,
                st.name
            )));
        }
        Ok(())
    }

    /// R-W1..R-W3: both gates, the dated window and the stage.
    pub fn check_planning(&self, action: WindowAction, year: i32, today: NaiveDate, stage: u8) -> Result<()> {
        self.check_window(action, year, today)?;
        self.check_stage(action, year, stage)
    }

    /// Adds whole months with Civil Code art. 192 semantics: a term ending in a month without
    /// that day ends on its last day (29 Feb + 12 months = 28 Feb).
    pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
        date.checked_add_months(chrono::Months::new(months)).unwrap_or(NaiveDate::MAX)
    }

    /// The planning year that `today` plans for by default: the next calendar year.
    pub fn default_planning_year(today: NaiveDate) -> i32 {
        today.year() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn r_w1_samara_windows_are_inclusive() {
        let p = RegionPolicy::samara();
        assert!(p.check_window(WindowAction::PlanTraining, 2026, d(2025, 10, 31)).is_err());
        assert!(p.check_window(WindowAction::PlanTraining, 2026, d(2025, 11, 1)).is_ok());
        assert!(p.check_window(WindowAction::PlanTraining, 2026, d(2025, 12, 1)).is_ok());
        let e = p.check_window(WindowAction::PlanTraining, 2026, d(2025, 12, 2)).unwrap_err();
        assert_eq!(e.code(), "planning.window_closed");
        assert!(p.check_window(WindowAction::SubmitProgram, 2026, d(2025, 11, 1)).is_ok());
        assert!(p.check_window(WindowAction::SubmitProgram, 2026, d(2025, 11, 2)).is_err());
        assert!(p.check_window(WindowAction::ConsolidatePlan, 2026, d(2025, 11, 2)).is_ok());
    }

    #[test]
    fn r_w2_yugra_windows() {
        let p = RegionPolicy::yugra();
        assert!(p.check_window(WindowAction::SubmitProgram, 2026, d(2025, 6, 15)).is_ok());
        assert!(p.check_window(WindowAction::SubmitProgram, 2026, d(2025, 6, 16)).is_err());
        assert!(p.check_window(WindowAction::PlanTraining, 2026, d(2025, 10, 15)).is_ok());
        assert!(p.check_window(WindowAction::PlanTraining, 2026, d(2025, 10, 16)).is_err());
        assert!(p.check_window(WindowAction::ConsolidatePlan, 2026, d(2025, 12, 15)).is_ok());
        assert!(p.check_window(WindowAction::ConsolidatePlan, 2026, d(2025, 12, 16)).is_err());
    }

    #[test]
    fn r_w3_tatarstan_stages_in_order() {
        let p = RegionPolicy::tatarstan();
        assert_eq!(p.stages.iter().map(|s| s.number).collect::<Vec<_>>(), (1..=8).collect::<Vec<u8>>());
        assert!(p.check_stage(WindowAction::SubmitProgram, 2026, 2).is_ok());
        let e = p.check_stage(WindowAction::SubmitProgram, 2026, 3).unwrap_err();
        assert_eq!(e.code(), "planning.window_closed");
        assert!(p.check_stage(WindowAction::PlanTraining, 2026, 0).is_err(), "a cycle not opened");
        assert!(p.check_stage(WindowAction::PlanTraining, 2026, 6).is_ok());
        assert!(p.check_stage(WindowAction::IssueQuotas, 2026, 5).is_ok());
        // Samara and Yugra have no stages: only their dated windows gate.
        assert!(RegionPolicy::samara().check_stage(WindowAction::PlanTraining, 2026, 0).is_ok());
    }

    #[test]
    fn r_v2_civil_code_month_arithmetic() {
        assert_eq!(RegionPolicy::add_months(d(2024, 2, 29), 36), d(2027, 2, 28));
        assert_eq!(RegionPolicy::add_months(d(2025, 1, 15), 36), d(2028, 1, 15));
        assert_eq!(RegionPolicy::add_months(d(2025, 1, 15), 12), d(2026, 1, 15));
    }

    #[test]
    fn presets_by_name_and_serde_round_trip() {
        for name in ["samara", "yugra", "tatarstan"] {
            let p = RegionPolicy::preset(name).unwrap();
            assert_eq!(p.region.as_str(), name);
            let json = serde_json::to_string(&p).unwrap();
            let back: RegionPolicy = serde_json::from_str(&json).unwrap();
            assert_eq!(back, p);
        }
        assert!(RegionPolicy::preset("moscow").is_none());
    }

    #[test]
    fn local_date_uses_the_region_zone() {
        let p = RegionPolicy::samara(); // UTC+4
        let at = DateTime::parse_from_rfc3339("2025-12-01T21:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(p.local_date(at), d(2025, 12, 2));
    }
}
