//! Every case of `tests/dateutil/cases.json` (made by
//! `tests/dateutil/generate.py` with python-dateutil, which says how to
//! regenerate it): the crate's first occurrences of the rule from the start
//! must be dateutil's, as instants and as wall-clock times in the zone.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use recurrence::Rule;
use serde::Deserialize;

#[derive(Deserialize)]
struct Cases {
    python_dateutil: String,
    tzdata: String,
    max_occurrences: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    rule: String,
    zone: String,
    /// The start, an instant shown in the zone (RFC 3339).
    start: String,
    /// What the case is about (hand-picked cases).
    note: Option<String>,
    /// The wall time picked for the start, and how.
    picked: Option<String>,
    /// dateutil refused the rule with this start (it then yields nothing here).
    dateutil_error: Option<String>,
    /// Why the occurrences are cut short of `max_occurrences`, if they are.
    cut: Option<String>,
    /// The occurrences' instants, `YYYY-MM-DDTHH:MM:SSZ`.
    utc: Vec<String>,
    /// The same as the zone shows them (RFC 3339 with the offset).
    local: Vec<String>,
}

#[test]
fn every_case_yields_what_dateutil_yields() {
    let file: Cases =
        serde_json::from_str(include_str!("dateutil/cases.json")).expect("cases.json reads");
    assert!(file.cases.len() >= 500, "only {} cases", file.cases.len());
    let mismatches: Vec<String> = file
        .cases
        .iter()
        .filter_map(|case| {
            check(case, file.max_occurrences).err().map(|why| {
                let mut about = String::new();
                if let Some(note) = &case.note {
                    about += &format!(" ({note})");
                }
                if let Some(picked) = &case.picked {
                    about += &format!(" (picked {picked})");
                }
                format!(
                    "- {} from {} in {}{about}\n  {why}",
                    case.rule, case.start, case.zone
                )
            })
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from python-dateutil {} (tzdata {}):\n{}",
        mismatches.len(),
        file.cases.len(),
        file.python_dateutil,
        file.tzdata,
        mismatches.join("\n")
    );
}

fn check(case: &Case, max: usize) -> Result<(), String> {
    let zone: Tz = case.zone.parse().map_err(|e| format!("zone: {e}"))?;
    let start = DateTime::parse_from_rfc3339(&case.start)
        .map_err(|e| format!("start: {e}"))?
        .with_timezone(&zone);
    let rule = Rule::parse(&case.rule).map_err(|e| format!("refused: {e}"))?;
    let max = if case.cut.is_some() {
        case.utc.len()
    } else {
        max
    };
    let got: Vec<DateTime<Tz>> = rule.occurrences(start).take(max).collect();
    let utc: Vec<String> = got
        .iter()
        .map(|at| {
            at.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        })
        .collect();
    let local: Vec<String> = got.iter().map(|at| at.to_rfc3339()).collect();
    let wrong_zone = got.iter().find(|at| at.timezone() != zone);
    let refused = case
        .dateutil_error
        .as_ref()
        .map(|e| format!(" (dateutil: {e})"))
        .unwrap_or_default();
    if utc != case.utc {
        let at = utc
            .iter()
            .zip(&case.utc)
            .position(|(a, b)| a != b)
            .unwrap_or(utc.len().min(case.utc.len()));
        Err(format!(
            "instants differ from #{at}{refused}:\n  expected {:?}\n  got      {:?}",
            &case.utc[at.min(case.utc.len())..],
            &utc[at.min(utc.len())..]
        ))
    } else if local != case.local {
        Err(format!(
            "wall clocks differ:\n  expected {:?}\n  got      {local:?}",
            case.local
        ))
    } else if let Some(at) = wrong_zone {
        Err(format!("{at} is in {}, not {zone}", at.timezone()))
    } else {
        Ok(())
    }
}
