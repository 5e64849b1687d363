//! Working-day calendars.
//!
//! Deadlines in kadry (e.g. "the training organisation answers within five
//! working days") are counted in working days of the Russian production
//! calendar (производственный календарь). This module provides:
//!
//! - [`WorkingCalendar`], the port the rest of the core depends on, with
//!   provided arithmetic ([`WorkingCalendar::add_working_days`],
//!   [`WorkingCalendar::working_days_between`]);
//! - [`ProductionCalendar`], the real calendar backed by the `holidays-ru`
//!   crate, federal or with a region's own non-working holidays
//!   ([`CalendarRegion`]);
//! - [`WeekdayCalendar`], plain Monday–Friday, for tests and examples.
//!
//! # Years outside the official data
//!
//! `holidays-ru` ships the official federal calendar for 1993–2027 (and the
//! Tatarstan regional calendar for 1993–2026). For other years from 1900 to
//! 2100 it returns a deterministic *prediction* derived from the Labour Code
//! (fixed holidays, the usual weekend-holiday transfers; for regions only the
//! fixed-date holidays). [`ProductionCalendar`] uses that prediction as is;
//! outside 1900–2100 it falls back to Monday–Friday. Use
//! [`ProductionCalendar::source`] to learn which of the three applied to a
//! given date.

use chrono::{Datelike, NaiveDate, Weekday};
use holidays_ru::{Federal, Resolved, regions};
use serde::{Deserialize, Serialize};

/// A calendar that knows which days are working days.
///
/// Implementations must be pure (no I/O, no clock) and cheap to query: the
/// provided methods call [`is_working_day`](Self::is_working_day) once per
/// calendar day they walk over.
pub trait WorkingCalendar: Send + Sync + std::fmt::Debug {
    /// Whether `date` is a working day.
    fn is_working_day(&self, date: NaiveDate) -> bool;

    /// The `n`-th working day after `from`.
    ///
    /// Counting starts on the day *after* `from` (so `from` itself never
    /// counts, working or not); `n = 0` returns `from` unchanged. For
    /// `n >= 1` the result is always a working day.
    ///
    /// # Panics
    ///
    /// If the walk runs past [`NaiveDate::MAX`] (only possible for dates near
    /// the end of chrono's range, or a calendar without working days).
    fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut date = from;
        let mut left = n;
        while left > 0 {
            date = date.succ_opt().expect("add_working_days ran past the last representable date");
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// The number of working days in the half-open interval `(from, to]`.
    ///
    /// Returns 0 when `to <= from`. This is the inverse of
    /// [`add_working_days`](Self::add_working_days):
    /// `working_days_between(d, add_working_days(d, n)) == n`.
    fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        if to <= from {
            return 0;
        }
        let count = from.iter_days().skip(1).take_while(|d| *d <= to).filter(|d| self.is_working_day(*d)).count();
        // chrono's whole date range has fewer than u32::MAX days.
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

/// Which production calendar applies: the federal one, or the federal one
/// plus a subject's own non-working holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarRegion {
    /// The federal production calendar of the Russian Federation.
    Federal,
    /// The federal calendar plus the non-working holidays of the Republic of
    /// Tatarstan (Uraza Bayram, Kurban Bayram, Republic Day on 30 August,
    /// Constitution Day on 6 November).
    Tatarstan,
}

/// Where a [`ProductionCalendar`] answer for a date comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarSource {
    /// The official production calendar for that year (federal and, for a
    /// region, regional data are both official).
    Official,
    /// `holidays-ru`'s deterministic prediction (a year without official
    /// data, within 1900–2100). Official transfers, decreed yearly, may
    /// differ; for regions, holidays with moving dates are not predicted.
    Predicted,
    /// A year outside 1900–2100: plain Monday–Friday.
    WeekdayFallback,
}

/// The Russian production calendar, backed by the `holidays-ru` crate.
///
/// Public holidays, extra days off from transfers and transferred working
/// Saturdays (e.g. 28 December 2024) are all taken into account. See the
/// [module documentation](self) for years outside the official data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProductionCalendar {
    region: CalendarRegion,
}

impl ProductionCalendar {
    /// A production calendar for `region`.
    #[must_use]
    pub const fn new(region: CalendarRegion) -> Self {
        Self { region }
    }

    /// The region this calendar was built for.
    #[must_use]
    pub const fn region(&self) -> CalendarRegion {
        self.region
    }

    /// Where the answer of [`is_working_day`](WorkingCalendar::is_working_day)
    /// for `date` comes from: official data, a prediction, or the
    /// Monday–Friday fallback.
    #[must_use]
    pub fn source(&self, date: NaiveDate) -> CalendarSource {
        match self.lookup(date) {
            Some(Resolved::Fact(_)) => CalendarSource::Official,
            Some(Resolved::Predict(_)) => CalendarSource::Predicted,
            None => CalendarSource::WeekdayFallback,
        }
    }

    /// `Some(working?)` from `holidays-ru`, `None` when it has no answer
    /// (years outside 1900–2100).
    fn lookup(&self, date: NaiveDate) -> Option<Resolved<bool>> {
        let year = date.year();
        let month = u8::try_from(date.month()).ok()?;
        let day = u8::try_from(date.day()).ok()?;
        let flags = match self.region {
            CalendarRegion::Federal => holidays_ru::flags_ymd::<Federal>(year, month, day),
            CalendarRegion::Tatarstan => holidays_ru::flags_with_region_ymd::<regions::Tatarstan>(year, month, day),
        }?;
        Some(flags.map(holidays_ru::DayFlags::is_working_day))
    }
}

impl WorkingCalendar for ProductionCalendar {
    fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.lookup(date) {
            Some(resolved) => resolved.value(),
            None => is_weekday(date),
        }
    }
}

/// Monday to Friday are working days, nothing else: no holidays, no
/// transfers. Meant for tests and examples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct WeekdayCalendar;

impl WorkingCalendar for WeekdayCalendar {
    fn is_working_day(&self, date: NaiveDate) -> bool {
        is_weekday(date)
    }
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    const FEDERAL: ProductionCalendar = ProductionCalendar::new(CalendarRegion::Federal);
    const TATARSTAN: ProductionCalendar = ProductionCalendar::new(CalendarRegion::Tatarstan);

    #[test]
    fn five_working_days_in_an_ordinary_week() {
        assert_eq!(FEDERAL.add_working_days(d(2025, 1, 13), 5), d(2025, 1, 20));
    }

    #[test]
    fn new_year_holidays_and_working_saturday() {
        // 28 Dec 2024 (Sat) works; 29 Dec (Sun), 30-31 Dec and 1-8 Jan are off.
        assert_eq!(FEDERAL.add_working_days(d(2024, 12, 27), 1), d(2024, 12, 28));
        assert_eq!(FEDERAL.add_working_days(d(2024, 12, 27), 2), d(2025, 1, 9));
        assert_eq!(FEDERAL.add_working_days(d(2024, 12, 27), 5), d(2025, 1, 14));
        // The weekday calendar knows nothing of this.
        assert_eq!(WeekdayCalendar.add_working_days(d(2024, 12, 27), 5), d(2025, 1, 3));
    }

    #[test]
    fn zero_working_days_is_the_same_day() {
        assert_eq!(FEDERAL.add_working_days(d(2025, 1, 20), 0), d(2025, 1, 20));
        // Even when the start is not a working day.
        assert_eq!(FEDERAL.add_working_days(d(2025, 1, 1), 0), d(2025, 1, 1));
        assert_eq!(WeekdayCalendar.add_working_days(d(2025, 1, 18), 0), d(2025, 1, 18));
    }

    #[test]
    fn counting_starts_the_day_after_a_day_off() {
        // From a Saturday, the first working day is the Monday.
        assert_eq!(FEDERAL.add_working_days(d(2025, 1, 18), 1), d(2025, 1, 20));
        assert_eq!(WeekdayCalendar.add_working_days(d(2025, 1, 18), 1), d(2025, 1, 20));
    }

    #[test]
    fn federal_working_days() {
        assert!(FEDERAL.is_working_day(d(2024, 12, 28)), "working Saturday");
        assert!(!FEDERAL.is_working_day(d(2024, 12, 29)));
        assert!(!FEDERAL.is_working_day(d(2024, 12, 30)));
        assert!(!FEDERAL.is_working_day(d(2024, 12, 31)));
        assert!(!FEDERAL.is_working_day(d(2025, 1, 8)));
        assert!(FEDERAL.is_working_day(d(2025, 1, 9)));
        assert!(!FEDERAL.is_working_day(d(2025, 5, 1)));
        assert!(!FEDERAL.is_working_day(d(2025, 5, 2)), "transferred day off");
        assert!(FEDERAL.is_working_day(d(2025, 5, 5)));
        assert!(!FEDERAL.is_working_day(d(2025, 1, 18)), "Saturday");
    }

    #[test]
    fn tatarstan_adds_regional_holidays() {
        // 30 Aug 2024 (Friday): Republic of Tatarstan Day.
        assert!(FEDERAL.is_working_day(d(2024, 8, 30)));
        assert!(!TATARSTAN.is_working_day(d(2024, 8, 30)));
        // 6 Nov 2026 (Friday): Constitution Day of Tatarstan.
        assert!(FEDERAL.is_working_day(d(2026, 11, 6)));
        assert!(!TATARSTAN.is_working_day(d(2026, 11, 6)));
        // 6 Jun 2025 (Friday): Kurban Bayram.
        assert!(FEDERAL.is_working_day(d(2025, 6, 6)));
        assert!(!TATARSTAN.is_working_day(d(2025, 6, 6)));
        // Federal holidays still apply in Tatarstan, and so do working Saturdays.
        assert!(!TATARSTAN.is_working_day(d(2025, 1, 8)));
        assert!(TATARSTAN.is_working_day(d(2024, 12, 28)));
        // Deadlines shift accordingly: Thu 29 Aug 2024 + 1.
        assert_eq!(FEDERAL.add_working_days(d(2024, 8, 29), 1), d(2024, 8, 30));
        assert_eq!(TATARSTAN.add_working_days(d(2024, 8, 29), 1), d(2024, 9, 2));
    }

    #[test]
    fn working_days_between_counts_the_half_open_interval() {
        // (Mon 13 Jan, Mon 20 Jan 2025]: 14-17 and 20 Jan.
        assert_eq!(FEDERAL.working_days_between(d(2025, 1, 13), d(2025, 1, 20)), 5);
        // (Fri 27 Dec 2024, Tue 14 Jan 2025]: 28 Dec, 9, 10, 13, 14 Jan.
        assert_eq!(FEDERAL.working_days_between(d(2024, 12, 27), d(2025, 1, 14)), 5);
        assert_eq!(WeekdayCalendar.working_days_between(d(2024, 12, 27), d(2025, 1, 14)), 12);
        // Same day, reversed, and an interval of days off only.
        assert_eq!(FEDERAL.working_days_between(d(2025, 1, 20), d(2025, 1, 20)), 0);
        assert_eq!(FEDERAL.working_days_between(d(2025, 1, 20), d(2025, 1, 13)), 0);
        assert_eq!(FEDERAL.working_days_between(d(2024, 12, 28), d(2025, 1, 8)), 0);
        // Federal production calendar 2025: 247 working days.
        assert_eq!(FEDERAL.working_days_between(d(2024, 12, 31), d(2025, 12, 31)), 247);
        assert_eq!(
            TATARSTAN.working_days_between(d(2024, 12, 31), d(2025, 12, 31)),
            247 - 2, // Kurban Bayram (Fri 6 Jun) and Constitution Day (Thu 6 Nov)
        );
    }

    #[test]
    fn sources_and_fallbacks() {
        assert_eq!(FEDERAL.source(d(2025, 1, 8)), CalendarSource::Official);
        assert_eq!(FEDERAL.source(d(2027, 1, 8)), CalendarSource::Official);
        assert_eq!(FEDERAL.source(d(2035, 1, 1)), CalendarSource::Predicted);
        // Tatarstan's regional data end a year before the federal data.
        assert_eq!(TATARSTAN.source(d(2026, 5, 5)), CalendarSource::Official);
        assert_eq!(TATARSTAN.source(d(2027, 5, 5)), CalendarSource::Predicted);
        assert_eq!(FEDERAL.source(d(2200, 1, 1)), CalendarSource::WeekdayFallback);
        assert_eq!(FEDERAL.source(d(1899, 12, 31)), CalendarSource::WeekdayFallback);
        assert_eq!(FEDERAL.region(), CalendarRegion::Federal);
        assert_eq!(TATARSTAN.region(), CalendarRegion::Tatarstan);

        // Predicted years still know the fixed holidays.
        assert!(!FEDERAL.is_working_day(d(2035, 1, 1)));
        assert!(!FEDERAL.is_working_day(d(2035, 5, 9)));
        assert!(!TATARSTAN.is_working_day(d(2030, 8, 30)), "Friday, Republic Day");
        assert!(FEDERAL.is_working_day(d(2030, 8, 30)));
        // Outside 1900-2100: Monday-Friday (1 Jan 2200 is a Wednesday).
        for offset in 0..14 {
            let day = d(2200, 1, 1) + chrono::Days::new(offset);
            assert_eq!(FEDERAL.is_working_day(day), is_weekday(day), "{day}");
            assert_eq!(TATARSTAN.is_working_day(day), is_weekday(day), "{day}");
        }
    }

    #[test]
    fn region_serde_is_snake_case() {
        assert_eq!(serde_json::to_string(&CalendarRegion::Tatarstan).unwrap(), "\"tatarstan\"");
        assert_eq!(serde_json::from_str::<CalendarRegion>("\"federal\"").unwrap(), CalendarRegion::Federal);
        assert!(serde_json::from_str::<CalendarRegion>("\"Federal\"").is_err());
        assert_eq!(serde_json::to_string(&CalendarSource::WeekdayFallback).unwrap(), "\"weekday_fallback\"");
    }

    #[test]
    fn calendars_are_usable_as_trait_objects() {
        let calendars: Vec<Box<dyn WorkingCalendar>> =
            vec![Box::new(FEDERAL), Box::new(TATARSTAN), Box::new(WeekdayCalendar)];
        for calendar in &calendars {
            assert_eq!(calendar.add_working_days(d(2025, 1, 13), 5), d(2025, 1, 20));
        }
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        // Official years, predicted years and the Monday-Friday fallback.
        (1890i32..2110, 1u32..=366).prop_map(|(year, ordinal)| {
            NaiveDate::from_yo_opt(year, ordinal)
                .or_else(|| NaiveDate::from_yo_opt(year, 365))
                .expect("ordinal 365 exists in every year")
        })
    }

    fn any_calendar() -> impl Strategy<Value = ProductionCalendar> {
        prop_oneof![Just(FEDERAL), Just(TATARSTAN)]
    }

    proptest! {
        #[test]
        fn add_working_days_is_strictly_increasing_and_lands_on_working_days(
            calendar in any_calendar(),
            from in any_date(),
            n in 0u32..40,
        ) {
            let here = calendar.add_working_days(from, n);
            let next = calendar.add_working_days(from, n + 1);
            prop_assert!(here < next);
            prop_assert!(calendar.is_working_day(next));
            if n >= 1 {
                prop_assert!(calendar.is_working_day(here));
            } else {
                prop_assert_eq!(here, from);
            }
            prop_assert_eq!(calendar.working_days_between(from, here), n);
            prop_assert_eq!(calendar.working_days_between(from, next), n + 1);
        }

        #[test]
        fn weekday_calendar_never_lands_on_a_weekend(from in any_date(), n in 1u32..40) {
            let here = WeekdayCalendar.add_working_days(from, n);
            prop_assert!(is_weekday(here));
            prop_assert!(here > from);
            prop_assert_eq!(WeekdayCalendar.working_days_between(from, here), n);
        }
    }
}
