"""The calendar attachment (RFC 5545): one VEVENT per appointment, updated in place.

The UID is the same in every message about one appointment and SEQUENCE grows with each reschedule (and once
more for the cancel), so a calendar replaces the entry instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

_MAX_LINE_OCTETS = 75


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    sequence: int
    start: datetime
    end: datetime
    summary: str
    description: str
    organizer_email: str
    cancelled: bool = False


def escape_text(value: str) -> str:
    """TEXT values: backslash, semicolon and comma escaped; line breaks as \\n."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and one space (never inside a
    UTF-8 character)."""
    pieces: list[str] = []
    current = ""
    for char in line:
        limit = _MAX_LINE_OCTETS if not pieces else _MAX_LINE_OCTETS - 1
        if len((current + char).encode()) > limit:
            pieces.append(current)
            current = char
        else:
            current += char
    pieces.append(current)
    return "\r\n ".join(pieces)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_ics(event: CalendarEvent, *, now: datetime) -> str:
    """The whole .ics file (CRLF line ends): METHOD:PUBLISH to add or update, METHOD:CANCEL to remove."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Sofia Health//Checkout//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if event.cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(event.start)}",
        f"DTEND:{_utc(event.end)}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"DESCRIPTION:{escape_text(event.description)}",
        f"ORGANIZER:mailto:{event.organizer_email}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
