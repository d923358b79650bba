"""Details query: record shape, day/overlap windows, paging and ordering, filters, 400s, result cap."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.sandbox.conftest import AsgiEnv
from tests.sandbox.support import AGENT_METRICS, DETAILS, HOUR, QUEUE_METRICS, TIMESTAMP, instant

Make = Callable[..., Awaitable[AsgiEnv]]
DAY_START, DAY_END = "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"


async def _page(env: AsgiEnv, **body: Any) -> Any:
    response = await env.call("POST", DETAILS, {"interval": HOUR, **body})
    assert response.status_code == 200, response.text
    return response.json()


async def _all(env: AsgiEnv, size: int = 100, **body: Any) -> list[dict[str, Any]]:
    """Page until a page comes back without conversations (the robust way)."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        result = await _page(env, paging={"pageSize": size, "pageNumber": page}, **body)
        if "conversations" not in result:
            return found
        found += result["conversations"]
        page += 1


async def _truth(env: AsgiEnv, start: str = DAY_START, end: str = DAY_END) -> Any:
    return (await env.client.get("/sandbox/truth", params={"start": start, "end": end})).json()


async def test_record_shape(asgi_env: AsgiEnv) -> None:
    body = await _page(asgi_env, paging={"pageSize": 25})
    assert set(body) == {"conversations", "totalHits"} and len(body["conversations"]) == 25
    ts = re.compile(TIMESTAMP)
    for conv in body["conversations"]:
        assert set(conv) == {
            "conversationId", "conversationStart", "conversationEnd", "originatingDirection", "divisionIds", "participants",
        }  # fmt: skip
        assert ts.match(conv["conversationStart"]) and ts.match(conv["conversationEnd"])
        assert conv["originatingDirection"] in ("inbound", "outbound") and len(conv["divisionIds"]) == 1
        purposes = [p["purpose"] for p in conv["participants"]]
        assert purposes in (["customer", "acd", "agent"], ["customer", "acd"])
        customer, acd = conv["participants"][:2]
        session = customer["sessions"][0]
        assert {"sessionId", "mediaType", "direction", "ani", "dnis", "segments"} <= set(session)
        assert session["mediaType"] in ("voice", "chat", "email", "callback", "message")
        assert all(s["segmentType"] in ("ivr", "interact") for s in session["segments"])
        acd_segment = acd["sessions"][0]["segments"][0]
        assert acd_segment["segmentType"] == "interact" and "queueId" in acd_segment
        assert {m["name"] for m in acd["sessions"][0]["metrics"]} <= QUEUE_METRICS
        for metric in acd["sessions"][0]["metrics"]:
            assert set(metric) == {"name", "value", "emitDate"} and ts.match(metric["emitDate"])
        if len(conv["participants"]) == 3:
            agent = conv["participants"][2]
            assert "userId" in agent
            segments = agent["sessions"][0]["segments"]
            assert [s["segmentType"] for s in segments] == ["alert", "interact", "wrapup"]
            assert "wrapUpCode" in segments[2]
            assert {m["name"] for m in agent["sessions"][0]["metrics"]} <= AGENT_METRICS
        else:
            assert "tAbandon" in {m["name"] for m in acd["sessions"][0]["metrics"]}


async def test_day_window_returns_every_conversation_of_the_day(asgi_env: AsgiEnv) -> None:
    """An hourly query answers with the whole UTC day (facts file section 3)."""
    truth = await _truth(asgi_env)
    first = await _page(asgi_env)
    assert first["totalHits"] == truth["count"]
    ids = [c["conversationId"] for c in await _all(asgi_env)]
    assert sorted(ids) == truth["conversation_ids"]


async def test_pages_are_ordered_by_start_then_id_and_desc_reverses(asgi_env: AsgiEnv) -> None:
    ascending = await _all(asgi_env)
    keys = [(c["conversationStart"], c["conversationId"]) for c in ascending]
    assert keys == sorted(keys)
    descending = await _all(asgi_env, order="desc")
    assert [c["conversationId"] for c in descending] == [c["conversationId"] for c in reversed(ascending)]
    by_end = await _all(asgi_env, orderBy="conversationEnd")
    ends = [(c["conversationEnd"], c["conversationId"]) for c in by_end]
    assert ends == sorted(ends) and len(by_end) == len(ascending)


async def test_page_past_the_end_has_no_conversations_key(asgi_env: AsgiEnv) -> None:
    total = (await _page(asgi_env))["totalHits"]
    last = -(-total // 100)
    assert len(
        (await _page(asgi_env, paging={"pageSize": 100, "pageNumber": last}))["conversations"]
    ) == total - 100 * (last - 1)
    assert await _page(asgi_env, paging={"pageSize": 100, "pageNumber": last + 1}) == {"totalHits": total}


async def test_default_paging_is_25_from_page_1(asgi_env: AsgiEnv) -> None:
    default = await _page(asgi_env)
    explicit = await _page(asgi_env, paging={"pageSize": 25, "pageNumber": 1})
    assert default == explicit and len(default["conversations"]) == 25


async def test_overlap_window(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, details_window="overlap")
    start, end = instant("2024-05-01T12:00:00Z"), instant("2024-05-01T12:30:00Z")
    found = await _all(env, interval="2024-05-01T12:00:00Z/2024-05-01T12:30:00Z")
    assert found
    for conv in found:
        assert instant(conv["conversationStart"]) < end and instant(conv["conversationEnd"]) > start
    assert any(instant(c["conversationStart"]) < start for c in found)  # started earlier, still running
    started_inside = await _truth(env, "2024-05-01T12:00:00Z", "2024-05-01T12:30:00Z")
    assert set(started_inside["conversation_ids"]) <= {c["conversationId"] for c in found}


async def test_segment_and_conversation_filters(asgi_env: AsgiEnv) -> None:
    everything = await _all(asgi_env)
    queue = everything[0]["participants"][1]["sessions"][0]["segments"][0]["queueId"]
    by_queue = await _all(
        asgi_env, segmentFilters=[{"type": "and", "predicates": [{"dimension": "queueId", "value": queue}]}]
    )
    expected = [
        c for c in everything if c["participants"][1]["sessions"][0]["segments"][0]["queueId"] == queue
    ]
    assert [c["conversationId"] for c in by_queue] == [c["conversationId"] for c in expected]
    chats = await _all(
        asgi_env,
        conversationFilters=[{"type": "or", "predicates": [{"dimension": "mediaType", "value": "chat"}]}],
        segmentFilters=[
            {
                "type": "and",
                "predicates": [{"dimension": "direction", "operator": "matches", "value": "inbound"}],
            }
        ],
    )
    assert chats and all(
        c["participants"][0]["sessions"][0]["mediaType"] == "chat" and c["originatingDirection"] == "inbound"
        for c in chats
    )


@pytest.mark.parametrize(
    ("body", "field", "error_code"),
    [
        ({"paging": {"pageSize": 0}}, "paging.pageSize", "invalid.value"),
        ({"paging": {"pageSize": 101}}, "paging.pageSize", "invalid.value"),
        ({"paging": {"pageSize": "ten"}}, "paging.pageSize", "invalid.value"),
        ({"paging": {"pageNumber": 0}}, "paging.pageNumber", "invalid.value"),
        ({"interval": "2024-05-01T00:00:00Z/2024-05-08T00:00:01Z"}, "interval", "invalid.value"),
        ({"interval": "2024-05-01/2024-05-02"}, "interval", "invalid.date"),
        ({"interval": "2024-05-02T00:00:00Z/2024-05-01T00:00:00Z"}, "interval", "invalid.date"),
        ({"order": "sideways"}, "order", "invalid.value"),
        ({"orderBy": "mood"}, "orderBy", "invalid.value"),
        (
            {"segmentFilters": [{"type": "and", "predicates": [{"dimension": "ani", "value": "x"}]}]},
            "segmentFilters",
            "invalid.value",
        ),
        ({"evaluationFilters": [{"type": "and", "predicates": []}]}, "evaluationFilters", "invalid.value"),
        ({"metrics": ["nOffered"]}, "metrics", "unknown.field"),
    ],
)
async def test_bad_bodies_are_400_naming_the_field(
    asgi_env: AsgiEnv, body: dict[str, Any], field: str, error_code: str
) -> None:
    response = await asgi_env.call("POST", DETAILS, {"interval": HOUR, **body})
    error = response.json()
    assert response.status_code == 400
    assert error["details"] == [{"fieldName": field, "errorCode": error_code}]


async def test_interval_limits_are_7_days_unfiltered_and_31_filtered(asgi_env: AsgiEnv) -> None:
    week = "2024-05-01T00:00:00Z/2024-05-08T00:00:00Z"
    assert (
        await asgi_env.call("POST", DETAILS, {"interval": week, "paging": {"pageSize": 1}})
    ).status_code == 200
    filtered = {
        "segmentFilters": [{"type": "and", "predicates": [{"dimension": "mediaType", "value": "email"}]}]
    }
    nine_days = {
        "interval": "2024-05-01T00:00:00Z/2024-05-10T00:00:00Z",
        "paging": {"pageSize": 1},
        **filtered,
    }
    assert (await asgi_env.call("POST", DETAILS, nine_days)).status_code == 200
    too_long = {**nine_days, "interval": "2024-05-01T00:00:00Z/2024-06-01T00:00:01Z"}
    response = await asgi_env.call("POST", DETAILS, too_long)
    assert (response.status_code, response.json()["details"][0]["fieldName"]) == (400, "interval")


async def test_result_cap(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, result_cap=500)
    response = await env.call("POST", DETAILS, {"interval": HOUR})
    error = response.json()
    assert (response.status_code, error["code"]) == (400, "bad.request")
    assert error["message"].startswith("Result set is larger than result limit of 500.")
    small = await env.call("POST", DETAILS, {"interval": HOUR, "segmentFilters": [
        {"type": "and", "predicates": [{"dimension": "mediaType", "value": "callback"}]}
    ]})  # fmt: skip
    assert small.status_code == 200
