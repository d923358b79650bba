"""Tests for interval planning: examples around DST and month ends, properties over all zones."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_genesys.core import chunks as chunks_module
from airflow_provider_genesys.core.chunks import (
    Chunk,
    Duration,
    bucket_boundaries,
    check_granularity,
    parse_duration,
    parse_instant,
    plan_chunks,
    split_chunk,
)
from airflow_provider_genesys.core.errors import GenesysConfigError

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local_day(day: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=zone)
    end = (datetime.fromisoformat(day) + timedelta(days=1)).replace(tzinfo=zone)
    return start, end


def assert_covers(result: list[Chunk], start: datetime, end: datetime) -> None:
    assert result, "a non-empty interval has at least one chunk"
    assert result[0].start == start
    assert result[-1].end == end
    for before, after in itertools.pairwise(result):
        assert before.end == after.start
    for chunk in result:
        assert chunk.start < chunk.end


# --- parse_duration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "calendar"),
    [
        ("P1D", Duration(days=1), True),
        ("PT1H", Duration(hours=1), False),
        ("PT30M", Duration(minutes=30), False),
        ("P1W", Duration(weeks=1), True),
        ("P1M", Duration(months=1), True),
        ("P1Y", Duration(years=1), True),
        ("P1DT12H", Duration(days=1, hours=12), True),
        ("PT90S", Duration(seconds=90), False),
        ("PT0.5S", Duration(seconds=0.5), False),
        ("pt1h30m", Duration(hours=1, minutes=30), False),
    ],
)
def test_parse_duration_examples(text: str, expected: Duration, calendar: bool) -> None:
    parsed = parse_duration(text)
    assert parsed == expected
    assert parsed.is_calendar is calendar


@pytest.mark.parametrize(
    ("duration", "iso"),
    [
        (Duration(days=1, hours=12), "P1DT12H"),
        (Duration(seconds=90), "PT90S"),
        (Duration(seconds=0.25), "PT0.25S"),
        (Duration(years=1, months=2, weeks=3, days=4, hours=5, minutes=6, seconds=7), "P1Y2M3W4DT5H6M7S"),
    ],
)
def test_duration_iso_and_str(duration: Duration, iso: str) -> None:
    assert duration.iso == iso
    assert str(duration) == iso
    assert parse_duration(iso) == duration


def test_duration_clock_part() -> None:
    assert parse_duration("P1DT12H").clock == timedelta(hours=12)
    assert parse_duration("PT90S").clock == timedelta(seconds=90)


@pytest.mark.parametrize("text", ["", "   ", "P", "PT", "P1DT", "1D", "P1X", "PT1.5M", "-P1D", "PT0S", "P0D"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(GenesysConfigError) as caught:
        parse_duration(text)
    assert str(caught.value).startswith("chunk: ")
    assert "(" in str(caught.value), "the message says how to fix it"


def test_parse_duration_names_the_given_field() -> None:
    with pytest.raises(GenesysConfigError, match=r"^query\.granularity: "):
        parse_duration("PT0M", field="query.granularity")


# --- Chunk ------------------------------------------------------------------------------------


def test_chunk_forms() -> None:
    chunk = Chunk(utc(2024, 5, 1), utc(2024, 5, 1, 1))
    assert chunk.iso_interval == "2024-05-01T00:00:00.000Z/2024-05-01T01:00:00.000Z"
    assert chunk.basic_name == "20240501T000000Z_20240501T010000Z"
    assert chunk.duration == timedelta(hours=1)


def test_chunk_normalises_to_utc_and_orders() -> None:
    chunk = Chunk(datetime(2024, 5, 1, 2, tzinfo=BERLIN), datetime(2024, 5, 1, 3, tzinfo=BERLIN))
    assert chunk.start.utcoffset() == timedelta(0)
    assert chunk.iso_interval == "2024-05-01T00:00:00.000Z/2024-05-01T01:00:00.000Z"
    later = Chunk(utc(2024, 5, 1, 1), utc(2024, 5, 1, 2))
    assert sorted([later, chunk]) == [chunk, later]


def test_chunk_rejects_naive_and_empty() -> None:
    with pytest.raises(GenesysConfigError, match=r"^chunk\.start: "):
        Chunk(datetime(2024, 5, 1), utc(2024, 5, 2))
    with pytest.raises(GenesysConfigError, match=r"^chunk: "):
        Chunk(utc(2024, 5, 1), utc(2024, 5, 1))


# --- parse_instant ----------------------------------------------------------------------------


def test_parse_instant_accepts_offsets_and_z() -> None:
    assert parse_instant("2024-05-01T02:00:00+02:00", "interval_start") == utc(2024, 5, 1)
    assert parse_instant("2024-05-01T00:00:00Z", "interval_start") == utc(2024, 5, 1)
    assert parse_instant(pendulum.datetime(2024, 5, 1, tz="Europe/Berlin"), "x") == utc(2024, 4, 30, 22)


@pytest.mark.parametrize("value", ["2024-05-01T00:00:00", datetime(2024, 5, 1)])
def test_parse_instant_rejects_naive(value: str | datetime) -> None:
    with pytest.raises(GenesysConfigError, match=r"^interval_start: .*\+00:00"):
        parse_instant(value, "interval_start")


def test_parse_instant_rejects_garbage() -> None:
    with pytest.raises(GenesysConfigError, match=r"^interval_end: 'yesterday' is not"):
        parse_instant("yesterday", "interval_end")


# --- plan_chunks examples ---------------------------------------------------------------------


def test_utc_day_in_hours() -> None:
    result = plan_chunks(utc(2024, 5, 1), utc(2024, 5, 2), "PT1H")
    assert len(result) == 24
    assert all(c.duration == timedelta(hours=1) for c in result)
    assert_covers(result, utc(2024, 5, 1), utc(2024, 5, 2))


def test_accepts_iso_strings() -> None:
    result = plan_chunks("2024-05-01T00:00:00Z", "2024-05-01T03:00:00+00:00", Duration(hours=1))
    assert result[0].basic_name == "20240501T000000Z_20240501T010000Z"
    assert len(result) == 3


@pytest.mark.parametrize(("day", "hours"), [("2024-03-10", 23), ("2024-11-03", 25), ("2024-05-01", 24)])
def test_new_york_local_day_in_hours(day: str, hours: int) -> None:
    start, end = local_day(day, NY)
    result = plan_chunks(start, end, "PT1H", "America/New_York")
    assert len(result) == hours
    assert_covers(result, start, end)
    daily = plan_chunks(start, end, "P1D", "America/New_York")
    assert len(daily) == 1
    assert daily[0].duration == timedelta(hours=hours)


def test_berlin_week_in_days_gives_local_midnights() -> None:
    start = datetime(2024, 3, 28, tzinfo=BERLIN)
    end = datetime(2024, 4, 4, tzinfo=BERLIN)
    result = plan_chunks(start, end, "P1D", "Europe/Berlin")
    assert len(result) == 7
    assert_covers(result, start, end)
    for chunk in result:
        local = chunk.start.astimezone(BERLIN)
        assert (local.hour, local.minute) == (0, 0)
    assert [c.duration.total_seconds() / 3600 for c in result] == [24, 24, 24, 23, 24, 24, 24]


def test_month_steps_from_the_original_start() -> None:
    result = plan_chunks(utc(2024, 1, 31), utc(2024, 6, 1), "P1M")
    assert [c.start.date().isoformat() for c in result] == [
        "2024-01-31",
        "2024-02-29",
        "2024-03-31",
        "2024-04-30",
        "2024-05-31",
    ]
    assert result[-1].duration == timedelta(days=1)


def test_last_chunk_is_shorter() -> None:
    result = plan_chunks(utc(2024, 5, 1), utc(2024, 5, 1, 2, 30), "PT1H")
    assert [c.duration for c in result] == [timedelta(hours=1), timedelta(hours=1), timedelta(minutes=30)]


def test_short_interval_is_one_chunk() -> None:
    result = plan_chunks(utc(2024, 5, 1), utc(2024, 5, 1, 0, 5), "P1D")
    assert result == [Chunk(utc(2024, 5, 1), utc(2024, 5, 1, 0, 5))]


def test_mixed_duration_adds_clock_part_as_elapsed_time() -> None:
    start = datetime(2024, 3, 9, tzinfo=NY)
    result = plan_chunks(start, start + timedelta(days=6), "P1DT12H", "America/New_York")
    locals_ = [c.start.astimezone(NY) for c in result]
    # k=1: one local day (to 03-10 00:00 EST) plus 12 h elapsed, which crosses the spring gap.
    assert locals_[1] == datetime(2024, 3, 10, 13, tzinfo=NY)
    # k=2: two local days (03-11 00:00 EDT) plus 24 h elapsed.
    assert locals_[2] == datetime(2024, 3, 12, tzinfo=NY)


def test_nonexistent_local_time_moves_forward() -> None:
    start = datetime(2024, 3, 9, 2, 30, tzinfo=NY)
    result = plan_chunks(start, start + timedelta(days=3), "P1D", "America/New_York")
    assert [c.start.astimezone(NY).replace(tzinfo=None) for c in result] == [
        datetime(2024, 3, 9, 2, 30),
        datetime(2024, 3, 10, 3, 30),
        datetime(2024, 3, 11, 2, 30),
    ]


def test_skipped_day_is_skipped_not_duplicated() -> None:
    apia = ZoneInfo("Pacific/Apia")  # 2011-12-30 never happened in Samoa
    start = datetime(2011, 12, 28, 10, tzinfo=apia)
    result = plan_chunks(start, start + timedelta(days=5), "P1D", "Pacific/Apia")
    assert_covers(result, start.astimezone(UTC), (start + timedelta(days=5)).astimezone(UTC))
    assert len({c.start for c in result}) == len(result)


def test_too_many_chunks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunks_module, "MAX_CHUNKS", 10)
    with pytest.raises(GenesysConfigError, match=r"^chunk: .*more than 10 chunks"):
        plan_chunks(utc(2024, 5, 1), utc(2024, 5, 2), "PT1H")


# --- plan_chunks validation -------------------------------------------------------------------


def test_naive_start_and_end_are_refused() -> None:
    with pytest.raises(GenesysConfigError, match=r"^interval_start: "):
        plan_chunks(datetime(2024, 5, 1), utc(2024, 5, 2), "PT1H")
    with pytest.raises(GenesysConfigError, match=r"^interval_end: "):
        plan_chunks(utc(2024, 5, 1), "2024-05-02T00:00:00", "PT1H")


@pytest.mark.parametrize("end", [utc(2024, 5, 1), utc(2024, 4, 30)])
def test_end_not_after_start_is_refused(end: datetime) -> None:
    with pytest.raises(GenesysConfigError, match=r"^interval_end: .*not after"):
        plan_chunks(utc(2024, 5, 1), end, "PT1H")


@pytest.mark.parametrize("zone", ["Europe/Berlni", "", "Not/AZone", "../etc/passwd"])
def test_unknown_zone_is_refused(zone: str) -> None:
    with pytest.raises(GenesysConfigError, match=r"^time_zone: unknown time zone"):
        plan_chunks(utc(2024, 5, 1), utc(2024, 5, 2), "PT1H", zone)


def test_unknown_zone_suggests_the_real_one() -> None:
    with pytest.raises(GenesysConfigError, match="Europe/Berlin"):
        plan_chunks(utc(2024, 5, 1), utc(2024, 5, 2), "PT1H", "Europe/Berlni")


@pytest.mark.parametrize("chunk", ["PT0S", "-PT1H", Duration(), Duration(hours=-1), Duration(seconds=1e-9)])
def test_non_positive_chunk_is_refused(chunk: Duration | str) -> None:
    with pytest.raises(GenesysConfigError, match=r"^chunk: "):
        plan_chunks(utc(2024, 5, 1), utc(2024, 5, 2), chunk)


# --- buckets, granularity, splitting ----------------------------------------------------------


def test_bucket_boundaries_follow_local_days() -> None:
    start, end = local_day("2024-03-31", BERLIN)
    chunk = Chunk(start, end + timedelta(days=1))
    points = bucket_boundaries(chunk, parse_duration("P1D"), "Europe/Berlin")
    assert [p.astimezone(BERLIN).hour for p in points] == [0, 0, 0]
    assert points[0] == chunk.start and points[-1] == chunk.end


def test_check_granularity_accepts_dividing_pairs() -> None:
    day = plan_chunks(utc(2024, 5, 1), utc(2024, 5, 3), "P1D")
    check_granularity(day, "PT30M", "UTC")
    ny_days = plan_chunks(*local_day("2024-03-10", NY), "P1D", "America/New_York")
    check_granularity(ny_days, "PT1H", "America/New_York")
    check_granularity(ny_days, "P1D", "America/New_York")


def test_check_granularity_names_chunk_and_suggests_pair() -> None:
    result = plan_chunks(utc(2024, 5, 1), utc(2024, 5, 1, 3), "PT45M")
    with pytest.raises(GenesysConfigError) as caught:
        check_granularity(result, "PT30M", "UTC")
    text = str(caught.value)
    assert text.startswith("query.granularity: PT30M does not divide chunk 20240501T000000Z_20240501T004500Z")
    assert "chunk=PT1H with granularity=PT30M" in text


def test_check_granularity_calendar_bucket_on_clock_chunk_across_dst() -> None:
    start, _ = local_day("2024-03-09", NY)
    result = plan_chunks(start, start + timedelta(hours=72), "PT24H", "America/New_York")
    with pytest.raises(GenesysConfigError, match=r"^query\.granularity: P1D .*chunk=P1D"):
        check_granularity(result, "P1D", "America/New_York")


def test_split_on_bucket_boundary() -> None:
    chunk = Chunk(utc(2024, 5, 1), utc(2024, 5, 2))
    first, second = split_chunk(chunk, parse_duration("PT30M"), "UTC")
    assert (first.start, first.end, second.end) == (chunk.start, utc(2024, 5, 1, 12), chunk.end)
    first, second = split_chunk(Chunk(utc(2024, 5, 1), utc(2024, 5, 1, 1, 30)), "PT30M", "UTC")
    assert first.end == utc(2024, 5, 1, 0, 30)


def test_split_local_days_on_local_midnight() -> None:
    start = datetime(2024, 3, 28, tzinfo=BERLIN)
    chunk = Chunk(start, datetime(2024, 4, 3, tzinfo=BERLIN))
    first, _ = split_chunk(chunk, "P1D", "Europe/Berlin")
    assert first.end == datetime(2024, 3, 31, tzinfo=BERLIN)


def test_split_without_granularity_rounds_to_a_minute_then_a_second() -> None:
    first, second = split_chunk(Chunk(utc(2024, 5, 1), utc(2024, 5, 1, 0, 3)), None, "UTC")
    assert first.end == second.start == utc(2024, 5, 1, 0, 1)
    first, _ = split_chunk(Chunk(utc(2024, 5, 1), utc(2024, 5, 1, 0, 0, 45)), None, "UTC")
    assert first.end == utc(2024, 5, 1, 0, 0, 22)


def test_split_refuses_a_single_bucket() -> None:
    chunk = Chunk(utc(2024, 5, 1), utc(2024, 5, 1, 0, 30))
    with pytest.raises(GenesysConfigError, match=r"^query\.granularity: .*single PT30M bucket"):
        split_chunk(chunk, "PT30M", "UTC")
    with pytest.raises(GenesysConfigError, match=r"^chunk: "):
        split_chunk(Chunk(utc(2024, 5, 1), utc(2024, 5, 1, 0, 0, 1)), None, "UTC")


# --- properties -------------------------------------------------------------------------------

ZONES = sorted(available_timezones())
LOW = datetime(1970, 1, 2)
HIGH = datetime(2099, 11, 1)

clock_durations = st.builds(
    Duration,
    hours=st.integers(0, 30),
    minutes=st.integers(0, 59),
    seconds=st.sampled_from([0.0, 0.5, 15.0, 30.0]),
).filter(lambda d: d.clock >= timedelta(minutes=1))
calendar_durations = st.builds(
    Duration,
    years=st.integers(0, 1),
    months=st.integers(0, 3),
    weeks=st.integers(0, 2),
    days=st.integers(0, 3),
).filter(lambda d: d.is_calendar)
mixed_durations = st.builds(
    Duration,
    months=st.integers(0, 1),
    days=st.integers(0, 2),
    hours=st.integers(0, 23),
    minutes=st.integers(0, 59),
).filter(lambda d: d.is_calendar and d.clock > timedelta(0))


def _nominal(duration: Duration) -> timedelta:
    months = duration.years * 12 + duration.months
    return timedelta(days=months * 31 + duration.weeks * 7 + duration.days) + duration.clock


@st.composite
def intervals(
    draw: st.DrawFn, durations: st.SearchStrategy[Duration]
) -> tuple[datetime, datetime, Duration, str]:
    """An aware interval of at most 60 days and at most ~200 chunks, in a random zone."""
    zone = draw(st.sampled_from(ZONES))
    naive = draw(st.datetimes(min_value=LOW, max_value=HIGH))
    start = naive.replace(tzinfo=ZoneInfo(zone), fold=draw(st.integers(0, 1)))
    duration = draw(durations)
    cap = min(timedelta(days=60), _nominal(duration) * 200)
    length = draw(st.integers(1, int(cap.total_seconds()))) * timedelta(seconds=1)
    return start, start + length, duration, zone


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(intervals(st.one_of(clock_durations, calendar_durations, mixed_durations)))
def test_chunks_cover_the_interval_exactly(case: tuple[datetime, datetime, Duration, str]) -> None:
    start, end, duration, zone = case
    result = plan_chunks(start, end, duration, zone)
    assert_covers(result, start.astimezone(UTC), end.astimezone(UTC))


@PROPERTY_SETTINGS
@given(intervals(clock_durations))
def test_clock_chunks_have_the_exact_length(case: tuple[datetime, datetime, Duration, str]) -> None:
    start, end, duration, zone = case
    result = plan_chunks(start, end, duration, zone)
    assert all(c.duration == duration.clock for c in result[:-1])
    assert result[-1].duration <= duration.clock


def _wall_time_exists(wall: datetime, zone: ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


@PROPERTY_SETTINGS
@given(intervals(calendar_durations))
def test_calendar_chunks_keep_the_local_wall_time(case: tuple[datetime, datetime, Duration, str]) -> None:
    start, end, duration, zone_name = case
    zone = ZoneInfo(zone_name)
    result = plan_chunks(start, end, duration, zone_name)
    wall_time = start.astimezone(zone).time()
    for chunk in result[1:]:
        local = chunk.start.astimezone(zone)
        if _wall_time_exists(datetime.combine(local.date(), wall_time), zone):
            assert local.time() == wall_time


@PROPERTY_SETTINGS
@given(intervals(st.one_of(clock_durations, calendar_durations)), st.sampled_from(["PT15M", "PT1H", "P1D"]))
def test_split_halves_cover_the_chunk(
    case: tuple[datetime, datetime, Duration, str], granularity: str
) -> None:
    start, end, _, zone = case
    chunk = Chunk(start, end)
    buckets = bucket_boundaries(chunk, parse_duration(granularity), zone)
    assert buckets[0] == chunk.start and buckets[-1] == chunk.end
    assert all(a < b for a, b in itertools.pairwise(buckets))
    if len(buckets) < 3:
        return
    first, second = split_chunk(chunk, granularity, zone)
    assert (first.start, first.end, second.end) == (chunk.start, second.start, chunk.end)
    assert first.end in buckets


def test_pendulum_datetimes_from_airflow_are_accepted() -> None:
    """Airflow hands data intervals over as pendulum DateTimes."""
    import pendulum

    day = pendulum.datetime(2024, 3, 10, tz="America/New_York")
    hourly = plan_chunks(day, day.add(days=1), "PT1H", "America/New_York")
    daily = plan_chunks(day, day.add(days=2), "P1D", "America/New_York")
    assert len(hourly) == 23
    assert [c.duration.total_seconds() / 3600 for c in daily] == [23, 24]
    assert type(hourly[0].start) is datetime
