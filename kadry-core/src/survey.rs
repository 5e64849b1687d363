//! Monitoring and surveys (R-R2): the operator designs a form — questions on a scale or with
//! choices —, targets a slice of the region, and workers answer it once each. Three kinds:
//!
//! - **monitoring** (мониторинг): any form, for the workers of the target slice;
//! - **satisfaction** (удовлетворённость) with a completed course: only the group's listeners
//!   who completed it (passed or failed) may answer;
//! - **deficits** (диагностика профессиональных дефицитов): choice questions whose options are
//!   deficit topics; a worker's latest answer feeds their trajectory (R-R3), and the results,
//!   like every survey's, are reported by slice.
//!
//! Everything here is pure: definitions and answers are checked by [`check_survey`] and
//! [`check_answers`], eligibility by [`check_open`], [`in_target`] and [`check_listener`], and
//! results are aggregated from the respondents' report rows by [`results`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{GroupId, PersonId, SurveyId};
use crate::model::{EmploymentStatus, Enrollment, EnrollmentStatus, Group, Scope};
use crate::ports::StaffRow;
use crate::report::{self, Filter, SliceSpec};

/// What a survey is for (R-R2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SurveyKind {
    /// Monitoring: any form, for the target slice.
    Monitoring,
    /// Satisfaction with a course after it: only the group's listeners who completed it answer.
    Satisfaction {
        /// The group.
        group: GroupId,
    },
    /// The diagnostic of professional deficits: choice questions whose options are deficit
    /// topics; the answers feed the worker's trajectory (R-R3).
    Deficits,
}

impl SurveyKind {
    /// The stable key: `monitoring`, `satisfaction`, `deficits`.
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Monitoring => "monitoring",
            SurveyKind::Satisfaction { .. } => "satisfaction",
            SurveyKind::Deficits => "deficits",
        }
    }

    /// The group of a satisfaction survey.
    pub fn group(self) -> Option<GroupId> {
        match self {
            SurveyKind::Satisfaction { group } => Some(group),
            _ => None,
        }
    }
}

/// How a question is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// A whole number from `min` to `max` (e.g. 1–5).
    Scale {
        /// The lowest value.
        min: i32,
        /// The highest value.
        max: i32,
    },
    /// One or more of the options.
    Choice {
        /// The options, at least two, distinct.
        options: Vec<String>,
        /// Whether several may be chosen.
        #[serde(default)]
        multiple: bool,
    },
}

/// A question of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Question {
    /// Its key, unique in the form; answers name it.
    pub key: String,
    /// Its text, as shown.
    pub text: String,
    /// How it is answered.
    pub kind: QuestionKind,
}

/// A survey (анкета): a form for a slice of the region, open over a period (R-R2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Survey {
    /// Its id.
    pub id: SurveyId,
    /// Its title.
    pub title: String,
    /// What it is for.
    pub kind: SurveyKind,
    /// The questions, in order.
    pub questions: Vec<Question>,
    /// The slice it is for, within `scope`: report filters every respondent's workplace must
    /// pass; none: everyone in the scope.
    #[serde(default)]
    pub target: Vec<Filter>,
    /// The slice of the region its creator covers (the region, a territory).
    pub scope: Scope,
    /// The first day it may be answered.
    pub opens_on: NaiveDate,
    /// The last day it may be answered; open until closed when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_on: Option<NaiveDate>,
    /// Who created it.
    pub created_by: PersonId,
    /// Closed by its creator's side: answers are refused from then on.
    #[serde(default)]
    pub closed: bool,
}

impl Survey {
    /// Whether it may be answered on `today`: not closed, opened, not past its last day.
    pub fn is_open(&self, today: NaiveDate) -> bool {
        check_open(self, today).is_ok()
    }
}

/// An answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum AnswerValue {
    /// A value on a scale.
    Scale(i32),
    /// The options chosen.
    Choice(Vec<String>),
}

/// A worker's answers to a survey, given once (R-R2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Response {
    /// The survey.
    pub survey: SurveyId,
    /// The respondent.
    pub person: PersonId,
    /// The answers, by question key.
    pub answers: BTreeMap<String, AnswerValue>,
    /// The day it was given.
    pub answered_on: NaiveDate,
}

impl Response {
    /// Every option chosen, over all questions (for a deficits survey: the deficit topics).
    pub fn chosen(&self) -> Vec<String> {
        self.answers
            .values()
            .filter_map(|a| match a {
                AnswerValue::Choice(v) => Some(v.iter().cloned()),
                AnswerValue::Scale(_) => None,
            })
            .flatten()
            .collect()
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidInput(msg.into())
}

/// R-R2: checks a survey's definition (`input.invalid`): a title, at least one question, keys
/// and texts present and keys unique, a scale with `min < max`, a choice with at least two
/// distinct options, a deficits survey of choice questions only, a valid target, and a last day
/// not before the first.
pub fn check_survey(s: &Survey) -> Result<()> {
    if s.title.trim().is_empty() {
        return Err(invalid("the survey has no title"));
    }
    if s.questions.is_empty() {
        return Err(invalid("the survey has no questions"));
    }
    let mut keys = BTreeSet::new();
    for q in &s.questions {
        if q.key.trim().is_empty() || q.text.trim().is_empty() {
            return Err(invalid("a question needs a key and a text"));
        }
        if !keys.insert(q.key.as_str()) {
            return Err(invalid(format!("the question key {:?} is used twice", q.key)));
        }
        match &q.kind {
            QuestionKind::Scale { min, max } => {
                if min >= max {
                    return Err(invalid(format!("the scale of {:?} runs from {min} to {max}", q.key)));
                }
                if i64::from(*max) - i64::from(*min) > 100 {
                    return Err(invalid(format!("the scale of {:?} has more than 100 steps", q.key)));
                }
                if s.kind == SurveyKind::Deficits {
                    return Err(invalid("a deficits survey asks to choose deficit topics, not to rate"));
                }
            }
            QuestionKind::Choice { options, .. } => {
                if options.iter().any(|o| o.trim().is_empty()) {
                    return Err(invalid(format!("an option of {:?} is empty", q.key)));
                }
                let distinct: BTreeSet<&str> = options.iter().map(|o| o.trim()).collect();
                if distinct.len() != options.len() {
                    return Err(invalid(format!("the options of {:?} repeat", q.key)));
                }
                if distinct.len() < 2 {
                    return Err(invalid(format!("{:?} needs at least two options", q.key)));
                }
            }
        }
    }
    report::check_filters(&s.target)?;
    if let Some(c) = s.closes_on
        && c < s.opens_on
    {
        return Err(invalid("the survey closes before it opens"));
    }
    Ok(())
}

/// R-R2: checks answers against the survey's questions (`input.invalid`): every question is
/// answered and no other; a scale value within its range; chosen options among the question's,
/// at least one, none twice, and exactly one for a single choice.
pub fn check_answers(s: &Survey, answers: &BTreeMap<String, AnswerValue>) -> Result<()> {
    if let Some(k) = answers.keys().find(|k| !s.questions.iter().any(|q| &q.key == *k)) {
        return Err(invalid(format!("the survey has no question {k:?}")));
    }
    for q in &s.questions {
        let a = answers.get(&q.key).ok_or_else(|| invalid(format!("{:?} is not answered", q.key)))?;
        match (&q.kind, a) {
            (QuestionKind::Scale { min, max }, AnswerValue::Scale(v)) => {
                if v < min || v > max {
                    return Err(invalid(format!("{:?} takes {min}–{max}, not {v}", q.key)));
                }
            }
            (QuestionKind::Choice { options, multiple }, AnswerValue::Choice(chosen)) => {
                if chosen.is_empty() {
                    return Err(invalid(format!("nothing is chosen for {:?}", q.key)));
                }
                if !multiple && chosen.len() > 1 {
                    return Err(invalid(format!("{:?} takes one option", q.key)));
                }
                let distinct: BTreeSet<&String> = chosen.iter().collect();
                if distinct.len() != chosen.len() {
                    return Err(invalid(format!("an option of {:?} is chosen twice", q.key)));
                }
                if let Some(c) = chosen.iter().find(|c| !options.contains(c)) {
                    return Err(invalid(format!("{c:?} is not an option of {:?}", q.key)));
                }
            }
            (QuestionKind::Scale { .. }, _) => return Err(invalid(format!("{:?} takes a number", q.key))),
            (QuestionKind::Choice { .. }, _) => return Err(invalid(format!("{:?} takes a list of options", q.key))),
        }
    }
    Ok(())
}

/// R-R2: a survey takes answers on `today` only when it is not closed, has opened and has not
/// passed its last day (`state.invalid`).
pub fn check_open(s: &Survey, today: NaiveDate) -> Result<()> {
    if s.closed {
        return Err(Error::InvalidState("the survey is closed".into()));
    }
    if today < s.opens_on {
        return Err(Error::InvalidState(format!("the survey opens on {}", s.opens_on)));
    }
    if let Some(c) = s.closes_on
        && today > c
    {
        return Err(Error::InvalidState(format!("the survey closed on {c}")));
    }
    Ok(())
}

/// Whether a report row lies in a scope.
pub fn row_in_scope(row: &StaffRow, scope: Scope) -> bool {
    match scope {
        Scope::Region => true,
        Scope::Territory(t) => row.territory == t,
        Scope::Organisation(o) => row.employment.org == o,
    }
}

/// R-R2: whether a worker, by their report rows, is in the survey's slice: one of their active
/// workplaces lies in its scope and passes every target filter.
pub fn in_target(s: &Survey, rows: &[StaffRow], spec: &SliceSpec) -> bool {
    rows.iter().filter(|r| r.employment.status == EmploymentStatus::Active).any(|r| {
        row_in_scope(r, s.scope) && s.target.iter().all(|f| f.values.contains(&report::key_of(f.dimension, r, spec)))
    })
}

/// R-R2: a satisfaction survey is answered after the course, by its listeners: the group must
/// have completed (`group.not_finished`), and `person` must have completed it, passed or
/// failed (`access.denied`).
pub fn check_listener(group: &Group, enrollments: &[Enrollment], person: PersonId) -> Result<()> {
    if group.completed_on.is_none() {
        return Err(Error::GroupNotFinished);
    }
    let completed = enrollments.iter().any(|e| {
        e.group == group.id
            && e.person == person
            && matches!(e.status, EnrollmentStatus::Passed | EnrollmentStatus::Failed)
    });
    if completed {
        Ok(())
    } else {
        Err(Error::AccessDenied("only the course's listeners who completed it answer this survey".into()))
    }
}

/// R-R2: refuses a second answer (`state.invalid`); stores back it with a unique constraint.
pub fn check_once(existing: Option<&Response>) -> Result<()> {
    match existing {
        Some(_) => Err(Error::InvalidState("the survey is answered already: once each".into())),
        None => Ok(()),
    }
}

/// A count of one value of a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueCount {
    /// The value: a scale value as text, or an option.
    pub value: String,
    /// How many respondents gave it.
    pub count: u64,
}

/// One question's results in a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionResult {
    /// The question's key.
    pub question: String,
    /// For a scale: the mean, to two places (none without answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub mean: Option<Decimal>,
    /// Every scale value from the lowest, or every option in the form's order, with its count.
    pub counts: Vec<ValueCount>,
}

/// One group of a survey's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultRow {
    /// The group's keys, one per group-by dimension.
    pub key: Vec<String>,
    /// Respondents in the group, each once.
    pub respondents: u64,
    /// Per question, in the form's order.
    pub questions: Vec<QuestionResult>,
}

/// R-R2: a survey's results by slice. A respondent counts in the groups of their active
/// workplaces found in `rows` (the report rows of the reader's slice, as
/// [`crate::ports::Tx::staff_rows`] returns them), once per group; a respondent with no such row
/// is outside the reader's slice and is not counted at all. Groups are ordered by key; with no
/// group-by there is one total row.
pub fn results(s: &Survey, responses: &[Response], rows: &[StaffRow], spec: &SliceSpec) -> Vec<ResultRow> {
    let mut by_person: BTreeMap<PersonId, Vec<&StaffRow>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.employment.status == EmploymentStatus::Active && row_in_scope(r, spec.scope)) {
        by_person.entry(r.employment.person).or_default().push(r);
    }
    let mut groups: BTreeMap<Vec<String>, Vec<&Response>> = BTreeMap::new();
    for resp in responses.iter().filter(|x| x.survey == s.id) {
        let Some(rows) = by_person.get(&resp.person) else { continue };
        let keys: BTreeSet<Vec<String>> =
            rows.iter().map(|r| spec.group_by.iter().map(|d| report::key_of(*d, r, spec)).collect()).collect();
        for k in keys {
            groups.entry(k).or_default().push(resp);
        }
    }
    if spec.group_by.is_empty() && groups.is_empty() {
        groups.insert(Vec::new(), Vec::new());
    }
    groups
        .into_iter()
        .map(|(key, resps)| ResultRow {
            key,
            respondents: resps.len() as u64,
            questions: s.questions.iter().map(|q| question_result(q, &resps)).collect(),
        })
        .collect()
}

fn question_result(q: &Question, resps: &[&Response]) -> QuestionResult {
    match &q.kind {
        QuestionKind::Scale { min, max } => {
            let values: Vec<i32> = resps
                .iter()
                .filter_map(|r| match r.answers.get(&q.key) {
                    Some(AnswerValue::Scale(v)) => Some(*v),
                    _ => None,
                })
                .collect();
            let mean = (!values.is_empty()).then(|| {
                let sum: i64 = values.iter().map(|v| i64::from(*v)).sum();
                let mut m = (Decimal::from(sum) / Decimal::from(values.len() as u64))
                    .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
                m.rescale(2);
                m
            });
            let counts = (*min..=*max)
                .map(|v| ValueCount { value: v.to_string(), count: values.iter().filter(|x| **x == v).count() as u64 })
                .collect();
            QuestionResult { question: q.key.clone(), mean, counts }
        }
        QuestionKind::Choice { options, .. } => {
            let counts = options
                .iter()
                .map(|o| ValueCount {
                    value: o.clone(),
                    count: resps
                        .iter()
                        .filter(|r| matches!(r.answers.get(&q.key), Some(AnswerValue::Choice(c)) if c.contains(o)))
                        .count() as u64,
                })
                .collect();
            QuestionResult { question: q.key.clone(), mean: None, counts }
        }
    }
}

/// R-R3: a worker's reported deficits: the topics chosen in their latest answer to a deficits
/// survey (`responses` are the worker's answers, `surveys` the surveys they answer).
pub fn reported_deficits(surveys: &[Survey], responses: &[Response]) -> Vec<String> {
    responses
        .iter()
        .filter(|r| surveys.iter().any(|s| s.id == r.survey && s.kind == SurveyKind::Deficits))
        .max_by_key(|r| (r.answered_on, r.survey))
        .map(Response::chosen)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    //! R-R2: every refusal of a definition and of an answer, eligibility, and the results.

    use super::*;
    use crate::ids::{EmploymentId, EnrollmentId, OrgId, ProgramId, TerritoryId};
    use crate::model::{Employment, Funding, OrgKind, Position};
    use crate::ports::PersonFacts;
    use crate::report::Dimension;
    use uuid::Uuid;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
    }

    fn scale(key: &str) -> Question {
        Question {
            key: key.into(), text: "Оцените курс".into(), kind: QuestionKind::Scale { min: 1, max: 5 }
        }
    }

    fn choice(key: &str, multiple: bool) -> Question {
        Question {
            key: key.into(),
            text: "Что вызывает затруднения?".into(),
            kind: QuestionKind::Choice { options: vec!["ФГОС".into(), "ИКТ".into(), "ОВЗ".into()], multiple },
        }
    }

    fn survey(kind: SurveyKind, questions: Vec<Question>) -> Survey {
        Survey {
            id: SurveyId(Uuid::from_u128(7)),
            title: "Мониторинг".into(),
            kind,
            questions,
            target: Vec::new(),
            scope: Scope::Region,
            opens_on: day(3, 1),
            closes_on: Some(day(3, 31)),
            created_by: PersonId(Uuid::from_u128(1)),
            closed: false,
        }
    }

    fn code(r: Result<()>) -> &'static str {
        r.err().map_or("ok", |e| e.code())
    }

    #[test]
    fn r_r2_a_definition_is_checked() {
        let ok = survey(SurveyKind::Monitoring, vec![scale("q1"), choice("q2", true)]);
        assert_eq!(code(check_survey(&ok)), "ok");
        let cases: Vec<(&str, Survey)> = vec![
            ("no title", Survey { title: "  ".into(), ..ok.clone() }),
            ("no questions", Survey { questions: vec![], ..ok.clone() }),
            ("a key twice", Survey { questions: vec![scale("q"), choice("q", false)], ..ok.clone() }),
            ("an empty key", Survey { questions: vec![Question { key: " ".into(), ..scale("q") }], ..ok.clone() }),
            (
                "min = max",
                Survey {
                    questions: vec![Question { kind: QuestionKind::Scale { min: 3, max: 3 }, ..scale("q") }],
                    ..ok.clone()
                },
            ),
            (
                "one option",
                Survey {
                    questions: vec![Question {
                        kind: QuestionKind::Choice { options: vec!["да".into()], multiple: false },
                        ..scale("q")
                    }],
                    ..ok.clone()
                },
            ),
            (
                "repeated options",
                Survey {
                    questions: vec![Question {
                        kind: QuestionKind::Choice { options: vec!["да".into(), "да".into()], multiple: false },
                        ..scale("q")
                    }],
                    ..ok.clone()
                },
            ),
            ("a deficits scale", survey(SurveyKind::Deficits, vec![scale("q")])),
            ("closes before opens", Survey { closes_on: Some(day(2, 1)), ..ok.clone() }),
            (
                "a bad target",
                Survey {
                    target: vec![Filter { dimension: Dimension::Position, values: vec!["astronaut".into()] }],
                    ..ok.clone()
                },
            ),
            (
                "an empty target filter",
                Survey { target: vec![Filter { dimension: Dimension::Position, values: vec![] }], ..ok.clone() },
            ),
        ];
        for (what, s) in cases {
            assert_eq!(code(check_survey(&s)), "input.invalid", "{what}");
        }
        assert_eq!(code(check_survey(&survey(SurveyKind::Deficits, vec![choice("d", true)]))), "ok");
    }

    #[test]
    fn r_r2_answers_match_their_questions() {
        let s = survey(SurveyKind::Monitoring, vec![scale("q1"), choice("q2", false), choice("q3", true)]);
        let answers = |q1: AnswerValue, q2: Vec<&str>, q3: Vec<&str>| {
            BTreeMap::from([
                ("q1".to_string(), q1),
                ("q2".to_string(), AnswerValue::Choice(q2.into_iter().map(String::from).collect())),
                ("q3".to_string(), AnswerValue::Choice(q3.into_iter().map(String::from).collect())),
            ])
        };
        let good = answers(AnswerValue::Scale(4), vec!["ИКТ"], vec!["ФГОС", "ОВЗ"]);
        assert_eq!(code(check_answers(&s, &good)), "ok");
        let mut missing = good.clone();
        missing.remove("q3");
        let mut extra = good.clone();
        extra.insert("q9".into(), AnswerValue::Scale(1));
        let refused = [
            ("below the scale", answers(AnswerValue::Scale(0), vec!["ИКТ"], vec!["ОВЗ"])),
            ("above the scale", answers(AnswerValue::Scale(6), vec!["ИКТ"], vec!["ОВЗ"])),
            ("a list for a scale", answers(AnswerValue::Choice(vec!["4".into()]), vec!["ИКТ"], vec!["ОВЗ"])),
            ("two for a single choice", answers(AnswerValue::Scale(3), vec!["ИКТ", "ОВЗ"], vec!["ОВЗ"])),
            ("nothing chosen", answers(AnswerValue::Scale(3), vec![], vec!["ОВЗ"])),
            ("not an option", answers(AnswerValue::Scale(3), vec!["химия"], vec!["ОВЗ"])),
            ("chosen twice", answers(AnswerValue::Scale(3), vec!["ИКТ"], vec!["ОВЗ", "ОВЗ"])),
            ("a question unanswered", missing),
            ("an unknown question", extra),
        ];
        for (what, a) in refused {
            assert_eq!(code(check_answers(&s, &a)), "input.invalid", "{what}");
        }
        let mut number_for_choice = good;
        number_for_choice.insert("q2".into(), AnswerValue::Scale(1));
        assert_eq!(code(check_answers(&s, &number_for_choice)), "input.invalid", "a number for a choice");
    }

    #[test]
    fn r_r2_answers_come_while_open_and_once() {
        let s = survey(SurveyKind::Monitoring, vec![scale("q1")]);
        assert_eq!(code(check_open(&s, day(2, 28))), "state.invalid", "not yet open");
        assert_eq!(code(check_open(&s, day(3, 1))), "ok");
        assert_eq!(code(check_open(&s, day(3, 31))), "ok");
        assert_eq!(code(check_open(&s, day(4, 1))), "state.invalid", "past its last day");
        assert_eq!(code(check_open(&Survey { closed: true, ..s.clone() }, day(3, 2))), "state.invalid", "closed");
        assert_eq!(code(check_open(&Survey { closes_on: None, ..s.clone() }, day(12, 1))), "ok");
        let r = Response { survey: s.id, person: s.created_by, answers: BTreeMap::new(), answered_on: day(3, 2) };
        assert_eq!(code(check_once(Some(&r))), "state.invalid");
        assert_eq!(code(check_once(None)), "ok");
    }

    fn group(completed: bool) -> Group {
        Group {
            id: GroupId(Uuid::from_u128(50)),
            program: ProgramId(Uuid::from_u128(51)),
            provider: OrgId(Uuid::from_u128(52)),
            starts: day(2, 1),
            ends: day(2, 20),
            place: "Самара".into(),
            capacity: 10,
            taken: 2,
            funding: Funding::State,
            completed_on: completed.then(|| day(2, 21)),
            cancelled: false,
            plan: None,
        }
    }

    fn enrolment(person: u128, status: EnrollmentStatus) -> Enrollment {
        Enrollment {
            id: EnrollmentId(Uuid::from_u128(person + 100)),
            group: GroupId(Uuid::from_u128(50)),
            person: PersonId(Uuid::from_u128(person)),
            voucher: None,
            blocks: 0,
            profile_blocks: 0,
            confirmed: true,
            status,
            enrolled_at: chrono::DateTime::UNIX_EPOCH,
            committed: None,
        }
    }

    #[test]
    fn r_r2_satisfaction_is_for_the_listeners_who_completed() {
        let list = [
            enrolment(1, EnrollmentStatus::Passed),
            enrolment(2, EnrollmentStatus::Failed),
            enrolment(3, EnrollmentStatus::Removed),
            enrolment(4, EnrollmentStatus::NotCompleted),
        ];
        let p = |n: u128| PersonId(Uuid::from_u128(n));
        assert_eq!(code(check_listener(&group(false), &list, p(1))), "group.not_finished");
        assert_eq!(code(check_listener(&group(true), &list, p(1))), "ok");
        assert_eq!(code(check_listener(&group(true), &list, p(2))), "ok");
        assert_eq!(code(check_listener(&group(true), &list, p(3))), "access.denied", "removed");
        assert_eq!(code(check_listener(&group(true), &list, p(4))), "access.denied", "did not complete");
        assert_eq!(code(check_listener(&group(true), &list, p(5))), "access.denied", "never enrolled");
    }

    fn row(person: u128, territory: u128, position: Position) -> StaffRow {
        StaffRow {
            employment: Employment {
                id: EmploymentId(Uuid::from_u128(person + 1000)),
                person: PersonId(Uuid::from_u128(person)),
                org: OrgId(Uuid::from_u128(territory + 500)),
                position,
                pedagogical: true,
                status: EmploymentStatus::Active,
                since: day(1, 1),
                until: None,
                parental_leave: false,
                category: None,
            },
            org_kind: OrgKind::School,
            territory: TerritoryId(Uuid::from_u128(territory)),
            last_passed_on: None,
            person: PersonFacts::default(),
            passed: Vec::new(),
            vouchers: Vec::new(),
            voucher_enrollments: Vec::new(),
        }
    }

    fn spec(scope: Scope, group_by: Vec<Dimension>) -> SliceSpec {
        SliceSpec::new(&crate::RegionPolicy::samara(), scope, group_by, Vec::new(), day(3, 10)).unwrap_or_else(|e| {
            panic!("{e}");
        })
    }

    #[test]
    fn r_r2_a_target_slice_admits_only_its_workers() {
        let mut s = survey(SurveyKind::Monitoring, vec![scale("q1")]);
        s.target = vec![Filter { dimension: Dimension::Position, values: vec!["teacher".into()] }];
        let sp = spec(Scope::Region, vec![]);
        assert!(in_target(&s, &[row(1, 1, Position::Teacher)], &sp));
        assert!(!in_target(&s, &[row(2, 1, Position::Psychologist)], &sp));
        assert!(!in_target(&s, &[], &sp), "no workplace, no slice");
        s.scope = Scope::Territory(TerritoryId(Uuid::from_u128(2)));
        assert!(!in_target(&s, &[row(1, 1, Position::Teacher)], &sp), "outside the creator's territory");
        assert!(in_target(&s, &[row(1, 2, Position::Teacher)], &sp));
        let mut dismissed = row(1, 2, Position::Teacher);
        dismissed.employment.status = EmploymentStatus::Dismissed;
        assert!(!in_target(&s, &[dismissed], &sp), "only current workplaces");
    }

    fn answer(person: u128, q1: i32, q2: &[&str]) -> Response {
        Response {
            survey: SurveyId(Uuid::from_u128(7)),
            person: PersonId(Uuid::from_u128(person)),
            answers: BTreeMap::from([
                ("q1".to_string(), AnswerValue::Scale(q1)),
                ("q2".to_string(), AnswerValue::Choice(q2.iter().map(|x| x.to_string()).collect())),
            ]),
            answered_on: day(3, 5),
        }
    }

    #[test]
    fn r_r2_results_are_aggregated_by_slice() {
        let s = survey(SurveyKind::Monitoring, vec![scale("q1"), choice("q2", true)]);
        let rows = [
            row(1, 1, Position::Teacher),
            row(2, 1, Position::Teacher),
            row(3, 2, Position::Teacher),
            row(4, 2, Position::Teacher),
        ];
        let resps =
            [answer(1, 5, &["ФГОС"]), answer(2, 4, &["ФГОС", "ИКТ"]), answer(3, 2, &["ОВЗ"]), answer(9, 1, &["ИКТ"])];
        let total = results(&s, &resps, &rows, &spec(Scope::Region, vec![]));
        assert_eq!(total.len(), 1);
        assert_eq!(total[0].respondents, 3, "a respondent outside the rows is not counted");
        assert_eq!(total[0].questions[0].mean, Some(Decimal::new(367, 2)), "(5 + 4 + 2) / 3 = 3.67");
        let counts: Vec<u64> = total[0].questions[0].counts.iter().map(|c| c.count).collect();
        assert_eq!(counts, [0, 1, 0, 1, 1]);
        let opts: Vec<(&str, u64)> = total[0].questions[1].counts.iter().map(|c| (c.value.as_str(), c.count)).collect();
        assert_eq!(opts, [("ФГОС", 2), ("ИКТ", 1), ("ОВЗ", 1)]);
        let by_t = results(&s, &resps, &rows, &spec(Scope::Region, vec![Dimension::Territory]));
        assert_eq!(by_t.len(), 2);
        assert_eq!((by_t[0].respondents, by_t[0].questions[0].mean), (2, Some(Decimal::new(450, 2))));
        assert_eq!((by_t[1].respondents, by_t[1].questions[0].mean), (1, Some(Decimal::new(200, 2))));
        // A reader's slice: a territory sees its own respondents only.
        let t2 = results(&s, &resps, &rows, &spec(Scope::Territory(TerritoryId(Uuid::from_u128(2))), vec![]));
        assert_eq!(t2[0].respondents, 1);
        let none = results(&s, &[], &rows, &spec(Scope::Region, vec![]));
        assert_eq!((none[0].respondents, none[0].questions[0].mean.is_none()), (0, true), "one empty total");
    }

    #[test]
    fn r_r3_the_latest_deficits_answer_counts() {
        let d1 = Survey { id: SurveyId(Uuid::from_u128(7)), ..survey(SurveyKind::Deficits, vec![choice("q2", true)]) };
        let d2 = Survey { id: SurveyId(Uuid::from_u128(8)), ..d1.clone() };
        let m = Survey { id: SurveyId(Uuid::from_u128(9)), ..survey(SurveyKind::Monitoring, vec![choice("q2", true)]) };
        let mut a1 = answer(1, 3, &["ФГОС"]);
        a1.answers.remove("q1");
        let a2 = Response { survey: d2.id, answered_on: day(4, 1), ..answer(1, 3, &["ИКТ", "ОВЗ"]) };
        let a3 = Response { survey: m.id, answered_on: day(5, 1), ..answer(1, 3, &["ФГОС"]) };
        let surveys = [d1, d2, m];
        assert_eq!(reported_deficits(&surveys, &[a1.clone()]), ["ФГОС"]);
        assert_eq!(reported_deficits(&surveys, &[a1, a2, a3.clone()]), ["ИКТ", "ОВЗ"], "monitoring does not count");
        assert!(reported_deficits(&surveys, &[a3]).is_empty());
    }
}
