//! How often a task repeats, as an RFC 5545 RRULE: "every day", "every
//! weekday", "every other Monday", "every 2 weeks on Tue and Thu", "every
//! 3rd Friday", "on the last day of every month", "every year on May 4",
//! "every Monday until June", "3 times"; "every!" or "after completion" for
//! counting from the completion.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};

use crate::when::{self, Clock, Unit};
use crate::words::Word;

/// A repetition read from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    /// The RRULE body, such as `FREQ=WEEKLY;BYDAY=MO`.
    pub rule: String,
    /// Counted from each completion rather than from the schedule.
    pub from_completion: bool,
}

fn code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn lower(words: &[Word], i: usize) -> Option<&str> {
    words.get(i).filter(|w| !w.quoted).map(|w| w.lower.as_str())
}

/// Weekdays from `i`: "Tue and Thu", "Monday, Wednesday". Answers how many
/// words and the days.
fn days(words: &[Word], i: usize) -> (usize, Vec<Weekday>) {
    let mut n = 0;
    let mut days = Vec::new();
    while let Some(word) = lower(words, i + n) {
        if let Some(day) = when::weekday(word, true) {
            days.push(day);
            n += 1;
        } else if !days.is_empty()
            && matches!(word, "and" | "&")
            && lower(words, i + n + 1)
                .and_then(|w| when::weekday(w, true))
                .is_some()
        {
            n += 1;
        } else {
            break;
        }
    }
    (n, days)
}

/// Reads the repetition among the words not yet `used`, marking its words.
pub fn find(words: &[Word], used: &mut [bool], clock: &Clock) -> Option<Repeat> {
    let mut found: Option<(String, bool)> = None;
    let mut extra: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if used[i] || words[i].quoted {
            i += 1;
            continue;
        }
        let mark = |used: &mut [bool], from: usize, n: usize| {
            used[from..from + n].iter_mut().for_each(|u| *u = true);
        };
        if found.is_none()
            && let Some((n, rule, completion)) = every(words, i, false)
        {
            mark(used, i, n);
            found = Some((rule, completion));
            i += n;
            continue;
        }
        let word = lower(words, i).unwrap_or_default();
        // "after completion", "from completion", "after done"
        if matches!(word, "after" | "from")
            && matches!(
                lower(words, i + 1),
                Some("completion" | "completing" | "done" | "finishing")
            )
        {
            mark(used, i, 2);
            extra.push("completion".into());
            i += 2;
            continue;
        }
        // "3 times"
        if let Some(count) = when::number(word)
            && matches!(lower(words, i + 1), Some("times" | "more"))
        {
            let n = if lower(words, i + 2) == Some("times") {
                3
            } else {
                2
            };
            mark(used, i, n);
            extra.push(format!("COUNT={count}"));
            i += n;
            continue;
        }
        // "until June", "until March 3"
        if word == "until" && found.is_some() {
            let mut inner = vec![false; words.len()];
            inner[..=i].iter_mut().for_each(|u| *u = true);
            let is_day = |w: &str| when::ordinal(w).is_some() || w.parse::<u32>().is_ok();
            if let Some(month) = lower(words, i + 1).and_then(when::month)
                && lower(words, i + 2).is_none_or(|w| !is_day(w))
            {
                // Up to the month's first day.
                let today = clock.today();
                let year = if month > today.month() {
                    today.year()
                } else {
                    today.year() + 1
                };
                let first = NaiveDate::from_ymd_opt(year, month, 1)?;
                let end = clock.at(first, NaiveTime::MIN) - Duration::seconds(1);
                extra.push(format!("UNTIL={}", end.to_utc().format("%Y%m%dT%H%M%SZ")));
                mark(used, i, 2);
                i += 2;
                continue;
            }
            let when = when::find(words, &mut inner, clock);
            if let Some(date) = when.date {
                let end = clock.at(date, NaiveTime::from_hms_opt(23, 59, 59)?);
                extra.push(format!("UNTIL={}", end.to_utc().format("%Y%m%dT%H%M%SZ")));
                let taken = inner.iter().skip(i + 1).take_while(|u| **u).count();
                mark(used, i, 1 + taken);
                i += 1 + taken;
                continue;
            }
        }
        i += 1;
    }
    // "daily", "weekly": only when no "every ..." said more ("weekly
    // review every Friday" is a review every Friday).
    if found.is_none() {
        for i in 0..words.len() {
            if !used[i]
                && let Some((n, rule, completion)) = every(words, i, true)
            {
                used[i..i + n].iter_mut().for_each(|u| *u = true);
                found = Some((rule, completion));
                break;
            }
        }
    }
    let (mut rule, mut completion) = found?;
    for part in extra {
        if part == "completion" {
            completion = true;
        } else {
            rule.push(';');
            rule.push_str(&part);
        }
    }
    Some(Repeat {
        rule,
        from_completion: completion,
    })
}

/// "every ...", "daily", "weekly", "monthly", "yearly", "on the last day of
/// every month": answers how many words, the rule and whether it counts
/// from completion ("every!").
fn every(words: &[Word], i: usize, adverbs: bool) -> Option<(usize, String, bool)> {
    let word = lower(words, i)?;
    let simple = |freq: &str| Some((1, format!("FREQ={freq}"), false));
    match word {
        "daily" | "weekly" | "monthly" | "yearly" | "annually" | "hourly" if !adverbs => {
            return None;
        }
        "daily" => return simple("DAILY"),
        "weekly" => return simple("WEEKLY"),
        "monthly" => return simple("MONTHLY"),
        "yearly" | "annually" => return simple("YEARLY"),
        "hourly" => return simple("HOURLY"),
        "weekdays" if i > 0 && lower(words, i - 1) == Some("on") => {
            return Some((1, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".into(), false));
        }
        _ => {}
    }
    // "on the last day of every month", "the 15th of every month"
    if let Some(start) = [0usize, 1].into_iter().find(|lead| {
        (*lead == 0 || lower(words, i) == Some("on")) && lower(words, i + lead) == Some("the")
    }) {
        let at = i + start + 1;
        let (day, n) = match (lower(words, at), lower(words, at + 1)) {
            (Some("last"), Some("day")) => (-1, 2),
            (Some(o), _) if o.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                (when::ordinal(o)?, 1)
            }
            _ => return None,
        };
        if lower(words, at + n) == Some("of")
            && matches!(lower(words, at + n + 1), Some("every" | "each"))
            && lower(words, at + n + 2) == Some("month")
        {
            return Some((
                start + 1 + n + 3,
                format!("FREQ=MONTHLY;BYMONTHDAY={day}"),
                false,
            ));
        }
        return None;
    }
    let completion = match word {
        "every!" => true,
        "every" | "each" => false,
        _ => return None,
    };
    let mut n = 1;
    let mut interval = 1;
    if lower(words, i + n) == Some("other") {
        interval = 2;
        n += 1;
    } else if let Some(k) = lower(words, i + n).and_then(when::number)
        && lower(words, i + n + 1)
            .is_some_and(|w| !w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w != "of")
        && when::ordinal(lower(words, i + n).unwrap_or_default()).is_none()
    {
        interval = k;
        n += 1;
    }
    // INTERVAL right after FREQ.
    let with_interval = |rule: String| match (interval, rule.split_once(';')) {
        (1, _) => rule,
        (_, Some((freq, rest))) => format!("{freq};INTERVAL={interval};{rest}"),
        (_, None) => format!("{rule};INTERVAL={interval}"),
    };
    let next = lower(words, i + n)?;
    // every weekday / workday
    if matches!(
        next,
        "weekday" | "workday" | "weekdays" | "workdays" | "business"
    ) {
        let m = if next == "business" { 2 } else { 1 };
        return Some((n + m, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".into(), completion));
    }
    if matches!(next, "weekend" | "weekends") {
        return Some((n + 1, "FREQ=WEEKLY;BYDAY=SA,SU".into(), completion));
    }
    // every [other] Monday [and Thursday]
    let (k, list) = days(words, i + n);
    if !list.is_empty() {
        let codes: Vec<&str> = list.iter().map(|d| code(*d)).collect();
        let rule = with_interval(format!("FREQ=WEEKLY;BYDAY={}", codes.join(",")));
        return Some((n + k, rule, completion));
    }
    // every 3rd Friday, every last Friday [of the month]
    if let Some(ord) = when::ordinal(next)
        && let Some(day) = lower(words, i + n + 1).and_then(|w| when::weekday(w, true))
    {
        let mut m = n + 2;
        if lower(words, i + m) == Some("of")
            && lower(words, i + m + 1) == Some("the")
            && lower(words, i + m + 2) == Some("month")
        {
            m += 3;
        }
        return Some((
            m,
            format!("FREQ=MONTHLY;BYDAY={ord}{}", code(day)),
            completion,
        ));
    }
    // every 15th (of the month)
    if let Some(ord) =
        when::ordinal(next).filter(|_| next.chars().next().is_some_and(|c| c.is_ascii_digit()))
    {
        let mut m = n + 1;
        if lower(words, i + m) == Some("of")
            && lower(words, i + m + 1) == Some("the")
            && lower(words, i + m + 2) == Some("month")
        {
            m += 3;
        }
        return Some((m, format!("FREQ=MONTHLY;BYMONTHDAY={ord}"), completion));
    }
    // every May 4
    if let Some(month) = when::month(next)
        && let Some(day) =
            lower(words, i + n + 1).and_then(|w| when::ordinal(w).or_else(|| w.parse().ok()))
    {
        return Some((
            n + 2,
            format!("FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={day}"),
            completion,
        ));
    }
    let unit = match next.trim_end_matches('s') {
        "day" => Unit::Days,
        "week" => Unit::Weeks,
        "month" => Unit::Months,
        "year" => Unit::Years,
        "hour" => Unit::Hours,
        _ => return None,
    };
    let freq = match unit {
        Unit::Days => "DAILY",
        Unit::Weeks => "WEEKLY",
        Unit::Months => "MONTHLY",
        Unit::Years => "YEARLY",
        _ => "HOURLY",
    };
    n += 1;
    let mut rule = format!("FREQ={freq}");
    // "... on Tue and Thu", "... on the last day", "... on May 4", "... on the 15th"
    if lower(words, i + n) == Some("on") {
        let (k, list) = days(words, i + n + 1);
        if unit == Unit::Weeks && !list.is_empty() {
            let codes: Vec<&str> = list.iter().map(|d| code(*d)).collect();
            rule.push_str(&format!(";BYDAY={}", codes.join(",")));
            n += 1 + k;
        } else if unit == Unit::Months && lower(words, i + n + 1) == Some("the") {
            match (lower(words, i + n + 2), lower(words, i + n + 3)) {
                (Some("last"), Some("day")) => {
                    rule.push_str(";BYMONTHDAY=-1");
                    n += 4;
                }
                (Some(o), _) if let Some(day) = when::ordinal(o) => {
                    rule.push_str(&format!(";BYMONTHDAY={day}"));
                    n += 3;
                }
                _ => {}
            }
        } else if unit == Unit::Years
            && let Some(month) = lower(words, i + n + 1).and_then(when::month)
            && let Some(day) =
                lower(words, i + n + 2).and_then(|w| when::ordinal(w).or_else(|| w.parse().ok()))
        {
            rule.push_str(&format!(";BYMONTH={month};BYMONTHDAY={day}"));
            n += 3;
        }
    }
    Some((n, with_interval(rule), completion))
}
