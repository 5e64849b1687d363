//! The storage contract suite (feature `testkit`): what every [`Store`] must do, runnable
//! against any adapter — kadry's own (memory, SQLite, PostgreSQL) and third parties'.
//!
//! Call [`run_contract`] with a function that makes a fresh, empty store for each check (its
//! argument names the check, e.g. to pick a database schema). Every check panics with the
//! check's name and what went wrong. The concurrency checks use real parallel tasks (and, for
//! SQL stores, real parallel connections), so run them on a multi-thread tokio runtime.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kadry_core::command::{Command, Query, QueryResult, ScopeRef};
use kadry_core::error::Error;
use kadry_core::ids::*;
use kadry_core::model::*;
use kadry_core::ports::{Change, Delivery, ManualClock, Store};
use kadry_core::types::{Email, FullName};
use kadry_core::{Actor, RegionPolicy, Service};

use crate::{CaptureNotifier, RandomIds};

/// Noon, Samara time, on a day.
pub fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    chrono_tz_samara(NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(12, 0, 0)).unwrap_or_default())
}

fn chrono_tz_samara(local: chrono::NaiveDateTime) -> DateTime<Utc> {
    // Samara is UTC+4 all year.
    Utc.from_utc_datetime(&(local - chrono::Duration::hours(4)))
}

/// A small Samara region over any store: a territory, schools with confirmed responsibles, a
/// licensed provider with a curator, approved programs, and confirmed teachers.
pub struct Fixture {
    /// The service.
    pub service: Service,
    /// Its clock (starts on Monday 13 January 2025, noon).
    pub clock: Arc<ManualClock>,
    /// The operator.
    pub operator: PersonId,
    /// The territory.
    pub territory: TerritoryId,
    /// Schools.
    pub schools: Vec<OrgId>,
    /// The org responsible of each school.
    pub resps: Vec<PersonId>,
    /// The provider.
    pub provider: OrgId,
    /// Its curator (provider role).
    pub kurator: PersonId,
    /// Approved programs: 36 h profile for teachers, 36 h profile for psychologists, 72 h
    /// profile for teachers and psychologists.
    pub programs: Vec<ProgramId>,
    /// Teachers, alternating between the schools.
    pub workers: Vec<PersonId>,
}

async fn created(service: &Service, actor: PersonId, c: Command) -> uuid::Uuid {
    let name = c.name();
    match service.execute(Actor::Person(actor), c).await {
        Ok(o) => o.created().unwrap_or_else(|| panic!("{name} created nothing")),
        Err(e) => panic!("fixture: {name} refused: {} {e}", e.code()),
    }
}

async fn ok(service: &Service, actor: PersonId, c: Command) {
    let name = c.name();
    if let Err(e) = service.execute(Actor::Person(actor), c).await {
        panic!("fixture: {name} refused: {} {e}", e.code());
    }
}

impl Fixture {
    /// Builds the region with `schools` schools and `workers` teachers.
    pub async fn build(store: Arc<dyn Store>, schools: usize, workers: usize) -> Fixture {
        let clock = Arc::new(ManualClock::new(noon(2025, 1, 13)));
        let service = Service::new(RegionPolicy::samara(), store, clock.clone(), Arc::new(RandomIds));
        let operator =
            service.bootstrap_operator("Оператор Центра", "op@kadry.invalid", "регламент").await.expect("bootstrap");
        let territory =
            TerritoryId(created(&service, operator, Command::RegisterTerritory { name: "Тольятти".into() }).await);
        let org = |name: String, kind, license| Command::RegisterOrg {
            name,
            kind,
            territory,
            parent: None,
            license,
            ownership: None,
        };
        let mut f = Fixture {
            service,
            clock,
            operator,
            territory,
            schools: vec![],
            resps: vec![],
            provider: OrgId(uuid::Uuid::nil()),
            kurator: PersonId(uuid::Uuid::nil()),
            programs: vec![],
            workers: vec![],
        };
        for i in 0..schools.max(1) {
            let s = OrgId(created(&f.service, operator, org(format!("Школа № {i}"), OrgKind::School, None)).await);
            let r = f.person(s, &format!("resp{i}@school.example.ru"), Position::DeputyHead).await;
            ok(
                &f.service,
                operator,
                Command::GrantRole {
                    person: r,
                    role: Role::OrgResponsible,
                    scope: Some(ScopeRef::Organisation(s)),
                    basis: "приказ № 1".into(),
                },
            )
            .await;
            f.schools.push(s);
            f.resps.push(r);
        }
        let license = Some(License { number: "6345".into(), valid_until: None, issued_on: None });
        f.provider = OrgId(created(&f.service, operator, org("ГБУ ДПО «Центр»".into(), OrgKind::Dpo, license)).await);
        f.kurator = f.person(f.provider, "kurator@ctr.example.ru", Position::Methodist).await;
        ok(
            &f.service,
            operator,
            Command::GrantRole {
                person: f.kurator,
                role: Role::Provider,
                scope: Some(ScopeRef::Organisation(f.provider)),
                basis: "приказ № 5".into(),
            },
        )
        .await;
        for (title, hours, profile) in [
            ("Методика математики", 36, vec![Position::Teacher]),
            ("Психология для всех", 36, vec![Position::Psychologist]),
            ("Обновлённые ФГОС", 72, vec![Position::Teacher, Position::Psychologist]),
        ] {
            let p = ProgramId(
                created(
                    &f.service,
                    f.kurator,
                    Command::SubmitProgram {
                        form: Default::default(),
                        provider: f.provider,
                        title: title.into(),
                        hours,
                        annotation: None,
                        positions: Audience::All,
                        profile_for: Audience::Only(profile),
                        org_kinds: Audience::All,
                        subjects: Audience::All,
                        year: None,
                        direction: None,
                        min_group: None,
                        max_group: None,
                        places: None,
                    },
                )
                .await,
            );
            ok(&f.service, operator, Command::ApproveProgram { program: p }).await;
            f.programs.push(p);
        }
        for i in 0..workers {
            let school = f.schools[i % f.schools.len()];
            let w = f.person(school, &format!("w{i}@example.ru"), Position::Teacher).await;
            f.workers.push(w);
        }
        f
    }

    /// Registers a confirmed pedagogical person at `org` (by the operator).
    pub async fn person(&self, org: OrgId, email: &str, position: Position) -> PersonId {
        self.person_with(org, email, position, true).await
    }

    /// Registers a confirmed person at `org` (by the operator).
    pub async fn person_with(&self, org: OrgId, email: &str, position: Position, pedagogical: bool) -> PersonId {
        let id = PersonId(
            created(
                &self.service,
                self.operator,
                Command::RegisterPerson {
                    full_name: "Иванова Мария Петровна".into(),
                    email: email.into(),
                    org,
                    position,
                    pedagogical,
                    consent: true,
                    snils: None,
                    subject: Some("math".into()),
                    birth_year: None,
                },
            )
            .await,
        );
        ok(&self.service, id, Command::ConfirmEmail { person: id }).await;
        id
    }

    /// Opens a group of program `program` starting on `starts` (ten days long).
    pub async fn group(&self, program: usize, starts: NaiveDate, capacity: u32, funding: Funding) -> GroupId {
        GroupId(
            created(
                &self.service,
                self.kurator,
                Command::OpenGroup {
                    program: self.programs[program],
                    starts,
                    ends: starts + chrono::Days::new(10),
                    place: "Тольятти".into(),
                    capacity,
                    funding,
                },
            )
            .await,
        )
    }

    /// Registers the ministry (an official with a confirmed email) and returns it.
    pub async fn ministry(&self) -> PersonId {
        let official = Command::RegisterOfficial {
            full_name: "Министерство Образования".into(),
            email: "ministry@kadry.invalid".into(),
            role: Role::Ministry,
            basis: "положение".into(),
        };
        let ministry = PersonId(created(&self.service, self.operator, official).await);
        ok(&self.service, ministry, Command::ConfirmEmail { person: ministry }).await;
        ministry
    }

    /// The responsible of the school a worker was registered at.
    pub fn resp_of(&self, worker_index: usize) -> PersonId {
        self.resps[worker_index % self.resps.len()]
    }
}

fn code<T>(r: kadry_core::Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.code().to_string(),
    }
}

fn territory(name: &str) -> Territory {
    Territory { id: TerritoryId(uuid::Uuid::new_v4()), name: name.into() }
}

/// A unit of work is all or nothing: uncommitted changes are invisible and vanish when the
/// unit is dropped; a read-only unit refuses changes.
pub async fn check_unit_of_work(store: Arc<dyn Store>) {
    let t = territory("Невидимая");
    let mut tx = store.begin().await.expect("begin");
    tx.apply(Change::PutTerritory(t.clone())).await.expect("apply");
    assert_eq!(
        tx.territory(t.id).await.expect("read own write"),
        Some(t.clone()),
        "a unit of work sees its own changes"
    );
    drop(tx);
    let mut r = store.read().await.expect("read");
    assert_eq!(r.territory(t.id).await.expect("read"), None, "a dropped unit of work leaves no trace");
    assert!(r.apply(Change::PutTerritory(t.clone())).await.is_err(), "a read-only unit of work refuses changes");
    drop(r);
    let mut tx = store.begin().await.expect("begin");
    tx.apply(Change::PutTerritory(t.clone())).await.expect("apply");
    tx.commit().await.expect("commit");
    let mut r = store.read().await.expect("read");
    assert_eq!(r.territory(t.id).await.expect("read"), Some(t), "a committed change is visible");
}

/// R-A2, R-A3, R-G3, R-V3: the store itself keeps emails and SNILS unique, seats within
/// capacity and one open application per worker, and maps violations to the catalogue's codes.
pub async fn check_constraints(store: Arc<dyn Store>) {
    let f = Fixture::build(store.clone(), 1, 2).await;
    let mut tx = store.begin().await.expect("begin");
    let mut twin = tx.person(f.workers[0]).await.expect("read").expect("worker");
    twin.id = PersonId(uuid::Uuid::new_v4());
    twin.email = Email::parse("W1@Example.ru").expect("email");
    assert_eq!(code(tx.apply(Change::PutPerson(twin)).await), "account.email_taken", "unique email, case-insensitive");
    drop(tx);
    // SNILS: give one worker a SNILS, then another the same.
    let snils = kadry_core::types::Snils::parse("112-233-445 95").expect("snils");
    let mut tx = store.begin().await.expect("begin");
    let mut a = tx.person(f.workers[0]).await.expect("read").expect("worker");
    a.snils = Some(snils.clone());
    tx.apply(Change::PutPerson(a)).await.expect("first SNILS");
    let mut b = tx.person(f.workers[1]).await.expect("read").expect("worker");
    b.snils = Some(snils);
    assert_eq!(code(tx.apply(Change::PutPerson(b)).await), "account.snils_taken", "unique SNILS");
    drop(tx);
    // Seats.
    let g = f.group(0, NaiveDate::from_ymd_opt(2025, 3, 3).unwrap_or_default(), 1, Funding::State).await;
    let mut tx = store.begin().await.expect("begin");
    tx.apply(Change::TakeSeat(g)).await.expect("the only seat");
    assert_eq!(code(tx.apply(Change::TakeSeat(g)).await), "group.full", "seats by conditional update");
    drop(tx);
    let mut r = store.read().await.expect("read");
    assert_eq!(r.group(g).await.expect("read").map(|g| g.taken), Some(0), "the dropped seat is not taken");
    drop(r);
    // One open application.
    let w = f.workers[0];
    ok(&f.service, w, Command::RequestVoucher { worker: w }).await;
    let mut tx = store.begin().await.expect("begin");
    let open = tx.vouchers(w).await.expect("read").remove(0);
    let second = Voucher { id: VoucherId(uuid::Uuid::new_v4()), ..open };
    let got = code(tx.apply(Change::PutVoucher(second)).await);
    // Stores that serialise writers may rely on the decision alone; SQL stores back it.
    assert!(got == "voucher.pending_exists" || got == "ok", "one open application: got {got}");
}

/// History and order: records come back in creation order, nothing is deleted by dismissal,
/// removal or cancellation (R-A11), and the audit trail records every committed command.
pub async fn check_history(store: Arc<dyn Store>) {
    let f = Fixture::build(store.clone(), 2, 2).await;
    let w = f.workers[0];
    let resp = f.resp_of(0);
    let g = f.group(0, NaiveDate::from_ymd_opt(2025, 3, 3).unwrap_or_default(), 5, Funding::State).await;
    ok(&f.service, resp, Command::Enroll { worker: w, group: g }).await;
    ok(&f.service, resp, Command::RemoveFromGroup { worker: w, group: g }).await;
    ok(&f.service, resp, Command::Enroll { worker: w, group: g }).await;
    ok(&f.service, w, Command::RequestVoucher { worker: w }).await;
    ok(&f.service, f.operator, Command::RejectVoucher { worker: w, reason: "нет".into() }).await;
    ok(&f.service, w, Command::RequestVoucher { worker: w }).await;
    ok(&f.service, resp, Command::Transfer { person: w, to: f.schools[1] }).await;
    let mut r = store.read().await.expect("read");
    let statuses: Vec<EnrollmentStatus> =
        r.person_enrollments(w).await.expect("read").iter().map(|e| e.status).collect();
    assert_eq!(statuses, [EnrollmentStatus::Removed, EnrollmentStatus::Enrolled], "removed enrolments stay, in order");
    let v: Vec<VoucherStatus> = r.vouchers(w).await.expect("read").iter().map(|v| v.status).collect();
    assert_eq!(v, [VoucherStatus::Rejected, VoucherStatus::Requested], "voucher records in creation order");
    let e: Vec<(OrgId, EmploymentStatus)> =
        r.employments(w).await.expect("read").iter().map(|e| (e.org, e.status)).collect();
    assert_eq!(
        e,
        [(f.schools[0], EmploymentStatus::Dismissed), (f.schools[1], EmploymentStatus::Pending)],
        "employment history"
    );
    assert_eq!(r.group(g).await.expect("read").map(|g| g.taken), Some(1));
    let staff = r.staff(f.schools[1]).await.expect("read");
    assert!(staff.iter().any(|e| e.person == w && e.status == EmploymentStatus::Pending));
    let rows = r.staff_rows(Scope::Organisation(f.schools[0])).await.expect("rows");
    assert!(rows.iter().all(|row| row.employment.person != w), "the old staff list dropped the worker at once");
    let region = r.staff_rows(Scope::Region).await.expect("rows");
    let territory = r.staff_rows(Scope::Territory(f.territory)).await.expect("rows");
    assert_eq!(region.len(), territory.len(), "one territory: the same rows");
    assert!(r.role_exists(Role::Operator).await.expect("read"));
    assert!(!r.role_exists(Role::Expert).await.expect("read"));
}

/// R-N1: the outbox hands out due notifications oldest first, honours retry times, and never
/// hands out a delivered or given-up one again.
pub async fn check_outbox(store: Arc<dyn Store>) {
    let f = Fixture::build(store.clone(), 1, 2).await;
    for w in &f.workers {
        ok(&f.service, *w, Command::RequestVoucher { worker: *w }).await;
        ok(&f.service, f.operator, Command::ApproveVoucher { worker: *w }).await;
    }
    let now = f.clock.now_utc();
    let mut tx = store.begin().await.expect("begin");
    let due = tx.outbox(now, 10).await.expect("outbox");
    assert_eq!(due.len(), 2, "two approvals, two notifications");
    assert_eq!(due[0].notification.person, f.workers[0], "oldest first");
    assert_eq!(due[0].email.as_str(), "w0@example.ru");
    tx.mark_delivery(due[0].notification.id, Delivery::RetryAt(now + chrono::Duration::minutes(5)))
        .await
        .expect("mark");
    tx.mark_delivery(due[1].notification.id, Delivery::Delivered).await.expect("mark");
    tx.commit().await.expect("commit");
    let mut tx = store.begin().await.expect("begin");
    assert!(tx.outbox(now, 10).await.expect("outbox").is_empty(), "not due before its retry time");
    let later = tx.outbox(now + chrono::Duration::minutes(5), 10).await.expect("outbox");
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].attempts, 1);
    tx.mark_delivery(later[0].notification.id, Delivery::GaveUp).await.expect("mark");
    tx.commit().await.expect("commit");
    let mut r = store.read().await.expect("read");
    assert!(r.outbox(now + chrono::Duration::days(1), 10).await.expect("outbox").is_empty(), "given up stays given up");
    assert_eq!(r.notifications(f.workers[0]).await.expect("read").len(), 1, "kept for the person's history");
}

/// R-G3 under concurrency: 64 tasks enrol into 10 groups of capacity 5; exactly 50 succeed and
/// the rest are refused with `group.full`.
pub async fn check_parallel_enrolments(store: Arc<dyn Store>) {
    let f = Arc::new(Fixture::build(store.clone(), 2, 64).await);
    let mut groups = Vec::new();
    for i in 0..10 {
        groups.push(f.group(0, NaiveDate::from_ymd_opt(2025, 3, 3 + i).unwrap_or_default(), 5, Funding::State).await);
    }
    let mut tasks = Vec::new();
    for i in 0..64 {
        let f = f.clone();
        let g = groups[i % 10];
        tasks.push(tokio::spawn(async move {
            f.service.execute(Actor::Person(f.resp_of(i)), Command::Enroll { worker: f.workers[i], group: g }).await
        }));
    }
    let (mut enrolled, mut full) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => enrolled += 1,
            Err(Error::GroupFull) => full += 1,
            Err(e) => panic!("unexpected refusal: {} {e}", e.code()),
        }
    }
    assert_eq!((enrolled, full), (50, 14));
    let mut r = store.read().await.expect("read");
    for g in groups {
        let group = r.group(g).await.expect("read").expect("group");
        let held = r
            .group_enrollments(g)
            .await
            .expect("read")
            .iter()
            .filter(|e| e.status == EnrollmentStatus::Enrolled)
            .count();
        assert_eq!((group.taken, held), (5, 5), "a group holds exactly its capacity");
    }
}

/// R-V2, R-V3 under concurrency: 32 tasks request and approve vouchers for one worker; exactly
/// one voucher is issued.
pub async fn check_parallel_vouchers(store: Arc<dyn Store>) {
    let f = Arc::new(Fixture::build(store.clone(), 1, 1).await);
    let w = f.workers[0];
    let mut tasks = Vec::new();
    for i in 0..32 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let (actor, c) = if i % 2 == 0 {
                (w, Command::RequestVoucher { worker: w })
            } else {
                (f.operator, Command::ApproveVoucher { worker: w })
            };
            f.service.execute(Actor::Person(actor), c).await
        }));
    }
    for t in tasks {
        if let Err(e) = t.await.expect("task") {
            let c = e.code();
            assert!(
                matches!(c, "voucher.pending_exists" | "voucher.too_soon" | "state.invalid"),
                "unexpected refusal {c}: {e}"
            );
        }
    }
    let mut r = store.read().await.expect("read");
    let issued = r.vouchers(w).await.expect("read").iter().filter(|v| v.status == VoucherStatus::Issued).count();
    assert_eq!(issued, 1, "exactly one voucher issued");
}

/// R-W3, R-W4 under concurrency: 16 units of work each lock one planning year
/// ([`Lock::Year`](kadry_core::ports::Lock::Year)), half as they begin and half later, read
/// its cycle, move it one stage on and write it back, as forming groups or an offer reads and
/// rewrites the year's applications. None is lost: the cycle ends 16 stages on. A unit of work
/// locking another year meanwhile is not refused.
pub async fn check_year_lock(store: Arc<dyn Store>) {
    use kadry_core::planning::Cycle;
    use kadry_core::ports::Lock;
    const YEAR: i32 = 2031;
    let mut tx = store.begin().await.expect("begin");
    tx.apply(Change::PutCycle(Cycle::new(YEAR))).await.expect("a cycle at stage 0");
    tx.commit().await.expect("commit");
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            // Locked as the unit of work begins, or later (a year known only after a read).
            let mut tx = if i % 2 == 0 {
                store.begin_locked(&[Lock::Year(YEAR)]).await.expect("begin, the year locked")
            } else {
                let mut tx = store.begin().await.expect("begin");
                tx.lock(Lock::Year(YEAR)).await.expect("the year locked");
                tx
            };
            let mut cycle = tx.cycle(YEAR).await.expect("read").expect("the cycle");
            // Widen the window between the read and the write.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            cycle.stage += 1;
            tx.apply(Change::PutCycle(cycle)).await.expect("write");
            tx.commit().await.expect("commit");
        }));
    }
    let mut other = store.begin_locked(&[Lock::Year(YEAR + 1)]).await.expect("another year is locked on its own");
    other.apply(Change::PutCycle(Cycle::new(YEAR + 1))).await.expect("write");
    other.commit().await.expect("commit");
    for t in tasks {
        t.await.expect("task");
    }
    let mut r = store.read().await.expect("read");
    assert_eq!(r.cycle(YEAR).await.expect("read").map(|c| c.stage), Some(16), "no update of the year lost");
    assert_eq!(r.cycle(YEAR + 1).await.expect("read").map(|c| c.stage), Some(0));
}

/// R-A2 under concurrency: 16 tasks register one email in different letter cases; exactly one
/// account is created.
pub async fn check_parallel_registrations(store: Arc<dyn Store>) {
    let f = Arc::new(Fixture::build(store.clone(), 1, 0).await);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let f = f.clone();
        let email = match i % 4 {
            0 => "twin@example.ru",
            1 => "Twin@Example.ru",
            2 => "TWIN@EXAMPLE.RU",
            _ => "twin@EXAMPLE.ru",
        };
        tasks.push(tokio::spawn(async move {
            f.service
                .execute(
                    Actor::Anonymous,
                    Command::RegisterPerson {
                        full_name: "Новиков Денис Игоревич".into(),
                        email: email.into(),
                        org: f.schools[0],
                        position: Position::Teacher,
                        pedagogical: true,
                        consent: true,
                        snils: None,
                        subject: None,
                        birth_year: None,
                    },
                )
                .await
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => created += 1,
            Err(e) => assert_eq!(e.code(), "account.email_taken", "{e}"),
        }
    }
    assert_eq!(created, 1, "exactly one account");
    let mut r = store.read().await.expect("read");
    assert!(r.person_by_email("twin@example.ru").await.expect("read").is_some());
}

/// R-N1: a crash between commit and delivery loses nothing: a new service over the same store
/// delivers the committed notification once; a refused command sends nothing.
pub async fn check_crash_between_commit_and_delivery(store: Arc<dyn Store>) {
    let w;
    {
        let f = Fixture::build(store.clone(), 1, 1).await;
        w = f.workers[0];
        ok(&f.service, w, Command::RequestVoucher { worker: w }).await;
        ok(&f.service, f.operator, Command::ApproveVoucher { worker: w }).await;
        let refused = f.service.execute(Actor::Person(f.kurator), Command::ApproveVoucher { worker: w }).await;
        assert_eq!(code(refused), "access.denied");
        // The process dies here: the service and its relay are gone before delivering.
    }
    let clock = Arc::new(ManualClock::new(noon(2025, 1, 14)));
    let restarted = Service::new(RegionPolicy::samara(), store, clock, Arc::new(RandomIds));
    let capture = CaptureNotifier::new();
    assert_eq!(restarted.deliver_pending(&capture, 100).await.expect("relay"), 1, "delivered after restart");
    assert_eq!(restarted.deliver_pending(&capture, 100).await.expect("relay"), 0, "and only once");
    let delivered = capture.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!((delivered[0].0.person, delivered[0].0.kind), (w, NotificationKind::VoucherApproved));
}

/// The catalogue reads every program and a program's groups with their taken seats; the
/// service shows approved programs only, by title, with groups by start date (R-P2, R-G4).
pub async fn check_catalogue(store: Arc<dyn Store>) {
    let f = Fixture::build(store.clone(), 1, 1).await;
    let draft = Command::SubmitProgram {
        form: Default::default(),
        provider: f.provider,
        title: "Черновик".into(),
        hours: 16,
        annotation: None,
        positions: Audience::All,
        profile_for: Audience::Only(vec![]),
        org_kinds: Audience::All,
        subjects: Audience::All,
        year: None,
        direction: None,
        min_group: None,
        max_group: None,
        places: None,
    };
    let draft = ProgramId(created(&f.service, f.kurator, draft).await);
    let later = f.group(0, NaiveDate::from_ymd_opt(2025, 4, 1).expect("date"), 5, Funding::State).await;
    let sooner = f.group(0, NaiveDate::from_ymd_opt(2025, 2, 1).expect("date"), 5, Funding::State).await;
    let other = f.group(2, NaiveDate::from_ymd_opt(2025, 3, 1).expect("date"), 5, Funding::State).await;
    ok(&f.service, f.workers[0], Command::Enroll { worker: f.workers[0], group: sooner }).await;

    let mut tx = store.read().await.expect("read");
    let mut all: Vec<ProgramId> = tx.programs().await.expect("programs").iter().map(|p| p.id).collect();
    all.sort();
    let mut expected = f.programs.clone();
    expected.push(draft);
    expected.sort();
    assert_eq!(all, expected, "catalogue: programs() returns every program");
    let mut groups = tx.program_groups(f.programs[0]).await.expect("groups");
    groups.sort_by_key(|g| g.starts);
    assert_eq!(groups.iter().map(|g| g.id).collect::<Vec<_>>(), [sooner, later], "catalogue: a program's groups");
    assert_eq!(groups.iter().map(|g| g.taken).collect::<Vec<_>>(), [1, 0], "catalogue: taken seats");
    assert!(tx.program_groups(draft).await.expect("groups").is_empty(), "catalogue: no groups");
    drop(tx);

    let worker = Actor::Person(f.workers[0]);
    let view = async |open_only| match f.service.query(worker, Query::Catalogue { provider: None, open_only }).await {
        Ok(QueryResult::Catalogue(c)) => c,
        other => panic!("catalogue: {other:?}"),
    };
    let c = view(true).await;
    let titles: Vec<&str> = c.programs.iter().map(|e| e.program.title.as_str()).collect();
    assert_eq!(
        titles,
        ["Методика математики", "Обновлённые ФГОС", "Психология для всех"],
        "catalogue: approved, by title"
    );
    let first: Vec<(GroupId, u32)> = c.programs[0].groups.iter().map(|g| (g.id, g.seats_left)).collect();
    assert_eq!(first, [(sooner, 4), (later, 5)], "catalogue: groups by start date with seats left");
    assert_eq!(c.programs[1].groups.iter().map(|g| g.id).collect::<Vec<_>>(), [other]);

    f.clock.set(noon(2025, 2, 10));
    let c = view(true).await;
    assert_eq!(
        c.programs[0].groups.iter().map(|g| g.id).collect::<Vec<_>>(),
        [later],
        "catalogue: started ones drop out"
    );
    let c = view(false).await;
    assert_eq!(c.programs[0].groups.len(), 2, "catalogue: all=true keeps them");
}

/// A prefetch changes nothing a read returns: the same rows, in the same order, absent rows
/// absent; and a change applied after it is seen by the reads that follow.
pub async fn check_prefetch(store: Arc<dyn Store>) {
    use kadry_core::ports::{Read, Tx};
    let f = Fixture::build(store.clone(), 1, 2).await;
    let (worker, resp) = (f.workers[0], f.resps[0]);
    let group = f.group(0, NaiveDate::from_ymd_opt(2025, 3, 3).expect("date"), 5, Funding::Voucher).await;
    ok(&f.service, worker, Command::RequestVoucher { worker }).await;
    ok(&f.service, f.operator, Command::ApproveVoucher { worker }).await;
    ok(&f.service, worker, Command::Enroll { worker, group }).await;
    let missing = PersonId(uuid::Uuid::new_v4());
    let absent_group = GroupId(uuid::Uuid::new_v4());

    type Seen = (
        Option<Person>,
        Vec<RoleGrant>,
        Vec<Employment>,
        Vec<Voucher>,
        Vec<Enrollment>,
        Option<Group>,
        Option<Program>,
        Option<Organisation>,
        Option<Person>,
        Option<Group>,
        Vec<RoleGrant>,
    );
    async fn seen(
        tx: &mut dyn Tx,
        worker: PersonId,
        resp: PersonId,
        group: GroupId,
        missing: PersonId,
        absent: GroupId,
    ) -> Seen {
        let g = tx.group(group).await.expect("group");
        let program = tx.program(g.as_ref().expect("group").program).await.expect("program");
        let provider = tx.org(g.as_ref().expect("group").provider).await.expect("org");
        (
            tx.person(worker).await.expect("person"),
            tx.grants(resp).await.expect("grants"),
            tx.employments(worker).await.expect("employments"),
            tx.vouchers(worker).await.expect("vouchers"),
            tx.person_enrollments(worker).await.expect("enrollments"),
            g,
            program,
            provider,
            tx.person(missing).await.expect("person"),
            tx.group(absent).await.expect("group"),
            tx.grants(missing).await.expect("grants"),
        )
    }
    let mut plain = store.begin().await.expect("begin");
    let expected = seen(&mut *plain, worker, resp, group, missing, absent_group).await;
    drop(plain);
    assert!(expected.0.is_some() && !expected.1.is_empty() && !expected.3.is_empty() && !expected.4.is_empty());
    assert_eq!(expected.5.as_ref().map(|g| g.taken), Some(1), "prefetch: the fixture's seat");

    let mut tx = store.begin().await.expect("begin");
    let reads = [
        Read::Actor(resp),
        Read::Worker(worker),
        Read::Group(group),
        Read::Actor(missing),
        Read::Worker(missing),
        Read::Group(absent_group),
        Read::Worker(worker),
    ];
    tx.prefetch(&reads).await.expect("prefetch");
    tx.prefetch(&reads).await.expect("a second prefetch is harmless");
    let got = seen(&mut *tx, worker, resp, group, missing, absent_group).await;
    assert_eq!(got, expected, "prefetch: reads after a prefetch see what plain reads see");

    let mut renamed = got.0.clone().expect("person");
    renamed.full_name = FullName::parse("Петрова Анна Сергеевна").expect("name");
    tx.apply(Change::PutPerson(renamed.clone())).await.expect("apply");
    tx.apply(Change::TakeSeat(group)).await.expect("seat");
    assert_eq!(tx.person(worker).await.expect("person"), Some(renamed), "prefetch: a change is seen after it");
    assert_eq!(tx.group(group).await.expect("group").map(|g| g.taken), Some(2), "prefetch: the seat taken is seen");
}

/// R-W3, R-F1: the planning records round-trip; one quota number per worker and year; funding
/// moves by conditional update, exact to the kopeck, never past its limit nor below zero.
pub async fn check_planning_records(store: Arc<dyn Store>) {
    use kadry_core::planning::*;
    let f = Fixture::build(store.clone(), 1, 2).await;
    let (a, b) = (f.workers[0], f.workers[1]);
    let kopeck = |k: i64| from_kopecks(k);
    let mut cycle = Cycle::new(2026);
    cycle.stage = 3;
    cycle.norm = Some(kopeck(1_200_050));
    cycle.program_norms.push(ProgramNorm { program: f.programs[0], amount: kopeck(900_000) });
    let quota = |number: &str, holder| Quota {
        number: number.into(),
        year: 2026,
        holder,
        org: f.schools[0],
        territory: f.territory,
        status: QuotaStatus::Assigned,
        refused_on: None,
        committed: kopeck(1_200_050),
        moves: Vec::new(),
    };
    let prefs = Preferences {
        person: a,
        year: 2026,
        directions: vec!["ФГОС".into()],
        topics: vec![],
        forms: vec![StudyForm::Distance],
        answered_on: NaiveDate::from_ymd_opt(2025, 2, 3).unwrap_or_default(),
    };
    let plan = PlanEntry {
        id: PlanId(uuid::Uuid::new_v4()),
        person: a,
        program: f.programs[0],
        year: 2026,
        planned_at: noon(2025, 2, 3),
        status: PlanStatus::Waitlisted,
        org: Some(f.schools[0]),
        place: Some(f.territory),
        period: Some(2),
        quota: Some("2026-000001".into()),
        group: None,
        unplaced: Some(UnplacedReason::NoPlaces),
        offer_until: None,
    };
    let mut tx = store.begin().await.expect("begin");
    for c in [
        Change::PutCycle(cycle.clone()),
        Change::PutQuota(quota("2026-000001", a)),
        Change::PutPreferences(prefs.clone()),
        Change::PutPlan(plan.clone()),
    ] {
        tx.apply(c).await.expect("apply");
    }
    assert_eq!(
        code(tx.apply(Change::PutQuota(quota("2026-000002", a))).await),
        "state.invalid",
        "planning: one number per worker and year"
    );
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    for c in [
        Change::PutCycle(cycle.clone()),
        Change::PutQuota(quota("2026-000001", a)),
        Change::PutQuota(quota("2026-000002", b)),
        Change::PutPreferences(prefs.clone()),
        Change::PutPlan(plan.clone()),
    ] {
        tx.apply(c).await.expect("apply");
    }
    tx.commit().await.expect("commit");
    // A violation aborts its unit of work (PostgreSQL): each refused change in its own.
    let mut tx = store.begin().await.expect("begin");
    let moved = Quota { holder: b, ..quota("2026-000001", a) };
    assert_eq!(code(tx.apply(Change::PutQuota(moved)).await), "state.invalid", "planning: b holds a number already");
    drop(tx);
    let mut r = store.read().await.expect("read");
    assert_eq!(r.cycle(2026).await.expect("cycle"), Some(cycle), "planning: the cycle round-trips");
    assert_eq!(r.cycle(2027).await.expect("cycle"), None);
    assert_eq!(r.quota("2026-000001").await.expect("quota"), Some(quota("2026-000001", a)));
    assert_eq!(r.person_quota(b, 2026).await.expect("quota").map(|q| q.number), Some("2026-000002".into()));
    assert_eq!(r.person_quota(b, 2025).await.expect("quota"), None);
    assert_eq!(r.quotas(2026).await.expect("quotas").len(), 2);
    assert_eq!(r.preferences(a, 2026).await.expect("prefs"), Some(prefs.clone()));
    assert_eq!(r.year_preferences(2026).await.expect("prefs"), vec![prefs]);
    assert_eq!(r.year_plans(2026).await.expect("plans"), vec![plan]);
    assert!(r.year_plans(2025).await.expect("plans").is_empty());
    drop(r);
    // A formed group is found by its plan year.
    let g = f.group(0, NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default(), 3, Funding::State).await;
    let mut tx = store.begin().await.expect("begin");
    let mut formed = tx.group(g).await.expect("group").expect("group");
    formed.plan = Some(GroupPlan { year: 2026, place: f.territory, period: 2 });
    tx.apply(Change::PutGroup(formed.clone())).await.expect("apply");
    tx.commit().await.expect("commit");
    let mut r = store.read().await.expect("read");
    assert_eq!(r.year_groups(2026).await.expect("groups"), vec![formed], "planning: a year's formed groups");
    drop(r);
    // R-F1: limits and commitments.
    let mut tx = store.begin().await.expect("begin");
    tx.apply(Change::Commit { year: 2026, source: Funding::State, amount: kopeck(1), count: 1 })
        .await
        .expect("no limit yet");
    tx.apply(Change::SetLimit { year: 2026, source: Funding::State, limit: kopeck(1_000_001) }).await.expect("limit");
    tx.apply(Change::Commit { year: 2026, source: Funding::State, amount: kopeck(1_000_000), count: 2 })
        .await
        .expect("up to the limit, to the kopeck");
    assert_eq!(
        code(tx.apply(Change::Commit { year: 2026, source: Funding::State, amount: kopeck(1), count: 1 }).await),
        "funding.limit_exceeded",
        "R-F1: one kopeck past the limit"
    );
    tx.apply(Change::Release { year: 2026, source: Funding::State, amount: kopeck(500_000) }).await.expect("release");
    tx.commit().await.expect("commit");
    let mut tx = store.begin().await.expect("begin");
    assert_eq!(
        code(tx.apply(Change::SetLimit { year: 2026, source: Funding::State, limit: kopeck(500_000) }).await),
        "funding.limit_exceeded",
        "R-F1: a limit never below what is committed"
    );
    drop(tx);
    let mut r = store.read().await.expect("read");
    let acc = state_account(&mut *r).await.expect("the state account");
    assert_eq!((acc.limit, acc.used, acc.commitments), (Some(kopeck(1_000_001)), kopeck(500_001), 3));
    assert!(r.funding(2025).await.expect("funding").is_empty());
    drop(r);
    let mut tx = store.begin().await.expect("begin");
    tx.apply(Change::Release { year: 2026, source: Funding::State, amount: kopeck(9_999_999) }).await.expect("release");
    tx.commit().await.expect("commit");
    let mut r = store.read().await.expect("read");
    assert_eq!(state_account(&mut *r).await.map(|a| a.used), Some(kopeck(0)), "R-F1: never below zero");
}

async fn state_account(r: &mut dyn kadry_core::ports::Tx) -> Option<kadry_core::planning::FundingAccount> {
    r.funding(2026).await.expect("funding").into_iter().find(|a| a.source == Funding::State)
}

/// R-F1 under concurrency: 24 vouchers approved in parallel against a limit of ten norms; exactly
/// ten are issued and the account holds exactly the limit.
pub async fn check_parallel_commitments(store: Arc<dyn Store>) {
    use kadry_core::planning::from_kopecks;
    let f = Arc::new(Fixture::build(store.clone(), 2, 24).await);
    let ministry = f.ministry().await;
    let norm = from_kopecks(1_500_050);
    ok(&f.service, ministry, Command::SetFinancingNorm { year: 2025, program: None, amount: norm }).await;
    let limit = norm * kadry_core::planning::Decimal::from(10);
    ok(&f.service, ministry, Command::SetFundingLimit { year: 2025, source: Funding::Voucher, amount: limit }).await;
    for w in &f.workers {
        ok(&f.service, *w, Command::RequestVoucher { worker: *w }).await;
    }
    let mut tasks = Vec::new();
    for w in f.workers.clone() {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            f.service.execute(Actor::Person(f.operator), Command::ApproveVoucher { worker: w }).await
        }));
    }
    let mut issued = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => issued += 1,
            Err(e) => assert_eq!(e.code(), "funding.limit_exceeded", "unexpected refusal: {e}"),
        }
    }
    assert_eq!(issued, 10, "R-F1: exactly ten norms fit the limit");
    let mut r = store.read().await.expect("read");
    let acc = r.funding(2025).await.expect("funding").into_iter().find(|a| a.source == Funding::Voucher);
    assert_eq!(acc.map(|a| (a.used, a.commitments)), Some((limit, 10)), "R-F1: the account holds the limit");
    let mut held = 0;
    for w in &f.workers {
        held += r.vouchers(*w).await.expect("vouchers").iter().filter(|v| v.status == VoucherStatus::Issued).count();
    }
    assert_eq!(held, 10, "every refused issue left its application pending");
}

/// R-R1, R-G6: a store's report in any slice answers what the rows it returns aggregate to
/// ([`kadry_core::report::aggregate`]) for every dimension, pairs of them and filters; results
/// keep certificates and statements in two gap-free sequences; trainings entered from a
/// document count for the floor.
pub async fn check_slices(store: Arc<dyn Store>) {
    use kadry_core::report::{Dimension as D, Filter, SliceSpec, aggregate};
    let f = Fixture::build(store.clone(), 2, 6).await;
    let w = f.workers.clone();
    let office = f.person_with(f.schools[0], "office@example.ru", Position::Other, false).await;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let profile = |person, birth: NaiveDate, level, since: NaiveDate| Command::SetProfile {
        person,
        birth_date: Some(birth),
        sex: Some(Sex::Female),
        citizenship: Some("643".into()),
        education: Some(EducationDoc {
            level,
            surname: "Иванова".into(),
            series: None,
            number: "1234 567890".into(),
            qualification: None,
        }),
        experience_since: Some(since),
    };
    ok(&f.service, f.operator, profile(w[0], day(1980, 5, 1), EducationLevel::Higher, day(2010, 9, 1))).await;
    ok(&f.service, w[1], profile(w[1], day(1995, 2, 2), EducationLevel::SecondaryVocational, day(2023, 9, 1))).await;
    ok(&f.service, f.resp_of(0), Command::SetCategory { worker: w[0], category: Some(Category::Highest) }).await;
    ok(&f.service, f.resp_of(2), Command::SetCategory { worker: w[2], category: Some(Category::First) }).await;
    let g = f.group(0, day(2025, 1, 20), 5, Funding::State).await;
    for (i, x) in w[..3].iter().enumerate() {
        ok(&f.service, f.resp_of(i), Command::Enroll { worker: *x, group: g }).await;
    }
    ok(&f.service, w[3], Command::RequestVoucher { worker: w[3] }).await;
    ok(&f.service, f.operator, Command::ApproveVoucher { worker: w[3] }).await;
    ok(&f.service, w[4], Command::RequestVoucher { worker: w[4] }).await;
    let record = Command::RecordTraining {
        worker: w[5],
        source: TrainingSource::External,
        program_title: "Цифровая дидактика".into(),
        provider_name: "ФГАОУ ДПО «Академия Минпросвещения России»".into(),
        hours: 36,
        started_on: None,
        completed_on: day(2020, 1, 10),
        document: "772400 123456".into(),
    };
    ok(&f.service, f.operator, record).await;
    f.clock.set(noon(2025, 2, 3));
    let results = Command::CompleteGroup {
        group: g,
        passed: vec![w[0], w[1]],
        failed: vec![w[2]],
        attendance: Vec::new(),
        not_completed: Vec::new(),
    };
    ok(&f.service, f.kurator, results).await;
    // A paper record of an older training entered after a newer one: the worker's last passed
    // day must stay the newer one (the SQL stores keep it in a summary, migration 0009).
    let paper = Command::RecordTraining {
        worker: w[0],
        source: TrainingSource::Paper,
        program_title: "Основы финансовой грамотности".into(),
        provider_name: "ГАУ ДПО СИПКРО".into(),
        hours: 72,
        started_on: None,
        completed_on: day(2018, 3, 1),
        document: "632400 000777".into(),
    };
    ok(&f.service, f.operator, paper).await;
    let mut r = store.read().await.expect("read");
    let issued = r.documents_issued(f.provider, 2025).await.expect("issued");
    assert_eq!((issued.certificates, issued.statements), (2, 1), "two sequences, gap-free");
    // R-G6: the records of a period, of one provider or all, for registries and the export.
    let all = r.trainings_between(day(2020, 1, 1), day(2025, 12, 31), None).await.expect("period");
    assert_eq!(all.len(), 4, "three results and the external training");
    assert!(all.windows(2).all(|p| p[0].completed_on <= p[1].completed_on), "by last day");
    let own = r.trainings_between(day(2020, 1, 1), day(2025, 12, 31), Some(f.provider)).await.expect("own");
    assert_eq!(own.len(), 3, "the provider's own");
    let edge = r.trainings_between(day(2020, 1, 10), day(2020, 1, 10), None).await.expect("one day");
    assert_eq!(edge.len(), 1, "both ends included");
    assert!(r.trainings_between(day(2020, 1, 11), day(2025, 1, 29), None).await.expect("none").is_empty());
    let today = day(2025, 2, 3);
    let policy = RegionPolicy::samara();
    let spec = |group_by: Vec<D>, filters: Vec<Filter>| {
        SliceSpec::new(&policy, Scope::Region, group_by, filters, today).unwrap_or_else(|e| panic!("{e}"))
    };
    let rows = r.staff_rows(Scope::Region).await.expect("rows");
    let mut specs: Vec<SliceSpec> = D::ALL.iter().map(|d| spec(vec![*d], Vec::new())).collect();
    specs.push(spec(Vec::new(), Vec::new()));
    specs.push(spec(vec![D::Territory, D::Position, D::TrainingStatus], Vec::new()));
    specs.push(spec(
        vec![D::Organisation, D::VoucherStatus],
        vec![Filter { dimension: D::Pedagogical, values: vec!["yes".into()] }],
    ));
    specs.push(spec(
        vec![D::AgeBand, D::Category],
        vec![Filter { dimension: D::TrainingStatus, values: vec!["trained".into(), "overdue".into()] }],
    ));
    specs.push(spec(vec![D::Funding], vec![Filter { dimension: D::Subject, values: vec!["math".into()] }]));
    let sorted = |mut v: Vec<kadry_core::report::SliceRow>| {
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    };
    for s in &specs {
        let pushed = sorted(r.slice(s).await.unwrap_or_else(|e| panic!("{:?}: {e}", s.group_by)));
        assert_eq!(pushed, sorted(aggregate(&rows, s)), "{:?} {:?}", s.group_by, s.filters);
    }
    let status = sorted(r.slice(&spec(vec![D::TrainingStatus], Vec::new())).await.expect("slice"));
    let counts: Vec<(String, u64, u64)> = status.into_iter().map(|x| (x.key[0].clone(), x.workers, x.hours)).collect();
    // w0, w1 passed 36 h; w5's external training of 2020 is past the cycle; the rest never.
    assert_eq!(
        counts,
        [("never".to_string(), 7, 0), ("overdue".to_string(), 1, 0), ("trained".to_string(), 2, 72)],
        "the responsibles, the curator, the office clerk and w2..w4 never trained"
    );
    let v = sorted(r.slice(&spec(vec![D::VoucherStatus], Vec::new())).await.expect("slice"));
    let v: Vec<(String, u64)> = v.into_iter().map(|x| (x.key[0].clone(), x.workers)).collect();
    assert!(v.contains(&("active".into(), 1)) && v.contains(&("requested".into(), 1)), "{v:?}");
    let ped = r
        .slice(&spec(Vec::new(), vec![Filter { dimension: D::Pedagogical, values: vec!["no".into()] }]))
        .await
        .expect("slice");
    assert_eq!(ped.len(), 1);
    assert_eq!(ped[0].workers, 1, "only the office clerk is not pedagogical");
    let _ = office;
}

/// R-R1, R-W3 stage 1: reports and the eligibility selection answer what the records say
/// after every change that moves a worker's facts (the SQL stores keep them in a table of their
/// own, migration 0010, and must never let it drift from the records):
/// - a worker with two active workplaces in one group counts once, and so do their hours;
/// - four passed trainings within the cycle all count, the oldest of them too (the SQL row holds
///   three), and one before the cycle does not;
/// - a dismissal, a parental leave, a profile and a category show at once;
/// - an organisation moved to another territory takes its staff with it.
///
/// Every report is compared with [`kadry_core::report::aggregate`] over
/// [`Tx::staff_rows`](kadry_core::ports::Tx::staff_rows) and
/// the eligibility with [`kadry_core::planning::eligible`], for several years and both parental
/// leave policies, over the region and an organisation.
pub async fn check_staff_facts(store: Arc<dyn Store>) {
    use kadry_core::report::{Dimension as D, SliceSpec, aggregate};
    let f = Fixture::build(store.clone(), 3, 6).await;
    let w = f.workers.clone();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let record = |worker, completed_on, hours, n: u32| Command::RecordTraining {
        worker,
        source: TrainingSource::External,
        program_title: format!("Программа № {n}"),
        provider_name: "ФГАОУ ДПО «Академия Минпросвещения России»".into(),
        hours,
        started_on: None,
        completed_on,
        document: format!("772400 00{n:04}"),
    };
    // w0: five passed trainings, entered out of order: four within the cycle, one before it.
    let trainings = [(day(2024, 1, 15), 36), (day(2016, 3, 1), 16), (day(2024, 11, 1), 72), (day(2022, 9, 1), 18)];
    for (n, (on, hours)) in trainings.into_iter().chain([(day(2023, 3, 1), 24)]).enumerate() {
        ok(&f.service, f.operator, record(w[0], on, hours, n as u32)).await;
    }
    // w1 (school 1): a second active workplace at school 2, same territory and position.
    ok(&f.service, f.operator, record(w[1], day(2024, 5, 20), 36, 10)).await;
    let second = Employment {
        id: EmploymentId(uuid::Uuid::new_v4()),
        person: w[1],
        org: f.schools[2],
        position: Position::Teacher,
        pedagogical: true,
        status: EmploymentStatus::Active,
        since: day(2024, 9, 1),
        until: None,
        parental_leave: false,
        category: None,
    };
    let mut tx = store.begin().await.expect("begin");
    tx.apply(Change::PutEmployment(second)).await.expect("a second workplace");
    tx.commit().await.expect("commit");
    // w2 dismissed, w3 on parental leave with an old training, w4 with a profile and a category.
    ok(&f.service, f.resp_of(2), Command::Dismiss { person: w[2] }).await;
    ok(&f.service, f.operator, record(w[3], day(2021, 6, 1), 72, 11)).await;
    ok(&f.service, f.resp_of(3), Command::SetParentalLeave { worker: w[3], on_leave: true }).await;
    let profile = Command::SetProfile {
        person: w[4],
        birth_date: Some(day(1990, 4, 1)),
        sex: Some(Sex::Female),
        citizenship: Some("643".into()),
        education: Some(EducationDoc {
            level: EducationLevel::Higher,
            surname: "Иванова".into(),
            series: None,
            number: "1234 567890".into(),
            qualification: None,
        }),
        experience_since: Some(day(2015, 9, 1)),
    };
    ok(&f.service, f.operator, profile).await;
    ok(&f.service, f.resp_of(4), Command::SetCategory { worker: w[4], category: Some(Category::First) }).await;
    f.clock.set(noon(2025, 2, 3));
    let today = day(2025, 2, 3);
    let samara = RegionPolicy::samara();
    let spec = |group_by: Vec<D>| SliceSpec::new(&samara, Scope::Region, group_by, Vec::new(), today).expect("spec");
    let sorted = |mut v: Vec<kadry_core::report::SliceRow>| {
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    };
    let mut leave = samara.clone();
    leave.eligibility_includes_parental_leave = !samara.eligibility_includes_parental_leave;
    let compare = |label: &'static str| {
        let store = store.clone();
        let (samara, leave) = (samara.clone(), leave.clone());
        let school = f.schools[2];
        let mut specs: Vec<SliceSpec> = D::ALL.iter().map(|d| spec(vec![*d])).collect();
        specs.push(spec(Vec::new()));
        specs.push(spec(vec![D::Territory, D::Position, D::TrainingStatus]));
        specs.push(spec(vec![D::AgeBand, D::EducationLevel, D::ExperienceBand, D::Category]));
        async move {
            let mut r = store.read().await.expect("read");
            let rows = r.staff_rows(Scope::Region).await.expect("rows");
            for s in &specs {
                let pushed = sorted(r.slice(s).await.unwrap_or_else(|e| panic!("{label} {:?}: {e}", s.group_by)));
                assert_eq!(pushed, sorted(aggregate(&rows, s)), "{label}: {:?}", s.group_by);
            }
            for policy in [&samara, &leave] {
                for scope in [Scope::Region, Scope::Organisation(school)] {
                    let rows = r.staff_rows(scope).await.expect("rows");
                    for year in 2024..=2028 {
                        let selected = r.eligible(scope, policy, year).await.expect("eligible");
                        let expected = kadry_core::planning::eligible(policy, &rows, year);
                        assert_eq!(selected, expected, "{label}: {scope:?} {year}");
                    }
                }
            }
            sorted(r.slice(&spec(vec![D::Territory, D::Position, D::TrainingStatus])).await.expect("slice"))
        }
    };
    let before = compare("before the move").await;
    let teachers_trained: Vec<(u64, u64)> = before
        .iter()
        .filter(|x| x.key[1] == "teacher" && x.key[2] == "trained")
        .map(|x| (x.workers, x.hours))
        .collect();
    // w0: 72 + 36 + 24 + 18 within the cycle (from 3 February 2022); w1: 36, once.
    assert_eq!(teachers_trained, [(2, 186)], "w0's four trainings within the cycle and w1's, once");
    // School 2 moves to a new territory with its teachers: w5 and w1 by the second workplace (w2
    // was dismissed).
    let t2 = TerritoryId(created(&f.service, f.operator, Command::RegisterTerritory { name: "Сызрань".into() }).await);
    let mut r = store.read().await.expect("read");
    let mut org = r.org(f.schools[2]).await.expect("org").expect("school 2");
    drop(r);
    org.territory = t2;
    let mut tx = store.begin().await.expect("begin");
    tx.apply(Change::PutOrg(org)).await.expect("move");
    tx.commit().await.expect("commit");
    let after = compare("after the move").await;
    let moved: Vec<(String, u64, u64)> = after
        .iter()
        .filter(|x| x.key[0] == t2.to_string() && x.key[1] == "teacher")
        .map(|x| (x.key[2].clone(), x.workers, x.hours))
        .collect();
    assert_eq!(
        moved,
        [("never".to_string(), 1, 0), ("trained".to_string(), 1, 36)],
        "w5 and w1 (by the second workplace) in the new territory"
    );
}

/// R-R1, R-G6: nobody sees a row outside their slice. Every role asks for a report over the
/// region, a territory and organisations: inside its grant the slice holds exactly the staff of
/// the scope and only its organisations; outside, the slice, the registry and the overdue list
/// are all refused.
pub async fn check_report_scopes(store: Arc<dyn Store>) {
    use kadry_core::report::Dimension;
    let f = Fixture::build(store, 2, 4).await;
    let (op, t1, s0, s1) = (f.operator, f.territory, f.schools[0], f.schools[1]);
    let t2 = TerritoryId(created(&f.service, op, Command::RegisterTerritory { name: "Сызрань".into() }).await);
    let s2 = OrgId(
        created(
            &f.service,
            op,
            Command::RegisterOrg {
                name: "Школа Сызрани".into(),
                kind: OrgKind::School,
                territory: t2,
                parent: None,
                license: None,
                ownership: None,
            },
        )
        .await,
    );
    f.person(s2, "far1@example.ru", Position::Teacher).await;
    f.person(s2, "far2@example.ru", Position::Teacher).await;
    let grant = |person, role, scope| Command::GrantRole { person, role, scope, basis: "приказ № 2".into() };
    let upr = f.person(s0, "upr@tlt.example.ru", Position::Methodist).await;
    ok(&f.service, op, grant(upr, Role::Territory, Some(ScopeRef::Territory(t1)))).await;
    let dir = f.person(s1, "dir@school.example.ru", Position::Head).await;
    ok(&f.service, op, grant(dir, Role::OrgHead, Some(ScopeRef::Organisation(s1)))).await;
    let official = Command::RegisterOfficial {
        full_name: "Эксперт Совета".into(),
        email: "expert@kadry.invalid".into(),
        role: Role::Expert,
        basis: "приказ о совете".into(),
    };
    let expert = PersonId(created(&f.service, op, official).await);
    ok(&f.service, expert, Command::ConfirmEmail { person: expert }).await;
    let ministry = f.ministry().await;
    // Staff: school0 — resp0, w0, w2, upr; school1 — resp1, w1, w3, dir; the provider — the
    // curator; school2 (the other territory) — two teachers.
    let staff: Vec<(OrgId, u64)> = vec![(s0, 4), (s1, 4), (f.provider, 1), (s2, 2)];
    let inside = |scope: Option<ScopeRef>| -> Vec<(OrgId, u64)> {
        staff
            .iter()
            .copied()
            .filter(|(o, _)| match scope {
                None => true,
                Some(ScopeRef::Territory(t)) => (t == t1) == (*o != s2),
                Some(ScopeRef::Organisation(x)) => x == *o,
            })
            .collect()
    };
    let region = None;
    let (ter1, ter2) = (Some(ScopeRef::Territory(t1)), Some(ScopeRef::Territory(t2)));
    let org = |o| Some(ScopeRef::Organisation(o));
    let (w0, resp0, kurator) = (f.workers[0], f.resps[0], f.kurator);
    let cases: Vec<(&str, PersonId, Option<ScopeRef>, bool)> = vec![
        ("ministry", ministry, region, true),
        ("ministry", ministry, ter2, true),
        ("ministry", ministry, org(s0), true),
        ("operator", op, region, true),
        ("operator", op, org(s2), true),
        ("territory", upr, ter1, true),
        ("territory", upr, org(s1), true),
        ("territory", upr, org(f.provider), true),
        ("territory", upr, region, false),
        ("territory", upr, ter2, false),
        ("territory", upr, org(s2), false),
        ("head", dir, org(s1), true),
        ("head", dir, org(s0), false),
        ("head", dir, ter1, false),
        ("head", dir, region, false),
        ("responsible", resp0, org(s0), true),
        ("responsible", resp0, org(s1), false),
        ("responsible", resp0, ter1, false),
        ("provider", kurator, org(f.provider), false),
        ("provider", kurator, region, false),
        ("worker", w0, org(s0), false),
        ("expert", expert, region, false),
    ];
    let today = NaiveDate::from_ymd_opt(2025, 1, 13).expect("a day");
    for (role, actor, scope, allowed) in cases {
        let who = Actor::Person(actor);
        let slice = Query::Slice { group_by: vec![Dimension::Organisation], filters: Vec::new(), scope };
        let got = f.service.query(who, slice).await;
        let registry = Query::Registry { from: NaiveDate::from_ymd_opt(2020, 1, 1).expect("a day"), to: today, scope };
        let overdue = Query::Overdue { scope };
        if !allowed {
            assert_eq!(code(got), "access.denied", "{role} over {scope:?}: slice");
            assert_eq!(code(f.service.query(who, registry).await), "access.denied", "{role}: registry");
            assert_eq!(code(f.service.query(who, overdue).await), "access.denied", "{role}: overdue");
            continue;
        }
        let Ok(QueryResult::Slice(view)) = got else { panic!("{role} over {scope:?}: {got:?}") };
        let mut rows: Vec<(String, u64)> = view.rows.iter().map(|r| (r.key[0].clone(), r.workers)).collect();
        rows.sort();
        let mut expected: Vec<(String, u64)> = inside(scope).into_iter().map(|(o, n)| (o.to_string(), n)).collect();
        expected.sort();
        assert_eq!(rows, expected, "{role} over {scope:?}: exactly the scope's organisations and staff");
        assert_eq!(code(f.service.query(who, registry).await), "ok", "{role}: registry");
        assert_eq!(code(f.service.query(who, overdue).await), "ok", "{role}: overdue");
    }
}

/// The checks of the contract, by name.
pub const CHECKS: [&str; 18] = [
    "load",
    "year_lock",
    "report_scopes",
    "slices",
    "staff_facts",
    "surveys",
    "planning_records",
    "parallel_commitments",
    "prefetch",
    "catalogue",
    "unit_of_work",
    "constraints",
    "history",
    "outbox",
    "parallel_enrolments",
    "parallel_vouchers",
    "parallel_registrations",
    "crash_between_commit_and_delivery",
];

/// R-R2: surveys and responses round-trip; one response per survey and person, kept by the
/// store itself (`state.invalid`), and a response to an unknown survey refused; through the
/// service, results by slice agree on every store.
async fn check_surveys(store: Arc<dyn Store>) {
    use kadry_core::report::{Dimension, Filter};
    use kadry_core::survey::{AnswerValue, Question, QuestionKind, Response, SurveyKind};
    let f = Fixture::build(store.clone(), 2, 4).await;
    let (a, b) = (f.workers[0], f.workers[1]);
    let created = f
        .service
        .execute(
            Actor::Person(f.operator),
            Command::CreateSurvey {
                title: "Удовлетворённость методической работой".into(),
                kind: SurveyKind::Monitoring,
                questions: vec![
                    Question {
                        key: "q1".into(), text: "Оцените".into(), kind: QuestionKind::Scale { min: 1, max: 5 }
                    },
                    Question {
                        key: "q2".into(),
                        text: "Темы".into(),
                        kind: QuestionKind::Choice {
                            options: vec!["ФГОС".into(), "ИКТ".into()], multiple: true
                        },
                    },
                ],
                target: vec![Filter { dimension: Dimension::Position, values: vec!["teacher".into()] }],
                scope: None,
                opens_on: None,
                closes_on: None,
            },
        )
        .await;
    let survey = SurveyId(created.expect("surveys: created").created().expect("surveys: an id"));
    let answers = |q1: i32, q2: &[&str]| {
        std::collections::BTreeMap::from([
            ("q1".to_string(), AnswerValue::Scale(q1)),
            ("q2".to_string(), AnswerValue::Choice(q2.iter().map(|x| x.to_string()).collect())),
        ])
    };
    for (w, q1, q2) in [(a, 5, &["ФГОС"][..]), (b, 2, &["ФГОС", "ИКТ"][..])] {
        let r = f
            .service
            .execute(Actor::Person(w), Command::AnswerSurvey { survey, person: w, answers: answers(q1, q2) })
            .await;
        assert_eq!(code(r), "ok", "surveys: a teacher answers");
    }
    let again = f
        .service
        .execute(Actor::Person(a), Command::AnswerSurvey { survey, person: a, answers: answers(1, &["ИКТ"]) })
        .await;
    assert_eq!(code(again), "state.invalid", "surveys: once each");
    // The store itself refuses a second response.
    let mut tx = store.begin().await.expect("begin");
    let twice = Response {
        survey,
        person: a,
        answers: answers(3, &["ИКТ"]),
        answered_on: NaiveDate::from_ymd_opt(2025, 1, 14).unwrap_or_default(),
    };
    assert_eq!(
        code(tx.apply(Change::AddResponse(twice.clone())).await),
        "state.invalid",
        "surveys: UNIQUE (survey, person)"
    );
    drop(tx);
    let mut tx = store.begin().await.expect("begin");
    let unknown = Response { survey: SurveyId(uuid::Uuid::new_v4()), ..twice };
    assert_eq!(code(tx.apply(Change::AddResponse(unknown)).await), "not_found", "surveys: a response needs its survey");
    drop(tx);
    let mut r = store.read().await.expect("read");
    let s = r.survey(survey).await.expect("survey").expect("surveys: stored");
    assert_eq!(s.questions.len(), 2, "surveys: the form round-trips");
    assert_eq!(r.surveys().await.expect("surveys").len(), 1);
    assert_eq!(r.responses(survey).await.expect("responses").len(), 2);
    let mine = r.response(survey, a).await.expect("response").expect("surveys: a's response");
    assert_eq!(mine.answers, answers(5, &["ФГОС"]), "surveys: answers round-trip");
    assert_eq!(r.response(survey, f.workers[2]).await.expect("response"), None);
    drop(r);
    // Results by organisation: the two teachers work at different schools.
    let q = Query::SurveyResults { survey, group_by: vec![Dimension::Organisation], scope: None };
    let QueryResult::SurveyResults(v) = f.service.query(Actor::Person(f.operator), q).await.expect("results") else {
        panic!("surveys: results answered something else")
    };
    assert_eq!(v.respondents, 2, "surveys: respondents");
    let per: Vec<(u64, Option<String>)> =
        v.rows.iter().map(|l| (l.respondents, l.questions[0].mean.map(|m| m.to_string()))).collect();
    assert_eq!(per.len(), 2, "surveys: one row per school");
    assert!(per.contains(&(1, Some("5.00".into()))) && per.contains(&(1, Some("2.00".into()))), "surveys: {per:?}");
    // Parallel answers by one worker: exactly one is taken.
    let c = f.workers[2];
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let service = f.service.clone();
            let a = answers(1 + i, &["ИКТ"]);
            tokio::spawn(async move {
                service.execute(Actor::Person(c), Command::AnswerSurvey { survey, person: c, answers: a }).await
            })
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(code(t.await.expect("task")));
    }
    codes.sort();
    assert_eq!(codes, ["ok", "state.invalid", "state.invalid", "state.invalid"], "surveys: parallel answers, once");
    // Closing round-trips; answers are refused after it.
    let closed = f.service.execute(Actor::Person(f.operator), Command::CloseSurvey { survey }).await;
    assert_eq!(code(closed), "ok");
    let late = f
        .service
        .execute(
            Actor::Person(f.workers[3]),
            Command::AnswerSurvey { survey, person: f.workers[3], answers: answers(4, &["ИКТ"]) },
        )
        .await;
    assert_eq!(code(late), "state.invalid", "surveys: closed");
}

/// The ids of [`load_batch`]'s records.
struct LoadIds;

impl LoadIds {
    fn id(kind: u128, n: usize) -> uuid::Uuid {
        uuid::Uuid::from_u128((0x006b_6164_7279 << 80) | (kind << 64) | n as u128)
    }
    fn territory(n: usize) -> TerritoryId {
        TerritoryId(Self::id(1, n))
    }
    fn org(n: usize) -> OrgId {
        OrgId(Self::id(2, n))
    }
    fn worker(n: usize) -> PersonId {
        PersonId(Self::id(3, n))
    }
    fn employment(n: usize) -> EmploymentId {
        EmploymentId(Self::id(4, n))
    }
    fn program() -> ProgramId {
        ProgramId(Self::id(5, 0))
    }
    fn group(n: usize) -> GroupId {
        GroupId(Self::id(6, n))
    }
    fn enrollment(n: usize) -> EnrollmentId {
        EnrollmentId(Self::id(7, n))
    }
    fn survey() -> SurveyId {
        SurveyId(Self::id(8, 0))
    }
}

/// The workers of [`load_batch`].
const LOAD_WORKERS: usize = 300;
/// Its training records: more than SQLite takes in one statement (32 766 values, 11 a row).
const LOAD_TRAININGS_EACH: usize = 10;

fn load_org(n: usize, kind: OrgKind, territory: usize, parent: Option<usize>) -> Organisation {
    Organisation {
        id: LoadIds::org(n),
        name: format!("Организация № {n}"),
        kind,
        territory: LoadIds::territory(territory),
        parent: parent.map(LoadIds::org),
        license: kind.may_provide().then(|| License {
            number: "Л035-01277-63/00321".into(),
            valid_until: None,
            issued_on: Some(NaiveDate::from_ymd_opt(2012, 1, 10).unwrap_or_default()),
        }),
        ownership: Ownership::Regional,
        closed_on: None,
    }
}

fn load_group(n: usize, capacity: u32, starts: NaiveDate, completed: bool) -> Group {
    Group {
        id: LoadIds::group(n),
        program: LoadIds::program(),
        provider: LoadIds::org(3),
        starts,
        ends: starts + chrono::Days::new(10),
        place: "Самара".into(),
        capacity,
        taken: 0,
        funding: Funding::State,
        completed_on: completed.then(|| starts + chrono::Days::new(10)),
        cancelled: false,
        plan: None,
    }
}

fn load_employment(n: usize, worker: usize, org: usize, status: EmploymentStatus) -> Employment {
    let day = |y| NaiveDate::from_ymd_opt(y, 9, 1).unwrap_or_default();
    Employment {
        id: LoadIds::employment(n),
        person: LoadIds::worker(worker),
        org: LoadIds::org(org),
        position: if worker % 7 == 3 { Position::Educator } else { Position::Teacher },
        pedagogical: worker % 11 != 5,
        status,
        since: day(2012 + (n % 10) as i32),
        until: (status == EmploymentStatus::Dismissed).then(|| day(2023)),
        parental_leave: worker % 50 == 9,
        category: worker.is_multiple_of(3).then_some(Category::First),
    }
}

fn load_enrollment(n: usize, worker: usize, group: usize, status: EnrollmentStatus) -> Enrollment {
    Enrollment {
        id: LoadIds::enrollment(n),
        group: LoadIds::group(group),
        person: LoadIds::worker(worker),
        voucher: None,
        blocks: 0,
        profile_blocks: 0,
        confirmed: true,
        status,
        enrolled_at: noon(2025, 1, 20),
        committed: None,
    }
}

/// A mixed load of every kind of change, valid one change at a time, with the cases a
/// multi-row write must get right: rows written twice (a person, an employment, an
/// enrolment, an organisation moved), seats taken, freed and taken again, a group's capacity
/// raised after seats were taken, changes no multi-row statement writes (a deleted role
/// request, a commitment, a release), records that reference rows of the same load, a
/// worker's employments and trainings whose order counts, and more training records than
/// SQLite binds in one statement.
fn load_batch() -> Vec<Change> {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let mut c = vec![
        Change::PutTerritory(Territory { id: LoadIds::territory(1), name: "Тольятти".into() }),
        Change::PutTerritory(Territory { id: LoadIds::territory(2), name: "Сызрань".into() }),
        Change::PutOrg(load_org(0, OrgKind::Other, 1, None)),
        Change::PutOrg(load_org(1, OrgKind::School, 1, None)),
        Change::PutOrg(load_org(2, OrgKind::Kindergarten, 2, Some(1))),
        Change::PutOrg(load_org(3, OrgKind::Dpo, 1, None)),
    ];
    for i in 0..LOAD_WORKERS {
        let mut p = person(&format!("Load{i}@Kadry.invalid"));
        p.id = LoadIds::worker(i);
        p.subject = (i % 4 == 0).then(|| "математика".into());
        p.birth_year = Some(1960 + (i % 40) as i32);
        if i % 3 == 0 {
            // Numbers up to 001-001-998 carry no check digits.
            p.snils = kadry_core::types::Snils::parse(&format!("{:09}00", 1000 + i)).ok();
        }
        c.push(Change::PutPerson(p));
        if i == 1 {
            // An earlier workplace, dismissed: employments come back oldest first.
            c.push(Change::PutEmployment(load_employment(1000, i, 2, EmploymentStatus::Dismissed)));
        }
        c.push(Change::PutEmployment(load_employment(i, i, 1 + i % 2, EmploymentStatus::Active)));
    }
    // A second active workplace (the facts' `shared`), at the provider.
    c.push(Change::PutEmployment(load_employment(1001, 2, 3, EmploymentStatus::Active)));
    // A person written twice: a new email, a profile.
    let mut again = person("load3.renamed@kadry.invalid");
    again.id = LoadIds::worker(3);
    again.profile.birth_date = Some(day(1988, 4, 1));
    again.profile.experience_since = Some(day(2010, 9, 1));
    c.push(Change::PutPerson(again));
    // An employment written twice: dismissed.
    c.push(Change::PutEmployment(Employment {
        until: Some(day(2025, 1, 31)),
        ..load_employment(4, 4, 1, EmploymentStatus::Dismissed)
    }));
    let grant = |person, role, scope| {
        Change::PutGrant(RoleGrant {
            person,
            role,
            scope,
            basis: "приказ № 1".into(),
            granted_at: noon(2025, 1, 10),
            suspended: false,
        })
    };
    c.push(grant(LoadIds::worker(0), Role::Operator, Scope::Region));
    c.push(grant(LoadIds::worker(5), Role::OrgResponsible, Scope::Organisation(LoadIds::org(1))));
    let request = |n: usize| {
        Change::PutRoleRequest(RoleRequest {
            person: LoadIds::worker(n),
            role: Role::Provider,
            scope: Scope::Organisation(LoadIds::org(3)),
            basis: "заявление".into(),
            requested_at: noon(2025, 1, 11),
        })
    };
    c.extend([request(6), request(7), Change::DeleteRoleRequest { person: LoadIds::worker(7), role: Role::Provider }]);
    let voucher = |n: usize, status: VoucherStatus, issued: Option<NaiveDate>| {
        Change::PutVoucher(Voucher {
            id: VoucherId(LoadIds::id(9, n)),
            person: LoadIds::worker(n),
            status,
            requested_on: Some(day(2024, 2, 1)),
            approve_by: Some(day(2024, 2, 15)),
            issued_on: issued,
            valid_until: issued.map(|d| RegionPolicy::add_months(d, 12)),
            blocks_total: 6,
            paper: false,
            org: Some(LoadIds::org(1)),
            position: Some(Position::Teacher),
            reason: None,
            committed: None,
        })
    };
    c.extend([voucher(8, VoucherStatus::Issued, Some(day(2024, 2, 10))), voucher(9, VoucherStatus::Requested, None)]);
    c.push(Change::PutProgram(Program {
        id: LoadIds::program(),
        provider: LoadIds::org(3),
        title: "Функциональная грамотность (36 ч.)".into(),
        hours: 36,
        annotation: None,
        positions: Audience::All,
        profile_for: Audience::All,
        org_kinds: Audience::All,
        subjects: Audience::All,
        year: None,
        status: ProgramStatus::Approved,
        direction: None,
        min_group: None,
        max_group: None,
        places: None,
        expertise: None,
        form: None,
    }));
    // R-G3: a recruiting group of three seats: two taken, one freed, one taken again; then its
    // capacity raised to five.
    c.push(Change::PutGroup(load_group(1, 3, day(2025, 4, 7), false)));
    for (n, w) in [(1, 10), (2, 11)] {
        c.push(Change::TakeSeat(LoadIds::group(1)));
        c.push(Change::PutEnrollment(load_enrollment(n, w, 1, EnrollmentStatus::Enrolled)));
    }
    c.push(Change::FreeSeat(LoadIds::group(1)));
    c.push(Change::PutEnrollment(load_enrollment(2, 11, 1, EnrollmentStatus::Removed)));
    c.push(Change::TakeSeat(LoadIds::group(1)));
    c.push(Change::PutEnrollment(load_enrollment(3, 12, 1, EnrollmentStatus::Enrolled)));
    c.push(Change::PutGroup(load_group(1, 5, day(2025, 4, 7), false)));
    // Ten years of history: a completed group per year, a seat and a record per worker and
    // year, certificates and statements numbered per provider and year.
    let mut numbers = std::collections::HashMap::new();
    for year in 2015..2015 + LOAD_TRAININGS_EACH as i32 {
        let g = (year - 2000) as usize;
        c.push(Change::PutGroup(load_group(g, LOAD_WORKERS as u32, day(year, 3, 1), true)));
        for w in 0..LOAD_WORKERS {
            let external = (w + g).is_multiple_of(9);
            let passed = external || !(w * 7 + g).is_multiple_of(13);
            let (certificates, statements) = numbers.entry(year).or_insert((0, 0));
            let on = day(year, 3, 11 + (w % 17) as u32);
            if !external {
                c.push(Change::TakeSeat(LoadIds::group(g)));
            }
            c.push(Change::AddTraining(TrainingRecord {
                person: LoadIds::worker(w),
                group: (!external).then(|| LoadIds::group(g)),
                program: (!external).then(LoadIds::program),
                program_title: "Функциональная грамотность".into(),
                provider: (!external).then(|| LoadIds::org(3)),
                hours: [16, 36, 72][(w + g) % 3],
                completed_on: on,
                passed,
                certificate: (passed && !external).then(|| {
                    *certificates += 1;
                    Certificate {
                        series: "Л035-01277-63/00321".into(),
                        number: format!("{year}-{certificates:06}"),
                        issued_on: on,
                        code: Certificate::code_from(LoadIds::id(10, w * 100 + g)),
                    }
                }),
                statement: (!passed).then(|| {
                    *statements += 1;
                    Statement { number: format!("С-{year}-{statements:06}"), issued_on: on }
                }),
                completed: true,
                reason: None,
                attended_hours: None,
                funding: (!external).then_some(Funding::State),
                source: if external { TrainingSource::External } else { TrainingSource::Group },
                started_on: None,
                document: external.then(|| format!("ПК {w}-{year}")),
                provider_name: external.then(|| "ФГАОУ ДПО «Академия Минпросвещения России»".into()),
            }));
        }
    }
    // An enrolment written twice: passed.
    c.push(Change::PutEnrollment(load_enrollment(1, 10, 1, EnrollmentStatus::Passed)));
    // The planning cycle (R-W3), a survey (R-R2), the outbox (R-N1), funding (R-F1).
    c.push(Change::PutPlan(PlanEntry {
        id: PlanId(LoadIds::id(11, 0)),
        person: LoadIds::worker(12),
        program: LoadIds::program(),
        year: 2026,
        planned_at: noon(2025, 2, 1),
        status: Default::default(),
        org: Some(LoadIds::org(1)),
        place: None,
        period: None,
        quota: None,
        group: None,
        unplaced: None,
        offer_until: None,
    }));
    c.push(Change::PutCycle(kadry_core::planning::Cycle::new(2026)));
    c.push(Change::PutQuota(kadry_core::planning::Quota {
        number: "2026-000001".into(),
        year: 2026,
        holder: LoadIds::worker(13),
        org: LoadIds::org(2),
        territory: LoadIds::territory(2),
        status: kadry_core::planning::QuotaStatus::Assigned,
        refused_on: None,
        committed: kadry_core::planning::from_kopecks(1_200_000),
        moves: Vec::new(),
    }));
    c.push(Change::PutPreferences(kadry_core::planning::Preferences {
        person: LoadIds::worker(13),
        year: 2026,
        directions: vec!["Функциональная грамотность".into()],
        topics: Vec::new(),
        forms: vec![kadry_core::planning::StudyForm::Distance],
        answered_on: day(2025, 2, 3),
    }));
    c.push(Change::PutSurvey(kadry_core::survey::Survey {
        id: LoadIds::survey(),
        title: "Мониторинг".into(),
        kind: kadry_core::survey::SurveyKind::Monitoring,
        questions: vec![kadry_core::survey::Question {
            key: "q1".into(),
            text: "Оцените".into(),
            kind: kadry_core::survey::QuestionKind::Scale { min: 1, max: 5 },
        }],
        target: Vec::new(),
        scope: Scope::Region,
        opens_on: day(2025, 1, 1),
        closes_on: None,
        created_by: LoadIds::worker(0),
        closed: false,
    }));
    c.push(Change::AddResponse(kadry_core::survey::Response {
        survey: LoadIds::survey(),
        person: LoadIds::worker(14),
        answers: [("q1".to_string(), kadry_core::survey::AnswerValue::Scale(4))].into_iter().collect(),
        answered_on: day(2025, 2, 4),
    }));
    for n in 0..3 {
        c.push(Change::Notify(Notification {
            id: NotificationId(LoadIds::id(12, n)),
            person: LoadIds::worker(15),
            kind: NotificationKind::VoucherApproved,
            at: noon(2025, 2, 1 + n as u32),
            details_ru: format!("Уведомление № {n}"),
        }));
        c.push(Change::Audit(AuditEntry {
            at: noon(2025, 2, 1 + n as u32),
            actor: Actor::System,
            action: "load".into(),
            subject: Some(LoadIds::worker(15)),
        }));
    }
    let money = kadry_core::planning::from_kopecks;
    c.push(Change::SetLimit { year: 2026, source: Funding::State, limit: money(10_000_000) });
    c.push(Change::Commit { year: 2026, source: Funding::State, amount: money(1_200_000), count: 1 });
    c.push(Change::Release { year: 2026, source: Funding::State, amount: money(200_000) });
    // An organisation written twice: the kindergarten moves to the first territory, with its
    // staff (the facts follow, R-R1).
    c.push(Change::PutOrg(load_org(2, OrgKind::Kindergarten, 1, Some(1))));
    c
}

/// A second load over [`load_batch`]'s records: the school moves to the second territory with
/// its staff (only the organisation written: its staff's facts follow, R-R1), and one worker
/// passes a training.
fn load_followup() -> Vec<Change> {
    let mut moved = load_org(1, OrgKind::School, 2, None);
    moved.name = "Школа, переданная в Сызрань".into();
    let on = NaiveDate::from_ymd_opt(2025, 2, 20).unwrap_or_default();
    vec![
        Change::PutOrg(moved),
        Change::AddTraining(TrainingRecord {
            person: LoadIds::worker(21),
            group: None,
            program: None,
            program_title: "Наставничество".into(),
            provider: None,
            hours: 24,
            completed_on: on,
            passed: true,
            certificate: None,
            statement: None,
            completed: true,
            reason: None,
            attended_hours: None,
            funding: None,
            source: TrainingSource::External,
            started_on: None,
            document: Some("ПК 21-2025".into()),
            provider_name: Some("ФГАОУ ДПО «Академия Минпросвещения России»".into()),
        }),
    ]
}

/// Everything the read methods say about [`load_batch`]'s records, a line each: lists "in no
/// particular order" sorted, the rest as the store answers them.
async fn load_snapshot(store: &dyn Store) -> Vec<(String, String)> {
    use kadry_core::report::{Dimension as D, SliceSpec};
    fn sorted<T: std::fmt::Debug>(v: Vec<T>) -> String {
        let mut v: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
        v.sort();
        v.join("\n")
    }
    let mut r = store.read().await.expect("read");
    let mut out: Vec<(String, String)> = Vec::new();
    let mut line = |label: String, value: String| out.push((label, value));
    line("territories".into(), sorted(r.territories().await.expect("territories")));
    line("orgs".into(), sorted(r.orgs().await.expect("orgs")));
    line("programs".into(), sorted(r.programs().await.expect("programs")));
    for o in 0..4 {
        let org = LoadIds::org(o);
        line(format!("org {o}"), format!("{:?}", r.org(org).await.expect("org")));
        line(format!("staff {o}"), format!("{:?}", r.staff(org).await.expect("staff")));
    }
    for t in 1..=2 {
        line(format!("territory {t}"), format!("{:?}", r.territory(LoadIds::territory(t)).await.expect("territory")));
    }
    for w in 0..LOAD_WORKERS {
        let id = LoadIds::worker(w);
        let p = r.person(id).await.expect("person");
        if let Some(p) = &p {
            let by_email = r.person_by_email(p.email.key()).await.expect("by email").map(|x| x.id);
            line(format!("worker {w} by email"), format!("{by_email:?}"));
            if let Some(s) = &p.snils {
                let by_snils = r.person_by_snils(s.digits()).await.expect("by SNILS").map(|x| x.id);
                line(format!("worker {w} by SNILS"), format!("{by_snils:?}"));
            }
        }
        line(format!("worker {w}"), format!("{p:?}"));
        line(format!("worker {w} grants"), format!("{:?}", r.grants(id).await.expect("grants")));
        line(format!("worker {w} requests"), format!("{:?}", r.role_requests(id).await.expect("requests")));
        line(format!("worker {w} employments"), format!("{:?}", r.employments(id).await.expect("employments")));
        line(format!("worker {w} vouchers"), format!("{:?}", r.vouchers(id).await.expect("vouchers")));
        line(format!("worker {w} enrolments"), format!("{:?}", r.person_enrollments(id).await.expect("enrolments")));
        line(format!("worker {w} trainings"), format!("{:?}", r.trainings(id).await.expect("trainings")));
        line(format!("worker {w} plans"), format!("{:?}", r.plans(id).await.expect("plans")));
        line(format!("worker {w} notifications"), format!("{:?}", r.notifications(id).await.expect("notifications")));
        line(format!("worker {w} quota"), format!("{:?}", r.person_quota(id, 2026).await.expect("quota")));
        line(format!("worker {w} preferences"), format!("{:?}", r.preferences(id, 2026).await.expect("preferences")));
        line(
            format!("worker {w} response"),
            format!("{:?}", r.response(LoadIds::survey(), id).await.expect("response")),
        );
    }
    line("operator".into(), format!("{:?}", r.role_exists(Role::Operator).await.expect("role")));
    line("responsibles".into(), sorted(r.role_holders(Role::OrgResponsible).await.expect("holders")));
    line("program".into(), format!("{:?}", r.program(LoadIds::program()).await.expect("program")));
    line("program groups".into(), sorted(r.program_groups(LoadIds::program()).await.expect("groups")));
    for g in [1, 15, 20, 24] {
        line(format!("group {g}"), format!("{:?}", r.group(LoadIds::group(g)).await.expect("group")));
        let enrolled = r.group_enrollments(LoadIds::group(g)).await.expect("enrolments");
        line(format!("group {g} enrolments"), format!("{enrolled:?}"));
    }
    let (from, to) = (NaiveDate::from_ymd_opt(2010, 1, 1), NaiveDate::from_ymd_opt(2030, 1, 1));
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    for provider in [None, Some(LoadIds::org(3))] {
        let between = r.trainings_between(from, to, provider).await.expect("between");
        line(format!("trainings of {provider:?}"), format!("{between:?}"));
    }
    for year in 2015..2026 {
        let issued = r.documents_issued(LoadIds::org(3), year).await.expect("issued");
        line(format!("issued in {year}"), format!("{issued:?}"));
        let cert = r.certificate("Л035-01277-63/00321", &format!("{year}-000007")).await.expect("certificate");
        line(format!("certificate {year}"), format!("{cert:?}"));
    }
    let mut rows = r.staff_rows(Scope::Region).await.expect("staff rows");
    for row in &mut rows {
        row.passed.sort_by_key(|p| (p.completed_on, p.hours));
    }
    line("staff rows".into(), sorted(rows));
    let samara = RegionPolicy::samara();
    let today = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap_or_default();
    for group_by in [
        vec![D::Territory, D::Position, D::TrainingStatus],
        vec![D::Organisation, D::Funding, D::Category],
        vec![D::AgeBand, D::Subject, D::VoucherStatus],
    ] {
        let spec = SliceSpec::new(&samara, Scope::Region, group_by, Vec::new(), today).expect("spec");
        line(format!("slice {:?}", spec.group_by), sorted(r.slice(&spec).await.expect("slice")));
    }
    for year in 2025..=2027 {
        line(
            format!("eligible {year}"),
            format!("{:?}", r.eligible(Scope::Region, &samara, year).await.expect("eligible")),
        );
    }
    line("cycle".into(), format!("{:?}", r.cycle(2026).await.expect("cycle")));
    line("quota".into(), format!("{:?}", r.quota("2026-000001").await.expect("quota")));
    line("quotas".into(), sorted(r.quotas(2026).await.expect("quotas")));
    line("preferences".into(), sorted(r.year_preferences(2026).await.expect("preferences")));
    line("plans".into(), sorted(r.year_plans(2026).await.expect("plans")));
    line("year groups".into(), sorted(r.year_groups(2026).await.expect("groups")));
    line("funding".into(), format!("{:?}", r.funding(2026).await.expect("funding")));
    line("survey".into(), format!("{:?}", r.survey(LoadIds::survey()).await.expect("survey")));
    line("surveys".into(), sorted(r.surveys().await.expect("surveys")));
    line("responses".into(), sorted(r.responses(LoadIds::survey()).await.expect("responses")));
    line("outbox".into(), format!("{:?}", r.outbox(noon(2025, 3, 1), 100).await.expect("outbox")));
    out
}

/// `Store::load` writes exactly what `Tx::apply` of each change in one unit of work writes: a
/// mixed load of every kind of change (then a second one that moves an organisation) loaded
/// into `loaded` and applied one by one into `applied` (both empty) reads back the same
/// through every read method, staff rows and reports included (R-R1). A load
/// that would overflow a group's seats is refused with `group.full`, as one change at a time
/// (R-G3), and one with a taken email with `account.email_taken` (R-A2); a refused load
/// leaves nothing. An empty load is fine and changes nothing.
pub async fn check_load(loaded: Arc<dyn Store>, applied: Arc<dyn Store>) {
    let mut got = Vec::new();
    let mut want = Vec::new();
    for (n, changes) in [load_batch(), load_followup()].into_iter().enumerate() {
        let mut tx = applied.begin().await.expect("begin");
        for change in changes.clone() {
            let what = format!("{change:?}");
            let what = what.chars().take(200).collect::<String>();
            tx.apply(change).await.unwrap_or_else(|e| panic!("load {n}: one by one, {what}: {e}"));
        }
        tx.commit().await.expect("commit");
        loaded.load(changes).await.unwrap_or_else(|e| panic!("load {n}: {e}"));
        (want, got) = (load_snapshot(&*applied).await, load_snapshot(&*loaded).await);
        assert_eq!(want.len(), got.len(), "load {n}: the same reads");
        for ((label, w), (_, g)) in want.iter().zip(&got) {
            assert_eq!(g, w, "load {n}: {label}: loaded (left) against applied one by one (right)");
        }
    }
    let group = |n| want.iter().find(|(l, _)| *l == format!("group {n}")).map(|(_, v)| v.clone()).unwrap_or_default();
    assert!(group(1).contains("capacity: 5, taken: 2"), "load: R-G3: two seats held of five: {}", group(1));
    assert!(want.iter().any(|(l, v)| l == "staff rows" && v.contains("Passed")), "load: the facts hold trainings");

    // Refusals: the same code as one change at a time, and nothing left.
    let day = NaiveDate::from_ymd_opt(2025, 5, 5).unwrap_or_default();
    let t = |n| Change::PutTerritory(Territory { id: LoadIds::territory(n), name: format!("Округ {n}") });
    let new_group = vec![
        t(3),
        Change::PutGroup(load_group(30, 2, day, false)),
        Change::TakeSeat(LoadIds::group(30)),
        Change::TakeSeat(LoadIds::group(30)),
        Change::TakeSeat(LoadIds::group(30)),
    ];
    // Group 1 holds two seats of five: four more are one too many.
    let mut full_group = vec![t(4)];
    full_group.extend((0..4).map(|_| Change::TakeSeat(LoadIds::group(1))));
    let mut twin = person("LOAD20@kadry.invalid");
    twin.id = PersonId(LoadIds::id(3, 9_999));
    let taken_email = vec![t(5), Change::PutPerson(twin)];
    for (what, batch, code_wanted) in [
        ("a new group's seats overflow (R-G3)", new_group, "group.full"),
        ("an existing group's seats overflow (R-G3)", full_group, "group.full"),
        ("a taken email (R-A2)", taken_email, "account.email_taken"),
    ] {
        let mut tx = applied.begin().await.expect("begin");
        let mut one_by_one = "ok".to_string();
        for change in batch.clone() {
            one_by_one = code(tx.apply(change).await);
            if one_by_one != "ok" {
                break;
            }
        }
        drop(tx);
        assert_eq!(one_by_one, code_wanted, "load: {what}: one by one");
        assert_eq!(code(loaded.load(batch).await), code_wanted, "load: {what}");
    }
    let after = load_snapshot(&*loaded).await;
    assert!(after == got, "load: a refused load leaves nothing");
    let mut r = loaded.read().await.expect("read");
    for n in 3..=5 {
        assert_eq!(
            r.territory(LoadIds::territory(n)).await.expect("read"),
            None,
            "load: a refused load leaves nothing"
        );
    }
    assert_eq!(r.group(LoadIds::group(30)).await.expect("read"), None, "load: a refused load leaves no group");
    drop(r);
    loaded.load(Vec::new()).await.expect("load: an empty batch");
    assert!(load_snapshot(&*loaded).await == got, "load: an empty batch changes nothing");
}

/// Runs every check of the contract, each on a fresh store from `make(check_name)`; the load
/// check ([`check_load`]) asks for a second one, `make("load_one_by_one")`, to compare with.
pub async fn run_contract<F, Fut>(make: F)
where
    F: Fn(&'static str) -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    for name in CHECKS {
        let store = make(name).await;
        match name {
            "load" => check_load(store, make("load_one_by_one").await).await,
            "prefetch" => check_prefetch(store).await,
            "year_lock" => check_year_lock(store).await,
            "slices" => check_slices(store).await,
            "staff_facts" => check_staff_facts(store).await,
            "report_scopes" => check_report_scopes(store).await,
            "surveys" => check_surveys(store).await,
            "planning_records" => check_planning_records(store).await,
            "parallel_commitments" => check_parallel_commitments(store).await,
            "catalogue" => check_catalogue(store).await,
            "unit_of_work" => check_unit_of_work(store).await,
            "constraints" => check_constraints(store).await,
            "history" => check_history(store).await,
            "outbox" => check_outbox(store).await,
            "parallel_enrolments" => check_parallel_enrolments(store).await,
            "parallel_vouchers" => check_parallel_vouchers(store).await,
            "parallel_registrations" => check_parallel_registrations(store).await,
            _ => check_crash_between_commit_and_delivery(store).await,
        }
    }
}

/// A person record for direct store checks.
pub fn person(email: &str) -> Person {
    Person {
        profile: Default::default(),
        id: PersonId(uuid::Uuid::new_v4()),
        full_name: FullName::parse("Иванова Мария Петровна").unwrap_or_else(|e| panic!("{e}")),
        email: Email::parse(email).unwrap_or_else(|e| panic!("{e}")),
        email_confirmed: true,
        snils: None,
        subject: None,
        birth_year: None,
        consent_at: noon(2025, 1, 1),
        pending_change: None,
        registered_at: noon(2025, 1, 1),
    }
}
