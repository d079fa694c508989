"""Open slots from a practitioner's hours: pure functions, no database (cal.com's model).

Hours are wall-clock intervals in the practitioner's IANA zone: weekly hours, replaced on a date by that
date's overrides. Slot starts lie on a grid of `step` minutes from local midnight; a slot fits when the visit
ends inside the interval (measured in real time, so a DST change inside an interval is counted right).
Local times that do not exist (the spring-forward gap) are never offered; a repeated local time (fall back)
is offered once, at its first occurrence. A slot is open when the visit plus its buffer overlaps no busy
interval. Every datetime here is aware.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
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
    """Busy intervals [start, end) that do not overlap each other (the database guarantees it)."""

    def __init__(self, intervals: Sequence[tuple[datetime, datetime]]) -> None:
        ordered = sorted(intervals)
        self._starts = [start for start, _ in ordered]
        self._ends = [end for _, end in ordered]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        # The first busy interval that ends after `start`; it overlaps if it also starts before `end`.
        i = bisect.bisect_right(self._ends, start)
        return i < len(self._starts) and self._starts[i] < end


def _aware(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """`wall` on `day` in `zone`; None inside a spring-forward gap. An ambiguous time takes its first
    occurrence (fold=0)."""
    naive = datetime.combine(day, wall)
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return aware


def _end(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """An interval's end: 00:00 means the end of the day; a time in a DST gap counts as just after it."""
    end_day = day + timedelta(days=1) if wall == time(0) else day
    return datetime.combine(end_day, wall).replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def intervals_on(schedule: Schedule, day: date) -> Sequence[Interval]:
    """The working intervals of a local date: its overrides if it has any, else the weekly hours."""
    if day in schedule.overrides:
        return schedule.overrides[day]
    return schedule.weekly.get(day.weekday(), ())


def _wall_times(start: time, end: time, step: timedelta) -> Iterator[time]:
    """Grid times (from local midnight) in [start, end), end 00:00 meaning midnight at the day's end."""
    step_minutes = int(step.total_seconds() // 60)
    first = start.hour * 60 + start.minute + (1 if start.second or start.microsecond else 0)
    first = -(-first // step_minutes) * step_minutes  # round up to the grid
    last = 24 * 60 if end == time(0) else end.hour * 60 + end.minute
    for minute in range(first, last, step_minutes):
        yield time(minute // 60, minute % 60)


def candidate_starts(schedule: Schedule, day: date, visit: Visit, step: timedelta) -> list[datetime]:
    """Every grid start on a local date whose visit fits inside one of that date's intervals."""
    starts: list[datetime] = []
    for start_wall, end_wall in intervals_on(schedule, day):
        end = _end(day, end_wall, schedule.zone)
        for wall in _wall_times(start_wall, end_wall, step):
            start = _aware(day, wall, schedule.zone)
            if start is not None and start + visit.duration <= end:
                starts.append(start)
    return sorted(set(starts))


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
    """Open starts on the practitioner's local dates first_day..last_day (inclusive), in time order."""
    earliest, latest = now + rules.lead, now + rules.horizon
    slots: list[datetime] = []
    day = first_day
    while day <= last_day:
        for start in candidate_starts(schedule, day, visit, rules.step):
            if earliest <= start <= latest and not busy.overlaps(start, start + visit.blocks):
                slots.append(start)
        day += timedelta(days=1)
    return slots


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
