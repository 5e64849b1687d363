//! The synthetic region generator's command line (`kadry::generate`, docs/load.md).
//!
//! ```sh
//! cargo run --release --example generate -- --workers 50000 --seed 1 --storage sqlite:region.db
//! cargo run --release --example generate -- --workers 2700000 --storage postgres:postgres://postgres@127.0.0.1/kadry_load
//! ```
//!
//! Flags: `--workers N` (default 50 000), `--seed S` (default 1), `--storage
//! memory|sqlite:PATH|postgres:URL` (default `memory`; a SQLite file is replaced),
//! `--schema NAME` (PostgreSQL: a fresh schema of that name), `--region
//! samara|yugra|tatarstan` (default `samara`), `--today YYYY-MM-DD` (default 2025-03-03),
//! `--batch N` (changes per unit of work, default 20 000), `--seats MIN-MAX` (seats of each
//! recruiting group, default 8-25), `--passwords` (give every account
//! holding a role the password `kadry-load-2025` for the example server; SQL stores only).
//! Prints the counts and the time; exits 2 on a bad flag, 1 on a failure.

#[path = "load/common.rs"]
mod common;

use std::time::Instant;

use kadry::Region;
use kadry::generate::{PASSWORD, Spec, generate};

const USAGE: &str = "usage: generate [--workers N] [--seed S] [--storage memory|sqlite:PATH|postgres:URL] [--schema NAME] \
                     [--region samara|yugra|tatarstan] [--today YYYY-MM-DD] [--batch N] [--seats MIN-MAX] [--passwords]";

struct Args {
    spec: Spec,
    storage: String,
    schema: Option<String>,
    passwords: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        spec: Spec::new(kadry::generate::DEFAULT_WORKERS, 1),
        storage: "memory".into(),
        schema: None,
        passwords: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--workers" => a.spec.workers = value("--workers")?.parse().map_err(|e| format!("--workers: {e}"))?,
            "--seed" => a.spec.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--storage" => a.storage = value("--storage")?,
            "--schema" => a.schema = Some(value("--schema")?),
            "--region" => {
                a.spec.region = match value("--region")?.as_str() {
                    "samara" => Region::Samara,
                    "yugra" => Region::Yugra,
                    "tatarstan" => Region::Tatarstan,
                    other => return Err(format!("--region: unknown region {other}")),
                }
            }
            "--today" => {
                let v = value("--today")?;
                a.spec.today =
                    chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|e| format!("--today: {e}"))?;
            }
            "--seats" => a.spec.seats = kadry::generate::Spec::parse_seats(&value("--seats")?)?,
            "--batch" => a.spec.batch = value("--batch")?.parse().map_err(|e| format!("--batch: {e}"))?,
            "--passwords" => a.passwords = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    let range = kadry::generate::MIN_WORKERS..=kadry::generate::MAX_WORKERS;
    if !range.contains(&a.spec.workers) {
        return Err(format!("--workers must be {} to {}", range.start(), range.end()));
    }
    if a.spec.batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("generate: {e}");
            }
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(a).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(a: Args) -> Result<(), String> {
    let opened = common::open(&a.storage, a.schema.as_deref(), true).await?;
    let start = Instant::now();
    let g = generate(&*opened.store(), &a.spec).await.map_err(|e| format!("{} ({})", e, e.code()))?;
    let took = start.elapsed();
    let c = g.counts;
    println!(
        "generated region {} seed {} today {} into {}: {} workers, {} territories, {} organisations ({} providers), \
         {} programs, {} groups ({} recruiting), {} employments, {} grants, {} vouchers, {} enrolments, {} trainings \
         ({} certificates); {} changes in {} units of work, {:.1} s ({:.0} changes/s)",
        a.spec.region.as_str(),
        a.spec.seed,
        a.spec.today,
        a.storage,
        c.persons,
        c.territories,
        c.orgs,
        c.providers,
        c.programs,
        c.groups,
        g.groups.len(),
        c.employments,
        c.grants,
        c.vouchers,
        c.enrollments,
        c.trainings,
        c.certificates,
        c.changes,
        c.transactions,
        took.as_secs_f64(),
        c.changes as f64 / took.as_secs_f64().max(1e-9),
    );
    if a.passwords {
        let n = common::store_passwords(&opened, &g.accounts, PASSWORD).await?;
        println!("passwords: {n} accounts sign in with {PASSWORD:?} (e.g. operator {})", g.email(g.orgs[0].staff.0));
    }
    Ok(())
}
