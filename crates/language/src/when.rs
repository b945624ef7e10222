//! Dates and times in a message, read in the user's time zone: days
//! ("today", "tomorrow", "Friday", "next Friday", "March 3", "3/3" by the
//! user's convention, "end of month", "in 3 days"), times of day ("5pm",
//! "17:30", "at 10", "noon", "midnight", "tonight"), and instants ("in 2
//! hours"). Absolute dates are read by `interim`; the rest here.
//!
//! Only whole words count: "Renovation", "check money" or "paprika" hold no
//! date, and "may" or "sat" are months or days only beside a number or
//! after "on", "next", "this" or "every".

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

use crate::words::Word;

/// The time of day a date without one gets.
pub const DEFAULT_TIME: (u32, u32) = (9, 0);

/// Where and when a message is read.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Now, in the user's zone.
    pub now: DateTime<Tz>,
    /// Whether `3/4` is March 4 (month first) or 3 April.
    pub month_first: bool,
}

impl Clock {
    /// Today in the user's zone.
    pub fn today(&self) -> NaiveDate {
        self.now.date_naive()
    }

    /// The instant of `date` at `time` in the user's zone; a time the
    /// clocks skip (a DST gap) moves forward by the gap.
    pub fn at(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Tz> {
        let zone = self.now.timezone();
        let local = date.and_time(time);
        zone.from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .unwrap_or(self.now)
    }
}

/// What a message says of when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct When {
    /// A day.
    pub date: Option<NaiveDate>,
    /// A time of day.
    pub time: Option<NaiveTime>,
    /// An exact instant ("in 2 hours").
    pub instant: Option<DateTime<Tz>>,
    /// The day was a weekday's name without "this": when that day at its
    /// time has passed (Friday at 10, said on Friday at 11), it means the
    /// one a week later.
    pub weekly: bool,
    /// A day that does not exist ("April 31"), as written.
    pub impossible: Option<String>,
}

impl When {
    /// Whether it says anything.
    pub fn is_some(&self) -> bool {
        self.date.is_some() || self.time.is_some() || self.instant.is_some()
    }

    /// The instant it names: a day at its time (or [`DEFAULT_TIME`]), a time
    /// today (tomorrow once it has passed), or the instant.
    pub fn resolve(&self, clock: &Clock) -> Option<DateTime<Tz>> {
        if let Some(instant) = self.instant {
            return Some(instant);
        }
        let default = NaiveTime::from_hms_opt(DEFAULT_TIME.0, DEFAULT_TIME.1, 0)?;
        match (self.date, self.time) {
            (Some(date), time) => {
                let at = clock.at(date, time.unwrap_or(default));
                Some(if self.weekly && at <= clock.now {
                    clock.at(date + Duration::weeks(1), time.unwrap_or(default))
                } else {
                    at
                })
            }
            (None, Some(time)) => {
                let today = clock.at(clock.today(), time);
                Some(if today > clock.now {
                    today
                } else {
                    clock.at(clock.today().succ_opt()?, time)
                })
            }
            (None, None) => None,
        }
    }
}

/// Reads every date and time among the words not yet `used`, marking the
/// words (and the connectors before them: on, by, due, at, for) as used.
pub fn find(words: &[Word], used: &mut [bool], clock: &Clock) -> When {
    let mut when = When::default();
    let mut i = 0;
    while i < words.len() {
        if used[i] || words[i].quoted {
            i += 1;
            continue;
        }
        let lead = connectors(words, used, i);
        let at = i + lead;
        if let Some(n) = impossible_at(words, at, clock) {
            let text: Vec<&str> = words[at..at + n].iter().map(|w| w.text.as_str()).collect();
            when.impossible = Some(text.join(" "));
            used[i..at + n].iter_mut().for_each(|u| *u = true);
            i = at + n;
            continue;
        }
        let found = if when.instant.is_none() && when.date.is_none() {
            instant_at(words, at, clock).map(|(n, instant)| {
                (
                    n,
                    When {
                        instant: Some(instant),
                        ..When::default()
                    },
                )
            })
        } else {
            None
        }
        .or_else(|| {
            (when.date.is_none() && when.instant.is_none())
                .then(|| day_at(words, at, clock))
                .flatten()
                .map(|(n, date, time)| {
                    (
                        n,
                        When {
                            date: Some(date),
                            time,
                            ..When::default()
                        },
                    )
                })
        })
        .or_else(|| {
            (when.time.is_none() && when.instant.is_none())
                .then(|| time_at(words, at, lead > 0))
                .flatten()
                .map(|(n, time)| {
                    (
                        n,
                        When {
                            time: Some(time),
                            ..When::default()
                        },
                    )
                })
        });
        match found {
            Some((n, part)) if free(used, at, n) => {
                if part.date.is_some() && when.date.is_none() {
                    when.weekly = words[at..at + n]
                        .iter()
                        .any(|w| weekday(&w.lower, true).is_some())
                        && !words[at].is(&["this", "coming", "next"]);
                }
                when.date = when.date.or(part.date);
                when.time = when.time.or(part.time);
                when.instant = when.instant.or(part.instant);
                used[i..at + n].iter_mut().for_each(|u| *u = true);
                i = at + n;
            }
            _ => i += 1,
        }
    }
    when
}

/// How many words make a day that no year has ("April 31", "31 April",
/// "February 30"), if that is what starts at `i`.
fn impossible_at(words: &[Word], i: usize, clock: &Clock) -> Option<usize> {
    let (m, d) = match (lower(words, i).and_then(month), lower(words, i + 1)) {
        (Some(m), Some(d)) => (m, d),
        _ => (lower(words, i + 1).and_then(month)?, lower(words, i)?),
    };
    let day = u32::try_from(ordinal(d).or_else(|| d.parse().ok())?).ok()?;
    let year = clock.today().year();
    let exists = (year..year + 4).any(|y| NaiveDate::from_ymd_opt(y, m, day).is_some());
    (!exists && (1..=31).contains(&day)).then_some(2)
}

/// How many connectors start at `i` ("on", "by", "due", "due on", "at",
/// "for", "around"; at most two).
fn connectors(words: &[Word], used: &[bool], i: usize) -> usize {
    (0..2)
        .take_while(|&n| {
            words
                .get(i + n)
                .is_some_and(|w| !used[i + n] && w.is(&["on", "by", "due", "at", "for", "around"]))
        })
        .count()
}

fn free(used: &[bool], at: usize, n: usize) -> bool {
    used.get(at..at + n)
        .is_some_and(|span| span.iter().all(|u| !u))
}

fn lower(words: &[Word], i: usize) -> Option<&str> {
    words.get(i).filter(|w| !w.quoted).map(|w| w.lower.as_str())
}

/// A whole number word ("3", "three").
pub fn number(word: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    word.parse().ok().or_else(|| {
        NAMES
            .iter()
            .position(|n| *n == word)
            .and_then(|p| u32::try_from(p + 1).ok())
    })
}

/// An ordinal ("3rd", "third", "last" is -1).
pub fn ordinal(word: &str) -> Option<i32> {
    const NAMES: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];
    if word == "last" {
        return Some(-1);
    }
    if let Some(p) = NAMES.iter().position(|n| *n == word) {
        return i32::try_from(p + 1).ok();
    }
    let digits = word
        .strip_suffix("st")
        .or_else(|| word.strip_suffix("nd"))
        .or_else(|| word.strip_suffix("rd"))
        .or_else(|| word.strip_suffix("th"))?;
    digits.parse().ok()
}

/// A weekday's name; short names only when `short_ok`.
pub fn weekday(word: &str, short_ok: bool) -> Option<Weekday> {
    let day = match word.trim_end_matches('s') {
        "monday" => Weekday::Mon,
        "tuesday" => Weekday::Tue,
        "wednesday" => Weekday::Wed,
        "thursday" => Weekday::Thu,
        "friday" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        short if short_ok => match short {
            "mon" => Weekday::Mon,
            "tue" | "tues" => Weekday::Tue,
            "wed" => Weekday::Wed,
            "thu" | "thur" | "thurs" => Weekday::Thu,
            "fri" => Weekday::Fri,
            "sat" => Weekday::Sat,
            "sun" => Weekday::Sun,
            _ => return None,
        },
        _ => return None,
    };
    Some(day)
}

/// The months' names, January first.
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A month's name (full, or its first three letters or more; callers need
/// a number beside it, as "may" is a word too).
pub fn month(word: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|n| word.len() >= 3 && n.starts_with(word))
        .and_then(|p| u32::try_from(p + 1).ok())
}

/// "in 2 hours", "in 30 minutes": an exact instant.
fn instant_at(words: &[Word], i: usize, clock: &Clock) -> Option<(usize, DateTime<Tz>)> {
    if lower(words, i)? != "in" {
        return None;
    }
    let (n, unit) = amount(words, i + 1)?;
    let minutes = match unit {
        Unit::Minutes => n,
        Unit::Hours => n * 60,
        _ => return None,
    };
    Some((3, clock.now + Duration::minutes(i64::from(minutes))))
}

/// A unit of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
    /// Weeks.
    Weeks,
    /// Months.
    Months,
    /// Years.
    Years,
}

/// "30 minutes", "an hour", "2 days": a number and a unit (two words).
pub fn amount(words: &[Word], i: usize) -> Option<(u32, Unit)> {
    let count = match lower(words, i)? {
        "a" | "an" => 1,
        "half" => {
            return (lower(words, i + 1)? == "hour" || lower(words, i + 2)? == "hour")
                .then_some((30, Unit::Minutes));
        }
        other => number(other)?,
    };
    let unit = match lower(words, i + 1)?.trim_end_matches('s') {
        "minute" | "min" | "mn" => Unit::Minutes,
        "hour" | "hr" | "h" => Unit::Hours,
        "day" => Unit::Days,
        "week" | "wk" => Unit::Weeks,
        "month" => Unit::Months,
        "year" => Unit::Years,
        _ => return None,
    };
    Some((count, unit))
}

/// A day, and the time some day words carry ("tonight").
fn day_at(
    words: &[Word],
    i: usize,
    clock: &Clock,
) -> Option<(usize, NaiveDate, Option<NaiveTime>)> {
    let today = clock.today();
    let word = lower(words, i)?;
    let next = lower(words, i + 1);
    let evening = NaiveTime::from_hms_opt(20, 0, 0);
    let simple = match word {
        "today" => Some((1, today, None)),
        "tonight" => Some((1, today, evening)),
        "tomorrow" | "tmr" | "tmrw" => Some((1, today + Duration::days(1), None)),
        "day" if next == Some("after") && lower(words, i + 2) == Some("tomorrow") => {
            Some((3, today + Duration::days(2), None))
        }
        "end" if next == Some("of") => {
            let the = usize::from(lower(words, i + 2) == Some("the"));
            match lower(words, i + 2 + the)? {
                "month" => Some((3 + the, last_of_month(today)?, None)),
                "week" => Some((3 + the, coming(today, Weekday::Fri, true), None)),
                "year" => Some((
                    3 + the,
                    NaiveDate::from_ymd_opt(today.year(), 12, 31)?,
                    None,
                )),
                _ => None,
            }
        }
        "in" => match amount(words, i + 1)? {
            (n, Unit::Days) => Some((3, today + Duration::days(i64::from(n)), None)),
            (n, Unit::Weeks) => Some((3, today + Duration::weeks(i64::from(n)), None)),
            (n, Unit::Months) => Some((3, today.checked_add_months(chrono::Months::new(n))?, None)),
            (n, Unit::Years) => Some((
                3,
                today.checked_add_months(chrono::Months::new(n * 12))?,
                None,
            )),
            _ => None,
        },
        "next" if next == Some("week") => Some((2, coming(today, Weekday::Mon, false), None)),
        "next" if next == Some("month") => {
            let first = today
                .with_day(1)?
                .checked_add_months(chrono::Months::new(1))?;
            Some((2, first, None))
        }
        "this" if next == Some("weekend") => Some((2, coming(today, Weekday::Sat, true), None)),
        "weekend" => Some((1, coming(today, Weekday::Sat, true), None)),
        _ => None,
    };
    if let Some(found) = simple {
        return Some(with_part_of_day(words, i, found));
    }
    // [this|next|coming] weekday
    let (lead, modifier) = match word {
        "this" | "coming" => (1, Some("this")),
        "next" => (1, Some("next")),
        _ => (0, None),
    };
    if let Some(day) = lower(words, i + lead).and_then(|w| weekday(w, lead > 0)) {
        let date = match modifier {
            Some("next") => {
                coming(today, Weekday::Mon, false)
                    + Duration::days(i64::from(day.num_days_from_monday()))
            }
            _ => coming(today, day, true),
        };
        return Some(with_part_of_day(words, i, (lead + 1, date, None)));
    }
    // "the 15th"
    if word == "the"
        && let Some(day) = next.and_then(ordinal).filter(|d| (1..=31).contains(d))
        && next.is_some_and(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()))
    {
        let day = u32::try_from(day).ok()?;
        let this_month = today.with_day(day).filter(|d| *d >= today);
        let date = this_month.or_else(|| {
            today
                .with_day(1)?
                .checked_add_months(chrono::Months::new(1))?
                .with_day(day)
        })?;
        return Some((2, date, None));
    }
    calendar_date(words, i, clock).map(|(n, date)| with_part_of_day(words, i, (n, date, None)))
}

/// A day phrase at `i` followed by "morning", "afternoon", "evening" or
/// "night" ("tomorrow morning"), which sets its time.
fn with_part_of_day(
    words: &[Word],
    i: usize,
    (n, date, time): (usize, NaiveDate, Option<NaiveTime>),
) -> (usize, NaiveDate, Option<NaiveTime>) {
    let part = match lower(words, i + n) {
        Some("morning") => NaiveTime::from_hms_opt(9, 0, 0),
        Some("afternoon") => NaiveTime::from_hms_opt(15, 0, 0),
        Some("evening") => NaiveTime::from_hms_opt(19, 0, 0),
        Some("night") => NaiveTime::from_hms_opt(20, 0, 0),
        _ => None,
    };
    match part {
        Some(part) if !words[i + n - 1].stop => (n + 1, date, Some(part)),
        _ => (n, date, time),
    }
}

/// The next `day` from `today` (today itself when `today_counts`).
fn coming(today: NaiveDate, day: Weekday, today_counts: bool) -> NaiveDate {
    let ahead = (7 + day.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 && !today_counts {
        7
    } else {
        ahead
    };
    today + Duration::days(i64::from(ahead))
}

fn last_of_month(today: NaiveDate) -> Option<NaiveDate> {
    today
        .with_day(1)?
        .checked_add_months(chrono::Months::new(1))?
        .pred_opt()
}

/// "March 3", "3 March", "3rd of March", "March 3 2027", "3/3", "2027-03-03":
/// read by `interim` in the user's convention, the next such day when no
/// year is given.
fn calendar_date(words: &[Word], i: usize, clock: &Clock) -> Option<(usize, NaiveDate)> {
    let first = lower(words, i)?;
    let numeric = first.contains('/')
        || (first.len() == 10 && first.chars().filter(|c| *c == '-').count() == 2);
    let mut parts: Vec<String> = Vec::new();
    let mut n = 0;
    if numeric {
        parts.push(first.to_owned());
        n = 1;
    } else {
        // Up to four words: a month name and a day number, "of", a year.
        let mut has_month = false;
        let mut has_day = false;
        while n < 4 {
            let Some(word) = lower(words, i + n) else {
                break;
            };
            if let Some(m) = month(word) {
                if has_month {
                    break;
                }
                has_month = true;
                parts.push(month_name(m).to_owned());
            } else if let Some(day) = ordinal(word)
                .or_else(|| word.parse().ok())
                .filter(|d| (1..=31).contains(d))
                && !has_day
                && word.chars().next().is_some_and(|c| c.is_ascii_digit())
            {
                has_day = true;
                parts.push(day.to_string());
            } else if word == "of" && has_day && !has_month {
                // "3rd of March"
            } else if has_month && has_day && word.len() == 4 && word.parse::<i32>().is_ok() {
                // interim reads "january 3 2027" as a time, "january 3, 2027" as a date.
                if parts.first().is_some_and(|first| month(first).is_some())
                    && let Some(day) = parts.last_mut()
                {
                    day.push(',');
                }
                parts.push(word.to_owned());
                n += 1;
                break;
            } else {
                break;
            }
            n += 1;
            if words.get(i + n - 1).is_some_and(|w| w.stop) {
                break;
            }
        }
        if !(has_month && has_day) {
            return None;
        }
    }
    let text = parts.join(" ");
    // interim panics on a word of 16 letters or more (its keyword table
    // holds at most 15); no date word is that long.
    if text
        .split(|c: char| !c.is_ascii_alphabetic())
        .any(|word| word.len() >= 16)
    {
        return None;
    }
    let dialect = if clock.month_first {
        interim::Dialect::Us
    } else {
        interim::Dialect::Uk
    };
    let base = clock.now.date_naive().and_hms_opt(0, 0, 0)?.and_utc();
    let date = interim::parse_date_string(&text, base, dialect)
        .ok()?
        .date_naive();
    let has_year = parts
        .iter()
        .any(|p| p.len() == 4 && p.parse::<i32>().is_ok())
        || numeric && text.matches('/').count() == 2
        || text.contains('-');
    let date = if date < clock.today() && !has_year {
        date.with_year(date.year() + 1)?
    } else {
        date
    };
    Some((n, date))
}

fn month_name(m: u32) -> &'static str {
    MONTHS.get(m as usize - 1).copied().unwrap_or("january")
}

/// A time of day: "5pm", "5:30 pm", "17:00", "noon", "midnight", "morning";
/// a bare hour ("10") only after a connector ("at 10"): 1 to 7 are in the
/// afternoon, 8 to 12 in the morning.
fn time_at(words: &[Word], i: usize, after_connector: bool) -> Option<(usize, NaiveTime)> {
    let word = lower(words, i)?;
    let hm = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0);
    let named = match word {
        "noon" | "midday" => hm(12, 0),
        "midnight" => hm(23, 59),
        "morning" if after_connector || i > 0 => hm(9, 0),
        "afternoon" if after_connector || i > 0 => hm(15, 0),
        "evening" if after_connector || i > 0 => hm(19, 0),
        "night" if i > 0 => hm(20, 0),
        _ => None,
    };
    if let Some(time) = named {
        // "in the morning"
        return Some((1, time));
    }
    let (clock_text, suffix, n) = match lower(words, i + 1) {
        Some(s @ ("am" | "pm" | "a.m" | "p.m" | "a.m." | "p.m.")) => {
            (word, Some(s.starts_with('p')), 2)
        }
        _ => {
            if let Some(t) = word.strip_suffix("pm") {
                (t, Some(true), 1)
            } else if let Some(t) = word.strip_suffix("am") {
                (t, Some(false), 1)
            } else {
                (word, None, 1)
            }
        }
    };
    let (h, m) = match clock_text.split_once([':', '.']) {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        Some(_) => return None,
        None => (clock_text.parse::<u32>().ok()?, 0),
    };
    if clock_text.is_empty() || m > 59 {
        return None;
    }
    let colon = clock_text.contains([':', '.']);
    let h = match suffix {
        Some(pm) if (1..=12).contains(&h) => (h % 12) + if pm { 12 } else { 0 },
        Some(_) => return None,
        None if colon && h <= 23 => h,
        None if after_connector && (13..=23).contains(&h) => h,
        None if after_connector && (1..=7).contains(&h) => h + 12,
        None if after_connector && (8..=12).contains(&h) => h,
        None => return None,
    };
    Some((n, hm(h, m)?))
}
