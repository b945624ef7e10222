# Python's `icalendar` and `recurring-ical-events` (from PyPI) in a
# virtualenv of their own under $TODO_CACHE: the end-to-end tests read the
# calendar feed as calendar apps' libraries do (tests/e2e/ical/expand.py).
# Sets and exports TODO_ICAL_PYTHON.
ICALENDAR_VERSION=7.3.2
RECURRING_ICAL_EVENTS_VERSION=3.8.2

ensure_ical() {
  local venv=$TODO_CACHE/ical-$ICALENDAR_VERSION-$RECURRING_ICAL_EVENTS_VERSION
  ensure_venv "$venv" "icalendar==$ICALENDAR_VERSION recurring-ical-events==$RECURRING_ICAL_EVENTS_VERSION" \
    recurring_ical_events "icalendar $ICALENDAR_VERSION and recurring-ical-events $RECURRING_ICAL_EVENTS_VERSION"
  export TODO_ICAL_PYTHON=$venv/bin/python
}
