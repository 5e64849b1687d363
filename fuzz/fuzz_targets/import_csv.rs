//! The staff-list CSV import (`kadry::import`): arbitrary bytes → rows or coded errors, never a
//! panic. The bytes are parsed, then imported (all or none) into a small seeded region on the
//! in-memory store; every error, the file's own or the service's, must carry a catalogue code.
#![no_main]

use kadry::import::{import_staff, parse_staff_csv};
use kadry_fuzz::{Region, is_catalogued, runtime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = parse_staff_csv(data);
    for e in &parsed.errors {
        assert!(is_catalogued(&e.code), "uncatalogued code {:?}: {e:?}", e.code);
        assert!(e.line >= 1, "line 0: {e:?}");
        assert!(!e.message.is_empty() && !e.message_ru.is_empty(), "no message: {e:?}");
    }
    assert!(parsed.staff.len() <= parsed.rows, "{} good rows of {}", parsed.staff.len(), parsed.rows);
    if parsed.errors.is_empty() {
        assert_eq!(parsed.staff.len(), parsed.rows, "a clean file registers every row");
    }
    let dry_run = data.first().is_some_and(|b| b & 1 == 1);
    runtime().block_on(async {
        let region = Region::seed().await;
        let report = import_staff(&region.service, region.operator, region.school, data, dry_run).await;
        let report = report.unwrap_or_else(|e| panic!("the operator's import failed: {} {e}", kadry::Error::code(&e)));
        for e in &report.errors {
            assert!(is_catalogued(&e.code), "uncatalogued code {:?}: {e:?}", e.code);
        }
        assert_eq!(report.rows, parsed.rows);
        if dry_run || !report.errors.is_empty() {
            assert_eq!(report.imported, 0, "all or none");
        } else {
            assert_eq!(report.imported, parsed.rows, "all or none");
        }
    });
});
