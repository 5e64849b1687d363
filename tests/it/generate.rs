//! The synthetic region generator (`kadry::generate`): a small region into memory, a SQLite
//! file and (with `KADRY_TEST_DATABASE_URL`) PostgreSQL; the same seed gives the same region;
//! the invariants hold and the service answers queries over it.

#[path = "../../examples/load/common.rs"]
mod common;

use std::sync::Arc;

use kadry::core::command::{Command, Query, QueryResult};
use kadry::generate::{Generated, Spec, check_invariants, generate};
use kadry::{Actor, Metric, RandomIds, RegionPolicy, ScopeRef, Service, ShiftedClock};

const WORKERS: usize = 500;

fn spec() -> Spec {
    Spec { batch: 700, ..Spec::new(WORKERS, 42) }
}

/// Sorts a dump so two can be compared.
fn canonical(mut d: kadry::generate::Dump) -> String {
    d.persons.sort_by_key(|p| p.id);
    d.groups.sort_by_key(|g| g.id);
    d.vouchers.sort_by_key(|v| v.id);
    d.enrollments.sort_by_key(|e| e.id);
    d.employments.sort_by_key(|e| e.id);
    format!("{:?}\n{:?}\n{:?}\n{:?}\n{:?}", d.persons, d.groups, d.vouchers, d.enrollments, d.employments)
}

/// Generates into `opened`, checks the invariants and a few queries; returns the region and
/// the canonical dump.
async fn generate_and_check(opened: &common::Opened) -> (Generated, String) {
    let store = opened.store();
    let g = generate(&*store, &spec()).await.expect("generate");
    assert_eq!(g.counts.persons, WORKERS);
    assert_eq!(g.workers.len(), WORKERS);
    assert!(g.counts.trainings > WORKERS / 2, "ten years of history: {:?}", g.counts);
    assert!(g.counts.vouchers > 0 && g.counts.groups > g.groups.len(), "{:?}", g.counts);
    let (dump, outbox) = common::dump(opened).await.expect("dump");
    assert_eq!(dump.persons.len(), WORKERS);
    assert!(outbox.is_empty());
    let violations = check_invariants(&dump, &RegionPolicy::samara());
    assert!(violations.is_empty(), "{violations:#?}");
    // A second run over the same store is refused: it holds a region already.
    let again = generate(&*store, &spec()).await.unwrap_err();
    assert_eq!(again.code(), "state.invalid");

    // The service works over it: reports, the catalogue, an enrolment into a recruiting group.
    let policy = RegionPolicy::samara();
    let clock = ShiftedClock::starting_at(chrono::TimeZone::from_utc_datetime(
        &chrono::Utc,
        &g.spec.today.and_hms_opt(7, 0, 0).unwrap(),
    ));
    let service = Service::new(policy, store, Arc::new(clock), Arc::new(RandomIds));
    let staff = service
        .query(Actor::Person(g.ministry), Query::Report { metric: Metric::Staff, scope: None })
        .await
        .expect("a report");
    let QueryResult::Report(r) = staff else { panic!("a report: {staff:?}") };
    assert!(r.value > 0, "{r:?}");
    let school = g.orgs.iter().find(|o| o.kind == kadry::core::model::OrgKind::School).expect("a school");
    let scope = Some(ScopeRef::Organisation(school.id));
    let overdue = service.query(Actor::Person(school.responsible), Query::Report { metric: Metric::PkOverdue, scope });
    overdue.await.expect("the school's responsible sees its report");
    let group = g.groups.iter().find(|x| x.funding == kadry::core::model::Funding::State).expect("a state group");
    let worker = (school.staff.0 + 2..school.staff.1).map(|i| g.workers[i]).find(|w| w.pedagogical).expect("a teacher");
    let enrol = Command::Enroll { worker: worker.id, group: group.id };
    match service.execute(Actor::Person(school.responsible), enrol).await {
        Ok(_) => {}
        // The program's audience may not fit; the refusal carries a catalogue code.
        Err(e) => assert!(e.code().starts_with("group.") || e.code().starts_with("provider."), "{e}"),
    }
    (g, canonical(dump))
}

/// R-R1, R-W3 stage 1: a SQL store's reports and eligibility selection (over its staff facts,
/// migration 0010) answer what memory's do (over the records) for the same generated region.
async fn reports_match(sql: &common::Opened, memory: &common::Opened, today: chrono::NaiveDate) {
    use chrono::Datelike;
    use kadry::core::model::Scope;
    use kadry::core::report::{Dimension as D, SliceRow, SliceSpec};
    let policy = RegionPolicy::samara();
    let spec = |group_by: Vec<D>| SliceSpec::new(&policy, Scope::Region, group_by, Vec::new(), today).unwrap();
    let mut specs: Vec<SliceSpec> = D::ALL.iter().map(|d| spec(vec![*d])).collect();
    specs.push(spec(vec![D::Territory, D::Position, D::TrainingStatus]));
    specs.push(spec(vec![D::OrgKind, D::Funding, D::VoucherStatus]));
    let sorted = |mut v: Vec<SliceRow>| {
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    };
    let mut a = sql.store().read().await.unwrap();
    let mut b = memory.store().read().await.unwrap();
    for s in &specs {
        let (x, y) = (sorted(a.slice(s).await.unwrap()), sorted(b.slice(s).await.unwrap()));
        assert!(x.iter().map(|r| r.workers).sum::<u64>() > 0, "{:?}", s.group_by);
        assert_eq!(x, y, "{:?}", s.group_by);
    }
    for year in today.year()..=today.year() + 2 {
        let (x, y) =
            (a.eligible(Scope::Region, &policy, year).await.unwrap(), b.eligible(Scope::Region, &policy, year).await);
        assert!(!x.is_empty(), "{year}");
        assert_eq!(x, y.unwrap(), "eligible in {year}");
    }
}

/// [`reports_match`], then again after the SQL store rebuilds its staff facts from the records
/// (one row per active employment): the facts kadry kept on every change are the records' own.
async fn reports_match_before_and_after_rebuild(
    sql: &common::Opened,
    memory: &common::Opened,
    active: usize,
    today: chrono::NaiveDate,
) {
    reports_match(sql, memory, today).await;
    let rebuilt = match sql {
        common::Opened::Sqlite(store) => store.rebuild_staff_facts().await.unwrap(),
        #[cfg(feature = "postgres")]
        common::Opened::Postgres(store) => store.rebuild_staff_facts().await.unwrap(),
        common::Opened::Memory(_) => panic!("a SQL store"),
    };
    assert_eq!(rebuilt, active as u64, "one row per active employment");
    reports_match(sql, memory, today).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_in_memory_is_deterministic() {
    let a = common::open("memory", None, true).await.unwrap();
    let b = common::open("memory", None, true).await.unwrap();
    let (ga, da) = generate_and_check(&a).await;
    let gb = generate(&*b.store(), &spec()).await.unwrap();
    let (db, _) = common::dump(&b).await.unwrap();
    assert_eq!(ga, gb, "same seed, same region");
    assert_eq!(da, canonical(db), "same seed, same records");
    let c = common::open("memory", None, true).await.unwrap();
    let gc = generate(&*c.store(), &Spec { seed: 43, ..spec() }).await.unwrap();
    assert_ne!(ga.workers[0].id, gc.workers[0].id, "another seed, other ids");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_in_sqlite_matches_memory() {
    let dir = std::env::temp_dir().join(format!("kadry-generate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("region.db");
    let sqlite = common::open(&format!("sqlite:{}", path.display()), None, true).await.unwrap();
    let (gs, ds) = generate_and_check(&sqlite).await;
    let memory = common::open("memory", None, true).await.unwrap();
    let gm = generate(&*memory.store(), &spec()).await.unwrap();
    let (dm, _) = common::dump(&memory).await.unwrap();
    let active = dm.employments.iter().filter(|e| e.status == kadry::core::model::EmploymentStatus::Active).count();
    assert_eq!(gs, gm);
    assert_eq!(ds, canonical(dm), "a SQLite file holds what memory holds");
    reports_match_before_and_after_rebuild(&sqlite, &memory, active, gs.spec.today).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_in_postgres_matches_memory() {
    let Some(url) = std::env::var("KADRY_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        println!("skipped: KADRY_TEST_DATABASE_URL is not set");
        return;
    };
    let pg = common::open(&format!("postgres:{url}"), Some("kadry_it_generate"), true).await.unwrap();
    let (gp, dp) = generate_and_check(&pg).await;
    let memory = common::open("memory", None, true).await.unwrap();
    let gm = generate(&*memory.store(), &spec()).await.unwrap();
    let (dm, _) = common::dump(&memory).await.unwrap();
    let active = dm.employments.iter().filter(|e| e.status == kadry::core::model::EmploymentStatus::Active).count();
    assert_eq!(gp, gm);
    assert_eq!(dp, canonical(dm), "PostgreSQL holds what memory holds");
    reports_match_before_and_after_rebuild(&pg, &memory, active, gp.spec.today).await;
}

/// Runs a region's planning work over a generated region as its users would (Yugra: an
/// application in the window; Tatarstan: the cycle to stage 6, numbers issued, an application
/// with a number, a refusal and its number reassigned, forming) and returns the store's dump.
async fn plan_a_year(opened: &common::Opened, region: kadry::core::Region) -> (Generated, kadry::generate::Dump) {
    use kadry::core::planning::Money;
    let store = opened.store();
    let g = generate(&*store, &Spec { region, ..spec() }).await.expect("generate");
    let policy = RegionPolicy::preset(region.as_str()).unwrap();
    let clock = ShiftedClock::starting_at(chrono::TimeZone::from_utc_datetime(
        &chrono::Utc,
        &g.spec.today.and_hms_opt(7, 0, 0).unwrap(),
    ));
    let service = Service::new(policy, store, Arc::new(clock), Arc::new(RandomIds));
    let year = RegionPolicy::default_planning_year(g.spec.today);
    let (operator, ministry) = (Actor::Person(g.operator), Actor::Person(g.ministry));
    let run = |actor: Actor, c: Command| {
        let s = service.clone();
        async move { s.execute(actor, c).await }
    };
    if region == kadry::core::Region::Tatarstan {
        for stage in 0..6 {
            if stage == 2 {
                let amount: Money = "12000".parse().unwrap();
                run(ministry, Command::SetFinancingNorm { year, program: None, amount }).await.expect("norm");
                let amount: Money = "100000000".parse().unwrap();
                let source = kadry::core::model::Funding::State;
                run(ministry, Command::SetFundingLimit { year, source, amount }).await.expect("limit");
            }
            if stage == 5 {
                run(operator, Command::IssueQuotas { year }).await.expect("numbers");
            }
            run(operator, Command::AdvanceStage { year }).await.expect("advance");
        }
    }
    // Applications: every worker of the first schools, for the first program that fits.
    let mut applied = 0;
    let mut refused = false;
    for o in g.orgs.iter().filter(|o| o.kind == kadry::core::model::OrgKind::School).take(3) {
        let resp = Actor::Person(o.responsible);
        for w in (o.staff.0 + 2..o.staff.1).map(|i| g.workers[i]).filter(|w| w.pedagogical) {
            let quota = match service.query(resp, Query::ShowQuota { worker: w.id, year }).await {
                Ok(QueryResult::Quota(q)) if q.status == "assigned" => Some(q.number),
                _ if region == kadry::core::Region::Tatarstan => continue,
                _ => None,
            };
            if let (Some(number), false) = (&quota, refused) {
                // One refusal, its number reassigned to a colleague without one.
                run(resp, Command::RefuseQuota { worker: w.id, year }).await.expect("refusal");
                for c in (o.staff.0 + 2..o.staff.1).map(|i| g.workers[i]) {
                    let to = c.id;
                    if run(resp, Command::ReassignQuota { number: number.clone(), to }).await.is_ok() {
                        refused = true;
                        break;
                    }
                }
                continue;
            }
            for p in &g.programs {
                let c = Command::PlanTraining {
                    worker: w.id,
                    program: p.id,
                    year,
                    place: None,
                    period: Some(1),
                    quota: quota.clone(),
                };
                if run(resp, c).await.is_ok() {
                    applied += 1;
                    break;
                }
            }
        }
    }
    assert!(applied >= 3, "{} applications in {}", applied, region.as_str());
    if region == kadry::core::Region::Tatarstan {
        assert!(refused, "a number was refused and reassigned");
        run(operator, Command::FormGroups { year }).await.expect("forming");
    }
    let (dump, _) = common::dump(opened).await.expect("dump");
    (g, dump)
}

/// Spoils a copy of `dump` with `spoil` and asserts that `check_invariants` reports it: a
/// violation that names `rule` and says `what`.
fn spoiled(
    dump: &kadry::generate::Dump,
    region: &str,
    spoil: impl Fn(&mut kadry::generate::Dump),
    (rule, what): (&str, &str),
) {
    let mut bad = dump.clone();
    spoil(&mut bad);
    let found = check_invariants(&bad, &RegionPolicy::preset(region).unwrap());
    let caught = found.iter().any(|v| v.starts_with(rule) && v.contains(what));
    assert!(caught, "{region}: no {rule} violation saying {what:?}: {found:#?}");
}

/// R-W2, R-W4: Yugra's applications are once per worker, program and year, and inside the
/// window; each check catches its violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yugra_applications_hold_their_invariants_and_the_checks_catch_violations() {
    let memory = common::open("memory", None, true).await.unwrap();
    let (_, dump) = plan_a_year(&memory, kadry::core::Region::Yugra).await;
    assert!(!dump.plans.is_empty() && dump.quotas.is_empty());
    let ok = check_invariants(&dump, &RegionPolicy::yugra());
    assert!(ok.is_empty(), "{ok:#?}");
    // R-W1..R-W3: the same application twice.
    spoiled(&dump, "yugra", |d| d.plans.push(d.plans[0].clone()), ("R-W1..R-W3", "applied twice"));
    // R-W2: an application made on 16 October, after the window closed.
    spoiled(
        &dump,
        "yugra",
        |d| d.plans[0].planned_at = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 10, 16, 8, 0, 0).unwrap(),
        ("R-W1/R-W2", "outside its window"),
    );
    // R-W4: an application placed in a group without a seat there.
    spoiled(
        &dump,
        "yugra",
        |d| {
            d.plans[0].status = kadry::core::planning::PlanStatus::Placed;
            d.plans[0].group = d.groups.iter().find(|g| g.taken == 0).map(|g| g.id);
        },
        ("R-W4", "without a seat"),
    );
}

/// R-W3, R-W4, R-F1: Tatarstan's cycle at stage 6 over a generated region holds its
/// invariants in memory, SQLite and (with `KADRY_TEST_DATABASE_URL`) PostgreSQL; each check
/// catches its violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tatarstan_numbers_hold_their_invariants_and_the_checks_catch_violations() {
    let memory = common::open("memory", None, true).await.unwrap();
    let (_, dump) = plan_a_year(&memory, kadry::core::Region::Tatarstan).await;
    check_tatarstan(&dump);
    // The same over SQLite: the dump reads applications, numbers and funding back.
    let dir = std::env::temp_dir().join(format!("kadry-generate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = common::open(&format!("sqlite:{}", dir.join("region.db").display()), None, true).await.unwrap();
    let (_, sql_dump) = plan_a_year(&sqlite, kadry::core::Region::Tatarstan).await;
    assert_eq!(sql_dump.quotas.len(), dump.quotas.len(), "the same numbers issued");
    assert_eq!(sql_dump.funding.len(), dump.funding.len());
    check_tatarstan(&sql_dump);
    let _ = std::fs::remove_dir_all(&dir);
    // And over PostgreSQL, when there is one.
    #[cfg(feature = "postgres")]
    if let Some(url) = std::env::var("KADRY_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        let pg = common::open(&format!("postgres:{url}"), Some("kadry_it_generate_tatarstan"), true).await.unwrap();
        let (_, pg_dump) = plan_a_year(&pg, kadry::core::Region::Tatarstan).await;
        assert_eq!(pg_dump.quotas.len(), dump.quotas.len(), "the same numbers issued");
        check_tatarstan(&pg_dump);
    }
}

fn check_tatarstan(dump: &kadry::generate::Dump) {
    use kadry::core::planning::{PlanStatus, QuotaStatus};
    let ok = check_invariants(dump, &RegionPolicy::tatarstan());
    assert!(ok.is_empty(), "{ok:#?}");
    assert!(!dump.quotas.is_empty() && !dump.plans.is_empty() && !dump.funding.is_empty());
    assert!(dump.quotas.iter().any(|q| !q.moves.is_empty()), "a number moved");
    assert!(dump.plans.iter().all(|p| p.quota.is_some()));
    let t = "tatarstan";
    let other = dump.quotas.iter().position(|q| q.status == QuotaStatus::Assigned).expect("an unused number");
    // R-W3: an application without a number, with another's number, a number used twice.
    spoiled(dump, t, |d| d.plans[0].quota = None, ("R-W3", "carries no quota number"));
    spoiled(dump, t, |d| d.plans[0].quota = Some(d.quotas[other].number.clone()), ("R-W3", "(Assigned)"));
    spoiled(dump, t, |d| d.plans[0].quota = Some("2026-999999".into()), ("R-W3", "never issued"));
    spoiled(
        dump,
        t,
        |d| {
            let mut twice = d.plans[0].clone();
            twice.program = d.plans.iter().find(|p| p.program != twice.program).map_or(twice.program, |p| p.program);
            twice.id = kadry::core::ids::PlanId(uuid::Uuid::new_v4());
            if twice.program == d.plans[0].program {
                twice.year += 1;
            }
            d.plans.push(twice);
        },
        ("R-W3", "serves two applications"),
    );
    // R-W3: one worker holding two numbers; a number beyond the issue; a move from a worker
    // who did not hold it; a number held twice.
    spoiled(
        dump,
        t,
        |d| {
            let holder = d.quotas[usize::from(other == 0)].holder;
            d.quotas[other].holder = holder;
        },
        ("R-W3", "holds two numbers"),
    );
    spoiled(dump, t, |d| d.quotas[other].number = "2026-999999".into(), ("R-W3", "lies outside the 2026 issue"));
    spoiled(
        dump,
        t,
        |d| {
            let q = d.quotas.iter_mut().find(|q| !q.moves.is_empty()).unwrap();
            q.moves[0].to = q.moves[0].from;
        },
        ("R-W3", "last moved to"),
    );
    spoiled(
        dump,
        t,
        |d| {
            // A second move from someone who did not hold the number then.
            let q = d.quotas.iter_mut().find(|q| !q.moves.is_empty()).unwrap();
            let mut again = q.moves[0].clone();
            (again.from, again.to) = (again.by, q.holder);
            q.moves.push(again);
        },
        ("R-W3", "while"),
    );
    spoiled(dump, t, |d| d.quotas.push(d.quotas[other].clone()), ("R-W3", "is held twice"));
    // R-W4: a placed application without its seat.
    spoiled(
        dump,
        t,
        |d| {
            let empty = d.groups.iter().find(|g| g.taken == 0).expect("an empty group").id;
            let p = d.plans.iter_mut().find(|p| p.status == PlanStatus::Placed).expect("forming placed someone");
            p.group = Some(empty);
        },
        ("R-W4", "without a seat"),
    );
    // R-F1: an account above its limit; numbers carrying more than the account used.
    spoiled(
        dump,
        t,
        |d| {
            let a = &mut d.funding[0];
            a.used = a.limit.unwrap() + kadry::core::planning::Money::ONE;
        },
        ("R-F1", "above its limit"),
    );
    spoiled(
        dump,
        t,
        |d| d.funding.iter_mut().for_each(|a| a.used = Default::default()),
        ("R-F1", "quota numbers carry"),
    );
}
