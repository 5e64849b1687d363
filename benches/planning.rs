//! Planning at scale (issue 5, item 10): forming groups from 500 000 applications across 2 000
//! programs and 60 municipalities, and selecting the workers due for planned training among
//! 1 000 000 workers with 3 000 000 training records.
//!
//! Both are kadry-core's pure functions on data already in memory (the stores hand them the
//! rows): `planning::form_groups` and `planning::eligible`. The eligibility measurement
//! includes folding the 3 000 000 training records into each worker's last passed training,
//! the work a store does when it builds the rows (`Tx::staff_rows`). Beside each, in the same
//! run, a plain loop over the same data gives the floor: for eligibility, the count of due
//! workers with no record kept; for forming, bucketing the applications by program, place and
//! quarter and counting.
//!
//! Data are generated deterministically (a fixed linear congruential sequence), outside the
//! timed region: each program is offered in three of the 60 municipalities, a fifth of the
//! applicants name no quarter, a third of the programs cap their places; a fifth of the
//! training records are failures; 1 in 20 workers is not pedagogical, 1 in 50 on parental leave. Run: `cargo bench --bench planning`. Figures: `docs/performance.md`.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use kadry::core::RegionPolicy;
use kadry::core::ids::*;
use kadry::core::model::{Employment, EmploymentStatus, OrgKind, Position};
use kadry::core::planning::{self, FormingApp, FormingLimits};
use kadry::core::ports::StaffRow;
use uuid::Uuid;

/// A deterministic pseudo-random sequence (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const APPLICATIONS: usize = 500_000;
const PROGRAMS: u64 = 2_000;
const PLACES: u64 = 60;
const WORKERS: usize = 1_000_000;
const TRAININGS: usize = 3_000_000;

fn forming_input() -> (Vec<FormingApp>, BTreeMap<ProgramId, FormingLimits>) {
    let mut r = Lcg(20_251_124);
    let apps = (0..APPLICATIONS)
        .map(|i| {
            let id = PlanId(Uuid::from_u128(i as u128 + 1));
            let period = match r.next(5) {
                0 => None,
                q => Some(q as u8),
            };
            // A program is offered in three neighbouring municipalities; applicants pick one.
            let program = r.next(PROGRAMS);
            let place = (program * 7 + r.next(3)) % PLACES;
            FormingApp {
                id,
                program: ProgramId(Uuid::from_u128(u128::from(program) + 1)),
                place: TerritoryId(Uuid::from_u128(u128::from(place) + 1)),
                period,
                order: (
                    DateTime::<Utc>::from_timestamp(1_750_000_000 + r.next(10_000_000) as i64, 0).unwrap_or_default(),
                    id,
                ),
            }
        })
        .collect();
    let limits = (0..PROGRAMS)
        .map(|p| {
            let min = 5 + r.next(6) as u32;
            let places = if r.next(3) == 0 { Some(100 + r.next(200) as u32) } else { None };
            (
                ProgramId(Uuid::from_u128(u128::from(p) + 1)),
                FormingLimits { min, max: 20 + r.next(11) as u32, places, available: true },
            )
        })
        .collect();
    (apps, limits)
}

/// One training record as a store holds it: the worker (an index), its last day, pass or fail.
struct Record {
    worker: u32,
    completed_on: NaiveDate,
    passed: bool,
}

fn eligibility_input() -> (Vec<Employment>, Vec<Record>) {
    let mut r = Lcg(42);
    let since = NaiveDate::from_ymd_opt(2010, 9, 1).unwrap_or_default();
    let employments = (0..WORKERS)
        .map(|i| Employment {
            category: Default::default(),
            id: EmploymentId(Uuid::from_u128(i as u128 + 1)),
            person: PersonId(Uuid::from_u128(i as u128 + 1)),
            org: OrgId(Uuid::from_u128(u128::from(r.next(30_000)) + 1)),
            position: if r.next(10) < 7 { Position::Teacher } else { Position::Educator },
            pedagogical: r.next(20) != 0,
            status: EmploymentStatus::Active,
            since,
            until: None,
            parental_leave: r.next(50) == 0,
        })
        .collect();
    let base = NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or_default();
    let trainings = (0..TRAININGS)
        .map(|_| Record {
            worker: r.next(WORKERS as u64) as u32,
            completed_on: base + chrono::Days::new(r.next(3_650)),
            passed: r.next(10) != 0,
        })
        .collect();
    (employments, trainings)
}

/// The rows a store builds: each worker's employment and last passed training.
fn rows(employments: &[Employment], trainings: &[Record]) -> Vec<StaffRow> {
    let mut last: Vec<Option<NaiveDate>> = vec![None; employments.len()];
    for t in trainings.iter().filter(|t| t.passed) {
        let slot = &mut last[t.worker as usize];
        if slot.is_none_or(|d| d < t.completed_on) {
            *slot = Some(t.completed_on);
        }
    }
    employments
        .iter()
        .zip(last)
        .map(|(e, last_passed_on)| StaffRow {
            person: Default::default(),
            passed: Default::default(),
            employment: e.clone(),
            org_kind: OrgKind::School,
            territory: TerritoryId(Uuid::from_u128(1)),
            last_passed_on,
            vouchers: Vec::new(),
            voucher_enrollments: Vec::new(),
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let policy = RegionPolicy::tatarstan();
    let (apps, limits) = forming_input();
    let mut g = c.benchmark_group("planning");
    g.sample_size(10);
    g.bench_function("form_groups/500k_applications_2000_programs_60_places", |b| {
        b.iter(|| black_box(planning::form_groups(black_box(&apps), &limits)))
    });
    g.bench_function("form_groups/baseline_bucket_and_count", |b| {
        b.iter(|| {
            let mut cells: HashMap<(ProgramId, TerritoryId, Option<u8>), u32> = HashMap::new();
            for a in black_box(&apps) {
                *cells.entry((a.program, a.place, a.period)).or_default() += 1;
            }
            black_box(cells.len())
        })
    });
    let (employments, trainings) = eligibility_input();
    let prepared = rows(&employments, &trainings);
    g.bench_function("eligible/1m_workers_rows_ready", |b| {
        b.iter(|| black_box(planning::eligible(&policy, black_box(&prepared), 2026).len()))
    });
    g.bench_function("eligible/1m_workers_3m_trainings_folded", |b| {
        b.iter(|| {
            let rows = rows(black_box(&employments), black_box(&trainings));
            black_box(planning::eligible(&policy, &rows, 2026).len())
        })
    });
    g.bench_function("eligible/baseline_plain_loop_count", |b| {
        let end = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default();
        b.iter(|| {
            let mut last: Vec<Option<NaiveDate>> = vec![None; employments.len()];
            for t in black_box(&trainings).iter().filter(|t| t.passed) {
                let slot = &mut last[t.worker as usize];
                if slot.is_none_or(|d| d < t.completed_on) {
                    *slot = Some(t.completed_on);
                }
            }
            let due = employments
                .iter()
                .zip(&last)
                .filter(|(e, _)| e.pedagogical && !e.parental_leave)
                .filter(|(_, l)| l.is_none_or(|d| RegionPolicy::add_months(d, 36) <= end))
                .count();
            black_box(due)
        })
    });
    g.finish();
    // The sizes measured, once, for the record.
    let f = planning::form_groups(&apps, &limits);
    let placed: usize = f.groups.iter().map(|g| g.members.len()).sum();
    println!(
        "forming: {} applications -> {} groups, {} placed, {} unplaced; eligible: {} of {} workers",
        apps.len(),
        f.groups.len(),
        placed,
        f.unplaced.len(),
        planning::eligible(&policy, &prepared, 2026).len(),
        prepared.len()
    );
}

criterion_group!(planning_benches, benches);
criterion_main!(planning_benches);
