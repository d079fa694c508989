"""Open slots from a practitioner's hours: pure functions, no database (cal.com's model).

Hours are wall-clock intervals in the practitioner's IANA zone: weekly hours, replaced on a date by that
date's overrides. Slot starts lie on a grid of `step` minutes from local midnight; a slot fits when the visit
ends inside the interval (measured in real time, so a DST change inside an interval is counted right).
Local times that do not exist (the spring-forward gap) are never offered; a repeated local time (fall back)
is offered once, at its first occurrence. A slot is open when the visit plus its buffer overlaps no busy
interval. Every datetime here is aware; computed starts are in UTC (comparisons between datetimes that share
one tzinfo are cheap, which keeps a 31-day query fast).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Interval = tuple[time, time]


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    weekly: Mapping[int, Sequence[Interval]]  # Monday = 0
    overrides: Mapping[date, Sequence[Interval]] = field(default_factory=dict)  # [] on a date: day off


@dataclass(frozen=True)
class Rules:
    step: timedelta
    lead: timedelta
    horizon: timedelta


@dataclass(frozen=True)
class Visit:
    duration: timedelta
    buffer: timedelta

    @property
    def blocks(self) -> timedelta:
        return self.duration + self.buffer


class Busy:
    """Busy intervals [start, end) that do not overlap each other (the database guarantees it).

    Kept as epoch seconds: a 31-day query checks thousands of starts, and integer comparisons are what
    keeps it fast.
    """

    def __init__(self, intervals: Sequence[tuple[datetime, datetime]]) -> None:
        ordered = sorted((int(start.timestamp()), int(end.timestamp())) for start, end in intervals)
        self._starts = [start for start, _ in ordered]
        self._ends = [end for _, end in ordered]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.overlaps_epoch(int(start.timestamp()), int(end.timestamp()))

    def overlaps_epoch(self, start: int, end: int) -> bool:
        # The first busy interval that ends after `start`; it overlaps if it also starts before `end`.
        i = bisect.bisect_right(self._ends, start)
        return i < len(self._starts) and self._starts[i] < end


def _aware(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """Local `minute` of `day` (0..1439) in `zone`; None inside a spring-forward gap. An ambiguous time
    takes its first occurrence (fold=0)."""
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return aware


def _end_epoch(day: date, wall: time, zone: ZoneInfo) -> int:
    """An interval's end: 00:00 means the end of the day; a time in a DST gap counts as just after it."""
    end_day = day + timedelta(days=1) if wall == time(0) else day
    return int(datetime.combine(end_day, wall).replace(tzinfo=zone).timestamp())


def intervals_on(schedule: Schedule, day: date) -> Sequence[Interval]:
    """The working intervals of a local date: its overrides if it has any, else the weekly hours."""
    if day in schedule.overrides:
        return schedule.overrides[day]
    return schedule.weekly.get(day.weekday(), ())


def _grid_minutes(start: time, end: time, step_minutes: int) -> range:
    """Grid minutes of the local day (from midnight) in [start, end), end 00:00 meaning 24:00."""
    first = start.hour * 60 + start.minute + (1 if start.second or start.microsecond else 0)
    first = -(-first // step_minutes) * step_minutes  # round up to the grid
    last = 24 * 60 if end == time(0) else end.hour * 60 + end.minute
    return range(first, last, step_minutes)


def _candidate_epochs(schedule: Schedule, day: date, duration: int, step: timedelta) -> list[int]:
    """Grid starts (epoch seconds) on a local date whose visit (`duration` seconds) fits an interval."""
    step_minutes = int(step.total_seconds() // 60)
    starts: set[int] = set()
    for start_wall, end_wall in intervals_on(schedule, day):
        latest_start = _end_epoch(day, end_wall, schedule.zone) - duration
        minutes = _grid_minutes(start_wall, end_wall, step_minutes)
        if not minutes:
            continue
        first = _aware(day, minutes[0], schedule.zone)
        last = _aware(day, minutes[-1], schedule.zone)
        if first is not None and last is not None and first.utcoffset() == last.utcoffset():
            # No clock change inside the interval: the grid is plain arithmetic.
            origin = int(first.timestamp()) - minutes[0] * 60
            starts.update(e for e in (origin + m * 60 for m in minutes) if e <= latest_start)
            continue
        for minute in minutes:
            aware = _aware(day, minute, schedule.zone)
            if aware is not None and int(aware.timestamp()) <= latest_start:
                starts.add(int(aware.timestamp()))
    return sorted(starts)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def candidate_starts(schedule: Schedule, day: date, visit: Visit, step: timedelta) -> list[datetime]:
    """Every grid start (in UTC) on a local date whose visit fits inside one of that date's intervals."""
    return [
        datetime.fromtimestamp(e, UTC)
        for e in _candidate_epochs(schedule, day, _seconds(visit.duration), step)
    ]


def open_slots(
    schedule: Schedule,
    *,
    visit: Visit,
    busy: Busy,
    rules: Rules,
    now: datetime,
    first_day: date,
    last_day: date,
) -> list[datetime]:
    """Open starts (in UTC) on the practitioner's local dates first_day..last_day (inclusive), in order."""
    earliest, latest = int((now + rules.lead).timestamp()), int((now + rules.horizon).timestamp())
    duration, blocks = _seconds(visit.duration), _seconds(visit.blocks)
    slots: list[int] = []
    day = first_day
    while day <= last_day:
        slots.extend(
            e
            for e in _candidate_epochs(schedule, day, duration, rules.step)
            if earliest <= e <= latest and not busy.overlaps_epoch(e, e + blocks)
        )
        day += timedelta(days=1)
    return [datetime.fromtimestamp(e, UTC) for e in slots]


def start_problem(
    schedule: Schedule, start: datetime, *, visit: Visit, rules: Rules, now: datetime
) -> str | None:
    """Why `start` is not an offered start (other visits aside), in words for the patient; None if it is."""
    local = start.astimezone(schedule.zone)
    step_minutes = int(rules.step.total_seconds() // 60)
    if local.second or local.microsecond or (local.hour * 60 + local.minute) % step_minutes:
        return f"Pick a start time on the {step_minutes}-minute grid (e.g. 9:00, 9:{step_minutes:02d})."
    if start < now + rules.lead:
        return f"Book at least {int(rules.lead.total_seconds() // 60)} minutes ahead."
    if start > now + rules.horizon:
        return f"Book no more than {rules.horizon.days} days ahead."
    if start not in candidate_starts(schedule, local.date(), visit, rules.step):
        return "That time is outside the practitioner's working hours."
    return None
