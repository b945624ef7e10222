//! What a rule's text may be, and a few series by hand; the series of
//! hundreds of rules are compared with python-dateutil in `tests/dateutil.rs`.
//! RFC 5545 text quoted is from section 3.3.10 ("Recurrence Rule") unless
//! said otherwise.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;

fn refused(text: &str) -> RuleError {
    match Rule::parse(text) {
        Ok(rule) => panic!("{text:?} was accepted: {rule:?}"),
        Err(e) => e,
    }
}

fn accepted(text: &str) -> Rule {
    Rule::parse(text).unwrap_or_else(|e| panic!("{text:?} was refused: {e}"))
}

fn bad_value(error: RuleError) -> (&'static str, String) {
    match error {
        RuleError::BadValue { part, value, .. } => (part, value),
        other => panic!("not a BadValue: {other:?}"),
    }
}

fn at(zone: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Tz> {
    zone.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a plain wall time")
}

fn utc(series: impl Iterator<Item = DateTime<Tz>>) -> Vec<String> {
    series
        .map(|t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%M").to_string())
        .collect()
}

#[test]
fn a_rule_is_name_value_parts_in_any_case_with_an_optional_prefix() {
    for text in [
        "FREQ=WEEKLY;BYDAY=MO,WE",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,WE",
        "rrule:freq=weekly;byday=mo,we",
        " FREQ = WEEKLY ; BYDAY = MO, WE ",
        "BYDAY=MO,WE;FREQ=WEEKLY",
    ] {
        let rule = accepted(text);
        assert_eq!(rule, accepted("FREQ=WEEKLY;BYDAY=MO,WE"), "{text}");
    }
}

#[test]
fn the_shape_of_the_text_is_checked() {
    assert_eq!(refused(""), RuleError::Empty);
    assert_eq!(refused("RRULE: "), RuleError::Empty);
    assert_eq!(refused("FREQ=DAILY;;COUNT=2"), RuleError::EmptyPart);
    assert_eq!(refused("FREQ=DAILY;"), RuleError::EmptyPart);
    assert_eq!(
        refused("FREQ=DAILY;COUNT"),
        RuleError::NotNameValue("COUNT".into())
    );
    assert_eq!(refused("FREQ=DAILY;BYDAY="), RuleError::EmptyValue("BYDAY"));
    assert_eq!(refused("BYDAY=MO"), RuleError::MissingFreq);
}

#[test]
fn a_rule_is_at_most_500_characters() {
    // "FREQ=DAILY;BYHOUR=" and a value of leading zeros and a 1.
    let of_length = |n: usize| format!("FREQ=DAILY;BYHOUR={}1", "0".repeat(n - 19));
    accepted(&of_length(500));
    accepted(&format!("RRULE:{}", of_length(500)));
    assert_eq!(refused(&of_length(501)), RuleError::TooLong(501));
}

#[test]
fn only_the_parts_rfc_5545_defines_each_once() {
    // "recur-rule-part = ( "FREQ" "=" freq ) / ( "UNTIL" "=" enddate ) / ...
    //  / ( "WKST" "=" weekday )"
    assert_eq!(
        refused("FREQ=DAILY;BYEASTER=0"),
        RuleError::UnknownPart("BYEASTER".into())
    );
    assert_eq!(
        refused("FREQ=DAILY;X-COLOR=red"),
        RuleError::UnknownPart("X-COLOR".into())
    );
    // "each rule part MUST NOT occur more than once"
    assert_eq!(
        refused("FREQ=DAILY;BYDAY=MO;BYDAY=WE"),
        RuleError::RepeatedPart("BYDAY")
    );
    assert_eq!(
        refused("FREQ=DAILY;freq=WEEKLY"),
        RuleError::RepeatedPart("FREQ")
    );
}

#[test]
fn a_task_repeats_at_most_hourly() {
    accepted("FREQ=HOURLY");
    for freq in ["MINUTELY", "SECONDLY"] {
        let error = refused(&format!("FREQ={freq}"));
        assert_eq!(error, RuleError::TooFrequent(freq.into()));
        assert!(
            error
                .to_string()
                .contains("cannot repeat more often than hourly"),
            "{error}"
        );
    }
    assert_eq!(
        bad_value(refused("FREQ=FORTNIGHTLY")),
        ("FREQ", "FORTNIGHTLY".into())
    );
}

#[test]
fn count_and_until_do_not_go_together() {
    // "The UNTIL or COUNT rule parts are OPTIONAL, but they MUST NOT occur in
    // the same 'recur'."
    assert_eq!(
        refused("FREQ=DAILY;COUNT=3;UNTIL=20251231T000000Z"),
        RuleError::CountAndUntil
    );
    assert_eq!(accepted("FREQ=DAILY;COUNT=3").count(), Some(3));
    assert_eq!(accepted("FREQ=DAILY").count(), None);
    assert_eq!(
        bad_value(refused("FREQ=DAILY;COUNT=0")),
        ("COUNT", "0".into())
    );
}

#[test]
fn until_is_a_utc_date_time_or_a_date() {
    // "If specified as a DATE-TIME value, then it MUST be specified in a UTC
    // time format."
    let end = Utc.with_ymd_and_hms(2025, 12, 31, 23, 59, 59).single();
    assert_eq!(
        accepted("FREQ=DAILY;UNTIL=20251231T235959Z").until(),
        end.map(Until::Instant)
    );
    let day = NaiveDate::from_ymd_opt(2025, 12, 31);
    assert_eq!(
        accepted("FREQ=DAILY;UNTIL=20251231").until(),
        day.map(Until::Date)
    );
    assert_eq!(accepted("FREQ=DAILY").until(), None);
    for wrong in [
        "20251231T235959",
        "2025-12-31",
        "20251331",
        "20251231T246000Z",
        "+2025123",
    ] {
        let error = refused(&format!("FREQ=DAILY;UNTIL={wrong}"));
        assert_eq!(bad_value(error.clone()), ("UNTIL", wrong.into()));
        assert!(error.to_string().contains("20251231T235959Z"), "{error}");
    }
}

#[test]
fn numbers_are_in_their_ranges() {
    // "The INTERVAL rule part contains a positive integer"
    assert_eq!(
        bad_value(refused("FREQ=DAILY;INTERVAL=0")),
        ("INTERVAL", "0".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=DAILY;INTERVAL=-1")),
        ("INTERVAL", "-1".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=DAILY;BYHOUR=9,24")),
        ("BYHOUR", "24".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=DAILY;BYMINUTE=60")),
        ("BYMINUTE", "60".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=DAILY;BYSECOND=60")),
        ("BYSECOND", "60".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=YEARLY;BYMONTH=13")),
        ("BYMONTH", "13".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=MONTHLY;BYMONTHDAY=0")),
        ("BYMONTHDAY", "0".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=MONTHLY;BYMONTHDAY=1,,2")),
        ("BYMONTHDAY", "".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=MONTHLY;BYMONTHDAY=-32")),
        ("BYMONTHDAY", "-32".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=YEARLY;BYYEARDAY=367")),
        ("BYYEARDAY", "367".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=YEARLY;BYWEEKNO=54")),
        ("BYWEEKNO", "54".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=DAILY;WKST=XX")),
        ("WKST", "XX".into())
    );
    accepted("FREQ=MONTHLY;BYMONTHDAY=1,-1,+15");
}

#[test]
fn weekdays_are_numbered_only_within_a_month_or_a_year() {
    accepted("FREQ=MONTHLY;BYDAY=2TU,-1FR,+1MO");
    accepted("FREQ=YEARLY;BYDAY=20MO");
    // "The BYDAY rule part MUST NOT be specified with a numeric value when
    // the FREQ rule part is not set to MONTHLY or YEARLY."
    for freq in ["WEEKLY", "DAILY", "HOURLY"] {
        let error = refused(&format!("FREQ={freq};BYDAY=2TU"));
        assert_eq!(bad_value(error.clone()), ("BYDAY", "2TU".into()));
        assert!(
            error.to_string().contains("needs FREQ=MONTHLY or YEARLY"),
            "{error}"
        );
    }
    // "Furthermore, the BYDAY rule part MUST NOT be specified with a numeric
    // value with the FREQ rule part set to YEARLY when the BYWEEKNO rule part
    // is specified."
    assert_eq!(
        bad_value(refused("FREQ=YEARLY;BYWEEKNO=20;BYDAY=1MO")),
        ("BYDAY", "1MO".into())
    );
    for wrong in ["0MO", "6MO", "-5FR", "XX", "MÖ", "Ö", "1", "1 MO"] {
        let error = refused(&format!("FREQ=MONTHLY;BYDAY={wrong}"));
        assert_eq!(bad_value(error).0, "BYDAY", "{wrong}");
    }
}

#[test]
fn by_parts_go_with_the_frequencies_rfc_5545_allows() {
    // "The BYMONTHDAY rule part MUST NOT be specified when the FREQ rule part
    // is set to WEEKLY."
    assert!(matches!(
        refused("FREQ=WEEKLY;BYMONTHDAY=1"),
        RuleError::NotWithFreq {
            part: "BYMONTHDAY",
            ..
        }
    ));
    // "The BYYEARDAY rule part MUST NOT be specified when the FREQ rule part
    // is set to DAILY, WEEKLY, or MONTHLY."
    for freq in ["DAILY", "WEEKLY", "MONTHLY"] {
        let error = refused(&format!("FREQ={freq};BYYEARDAY=1"));
        assert!(
            matches!(
                error,
                RuleError::NotWithFreq {
                    part: "BYYEARDAY",
                    ..
                }
            ),
            "{error}"
        );
    }
    accepted("FREQ=YEARLY;BYYEARDAY=1,-1");
    // BYWEEKNO: "This rule part MUST NOT be used when the FREQ rule part is
    // set to anything other than YEARLY."
    let error = refused("FREQ=MONTHLY;BYWEEKNO=1");
    assert_eq!(
        error.to_string(),
        "BYWEEKNO cannot be used with FREQ=MONTHLY (RFC 5545); use FREQ=YEARLY"
    );
}

#[test]
fn bysetpos_picks_from_another_by_part() {
    // "It MUST only be used in conjunction with another BYxxx rule part."
    assert_eq!(
        refused("FREQ=MONTHLY;BYSETPOS=-1"),
        RuleError::BySetPosAlone
    );
    assert_eq!(
        refused("FREQ=MONTHLY;WKST=SU;BYSETPOS=-1"),
        RuleError::BySetPosAlone
    );
    accepted("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1");
    assert_eq!(
        bad_value(refused("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0")),
        ("BYSETPOS", "0".into())
    );
    assert_eq!(
        bad_value(refused("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=32")),
        ("BYSETPOS", "32".into())
    );
    accepted("FREQ=YEARLY;BYDAY=MO;BYSETPOS=-366");
}

#[test]
fn days_that_no_month_has_are_refused() {
    accepted("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29");
    accepted("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-29");
    accepted("FREQ=MONTHLY;BYMONTHDAY=31");
    assert_eq!(
        refused("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"),
        RuleError::NoSuchDay("30".into())
    );
    assert_eq!(
        refused("FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31,-31"),
        RuleError::NoSuchDay("31,-31".into())
    );
}

#[test]
fn messages_say_what_is_wrong_and_what_to_write() {
    let message = |text: &str| refused(text).to_string();
    assert_eq!(
        message("FREQ=MINUTELY"),
        "FREQ=MINUTELY is not allowed: a task cannot repeat more often than hourly; \
         use FREQ=HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY"
    );
    assert_eq!(
        message("FREQ=MONTHLY;BYMONTHDAY=32"),
        "BYMONTHDAY cannot be \"32\": days of the month are 1 to 31, or -31 to -1 counted from the end; \
         separate several with commas"
    );
    assert_eq!(
        message("FREQ=WEEKLY;BYDAY=MO;BYDAY=WE"),
        "BYDAY is given more than once; give it once, with several values separated by commas (e.g. BYDAY=MO,WE)"
    );
    assert_eq!(
        message("FREQ=MONTHLY;BYDAY=6MO"),
        "BYDAY cannot be \"6MO\": weekdays are numbered like 2TU or -1FR; \
         within a month they are 1 to 5, or -4 to -1 from the end"
    );
}

#[test]
fn the_start_counts_only_if_it_matches() {
    // RFC 5545: 'The "DTSTART" property value always counts as the first
    // occurrence.' dateutil (and so this crate) yields it only if the rule
    // matches it: from a Monday, two Tuesdays.
    let berlin = Tz::Europe__Berlin;
    let rule = accepted("FREQ=WEEKLY;BYDAY=TU;COUNT=2");
    let series = utc(rule.occurrences(at(berlin, 2025, 6, 2, 9, 0)));
    assert_eq!(series, ["2025-06-03 07:00", "2025-06-10 07:00"]);
}

#[test]
fn a_series_without_an_end_is_lazy() {
    let rule = accepted("FREQ=DAILY");
    let start = at(Tz::Asia__Kolkata, 2030, 1, 1, 9, 0);
    assert_eq!(rule.occurrences(start).take(3).count(), 3);
    assert_eq!(
        rule.occurrences(start).nth(10_000).map(|t| t.date_naive()),
        NaiveDate::from_ymd_opt(2057, 5, 19)
    );
}

#[test]
fn a_series_that_never_matches_ends() {
    // dateutil searches up to the year 9999; so does this crate (or for
    // 100,000 periods, which comes first).
    let rule = accepted("FREQ=YEARLY;BYMONTH=2"); // on the start's day, the 30th
    assert_eq!(
        rule.occurrences(at(Tz::UTC, 2025, 1, 30, 9, 0)).next(),
        None
    );
}

#[test]
fn parts_of_a_second_of_the_start_are_dropped() {
    let start = at(Tz::UTC, 2025, 1, 1, 9, 0) + chrono::TimeDelta::milliseconds(500);
    let first = accepted("FREQ=DAILY").occurrences(start).next();
    assert_eq!(first, Some(at(Tz::UTC, 2025, 1, 1, 9, 0)));
}

#[test]
fn until_as_a_date_is_the_last_day_in_the_zone() {
    // 23:30 in Chatham (+13:45) is 09:45 UTC the same day.
    let rule = accepted("FREQ=DAILY;UNTIL=20250331");
    let series = utc(rule.occurrences(at(Tz::Pacific__Chatham, 2025, 3, 29, 23, 30)));
    assert_eq!(
        series,
        ["2025-03-29 09:45", "2025-03-30 09:45", "2025-03-31 09:45"]
    );
    // While UNTIL in UTC is an instant: 09:45 UTC on the 30th is the last.
    let rule = accepted("FREQ=DAILY;UNTIL=20250330T094500Z");
    let series = utc(rule.occurrences(at(Tz::Pacific__Chatham, 2025, 3, 29, 23, 30)));
    assert_eq!(series, ["2025-03-29 09:45", "2025-03-30 09:45"]);
}

#[test]
fn wall_times_the_clocks_skip_or_repeat_are_resolved_as_python_does() {
    let wall =
        |y, mo, d, h, mi| NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, 0));
    let instant = |zone, wall: Option<NaiveDateTime>| {
        wall.and_then(|wall| in_zone(zone, wall))
            .map(|t| t.with_timezone(&Utc).format("%H:%M %:z").to_string())
    };
    let shown = |zone, wall: Option<NaiveDateTime>| {
        wall.and_then(|w| in_zone(zone, w)).map(|t| t.to_rfc3339())
    };
    let berlin = Tz::Europe__Berlin;
    // Spring forward, 02:00 CET to 03:00 CEST: 02:30 takes CET's offset.
    assert_eq!(
        instant(berlin, wall(2025, 3, 30, 2, 30)).as_deref(),
        Some("01:30 +00:00")
    );
    assert_eq!(
        shown(berlin, wall(2025, 3, 30, 2, 30)).as_deref(),
        Some("2025-03-30T03:30:00+02:00")
    );
    // Fall back, 03:00 CEST to 02:00 CET: 02:30 is the first, in CEST.
    assert_eq!(
        shown(berlin, wall(2025, 10, 26, 2, 30)).as_deref(),
        Some("2025-10-26T02:30:00+02:00")
    );
    // Santiago skips midnight (00:00 -04 to 01:00 -03).
    let santiago = Tz::America__Santiago;
    assert_eq!(
        shown(santiago, wall(2025, 9, 7, 0, 30)).as_deref(),
        Some("2025-09-07T01:30:00-03:00")
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Whatever the text, parsing it answers, and a rule it accepts yields.
    #[test]
    fn any_text_is_accepted_or_refused_without_a_panic(
        parts in proptest::collection::vec(
            (
                "FREQ|UNTIL|COUNT|INTERVAL|BYSECOND|BYMINUTE|BYHOUR|BYDAY|BYMONTHDAY|BYYEARDAY|BYWEEKNO|BYMONTH|BYSETPOS|WKST|X|",
                "=?",
                "DAILY|WEEKLY|MONTHLY|YEARLY|HOURLY|[-+]?[0-9]{1,3}(,[-+]?[0-9]{1,3}){0,3}|[-+]?[0-9]?(MO|FR)|[0-9]{8}(T[0-9]{6}Z?)?|\\PC{0,6}",
            ),
            0..6,
        ),
        other in "\\PC{0,20}",
    ) {
        let text: Vec<String> = parts.iter().map(|(n, eq, v)| format!("{n}{eq}{v}")).collect();
        for text in [text.join(";"), format!("FREQ=DAILY;{}", text.join(";")), other] {
            if let Ok(rule) = Rule::parse(&text) {
                let start = at(Tz::Australia__Sydney, 2026, 4, 4, 2, 30);
                let _ = rule.occurrences(start).take(3).count();
            }
        }
    }
}

/// The first occurrence after `after` of `rule` from `start`, found from
/// `from`.
fn first_after(rule: &Rule, from: DateTime<Tz>, after: DateTime<Utc>) -> Option<DateTime<Tz>> {
    rule.occurrences(from).find(|at| at.to_utc() > after)
}

#[test]
fn a_resumed_start_gives_the_same_next_occurrence_across_years_and_dst() {
    let zones = [
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Australia::Lord_Howe,
    ];
    let rules = [
        "FREQ=DAILY",
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=DAILY;BYDAY=MO,WE,FR",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
        "FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=-1",
        "FREQ=HOURLY;INTERVAL=5",
        "FREQ=HOURLY;BYHOUR=9,17",
        "FREQ=DAILY;UNTIL=20290101T000000Z",
    ];
    for zone in zones {
        let start = at(zone, 2023, 3, 27, 9, 15);
        for text in rules {
            let rule = accepted(text);
            // Every few days across three years, DST changes included.
            for days in (0..1100).step_by(37) {
                let after =
                    (start + chrono::Duration::days(days) + chrono::Duration::minutes(days * 7))
                        .to_utc();
                let resumed = rule.resumed(start, after);
                assert_eq!(
                    first_after(&rule, resumed, after),
                    first_after(&rule, start, after),
                    "{text} in {zone} after {after}, resumed at {resumed}"
                );
                if days > 100 {
                    assert!(resumed > start, "{text}: not moved for {days} days");
                    assert!(
                        after - resumed.to_utc() <= chrono::Duration::weeks(10),
                        "{text}: {resumed}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_start_is_not_moved_when_its_occurrences_count_or_its_periods_are_months() {
    let start = at(chrono_tz::UTC, 2001, 1, 31, 9, 0);
    let after = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    for text in [
        "FREQ=DAILY;COUNT=5000",
        "FREQ=MONTHLY",
        "FREQ=YEARLY;BYMONTH=2",
    ] {
        assert_eq!(accepted(text).resumed(start, after), start, "{text}");
    }
}

#[test]
fn a_count_beyond_five_thousand_is_refused() {
    accepted("FREQ=DAILY;COUNT=5000");
    assert_eq!(
        bad_value(refused("FREQ=HOURLY;COUNT=5001")),
        ("COUNT", "5001".to_owned())
    );
    assert_eq!(
        bad_value(refused("FREQ=HOURLY;COUNT=4000000000")).0,
        "COUNT"
    );
}
