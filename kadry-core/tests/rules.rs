//! The rules as given/when/then tests on the pure decisions: each test names its rule id.

use chrono::NaiveDate;
use kadry_core::calendar::{CalendarRegion, ProductionCalendar};
use kadry_core::decide as d;
use kadry_core::ids::*;
use kadry_core::model::*;
use kadry_core::planning::{Decimal, FundingAccount};
use kadry_core::policy::RegionPolicy;
use kadry_core::ports::{Change, SequentialIds};
use kadry_core::types::{Email, FullName};
use uuid::Uuid;

mod common;
use common::{Given, day, noon};

fn pid(n: u128) -> PersonId {
    PersonId(Uuid::from_u128(n))
}

fn employment(status: EmploymentStatus, position: Position, pedagogical: bool) -> Employment {
    Employment {
        category: Default::default(),
        id: EmploymentId(Uuid::from_u128(10)),
        person: pid(1),
        org: OrgId(Uuid::from_u128(20)),
        position,
        pedagogical,
        status,
        since: day(2020, 9, 1),
        until: None,
        parental_leave: false,
    }
}

fn issued(on: NaiveDate) -> Voucher {
    Voucher {
        id: VoucherId(Uuid::from_u128(
            on.to_string().len() as u128 + u128::from(on.format("%Y%m%d").to_string().parse::<u32>().unwrap()),
        )),
        person: pid(1),
        status: VoucherStatus::Issued,
        requested_on: Some(on),
        approve_by: None,
        issued_on: Some(on),
        valid_until: Some(RegionPolicy::add_months(on, 12)),
        blocks_total: 2,
        paper: false,
        committed: None,
        org: None,
        position: None,
        reason: None,
    }
}

fn code<T: std::fmt::Debug>(r: kadry_core::Result<T>) -> &'static str {
    r.unwrap_err().code()
}

#[test]
fn r_v1_only_pedagogical_workers_and_heads() {
    let g = Given::samara();
    let ctx = g.on(day(2025, 1, 13));
    let clerk = [employment(EmploymentStatus::Active, Position::Other, false)];
    assert_eq!(code(d::request_voucher(&ctx, pid(1), &clerk, &[])), "voucher.not_pedagogical");
    let head = [employment(EmploymentStatus::Active, Position::Head, false)];
    assert!(d::request_voucher(&ctx, pid(1), &head, &[]).is_ok());
    let pending = [employment(EmploymentStatus::Pending, Position::Teacher, true)];
    assert_eq!(code(d::request_voucher(&ctx, pid(1), &pending, &[])), "employment.unconfirmed");
    assert_eq!(code(d::request_voucher(&ctx, pid(1), &[], &[])), "employment.none");
}

#[test]
fn r_v2_interval_from_29_february_ends_28_february() {
    let g = Given::samara();
    let teacher = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    let last = [issued(day(2024, 2, 29))];
    assert_eq!(code(d::request_voucher(&g.on(day(2027, 2, 27)), pid(1), &teacher, &last)), "voucher.too_soon");
    assert!(d::request_voucher(&g.on(day(2027, 2, 28)), pid(1), &teacher, &last).is_ok());
    let vp = g.policy.voucher.as_ref().unwrap();
    assert_eq!(d::next_issue_from(vp, &last), Some(day(2027, 2, 28)));
}

#[test]
fn r_v2_a_paper_voucher_counts_and_a_cancelled_one_does_not() {
    let g = Given::samara();
    let teacher = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    let ctx = g.on(day(2025, 6, 2));
    let paper = d::record_paper_voucher(&ctx, pid(1), &teacher, &[], day(2024, 5, 1)).unwrap();
    let Change::PutVoucher(p) = &paper[0] else { panic!() };
    assert!(p.paper);
    assert_eq!(code(d::request_voucher(&ctx, pid(1), &teacher, std::slice::from_ref(p))), "voucher.too_soon");
    let cancelled = Voucher { status: VoucherStatus::Cancelled, ..p.clone() };
    assert!(d::request_voucher(&ctx, pid(1), &teacher, &[cancelled]).is_ok());
    // A paper voucher within the interval of another is refused too.
    assert_eq!(
        code(d::record_paper_voucher(&ctx, pid(1), &teacher, std::slice::from_ref(p), day(2023, 1, 1))),
        "voucher.too_soon"
    );
    assert_eq!(code(d::record_paper_voucher(&ctx, pid(1), &teacher, &[], day(2025, 6, 3))), "input.invalid");
}

#[test]
fn r_v3_one_open_application() {
    let g = Given::samara();
    let teacher = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    let ctx = g.on(day(2025, 1, 13));
    let Change::PutVoucher(app) = d::request_voucher(&ctx, pid(1), &teacher, &[]).unwrap().remove(0) else { panic!() };
    assert_eq!(code(d::request_voucher(&ctx, pid(1), &teacher, &[app])), "voucher.pending_exists");
}

#[test]
fn r_v4_sla_counts_working_days_from_the_next_day() {
    let g = Given::samara();
    let teacher = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    for (on, due) in [
        (day(2025, 1, 13), day(2025, 1, 20)),
        (day(2024, 12, 27), day(2025, 1, 14)),
        (day(2025, 4, 30), day(2025, 5, 13)),
    ] {
        let Change::PutVoucher(app) = d::request_voucher(&g.on(on), pid(1), &teacher, &[]).unwrap().remove(0) else {
            panic!()
        };
        assert_eq!(app.approve_by, Some(due), "applied {on}");
    }
}

#[test]
fn r_v4_r_v5_approval_issues_for_a_year_and_notifies() {
    let g = Given::samara();
    let teacher = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    let Change::PutVoucher(app) = d::request_voucher(&g.on(day(2025, 1, 13)), pid(1), &teacher, &[]).unwrap().remove(0)
    else {
        panic!()
    };
    let norm = Decimal::new(1_500_000, 2);
    let funding = d::VoucherFunding { norm, account: None };
    let changes = d::approve_voucher(&g.on(day(2025, 1, 15)), &teacher, std::slice::from_ref(&app), &funding).unwrap();
    let Change::PutVoucher(v) = &changes[0] else { panic!() };
    assert_eq!((v.issued_on, v.valid_until), (Some(day(2025, 1, 15)), Some(day(2026, 1, 15))));
    assert_eq!(v.committed, Some(norm));
    // R-F1: the issue commits the norm against the year's voucher limit.
    assert_eq!(changes[1], Change::Commit { year: 2025, source: Funding::Voucher, amount: norm, count: 1 });
    assert!(
        matches!(&changes[2], Change::Notify(n) if n.kind == NotificationKind::VoucherApproved && n.person == pid(1))
    );
    assert_eq!(code(d::approve_voucher(&g.on(day(2025, 1, 15)), &teacher, &[], &funding)), "state.invalid");
    // R-F1: beyond the limit, refused.
    let account = FundingAccount {
        year: 2025,
        source: Funding::Voucher,
        limit: Some(Decimal::new(2_000_000, 2)),
        used: Decimal::new(1_000_000, 2),
        commitments: 1,
    };
    let tight = d::VoucherFunding { norm, account: Some(&account) };
    assert_eq!(code(d::approve_voucher(&g.on(day(2025, 1, 15)), &teacher, &[app], &tight)), "funding.limit_exceeded");
}

fn program(hours: u32, profile_for: Audience<Position>) -> Program {
    Program {
        form: Default::default(),
        id: ProgramId(Uuid::from_u128(u128::from(hours) + 1000)),
        provider: OrgId(Uuid::from_u128(30)),
        title: "Программа".into(),
        hours,
        annotation: None,
        positions: Audience::All,
        profile_for,
        org_kinds: Audience::All,
        subjects: Audience::All,
        year: None,
        status: ProgramStatus::Approved,
        direction: None,
        min_group: None,
        max_group: None,
        places: None,
        expertise: None,
    }
}

fn group(starts: NaiveDate, funding: Funding, capacity: u32, taken: u32) -> Group {
    Group {
        id: GroupId(Uuid::from_u128(u128::from(starts.format("%Y%m%d").to_string().parse::<u32>().unwrap()))),
        program: ProgramId(Uuid::from_u128(1)),
        provider: OrgId(Uuid::from_u128(30)),
        starts,
        ends: starts + chrono::Days::new(10),
        place: "Самара".into(),
        capacity,
        taken,
        funding,
        completed_on: None,
        cancelled: false,
        plan: None,
    }
}

fn org(kind: OrgKind, ownership: Ownership) -> Organisation {
    Organisation {
        id: OrgId(Uuid::from_u128(20)),
        name: "Школа".into(),
        kind,
        territory: TerritoryId(Uuid::from_u128(40)),
        parent: None,
        license: Some(License { number: "1".into(), valid_until: None, issued_on: None }),
        ownership,
        closed_on: None,
    }
}

fn worker() -> Person {
    Person {
        profile: Default::default(),
        id: pid(1),
        full_name: FullName::parse("Иванова Мария Петровна").unwrap(),
        email: Email::parse("ivanova@example.ru").unwrap(),
        email_confirmed: true,
        snils: None,
        subject: Some("math".into()),
        birth_year: None,
        consent_at: noon(day(2025, 1, 1)),
        pending_change: None,
        registered_at: noon(day(2025, 1, 1)),
    }
}

fn enroll(
    g: &Given,
    today: NaiveDate,
    grp: &Group,
    prog: &Program,
    vouchers: &[Voucher],
    enrollments: &[Enrollment],
) -> kadry_core::Result<Vec<Change>> {
    let emps = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    let school = org(OrgKind::School, Ownership::Municipal);
    let provider = org(OrgKind::Dpo, Ownership::Regional);
    let p = worker();
    let s = d::EnrollState {
        person: &p,
        employments: &emps,
        org: Some(&school),
        group: grp,
        program: prog,
        provider: &provider,
        vouchers,
        enrollments,
        state_norm: Decimal::ZERO,
    };
    d::enroll(&g.on(today), &s).map(|(_, c)| c)
}

fn enrollment_of(changes: &[Change]) -> Enrollment {
    changes.iter().find_map(|c| if let Change::PutEnrollment(e) = c { Some(e.clone()) } else { None }).unwrap()
}

#[test]
fn r_v6_group_must_start_by_the_last_valid_day() {
    let g = Given::samara();
    let v = issued(day(2025, 2, 3));
    let p = program(36, Audience::All);
    assert!(
        enroll(
            &g,
            day(2025, 12, 1),
            &group(day(2026, 2, 3), Funding::Voucher, 5, 0),
            &p,
            std::slice::from_ref(&v),
            &[]
        )
        .is_ok()
    );
    assert_eq!(
        code(enroll(&g, day(2025, 12, 1), &group(day(2026, 2, 4), Funding::Voucher, 5, 0), &p, &[v], &[])),
        "voucher.expired_for_group"
    );
}

#[test]
fn r_v7_r_v8_blocks_profile_and_exhaustion() {
    let g = Given::samara();
    let v = issued(day(2025, 2, 3));
    let vs = std::slice::from_ref(&v);
    let today = day(2025, 2, 10);
    let other = program(36, Audience::Only(vec![Position::Psychologist]));
    let profile = program(36, Audience::Only(vec![Position::Teacher]));
    let big = program(108, Audience::All);
    // 108 hours need three blocks: more than the voucher holds.
    assert_eq!(
        code(enroll(&g, today, &group(day(2025, 3, 3), Funding::Voucher, 5, 0), &big, vs, &[])),
        "voucher.exhausted"
    );
    // One non-profile block is allowed, a second is not.
    let first =
        enrollment_of(&enroll(&g, today, &group(day(2025, 3, 3), Funding::Voucher, 5, 0), &other, vs, &[]).unwrap());
    assert_eq!((first.blocks, first.profile_blocks), (1, 0));
    let taken = [first];
    assert_eq!(
        code(enroll(&g, today, &group(day(2025, 4, 7), Funding::Voucher, 5, 0), &other, vs, &taken)),
        "voucher.profile_block_required"
    );
    let second = enrollment_of(
        &enroll(&g, today, &group(day(2025, 5, 12), Funding::Voucher, 5, 0), &profile, vs, &taken).unwrap(),
    );
    assert_eq!((second.blocks, second.profile_blocks), (1, 1));
    let both = [taken[0].clone(), second];
    assert_eq!(
        code(enroll(&g, today, &group(day(2025, 6, 2), Funding::Voucher, 5, 0), &profile, vs, &both)),
        "voucher.exhausted"
    );
}

#[test]
fn r_v9_voucher_groups_need_a_voucher_others_do_not() {
    let g = Given::samara();
    let p = program(36, Audience::All);
    let today = day(2025, 2, 10);
    assert_eq!(code(enroll(&g, today, &group(day(2025, 3, 3), Funding::Voucher, 5, 0), &p, &[], &[])), "voucher.none");
    for f in [Funding::State, Funding::Paid] {
        let e = enrollment_of(&enroll(&g, today, &group(day(2025, 3, 3), f, 5, 0), &p, &[], &[]).unwrap());
        assert_eq!((e.voucher, e.blocks), (None, 0));
    }
}

#[test]
fn r_g3_r_g4_capacity_closed_and_duplicate() {
    let g = Given::samara();
    let p = program(36, Audience::All);
    let grp = group(day(2025, 3, 3), Funding::State, 1, 1);
    assert_eq!(code(enroll(&g, day(2025, 2, 10), &grp, &p, &[], &[])), "group.full");
    let open = group(day(2025, 3, 3), Funding::State, 2, 0);
    assert_eq!(code(enroll(&g, day(2025, 3, 3), &open, &p, &[], &[])), "group.closed");
    let changes = enroll(&g, day(2025, 2, 10), &open, &p, &[], &[]).unwrap();
    assert!(matches!(changes[0], Change::TakeSeat(id) if id == open.id), "the seat is taken by a conditional update");
    let mine = [enrollment_of(&changes)];
    assert_eq!(code(enroll(&g, day(2025, 2, 10), &open, &p, &[], &mine)), "enrollment.duplicate");
}

#[test]
fn r_g2_audience_by_position_kind_and_subject() {
    let g = Given::samara();
    let mut p = program(36, Audience::All);
    p.subjects = Audience::Only(vec!["physics".into()]);
    assert_eq!(
        code(enroll(&g, day(2025, 2, 10), &group(day(2025, 3, 3), Funding::State, 5, 0), &p, &[], &[])),
        "group.audience_mismatch"
    );
    let mut p = program(36, Audience::All);
    p.org_kinds = Audience::Only(vec![OrgKind::Kindergarten]);
    assert_eq!(
        code(enroll(&g, day(2025, 2, 10), &group(day(2025, 3, 3), Funding::State, 5, 0), &p, &[], &[])),
        "group.audience_mismatch"
    );
}

#[test]
fn r_p4_school_teachers_not_at_private_providers_from_september_2025() {
    let g = Given::samara();
    let p = program(36, Audience::All);
    let emps = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    let school = org(OrgKind::School, Ownership::Municipal);
    let private = org(OrgKind::Dpo, Ownership::Private);
    let person = worker();
    let grp = group(day(2025, 10, 6), Funding::Paid, 5, 0);
    let state = |today| {
        let s = d::EnrollState {
            person: &person,
            employments: &emps,
            org: Some(&school),
            group: &grp,
            program: &p,
            provider: &private,
            vouchers: &[],
            enrollments: &[],
            state_norm: Decimal::ZERO,
        };
        d::enroll(&g.on(today), &s).map(|_| ())
    };
    assert!(state(day(2025, 8, 31)).is_ok());
    assert_eq!(state(day(2025, 9, 1)).unwrap_err().code(), "provider.not_permitted");
}

#[test]
fn r_p1_r_p3_groups_need_approved_programs_and_a_licence() {
    let g = Given::samara();
    let ctx = g.on(day(2025, 2, 3));
    let new = |ends| d::NewGroup {
        starts: day(2025, 3, 3),
        ends,
        place: "Самара".into(),
        capacity: 5,
        funding: Funding::State,
    };
    let mut p = program(36, Audience::All);
    p.status = ProgramStatus::Submitted;
    let provider = org(OrgKind::Dpo, Ownership::Regional);
    assert_eq!(code(d::open_group(&ctx, &p, &provider, new(day(2025, 3, 7)))), "program.not_approved");
    p.status = ProgramStatus::Approved;
    let mut expiring = provider.clone();
    expiring.license = Some(License { number: "1".into(), valid_until: Some(day(2025, 3, 6)), issued_on: None });
    assert_eq!(code(d::open_group(&ctx, &p, &expiring, new(day(2025, 3, 7)))), "provider.license_invalid");
    assert!(d::open_group(&ctx, &p, &expiring, new(day(2025, 3, 6))).is_ok());
    // R-P3: nor before the licence was issued (the licence's date, 002 §4.1).
    let mut recent = provider.clone();
    recent.license = Some(License { number: "2".into(), valid_until: None, issued_on: Some(day(2025, 3, 4)) });
    assert_eq!(code(d::open_group(&ctx, &p, &recent, new(day(2025, 3, 7)))), "provider.license_invalid");
    recent.license = Some(License { number: "2".into(), valid_until: None, issued_on: Some(day(2025, 3, 3)) });
    assert!(d::open_group(&ctx, &p, &recent, new(day(2025, 3, 7))).is_ok());
    let mut unlicensed = provider.clone();
    unlicensed.license = None;
    assert_eq!(code(d::open_group(&ctx, &p, &unlicensed, new(day(2025, 3, 7)))), "provider.license_invalid");
    assert_eq!(code(d::open_group(&ctx, &p, &provider, new(day(2025, 3, 2)))), "input.invalid");
}

#[test]
fn r_g6_results_after_the_end_with_numbered_certificates() {
    let g = Given::samara();
    let grp = group(day(2025, 3, 3), Funding::State, 5, 2);
    let p = program(36, Audience::All);
    let provider = org(OrgKind::Dpo, Ownership::Regional);
    let seat = |n: u128| Enrollment {
        id: EnrollmentId(Uuid::from_u128(500 + n)),
        group: grp.id,
        person: pid(n),
        voucher: None,
        blocks: 0,
        profile_blocks: 0,
        confirmed: true,
        status: EnrollmentStatus::Enrolled,
        enrolled_at: noon(day(2025, 2, 1)),
        committed: None,
    };
    let seats = [seat(1), seat(2), seat(3)];
    let issued = kadry_core::ports::Issued { certificates: 7, statements: 2 };
    assert_eq!(
        code(d::complete_group(
            &g.on(day(2025, 3, 12)),
            &grp,
            &p,
            &provider,
            &seats,
            &d::Results { passed: &[pid(1)], failed: &[pid(2)], attendance: &[], not_completed: &[] },
            issued
        )),
        "group.not_finished"
    );
    assert_eq!(
        code(d::complete_group(
            &g.on(day(2025, 3, 13)),
            &grp,
            &p,
            &provider,
            &seats,
            &d::Results { passed: &[pid(9)], failed: &[], attendance: &[], not_completed: &[] },
            issued
        )),
        "input.invalid"
    );
    // Every refusal of bad results: more hours than the program, a listener given twice, a
    // non-completion without a reason or beside a pass, an unknown listener's attendance.
    let att = |p: u128, hours: u32| kadry_core::command::Attendance { person: pid(p), hours };
    let nc = |p: u128, reason: &str| kadry_core::command::NonCompletion { person: pid(p), reason: reason.into() };
    let bad: [(&[kadry_core::command::Attendance], &[kadry_core::command::NonCompletion], &[PersonId]); 6] = [
        (&[att(1, p.hours + 1)], &[], &[]),
        (&[att(1, 10), att(1, 12)], &[], &[]),
        (&[], &[nc(3, " \u{a0}\u{200b} ")], &[]),
        (&[], &[nc(1, "болезнь")], &[pid(1)]),
        (&[att(9, 10)], &[], &[]),
        (&[], &[nc(3, "болезнь"), nc(3, "отпуск")], &[]),
    ];
    for (attendance, not_completed, passed) in bad {
        let r = d::Results { passed, failed: &[], attendance, not_completed };
        assert_eq!(
            code(d::complete_group(&g.on(day(2025, 3, 13)), &grp, &p, &provider, &seats, &r, issued)),
            "input.invalid",
            "{attendance:?} {not_completed:?}"
        );
    }
    let changes = d::complete_group(
        &g.on(day(2025, 3, 13)),
        &grp,
        &p,
        &provider,
        &seats,
        &d::Results {
            passed: &[pid(1)],
            failed: &[pid(2)],
            attendance: &[att(1, p.hours), att(3, 20)],
            not_completed: &[nc(3, "болезнь\u{a0}(справка)")],
        },
        issued,
    )
    .unwrap();
    let records: Vec<&TrainingRecord> =
        changes.iter().filter_map(|c| if let Change::AddTraining(t) = c { Some(t) } else { None }).collect();
    assert_eq!(records.len(), 3, "every listener gets a record: a certificate or a statement");
    assert_eq!(records[0].certificate.as_ref().unwrap().number, "2025-000008");
    assert!(records[0].statement.is_none());
    assert_eq!(records[0].attended_hours, Some(p.hours));
    // A fail and a non-completion each get a statement from the provider's own sequence.
    assert!(records[1].certificate.is_none());
    assert_eq!(records[1].statement.as_ref().unwrap().number, "С-2025-000003");
    assert!(records[1].completed && !records[1].passed);
    assert_eq!(records[2].statement.as_ref().unwrap().number, "С-2025-000004");
    assert!(!records[2].completed);
    assert_eq!(records[2].reason.as_deref(), Some("болезнь (справка)"), "the reason is normalised");
    assert_eq!(records[2].attended_hours, Some(20));
    assert!(records.iter().all(|r| r.funding == Some(grp.funding) && r.started_on == Some(grp.starts)));
    let statuses: Vec<EnrollmentStatus> =
        changes.iter().filter_map(|c| if let Change::PutEnrollment(e) = c { Some(e.status) } else { None }).collect();
    assert_eq!(statuses, [EnrollmentStatus::Passed, EnrollmentStatus::Failed, EnrollmentStatus::NotCompleted]);
    let told =
        changes.iter().filter(|c| matches!(c, Change::Notify(n) if n.kind == NotificationKind::GroupCompleted)).count();
    assert_eq!(told, 3);
}

#[test]
fn r_e2_transfer_drops_the_old_list_and_is_pending_at_the_new() {
    let g = Given::samara();
    let e = employment(EmploymentStatus::Active, Position::Teacher, true);
    let to = OrgId(Uuid::from_u128(21));
    let changes = d::leave(&g.on(day(2025, 2, 20)), &e, Some(to));
    let emps: Vec<&Employment> =
        changes.iter().filter_map(|c| if let Change::PutEmployment(e) = c { Some(e) } else { None }).collect();
    assert_eq!(emps[0].status, EmploymentStatus::Dismissed);
    assert_eq!(emps[0].until, Some(day(2025, 2, 20)));
    assert_eq!((emps[1].org, emps[1].status, emps[1].person), (to, EmploymentStatus::Pending, e.person));
}

#[test]
fn r_e5_reorganisation_moves_people_keeping_their_state() {
    let g = Given::samara();
    let from = org(OrgKind::School, Ownership::Municipal);
    let mut into = org(OrgKind::School, Ownership::Municipal);
    into.id = OrgId(Uuid::from_u128(21));
    let staff = [
        employment(EmploymentStatus::Active, Position::Teacher, true),
        employment(EmploymentStatus::Pending, Position::Educator, true),
    ];
    let changes = d::reorganize(&g.on(day(2025, 9, 1)), &from, &into, &staff).unwrap();
    let moved: Vec<&Employment> = changes
        .iter()
        .filter_map(|c| if let Change::PutEmployment(e) = c { Some(e) } else { None })
        .filter(|e| e.org == into.id)
        .collect();
    assert_eq!(
        moved.iter().map(|e| e.status).collect::<Vec<_>>(),
        [EmploymentStatus::Active, EmploymentStatus::Pending]
    );
    assert!(moved.iter().all(|e| e.person == pid(1)), "the same account moves");
    assert_eq!(code(d::reorganize(&g.on(day(2025, 9, 1)), &from, &from, &staff)), "input.invalid");
}

#[test]
fn r_a2_r_a3_r_a4_registration_checks() {
    let mut input = d::NewPerson {
        full_name: "Новиков Денис Игоревич".into(),
        email: "novikov@example.ru".into(),
        position: Position::Teacher,
        pedagogical: true,
        consent: false,
        snils: None,
        subject: None,
        birth_year: None,
    };
    assert_eq!(code(d::parse_new_person(&input)), "account.consent_required");
    input.consent = true;
    input.snils = Some("112-233-445 96".into());
    assert_eq!(code(d::parse_new_person(&input)), "input.snils_invalid");
    input.snils = None;
    input.email = "novikov-at-example.ru".into();
    assert_eq!(code(d::parse_new_person(&input)), "input.email_invalid");
    input.email = "x@example.ru".into();
    input.full_name = "X".into();
    assert_eq!(code(d::parse_new_person(&input)), "input.invalid");
    let other = worker();
    assert_eq!(code(d::check_unique(None, Some(&other), None)), "account.email_taken");
    assert_eq!(code(d::check_unique(None, None, Some(&other))), "account.snils_taken");
    assert!(d::check_unique(Some(other.id), Some(&other), Some(&other)).is_ok());
}

#[test]
fn r_a8_r_a9_a_responsibles_change_suspends_the_role() {
    let p = worker();
    let grant = RoleGrant {
        person: p.id,
        role: Role::OrgResponsible,
        scope: Scope::Organisation(OrgId(Uuid::from_u128(20))),
        basis: "приказ".into(),
        granted_at: p.registered_at,
        suspended: false,
    };
    let change = d::parse_change(Some("Смирнова Мария Петровна"), None, None, None).unwrap();
    let changes = d::update_person(p.clone(), change, &[grant], day(2025, 3, 3));
    assert!(matches!(&changes[0], Change::PutPerson(x) if x.pending_change.is_some() && x.full_name == p.full_name));
    assert!(matches!(&changes[1], Change::PutGrant(g) if g.suspended));
    assert_eq!(code(d::parse_change(None, None, None, None)), "input.invalid");
}

#[test]
fn r_v11_the_floor_counts_three_years_from_the_last_pass() {
    let p = RegionPolicy::samara();
    assert!(!d::pk_overdue(&p, Some(day(2025, 3, 14)), day(2028, 3, 14)));
    assert!(d::pk_overdue(&p, Some(day(2025, 3, 14)), day(2028, 3, 15)));
    assert!(d::pk_overdue(&p, None, day(2025, 1, 1)));
}

#[test]
fn regions_without_vouchers_refuse_voucher_commands() {
    let g = Given {
        policy: RegionPolicy::yugra(),
        calendar: ProductionCalendar::new(CalendarRegion::Federal),
        ids: SequentialIds::default(),
    };
    let teacher = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    assert_eq!(code(d::request_voucher(&g.on(day(2025, 1, 13)), pid(1), &teacher, &[])), "state.invalid");
}

/// R-F1: a state-funded enrolment commits the program's norm against the state-assignment
/// limit of the group's year, and the removal gives it back; a voucher group commits nothing
/// more (the voucher did).
#[test]
fn r_f1_state_enrolment_commits_and_removal_releases() {
    let g = Given::samara();
    let p = program(36, Audience::All);
    let emps = [employment(EmploymentStatus::Active, Position::Teacher, true)];
    let school = org(OrgKind::School, Ownership::Municipal);
    let provider = org(OrgKind::Dpo, Ownership::Regional);
    let person = worker();
    let grp = group(day(2025, 10, 6), Funding::State, 5, 0);
    let norm = Decimal::new(1_200_000, 2);
    let s = d::EnrollState {
        person: &person,
        employments: &emps,
        org: Some(&school),
        group: &grp,
        program: &p,
        provider: &provider,
        vouchers: &[],
        enrollments: &[],
        state_norm: norm,
    };
    let (_, changes) = d::enroll(&g.on(day(2025, 9, 1)), &s).unwrap();
    assert!(changes.contains(&Change::Commit { year: 2025, source: Funding::State, amount: norm, count: 1 }));
    let Some(Change::PutEnrollment(e)) = changes.iter().find(|c| matches!(c, Change::PutEnrollment(_))) else {
        panic!("{changes:?}")
    };
    assert_eq!(e.committed, Some(norm));
    let removed = d::remove_from_group(&g.on(day(2025, 9, 2)), e, &grp).unwrap();
    assert!(removed.contains(&Change::Release { year: 2025, source: Funding::State, amount: norm }));
    // No norm set: nothing committed, nothing to release.
    let free = d::EnrollState { state_norm: Decimal::ZERO, ..s };
    let (_, changes) = d::enroll(&g.on(day(2025, 9, 1)), &free).unwrap();
    assert!(!changes.iter().any(|c| matches!(c, Change::Commit { .. })));
}
