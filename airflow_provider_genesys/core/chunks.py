"""Interval planning: split [start, end) into chunks and buckets the way Genesys counts time.

Two kinds of step exist. A *clock* duration (``PT1H``, ``PT30M``) is elapsed time, so every chunk is
exactly that long. A *calendar* duration (``P1D``, ``P1W``, ``P1M``) is wall-clock time in a time
zone, so a local day on a DST change is 23 or 25 hours long, like Genesys's own ``timeZone`` buckets.
Boundaries are computed from the original start each time (never cumulatively), so ``P1M`` from
31 January lands on the last day of February and then on 31 March.
"""

from __future__ import annotations

import calendar
import difflib
import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from airflow_provider_genesys.core.errors import GenesysConfigError

__all__ = [
    "MAX_CHUNKS",
    "Chunk",
    "Duration",
    "bucket_boundaries",
    "check_granularity",
    "parse_duration",
    "parse_instant",
    "plan_chunks",
    "split_chunk",
]

#: A plan longer than this is almost certainly a mistake (``PT1S`` over a year) and would never finish.
MAX_CHUNKS = 100_000

_DURATION_RE = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)
_DURATION_FIX = "write an ISO-8601 duration such as PT30M, PT1H, P1D, P1W, P1M or P1DT12H"
_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
#: Stands for a boundary past the end of the representable range (``P1000Y``): certainly after ``end``.
_FAR = datetime.max.replace(tzinfo=_UTC)


@dataclass(frozen=True)
class Duration:
    """An ISO-8601 duration split into a calendar part (wall-clock) and a clock part (elapsed)."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: float = 0.0

    @property
    def is_calendar(self) -> bool:
        """Whether any part steps in local calendar time (years, months, weeks or days)."""
        return bool(self.years or self.months or self.weeks or self.days)

    @property
    def clock(self) -> timedelta:
        """The elapsed-time part (hours, minutes, seconds)."""
        return timedelta(hours=self.hours, minutes=self.minutes, seconds=self.seconds)

    @property
    def iso(self) -> str:
        """Canonical ISO-8601 text, zero parts left out (``P1DT12H``)."""
        date = "".join(f"{n}{u}" for n, u in self._date_parts() if n)
        time = "".join(f"{n}{u}" for n, u in self._time_parts() if n != "0")
        return "P" + date + (f"T{time}" if time else "")

    def _date_parts(self) -> list[tuple[int, str]]:
        return [(self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D")]

    def _time_parts(self) -> list[tuple[str, str]]:
        return [(str(self.hours), "H"), (str(self.minutes), "M"), (_format_seconds(self.seconds), "S")]

    def __str__(self) -> str:
        return self.iso

    @classmethod
    def from_timedelta(cls, delta: timedelta) -> Duration:
        """The clock duration of a timedelta, in hours, minutes and seconds (``PT24H``, ``PT1H30M``)."""
        total = delta.total_seconds()
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        return cls(hours=int(hours), minutes=int(minutes), seconds=round(seconds, 6))


@dataclass(frozen=True, order=True)
class Chunk:
    """One half-open interval [start, end) in UTC: the unit one query or job covers."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start = _require_aware(self.start, "chunk.start")
        end = _require_aware(self.end, "chunk.end")
        if end <= start:
            raise GenesysConfigError("chunk", f"end {end.isoformat()} is not after start {start.isoformat()}")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def iso_interval(self) -> str:
        """The Genesys ``interval`` text: UTC, milliseconds, ``start/end``."""
        return f"{_iso_millis(self.start)}/{_iso_millis(self.end)}"

    @property
    def basic_name(self) -> str:
        """A file-name stem in basic ISO form, ``20240501T000000Z_20240501T010000Z``."""
        return f"{_basic(self.start)}_{_basic(self.end)}"

    @property
    def duration(self) -> timedelta:
        """How much elapsed time the chunk covers."""
        return self.end - self.start


def _format_seconds(seconds: float) -> str:
    """Seconds without float noise: ``90``, ``0.5``, ``1.25``."""
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:.6f}".rstrip("0").rstrip(".")


def _iso_millis(moment: datetime) -> str:
    utc = moment.astimezone(_UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond // 1000:03d}Z"


def _basic(moment: datetime) -> str:
    utc = moment.astimezone(_UTC)
    fraction = f".{utc.microsecond // 1000:03d}" if utc.microsecond else ""
    return utc.strftime("%Y%m%dT%H%M%S") + fraction + "Z"


def _require_aware(moment: datetime, field: str) -> datetime:
    """Return ``moment`` in UTC; a naive datetime is an error because its instant is unknown."""
    if not isinstance(moment, datetime):
        raise GenesysConfigError(field, f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise GenesysConfigError(
            field,
            f"{moment.isoformat()} has no time zone",
            "give an aware datetime or add an offset like +00:00",
        )
    utc = moment.astimezone(_UTC)
    # A plain datetime: subclasses such as pendulum's (Airflow's data intervals) mis-compare after arithmetic.
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=_UTC
    )


def parse_duration(text: str, field: str = "chunk") -> Duration:
    """Parse ISO-8601 duration text (``PT1H``, ``P1D``, ``P1M``, ``P1DT12H``, ``PT90S``); must be positive."""
    if not isinstance(text, str) or not text.strip():
        raise GenesysConfigError(field, f"expected duration text, got {text!r}", _DURATION_FIX)
    clean = text.strip().upper()
    if clean.startswith("-"):
        raise GenesysConfigError(
            field, f"{text!r} is negative", "use a positive duration such as PT1H or P1D"
        )
    match = _DURATION_RE.fullmatch(clean)
    if match is None or clean in ("P", "PT"):
        raise GenesysConfigError(field, f"{text!r} is not an ISO-8601 duration", _DURATION_FIX)
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    seconds = float(parts.pop("seconds", "0").replace(",", "."))
    duration = Duration(seconds=seconds, **{k: int(v) for k, v in parts.items()})
    return _check_duration(duration, field, text)


def _check_duration(duration: Duration, field: str, text: str | None = None) -> Duration:
    """Return ``duration`` when it moves time forward; otherwise name the field and say why."""
    shown = repr(text) if text is not None else duration.iso
    values: tuple[float, ...] = (duration.years, duration.months, duration.weeks, duration.days)
    values += (duration.hours, duration.minutes, duration.seconds)
    if any(v < 0 for v in values):
        raise GenesysConfigError(
            field, f"{shown} has a negative part", "use a positive duration such as PT1H"
        )
    if not duration.is_calendar and duration.clock <= timedelta(0):
        raise GenesysConfigError(field, f"{shown} is zero (or under a microsecond)", _DURATION_FIX)
    return duration


def _as_duration(value: Duration | str, field: str) -> Duration:
    if isinstance(value, Duration):
        return _check_duration(value, field)
    return parse_duration(value, field)


def parse_instant(value: str | datetime, field: str) -> datetime:
    """An aware datetime (or ISO-8601 text with an offset) as UTC; naive input is refused."""
    if isinstance(value, str):
        value = _parse_iso_text(value, field)
    return _require_aware(value, field)


def _parse_iso_text(text: str, field: str) -> datetime:
    clean = text.strip()
    if clean[-1:] in ("Z", "z"):
        clean = clean[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(clean)
    except ValueError:
        fix = "write it like 2024-05-01T00:00:00+00:00 or 2024-05-01T00:00:00Z"
        raise GenesysConfigError(field, f"{text!r} is not an ISO-8601 date-time", fix) from None


def _zone(time_zone: str) -> ZoneInfo:
    """Load an IANA zone, or fail naming ``time_zone`` and the closest real names."""
    zone = _load_zone(time_zone) if isinstance(time_zone, str) and time_zone.strip() else None
    if zone is None:
        close = difflib.get_close_matches(str(time_zone), sorted(available_timezones()), n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        fix = f"use an IANA name such as UTC, Europe/Berlin or America/New_York{hint}"
        raise GenesysConfigError("time_zone", f"unknown time zone {time_zone!r}", fix)
    return zone


@lru_cache(maxsize=256)
def _load_zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _add_months(wall: datetime, months: int) -> datetime:
    """Move a naive wall-clock time by whole months, clamping the day to the month's length."""
    index = wall.year * 12 + wall.month - 1 + months
    year, month = divmod(index, 12)
    day = min(wall.day, calendar.monthrange(year, month + 1)[1])
    return wall.replace(year=year, month=month + 1, day=day)


def _from_wall(wall: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time as a UTC instant; times in a DST gap move forward, folds take the first."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(_UTC)


def _nth_boundary(start: datetime, step: Duration, k: int, zone: ZoneInfo) -> datetime:
    """Boundary ``k``: ``start`` plus ``k`` steps, calendar part on the local wall clock."""
    if not step.is_calendar:
        return start + k * step.clock
    wall = start.astimezone(zone).replace(tzinfo=None)
    wall = _add_months(wall, k * (step.years * 12 + step.months))
    wall = wall + timedelta(days=k * (step.weeks * 7 + step.days))
    return _from_wall(wall, zone) + k * step.clock


def _step_points(start: datetime, end: datetime, step: Duration, zone: ZoneInfo) -> list[datetime]:
    """``start`` and each later boundary, up to the first one at or after ``end`` (not clamped)."""
    points = [start]
    k = 0
    while points[-1] < end:
        k += 1
        try:
            point = _nth_boundary(start, step, k, zone)
        except (OverflowError, ValueError):
            point = _FAR
        if point > points[-1]:
            points.append(point)
        if len(points) > MAX_CHUNKS + 1:
            raise GenesysConfigError(
                "chunk",
                f"{step.iso} makes more than {MAX_CHUNKS} chunks",
                "use a longer chunk or a shorter interval",
            )
    return points


def _clamped_points(start: datetime, end: datetime, step: Duration, zone: ZoneInfo) -> list[datetime]:
    points = _step_points(start, end, step, zone)
    points[-1] = end
    return points


def plan_chunks(
    start: str | datetime, end: str | datetime, chunk: Duration | str, time_zone: str = "UTC"
) -> list[Chunk]:
    """Split [start, end) into consecutive chunks that cover it exactly; the last may be shorter."""
    begin = parse_instant(start, "interval_start")
    finish = parse_instant(end, "interval_end")
    if finish <= begin:
        raise GenesysConfigError(
            "interval_end",
            f"{finish.isoformat()} is not after interval_start {begin.isoformat()}",
            "give an interval_end later than interval_start",
        )
    zone = _zone(time_zone)
    step = _as_duration(chunk, "chunk")
    points = _clamped_points(begin, finish, step, zone)
    return [Chunk(a, b) for a, b in itertools.pairwise(points)]


def bucket_boundaries(chunk: Chunk, granularity: Duration | str, time_zone: str) -> list[datetime]:
    """Where Genesys's buckets for ``chunk`` start, plus ``chunk.end``: N buckets give N + 1 instants."""
    step = _as_duration(granularity, "query.granularity")
    return _clamped_points(chunk.start, chunk.end, step, _zone(time_zone))


def _divides(chunk: Chunk, step: Duration, zone: ZoneInfo) -> bool:
    return _step_points(chunk.start, chunk.end, step, zone)[-1] == chunk.end


def check_granularity(chunks: list[Chunk], granularity: Duration | str, time_zone: str) -> None:
    """Raise unless every chunk is a whole number of ``granularity`` buckets (no bucket cut short)."""
    step = _as_duration(granularity, "query.granularity")
    zone = _zone(time_zone)
    for chunk in chunks:
        if not _divides(chunk, step, zone):
            longest = max(chunks, key=lambda c: c.duration)
            raise GenesysConfigError(
                "query.granularity",
                f"{step.iso} does not divide chunk {chunk.basic_name} ({chunk.duration} long) into whole "
                f"buckets in {time_zone}; its last bucket would be cut short",
                _granularity_fix(longest.duration, step),
            )


def _granularity_fix(chunk_length: timedelta, step: Duration) -> str:
    """Suggest a chunk/granularity pair that lines up."""
    if step.is_calendar:
        return (
            f"use a calendar chunk that is a whole number of {step.iso} (e.g. chunk={step.iso} with "
            f"granularity={step.iso}, or chunk=P1M with granularity=P1D) and an interval on local boundaries"
        )
    count = max(1, round(chunk_length / step.clock))
    fitting = Duration.from_timedelta(step.clock * count)
    return (
        f"use a chunk that is a whole number of {step.iso} buckets (e.g. chunk={fitting.iso} with "
        f"granularity={step.iso}) and an interval that ends on a bucket boundary"
    )


def split_chunk(chunk: Chunk, granularity: Duration | str | None, time_zone: str) -> tuple[Chunk, Chunk]:
    """Split a chunk in two on a bucket boundary (or a whole second/minute), for oversized results."""
    zone = _zone(time_zone)
    if granularity is None:
        middle = _round_middle(chunk)
    else:
        middle = _middle_bucket(chunk, _as_duration(granularity, "query.granularity"), zone)
    return Chunk(chunk.start, middle), Chunk(middle, chunk.end)


def _middle_bucket(chunk: Chunk, step: Duration, zone: ZoneInfo) -> datetime:
    points = _clamped_points(chunk.start, chunk.end, step, zone)
    buckets = len(points) - 1
    if buckets < 2:
        raise GenesysConfigError(
            "query.granularity",
            f"chunk {chunk.basic_name} is a single {step.iso} bucket and cannot be split",
            "use a finer granularity, a narrower filter or fewer groupBy dimensions",
        )
    return points[buckets // 2]


def _round_middle(chunk: Chunk) -> datetime:
    """The midpoint rounded down to a whole minute where that stays inside, else to a whole second."""
    middle = chunk.start + chunk.duration / 2
    for unit in (timedelta(minutes=1), timedelta(seconds=1)):
        rounded = _EPOCH + ((middle - _EPOCH) // unit) * unit
        if chunk.start < rounded < chunk.end:
            return rounded
    raise GenesysConfigError(
        "chunk",
        f"chunk {chunk.basic_name} is {chunk.duration} long and cannot be split on a whole second",
        "use a narrower filter or fewer groupBy dimensions",
    )
