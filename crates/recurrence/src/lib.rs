//! The recurrence engine of recurring tasks: an RFC 5545 RRULE, checked
//! ([`Rule::parse`]), and its occurrences from a start in a time zone
//! ([`Rule::occurrences`]), exactly as python-dateutil's
//! `rrule(..., dtstart=start)` yields them (checked against dateutil in
//! `tests/dateutil.rs`).
//!
//! The expansion is the `rrule` crate's, a port of dateutil's algorithm. This
//! crate reads the rule's text itself, so that a user is told in words what is
//! wrong, and it runs the expansion on wall-clock times, putting each result
//! into the zone only at the end, as dateutil does. What follows for a series:
//!
//! - An occurrence keeps its wall-clock time across daylight saving changes:
//!   a daily task at 09:00 in Berlin is at 09:00 CET and 09:00 CEST.
//! - A wall time the clocks skip (02:30 on Berlin's spring-forward night)
//!   takes the offset in force before the change: it is 01:30 UTC, which the
//!   zone shows as 03:30 CEST. A wall time that happens twice (fall-back) is
//!   the first, earlier, of the two instants.
//! - The start is an occurrence only if it matches the rule (dateutil's
//!   documented deviation from RFC 5545, where DTSTART always counts).
//! - What is "not before the start" is decided on wall-clock times too: a
//!   start at the second 02:30 of a fall-back night (02:30 CET) still yields
//!   that day's 02:30, which is the first 02:30 (CEST), an hour before it.
//! - `FREQ=HOURLY` steps through wall-clock hours: on a spring-forward night
//!   02:30 and 03:30 are the same instant and both are yielded; on a fall-back
//!   night the repeated 02:30 is yielded once (the first), so the hour
//!   between the second 02:30 and 03:30 has no occurrence.
//! - `UNTIL=20251231T235959Z` (UTC) ends the series at that instant;
//!   `UNTIL=20251231` (a date) ends it with the last occurrence on that day in
//!   the start's zone (dateutil refuses a date UNTIL with a zoned start; this
//!   is what it does with `until` set to 23:59:59 of that day in the zone).
//! - A series whose next occurrence is more than 100,000 periods (days for a
//!   daily rule, hours for an hourly one) away, or beyond the year 10000,
//!   ends there; dateutil would keep looking until the year 9999.

#![warn(missing_docs)]

mod parse;

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

pub use parse::RuleError;

/// The longest rule accepted, in characters, without an `RRULE:` prefix.
pub const MAX_CHARS: usize = 500;

/// The largest COUNT accepted: a series with a COUNT is expanded from its
/// first occurrence to find its next (the ones skipped count), so COUNT
/// bounds that work (`Rule::resumed` skips the rest). Daily for 13 years.
pub const MAX_COUNT: u32 = 5000;

/// An RFC 5545 RRULE, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Every part but UNTIL, which [`Rule::occurrences`] applies itself (see
    /// there why).
    rrule: rrule::RRule<rrule::Unvalidated>,
    until: Option<Until>,
}

/// Where a rule's `UNTIL` ends its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// `UNTIL=20251231T235959Z`: no occurrence after this instant.
    Instant(DateTime<Utc>),
    /// `UNTIL=20251231`: no occurrence after this day, in the start's zone.
    Date(NaiveDate),
}

impl Rule {
    /// Parses a rule body like `FREQ=WEEKLY;BYDAY=MO,WE` (an `RRULE:` prefix
    /// is accepted; names and values are case-insensitive).
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        parse::parse(text)
    }

    /// COUNT, if the rule has one.
    pub fn count(&self) -> Option<u32> {
        self.rrule.get_count()
    }

    /// UNTIL, if the rule has one.
    pub fn until(&self) -> Option<Until> {
        self.until
    }

    /// A start whose series, from `after` on, is `start`'s: `start` moved
    /// forward by whole periods of the rule (its INTERVAL of hours, days or
    /// weeks, on the wall clock, so the time of day, the weekday and the
    /// phase of the INTERVAL stay) to about two periods before `after`.
    /// Finding the first occurrence after a distant `after` then expands a
    /// few periods instead of every one since `start` (a daily task due in
    /// 858 and completed today: 425,000 of them). `start` itself when the
    /// rule has a COUNT (the occurrences before `after` count), repeats
    /// monthly or yearly (few periods, and a DTSTART day that a move by
    /// months could not keep), or `after` is near.
    pub fn resumed(&self, start: DateTime<Tz>, after: DateTime<Utc>) -> DateTime<Tz> {
        let hours = match self.rrule.get_freq() {
            rrule::Frequency::Hourly => 1,
            rrule::Frequency::Daily => 24,
            rrule::Frequency::Weekly => 7 * 24,
            _ => return start,
        };
        if self.count().is_some() {
            return start;
        }
        let period = TimeDelta::hours(hours * i64::from(self.rrule.get_interval().max(1)));
        let zone = start.timezone();
        let wall = start.naive_local();
        let until = after.with_timezone(&zone).naive_local();
        let periods = (until - wall).num_seconds() / period.num_seconds().max(1);
        // Two periods of margin for the zone's offset changes, and a third and
        // fourth try should the moved start fall in a gap or an overlap.
        for back in 2..5 {
            let Some(moved) = period
                .checked_mul(i32::try_from(periods - back).unwrap_or(0))
                .and_then(|shift| wall.checked_add_signed(shift))
            else {
                break;
            };
            if moved <= wall {
                break;
            }
            if let LocalResult::Single(at) = zone.from_local_datetime(&moved) {
                return at;
            }
        }
        start
    }

    /// The series of this rule starting at `start` (the DTSTART, a wall-clock
    /// time in a zone), exactly as python-dateutil's `rrule(..., dtstart=start)`
    /// yields it, honouring COUNT and UNTIL; see the crate's documentation for
    /// what that means around daylight saving changes. Sub-second parts of
    /// `start` are dropped, as dateutil does.
    ///
    /// The iterator is lazy: a rule without COUNT or UNTIL is infinite, and
    /// taking the first few expands only the periods they fall in.
    pub fn occurrences(&self, start: DateTime<Tz>) -> impl Iterator<Item = DateTime<Tz>> + use<> {
        let zone = start.timezone();
        let wall = start.naive_local();
        let wall = wall.with_nanosecond(0).unwrap_or(wall);
        // dateutil expands the rule on naive wall-clock times and compares
        // them with DTSTART as such (a datetime's comparison with one of the
        // same tzinfo ignores the offset). The rrule crate compares instants
        // and resolves each wall time in the zone as it goes (differently in a
        // gap), so it is handed the wall clock as if it were UTC, where both
        // are the same; the zone is put on each result below.
        let series = self
            .rrule
            .clone()
            .build(Utc.from_utc_datetime(&wall).with_timezone(&rrule::Tz::UTC))
            .ok()
            // Parsing validated the rule; `limit` ends a series after 100,000
            // periods without an occurrence instead of searching for ever.
            .map(|set| set.limit().into_iter());
        let until = self.until;
        series
            .into_iter()
            .flatten()
            .map(move |fake_utc| {
                let wall = fake_utc.naive_utc();
                (wall, in_zone(zone, wall))
            })
            // dateutil stops at the first result after UNTIL, in the order it
            // expands them (wall-clock order); a UTC UNTIL is compared with the
            // instant, a date UNTIL (which dateutil refuses with a zoned start)
            // with the wall-clock day.
            .take_while(move |(wall, at)| match until {
                None => true,
                Some(Until::Date(last_day)) => wall.date() <= last_day,
                Some(Until::Instant(last)) => at.is_some_and(|at| at <= last),
            })
            .map_while(|(_, at)| at)
    }
}

/// The instant a wall-clock time names in `zone`, as Python resolves an aware
/// datetime with `fold=0` (what dateutil yields): in a gap the offset in force
/// before the change applies, in an overlap the earlier instant. `None` only
/// at the ends of chrono's range of dates.
fn in_zone(zone: Tz, wall: NaiveDateTime) -> Option<DateTime<Tz>> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(at) => Some(at),
        LocalResult::Ambiguous(earlier, _later) => Some(earlier),
        LocalResult::None => {
            // The change happened less than a day of wall-clock time before
            // `wall` (offsets lie between -12 and +14 hours), so a day earlier
            // the offset before it was in force.
            let day_before = wall.checked_sub_signed(TimeDelta::days(1))?;
            let offset = zone.offset_from_utc_datetime(&day_before).fix();
            let utc = wall.checked_sub_offset(offset)?;
            Some(zone.from_utc_datetime(&utc))
        }
    }
}

#[cfg(test)]
mod tests;
