//! A deterministic synthetic region (feature `generate`): N workers (50 000 by default, Samara's
//! size; up to 2 700 000, all of Russia) with territories, organisations of every kind,
//! licensed providers with programs, groups (ten years of completed ones and scarce recruiting
//! ones), named education vouchers (Samara) and ten years of training history, written into any
//! [`Store`] through [`Store::load`] in batched units of work: no rule checks a generated region,
//! so a store writes each batch as fast as it can (the SQL stores with multi-row statements,
//! keeping the staff facts as they go; any other store applies the changes one by one).
//!
//! The same [`Spec`] (seed, size, region, day) gives the same region: every id is derived from
//! the seed, the kind of record and its number ([`uid`]), and every worker's attributes come
//! from a random generator seeded by the seed and the worker's number. The benchmarks, the load
//! test (`examples/load.rs`) and the demo call [`generate`]; `examples/generate.rs` is its
//! command line. See `docs/load.md`.
//!
//! What a region holds, for N workers (every person is a worker with an employment):
//! - territories: `clamp(N / 4000, 2, 2000)`, each with an education administration (kind
//!   `other`) whose first worker holds the `territory` role;
//! - in the first territory, the ministry (kind `other`): its first worker is the operator, its
//!   second the ministry official;
//! - providers: `clamp(N / 2500, 2, 1500)` licensed organisations (ДПО, universities, colleges;
//!   one in seven private), each with 4–8 approved programs of 16–108 hours, a curator holding the
//!   `provider` role, and two recruiting groups per program ([`Spec::seats`], 8–25 seats by
//!   default: scarce), voucher- or state-funded;
//! - schools (some with a structural subdivision), kindergartens, additional education and
//!   colleges sized so the staff adds up to N; every organisation's first worker is its deputy
//!   head holding `org_responsible`, its second its head;
//! - persons with valid SNILS (nine in ten), unique emails (some capitalised), confirmed, with a
//!   profile; one in five has a dismissed earlier employment (a transfer history);
//! - pedagogical workers trained every two to four years over the ten years before
//!   [`Spec::today`], each training an enrolment in a completed, state-funded group of the
//!   program's year with a certificate (or, one in twenty, a statement) numbered gap-free per
//!   provider and year, as the stores require;
//! - in Samara, issued vouchers 36 to 48 months apart (never two within the policy interval).
//!
//! Every account that may act ([`Generated::accounts`]) signs in to the example server once the
//! host stores a password for it (the load test does).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use kadry_core::error::{Error, Result};
use kadry_core::ids::*;
use kadry_core::model::*;
use kadry_core::ports::{Change, Store};
use kadry_core::types::{Email, FullName, Snils};
use kadry_core::{Region, RegionPolicy};
use uuid::Uuid;

/// The fewest workers a region may have: room for the fixed organisations.
pub const MIN_WORKERS: usize = 200;
/// The most workers a region may have: all of Russia's education workers, roughly.
pub const MAX_WORKERS: usize = 2_700_000;
/// The default size: Samara's education workers, roughly.
pub const DEFAULT_WORKERS: usize = 50_000;
/// Changes per unit of work by default.
pub const DEFAULT_BATCH: usize = 20_000;
/// The password [`Generated::accounts`] are given by hosts that store one (the load test, the
/// generator's command line).
pub const PASSWORD: &str = "kadry-load-2025";

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Workers (every person in the region), [`MIN_WORKERS`] to [`MAX_WORKERS`].
    pub workers: usize,
    /// The seed: the same seed and spec give the same region, ids included.
    pub seed: u64,
    /// The region's rules (vouchers only in Samara).
    pub region: Region,
    /// The region's "today": history lies before it, recruiting groups start after it. Run a
    /// service over the region with its clock on this day (the server's `--now`).
    pub today: NaiveDate,
    /// Changes per unit of work, each written by one [`Store::load`] (at least 1).
    pub batch: usize,
    /// The seats of each recruiting group, drawn from `seats.0..=seats.1` (default 8 to 25:
    /// scarce; at most 100 000).
    pub seats: (u32, u32),
}

impl Spec {
    /// `workers` workers from `seed`, in Samara, today [`Spec::default_today`], batches of
    /// [`DEFAULT_BATCH`].
    pub fn new(workers: usize, seed: u64) -> Spec {
        Spec {
            workers,
            seed,
            region: Region::Samara,
            today: Spec::default_today(),
            batch: DEFAULT_BATCH,
            seats: (8, 25),
        }
    }

    /// 3 March 2025, a Monday: the default "today".
    pub fn default_today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 3).unwrap_or_default()
    }

    /// Reads the seats of each recruiting group from `MIN-MAX` (the `--seats` flag of
    /// `examples/generate` and `examples/load`).
    pub fn parse_seats(v: &str) -> std::result::Result<(u32, u32), String> {
        let (low, high) = v.split_once('-').ok_or("--seats takes MIN-MAX")?;
        let low: u32 = low.trim().parse().map_err(|e| format!("--seats: {e}"))?;
        let high: u32 = high.trim().parse().map_err(|e| format!("--seats: {e}"))?;
        if low == 0 || low > high || high > 100_000 {
            return Err("--seats: need 1 <= MIN <= MAX <= 100000".into());
        }
        Ok((low, high))
    }

    fn check(&self) -> Result<()> {
        if !(MIN_WORKERS..=MAX_WORKERS).contains(&self.workers) {
            return Err(Error::InvalidInput(format!("workers must be {MIN_WORKERS} to {MAX_WORKERS}")));
        }
        let (low, high) = self.seats;
        if low == 0 || low > high || high > 100_000 {
            return Err(Error::InvalidInput("a recruiting group's seats must be 1 ≤ min ≤ max ≤ 100 000".into()));
        }
        if self.batch == 0 {
            return Err(Error::InvalidInput("the batch must hold at least one change".into()));
        }
        Ok(())
    }
}

/// A territory and its official (role `territory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenTerritory {
    /// Its id.
    pub id: TerritoryId,
    /// The official holding the `territory` role over it.
    pub official: PersonId,
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOrg {
    /// Its id.
    pub id: OrgId,
    /// Its kind.
    pub kind: OrgKind,
    /// The index of its territory in [`Generated::territories`].
    pub territory: usize,
    /// Its responsible (role `org_responsible`): its first worker.
    pub responsible: PersonId,
    /// Whether it is a licensed provider.
    pub provider: bool,
    /// Its workers: indexes `staff.0..staff.1` of [`Generated::workers`].
    pub staff: (usize, usize),
}

/// A provider with its curator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenProvider {
    /// The index of its organisation in [`Generated::orgs`].
    pub org: usize,
    /// Its curator (role `provider`).
    pub curator: PersonId,
    /// Whether it is private (R-P4).
    pub private: bool,
}

/// A program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenProgram {
    /// Its id.
    pub id: ProgramId,
    /// The index of its provider in [`Generated::providers`].
    pub provider: usize,
    /// Hours.
    pub hours: u32,
}

/// A recruiting group: starts after [`Spec::today`], few seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenGroup {
    /// Its id.
    pub id: GroupId,
    /// The index of its program in [`Generated::programs`].
    pub program: usize,
    /// Seats.
    pub capacity: u32,
    /// Funding.
    pub funding: Funding,
    /// First day.
    pub starts: NaiveDate,
}

/// A worker (every person is one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenWorker {
    /// Their id.
    pub id: PersonId,
    /// The index of their current organisation in [`Generated::orgs`].
    pub org: u32,
    /// Their current position.
    pub position: Position,
    /// Whether the position is pedagogical.
    pub pedagogical: bool,
    /// The day of their last issued voucher, if any (Samara).
    pub last_voucher: Option<NaiveDate>,
}

/// An account that may act beyond its own records, and may sign in to the example server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The person.
    pub person: PersonId,
    /// Their email (sign-in name).
    pub email: String,
    /// The role they hold.
    pub role: Role,
}

/// How many records of each kind were written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Territories.
    pub territories: usize,
    /// Organisations (subdivisions and providers included).
    pub orgs: usize,
    /// Providers.
    pub providers: usize,
    /// Programs.
    pub programs: usize,
    /// Groups: completed ones of the history and recruiting ones.
    pub groups: usize,
    /// Persons.
    pub persons: usize,
    /// Employments (current and dismissed).
    pub employments: usize,
    /// Role grants.
    pub grants: usize,
    /// Issued vouchers.
    pub vouchers: usize,
    /// Enrolments.
    pub enrollments: usize,
    /// Training records.
    pub trainings: usize,
    /// Certificates among them.
    pub certificates: usize,
    /// Changes applied.
    pub changes: usize,
    /// Units of work committed.
    pub transactions: usize,
}

/// What [`generate`] made: enough to drive a load against the region without reading it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The spec.
    pub spec: Spec,
    /// The operator (role `operator`).
    pub operator: PersonId,
    /// The ministry official (role `ministry`).
    pub ministry: PersonId,
    /// Territories.
    pub territories: Vec<GenTerritory>,
    /// Organisations.
    pub orgs: Vec<GenOrg>,
    /// Providers.
    pub providers: Vec<GenProvider>,
    /// Programs.
    pub programs: Vec<GenProgram>,
    /// Recruiting groups.
    pub groups: Vec<GenGroup>,
    /// Workers, by organisation.
    pub workers: Vec<GenWorker>,
    /// Accounts holding a role: operator, ministry, territory officials, responsibles, curators.
    pub accounts: Vec<Account>,
    /// What was written.
    pub counts: Counts,
}

impl Generated {
    /// The email of worker `index`.
    pub fn email(&self, index: usize) -> String {
        email_of(self.spec.seed, index)
    }
}

// ---------------------------------------------------------------------------------------------
// Determinism: ids and random generators from (seed, kind, number)

const K_TERRITORY: u64 = 1;
const K_ORG: u64 = 2;
const K_PERSON: u64 = 3;
const K_EMPLOYMENT: u64 = 4;
const K_PROGRAM: u64 = 5;
const K_GROUP: u64 = 6;
const K_PAST_GROUP: u64 = 7;
const K_VOUCHER: u64 = 8;
const K_ENROLLMENT: u64 = 9;
const K_RNG: u64 = 10;
const K_CODE: u64 = 11;

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn mix(seed: u64, kind: u64, n: u64) -> u64 {
    splitmix(splitmix(seed ^ kind.wrapping_mul(0xA24B_AED4_963E_E407)) ^ n)
}

/// The id of record `n` of a kind: a version-4-shaped UUID derived from the seed, so the same
/// seed gives the same ids.
pub fn uid(seed: u64, kind: u64, n: u64) -> Uuid {
    let hi = mix(seed, kind, n);
    let lo = splitmix(hi ^ 0x5851_F42D_4C95_7F2D);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn rng(seed: u64, kind: u64, n: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(mix(seed, K_RNG ^ (kind << 8), n))
}

/// The email of worker `index` of a region from `seed`: unique, case-insensitively too.
pub fn email_of(seed: u64, index: usize) -> String {
    let r = &mut rng(seed, K_PERSON, index as u64);
    let (_, _, latin) = SURNAMES[r.usize(..SURNAMES.len())];
    let local = format!("{latin}.{index}");
    // One in seven capitalised: identity is case-insensitive (R-A2).
    let local = if index % 7 == 3 { capitalise(&local) } else { local };
    format!("{local}@{}", DOMAINS[index % DOMAINS.len()])
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

/// A valid SNILS for worker `index` (first nine digits `100 000 000 + index`, past the
/// unchecked range), its check digits computed.
pub fn snils_of(index: usize) -> String {
    let nine = 100_000_000 + index as u64;
    let digits: Vec<u32> = format!("{nine:09}").bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits.iter().zip((1..=9).rev()).map(|(d, w)| d * w).sum();
    format!("{nine:09}{:02}", (sum % 101) % 100)
}

const DOMAINS: [&str; 4] = ["mail.example.ru", "school.example.ru", "edu.example.ru", "yandex.example.ru"];

/// (male form, female form, Latin stem).
const SURNAMES: [(&str, &str, &str); 24] = [
    ("Иванов", "Иванова", "ivanov"),
    ("Смирнов", "Смирнова", "smirnov"),
    ("Кузнецов", "Кузнецова", "kuznetsov"),
    ("Попов", "Попова", "popov"),
    ("Васильев", "Васильева", "vasiliev"),
    ("Петров", "Петрова", "petrov"),
    ("Соколов", "Соколова", "sokolov"),
    ("Михайлов", "Михайлова", "mikhailov"),
    ("Новиков", "Новикова", "novikov"),
    ("Фёдоров", "Фёдорова", "fedorov"),
    ("Морозов", "Морозова", "morozov"),
    ("Волков", "Волкова", "volkov"),
    ("Алексеев", "Алексеева", "alekseev"),
    ("Лебедев", "Лебедева", "lebedev"),
    ("Семёнов", "Семёнова", "semenov"),
    ("Егоров", "Егорова", "egorov"),
    ("Павлов", "Павлова", "pavlov"),
    ("Козлов", "Козлова", "kozlov"),
    ("Степанов", "Степанова", "stepanov"),
    ("Никитин", "Никитина", "nikitin"),
    ("Захаров", "Захарова", "zakharov"),
    ("Гарипов", "Гарипова", "garipov"),
    ("Хабибуллин", "Хабибуллина", "khabibullin"),
    ("Римский-Корсаков", "Римская-Корсакова", "rimsky"),
];
const MALE: [&str; 10] =
    ["Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Иван", "Олег", "Рустам", "Павел", "Михаил"];
const FEMALE: [&str; 12] = [
    "Мария",
    "Анна",
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Гульнара",
    "Юлия",
    "Дарья",
    "Екатерина",
];
const FATHERS: [(&str, &str); 8] = [
    ("Петрович", "Петровна"),
    ("Иванович", "Ивановна"),
    ("Сергеевич", "Сергеевна"),
    ("Николаевич", "Николаевна"),
    ("Викторович", "Викторовна"),
    ("Александрович", "Александровна"),
    ("Ильич", "Ильинична"),
    ("Рашидович", "Рашидовна"),
];
const SUBJECTS: [&str; 10] =
    ["math", "russian", "literature", "physics", "chemistry", "biology", "history", "english", "informatics", "music"];
const TOWNS: [&str; 12] = [
    "Тольятти",
    "Самара",
    "Сызрань",
    "Новокуйбышевск",
    "Чапаевск",
    "Отрадный",
    "Жигулёвск",
    "Кинель",
    "Похвистнево",
    "Октябрьск",
    "Нефтегорск",
    "Безенчук",
];
const TOPICS: [&str; 12] = [
    "Обновлённые ФГОС: содержание и методика",
    "Функциональная грамотность школьников",
    "Инклюзивное образование детей с ОВЗ",
    "Цифровая образовательная среда",
    "Подготовка к ГИА по предмету",
    "Воспитательная работа классного руководителя",
    "Дошкольное образование по ФОП ДО",
    "Профилактика деструктивного поведения",
    "Управление образовательной организацией",
    "Наставничество в педагогическом коллективе",
    "Оказание первой помощи",
    "Проектная деятельность обучающихся",
];
const HOURS: [u32; 5] = [16, 24, 36, 72, 108];

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn plus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_add_days(Days::new(days)).unwrap_or(d)
}

fn minus(d: NaiveDate, days: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(days)).unwrap_or(d)
}

fn morning(policy: &RegionPolicy, d: NaiveDate) -> DateTime<Utc> {
    let local = d.and_hms_opt(9, 0, 0).unwrap_or_default();
    policy.time_zone.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The layout: organisations and their sizes, providers, programs, recruiting groups

struct OrgPlan {
    kind: OrgKind,
    territory: usize,
    parent: Option<usize>,
    ownership: Ownership,
    license: bool,
    size: usize,
    name: String,
}

fn plan_orgs(spec: &Spec, territories: usize, providers: usize) -> Vec<OrgPlan> {
    let r = &mut rng(spec.seed, K_ORG, u64::MAX);
    let mut orgs = Vec::new();
    let town = |t: usize| TOWNS[t % TOWNS.len()];
    // The ministry, then one administration per territory.
    orgs.push(OrgPlan {
        kind: OrgKind::Other,
        territory: 0,
        parent: None,
        ownership: Ownership::Regional,
        license: false,
        size: 8,
        name: "Министерство образования".into(),
    });
    for t in 0..territories {
        orgs.push(OrgPlan {
            kind: OrgKind::Other,
            territory: t,
            parent: None,
            ownership: Ownership::Municipal,
            license: false,
            size: 4,
            name: format!("Управление образования ({}, округ {})", town(t), t + 1),
        });
    }
    for p in 0..providers {
        let (kind, label) = match p % 5 {
            0..=2 => (OrgKind::Dpo, "Центр ДПО"),
            3 => (OrgKind::University, "Университет"),
            _ => (OrgKind::College, "Колледж"),
        };
        let ownership = match p % 7 {
            6 => Ownership::Private,
            _ if kind == OrgKind::University => Ownership::Federal,
            _ => Ownership::Regional,
        };
        orgs.push(OrgPlan {
            kind,
            territory: p % territories,
            parent: None,
            ownership,
            license: true,
            size: 8 + r.usize(..12),
            name: format!("{label} № {} ({})", p + 1, town(p % territories)),
        });
    }
    let mut total: usize = orgs.iter().map(|o| o.size).sum();
    let mut n = 0usize;
    while total < spec.workers {
        n += 1;
        let t = r.usize(..territories);
        let (kind, size, label, ownership) = match r.u32(..100) {
            0..=44 => (OrgKind::School, 30 + r.usize(..60), "Школа", Ownership::Municipal),
            45..=74 => (OrgKind::Kindergarten, 15 + r.usize(..25), "Детский сад", Ownership::Municipal),
            75..=89 => (OrgKind::Additional, 10 + r.usize(..20), "Дом детского творчества", Ownership::Municipal),
            90..=95 => (OrgKind::College, 40 + r.usize(..60), "Техникум", Ownership::Regional),
            _ => (OrgKind::School, 25 + r.usize(..30), "Лицей", Ownership::Private),
        };
        let size = size.min(spec.workers - total).max(2);
        let index = orgs.len();
        orgs.push(OrgPlan {
            kind,
            territory: t,
            parent: None,
            ownership,
            license: false,
            size,
            name: format!("{label} № {n} ({})", town(t)),
        });
        total += size;
        // One school in twelve has a structural subdivision (R-A12): a preschool branch.
        if kind == OrgKind::School && n.is_multiple_of(12) && total + 4 <= spec.workers {
            orgs.push(OrgPlan {
                kind: OrgKind::Kindergarten,
                territory: t,
                parent: Some(index),
                ownership,
                license: false,
                size: 4,
                name: format!("Дошкольное отделение школы № {n}"),
            });
            total += 4;
        }
    }
    // Trim the last organisations so the staff adds up to exactly N (each keeps two).
    while total > spec.workers {
        let Some(last) = orgs.iter_mut().rev().find(|o| o.size > 2) else { break };
        let cut = (total - spec.workers).min(last.size - 2);
        last.size -= cut;
        total -= cut;
    }
    orgs
}

fn position_for(kind: OrgKind, nth: usize, r: &mut fastrand::Rng) -> (Position, bool) {
    match nth {
        0 => return (Position::DeputyHead, true),
        1 => return (Position::Head, false),
        _ => {}
    }
    let roll = r.u32(..100);
    match kind {
        OrgKind::School => match roll {
            0..=74 => (Position::Teacher, true),
            75..=79 => (Position::DeputyHead, true),
            80..=83 => (Position::Psychologist, true),
            84..=86 => (Position::SpeechTherapist, true),
            87..=89 => (Position::Tutor, true),
            _ => (Position::Other, false),
        },
        OrgKind::Kindergarten => match roll {
            0..=74 => (Position::Educator, true),
            75..=81 => (Position::SpeechTherapist, true),
            82..=86 => (Position::Psychologist, true),
            _ => (Position::Other, false),
        },
        OrgKind::Additional => match roll {
            0..=79 => (Position::Teacher, true),
            80..=86 => (Position::Methodist, true),
            _ => (Position::Other, false),
        },
        OrgKind::College | OrgKind::University => match roll {
            0..=79 => (Position::Teacher, true),
            80..=89 => (Position::Methodist, true),
            _ => (Position::Other, false),
        },
        OrgKind::Dpo => match roll {
            0..=69 => (Position::Methodist, true),
            _ => (Position::Other, false),
        },
        OrgKind::Other => match roll {
            0..=59 => (Position::Methodist, true),
            _ => (Position::Other, false),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: batched units of work

struct Writer<'a> {
    store: &'a dyn Store,
    batch: usize,
    pending: Vec<Change>,
    counts: Counts,
}

impl Writer<'_> {
    async fn put(&mut self, change: Change) -> Result<()> {
        let c = &mut self.counts;
        match &change {
            Change::PutTerritory(_) => c.territories += 1,
            Change::PutOrg(_) => c.orgs += 1,
            Change::PutProgram(_) => c.programs += 1,
            Change::PutGroup(_) => c.groups += 1,
            Change::PutPerson(_) => c.persons += 1,
            Change::PutEmployment(_) => c.employments += 1,
            Change::PutGrant(_) => c.grants += 1,
            Change::PutVoucher(_) => c.vouchers += 1,
            Change::PutEnrollment(_) => c.enrollments += 1,
            Change::AddTraining(t) => {
                c.trainings += 1;
                c.certificates += usize::from(t.certificate.is_some());
            }
            _ => {}
        }
        c.changes += 1;
        self.pending.push(change);
        if self.pending.len() >= self.batch { self.flush().await } else { Ok(()) }
    }

    async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // No rule checks a generated region: the store writes it as fast as it can (SQL
        // stores: multi-row statements, the staff facts once per batch).
        self.store.load(std::mem::take(&mut self.pending)).await?;
        self.counts.transactions += 1;
        Ok(())
    }
}

/// A completed group of the history, filling up.
struct PastGroup {
    id: GroupId,
    starts: NaiveDate,
    ends: NaiveDate,
    taken: u32,
}

const PAST_CAPACITY: u32 = 30;

/// Writes the region of `spec` into `store`, which must hold no region yet (no operator).
///
/// # Errors
///
/// `input.invalid` for a spec out of range, `state.invalid` when the store holds a region, and
/// whatever the store refuses (it should refuse nothing on an empty store).
pub async fn generate(store: &dyn Store, spec: &Spec) -> Result<Generated> {
    spec.check()?;
    let policy = RegionPolicy::preset(spec.region.as_str())
        .ok_or_else(|| Error::InvalidInput(format!("unknown region {}", spec.region.as_str())))?;
    {
        let mut tx = store.read().await?;
        if tx.role_exists(Role::Operator).await? {
            return Err(Error::InvalidState("the store holds a region already".into()));
        }
    }
    let seed = spec.seed;
    let today = spec.today;
    let vouchers = policy.voucher.clone();
    let n_territories = (spec.workers / 4000).clamp(2, 2000);
    let n_providers = (spec.workers / 2500).clamp(2, 1500);
    let plans = plan_orgs(spec, n_territories, n_providers);
    let mut w = Writer { store, batch: spec.batch, pending: Vec::new(), counts: Counts::default() };

    // Ids of every worker, known up front (responsibles, curators, officials are workers).
    let person = |i: usize| PersonId(uid(seed, K_PERSON, i as u64));
    let mut starts = Vec::with_capacity(plans.len());
    let mut at = 0;
    for p in &plans {
        starts.push(at);
        at += p.size;
    }
    let operator = person(starts[0]);
    let ministry = person(starts[0] + 1);

    let territories: Vec<GenTerritory> = (0..n_territories)
        .map(|t| GenTerritory { id: TerritoryId(uid(seed, K_TERRITORY, t as u64)), official: person(starts[1 + t]) })
        .collect();
    for (t, gt) in territories.iter().enumerate() {
        let name = format!("Территориальное управление {} (округ {})", TOWNS[t % TOWNS.len()], t + 1);
        w.put(Change::PutTerritory(Territory { id: gt.id, name })).await?;
    }
    let mut orgs = Vec::with_capacity(plans.len());
    let mut providers = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        let id = OrgId(uid(seed, K_ORG, i as u64));
        let license = p.license.then(|| License {
            number: format!("{}-{:04}", 63 + (i % 20), 1000 + i),
            valid_until: None,
            issued_on: Some(day(2012, 1 + (i % 12) as u32, 10)),
        });
        let org = Organisation {
            id,
            name: p.name.clone(),
            kind: p.kind,
            territory: territories[p.territory].id,
            parent: p.parent.map(|q| OrgId(uid(seed, K_ORG, q as u64))),
            license,
            ownership: p.ownership,
            closed_on: None,
        };
        w.put(Change::PutOrg(org)).await?;
        if p.license {
            providers.push(GenProvider {
                org: i,
                curator: person(starts[i]),
                private: p.ownership == Ownership::Private,
            });
        }
        orgs.push(GenOrg {
            id,
            kind: p.kind,
            territory: p.territory,
            responsible: person(starts[i]),
            provider: p.license,
            staff: (starts[i], starts[i] + p.size),
        });
    }

    // Programs and recruiting groups.
    let mut programs = Vec::new();
    let mut groups = Vec::new();
    let pr = &mut rng(seed, K_PROGRAM, u64::MAX);
    for (pi, prov) in providers.iter().enumerate() {
        for _ in 0..4 + pr.usize(..5) {
            let n = programs.len();
            let id = ProgramId(uid(seed, K_PROGRAM, n as u64));
            let hours = HOURS[pr.usize(..HOURS.len())];
            let topic = TOPICS[pr.usize(..TOPICS.len())];
            let profile_for = match pr.u32(..4) {
                0 => Audience::All,
                1 => Audience::Only(vec![Position::Educator, Position::SpeechTherapist]),
                _ => Audience::Only(vec![Position::Teacher]),
            };
            w.put(Change::PutProgram(Program {
                id,
                provider: orgs[prov.org].id,
                title: format!("{topic} ({hours} ч.)"),
                hours,
                annotation: Some(format!("Программа повышения квалификации: {}", topic.to_lowercase())),
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
                form: None,
            }))
            .await?;
            programs.push(GenProgram { id, provider: pi, hours });
            for k in 0..2 {
                let g = groups.len();
                let begins = plus(today, 14 + pr.u64(..150));
                let capacity = spec.seats.0 + pr.u32(..=spec.seats.1 - spec.seats.0);
                let funding = if vouchers.is_some() && k == 0 { Funding::Voucher } else { Funding::State };
                let id = GroupId(uid(seed, K_GROUP, g as u64));
                w.put(Change::PutGroup(Group {
                    id,
                    program: id_of_program(&programs, n),
                    provider: orgs[prov.org].id,
                    starts: begins,
                    ends: plus(begins, 4 + u64::from(hours / 8)),
                    place: TOWNS[orgs[prov.org].territory % TOWNS.len()].into(),
                    capacity,
                    taken: 0,
                    funding,
                    completed_on: None,
                    cancelled: false,
                    plan: None,
                }))
                .await?;
                groups.push(GenGroup { id, program: n, capacity, funding, starts: begins });
            }
        }
    }

    // Accounts holding roles.
    let mut accounts = Vec::new();
    let grant = |person: PersonId, role: Role, scope: Scope| {
        Change::PutGrant(RoleGrant {
            person,
            role,
            scope,
            basis: "приказ № 1-к от 09.01.2025".into(),
            granted_at: morning(&policy, minus(today, 60)),
            suspended: false,
        })
    };
    let mut grants = vec![
        (starts[0], grant(operator, Role::Operator, Scope::Region), Role::Operator),
        (starts[0] + 1, grant(ministry, Role::Ministry, Scope::Region), Role::Ministry),
    ];
    for (t, gt) in territories.iter().enumerate() {
        grants.push((starts[1 + t], grant(gt.official, Role::Territory, Scope::Territory(gt.id)), Role::Territory));
    }
    for (i, o) in orgs.iter().enumerate() {
        if i == 0 || (1..=n_territories).contains(&i) {
            continue;
        }
        let role = if o.provider { Role::Provider } else { Role::OrgResponsible };
        grants.push((o.staff.0, grant(o.responsible, role, Scope::Organisation(o.id)), role));
    }
    let mut grant_at: HashMap<usize, Vec<Change>> = HashMap::new();
    for (i, change, role) in grants {
        accounts.push(Account { person: person(i), email: email_of(seed, i), role });
        grant_at.entry(i).or_default().push(change);
    }

    // Workers, organisation by organisation, with their history.
    let history_from = today.year() - 10;
    let mut past: HashMap<(usize, i32), PastGroup> = HashMap::new();
    let mut past_groups = 0u64;
    let mut numbers: HashMap<(usize, i32), (u32, u32)> = HashMap::new();
    let mut employments = 0u64;
    let mut voucher_n = 0u64;
    let mut enrollment_n = 0u64;
    let mut workers = Vec::with_capacity(spec.workers);
    // Programs by provider, and providers the history may use (any).
    for (oi, o) in orgs.iter().enumerate() {
        for i in o.staff.0..o.staff.1 {
            let r = &mut rng(seed, K_PERSON, i as u64);
            // email_of draws the surname first: keep the same order here.
            let (male_s, female_s, _) = SURNAMES[r.usize(..SURNAMES.len())];
            let female = r.u32(..100) < 78;
            let (father_m, father_f) = FATHERS[r.usize(..FATHERS.len())];
            let name = if female {
                format!("{female_s} {} {father_f}", FEMALE[r.usize(..FEMALE.len())])
            } else {
                format!("{male_s} {} {father_m}", MALE[r.usize(..MALE.len())])
            };
            let (position, pedagogical) = position_for(o.kind, i - o.staff.0, r);
            let birth_year = today.year() - 23 - r.i32(0..42);
            let birth_date = day(birth_year, 1 + r.u32(..12), 1 + r.u32(..28));
            let career = day(birth_year + 22 + r.i32(0..3), 9, 1);
            let since_current = if career >= minus(today, 40) { minus(today, 40) } else { career };
            let id = person(i);
            let email = Email::parse(&email_of(seed, i)).map_err(|e| Error::InvalidInput(e.to_string()))?;
            let full_name = FullName::parse(&name).map_err(|e| Error::InvalidInput(e.to_string()))?;
            let snils = if r.u32(..10) == 0 {
                None
            } else {
                Some(Snils::parse(&snils_of(i)).map_err(|e| Error::InvalidInput(e.to_string()))?)
            };
            let subject = (position == Position::Teacher).then(|| SUBJECTS[r.usize(..SUBJECTS.len())].to_string());
            let registered = morning(&policy, minus(today, 30 + r.u64(..700)));
            let education = (r.u32(..10) < 8).then(|| EducationDoc {
                level: if r.bool() { EducationLevel::Higher } else { EducationLevel::SecondaryVocational },
                surname: full_name.surname().to_string(),
                series: None,
                number: format!("{:07}", r.u32(..10_000_000)),
                qualification: Some("Педагог".into()),
            });
            w.put(Change::PutPerson(Person {
                id,
                full_name,
                email,
                email_confirmed: true,
                snils,
                subject,
                birth_year: Some(birth_year),
                consent_at: registered,
                pending_change: None,
                registered_at: registered,
                profile: Profile {
                    birth_date: Some(birth_date),
                    sex: Some(if female { Sex::Female } else { Sex::Male }),
                    citizenship: Some("643".into()),
                    education,
                    experience_since: Some(career),
                    reminders_off: false,
                },
            }))
            .await?;
            // One in five came from another organisation (a transfer in the history).
            let mut current_since = since_current;
            if i - o.staff.0 >= 2 && r.u32(..5) == 0 && career < minus(today, 800) && plans.len() > n_territories + 2 {
                let other = (oi + 1 + r.usize(..plans.len() - 1)) % plans.len();
                let moved = plus(career, 365 + r.u64(..(today - career).num_days().max(800) as u64 - 400));
                let moved = moved.min(minus(today, 40));
                employments += 1;
                w.put(Change::PutEmployment(Employment {
                    id: EmploymentId(uid(seed, K_EMPLOYMENT, employments)),
                    person: id,
                    org: orgs[other].id,
                    position,
                    pedagogical,
                    status: EmploymentStatus::Dismissed,
                    since: career,
                    until: Some(minus(moved, 1)),
                    parental_leave: false,
                    category: None,
                }))
                .await?;
                current_since = moved;
            }
            employments += 1;
            w.put(Change::PutEmployment(Employment {
                id: EmploymentId(uid(seed, K_EMPLOYMENT, employments)),
                person: id,
                org: o.id,
                position,
                pedagogical,
                status: EmploymentStatus::Active,
                since: current_since,
                until: None,
                parental_leave: r.u32(..50) == 0,
                category: match r.u32(..4) {
                    0 => None,
                    1 => Some(Category::Conformity),
                    2 => Some(Category::First),
                    _ => Some(Category::Highest),
                },
            }))
            .await?;
            for g in grant_at.remove(&i).unwrap_or_default() {
                w.put(g).await?;
            }
            // Vouchers (Samara): 36 to 48 months apart, never two within the interval.
            let mut last_voucher = None;
            if let Some(vp) = &vouchers
                && (pedagogical || matches!(position, Position::Head | Position::DeputyHead))
                && r.u32(..100) < 40
            {
                let mut issued = plus(day(history_from, 1, 15), r.u64(..1500));
                while issued < minus(today, 20) {
                    voucher_n += 1;
                    w.put(Change::PutVoucher(Voucher {
                        id: VoucherId(uid(seed, K_VOUCHER, voucher_n)),
                        person: id,
                        status: VoucherStatus::Issued,
                        requested_on: Some(minus(issued, 5)),
                        approve_by: Some(issued),
                        issued_on: Some(issued),
                        valid_until: Some(RegionPolicy::add_months(issued, vp.validity_months)),
                        blocks_total: vp.blocks,
                        paper: issued.year() < 2018,
                        org: Some(o.id),
                        position: Some(position),
                        reason: None,
                        committed: None,
                    }))
                    .await?;
                    last_voucher = Some(issued);
                    let months = vp.interval_months + r.u32(..13);
                    issued = plus(RegionPolicy::add_months(issued, months), r.u64(..20));
                }
            }
            // Training history: every two to four years.
            if pedagogical && !programs.is_empty() {
                let mut year = history_from.max(career.year()) + r.i32(0..3);
                while year < today.year() {
                    let program = r.usize(..programs.len());
                    let key = (program, year);
                    let full = past.get(&key).is_none_or(|g| g.taken >= PAST_CAPACITY);
                    if full {
                        past_groups += 1;
                        let gr = &mut rng(seed, K_PAST_GROUP, past_groups);
                        let begins = day(year, 2 + gr.u32(..9), 1 + gr.u32(..20));
                        let ends = plus(begins, 4 + u64::from(programs[program].hours / 8));
                        let prov = &orgs[providers[programs[program].provider].org];
                        let g = PastGroup {
                            id: GroupId(uid(seed, K_PAST_GROUP, past_groups)),
                            starts: begins,
                            ends,
                            taken: 0,
                        };
                        w.put(Change::PutGroup(Group {
                            id: g.id,
                            program: programs[program].id,
                            provider: prov.id,
                            starts: begins,
                            ends,
                            place: TOWNS[prov.territory % TOWNS.len()].into(),
                            capacity: PAST_CAPACITY,
                            taken: 0,
                            funding: Funding::State,
                            completed_on: Some(ends),
                            cancelled: false,
                            plan: None,
                        }))
                        .await?;
                        past.insert(key, g);
                    }
                    let Some(g) = past.get_mut(&key) else { break };
                    g.taken += 1;
                    let (group, begins, ends) = (g.id, g.starts, g.ends);
                    let prog = &programs[program];
                    let prov_index = providers[prog.provider].org;
                    let series = plans[prov_index]
                        .license
                        .then(|| format!("{}-{:04}", 63 + (prov_index % 20), 1000 + prov_index));
                    let pass = r.u32(..20) != 0;
                    let (c, s) = numbers.entry((prov_index, ends.year())).or_default();
                    let certificate = if pass {
                        *c += 1;
                        Some(Certificate {
                            series: series.unwrap_or_default(),
                            number: format!("{}-{:06}", ends.year(), *c),
                            issued_on: ends,
                            code: Certificate::code_from(uid(seed, K_CODE, enrollment_n + 1)),
                        })
                    } else {
                        None
                    };
                    let statement = (!pass).then(|| {
                        *s += 1;
                        Statement { number: format!("С-{}-{:06}", ends.year(), *s), issued_on: ends }
                    });
                    enrollment_n += 1;
                    w.put(Change::TakeSeat(group)).await?;
                    w.put(Change::PutEnrollment(Enrollment {
                        id: EnrollmentId(uid(seed, K_ENROLLMENT, enrollment_n)),
                        group,
                        person: id,
                        voucher: None,
                        blocks: 0,
                        profile_blocks: 0,
                        confirmed: true,
                        status: if pass { EnrollmentStatus::Passed } else { EnrollmentStatus::Failed },
                        enrolled_at: morning(&policy, minus(begins, 20)),
                        committed: None,
                    }))
                    .await?;
                    w.put(Change::AddTraining(TrainingRecord {
                        person: id,
                        group: Some(group),
                        program: Some(prog.id),
                        program_title: format!("Программа № {}", program + 1),
                        provider: Some(orgs[prov_index].id),
                        hours: prog.hours,
                        completed_on: ends,
                        passed: pass,
                        certificate,
                        statement,
                        completed: true,
                        reason: None,
                        attended_hours: Some(prog.hours),
                        funding: Some(Funding::State),
                        source: TrainingSource::Group,
                        started_on: Some(begins),
                        document: None,
                        provider_name: None,
                    }))
                    .await?;
                    year += 2 + r.i32(0..3);
                }
            }
            workers.push(GenWorker { id, org: oi as u32, position, pedagogical, last_voucher });
        }
    }
    w.flush().await?;
    w.counts.providers = providers.len();
    Ok(Generated {
        spec: spec.clone(),
        operator,
        ministry,
        territories,
        orgs,
        providers,
        programs,
        groups,
        workers,
        accounts,
        counts: w.counts,
    })
}

fn id_of_program(programs: &[GenProgram], n: usize) -> ProgramId {
    programs[n].id
}

// ---------------------------------------------------------------------------------------------
// Invariants over a whole store

/// What the invariant checks read: the main tables of a store, whole. The memory store gives
/// it ([`MemoryStore::dump`](kadry_adapters::MemoryStore::dump)); the load test reads it from
/// SQL tables' `doc` columns.
pub use kadry_adapters::memory::Dump;

/// One notification in the outbox as the checks see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Its id.
    pub id: NotificationId,
    /// Its recipient.
    pub person: PersonId,
    /// What it announces.
    pub kind: NotificationKind,
    /// Whether the outbox marks it delivered.
    pub delivered: bool,
}

/// Checks the rules' invariants over a whole store and returns every violation found (none:
/// an empty list):
/// - R-G3: no group above its capacity, and `taken` equal to its enrolments holding a seat
///   (every status but `removed`);
/// - R-V2: no two issued vouchers of one worker within the policy's interval (when the policy
///   has vouchers); R-V3: at most one open application per worker;
/// - R-A2, R-A3: one account per email (case-insensitive) and per SNILS;
/// - R-E4: at most one current workplace per person;
/// - no enrolment in a group or of a person that does not exist;
/// - the planning cycle ([`check_plans`]): one application per worker, program and year, each
///   made inside its window (R-W1, R-W2), with a number of one's own where the region has quota
///   numbers (R-W3), and a placed application seated in its group (R-W4);
/// - quota numbers ([`check_quotas`], R-W3): one per worker and year, a year's numbers exactly
///   those issued, each move from the holder of the moment;
/// - funding ([`check_funding`], R-F1): no account above its limit, and the quota numbers'
///   commitments within the state account's use.
pub fn check_invariants(dump: &Dump, policy: &RegionPolicy) -> Vec<String> {
    use std::collections::HashSet;
    let mut out = Vec::new();
    let groups: HashMap<GroupId, &Group> = dump.groups.iter().map(|g| (g.id, g)).collect();
    let persons: HashSet<PersonId> = dump.persons.iter().map(|p| p.id).collect();
    let mut seated: HashMap<GroupId, u32> = HashMap::new();
    for e in &dump.enrollments {
        if !groups.contains_key(&e.group) {
            out.push(format!("enrolment {} in a missing group {}", e.id, e.group));
        }
        if !persons.contains(&e.person) {
            out.push(format!("enrolment {} of a missing person {}", e.id, e.person));
        }
        if e.status != EnrollmentStatus::Removed {
            *seated.entry(e.group).or_default() += 1;
        }
    }
    for g in &dump.groups {
        let n = seated.get(&g.id).copied().unwrap_or(0);
        if g.taken > g.capacity {
            out.push(format!("R-G3: group {} has {} seats taken of {}", g.id, g.taken, g.capacity));
        }
        if g.taken != n {
            out.push(format!("R-G3: group {} counts {} seats taken but {n} enrolments hold one", g.id, g.taken));
        }
    }
    let mut issued: HashMap<PersonId, Vec<NaiveDate>> = HashMap::new();
    let mut open: HashMap<PersonId, u32> = HashMap::new();
    for v in &dump.vouchers {
        match v.status {
            VoucherStatus::Issued => issued.entry(v.person).or_default().extend(v.issued_on),
            VoucherStatus::Requested => *open.entry(v.person).or_default() += 1,
            _ => {}
        }
    }
    if let Some(vp) = &policy.voucher {
        for (person, dates) in &mut issued {
            dates.sort();
            for pair in dates.windows(2) {
                if pair[1] < RegionPolicy::add_months(pair[0], vp.interval_months) {
                    out.push(format!("R-V2: worker {person} has vouchers issued {} and {}", pair[0], pair[1]));
                }
            }
        }
    }
    for (person, n) in open {
        if n > 1 {
            out.push(format!("R-V3: worker {person} has {n} open voucher applications"));
        }
    }
    let mut emails = HashSet::new();
    let mut snils = HashSet::new();
    for p in &dump.persons {
        if !emails.insert(p.email.key().to_string()) {
            out.push(format!("R-A2: two accounts with the email {}", p.email.key()));
        }
        if let Some(s) = &p.snils
            && !snils.insert(s.digits().to_string())
        {
            out.push(format!("R-A3: two accounts with the SNILS {}", s.as_str()));
        }
    }
    let mut current: HashMap<PersonId, u32> = HashMap::new();
    for e in dump.employments.iter().filter(|e| e.is_current()) {
        *current.entry(e.person).or_default() += 1;
    }
    for (person, n) in current {
        if n > 1 {
            out.push(format!("R-E4: person {person} has {n} current workplaces"));
        }
    }
    out.extend(check_plans(dump, policy));
    out.extend(check_quotas(dump));
    out.extend(check_funding(dump));
    out
}

/// The planning cycle's invariants over a dump's plan entries (applications):
/// - R-W1..R-W3: at most one application per worker, program and planning year (the decision
///   refuses a second one, the SQL stores' `kadry_plans_once` backs it);
/// - R-W1 (Samara), R-W2 (Yugra): every application made inside the region's `plan_training`
///   window for its year, on the region's local date of `planned_at`;
/// - R-W3 (regions with quota numbers, Tatarstan): every application carries a number, that
///   number is `used`, held by the applicant for the same year, and no number serves two
///   applications;
/// - R-W4: an application `placed` by forming (or an accepted offer) names its group, and the
///   worker holds a seat there.
pub fn check_plans(dump: &Dump, policy: &RegionPolicy) -> Vec<String> {
    use kadry_core::planning::{PlanStatus, QuotaStatus};
    use kadry_core::policy::WindowAction;
    use std::collections::HashSet;
    let mut out = Vec::new();
    let mut once = HashSet::new();
    let quotas: HashMap<&str, &kadry_core::planning::Quota> =
        dump.quotas.iter().map(|q| (q.number.as_str(), q)).collect();
    let mut used_by: HashMap<&str, PlanId> = HashMap::new();
    let seats = dump.seats();
    for p in &dump.plans {
        if !once.insert((p.person, p.program, p.year)) {
            out.push(format!("R-W1..R-W3: worker {} applied twice for program {} in {}", p.person, p.program, p.year));
        }
        let on = policy.local_date(p.planned_at);
        if policy.window(WindowAction::PlanTraining).is_some()
            && policy.check_window(WindowAction::PlanTraining, p.year, on).is_err()
        {
            out.push(format!("R-W1/R-W2: application {} for {} made on {on}, outside its window", p.id, p.year));
        }
        if policy.quotas {
            match p.quota.as_deref() {
                None => out.push(format!("R-W3: application {} carries no quota number", p.id)),
                Some(n) => {
                    match quotas.get(n) {
                        None => out.push(format!("R-W3: application {} names number {n}, never issued", p.id)),
                        Some(q) if q.holder != p.person || q.year != p.year || q.status != QuotaStatus::Used => out
                            .push(format!(
                                "R-W3: application {} of {} for {} names number {n}, held by {} for {} ({:?})",
                                p.id, p.person, p.year, q.holder, q.year, q.status
                            )),
                        Some(_) => {}
                    }
                    if let Some(other) = used_by.insert(n, p.id) {
                        out.push(format!("R-W3: number {n} serves two applications, {other} and {}", p.id));
                    }
                }
            }
        }
        if p.status == PlanStatus::Placed {
            match p.group {
                Some(g) if seats.contains(&(p.person, g)) => {}
                Some(g) => out.push(format!("R-W4: application {} is placed in group {g} without a seat", p.id)),
                None => out.push(format!("R-W4: application {} is placed in no group", p.id)),
            }
        }
    }
    out
}

/// Quota numbers' invariants (R-W3, Tatarstan):
/// - a number is held by one worker at a time, and a worker holds at most one number a year
///   (the SQL stores' `kadry_quotas_one_per_year` backs it);
/// - a year's numbers are exactly those of its issue: `YYYY-000001` up to the count, none
///   missing, none beyond (numbers are issued in one sequence and only move afterwards);
/// - a used number was used by its holder (checked with the applications in [`check_plans`]);
///   each move went from the holder of the moment to the next, and ends at the holder.
pub fn check_quotas(dump: &Dump) -> Vec<String> {
    use kadry_core::planning::quota_number;
    use std::collections::{BTreeMap, BTreeSet, HashSet};
    let mut out = Vec::new();
    let mut numbers = HashSet::new();
    let mut held = HashSet::new();
    let mut by_year: BTreeMap<i32, BTreeSet<&str>> = BTreeMap::new();
    for q in &dump.quotas {
        if !numbers.insert(q.number.as_str()) {
            out.push(format!("R-W3: number {} is held twice", q.number));
        }
        if !held.insert((q.holder, q.year)) {
            out.push(format!("R-W3: worker {} holds two numbers for {}", q.holder, q.year));
        }
        by_year.entry(q.year).or_default().insert(q.number.as_str());
        let mut at = q.moves.first().map_or(q.holder, |m| m.from);
        for m in &q.moves {
            if m.from != at {
                out.push(format!("R-W3: number {} moved from {} while {at} held it", q.number, m.from));
            }
            at = m.to;
        }
        if at != q.holder {
            out.push(format!("R-W3: number {} last moved to {at} but is held by {}", q.number, q.holder));
        }
    }
    for (year, set) in by_year {
        let issued: BTreeSet<String> = (1..=set.len()).map(|n| quota_number(year, n)).collect();
        for n in set {
            if !issued.contains(n) {
                out.push(format!("R-W3: number {n} lies outside the {year} issue of {} numbers", issued.len()));
            }
        }
    }
    out
}

/// Funding invariants (R-F1): no account committed beyond its limit (the SQL stores'
/// `kadry_funding_within` backs it), and the commitments carried by a year's quota numbers
/// within what the year's state account has used.
pub fn check_funding(dump: &Dump) -> Vec<String> {
    let mut out = Vec::new();
    for a in &dump.funding {
        if let Some(limit) = a.limit
            && a.used > limit
        {
            out.push(format!("R-F1: {} {:?} used {} above its limit {limit}", a.year, a.source, a.used));
        }
    }
    let mut carried: HashMap<i32, kadry_core::planning::Money> = HashMap::new();
    for q in &dump.quotas {
        *carried.entry(q.year).or_default() += q.committed;
    }
    for (year, sum) in carried {
        let used = dump
            .funding
            .iter()
            .find(|a| a.year == year && a.source == Funding::State)
            .map(|a| a.used)
            .unwrap_or_default();
        if sum > used {
            out.push(format!("R-F1: the {year} quota numbers carry {sum}, the state account has used {used}"));
        }
    }
    out
}

/// Checks the outbox (R-N1) against what a notifier delivered: ids unique in the outbox, every
/// delivered-marked notification delivered, and none delivered twice except those in
/// `may_repeat` (a relay batch in flight when a process was killed: delivery is at least once,
/// consumers dedupe by id). `deliveries` counts deliveries by id. Returns the violations.
pub fn check_deliveries(
    outbox: &[OutboxEntry],
    deliveries: &HashMap<NotificationId, u32>,
    may_repeat: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for e in outbox {
        if !seen.insert(e.id) {
            out.push(format!("R-N1: notification {} is in the outbox twice", e.id));
        }
        let n = deliveries.get(&e.id).copied().unwrap_or(0);
        if e.delivered && n == 0 {
            out.push(format!("R-N1: notification {} is marked delivered but was never delivered", e.id));
        }
        if !e.delivered && n > 0 {
            out.push(format!("R-N1: notification {} was delivered but is not marked so", e.id));
        }
    }
    for id in deliveries.keys() {
        if !seen.contains(id) {
            out.push(format!("R-N1: notification {id} was delivered but is not in the outbox"));
        }
    }
    let repeated = deliveries.values().filter(|n| **n > 1).count();
    if repeated > may_repeat {
        out.push(format!("R-N1: {repeated} notifications delivered more than once (at most {may_repeat} may be)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snils_and_emails_are_valid_and_unique() {
        let mut keys = std::collections::HashSet::new();
        for i in 0..5_000 {
            Snils::parse(&snils_of(i)).expect("a valid SNILS");
            let e = Email::parse(&email_of(7, i)).expect("a valid email");
            assert!(keys.insert(e.key().to_string()), "duplicate email {e:?}");
        }
    }

    #[test]
    fn seats_are_read_from_min_max_and_bad_ranges_refused() {
        assert_eq!(Spec::parse_seats("8-25"), Ok((8, 25)));
        assert_eq!(Spec::parse_seats(" 2000 - 2000 "), Ok((2000, 2000)));
        for bad in ["", "8", "0-5", "9-8", "1-100001", "a-b", "-5"] {
            assert!(Spec::parse_seats(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ids_are_deterministic_and_distinct() {
        assert_eq!(uid(1, K_PERSON, 5), uid(1, K_PERSON, 5));
        assert_ne!(uid(1, K_PERSON, 5), uid(2, K_PERSON, 5));
        assert_ne!(uid(1, K_PERSON, 5), uid(1, K_ORG, 5));
    }
}
