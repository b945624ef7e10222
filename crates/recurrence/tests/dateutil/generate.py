#!/usr/bin/env python3
"""Writes cases.json: rules, starts and zones with the first (up to 20)
occurrences python-dateutil yields for them, which tests/dateutil.rs compares
with the recurrence crate's.

Regenerate (from the repository root; the versions are the ones recorded in
cases.json, and tzdata 2025.2 is IANA 2025b, the release chrono-tz 0.10.4
carries, so that both sides agree on the zones):

    python3 -m venv ~/.cache/todo-chatbot/dateutil-4.0.0
    ~/.cache/todo-chatbot/dateutil-4.0.0/bin/pip install python-dateutil==4.0.0 tzdata==2025.2
    ~/.cache/todo-chatbot/dateutil-4.0.0/bin/python crates/recurrence/tests/dateutil/generate.py

The cases are the hand-picked ones below (among them examples of RFC 5545
section 3.8.5.3, quoted), then random ones from a fixed seed. A start is an
instant: a wall time picked in a zone, resolved as Python does (fold 0 or 1,
in a gap too), then shown in the zone as dateutil's `dtstart`; so a wall time
picked inside a gap starts the series at the time the clocks show then.

A date UNTIL (`UNTIL=20251231`), which dateutil refuses with a zoned start,
is given to dateutil as `until` = 23:59:59 of that day in the start's zone.
"""

import datetime as dt
import json
import random
import signal
import sys
import zoneinfo
from itertools import islice
from pathlib import Path

zoneinfo.reset_tzpath(to=[])  # the zones of the tzdata package only, not the system's

import dateutil  # noqa: E402
import tzdata  # noqa: E402
from dateutil.rrule import rrulestr  # noqa: E402

SEED = 8
RANDOM_CASES = 600
MAX_OCCURRENCES = 20
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "America/Santiago",  # changes at midnight: 00:00 is skipped or doubled
    "UTC",
]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
UTC = dt.timezone.utc
OUT = Path(__file__).with_name("cases.json")


class TooSlow(Exception):
    pass


def on_alarm(_signum, _frame):
    raise TooSlow()


def zone_start(zone, wall, fold=0):
    """The instant `wall` names in `zone` (with `fold`), as the zone shows it."""
    return wall.replace(tzinfo=zone, fold=fold).astimezone(UTC).astimezone(zone)


def expand(rule, start):
    """dateutil's first occurrences, or its error."""
    until_date = None
    parts = rule.split(";")
    for part in parts:
        name, _, value = part.partition("=")
        if name == "UNTIL" and len(value) == 8:
            until_date = dt.datetime.strptime(value, "%Y%m%d").date()
            rule = ";".join(p for p in parts if p != part)
    signal.setitimer(signal.ITIMER_REAL, 5)
    try:
        series = rrulestr(rule, dtstart=start)
        if until_date is not None:
            series = series.replace(
                until=dt.datetime.combine(until_date, dt.time(23, 59, 59), tzinfo=start.tzinfo)
            )
        got = list(islice(series, MAX_OCCURRENCES))
    except ValueError as e:
        return None, str(e)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return got, None


def case(rule, zone_name, start, note=None, picked=None):
    zone = zoneinfo.ZoneInfo(zone_name)
    start = start.astimezone(zone)
    got, error = expand(rule, start)
    c = {"rule": rule, "zone": zone_name, "start": start.isoformat()}
    if note:
        c["note"] = note
    if picked:
        c["picked"] = picked
    if error:
        c["dateutil_error"] = error
    got = got or []
    if any(d.year > 2099 for d in got):
        # chrono-tz 0.10 knows the zones' changes up to 2099 only (after that a
        # zone keeps its last offset), where zoneinfo goes on with the rule.
        got = [d for d in got if d.year <= 2099]
        c["cut"] = "after 2099, where chrono-tz has no more changes of offset"
    c["utc"] = [d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for d in got]
    c["local"] = [d.astimezone(UTC).astimezone(zone).isoformat() for d in got]
    return c


def local(zone_name, *fields, fold=0):
    return zone_start(zoneinfo.ZoneInfo(zone_name), dt.datetime(*fields), fold)


# (rule, zone, start, note)
HAND_PICKED = [
    # RFC 5545 section 3.8.5.3, "Examples" (its DTSTARTs are in America/New_York).
    ("FREQ=DAILY;COUNT=10", "America/New_York", (1997, 9, 2, 9), "RFC 5545: Daily for 10 occurrences"),
    ("FREQ=DAILY;UNTIL=19971224T000000Z", "America/New_York", (1997, 9, 2, 9),
     "RFC 5545: Daily until December 24, 1997"),
    ("FREQ=DAILY;INTERVAL=2", "America/New_York", (1997, 9, 2, 9), "RFC 5545: Every other day - forever"),
    ("FREQ=DAILY;INTERVAL=10;COUNT=5", "America/New_York", (1997, 9, 2, 9),
     "RFC 5545: Every 10 days, 5 occurrences"),
    ("FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA", "America/New_York",
     (1998, 1, 1, 9), "RFC 5545: Every day in January, for 3 years"),
    ("FREQ=WEEKLY;COUNT=10", "America/New_York", (1997, 9, 2, 9), "RFC 5545: Weekly for 10 occurrences"),
    ("FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR", "America/New_York",
     (1997, 9, 1, 9), "RFC 5545: Every other week on Monday, Wednesday, and Friday until December 24, 1997, "
     "starting on Monday, September 1, 1997"),
    ("FREQ=MONTHLY;COUNT=10;BYDAY=1FR", "America/New_York", (1997, 9, 5, 9),
     "RFC 5545: Monthly on the first Friday for 10 occurrences"),
    ("FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", "America/New_York", (1997, 9, 22, 9),
     "RFC 5545: Monthly on the second-to-last Monday of the month for 6 months"),
    ("FREQ=MONTHLY;BYMONTHDAY=-3", "America/New_York", (1997, 9, 28, 9),
     "RFC 5545: Monthly on the third-to-the-last day of the month, forever"),
    ("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", "America/New_York", (1997, 9, 2, 9),
     "RFC 5545: Every Friday the 13th, forever (without the example's EXDATE)"),
    ("FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13", "America/New_York", (1997, 9, 13, 9),
     "RFC 5545: The first Saturday that follows the first Sunday of the month, forever"),
    ("FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8", "America/New_York",
     (1996, 11, 5, 9), "RFC 5545: Every 4 years, the first Tuesday after a Monday in November, forever "
     "(U.S. Presidential Election day)"),
    ("FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", "America/New_York", (1997, 9, 4, 9),
     "RFC 5545: The third instance into the month of one of Tuesday, Wednesday, or Thursday, "
     "for the next 3 months"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2", "America/New_York", (1997, 9, 29, 9),
     "RFC 5545: The second-to-last weekday of the month"),
    ("FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z", "America/New_York", (1997, 9, 2, 9),
     "RFC 5545: Every 3 hours from 9:00 AM to 5:00 PM on a specific day (UNTIL in UTC is 13:00 EDT)"),
    ("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", "America/New_York", (1997, 8, 5, 9),
     "RFC 5545: An example where the days generated makes a difference because of WKST"),
    ("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", "America/New_York", (1997, 8, 5, 9),
     "RFC 5545: changing only WKST from MO to SU, yields different results..."),
    ("FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5", "America/New_York", (2007, 1, 15, 9),
     "RFC 5545: An example where an invalid date (i.e., February 30) is ignored"),
    ("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "America/New_York", (1997, 5, 12, 9),
     "RFC 5545: Monday of week number 20 (where the default start of the week is Monday), forever"),
    ("FREQ=YEARLY;BYMONTH=3;BYDAY=TH", "America/New_York", (1997, 3, 13, 9),
     "RFC 5545: Every Thursday in March, forever"),
    ("FREQ=YEARLY;BYDAY=20MO", "America/New_York", (1997, 5, 19, 9), "RFC 5545: Every 20th Monday of the year, forever"),
    # The cases of the brief.
    ("FREQ=WEEKLY;BYDAY=MO,WE", "Europe/Berlin", (2025, 3, 17, 9), "weekly on two days"),
    ("FREQ=WEEKLY", "Europe/Berlin", (2025, 3, 20, 18, 30), "weekly on the start's weekday"),
    ("FREQ=MONTHLY", "Europe/Berlin", (2025, 1, 31, 9), "monthly from a 31st: months without one are skipped"),
    ("FREQ=MONTHLY;BYMONTHDAY=31", "America/New_York", (2025, 1, 15, 9), "BYMONTHDAY=31: months without one are skipped"),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", "Asia/Kolkata", (2024, 1, 31, 9), "the last day of each month"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "Europe/Berlin", (2025, 1, 1, 9), "the last Friday of the month"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "Europe/Berlin", (2025, 1, 1, 17),
     "the last weekday of the month"),
    ("FREQ=DAILY;COUNT=3", "UTC", (2025, 6, 1, 8), "COUNT=3"),
    ("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=3", "Europe/Berlin", (2025, 6, 2, 8),
     "COUNT counts occurrences, and the start (a Monday) is not one"),
    ("FREQ=WEEKLY;UNTIL=20250401T000000Z", "Europe/Berlin", (2025, 2, 3, 9), "UNTIL in UTC"),
    ("FREQ=DAILY;UNTIL=20250330T070000Z", "Europe/Berlin", (2025, 3, 25, 9),
     "UNTIL in UTC equal to the last occurrence's instant (09:00 CEST) includes it"),
    ("FREQ=DAILY;UNTIL=20250331", "Europe/Berlin", (2025, 3, 25, 23, 30),
     "UNTIL as a date: through that day in the zone"),
    ("FREQ=DAILY;UNTIL=20250331", "Pacific/Chatham", (2025, 3, 25, 23, 30),
     "UNTIL as a date: through that day in the zone, not in UTC"),
    ("FREQ=DAILY", "Europe/Berlin", (2025, 3, 27, 9), "09:00 across spring-forward"),
    ("FREQ=DAILY", "Europe/Berlin", (2025, 10, 23, 9), "09:00 across fall-back"),
    ("FREQ=DAILY", "America/New_York", (2025, 3, 6, 9), "09:00 across spring-forward"),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "America/New_York", (2025, 10, 30, 9), "09:00 weekdays across fall-back"),
    ("FREQ=DAILY", "Australia/Sydney", (2025, 4, 2, 9), "09:00 across the southern fall-back"),
    ("FREQ=DAILY", "Australia/Sydney", (2025, 10, 2, 9), "09:00 across the southern spring-forward"),
    ("FREQ=DAILY", "Pacific/Chatham", (2025, 9, 25, 3, 0), "03:00 across Chatham's 02:45 spring-forward"),
    ("FREQ=YEARLY", "Europe/Berlin", (2024, 2, 29, 12), "29 February: leap years only"),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "UTC", (2021, 1, 1, 12), "29 February by BYMONTHDAY"),
    ("FREQ=DAILY", "Europe/Berlin", (2025, 3, 28, 2, 30),
     "02:30 across spring-forward: on 30 March 02:30 does not exist, and is 01:30 UTC (03:30 CEST)"),
    ("FREQ=DAILY", "Europe/Berlin", (2025, 10, 24, 2, 30),
     "02:30 across fall-back: on 26 October the first (CEST) 02:30"),
    ("FREQ=DAILY", "America/New_York", (2025, 3, 7, 2, 30), "02:30 across spring-forward"),
    ("FREQ=DAILY", "America/New_York", (2025, 10, 31, 1, 30), "01:30 across fall-back: the first (EDT)"),
    ("FREQ=DAILY", "Australia/Sydney", (2025, 10, 3, 2, 30), "02:30 across the southern spring-forward"),
    ("FREQ=DAILY", "Pacific/Chatham", (2025, 4, 4, 3, 0), "03:00 across Chatham's fall-back (03:45 to 02:45)"),
    ("FREQ=DAILY", "America/Santiago", (2025, 9, 4, 0, 30),
     "00:30 across Santiago's spring-forward, where midnight is skipped"),
    ("FREQ=DAILY", "America/Santiago", (2025, 4, 3, 23, 30),
     "23:30 across Santiago's fall-back, where 23:00 to midnight happens twice"),
    ("FREQ=WEEKLY;BYDAY=SA,SU", "America/Santiago", (2025, 9, 1, 9), "weekends at 09:00 across Santiago's spring-forward"),
    ("FREQ=HOURLY;COUNT=6", "Europe/Berlin", (2025, 3, 30, 0, 30),
     "hourly wall-clock hours across spring-forward: 02:30 and 03:30 are the same instant"),
    ("FREQ=HOURLY;COUNT=6", "Europe/Berlin", (2025, 10, 26, 0, 30),
     "hourly wall-clock hours across fall-back: the repeated hour once"),
    ("FREQ=HOURLY;INTERVAL=6;BYHOUR=0,6,12,18", "America/Sao_Paulo", (2025, 1, 1, 0), "hourly with BYHOUR"),
    ("FREQ=HOURLY;INTERVAL=2;BYHOUR=1,3", "UTC", (2025, 1, 1, 0),
     "every other hour from an even hour never reaches an odd one: dateutil refuses it, the crate yields nothing"),
]

# (rule, zone, wall time picked, fold, note): starts picked inside a gap or an overlap.
PICKED = [
    ("FREQ=DAILY", "Europe/Berlin", (2025, 3, 30, 2, 30), 0,
     "start picked at 02:30 on spring-forward day (fold 0): it is 03:30 CEST, and so is the series"),
    ("FREQ=DAILY", "Europe/Berlin", (2025, 3, 30, 2, 30), 1,
     "start picked at 02:30 on spring-forward day (fold 1): it is 01:30 CET, and so is the series"),
    ("FREQ=DAILY", "Europe/Berlin", (2025, 10, 26, 2, 30), 0, "start at the first 02:30 of fall-back"),
    ("FREQ=DAILY", "Europe/Berlin", (2025, 10, 26, 2, 30), 1,
     "start at the second 02:30 of fall-back: dateutil still yields that day's 02:30, the first one, "
     "an hour before the start"),
    ("FREQ=DAILY;COUNT=2", "America/New_York", (2025, 11, 2, 1, 15), 1, "start at the second 01:15 of fall-back"),
]


def transitions(zone, year, _cache={}):
    """(instant, offset before, offset after) of each change of `zone` in `year`."""
    key = (zone.key, year)
    if key not in _cache:

        def offset(minute):
            return dt.datetime.fromtimestamp(minute * 60, UTC).astimezone(zone).utcoffset()

        found = []
        start = int(dt.datetime(year, 1, 1, tzinfo=UTC).timestamp()) // 60
        end = int(dt.datetime(year + 1, 1, 1, tzinfo=UTC).timestamp()) // 60
        step = 6 * 60
        for t in range(start, end, step):
            a, b = offset(t), offset(t + step)
            if a != b:
                lo, hi = t, t + step  # offset(lo) == a != offset(hi)
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if offset(mid) == a else (lo, mid)
                found.append((dt.datetime.fromtimestamp(hi * 60, UTC), a, b))
        _cache[key] = found
    return _cache[key]


def random_start(rng, zone):
    """A wall time and fold in `zone`, and a word on how it was picked."""
    year = rng.randint(2020, 2035)
    kind = rng.random()
    changes = transitions(zone, year)
    if changes and kind < 0.4:
        at, before, after = rng.choice(changes)
        if kind < 0.2:
            # inside the gap or the overlap
            low, high = sorted([(at + before).replace(tzinfo=None), (at + after).replace(tzinfo=None)])
            minutes = int((high - low).total_seconds() // 60)
            wall = low + dt.timedelta(minutes=rng.randrange(minutes))
            how = "in the gap" if after > before else "in the overlap"
        else:
            # a few days either side, at an hour a series may hit the change at
            day = (at + after).date() + dt.timedelta(days=rng.randint(-8, 2))
            hour = rng.choice([0, 1, 2, 2, 3, 3, 9, 23])
            wall = dt.datetime.combine(day, dt.time(hour, rng.choice([0, 15, 30, 45])))
            how = "near a change"
        return wall, rng.randint(0, 1), how
    if kind < 0.6:
        month = rng.randint(1, 12)
        day = rng.choice([28, 29, 30, 31]) if month != 2 else rng.choice([28, 29])
        try:
            wall = dt.datetime(year, month, day, rng.randint(0, 23), rng.choice([0, 30]))
        except ValueError:
            wall = dt.datetime(year, month, 28, 9)
        return wall, 0, "end of a month"
    wall = dt.datetime(year, 1, 1) + dt.timedelta(days=rng.randrange(366), minutes=rng.randrange(24 * 60))
    if rng.random() < 0.1:
        wall = wall.replace(second=rng.randrange(60))
    return wall, 0, "random"


def sample(rng, pool, most):
    return sorted(rng.sample(pool, rng.randint(1, most)), key=pool.index)


def joined(values):
    return ",".join(str(v) for v in values)


MONTH_DAYS = [1, 2, 5, 10, 13, 15, 20, 28, 29, 30, 31, -1, -2, -3, -7, -15, -28, -29, -30, -31]
LONGEST = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def random_rule(rng, start):
    freq = rng.choices(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY"], [25, 25, 25, 15, 10])[0]
    parts = [f"FREQ={freq}"]
    by = {}
    if rng.random() < 0.3:
        parts.append(f"INTERVAL={rng.choice([1, 2, 2, 3, 4, 5, 7, 12])}")
    if rng.random() < (0.4 if freq == "YEARLY" else 0.2):
        by["BYMONTH"] = sample(rng, list(range(1, 13)), 3)
    if freq == "YEARLY" and rng.random() < 0.12:
        by["BYWEEKNO"] = sample(rng, [1, 2, 10, 20, 26, 52, 53, -1, -2], 2)
    if freq in ("YEARLY", "HOURLY") and rng.random() < 0.08:
        by["BYYEARDAY"] = sample(rng, [1, 32, 60, 100, 200, 365, 366, -1, -100, -366], 3)
    if freq != "WEEKLY" and rng.random() < (0.4 if freq == "MONTHLY" else 0.2):
        by["BYMONTHDAY"] = sample(rng, MONTH_DAYS, 3)
        months = by.get("BYMONTH", range(1, 13))
        if not any(abs(d) <= LONGEST[m - 1] for m in months for d in by["BYMONTHDAY"]):
            del by["BYMONTHDAY"]
    if rng.random() < (0.5 if freq == "WEEKLY" else 0.35):
        if freq in ("MONTHLY", "YEARLY") and "BYWEEKNO" not in by and rng.random() < 0.6:
            numbers = [1, 2, 3, 4, 5, -1, -2, -3, -4]
            if freq == "YEARLY" and "BYMONTH" not in by:
                numbers += [10, 20, 52, 53, -10, -52]
            by["BYDAY"] = [f"{rng.choice(numbers)}{rng.choice(WEEKDAYS)}" for _ in range(rng.randint(1, 2))]
        else:
            by["BYDAY"] = sample(rng, WEEKDAYS, 5)
    if rng.random() < 0.15:
        by["BYHOUR"] = sample(rng, [0, 1, 2, 3, 6, 9, 12, 17, 23], 3)
    if rng.random() < 0.1:
        by["BYMINUTE"] = sample(rng, [0, 15, 30, 45, 59], 2)
    if rng.random() < 0.04:
        by["BYSECOND"] = sample(rng, [0, 30, 59], 2)
    # BYSETPOS picks from the set of one period: keep to positions the set may have.
    if by and rng.random() < 0.3:
        per_day = 1
        for name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            if not (freq == "HOURLY" and name == "BYHOUR"):
                per_day *= len(by.get(name, [0]))
        size = {"DAILY": per_day, "HOURLY": per_day, "WEEKLY": 7 * per_day}.get(freq, 28 * per_day)
        pool = [p for p in [1, 2, 3, -1, -2, -3] if abs(p) <= size]
        by["BYSETPOS"] = sample(rng, pool, 2)
    for name, values in by.items():
        parts.append(f"{name}={joined(values)}")
    if rng.random() < 0.2:
        parts.append(f"WKST={rng.choice(WEEKDAYS)}")
    end = rng.random()
    span = {"HOURLY": 3, "DAILY": 60, "WEEKLY": 200, "MONTHLY": 900}.get(freq, 4000)
    if end < 0.35:
        parts.append(f"COUNT={rng.randint(1, 15)}")
    elif end < 0.65:
        until = start.astimezone(UTC) + dt.timedelta(days=rng.uniform(-2, span))
        if end < 0.5:
            parts.append(f"UNTIL={until.strftime('%Y%m%dT%H%M%SZ')}")
        else:
            parts.append(f"UNTIL={until.strftime('%Y%m%d')}")
    if rng.random() < 0.1:
        rng.shuffle(parts)  # the order of the parts does not matter
    return ";".join(parts)


def main():
    signal.signal(signal.SIGALRM, on_alarm)
    cases = []
    for rule, zone, fields, note in HAND_PICKED:
        cases.append(case(rule, zone, local(zone, *fields), note))
    for rule, zone, fields, fold, note in PICKED:
        picked = f"{dt.datetime(*fields).isoformat()} fold={fold}"
        cases.append(case(rule, zone, local(zone, *fields, fold=fold), note, picked))
    rng = random.Random(SEED)
    slow = 0
    while len(cases) < len(HAND_PICKED) + len(PICKED) + RANDOM_CASES:
        zone_name = rng.choice(ZONES)
        zone = zoneinfo.ZoneInfo(zone_name)
        wall, fold, how = random_start(rng, zone)
        start = zone_start(zone, wall, fold)
        rule = random_rule(rng, start)
        try:
            c = case(rule, zone_name, start, picked=f"{wall.isoformat()} fold={fold} ({how})")
        except TooSlow:
            slow += 1  # a rule dateutil searches for years on end; not a useful case
            continue
        # Keep a few of the series that are empty (a rule that never matches,
        # an UNTIL before the first occurrence): each takes dateutil, and the
        # crate, a search up to the year 10000.
        if c["utc"] or "dateutil_error" in c or rng.random() < 0.2:
            cases.append(c)
    header = json.dumps(
        {
            "about": "python-dateutil's first occurrences of each rule from its start; made by "
            "generate.py (see there how to regenerate), checked by tests/dateutil.rs",
            "python_dateutil": dateutil.__version__,
            "tzdata": tzdata.IANA_VERSION,
            "python": sys.version.split()[0],
            "seed": SEED,
            "max_occurrences": MAX_OCCURRENCES,
        },
        indent=1,
    )
    # One line a field, so that a change to a case reads as such in a diff.
    lines = [
        " {\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in c.items()) + "\n }"
        for c in cases
    ]
    OUT.write_text(header[:-2] + ',\n "cases": [\n' + ",\n".join(lines) + "\n ]\n}\n")
    errors = sum(1 for c in cases if "dateutil_error" in c)
    print(f"{len(cases)} cases ({errors} refused by dateutil, {slow} too slow and dropped) in {OUT}")


if __name__ == "__main__":
    main()
