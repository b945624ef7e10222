"""Reads a calendar feed as calendar apps' libraries do: Python's
`icalendar` parses it and `recurring-ical-events` expands every event for a
year from its start. Prints one JSON object:

    {"events": {uid: {"summary", "instants": [UTC RFC 3339...], "alarms": [...]}},
     "zones": {tzid: [mismatches between the feed's VTIMEZONE and zoneinfo]}}

Usage: expand.py < FEED.ics
"""

import datetime as dt
import json
import sys
import zoneinfo

import icalendar
import recurring_ical_events

UTC = dt.timezone.utc


def instant(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_mismatches(vtimezone):
    """Hours, over the years the VTIMEZONE covers, at which its offset is
    not the tz database's."""
    name = str(vtimezone["TZID"])
    ours = vtimezone.to_tz()
    theirs = zoneinfo.ZoneInfo(name)
    starts = [sub.DTSTART for sub in vtimezone.subcomponents]
    first = min(starts).replace(tzinfo=UTC) + dt.timedelta(days=1)
    last = max(starts).replace(tzinfo=UTC)
    wrong = []
    at = first
    while at <= last + dt.timedelta(days=1):
        if ours.utcoffset(at.astimezone(ours).replace(tzinfo=None)) is None:
            wrong.append(instant(at) + " no offset")
        elif at.astimezone(ours).utcoffset() != at.astimezone(theirs).utcoffset():
            wrong.append(instant(at))
        at += dt.timedelta(hours=1)
    return wrong


def main():
    calendar = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
    events = {}
    for event in calendar.walk("VEVENT"):
        start = event.DTSTART
        instants = [
            instant(e.DTSTART)
            for e in recurring_ical_events.of(calendar)
            .between(start, start + dt.timedelta(days=365))
            if str(e["UID"]) == str(event["UID"])
        ]
        alarms = [str(alarm["TRIGGER"].to_ical(), "utf-8") for alarm in event.walk("VALARM")]
        events[str(event["UID"])] = {
            "summary": str(event["SUMMARY"]),
            "categories": [str(c) for c in event.categories],
            "sequence": int(event.get("SEQUENCE", 0)),
            "instants": sorted(instants),
            "alarms": alarms,
        }
    zones = {str(tz["TZID"]): zone_mismatches(tz) for tz in calendar.walk("VTIMEZONE")}
    json.dump({"events": events, "zones": zones}, sys.stdout)


if __name__ == "__main__":
    main()
