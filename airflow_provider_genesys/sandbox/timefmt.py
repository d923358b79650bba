"""Genesys timestamps: parse ISO-8601 instants and intervals, render UTC milliseconds with ``Z``.

Internally the sandbox keeps every instant as integer epoch milliseconds, so
arithmetic and comparisons are exact; strings exist only at the edges.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

from .errors import ApiError, bad_field

__all__ = [
    "DAY_MS",
    "date_of",
    "day_start_ms",
    "format_ms",
    "parse_instant",
    "parse_interval",
    "to_ms",
]

DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


_MINUTES: dict[int, str] = {}


def format_ms(ms: int) -> str:
    """Render epoch milliseconds as ``2024-05-01T12:34:56.789Z``, the Genesys style."""
    minute, rest = divmod(ms, 60_000)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        if len(_MINUTES) > 100_000:  # ~70 days of minutes (~10 MB); rendering is the hot path of details
            _MINUTES.clear()
        prefix = _MINUTES[minute] = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))
    secs, milli = divmod(rest, 1000)
    return f"{prefix}{secs:02d}.{milli:03d}Z"


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant that carries an offset (``Z`` or ``±hh:mm``); raise ValueError."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"instant without an offset: {text!r}")
    return moment


def parse_interval(value: object, field: str = "interval") -> tuple[int, int]:
    """Parse ``start/end`` into epoch milliseconds; 400 ``invalid.date`` when malformed or reversed."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise _invalid_interval(field, f"{field} must be an ISO-8601 'start/end' string")
    start_text, end_text = value.split("/")
    try:
        start, end = to_ms(parse_instant(start_text)), to_ms(parse_instant(end_text))
    except (ValueError, IndexError) as exc:
        raise _invalid_interval(field, f"Invalid {field} {value!r}: {exc}") from None
    if end <= start:
        raise _invalid_interval(field, f"The {field} end must be after its start: {value!r}")
    return start, end


def _invalid_interval(field: str, message: str) -> ApiError:
    return bad_field(field, message, code="invalid.date", error_code="invalid.date")


def date_of(ms: int) -> date:
    """The UTC calendar date that contains the instant ``ms``."""
    return date(1970, 1, 1) + timedelta(days=ms // DAY_MS)


def day_start_ms(day: date) -> int:
    """Epoch milliseconds of UTC midnight starting ``day``."""
    return (day - date(1970, 1, 1)).days * DAY_MS
