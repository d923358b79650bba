"""Every bad argument is refused before any request, naming the argument and the fix."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_genesys.core.errors import GenesysConfigError
from airflow_provider_genesys.core.spec import build_spec

DAY = {"interval_start": "2024-05-01T00:00:00+00:00", "interval_end": "2024-05-02T00:00:00+00:00"}
AGG = {"metrics": ["nOffered"], "granularity": "PT30M"}


def _spec(kind: str = "aggregates", **overrides: Any) -> Any:
    args: dict[str, Any] = {**DAY, "chunk": "PT1H", "query": AGG if kind == "aggregates" else {}}
    args.update(overrides)
    return build_spec(kind, **args)


def test_valid_aggregates_spec_plans_hourly_chunks() -> None:
    spec = _spec()
    assert len(spec.chunks) == 24
    assert spec.query == {"metrics": ["nOffered"], "granularity": "PT30M"}
    assert spec.granularity is not None and spec.granularity.iso == "PT30M"
    assert spec.identity()["interval"] == {"start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"}


def test_query_time_zone_equal_to_time_zone_is_accepted_and_dropped() -> None:
    spec = _spec(query={**AGG, "timeZone": "Europe/Paris"}, time_zone="Europe/Paris")
    assert "timeZone" not in spec.query


@pytest.mark.parametrize(
    ("kind", "overrides", "field", "fragment"),
    [
        ("aggregates", {"query": {**AGG, "metrics": ["nOfered"]}}, "query.metrics", "nOffered"),
        ("aggregates", {"query": {**AGG, "groupBy": ["queueID"]}}, "query.groupBy", "queueId"),
        ("aggregates", {"query": {**AGG, "interval": "x/y"}}, "query.interval", "remove 'interval'"),
        ("aggregates", {"query": {**AGG, "timeZone": "Europe/Paris"}}, "query.timeZone", "conflicts"),
        ("aggregates", {"query": {**AGG, "bogus": 1}}, "query", "bogus"),
        ("aggregates", {"query": {"granularity": "PT30M"}}, "query.metrics", "no metrics"),
        ("aggregates", {"query": {**AGG, "granularity": "PT7M"}}, "query.granularity", "does not divide"),
        (
            "aggregates",
            {"interval_end": "2024-05-01T02:30:00+00:00", "query": {**AGG, "granularity": "PT1H"}},
            "query.granularity",
            "cut short",
        ),
        ("aggregates", {"interval_start": "2024-05-01T00:00:00"}, "interval_start", "offset"),
        ("aggregates", {"interval_start": datetime(2024, 5, 1)}, "interval_start", ""),
        ("aggregates", {"interval_end": "2024-04-30T00:00:00+00:00"}, "interval_end", "not after"),
        ("aggregates", {"interval_end": DAY["interval_start"]}, "interval_end", "not after"),
        ("aggregates", {"chunk": "PT0H"}, "chunk", ""),
        ("aggregates", {"chunk": "-PT1H"}, "chunk", ""),
        ("aggregates", {"chunk": "hourly"}, "chunk", ""),
        ("aggregates", {"time_zone": "Mars/Olympus"}, "time_zone", ""),
        ("aggregates", {"output_format": "csv"}, "output_format", "jsonl"),
        ("aggregates", {"compression": "zip"}, "compression", "gzip"),
        ("details", {"page_size": 101}, "page_size", "1 to 100"),
        ("details", {"page_size": 0}, "page_size", "1 to 100"),
        ("jobs", {"page_size": 1001}, "page_size", "1 to 1000"),
        ("details", {"chunk": "P8D", "interval_end": "2024-05-20T00:00:00+00:00"}, "chunk", "7 days"),
        ("details", {"query": {"paging": {"pageSize": 5}}}, "query.paging", "page_size"),
        ("details", {"query": {"interval": "a/b"}}, "query.interval", ""),
        (
            "details",
            {
                "query": {
                    "segmentFilters": [
                        {"type": "and", "predicates": [{"dimension": "queueID", "value": "q"}]}
                    ]
                }
            },
            "query.segmentFilters",
            "queueId",
        ),
        ("jobs", {"poll_interval": 0}, "poll_interval", ""),
    ],
)
def test_bad_input_names_the_argument(
    kind: str, overrides: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(GenesysConfigError) as info:
        _spec(kind, **overrides)
    assert info.value.field == field, str(info.value)
    assert str(info.value).startswith(f"{field}: ")
    assert fragment in str(info.value)


def test_details_chunk_limit_is_31_days_with_a_filter() -> None:
    query = {"segmentFilters": [{"type": "and", "predicates": [{"dimension": "queueId", "value": "q"}]}]}
    spec = _spec("details", chunk="P31D", query=query, interval_end="2024-06-01T00:00:00+00:00")
    assert len(spec.chunks) == 1
    with pytest.raises(GenesysConfigError, match="^chunk: .* 31 days"):
        _spec("details", chunk="P32D", query=query, interval_end="2024-06-10T00:00:00+00:00")


def test_validate_names_false_lets_newer_names_through() -> None:
    spec = _spec(query={**AGG, "metrics": ["nBrandNewMetric"]}, validate_names=False)
    assert spec.query["metrics"] == ["nBrandNewMetric"]


def test_aware_datetimes_are_accepted() -> None:
    spec = _spec(
        interval_start=datetime(2024, 5, 1, tzinfo=timezone.utc),
        interval_end=datetime(2024, 5, 1, 2, tzinfo=timezone.utc),
    )
    assert len(spec.chunks) == 2


def test_new_york_dst_days_have_23_and_25_hourly_chunks() -> None:
    spring = _spec(
        interval_start="2024-03-10T00:00:00-05:00",
        interval_end="2024-03-11T00:00:00-04:00",
        time_zone="America/New_York",
    )
    autumn = _spec(
        interval_start="2024-11-03T00:00:00-04:00",
        interval_end="2024-11-04T00:00:00-05:00",
        time_zone="America/New_York",
    )
    assert (len(spring.chunks), len(autumn.chunks)) == (23, 25)


def test_users_and_flows_aggregates_use_their_own_name_lists() -> None:
    spec = _spec(entity="users", query={"metrics": ["tAgentRoutingStatus"], "granularity": "PT30M"})
    assert spec.entity.aggregates_path == "/api/v2/analytics/users/aggregates/query"
    with pytest.raises(GenesysConfigError, match="^query.metrics: "):
        _spec(entity="users", query={"metrics": ["nOffered"], "granularity": "PT30M"})
    flows = _spec(entity="flows", query={"metrics": ["nFlow"], "granularity": "PT30M"})
    assert flows.entity.aggregates_path == "/api/v2/analytics/flows/aggregates/query"
    with pytest.raises(GenesysConfigError, match="^entity: users has no details extraction"):
        _spec("details", entity="users")
