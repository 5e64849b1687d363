//! What the rule tests share: dates, noon in Samara, and a given region on a day.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use kadry_core::calendar::{CalendarRegion, ProductionCalendar};
use kadry_core::decide::Ctx;
use kadry_core::policy::RegionPolicy;
use kadry_core::ports::SequentialIds;

/// A calendar day.
pub fn day(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

/// Noon of `date` in Samara.
pub fn noon(date: NaiveDate) -> DateTime<Utc> {
    chrono_tz::Europe::Samara.from_local_datetime(&date.and_hms_opt(12, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
}

/// A region's policy, calendar and ids.
pub struct Given {
    /// The policy.
    pub policy: RegionPolicy,
    /// The production calendar.
    pub calendar: ProductionCalendar,
    /// Ids.
    pub ids: SequentialIds,
}

impl Given {
    /// Samara.
    pub fn samara() -> Self {
        Given {
            policy: RegionPolicy::samara(),
            calendar: ProductionCalendar::new(CalendarRegion::Federal),
            ids: SequentialIds::default(),
        }
    }
    /// The decision context at noon of `date`.
    pub fn on(&self, date: NaiveDate) -> Ctx<'_> {
        Ctx { now: noon(date), today: date, policy: &self.policy, calendar: &self.calendar, ids: &self.ids }
    }
}
