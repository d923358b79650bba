"""Timestamps, intervals and aggregate bucket boundaries (clock and calendar durations)."""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_genesys.sandbox.durations import Duration, bucket_bounds, parse_duration
from airflow_provider_genesys.sandbox.errors import ApiError
from airflow_provider_genesys.sandbox.timefmt import format_ms, parse_interval, to_ms

UTC = ZoneInfo("UTC")


def _ms(text: str) -> int:
    return to_ms(datetime.fromisoformat(text))


def test_format_is_utc_with_milliseconds() -> None:
    assert format_ms(_ms("2024-05-01T12:34:56.789+00:00")) == "2024-05-01T12:34:56.789Z"
    assert format_ms(_ms("2024-05-01T14:34:56.000+02:00")) == "2024-05-01T12:34:56.000Z"


def test_interval_accepts_z_and_offsets() -> None:
    start, end = parse_interval("2024-05-01T00:00:00Z/2024-05-01T03:00:00.000+02:00")
    assert end - start == 3_600_000
    with pytest.raises(ApiError):  # same instant: end must be after start
        parse_interval("2024-05-01T00:00:00Z/2024-05-01T02:00:00+02:00")


@pytest.mark.parametrize(
    "text", [None, 5, "2024-05-01", "2024-05-01T00:00:00Z", "x/y", "2024-05-01T00:00:00/2024-05-02T00:00:00"]
)
def test_malformed_intervals_are_invalid_dates(text: object) -> None:
    with pytest.raises(ApiError) as info:
        parse_interval(text)
    assert (info.value.status, info.value.code) == (400, "invalid.date")
    assert info.value.details == [{"fieldName": "interval", "errorCode": "invalid.date"}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT15M", Duration(0, 0, 900_000)),
        ("PT1H", Duration(0, 0, 3_600_000)),
        ("P1D", Duration(0, 1, 0)),
        ("P1W", Duration(0, 7, 0)),
        ("P1M", Duration(1, 0, 0)),
        ("P1Y", Duration(12, 0, 0)),
        ("P1DT12H", Duration(0, 1, 43_200_000)),
        ("PT0.5S", Duration(0, 0, 500)),
    ],
)
def test_durations(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "1H", "PT1X", "P1DT"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_clock_buckets_step_in_elapsed_time() -> None:
    start, end = parse_interval("2024-05-01T00:00:00Z/2024-05-01T01:00:00Z")
    assert len(bucket_bounds(start, end, parse_duration("PT15M"), UTC)) == 5


def test_day_buckets_follow_local_midnights_across_dst() -> None:
    zone = ZoneInfo("America/New_York")
    start, end = parse_interval("2024-03-09T00:00:00-05:00/2024-03-12T00:00:00-04:00")
    bounds = bucket_bounds(start, end, parse_duration("P1D"), zone)
    hours = [(b - a) / 3_600_000 for a, b in pairwise(bounds)]
    assert hours == [24, 23, 24]


def test_month_buckets_use_the_calendar() -> None:
    start, end = parse_interval("2024-01-31T00:00:00Z/2024-04-30T00:00:00Z")
    with pytest.raises(ApiError):  # Jan 31 + 1, 2, 3 months → Feb 29, Mar 31, Apr 30: lands on end
        bucket_bounds(start, end, parse_duration("P2M"), UTC)
    bounds = bucket_bounds(start, end, parse_duration("P1M"), UTC)
    rendered = [format_ms(b)[:10] for b in bounds]
    assert rendered == ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]


def test_granularity_that_does_not_divide_is_rejected() -> None:
    start, end = parse_interval("2024-05-01T00:00:00Z/2024-05-01T01:00:00Z")
    with pytest.raises(ApiError) as info:
        bucket_bounds(start, end, parse_duration("PT7M"), UTC)
    assert info.value.details[0]["fieldName"] == "granularity"


def test_naive_datetimes_count_as_utc() -> None:
    assert to_ms(datetime(2024, 5, 1)) == to_ms(datetime(2024, 5, 1, tzinfo=timezone.utc))
