//! Property tests: random sequences of dated commands by random actors over a small Samara
//! world; after every step the invariants of the rules hold, and a refused command changes
//! nothing.

use std::collections::{HashMap, HashSet};

use kadry::core::command::Command;
use kadry::core::ids::*;
use kadry::core::model::*;
use kadry::core::policy::RegionPolicy;
use proptest::prelude::*;

use std::sync::Arc;

use kadry::adapters::faults::{FaultPoint, FaultyStore};
use kadry::{Actor, RandomIds, Service};

use crate::world::{World, at};

#[derive(Debug, Clone)]
enum Op {
    RequestVoucher(usize),
    Approve(usize),
    Reject(usize),
    Cancel(usize),
    Paper(usize, u32),
    Enroll(usize, usize),
    Remove(usize, usize),
    Confirm(usize, usize),
    Complete(usize, Vec<bool>),
    Register(usize, usize, usize),
    Dismiss(usize),
    Transfer(usize),
    Claim(usize),
    ConfirmWorkplace(usize),
    UpdateEmail(usize, usize),
    Limit(bool, u32),
    /// An enrolment by the worker themself, and a removal by the provider: the actors that
    /// may, so seats and commitments move often (R-G3, R-F1).
    SelfEnroll(usize, usize),
    ProviderRemove(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..6usize).prop_map(Op::RequestVoucher),
        3 => (0..6usize).prop_map(Op::Approve),
        1 => (0..6usize).prop_map(Op::Reject),
        1 => (0..6usize).prop_map(Op::Cancel),
        1 => (0..6usize, 0..1500u32).prop_map(|(w, d)| Op::Paper(w, d)),
        5 => (0..6usize, 0..6usize).prop_map(|(w, g)| Op::Enroll(w, g)),
        1 => (0..6usize, 0..6usize).prop_map(|(w, g)| Op::Remove(w, g)),
        1 => (0..6usize, 0..6usize).prop_map(|(w, g)| Op::Confirm(w, g)),
        2 => (0..6usize, proptest::collection::vec(any::<bool>(), 6)).prop_map(|(g, p)| Op::Complete(g, p)),
        2 => (0..4usize, 0..3usize, 0..2usize).prop_map(|(e, s, o)| Op::Register(e, s, o)),
        1 => (0..6usize).prop_map(Op::Dismiss),
        1 => (0..6usize).prop_map(Op::Transfer),
        1 => (0..6usize).prop_map(Op::Claim),
        1 => (0..6usize).prop_map(Op::ConfirmWorkplace),
        1 => (0..6usize, 0..4usize).prop_map(|(w, e)| Op::UpdateEmail(w, e)),
        1 => (any::<bool>(), 0..8u32).prop_map(|(v, n)| Op::Limit(v, n)),
        3 => (0..6usize, 0..6usize).prop_map(|(w, g)| Op::SelfEnroll(w, g)),
        2 => (0..6usize, 0..6usize).prop_map(|(w, g)| Op::ProviderRemove(w, g)),
    ]
}

const EMAILS: [&str; 4] = ["same@example.ru", "SAME@Example.RU", "other@example.ru", "w0@example.ru"];
const SNILS: [&str; 3] = ["112-233-445 95", "11223344595", "342-932-447 76"];

/// Everything observable, sorted, for "a refused command changes nothing".
fn fingerprint(w: &World) -> String {
    let d = w.store.dump();
    let mut parts: Vec<String> = Vec::new();
    let mut push = |v: Vec<String>| {
        let mut v = v;
        v.sort();
        parts.push(v.join("|"));
    };
    push(d.persons.iter().map(|x| serde_json::to_string(x).unwrap()).collect());
    push(d.groups.iter().map(|x| serde_json::to_string(x).unwrap()).collect());
    push(d.vouchers.iter().map(|x| serde_json::to_string(x).unwrap()).collect());
    push(d.enrollments.iter().map(|x| serde_json::to_string(x).unwrap()).collect());
    push(d.employments.iter().map(|x| serde_json::to_string(x).unwrap()).collect());
    parts.push(format!("outbox={} audit={}", w.store.outbox_records().len(), w.store.audit().len()));
    parts.push(format!("{:?}", w.store.funding_accounts()));
    parts.join("\n")
}

fn check_invariants(w: &World) -> Result<(), String> {
    let policy = RegionPolicy::samara();
    let vp = policy.voucher.as_ref().unwrap();
    let d = w.store.dump();
    // R-V2: never two counting vouchers within the interval.
    let mut by_person: HashMap<PersonId, Vec<chrono::NaiveDate>> = HashMap::new();
    for v in d.vouchers.iter().filter(|v| v.status == VoucherStatus::Issued) {
        by_person.entry(v.person).or_default().push(v.issued_on.unwrap());
    }
    for dates in by_person.values_mut() {
        dates.sort();
        for pair in dates.windows(2) {
            if pair[1] < RegionPolicy::add_months(pair[0], vp.interval_months) {
                return Err(format!("R-V2: vouchers issued {} and {}", pair[0], pair[1]));
            }
        }
    }
    let groups: HashMap<GroupId, &Group> = d.groups.iter().map(|g| (g.id, g)).collect();
    for v in &d.vouchers {
        let on_v: Vec<&Enrollment> =
            d.enrollments.iter().filter(|e| e.voucher == Some(v.id) && e.status.holds_blocks()).collect();
        let used: u32 = on_v.iter().map(|e| e.blocks).sum();
        let profile: u32 = on_v.iter().map(|e| e.profile_blocks).sum();
        // R-V8: never more reserved blocks than the voucher holds.
        if used > v.blocks_total {
            return Err(format!("R-V8: {used} blocks on a voucher of {}", v.blocks_total));
        }
        // R-V7: a voucher whose blocks are all taken holds a profile block.
        if used == v.blocks_total && used > 0 && profile < vp.min_profile_blocks {
            return Err("R-V7: a full voucher without a profile block".into());
        }
        // R-V6: never an enrolment on an expired voucher.
        for e in &on_v {
            if groups[&e.group].starts > v.valid_until.unwrap() {
                return Err("R-V6: enrolment in a group starting after the voucher".into());
            }
        }
    }
    // R-G3: never above capacity; seats match the enrolments holding them.
    for g in &d.groups {
        let seated =
            d.enrollments.iter().filter(|e| e.group == g.id && e.status != EnrollmentStatus::Removed).count() as u32;
        if g.taken > g.capacity || g.taken != seated {
            return Err(format!("R-G3: taken {} capacity {} seated {seated}", g.taken, g.capacity));
        }
    }
    // R-A2, R-A3: one account per email and per SNILS.
    let mut emails = HashSet::new();
    let mut snils = HashSet::new();
    for p in &d.persons {
        if !emails.insert(p.email.key().to_string()) {
            return Err(format!("R-A2: two accounts with {}", p.email));
        }
        if let Some(s) = &p.snils
            && !snils.insert(s.digits().to_string())
        {
            return Err("R-A3: two accounts with one SNILS".into());
        }
    }
    // R-F1: every account holds exactly what the live records committed, never past its limit.
    let mut committed: HashMap<(i32, Funding), kadry::core::planning::Money> = HashMap::new();
    for v in d.vouchers.iter().filter(|v| v.status == VoucherStatus::Issued) {
        if let (Some(a), Some(on)) = (v.committed, v.issued_on) {
            *committed.entry((chrono::Datelike::year(&on), Funding::Voucher)).or_default() += a;
        }
    }
    for e in d.enrollments.iter().filter(|e| e.status != EnrollmentStatus::Removed) {
        if let Some(a) = e.committed {
            *committed.entry((chrono::Datelike::year(&groups[&e.group].starts), Funding::State)).or_default() += a;
        }
    }
    for acc in w.store.funding_accounts() {
        let want = committed.remove(&(acc.year, acc.source)).unwrap_or_default();
        if acc.used != want {
            return Err(format!("R-F1: {:?} {} used {} but the records commit {want}", acc.source, acc.year, acc.used));
        }
        if acc.limit.is_some_and(|l| acc.used > l) {
            return Err(format!("R-F1: {:?} {} used {} past the limit", acc.source, acc.year, acc.used));
        }
    }
    if let Some((k, v)) = committed.into_iter().find(|(_, v)| !v.is_zero()) {
        return Err(format!("R-F1: {k:?} commits {v} with no account"));
    }
    // R-E4: at most one current workplace per person.
    let mut current: HashMap<PersonId, usize> = HashMap::new();
    for e in d.employments.iter().filter(|e| e.is_current()) {
        *current.entry(e.person).or_default() += 1;
    }
    if current.values().any(|n| *n > 1) {
        return Err("R-E4: two current workplaces".into());
    }
    Ok(())
}

/// Faults to inject while the commands run: a seed and the share of store calls that fail.
type Faults = Option<(u64, f64)>;

async fn run(ops: Vec<(u8, usize, Op)>, faults: Faults) -> Result<(), String> {
    let w = World::samara().await;
    // R-F1: a ministry with a norm and tight limits for the world's years.
    let ministry = w.ministry().await;
    let norm = kadry::core::planning::Money::new(100_050, 2);
    for year in [2025, 2026] {
        w.exec(ministry, Command::SetFinancingNorm { year, program: None, amount: norm })
            .await
            .map_err(|e| e.to_string())?;
        for source in [Funding::Voucher, Funding::State] {
            let amount = norm * kadry::core::planning::Money::from(3);
            w.exec(ministry, Command::SetFundingLimit { year, source, amount }).await.map_err(|e| e.to_string())?;
        }
    }
    // With faults, the commands go through a store that fails a share of its calls — at begin,
    // in reads, in writes, at commit and just after a commit (the reply lost) — over the same
    // memory store the invariants are read from.
    let faulty = faults.map(|(seed, rate)| FaultyStore::random(Arc::new(w.store.clone()), seed, rate, FaultPoint::ALL));
    let service = match &faulty {
        Some(f) => Service::new(RegionPolicy::samara(), Arc::new(f.clone()), w.clock.clone(), Arc::new(RandomIds)),
        None => w.service.clone(),
    };
    let audit_start = w.store.audit().len();
    let (mut committed, mut lost) = (0usize, 0usize);
    let mut now = at(2025, 1, 20);
    let actors: Vec<PersonId> =
        [w.operator, w.resps[0], w.resps[1], w.kurator].into_iter().chain(w.workers.iter().copied()).collect();
    for (advance, actor_ix, op) in ops {
        now += chrono::Duration::days(i64::from(advance));
        w.clock.set(now);
        let actor = match op {
            Op::Limit(..) => ministry,
            Op::SelfEnroll(i, _) => w.workers[i % w.workers.len()],
            Op::ProviderRemove(..) => w.kurator,
            _ => actors[actor_ix % actors.len()],
        };
        let worker = |i: usize| w.workers[i % w.workers.len()];
        let group = |i: usize| w.groups[i % w.groups.len()];
        let cmd = match op {
            Op::RequestVoucher(i) => Command::RequestVoucher { worker: worker(i) },
            Op::Approve(i) => Command::ApproveVoucher { worker: worker(i) },
            Op::Reject(i) => Command::RejectVoucher { worker: worker(i), reason: "нет".into() },
            Op::Cancel(i) => Command::CancelVoucher { worker: worker(i), reason: "дубликат".into() },
            Op::Paper(i, days) => Command::RecordPaperVoucher {
                worker: worker(i),
                issued_on: at(2022, 1, 10).date_naive() + chrono::Days::new(u64::from(days)),
            },
            Op::Enroll(i, g) | Op::SelfEnroll(i, g) => Command::Enroll { worker: worker(i), group: group(g) },
            Op::Remove(i, g) | Op::ProviderRemove(i, g) => {
                Command::RemoveFromGroup { worker: worker(i), group: group(g) }
            }
            Op::Confirm(i, g) => Command::ConfirmEnrollment { worker: worker(i), group: group(g) },
            Op::Complete(g, pass) => {
                let (passed, failed): (Vec<_>, Vec<_>) = w.workers.iter().zip(pass).partition(|(_, p)| *p);
                Command::CompleteGroup {
                    not_completed: Default::default(),
                    attendance: Default::default(),
                    group: group(g),
                    passed: passed.into_iter().map(|x| *x.0).collect(),
                    failed: failed.into_iter().map(|x| *x.0).collect(),
                }
            }
            Op::Register(e, s, o) => Command::RegisterPerson {
                full_name: "Новиков Денис Игоревич".into(),
                email: EMAILS[e].into(),
                org: w.schools[o],
                position: Position::Teacher,
                pedagogical: true,
                consent: true,
                snils: Some(SNILS[s].into()),
                subject: None,
                birth_year: None,
            },
            Op::Dismiss(i) => Command::Dismiss { person: worker(i) },
            Op::Transfer(i) => Command::Transfer { person: worker(i), to: w.schools[(i % 2) ^ 1] },
            Op::Claim(i) => {
                Command::ClaimWorkplace { org: w.schools[i % 2], position: Position::Teacher, pedagogical: None }
            }
            Op::ConfirmWorkplace(i) => Command::ConfirmWorkplace { person: worker(i) },
            Op::Limit(voucher, n) => Command::SetFundingLimit {
                year: chrono::Datelike::year(&now.date_naive()),
                source: if voucher { Funding::Voucher } else { Funding::State },
                amount: norm * kadry::core::planning::Money::from(n),
            },
            Op::UpdateEmail(i, e) => Command::UpdatePerson {
                person: worker(i),
                full_name: None,
                email: Some(EMAILS[e].into()),
                snils: None,
                subject: None,
            },
        };
        let before = fingerprint(&w);
        let audit_before = w.store.audit().len();
        let faults_before = faulty.as_ref().map_or(0, |f| f.injected().len());
        let name = cmd.name();
        let result = service.execute(Actor::Person(actor), cmd).await;
        let fault = faulty.as_ref().and_then(|f| f.injected().get(faults_before..).and_then(|x| x.last().copied()));
        match &result {
            Ok(_) => committed += 1,
            // The store committed, the reply was lost: the change is kept, audited once.
            Err(e) if e.code() == "storage.failed" && fault == Some(FaultPoint::AfterCommit) => {
                if w.store.audit().len() != audit_before + 1 {
                    return Err(format!("{name}: a commit whose reply was lost is not in the audit trail"));
                }
                lost += 1;
            }
            Err(e) => {
                if fingerprint(&w) != before {
                    return Err(format!("failed {name} ({}, fault {fault:?}) changed state", e.code()));
                }
                if e.code() == "storage.failed" && fault.is_none() {
                    return Err(format!("{name}: {e}"));
                }
            }
        }
        check_invariants(&w).map_err(|m| format!("after {name} ({result:?}): {m}"))?;
    }
    // Nothing committed is lost: every success and every commit whose reply was lost is in the
    // audit trail, and nothing else is.
    let audited = w.store.audit().len() - audit_start;
    if audited != committed + lost {
        return Err(format!("{audited} audited, {committed} committed and {lost} lost replies"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 200, ..ProptestConfig::default() })]

    /// R-V2, R-V6, R-V7, R-V8, R-G3, R-A2, R-A3, R-E4, R-F1 hold on every step; refusals change
    /// nothing.
    #[test]
    fn invariants_hold_over_random_command_sequences(ops in proptest::collection::vec((0u8..15, 0usize..10, op()), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let r = rt.block_on(run(ops, None));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }

    /// The same with one store call in 25 failing (before, inside and at commit): every
    /// invariant holds, a failed command leaves no trace, nothing committed is lost.
    #[test]
    fn invariants_hold_under_injected_faults(
        seed in any::<u64>(),
        ops in proptest::collection::vec((0u8..15, 0usize..10, op()), 1..60),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let r = rt.block_on(run(ops, Some((seed, 0.04))));
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}
