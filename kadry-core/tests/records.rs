//! A worker's records and what comes out of them, on the pure functions: the registry's data
//! (R-G6), trainings entered from documents (R-G6, R-V11), reminders (R-V5, R-V11, R-V4, R-N1),
//! registry lines and the ФИС ФРДО record (R-G6). Each test names its rule.

use std::collections::HashSet;

use chrono::{NaiveDate, TimeZone, Utc};
use kadry_core::frdo;
use kadry_core::ids::*;
use kadry_core::model::*;
use kadry_core::policy::RegionPolicy;
use kadry_core::ports::{Change, PersonFacts, StaffRow};
use kadry_core::records::{self as r, EnteredTraining, ProfileInput};
use kadry_core::registry::{self, Finish, Workplace};
use kadry_core::types::{Email, FullName, Snils};
use proptest::prelude::*;
use uuid::Uuid;

mod common;
use common::{Given, day};

fn pid(n: u128) -> PersonId {
    PersonId(Uuid::from_u128(n))
}

fn person(n: u128) -> Person {
    Person {
        profile: Profile::default(),
        id: pid(n),
        full_name: FullName::parse("Иванова Мария Петровна").unwrap(),
        email: Email::parse(&format!("p{n}@example.ru")).unwrap(),
        email_confirmed: true,
        snils: Some(Snils::parse("112-233-445 95").unwrap()),
        subject: None,
        birth_year: None,
        consent_at: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        pending_change: None,
        registered_at: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn diploma() -> EducationDoc {
    EducationDoc {
        level: EducationLevel::Higher,
        surname: "Смирнова".into(),
        series: Some("ВСА".into()),
        number: "0123456".into(),
        qualification: None,
    }
}

fn full_profile() -> ProfileInput {
    ProfileInput {
        birth_date: Some(day(1985, 4, 12)),
        sex: Some(Sex::Female),
        citizenship: Some("643".into()),
        education: Some(diploma()),
        experience_since: Some(day(2008, 9, 1)),
    }
}

fn empty_profile() -> ProfileInput {
    ProfileInput { birth_date: None, sex: None, citizenship: None, education: None, experience_since: None }
}

fn put_person(changes: Vec<Change>) -> Person {
    match changes.as_slice() {
        [Change::PutPerson(p)] => p.clone(),
        other => panic!("expected one PutPerson, got {other:?}"),
    }
}

fn code<T: std::fmt::Debug>(r: kadry_core::Result<T>) -> &'static str {
    r.expect_err("a refusal").code()
}

// ---------------------------------------------------------------------------------------------
// The registry's data (R-G6)
// ---------------------------------------------------------------------------------------------

#[test]
fn r_g6_profile_is_recorded_normalised() {
    let g = Given::samara();
    let input = ProfileInput {
        citizenship: Some(" 643\u{a0}".into()),
        education: Some(EducationDoc { surname: "  Смирнова\u{200b} ".into(), ..diploma() }),
        ..full_profile()
    };
    let p = put_person(r::set_profile(&g.on(day(2025, 3, 1)), person(1), input).unwrap());
    assert_eq!(p.profile.citizenship.as_deref(), Some("643"));
    assert_eq!(p.profile.education.as_ref().map(|e| e.surname.as_str()), Some("Смирнова"));
    assert_eq!(p.birth_year, Some(1985), "reports' age band follows the birth date");
    // Absent fields keep what is recorded.
    let p2 = put_person(
        r::set_profile(&g.on(day(2025, 3, 1)), p.clone(), ProfileInput { sex: Some(Sex::Female), ..empty_profile() })
            .unwrap(),
    );
    assert_eq!(p2.profile, p.profile);
}

#[test]
fn r_g6_profile_refusals() {
    let g = Given::samara();
    let ctx = g.on(day(2025, 3, 1));
    let cases: Vec<(&str, ProfileInput)> = vec![
        ("nothing given", empty_profile()),
        ("born in the future", ProfileInput { birth_date: Some(day(2026, 1, 1)), ..empty_profile() }),
        ("younger than 14", ProfileInput { birth_date: Some(day(2015, 1, 1)), ..empty_profile() }),
        ("born before 1900", ProfileInput { birth_date: Some(day(1899, 12, 31)), ..empty_profile() }),
        ("citizenship as a name", ProfileInput { citizenship: Some("Россия".into()), ..empty_profile() }),
        ("citizenship of four digits", ProfileInput { citizenship: Some("6430".into()), ..empty_profile() }),
        ("citizenship empty", ProfileInput { citizenship: Some("  ".into()), ..empty_profile() }),
        (
            "diploma without a number",
            ProfileInput { education: Some(EducationDoc { number: " ".into(), ..diploma() }), ..empty_profile() },
        ),
        (
            "diploma without a surname",
            ProfileInput {
                education: Some(EducationDoc { surname: "\u{200b}".into(), ..diploma() }),
                ..empty_profile()
            },
        ),
        ("experience in the future", ProfileInput { experience_since: Some(day(2025, 3, 2)), ..empty_profile() }),
        (
            "experience before the age of 14",
            ProfileInput {
                birth_date: Some(day(1985, 4, 12)),
                experience_since: Some(day(1990, 9, 1)),
                ..empty_profile()
            },
        ),
    ];
    for (what, input) in cases {
        assert_eq!(code(r::set_profile(&ctx, person(1), input)), "input.invalid", "{what}");
    }
}

#[test]
fn r_r1_category_is_set_on_the_current_employment() {
    let e = Employment {
        category: None,
        id: EmploymentId(Uuid::from_u128(10)),
        person: pid(1),
        org: OrgId(Uuid::from_u128(20)),
        position: Position::Teacher,
        pedagogical: true,
        status: EmploymentStatus::Active,
        since: day(2020, 9, 1),
        until: None,
        parental_leave: false,
    };
    let changes = r::set_category(std::slice::from_ref(&e), Some(Category::First)).unwrap();
    assert!(matches!(changes.as_slice(), [Change::PutEmployment(x)] if x.category == Some(Category::First)));
    let same = Employment { category: Some(Category::First), ..e.clone() };
    assert!(r::set_category(&[same], Some(Category::First)).unwrap().is_empty(), "no change, nothing written");
    let ended = Employment { status: EmploymentStatus::Dismissed, until: Some(day(2024, 6, 30)), ..e };
    assert_eq!(code(r::set_category(&[ended], Some(Category::First))), "employment.none");
}

// ---------------------------------------------------------------------------------------------
// Trainings entered from documents (R-G6, R-V11)
// ---------------------------------------------------------------------------------------------

fn entered() -> EnteredTraining {
    EnteredTraining {
        source: TrainingSource::External,
        program_title: "Инклюзивное образование".into(),
        provider_name: "ФГАОУ ВО «Университет»".into(),
        hours: 36,
        started_on: Some(day(2025, 5, 12)),
        completed_on: day(2025, 5, 23),
        document: "772412345678".into(),
    }
}

#[test]
fn r_g6_an_entered_training_counts_as_passed_without_funding() {
    let g = Given::samara();
    let changes = r::record_training(&g.on(day(2025, 6, 2)), pid(1), entered()).unwrap();
    let [Change::AddTraining(t)] = changes.as_slice() else { panic!("{changes:?}") };
    assert!(t.passed && t.completed, "it counts for the three-year floor (R-V11)");
    assert_eq!((t.funding, t.certificate.as_ref(), t.source), (None, None, TrainingSource::External));
    assert_eq!(t.document.as_deref(), Some("772412345678"));
}

#[test]
fn r_g6_entered_training_refusals() {
    let g = Given::samara();
    let ctx = g.on(day(2025, 6, 2));
    let cases: Vec<(&str, EnteredTraining)> = vec![
        ("a group's record", EnteredTraining { source: TrainingSource::Group, ..entered() }),
        ("fewer than 16 hours", EnteredTraining { hours: 15, ..entered() }),
        ("more than 2000 hours", EnteredTraining { hours: 2001, ..entered() }),
        ("not yet ended", EnteredTraining { completed_on: day(2025, 6, 3), ..entered() }),
        ("before 1990", EnteredTraining { completed_on: day(1989, 12, 31), started_on: None, ..entered() }),
        ("ends before it starts", EnteredTraining { started_on: Some(day(2025, 5, 24)), ..entered() }),
        ("no title", EnteredTraining { program_title: " ".into(), ..entered() }),
        ("no provider", EnteredTraining { provider_name: String::new(), ..entered() }),
        ("no document", EnteredTraining { document: "\u{feff}".into(), ..entered() }),
    ];
    for (what, t) in cases {
        assert_eq!(code(r::record_training(&ctx, pid(1), t)), "input.invalid", "{what}");
    }
    assert!(r::record_training(&ctx, pid(1), EnteredTraining { hours: 16, ..entered() }).is_ok(), "16 hours is enough");
}

// ---------------------------------------------------------------------------------------------
// Reminders (R-V5, R-V11, R-V4, R-N1)
// ---------------------------------------------------------------------------------------------

fn row(person: u128, last_passed_on: Option<NaiveDate>, vouchers: Vec<Voucher>, off: bool) -> StaffRow {
    StaffRow {
        employment: Employment {
            category: None,
            id: EmploymentId(Uuid::from_u128(person + 1000)),
            person: pid(person),
            org: OrgId(Uuid::from_u128(20)),
            position: Position::Teacher,
            pedagogical: true,
            status: EmploymentStatus::Active,
            since: day(2015, 9, 1),
            until: None,
            parental_leave: false,
        },
        org_kind: OrgKind::School,
        territory: TerritoryId(Uuid::from_u128(30)),
        last_passed_on,
        person: PersonFacts { reminders_off: off, ..PersonFacts::default() },
        passed: Vec::new(),
        vouchers,
        voucher_enrollments: Vec::new(),
    }
}

fn voucher(person: u128, status: VoucherStatus, issued_on: NaiveDate) -> Voucher {
    Voucher {
        id: VoucherId(Uuid::from_u128(person + 5000)),
        person: pid(person),
        status,
        requested_on: Some(issued_on),
        approve_by: Some(day(2025, 2, 10)),
        issued_on: (status == VoucherStatus::Issued).then_some(issued_on),
        valid_until: (status == VoucherStatus::Issued).then(|| RegionPolicy::add_months(issued_on, 12)),
        blocks_total: 1,
        paper: false,
        committed: None,
        org: None,
        position: None,
        reason: None,
    }
}

#[test]
fn r_v5_voucher_reminders_take_the_tightest_threshold_reached() {
    let policy = RegionPolicy::samara();
    // Valid to 2026-02-03.
    let rows = [row(1, None, vec![voucher(1, VoucherStatus::Issued, day(2025, 2, 3))], false)];
    let kinds = |today| -> Vec<NotificationKind> {
        r::worker_reminders(&policy, &rows, today)
            .into_iter()
            .filter(|x| x.kind == NotificationKind::VoucherExpiring)
            .map(|x| x.kind)
            .collect()
    };
    assert!(kinds(day(2025, 11, 4)).is_empty(), "91 days left: none yet");
    assert_eq!(kinds(day(2025, 11, 5)).len(), 1, "90 days left");
    let id_at = |today| r::worker_reminders(&policy, &rows, today)[0].id;
    assert_eq!(id_at(day(2025, 11, 5)), id_at(day(2025, 12, 1)), "the 90-day reminder is one reminder");
    assert_ne!(id_at(day(2025, 12, 1)), id_at(day(2026, 1, 4)), "the 30-day one is another");
    assert_ne!(id_at(day(2026, 1, 4)), id_at(day(2026, 1, 28)), "so is the 7-day one");
    assert!(kinds(day(2026, 2, 4)).is_empty(), "expired: nothing to remind of");
}

#[test]
fn r_v11_floor_reminders_90_and_30_days_before() {
    let policy = RegionPolicy::samara();
    let rows = [row(1, Some(day(2022, 5, 20)), vec![], false)];
    let floor = |today| {
        r::worker_reminders(&policy, &rows, today)
            .into_iter()
            .filter(|x| x.kind == NotificationKind::FloorApproaching)
            .count()
    };
    assert_eq!(floor(day(2025, 2, 18)), 0, "91 days before");
    assert_eq!(floor(day(2025, 2, 19)), 1, "90 days before 20.05.2025");
    assert_eq!(floor(day(2025, 4, 20)), 1, "30 days before");
    assert_eq!(floor(day(2025, 5, 21)), 0, "past: the overdue report's business, not a reminder");
    let not_pedagogical =
        StaffRow { employment: Employment { pedagogical: false, ..rows[0].employment.clone() }, ..rows[0].clone() };
    assert!(r::worker_reminders(&policy, &[not_pedagogical], day(2025, 2, 19)).is_empty());
}

#[test]
fn r_n1_opted_out_people_get_no_reminders_and_none_is_sent_twice() {
    let g = Given::samara();
    let policy = &g.policy;
    let today = day(2025, 2, 19);
    let rows = [row(1, Some(day(2022, 5, 20)), vec![], true), row(2, Some(day(2022, 5, 20)), vec![], false)];
    let due = r::worker_reminders(policy, &rows, today);
    assert_eq!(due.iter().map(|x| x.person).collect::<Vec<_>>(), vec![pid(2)], "person 1 opted out");
    let changes = r::send(&g.on(today), due.clone(), &HashSet::new());
    assert_eq!(changes.len(), 1);
    let sent: HashSet<Uuid> = due.iter().map(|x| x.id).collect();
    assert!(r::send(&g.on(today), due, &sent).is_empty(), "already sent: not again");
}

#[test]
fn r_v4_approval_reminders_go_to_every_operator_who_has_not_opted_out() {
    let rows = [row(1, None, vec![voucher(1, VoucherStatus::Requested, day(2025, 2, 3))], false)];
    let ops = [(pid(100), false), (pid(101), true)];
    assert!(r::approval_reminders(&rows, &ops, day(2025, 2, 10)).is_empty(), "the last day of the term");
    let due = r::approval_reminders(&rows, &ops, day(2025, 2, 11));
    assert_eq!(due.iter().map(|x| x.person).collect::<Vec<_>>(), vec![pid(100)]);
    assert_eq!(due[0].kind, NotificationKind::ApprovalOverdue);
    assert_eq!(due[0].id, r::approval_reminders(&rows, &ops, day(2025, 3, 1))[0].id, "one reminder per application");
}

// ---------------------------------------------------------------------------------------------
// Registry lines and the ФИС ФРДО record (R-G6)
// ---------------------------------------------------------------------------------------------

fn certified(person: PersonId) -> TrainingRecord {
    TrainingRecord {
        person,
        group: Some(GroupId(Uuid::from_u128(40))),
        program: Some(ProgramId(Uuid::from_u128(41))),
        program_title: "Цифровая  школа".into(),
        provider: Some(OrgId(Uuid::from_u128(42))),
        hours: 72,
        completed_on: day(2025, 3, 28),
        passed: true,
        certificate: Some(Certificate {
            series: "6345".into(),
            number: "2025-000001".into(),
            issued_on: day(2025, 3, 28),
            code: "ABCDEF0123".into(),
        }),
        statement: None,
        completed: true,
        reason: None,
        attended_hours: Some(70),
        funding: Some(Funding::Voucher),
        source: TrainingSource::Group,
        started_on: Some(day(2024, 12, 2)),
        document: None,
        provider_name: None,
    }
}

#[test]
fn r_g6_frdo_record_maps_kadry_data_to_the_template() {
    let g = Given::samara();
    let p = put_person(r::set_profile(&g.on(day(2025, 3, 1)), person(1), full_profile()).unwrap());
    let rec = registry::frdo_record(&certified(p.id), &p, None, None).unwrap().unwrap();
    rec.validate().unwrap();
    assert_eq!(
        (rec.surname.as_str(), rec.given_name.as_str(), rec.patronymic.as_deref()),
        ("Иванова", "Мария", Some("Петровна"))
    );
    assert_eq!(rec.diploma_surname, "Смирнова");
    assert_eq!((rec.start_year, rec.end_year), (2024, 2025));
    assert_eq!(rec.program_title, "Цифровая школа", "normalised");
    assert_eq!(rec.funding_source, frdo::FundingSource::RegionalBudget);
    assert_eq!(rec.study_form, frdo::StudyForm::FullTime, "a program without a form is in person");
    assert_eq!(rec.snils.as_ref().map(|s| s.as_str().to_string()).as_deref(), Some("112-233-445 95"));
    let cells = rec.cells(&frdo::TEMPLATE_2024);
    assert_eq!(cells.len(), frdo::TEMPLATE_2024.columns.len());
    assert!(cells.contains(&"12.04.1985".to_string()));
    // Forms and funding.
    assert_eq!(registry::frdo_form(Some(kadry_core::planning::StudyForm::Blended)), frdo::StudyForm::PartTime);
    assert_eq!(registry::frdo_form(Some(kadry_core::planning::StudyForm::Distance)), frdo::StudyForm::Extramural);
    assert_eq!(registry::frdo_funding(Funding::Paid), frdo::FundingSource::Paid);
}

#[test]
fn r_g6_frdo_lists_what_an_incomplete_profile_lacks_and_skips_what_is_not_kadrys() {
    let p = person(1);
    let missing = registry::frdo_record(&certified(p.id), &p, None, None).unwrap().unwrap_err();
    assert_eq!(missing.number, "2025-000001");
    for column in ["Уровень образования ВО/СПО", "Дата рождения получателя", "Пол получателя"]
    {
        assert!(missing.columns.iter().any(|c| c == column), "{column} in {:?}", missing.columns);
    }
    let statement = TrainingRecord { passed: false, certificate: None, ..certified(p.id) };
    assert!(registry::frdo_record(&statement, &p, None, None).is_none(), "statements are not uploaded");
    let external = TrainingRecord { source: TrainingSource::External, ..certified(p.id) };
    assert!(registry::frdo_record(&external, &p, None, None).is_none(), "another provider's document");
}

#[test]
fn r_g6_registry_lines_say_how_each_listener_finished() {
    let p = person(1);
    let passed = certified(p.id);
    let failed = TrainingRecord {
        passed: false,
        certificate: None,
        statement: Some(Statement { number: "С-2025-000001".into(), issued_on: day(2025, 3, 28) }),
        ..certified(p.id)
    };
    let dropped = TrainingRecord { completed: false, reason: Some("болезнь".into()), ..failed.clone() };
    let lines: Vec<_> =
        [&passed, &failed, &dropped].iter().map(|t| registry::line(t, &p, Workplace::default(), None, None)).collect();
    assert_eq!(
        lines.iter().map(|l| l.finish).collect::<Vec<_>>(),
        [Finish::Passed, Finish::Failed, Finish::NotCompleted]
    );
    assert_eq!(lines[0].document.as_deref(), Some("6345 2025-000001"));
    assert_eq!(lines[1].document.as_deref(), Some("С-2025-000001"));
    let view = registry::RegistryView::new(lines);
    assert_eq!((view.count, view.passed, view.failed, view.not_completed, view.hours), (3, 1, 1, 1, 72));
}

#[test]
fn r_g6_the_registry_places_a_worker_where_they_worked_then() {
    let mk = |n: u128, since: NaiveDate, until: Option<NaiveDate>| Employment {
        category: None,
        id: EmploymentId(Uuid::from_u128(n)),
        person: pid(1),
        org: OrgId(Uuid::from_u128(n)),
        position: Position::Teacher,
        pedagogical: true,
        status: if until.is_some() { EmploymentStatus::Dismissed } else { EmploymentStatus::Active },
        since,
        until,
        parental_leave: false,
    };
    let emps = [mk(1, day(2015, 9, 1), Some(day(2024, 8, 31))), mk(2, day(2024, 9, 1), None)];
    let at = |d| registry::employment_on(&emps, d).map(|e| e.id.0.as_u128());
    assert_eq!(at(day(2023, 3, 1)), Some(1));
    assert_eq!(at(day(2025, 3, 1)), Some(2));
    assert_eq!(at(day(2010, 1, 1)), Some(1), "before any: the first");
    assert_eq!(registry::employment_on(&[], day(2025, 1, 1)), None);
}

proptest! {
    /// R-G6: the export never fails on data kadry accepted — any profile `set_profile` takes
    /// gives a record the template's checks pass.
    #[test]
    fn r_g6_accepted_profiles_always_export(
        birth in 0i64..30_000,
        female in any::<bool>(),
        country in 0u32..1000,
        surname in "[ \u{a0}\u{200b}]{0,2}[А-Яа-яЁё-]{1,20}[ \t]{0,2}",
        series in proptest::option::of("[А-Я0-9 ]{0,8}"),
        number in "[0-9 \u{feff}]{1,14}",
        secondary in any::<bool>(),
    ) {
        let g = Given::samara();
        let input = ProfileInput {
            birth_date: day(1930, 1, 1).checked_add_days(chrono::Days::new(birth as u64)),
            sex: Some(if female { Sex::Female } else { Sex::Male }),
            citizenship: Some(format!("{country:03}")),
            education: Some(EducationDoc {
                level: if secondary { EducationLevel::SecondaryVocational } else { EducationLevel::Higher },
                surname,
                series,
                number,
                qualification: None,
            }),
            experience_since: None,
        };
        let Ok(changes) = r::set_profile(&g.on(day(2025, 3, 1)), person(1), input) else { return Ok(()) };
        let p = put_person(changes);
        let rec = registry::frdo_record(&certified(p.id), &p, None, None).unwrap();
        prop_assert!(rec.is_ok(), "{:?}", rec.err());
    }
}
