//! iCalendar (RFC 5545) as it is written: a [`Writer`] of content lines
//! (folded at 75 octets, text escaped, every line ended with CRLF) and the
//! `VTIMEZONE` of a zone of the tz database ([`Writer::vtimezone`]), with
//! every change of its offset over a span of years.
//!
//! Pure and deterministic: the same calls give the same bytes, so that a
//! feed's body can be its own `ETag`. (The `icalendar` crate writes a
//! `DTSTAMP` of the moment and a random `UID` into every component that has
//! none, time zone observances included, which a feed cannot have.)

#![warn(missing_docs)]

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// The longest a content line may be, in octets, without its CRLF
/// (RFC 5545, 3.1).
pub const LINE_OCTETS: usize = 75;

/// An iCalendar object being written, one content line at a time.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// Nothing written yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `BEGIN:{component}`.
    pub fn begin(&mut self, component: &str) -> &mut Self {
        self.line("BEGIN", &[], component)
    }

    /// `END:{component}`.
    pub fn end(&mut self, component: &str) -> &mut Self {
        self.line("END", &[], component)
    }

    /// A property whose value is written as given (a date-time, a number, a
    /// rule): `name;param=value;...:value`. Parameter values holding a
    /// colon, a semicolon or a comma are quoted.
    pub fn property(&mut self, name: &str, params: &[(&str, &str)], value: &str) -> &mut Self {
        self.line(name, params, value)
    }

    /// A property of type TEXT, escaped as RFC 5545, 3.3.11 says.
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        self.line(name, &[], &escape(value))
    }

    /// A property of several TEXT values, each escaped, separated by
    /// commas (`CATEGORIES`).
    pub fn texts<'a>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        let joined: Vec<String> = values.into_iter().map(escape).collect();
        self.line(name, &[], &joined.join(","))
    }

    /// A DATE-TIME in UTC: `20261205T090000Z`.
    pub fn utc(&mut self, name: &str, at: DateTime<Utc>) -> &mut Self {
        self.line(name, &[], &utc(at))
    }

    /// A DATE-TIME on the wall clock of `zone`: with `TZID`, or in UTC when
    /// the zone is UTC (which needs no `VTIMEZONE`).
    pub fn zoned(&mut self, name: &str, at: DateTime<FixedOffset>, zone: Tz) -> &mut Self {
        if zone == Tz::UTC {
            return self.utc(name, at.to_utc());
        }
        let wall = at.with_timezone(&zone).naive_local();
        self.line(name, &[("TZID", zone.name())], &local(wall))
    }

    /// The `VTIMEZONE` of `zone` with the offset in force at the start of
    /// year `from` and every change of it until the end of year `until`.
    ///
    /// Each change is an observance of its own (`STANDARD`, or `DAYLIGHT`
    /// when the zone's rules call it daylight saving time), without
    /// `RRULE`: its `DTSTART` is the wall-clock time the change happens at
    /// in the offset before it (RFC 5545, 3.6.5). Past `until` a reader
    /// keeps the last offset; readers that know the zone's name (Google
    /// Calendar, Apple Calendar) use their own rules.
    pub fn vtimezone(&mut self, zone: Tz, from: i32, until: i32) -> &mut Self {
        self.begin("VTIMEZONE").property("TZID", &[], zone.name());
        for change in changes(zone, from, until) {
            let kind = if change.daylight {
                "DAYLIGHT"
            } else {
                "STANDARD"
            };
            let wall = change.at.naive_utc() + TimeDelta::seconds(change.from.into());
            self.begin(kind)
                .property("DTSTART", &[], &local(wall))
                .property("TZOFFSETFROM", &[], &offset(change.from))
                .property("TZOFFSETTO", &[], &offset(change.to));
            if let Some(name) = &change.name {
                self.text("TZNAME", name);
            }
            self.end(kind);
        }
        self.end("VTIMEZONE")
    }

    /// What was written.
    pub fn finish(self) -> String {
        self.out
    }

    fn line(&mut self, name: &str, params: &[(&str, &str)], value: &str) -> &mut Self {
        let mut line = String::with_capacity(name.len() + value.len() + 1);
        line.push_str(name);
        for (param, param_value) in params {
            line.push(';');
            line.push_str(param);
            line.push('=');
            if param_value.contains([':', ';', ',']) {
                line.push('"');
                line.push_str(&param_value.replace('"', "'"));
                line.push('"');
            } else {
                line.push_str(param_value);
            }
        }
        line.push(':');
        line.push_str(value);
        fold_into(&mut self.out, &line);
        self
    }
}

/// TEXT escaped (RFC 5545, 3.3.11): a backslash, semicolon or comma gets a
/// backslash before it, a line break is `\n`.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => escaped.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() && c != '\t' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// `line` appended to `out` folded (RFC 5545, 3.1): no line longer than
/// [`LINE_OCTETS`], a continuation starting with a space, never splitting
/// a character's UTF-8 octets; each line ended with CRLF.
fn fold_into(out: &mut String, line: &str) {
    let mut room = LINE_OCTETS;
    let mut start = 0;
    for (at, c) in line.char_indices() {
        if at - start + c.len_utf8() > room {
            out.push_str(&line[start..at]);
            out.push_str("\r\n ");
            start = at;
            // The space that starts a continuation is one of its octets.
            room = LINE_OCTETS - 1;
        }
    }
    out.push_str(&line[start..]);
    out.push_str("\r\n");
}

/// `20261205T090000Z`.
pub fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// `20261205T090000`: a wall-clock time (FORM #1, or #3 with a `TZID`).
pub fn local(wall: NaiveDateTime) -> String {
    wall.format("%Y%m%dT%H%M%S").to_string()
}

/// A UTC offset as TZOFFSETFROM and TZOFFSETTO write it: `+0100`, or
/// `-001530` when it has seconds.
fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (hours, minutes, secs) = (abs / 3600, abs / 60 % 60, abs % 60);
    if secs == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{secs:02}")
    }
}

/// One observance of a zone: from instant `at` on, the offset is `to`
/// seconds (it was `from`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    at: DateTime<Utc>,
    from: i32,
    to: i32,
    daylight: bool,
    name: Option<String>,
}

/// What `zone` says at `at`: its offset in seconds, whether that is
/// daylight saving time, and its abbreviation.
fn observed(zone: Tz, at: DateTime<Utc>) -> (i32, bool, Option<String>) {
    let offset = zone.offset_from_utc_datetime(&at.naive_utc());
    let seconds = offset.fix().local_minus_utc();
    let daylight = !offset.dst_offset().is_zero();
    (seconds, daylight, offset.abbreviation().map(str::to_owned))
}

/// The observance in force at the start of year `from` (as a change from
/// and to its own offset, at that moment), then every change of `zone`'s
/// offset, daylight flag or abbreviation until the end of year `until`.
///
/// The tz database's transitions are not public in `chrono_tz`: the zone
/// is read day by day and each change found to the second between the two
/// days that differ.
fn changes(zone: Tz, from: i32, until: i32) -> Vec<Change> {
    let day = TimeDelta::days(1);
    let year_start = |year: i32| {
        NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|wall| wall.and_utc())
    };
    let (Some(first), Some(end)) = (year_start(from), year_start(until.saturating_add(1))) else {
        return Vec::new();
    };
    let (seconds, daylight, name) = observed(zone, first);
    // The wall clock at the start of the year, read in the offset then.
    let start = first - TimeDelta::seconds(seconds.into());
    let mut found = vec![Change {
        at: start,
        from: seconds,
        to: seconds,
        daylight,
        name,
    }];
    let mut at = first;
    let mut now = observed(zone, at);
    while at < end {
        let next = observed(zone, at + day);
        if next != now {
            // The first second of the day that observes `next`.
            let (mut before, mut after) = (at.timestamp(), (at + day).timestamp());
            while after - before > 1 {
                let middle = before + (after - before) / 2;
                let seen = DateTime::from_timestamp(middle, 0).map(|m| observed(zone, m));
                if seen.as_ref() == Some(&now) {
                    before = middle;
                } else {
                    after = middle;
                }
            }
            let Some(after) = DateTime::from_timestamp(after, 0) else {
                break;
            };
            let before = std::mem::replace(&mut now, observed(zone, after));
            let (to, daylight, name) = now.clone();
            found.push(Change {
                at: after,
                from: before.0,
                to,
                daylight,
                name,
            });
        }
        at += day;
    }
    found.retain(|change| change.at.year() <= until);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(written: &str) -> Vec<&str> {
        written
            .split("\r\n")
            .filter(|line| !line.is_empty())
            .collect()
    }

    #[test]
    fn lines_longer_than_75_octets_are_folded_and_every_line_ends_with_crlf() {
        // RFC 5545, 3.1: "Lines of text SHOULD NOT be longer than 75 octets,
        // excluding the line break. Long content lines SHOULD be split into
        // a multiple line representations using a line "folding" technique.
        // That is, a long line can be split between any two characters by
        // inserting a CRLF immediately followed by a single linear white-space
        // character."
        let mut w = Writer::new();
        let summary = "Ünïcödé ".repeat(20);
        w.text("SUMMARY", &summary);
        let written = w.finish();
        assert!(written.ends_with("\r\n"));
        assert!(!written.replace("\r\n", "").contains('\n'));
        for line in written.split("\r\n") {
            assert!(line.len() <= LINE_OCTETS, "{} octets: {line:?}", line.len());
        }
        // "Unfolding is accomplished by removing the CRLF and the linear
        // white-space character that immediately follows."
        let unfolded = written.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{summary}"));
    }

    #[test]
    fn text_is_escaped() {
        // RFC 5545, 3.3.11: "text = *(TSAFE-CHAR / ":" / DQUOTE / ESCAPED-CHAR)
        // ; Folded according to description above
        // ESCAPED-CHAR = ("\\" / "\;" / "\," / "\N" / "\n")"
        assert_eq!(
            escape("Buy milk, eggs; bread\\butter\r\nthen: call \"Bob\""),
            "Buy milk\\, eggs\\; bread\\\\butter\\nthen: call \"Bob\""
        );
        assert_eq!(escape("bell\u{7}less"), "bellless");
        let mut w = Writer::new();
        w.texts("CATEGORIES", ["work", "a,b"]);
        assert_eq!(w.finish(), "CATEGORIES:work,a\\,b\r\n");
    }

    #[test]
    fn parameter_values_with_separators_are_quoted() {
        let mut w = Writer::new();
        w.property("X-A", &[("P", "a:b"), ("Q", "plain")], "v");
        assert_eq!(w.finish(), "X-A;P=\"a:b\";Q=plain:v\r\n");
    }

    #[test]
    fn a_time_in_a_zone_names_it_and_utc_needs_none() {
        let berlin: Tz = "Europe/Berlin".parse().expect("a zone");
        let at = DateTime::parse_from_rfc3339("2026-07-01T09:00:00+02:00").expect("a time");
        let mut w = Writer::new();
        w.zoned("DTSTART", at, berlin).zoned("DTSTART", at, Tz::UTC);
        assert_eq!(
            lines(&w.finish()),
            [
                "DTSTART;TZID=Europe/Berlin:20260701T090000",
                "DTSTART:20260701T070000Z"
            ]
        );
    }

    #[test]
    fn berlins_zone_has_its_two_changes_a_year() {
        let berlin: Tz = "Europe/Berlin".parse().expect("a zone");
        let mut w = Writer::new();
        w.vtimezone(berlin, 2026, 2026);
        let written = w.finish();
        // RFC 5545, 3.6.5: "The "DTSTART" property [...] MUST be specified
        // as a date with a local time value" and "TZOFFSETFROM [...] the
        // UTC offset that is in use when the onset of this time zone
        // observance begins".
        assert_eq!(
            lines(&written),
            [
                "BEGIN:VTIMEZONE",
                "TZID:Europe/Berlin",
                "BEGIN:STANDARD",
                "DTSTART:20260101T000000",
                "TZOFFSETFROM:+0100",
                "TZOFFSETTO:+0100",
                "TZNAME:CET",
                "END:STANDARD",
                "BEGIN:DAYLIGHT",
                "DTSTART:20260329T020000",
                "TZOFFSETFROM:+0100",
                "TZOFFSETTO:+0200",
                "TZNAME:CEST",
                "END:DAYLIGHT",
                "BEGIN:STANDARD",
                "DTSTART:20261025T030000",
                "TZOFFSETFROM:+0200",
                "TZOFFSETTO:+0100",
                "TZNAME:CET",
                "END:STANDARD",
                "END:VTIMEZONE",
            ]
        );
    }

    #[test]
    fn a_zone_south_of_the_equator_and_one_without_changes() {
        let sydney: Tz = "Australia/Sydney".parse().expect("a zone");
        let found = changes(sydney, 2027, 2027);
        let summary: Vec<_> = (found.iter())
            .map(|c| (c.at.to_rfc3339(), c.from, c.to, c.daylight))
            .collect();
        assert_eq!(
            summary,
            [
                ("2026-12-31T13:00:00+00:00".to_owned(), 39600, 39600, true),
                ("2027-04-03T16:00:00+00:00".to_owned(), 39600, 36000, false),
                ("2027-10-02T16:00:00+00:00".to_owned(), 36000, 39600, true),
            ]
        );
        let kolkata: Tz = "Asia/Kolkata".parse().expect("a zone");
        assert_eq!(changes(kolkata, 2026, 2036).len(), 1);
        assert_eq!(offset(19800), "+0530");
        assert_eq!(offset(-(3600 + 15 * 60 + 30)), "-011530");
    }
}
