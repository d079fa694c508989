"""Open slots from hours (appointments/scheduling.py): pure functions, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sofia_checkout.appointments.scheduling import (
    Busy,
    Rules,
    Schedule,
    Visit,
    candidate_starts,
    open_slots,
    start_problem,
)

NEW_YORK = ZoneInfo("America/New_York")
RULES = Rules(step=timedelta(minutes=15), lead=timedelta(minutes=60), horizon=timedelta(days=400))
HOUR = Visit(timedelta(minutes=60), timedelta(minutes=0))
NOW = datetime(2027, 1, 1, tzinfo=UTC)
# Weekdays 09:00-12:00 and 13:00-17:00 in New York.
WEEKDAYS = Schedule(zone=NEW_YORK, weekly={d: [(time(9), time(12)), (time(13), time(17))] for d in range(5)})


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def slots(schedule: Schedule, day: date, visit: Visit = HOUR, busy: Busy | None = None) -> list[datetime]:
    return open_slots(
        schedule, visit=visit, busy=busy or Busy([]), rules=RULES, now=NOW, first_day=day, last_day=day
    )


def test_slots_lie_on_the_grid_inside_the_hours_and_the_visit_fits() -> None:
    monday = date(2027, 1, 4)
    starts = [s.astimezone(NEW_YORK).time() for s in slots(WEEKDAYS, monday)]
    assert starts[0] == time(9)
    assert time(11) in starts  # 11:00-12:00 fits the morning
    assert time(11, 15) not in starts  # would end after 12:00
    assert time(12) not in starts  # lunch
    assert starts[-1] == time(16)
    assert all(t.minute % 15 == 0 for t in starts)
    assert len(starts) == len(set(starts)) == 9 + 13


def test_weekends_have_no_hours_and_overrides_replace_the_week() -> None:
    saturday, monday, tuesday = date(2027, 1, 2), date(2027, 1, 4), date(2027, 1, 5)
    schedule = Schedule(
        zone=NEW_YORK,
        weekly=WEEKDAYS.weekly,
        overrides={monday: [], saturday: [(time(10), time(11, 30))]},  # Monday off, extra Saturday hours
    )
    assert slots(WEEKDAYS, saturday) == []
    assert slots(schedule, monday) == []
    assert [s.astimezone(NEW_YORK).time() for s in slots(schedule, saturday)] == [
        time(10),
        time(10, 15),
        time(10, 30),
    ]
    assert slots(schedule, tuesday) == slots(WEEKDAYS, tuesday)


def test_busy_visits_and_buffers_block_by_duration_not_by_start() -> None:
    monday = date(2027, 1, 4)
    # A 60-minute visit at 14:00 with a 15-minute buffer: busy 14:00-15:15.
    busy = Busy([(local(monday, 14), local(monday, 15, 15))])
    starts = [s.astimezone(NEW_YORK).time() for s in slots(WEEKDAYS, monday, busy=busy)]
    assert time(13) in starts  # 13:00-14:00 ends as the busy one starts
    for blocked in (time(13, 15), time(14), time(14, 30), time(15)):
        assert blocked not in starts
    assert time(15, 15) in starts
    # Our own buffer counts too: a 30-minute visit with a 30-minute buffer at 13:30 would run into 14:00.
    buffered = Visit(timedelta(minutes=30), timedelta(minutes=30))
    starts = [s.astimezone(NEW_YORK).time() for s in slots(WEEKDAYS, monday, visit=buffered, busy=busy)]
    assert time(13) in starts
    assert time(13, 15) not in starts


def test_lead_time_and_horizon() -> None:
    monday = date(2027, 1, 4)
    now = local(monday, 9, 30)
    starts = open_slots(
        WEEKDAYS, visit=HOUR, busy=Busy([]), rules=RULES, now=now, first_day=monday, last_day=monday
    )
    assert starts[0] == local(monday, 10, 30)
    short = Rules(step=RULES.step, lead=RULES.lead, horizon=timedelta(days=1))
    later = open_slots(
        WEEKDAYS, visit=HOUR, busy=Busy([]), rules=short, now=now, first_day=monday, last_day=date(2027, 1, 6)
    )
    assert max(later) <= now + timedelta(days=1)


def test_spring_forward_gap_is_never_offered() -> None:
    # 2027-03-14: New York clocks jump from 02:00 to 03:00.
    gap_day = date(2027, 3, 14)
    night = Schedule(zone=NEW_YORK, weekly={6: [(time(0), time(6))]})
    starts = candidate_starts(night, gap_day, Visit(timedelta(minutes=30), timedelta(0)), RULES.step)
    walls = [s.astimezone(NEW_YORK).strftime("%H:%M") for s in starts]
    assert not [w for w in walls if w.startswith("02:")]
    assert "01:45" in walls
    assert "03:00" in walls
    # Real time: 01:30 EST + 60 minutes is 03:30 EDT; the interval ends 06:00 EDT.
    assert all(s + timedelta(minutes=30) <= local(gap_day, 6) for s in starts)
    assert len(starts) == len(set(starts))
    assert (
        start_problem(night, datetime(2027, 3, 14, 2, 30, tzinfo=NEW_YORK), visit=HOUR, rules=RULES, now=NOW)
        is not None
    )


def test_fall_back_repeat_is_offered_once() -> None:
    # 2027-11-07: New York clocks fall back from 02:00 EDT to 01:00 EST; 01:00-01:59 happens twice.
    repeat_day = date(2027, 11, 7)
    night = Schedule(zone=NEW_YORK, weekly={6: [(time(0), time(4))]})
    starts = candidate_starts(night, repeat_day, Visit(timedelta(minutes=30), timedelta(0)), RULES.step)
    walls = [s.astimezone(NEW_YORK).strftime("%H:%M") for s in starts]
    assert len(walls) == len(set(walls)), "a local time offered twice"
    assert len(starts) == len(set(starts))
    assert walls.count("01:30") == 1
    # Five hours of real time fit in 00:00-04:00 local that night; the grid offers each wall time once.
    assert starts == sorted(starts)


def test_a_patient_in_another_zone_sees_the_same_instants() -> None:
    monday = date(2027, 1, 4)
    starts = slots(WEEKDAYS, monday)
    in_la = [s.astimezone(ZoneInfo("America/Los_Angeles")) for s in starts]
    assert in_la[0].strftime("%H:%M %z") == "06:00 -0800"
    assert [s.astimezone(UTC) for s in in_la] == [s.astimezone(UTC) for s in starts]


def test_start_problem_says_why() -> None:
    monday = date(2027, 1, 4)
    assert start_problem(WEEKDAYS, local(monday, 9), visit=HOUR, rules=RULES, now=NOW) is None
    assert "grid" in (start_problem(WEEKDAYS, local(monday, 9, 7), visit=HOUR, rules=RULES, now=NOW) or "")
    assert "working hours" in (
        start_problem(WEEKDAYS, local(monday, 3), visit=HOUR, rules=RULES, now=NOW) or ""
    )
    assert "working hours" in (
        start_problem(WEEKDAYS, local(monday, 11, 30), visit=HOUR, rules=RULES, now=NOW) or ""
    )
    assert "ahead" in (
        start_problem(WEEKDAYS, local(monday, 9), visit=HOUR, rules=RULES, now=local(monday, 8, 30)) or ""
    )
