//! Reading a rule's text: the checks, and the messages a user reads.

use std::ops::RangeInclusive;

use chrono::{Month, NaiveDate, NaiveDateTime, TimeZone, Weekday};
use rrule::{Frequency, NWeekday, RRule};

use crate::{MAX_CHARS, Rule, Until};

/// Why a rule's text was refused. Each message says what is wrong and how to
/// fix it, in words fit for a 400 response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Nothing but perhaps an `RRULE:` prefix.
    #[error("the rule is empty; give at least FREQ, e.g. FREQ=WEEKLY;BYDAY=MO")]
    Empty,
    /// More than [`MAX_CHARS`] characters.
    #[error("the rule is {0} characters long; at most {MAX_CHARS} are allowed")]
    TooLong(usize),
    /// Two `;` in a row, or one at either end.
    #[error("the rule has an empty part (two \";\" in a row, or one at an end); remove it")]
    EmptyPart,
    /// A part without `=`.
    #[error("\"{0}\" is not NAME=VALUE; separate the parts with \";\", e.g. FREQ=DAILY;INTERVAL=2")]
    NotNameValue(String),
    /// A name RFC 5545 does not define for a rule.
    #[error(
        "\"{0}\" is not a part of a recurrence rule; the parts are FREQ, INTERVAL, COUNT, UNTIL, \
         BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST, BYHOUR, BYMINUTE, BYSECOND, BYYEARDAY and BYWEEKNO"
    )]
    UnknownPart(String),
    /// A part given twice.
    #[error(
        "{0} is given more than once; give it once, with several values separated by commas \
         (e.g. BYDAY=MO,WE)"
    )]
    RepeatedPart(&'static str),
    /// `NAME=` with nothing after it.
    #[error("{0} has no value")]
    EmptyValue(&'static str),
    /// No FREQ.
    #[error(
        "FREQ is missing; say how often the task repeats, e.g. FREQ=DAILY, WEEKLY, MONTHLY or YEARLY"
    )]
    MissingFreq,
    /// FREQ=MINUTELY or SECONDLY.
    #[error(
        "FREQ={0} is not allowed: a task cannot repeat more often than hourly; \
         use FREQ=HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY"
    )]
    TooFrequent(String),
    /// A value (or one of a list of values) out of its range or unreadable.
    #[error("{part} cannot be \"{value}\": {expected}")]
    BadValue {
        /// The part's name.
        part: &'static str,
        /// The value, or the one item of a list, refused.
        value: String,
        /// What is allowed there.
        expected: String,
    },
    /// A BYxxx part RFC 5545 forbids with the rule's FREQ.
    #[error("{part} cannot be used with FREQ={freq} (RFC 5545); {hint}")]
    NotWithFreq {
        /// The part's name.
        part: &'static str,
        /// The rule's FREQ.
        freq: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// RFC 5545: COUNT and UNTIL "MUST NOT occur in the same 'recur'".
    #[error(
        "COUNT and UNTIL cannot both be given (RFC 5545); keep the one that should end the series"
    )]
    CountAndUntil,
    /// BYSETPOS without a BYxxx part to pick from.
    #[error(
        "BYSETPOS picks among the occurrences of another BY part, and there is none; \
         e.g. FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1 is the last weekday of each month"
    )]
    BySetPosAlone,
    /// The BYMONTHDAY days exist in none of the BYMONTH months.
    #[error(
        "the rule can never produce an occurrence: no month in BYMONTH has a day in BYMONTHDAY \
         ({0}); choose days that exist in those months (e.g. -1 for the last day)"
    )]
    NoSuchDay(String),
    /// Anything else the rrule crate refuses (the checks above should leave
    /// nothing for it).
    #[error("the rule is not supported: {0}")]
    Unsupported(String),
}

/// The parts of a rule, as RFC 5545 section 3.3.10 names them.
const PARTS: [&str; 14] = [
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
];

/// The parts' values as given (upper-cased), by name.
struct Parts(Vec<(&'static str, String)>);

impl Parts {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn parse(text: &str) -> Result<Rule, RuleError> {
    let parts = split(text)?;
    let freq = match parts.get("FREQ") {
        None => return Err(RuleError::MissingFreq),
        Some("YEARLY") => Frequency::Yearly,
        Some("MONTHLY") => Frequency::Monthly,
        Some("WEEKLY") => Frequency::Weekly,
        Some("DAILY") => Frequency::Daily,
        Some("HOURLY") => Frequency::Hourly,
        Some(too_often @ ("MINUTELY" | "SECONDLY")) => {
            return Err(RuleError::TooFrequent(too_often.to_owned()));
        }
        Some(other) => {
            return Err(bad(
                "FREQ",
                other,
                "use HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY",
            ));
        }
    };
    let mut rule = RRule::new(freq);

    if let Some(value) = parts.get("INTERVAL") {
        let interval = value
            .parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                bad(
                    "INTERVAL",
                    value,
                    "give the number of periods between occurrences, from 1 to 65535",
                )
            })?;
        rule = rule.interval(interval);
    }
    if let Some(value) = parts.get("COUNT") {
        if parts.get("UNTIL").is_some() {
            return Err(RuleError::CountAndUntil);
        }
        let count = value
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=crate::MAX_COUNT).contains(n))
            .ok_or_else(|| {
                bad(
                    "COUNT",
                    value,
                    "give the number of occurrences, a whole number from 1 to 5000",
                )
            })?;
        rule = rule.count(count);
    }
    let until = parts.get("UNTIL").map(until).transpose()?;
    if let Some(value) = parts.get("WKST") {
        rule = rule.week_start(weekday(value).ok_or_else(|| {
            bad(
                "WKST",
                value,
                "give the day weeks start on: MO, TU, WE, TH, FR, SA or SU",
            )
        })?);
    }

    let by_month: Vec<u8> = numbers(&parts, "BYMONTH", "months", 1..=12, false)?;
    let months: Vec<Month> = by_month
        .iter()
        .filter_map(|m| Month::try_from(*m).ok())
        .collect();
    rule = rule.by_month(&months);
    let by_month_day: Vec<i8> = numbers(&parts, "BYMONTHDAY", "days of the month", 1..=31, true)?;
    if !by_month_day.is_empty() && !some_day_exists(&by_month, &by_month_day) {
        return Err(RuleError::NoSuchDay(
            parts.get("BYMONTHDAY").unwrap_or_default().to_owned(),
        ));
    }
    rule = rule.by_month_day(by_month_day);
    rule = rule.by_year_day(numbers(
        &parts,
        "BYYEARDAY",
        "days of the year",
        1..=366,
        true,
    )?);
    rule = rule.by_week_no(numbers(
        &parts,
        "BYWEEKNO",
        "ISO week numbers",
        1..=53,
        true,
    )?);
    rule = rule.by_hour(numbers(&parts, "BYHOUR", "hours", 0..=23, false)?);
    rule = rule.by_minute(numbers(&parts, "BYMINUTE", "minutes", 0..=59, false)?);
    rule = rule.by_second(numbers(&parts, "BYSECOND", "seconds", 0..=59, false)?);
    if let Some(value) = parts.get("BYDAY") {
        let with_week_no = parts.get("BYWEEKNO").is_some();
        let days = value
            .split(',')
            .map(|item| by_day(item.trim(), freq, with_week_no))
            .collect::<Result<Vec<_>, _>>()?;
        rule = rule.by_weekday(days);
    }
    // BYSETPOS: "Valid values are 1 to 366 or -366 to -1"; the rrule crate
    // allows fewer with FREQ=MONTHLY, WEEKLY and HOURLY.
    let max_pos = match freq {
        Frequency::Monthly => 31,
        Frequency::Weekly => 53,
        Frequency::Hourly => 24,
        _ => 366,
    };
    let positions = format!("positions with FREQ={freq}");
    let by_set_pos: Vec<i32> = numbers(&parts, "BYSETPOS", &positions, 1..=max_pos, true)?;
    if !by_set_pos.is_empty()
        && !parts
            .0
            .iter()
            .any(|(name, _)| name.starts_with("BY") && *name != "BYSETPOS")
    {
        return Err(RuleError::BySetPosAlone);
    }
    rule = rule.by_set_pos(by_set_pos);

    // RFC 5545 section 3.3.10, on BYMONTHDAY, BYYEARDAY and BYWEEKNO.
    let not_with = |part: &'static str, hint: &'static str| RuleError::NotWithFreq {
        part,
        freq: freq.to_string(),
        hint,
    };
    if freq == Frequency::Weekly && parts.get("BYMONTHDAY").is_some() {
        return Err(not_with(
            "BYMONTHDAY",
            "use BYDAY for days of the week, or FREQ=MONTHLY",
        ));
    }
    if matches!(
        freq,
        Frequency::Daily | Frequency::Weekly | Frequency::Monthly
    ) && parts.get("BYYEARDAY").is_some()
    {
        return Err(not_with("BYYEARDAY", "use FREQ=YEARLY"));
    }
    if freq != Frequency::Yearly && parts.get("BYWEEKNO").is_some() {
        return Err(not_with("BYWEEKNO", "use FREQ=YEARLY"));
    }

    // Whatever else the rrule crate would refuse (nothing, if the checks
    // above are complete); its checks do not depend on the start.
    let any_start = rrule::Tz::UTC.timestamp_opt(0, 0).single();
    if let Some(start) = any_start {
        rule.clone()
            .validate(start)
            .map_err(|e| RuleError::Unsupported(e.to_string()))?;
    }
    Ok(Rule { rrule: rule, until })
}

/// Splits the text into checked `NAME=VALUE` parts.
fn split(text: &str) -> Result<Parts, RuleError> {
    let text = text.trim();
    let body = match text.split_at_checked(6) {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("RRULE:") => rest.trim_start(),
        _ => text,
    };
    if body.is_empty() {
        return Err(RuleError::Empty);
    }
    let chars = body.chars().count();
    if chars > MAX_CHARS {
        return Err(RuleError::TooLong(chars));
    }
    let mut parts = Parts(Vec::new());
    for part in body.split(';') {
        if part.trim().is_empty() {
            return Err(RuleError::EmptyPart);
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(RuleError::NotNameValue(part.trim().to_owned()));
        };
        let name = name.trim();
        let Some(known) = PARTS.iter().find(|known| known.eq_ignore_ascii_case(name)) else {
            return Err(RuleError::UnknownPart(name.to_owned()));
        };
        if parts.get(known).is_some() {
            return Err(RuleError::RepeatedPart(known));
        }
        let value = value.trim();
        if value.is_empty() {
            return Err(RuleError::EmptyValue(known));
        }
        parts.0.push((known, value.to_ascii_uppercase()));
    }
    Ok(parts)
}

fn bad(part: &'static str, value: &str, expected: &str) -> RuleError {
    RuleError::BadValue {
        part,
        value: value.to_owned(),
        expected: expected.to_owned(),
    }
}

/// A part's comma-separated whole numbers, each in `range` (or, if `signed`,
/// its negation, counted from the end); empty if the part is not given.
fn numbers<T: TryFrom<i32>>(
    parts: &Parts,
    part: &'static str,
    what: &str,
    range: RangeInclusive<i32>,
    signed: bool,
) -> Result<Vec<T>, RuleError> {
    let Some(value) = parts.get(part) else {
        return Ok(Vec::new());
    };
    let (low, high) = (range.start(), range.end());
    let expected = if signed {
        format!("{what} are {low} to {high}, or -{high} to -{low} counted from the end")
    } else {
        format!("{what} are {low} to {high}")
    };
    value
        .split(',')
        .map(|item| {
            let item = item.trim();
            item.parse::<i32>()
                .ok()
                .filter(|n| {
                    range.contains(n)
                        || (signed && n.checked_neg().is_some_and(|m| range.contains(&m)))
                })
                .and_then(|n| T::try_from(n).ok())
                .ok_or_else(|| {
                    bad(
                        part,
                        item,
                        &format!("{expected}; separate several with commas"),
                    )
                })
        })
        .collect()
}

/// UNTIL: a UTC date-time (`20251231T235959Z`) or a date (`20251231`).
fn until(value: &str) -> Result<Until, RuleError> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let parsed = match value.split_once('T') {
        Some((day, time)) => time
            .strip_suffix('Z')
            .filter(|time| day.len() == 8 && time.len() == 6 && digits(day) && digits(time))
            .and_then(|_| NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").ok())
            .map(|at| Until::Instant(at.and_utc())),
        None if value.len() == 8 && digits(value) => NaiveDate::parse_from_str(value, "%Y%m%d")
            .ok()
            .map(Until::Date),
        None => None,
    };
    parsed.ok_or_else(|| {
        bad(
            "UNTIL",
            value,
            "give a UTC date-time such as 20251231T235959Z, or a date such as 20251231 \
             (the last day, in the task's time zone); a date-time without Z is not accepted, \
             as it would not say in which zone it is",
        )
    })
}

fn weekday(value: &str) -> Option<Weekday> {
    Some(match value {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

/// One BYDAY item: a weekday (`MO`), or a numbered one (`2TU`, `-1FR`).
fn by_day(item: &str, freq: Frequency, with_week_no: bool) -> Result<NWeekday, RuleError> {
    let at = item.len().saturating_sub(2);
    let Some((number, day)) = item.is_char_boundary(at).then(|| item.split_at(at)) else {
        return Err(bad(
            "BYDAY",
            item,
            "give weekdays as MO, TU, WE, TH, FR, SA, SU",
        ));
    };
    let Some(day) = weekday(day) else {
        return Err(bad(
            "BYDAY",
            item,
            "give weekdays as MO, TU, WE, TH, FR, SA, SU, separated by commas, \
             optionally numbered within the month or year (2TU, -1FR)",
        ));
    };
    if number.is_empty() {
        return Ok(NWeekday::Every(day));
    }
    // RFC 5545: the number "MUST NOT be specified [...] when the FREQ rule
    // part is not set to MONTHLY or YEARLY" nor "with the FREQ rule part set
    // to YEARLY when the BYWEEKNO rule part is specified". The ranges are the
    // rrule crate's (the RFC also allows -5 monthly and -53 yearly).
    let (low, high, what) = match freq {
        Frequency::Monthly => (
            -4,
            5,
            "within a month they are 1 to 5, or -4 to -1 from the end",
        ),
        Frequency::Yearly if !with_week_no => (
            -52,
            53,
            "within a year they are 1 to 53, or -52 to -1 from the end",
        ),
        Frequency::Yearly => {
            return Err(bad(
                "BYDAY",
                item,
                "a numbered weekday cannot go with BYWEEKNO; write the plain weekday",
            ));
        }
        _ => {
            let expected = format!(
                "a numbered weekday (2TU, -1FR) needs FREQ=MONTHLY or YEARLY; with FREQ={freq} write the plain weekday"
            );
            return Err(bad("BYDAY", item, &expected));
        }
    };
    match number.parse::<i16>() {
        Ok(n) if n != 0 && (low..=high).contains(&n) => Ok(NWeekday::Nth(n, day)),
        _ => Err(bad(
            "BYDAY",
            item,
            &format!("weekdays are numbered like 2TU or -1FR; {what}"),
        )),
    }
}

/// Whether some month of `months` (every month if empty) has some day of
/// `days` (counted from the end if negative), with February's 29th.
fn some_day_exists(months: &[u8], days: &[i8]) -> bool {
    const LONGEST: [u8; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let all: Vec<u8> = (1..=12).collect();
    let months = if months.is_empty() { &all } else { months };
    months.iter().any(|m| {
        let length = LONGEST[usize::from(*m - 1) % 12];
        days.iter().any(|d| d.unsigned_abs() <= length)
    })
}
