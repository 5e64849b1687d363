//! Runs the project's own scenarios (`tests/scenarios/`) and, when present, the shared
//! conformance suite (`../shared/spec/scenarios/`), each on the in-memory store.

use std::path::{Path, PathBuf};

use kadry::scenario::{StorageSpec, run_paths};

async fn run_folder(dir: &Path) {
    let summary = run_paths(&[dir.to_path_buf()], &StorageSpec::Memory).await.unwrap_or_else(|e| panic!("{e}"));
    let failures: Vec<String> =
        summary.reports.iter().flat_map(|r| r.failures.iter().map(ToString::to_string)).collect();
    assert!(!summary.reports.is_empty(), "no scenarios in {}", dir.display());
    assert!(failures.is_empty(), "{}\n{}", failures.join("\n"), summary.line());
    println!("{}: {}", dir.display(), summary.line());
}

#[tokio::test]
async fn own_scenarios_pass() {
    run_folder(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")).await;
}

#[tokio::test]
async fn shared_conformance_suite_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/scenarios");
    if !dir.is_dir() {
        println!("skipped: {} is absent", dir.display());
        return;
    }
    run_folder(&dir).await;
}

#[tokio::test]
async fn a_broken_file_is_a_parse_error_with_its_line() {
    let dir = tempdir();
    let f = dir.join("broken.toml");
    std::fs::write(
        &f,
        "title = \"x\"\npolicy = \"samara\"\n[[step]]\nby = \"operator\"\ndo = \"register_territory\"\n",
    )
    .unwrap();
    let err = run_paths(&[f], &StorageSpec::Memory).await.unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
    assert!(err.to_string().contains("at"), "{err}");
}

#[tokio::test]
async fn a_wrong_expectation_fails_with_file_step_expected_and_got() {
    let dir = tempdir();
    let f = dir.join("wrong.toml");
    std::fs::write(
        &f,
        r#"title = "wrong"
policy = "samara"
[[step]]
at = "2025-01-13T09:00"
by = "operator"
do = "register_territory"
with = { id = "t", name = "Тольятти" }
expect = "access.denied"
"#,
    )
    .unwrap();
    let summary = run_paths(&[f], &StorageSpec::Memory).await.unwrap();
    assert_eq!(summary.line(), "0 passed, 1 failed");
    let failure = summary.reports[0].failures[0].to_string();
    assert!(failure.contains("wrong.toml:3: step 1 (register_territory): expected access.denied, got ok"), "{failure}");
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("kadry-it-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
