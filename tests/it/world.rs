//! A small Samara world over the memory store for tests: the testkit's fixture, plus a
//! psychologist, a non-pedagogical worker and groups of every funding kind.

use std::ops::Deref;
use std::sync::Arc;

use kadry::MemoryStore;
use kadry::adapters::testkit::Fixture;
use kadry::core::command::Command;
use kadry::core::ids::*;
use kadry::core::model::*;

pub use kadry::adapters::testkit::noon as at;

pub struct World {
    pub fixture: Fixture,
    pub store: MemoryStore,
    pub groups: Vec<GroupId>,
}

impl Deref for World {
    type Target = Fixture;
    fn deref(&self) -> &Fixture {
        &self.fixture
    }
}

impl World {
    pub async fn exec(&self, actor: PersonId, c: Command) -> kadry::Result<kadry::Outcome> {
        self.service.execute(kadry::Actor::Person(actor), c).await
    }

    /// Two schools; workers 0–3 teachers, 4 a psychologist, 5 not pedagogical; six groups
    /// (voucher, voucher, state, voucher, paid, voucher) 75 days apart from 3 February 2025.
    pub async fn samara() -> World {
        let store = MemoryStore::new();
        let mut fixture = Fixture::build(Arc::new(store.clone()), 2, 4).await;
        let psychologist = fixture.person(fixture.schools[0], "w4@example.ru", Position::Psychologist).await;
        let clerk = fixture.person_with(fixture.schools[1], "w5@example.ru", Position::Other, false).await;
        fixture.workers.extend([psychologist, clerk]);
        let mut groups = Vec::new();
        let mut start = chrono::NaiveDate::from_ymd_opt(2025, 2, 3).unwrap();
        let fundings =
            [Funding::Voucher, Funding::Voucher, Funding::State, Funding::Voucher, Funding::Paid, Funding::Voucher];
        for (i, funding) in fundings.into_iter().enumerate() {
            groups.push(fixture.group(i % 3, start, 2 + (i as u32 % 2), funding).await);
            start = start + chrono::Days::new(75);
        }
        World { fixture, store, groups }
    }
}
