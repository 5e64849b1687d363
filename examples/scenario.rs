//! The scenario runner: `cargo run --release --example scenario -- [--storage SPEC] PATH...`
//!
//! Runs every scenario file (or folder of them) and ends with `N passed, M failed`. Exit code 0
//! when all pass, 1 when any failed, 2 when a file cannot be read or parsed (or bad usage).

use std::path::PathBuf;
use std::process::ExitCode;

use kadry::scenario::{StorageSpec, run_paths};

const USAGE: &str = "usage: scenario [--storage memory|sqlite:PATH|postgres:URL] PATH...";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut storage = StorageSpec::Memory;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--storage" => match args.next().map(|s| s.parse::<StorageSpec>()) {
                Some(Ok(s)) => storage = s,
                Some(Err(e)) => {
                    eprintln!("{e}\n{USAGE}");
                    return ExitCode::from(2);
                }
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => paths.push(PathBuf::from(a)),
        }
    }
    if paths.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    match run_paths(&paths, &storage).await {
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Ok(summary) => {
            for r in &summary.reports {
                for f in &r.failures {
                    println!("{f}");
                }
            }
            println!("{}", summary.line());
            if summary.failed() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
    }
}
