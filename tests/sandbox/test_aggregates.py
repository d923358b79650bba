"""Aggregates: Genesys shape, grouping, buckets, filters, every 400, the result cap, and the truth."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.sandbox.conftest import AsgiEnv
from tests.sandbox.support import (
    AGGREGATES,
    DAY,
    DETAILS,
    HOUR,
    METRICS,
    aggregate_totals,
    instant,
    totals_by_bucket_rule,
)

Make = Callable[..., Awaitable[AsgiEnv]]
INTERVAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def _query(env: AsgiEnv, **body: Any) -> Any:
    response = await env.call("POST", AGGREGATES, {"interval": HOUR, "metrics": ["nOffered"], **body})
    assert response.status_code == 200, response.text
    return response.json()


async def test_tutorial_query_shape(asgi_env: AsgiEnv) -> None:
    """The facts file's tutorial body (minus its made-up queue filter) answers in the Genesys shape."""
    body = await _query(
        asgi_env,
        interval=DAY,
        granularity="PT30M",
        timeZone="UTC",
        groupBy=["queueId", "mediaType"],
        metrics=["nOffered", "tAnswered", "tTalk", "tHandle"],
    )
    assert set(body) == {"results"}
    groups = [r["group"] for r in body["results"]]
    assert len(groups) > 1 and groups == sorted(groups, key=lambda g: (g["queueId"], g["mediaType"]))
    assert all(set(g) == {"queueId", "mediaType"} for g in groups)
    for result in body["results"]:
        starts = [b["interval"] for b in result["data"]]
        assert starts == sorted(starts)
        for bucket in result["data"]:
            assert INTERVAL.match(bucket["interval"])
            start, end = (instant(t) for t in bucket["interval"].split("/"))
            assert (end - start).total_seconds() == 1800
            for metric in bucket["metrics"]:
                stats = metric["stats"]
                if metric["metric"].startswith("n"):
                    assert set(stats) == {"count"}
                else:
                    assert set(stats) == {"max", "min", "count", "sum"}
                    assert stats["min"] <= stats["max"] <= stats["sum"]
            names = [m["metric"] for m in bucket["metrics"]]
            assert names == [m for m in ["nOffered", "tAnswered", "tTalk", "tHandle"] if m in names]


async def test_without_granularity_one_bucket_spans_the_interval(asgi_env: AsgiEnv) -> None:
    body = await _query(asgi_env, interval=DAY)
    assert body == {
        "results": [
            {"group": {}, "data": [{"interval": DAY, "metrics": body["results"][0]["data"][0]["metrics"]}]}
        ]
    }


async def test_queue_level_metrics_have_no_user_group(asgi_env: AsgiEnv) -> None:
    body = await _query(asgi_env, groupBy=["userId"], metrics=["nOffered", "nConnected"])
    without_user = [r for r in body["results"] if "userId" not in r["group"]]
    with_user = [r for r in body["results"] if "userId" in r["group"]]
    assert len(without_user) == 1 and with_user
    assert {m["metric"] for b in without_user[0]["data"] for m in b["metrics"]} == {"nOffered"}
    assert {m["metric"] for r in with_user for b in r["data"] for m in b["metrics"]} == {"nConnected"}


async def test_totals_equal_truth_and_details_recomputed_by_the_bucket_rule(asgi_env: AsgiEnv) -> None:
    body = await _query(
        asgi_env, interval=DAY, granularity="PT1H", groupBy=["queueId", "mediaType"], metrics=METRICS
    )
    totals = aggregate_totals(body)
    truth = (await asgi_env.client.get("/sandbox/truth", params={"start": DAY[:24], "end": DAY[25:]})).json()
    assert totals == truth["aggregates"]
    conversations = []
    for day in ("2024-04-30", "2024-05-01"):  # the day before contributes observations after midnight
        page = 1
        while True:
            paging = {"pageSize": 100, "pageNumber": page}
            interval = f"{day}T00:00:00Z/{day}T01:00:00Z"
            result = (await asgi_env.call("POST", DETAILS, {"interval": interval, "paging": paging})).json()
            if "conversations" not in result:
                break
            conversations += result["conversations"]
            page += 1
    recomputed = totals_by_bucket_rule(conversations, instant(DAY[:24]), instant(DAY[25:]))
    assert recomputed == totals
    assert totals["nOffered"]["count"] > 1900


async def test_filters_apply_per_observation(asgi_env: AsgiEnv) -> None:
    everything = await _query(asgi_env, groupBy=["queueId", "direction"], metrics=["nOffered", "tHandle"])
    queue = everything["results"][0]["group"]["queueId"]
    predicate = {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": queue}
    one = await _query(asgi_env, groupBy=["queueId"], filter={"type": "and", "predicates": [predicate]})
    assert [r["group"] for r in one["results"]] == [{"queueId": queue}]
    outbound = {"dimension": "direction", "value": "outbound"}
    clause = {"type": "or", "predicates": [predicate, outbound]}
    either = await _query(
        asgi_env, groupBy=["queueId", "direction"], filter={"type": "and", "clauses": [clause]}
    )
    assert all(
        r["group"]["queueId"] == queue or r["group"]["direction"] == "outbound" for r in either["results"]
    )
    agents = await _query(
        asgi_env,
        metrics=["nOffered", "nConnected"],
        filter={"type": "and", "predicates": [{"dimension": "userId", "operator": "exists"}]},
    )
    assert {m["metric"] for m in agents["results"][0]["data"][0]["metrics"]} == {"nConnected"}
    queues = await _query(
        asgi_env,
        metrics=["nOffered", "nConnected"],
        filter={"type": "and", "predicates": [{"dimension": "userId", "operator": "notExists"}]},
    )
    assert {m["metric"] for m in queues["results"][0]["data"][0]["metrics"]} == {"nOffered"}


async def test_nothing_matched_is_an_empty_object(asgi_env: AsgiEnv) -> None:
    """The facts file's tutorial body verbatim: its queue does not exist here, so Genesys' ``{}``."""
    tutorial = {
        "interval": "2024-05-01T00:00:00.000Z/2024-05-02T00:00:00.000Z",
        "granularity": "PT30M",
        "timeZone": "UTC",
        "groupBy": ["queueId", "mediaType"],
        "metrics": ["nOffered", "tAnswered", "tTalk", "tHandle"],
        "filter": {
            "type": "and",
            "clauses": [
                {
                    "type": "or",
                    "predicates": [{"dimension": "queueId", "value": "c6fc6f57-4c1e-4812-980a-5154f500b5c6"}],
                }
            ],
        },
    }
    assert await _query(asgi_env, **tutorial) == {}


async def test_calendar_granularity_in_a_time_zone(asgi_env: AsgiEnv) -> None:
    interval = "2024-03-09T00:00:00-05:00/2024-03-11T00:00:00-04:00"
    body = await _query(asgi_env, interval=interval, granularity="P1D", timeZone="America/New_York")
    intervals = [b["interval"] for b in body["results"][0]["data"]]
    assert intervals == [
        "2024-03-09T05:00:00.000Z/2024-03-10T05:00:00.000Z",
        "2024-03-10T05:00:00.000Z/2024-03-11T04:00:00.000Z",  # 23 hours: DST starts
    ]


async def test_empty_buckets_are_omitted(asgi_env: AsgiEnv) -> None:
    interval = "2024-05-01T03:00:00Z/2024-05-01T04:00:00Z"
    body = await _query(asgi_env, interval=interval, granularity="PT1M", metrics=["nTransferred"])
    minutes = len(body["results"][0]["data"]) if body else 0
    assert 0 <= minutes < 60


@pytest.mark.parametrize(
    ("body", "field", "code", "error_code"),
    [
        ({"interval": "yesterday"}, "interval", "invalid.date", "invalid.date"),
        (
            {"interval": "2024-05-02T00:00:00Z/2024-05-01T00:00:00Z"},
            "interval",
            "invalid.date",
            "invalid.date",
        ),
        ({"granularity": "PT7M"}, "granularity", "bad.request", "invalid.value"),
        ({"granularity": "often"}, "granularity", "bad.request", "invalid.value"),
        ({"timeZone": "Mars/Olympus"}, "timeZone", "bad.request", "invalid.value"),
        ({"metrics": ["nOffered", "nBogus"]}, "metrics", "bad.request", "invalid.value"),
        ({"metrics": []}, "metrics", "bad.request", "invalid.value"),
        ({"groupBy": ["planet"]}, "groupBy", "bad.request", "invalid.value"),
        (
            {"filter": {"type": "and", "predicates": [{"dimension": "planet", "value": "x"}]}},
            "filter",
            "bad.request",
            "invalid.value",
        ),
        (
            {"filter": {"type": "xor", "predicates": [{"dimension": "queueId", "value": "x"}]}},
            "filter",
            "bad.request",
            "invalid.value",
        ),
        (
            {
                "filter": {
                    "type": "and",
                    "predicates": [{"dimension": "queueId", "operator": "like", "value": "x"}],
                }
            },
            "filter",
            "bad.request",
            "invalid.value",
        ),
        ({"paging": {"pageSize": 1}}, "paging", "bad.request", "unknown.field"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(
    asgi_env: AsgiEnv, body: dict[str, Any], field: str, code: str, error_code: str
) -> None:
    response = await asgi_env.call("POST", AGGREGATES, {"interval": HOUR, "metrics": ["nOffered"], **body})
    error = response.json()
    assert (response.status_code, error["code"], error["status"]) == (400, code, 400)
    assert error["details"] == [{"fieldName": field, "errorCode": error_code}]
    if field == "metrics" and body["metrics"]:
        assert "nBogus" in error["message"]


async def test_missing_interval_and_non_json_bodies(asgi_env: AsgiEnv) -> None:
    response = await asgi_env.call("POST", AGGREGATES, {"metrics": ["nOffered"]})
    assert (response.status_code, response.json()["details"][0]["fieldName"]) == (400, "interval")
    response = await asgi_env.call(
        "POST", AGGREGATES, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "bad.request")
    response = await asgi_env.call("POST", AGGREGATES, [1, 2])
    assert response.status_code == 400


async def test_result_cap_counts_group_bucket_rows(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, result_cap=20)
    assert (
        await env.call("POST", AGGREGATES, {"interval": HOUR, "metrics": ["nOffered"]})
    ).status_code == 200
    response = await env.call(
        "POST",
        AGGREGATES,
        {"interval": DAY, "granularity": "PT1H", "groupBy": ["queueId"], "metrics": ["nOffered"]},
    )
    error = response.json()
    assert (response.status_code, error["code"]) == (400, "bad.request")
    assert error["message"] == (
        "Result set is larger than result limit of 20. Use a smaller interval or a more specific filter."
    )
