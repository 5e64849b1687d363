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
