//! Helpers shared by kadry's fuzz targets (`fuzz_targets/`): the error-code catalogue every
//! refusal must come from, and a small seeded region on the in-memory store.

use std::sync::{Arc, OnceLock};

use chrono::{TimeZone, Utc};
use kadry::core::command::Command;
use kadry::core::ids::{OrgId, TerritoryId};
use kadry::core::model::{OrgKind, Ownership};
use kadry::core::ports::{ManualClock, SequentialIds};
use kadry::{Actor, MemoryStore, RegionPolicy, Service};

/// The catalogue of error codes: the first column of the table in `docs/errors.md` (the rules'
/// codes and kadry's `storage.*`), read at build time so that it never drifts from the docs.
pub fn catalogue() -> &'static [String] {
    static CODES: OnceLock<Vec<String>> = OnceLock::new();
    CODES.get_or_init(|| {
        include_str!("../../docs/errors.md")
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`').map(|(code, _)| code.to_string()))
            .collect()
    })
}

/// Whether `code` is in the catalogue ([`catalogue`]).
pub fn is_catalogued(code: &str) -> bool {
    catalogue().iter().any(|c| c == code)
}

/// A current-thread tokio runtime, one per fuzzing process.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime"))
}

/// A small region on a fresh in-memory store (Samara policy, a fixed clock, sequential ids):
/// the operator, one territory and one school.
pub struct Region {
    /// The service.
    pub service: Service,
    /// The regional operator.
    pub operator: Actor,
    /// The school staff lists are imported into.
    pub school: OrgId,
}

impl Region {
    /// Seeds the region; deterministic, so a crashing input replays the same way.
    pub async fn seed() -> Region {
        let policy = RegionPolicy::preset("samara").expect("the samara preset");
        let at = Utc.with_ymd_and_hms(2025, 2, 3, 6, 0, 0).single().expect("a valid instant");
        let service = Service::new(
            policy,
            Arc::new(MemoryStore::new()),
            Arc::new(ManualClock::new(at)),
            Arc::new(SequentialIds::default()),
        );
        let op = service.bootstrap_operator("Оператор Центра Тестов", "op@fuzz.kadry.ru", "регламент").await;
        let operator = Actor::Person(op.expect("the operator"));
        let created = |c| {
            let service = service.clone();
            async move { service.execute(operator, c).await.ok().and_then(|o| o.created()).expect("seeded") }
        };
        let territory = TerritoryId(created(Command::RegisterTerritory { name: "Тольятти".into() }).await);
        let school = OrgId(
            created(Command::RegisterOrg {
                name: "МБУ «Школа № 1»".into(),
                kind: OrgKind::School,
                territory,
                parent: None,
                license: None,
                ownership: Some(Ownership::Municipal),
            })
            .await,
        );
        Region { service, operator, school }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalogue_is_read_from_the_docs() {
        let codes = super::catalogue();
        assert!(codes.len() > 30, "{codes:?}");
        for c in ["input.invalid", "not_found", "voucher.too_soon", "storage.failed"] {
            assert!(super::is_catalogued(c), "{c}");
        }
        assert!(!super::is_catalogued("code"));
    }
}
