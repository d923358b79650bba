"""Aggregate granularity: ISO-8601 durations and the bucket boundaries they cut an interval into.

Clock parts (hours, minutes, seconds) step in elapsed time; calendar parts (years,
months, weeks, days) step in wall-clock time of the query's ``timeZone``, so a
``P1D`` bucket is 23 or 25 hours long on DST days, as Genesys documents.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ApiError, bad_field
from .timefmt import to_ms

__all__ = ["MAX_BUCKETS", "Duration", "bucket_bounds", "parse_duration", "parse_time_zone"]

MAX_BUCKETS = 100_000

_PATTERN = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?"
)


@dataclass(frozen=True)
class Duration:
    """A parsed ISO-8601 duration: calendar months and days plus elapsed milliseconds."""

    months: int
    days: int
    clock_ms: int

    @property
    def is_zero(self) -> bool:
        return self.months == 0 and self.days == 0 and self.clock_ms == 0


def parse_duration(text: object) -> Duration:
    """Parse ``PT15M``, ``P1D``, ``P1M``...; raise ValueError when malformed."""
    if not isinstance(text, str):
        raise ValueError("granularity must be a string")
    match = _PATTERN.fullmatch(text.strip().upper())
    if match is None or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise ValueError(f"not an ISO-8601 duration: {text!r}")
    part = {k: (v or "0") for k, v in match.groupdict().items()}
    clock_ms = round((int(part["hours"]) * 3600 + int(part["minutes"]) * 60 + float(part["seconds"])) * 1000)
    months = int(part["years"]) * 12 + int(part["months"])
    return Duration(months=months, days=int(part["weeks"]) * 7 + int(part["days"]), clock_ms=clock_ms)


def parse_time_zone(name: object) -> ZoneInfo:
    """The IANA zone ``name`` (default UTC); 400 naming ``timeZone`` when unknown."""
    if name is None:
        return ZoneInfo("UTC")
    try:
        if not isinstance(name, str) or not name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_field("timeZone", f"Unknown time zone: {name!r}") from None


def bucket_bounds(start_ms: int, end_ms: int, step: Duration, zone: ZoneInfo) -> list[int]:
    """Boundaries ``[start, b1, ..., end]``; 400 naming ``granularity`` if ``step`` does not divide."""
    if step.is_zero:
        raise _granularity("granularity must be longer than zero")
    if step.months == 0 and step.days == 0:
        return _elapsed_bounds(start_ms, end_ms, step.clock_ms)
    origin = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc).astimezone(zone).replace(tzinfo=None)
    bounds = [start_ms]
    while bounds[-1] < end_ms:
        if len(bounds) > MAX_BUCKETS:
            raise _granularity(f"granularity yields more than {MAX_BUCKETS} intervals")
        bounds.append(_calendar_step(origin, len(bounds), step, zone))
    return _checked(bounds, end_ms)


def _elapsed_bounds(start_ms: int, end_ms: int, step_ms: int) -> list[int]:
    count, rest = divmod(end_ms - start_ms, step_ms)
    if rest:
        raise _granularity("granularity must divide the interval exactly")
    if count > MAX_BUCKETS:
        raise _granularity(f"granularity yields more than {MAX_BUCKETS} intervals")
    return [start_ms + k * step_ms for k in range(count + 1)]


def _calendar_step(origin: datetime, k: int, step: Duration, zone: ZoneInfo) -> int:
    """The k-th boundary: calendar parts in local wall time, then the clock part elapsed."""
    local = _add_months(origin, k * step.months) + timedelta(days=k * step.days)
    return to_ms(local.replace(tzinfo=zone)) + k * step.clock_ms


def _add_months(moment: datetime, months: int) -> datetime:
    if months == 0:
        return moment
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def _checked(bounds: list[int], end_ms: int) -> list[int]:
    if bounds[-1] != end_ms:
        raise _granularity("granularity must divide the interval exactly")
    return bounds


def _granularity(message: str) -> ApiError:
    return bad_field("granularity", message)
