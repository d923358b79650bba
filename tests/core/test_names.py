"""Tests for the Genesys analytics name lists and the checks built on them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_genesys.core import names
from airflow_provider_genesys.core.errors import GenesysConfigError
from airflow_provider_genesys.core.names import (
    AGGREGATE_QUERY_FIELDS,
    CONVERSATION_AGGREGATE_DIMENSIONS,
    CONVERSATION_AGGREGATE_FILTER_DIMENSIONS,
    CONVERSATION_AGGREGATE_METRICS,
    CONVERSATION_DETAIL_DIMENSIONS,
    DETAIL_QUERY_FIELDS,
    FLOW_AGGREGATE_DIMENSIONS,
    FLOW_AGGREGATE_METRICS,
    JOB_QUERY_FIELDS,
    SEGMENT_DETAIL_DIMENSIONS,
    USER_AGGREGATE_DIMENSIONS,
    USER_AGGREGATE_METRICS,
    check_conversation_aggregate_query,
    check_fields,
    check_names,
    filter_dimensions,
)

# The tutorial body from the facts file (MyPureCloud/developercenter-tutorials).
TUTORIAL_QUERY: dict[str, Any] = {
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


@pytest.mark.parametrize(
    ("names_set", "count"),
    [
        (CONVERSATION_AGGREGATE_METRICS, 82),
        (CONVERSATION_AGGREGATE_DIMENSIONS, 83),
        (CONVERSATION_AGGREGATE_FILTER_DIMENSIONS, 84),
        (USER_AGGREGATE_METRICS, 3),
        (USER_AGGREGATE_DIMENSIONS, 1),
        (FLOW_AGGREGATE_METRICS, 9),
        (FLOW_AGGREGATE_DIMENSIONS, 100),
        (CONVERSATION_DETAIL_DIMENSIONS, 11),
        (SEGMENT_DETAIL_DIMENSIONS, 80),
        (AGGREGATE_QUERY_FIELDS, 12),
        (DETAIL_QUERY_FIELDS, 10),
        (JOB_QUERY_FIELDS, 10),
    ],
)
def test_counts_match_the_sdk_lists(names_set: frozenset[str], count: int) -> None:
    assert len(names_set) == count


def test_every_name_looks_like_a_genesys_identifier() -> None:
    every = set().union(*(getattr(names, n) for n in names.__all__ if n.isupper()))
    assert all(re.fullmatch(r"[a-z][A-Za-z]*", n) for n in every), sorted(every)


def test_exported_members_exist() -> None:
    for name in names.__all__:
        assert hasattr(names, name)


def test_facts_file_metrics_and_dimensions_are_known() -> None:
    facts_metrics = [
        "nOffered",
        "nConnected",
        "nTransferred",
        "nConversations",
        "nOverSla",
        "nError",
        "nOutbound",
        "oServiceLevel",
        "oServiceTarget",
        "tAbandon",
        "tAcd",
        "tAcw",
        "tAlert",
        "tAnswered",
        "tHandle",
        "tHeld",
        "tTalk",
        "tTalkComplete",
        "tWait",
        "tIvr",
        "tFlowOut",
    ]
    facts_dimensions = [
        "queueId",
        "mediaType",
        "userId",
        "direction",
        "originatingDirection",
        "wrapUpCode",
        "divisionId",
        "ani",
        "dnis",
        "purpose",
        "requestedRoutingSkillId",
        "disconnectType",
        "conversationId",
    ]
    check_names(facts_metrics, CONVERSATION_AGGREGATE_METRICS, "query.metrics")
    check_names(facts_dimensions, CONVERSATION_AGGREGATE_DIMENSIONS, "query.groupBy")
    check_names(facts_dimensions, CONVERSATION_AGGREGATE_FILTER_DIMENSIONS, "query.filter")


def test_filter_dimensions_include_every_group_by_dimension() -> None:
    assert CONVERSATION_AGGREGATE_DIMENSIONS <= CONVERSATION_AGGREGATE_FILTER_DIMENSIONS


def test_fields_match_the_query_models() -> None:
    assert {"queryType", "sortMetric", "limit", "views", "alternateTimeDimension"} <= AGGREGATE_QUERY_FIELDS
    assert {"paging", "aggregations", "segmentFilters"} <= DETAIL_QUERY_FIELDS
    assert {"limit", "startOfDayIntervalMatching"} <= JOB_QUERY_FIELDS
    assert "paging" not in JOB_QUERY_FIELDS


# --- check_names ------------------------------------------------------------------------------


@pytest.mark.parametrize("values", [["nOffered", "tHandle"], ("tTalk",), "tWait", [], None])
def test_known_names_pass(values: Any) -> None:
    check_names(values, CONVERSATION_AGGREGATE_METRICS, "query.metrics")


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("tHandel", "tHandle"),
        ("noffered", "nOffered"),
        ("nOfered", "nOffered"),
        ("tTalkCompleted", "tTalkComplete"),
    ],
)
def test_typos_fail_with_field_and_suggestion(typo: str, suggestion: str) -> None:
    with pytest.raises(GenesysConfigError) as caught:
        check_names(["nOffered", typo], CONVERSATION_AGGREGATE_METRICS, "query.metrics")
    text = str(caught.value)
    assert text.startswith(f"query.metrics: unknown name {typo!r}")
    assert f"did you mean {suggestion!r}" in text
    assert "validate_names=False" in text
    assert caught.value.field == "query.metrics"


def test_every_unknown_name_is_reported_once() -> None:
    with pytest.raises(GenesysConfigError) as caught:
        check_names(["queueid", "zzz", "zzz"], CONVERSATION_AGGREGATE_DIMENSIONS, "query.groupBy")
    text = str(caught.value)
    assert "unknown names 'queueid' (did you mean 'queueId'?), 'zzz'" in text
    assert text.count("'zzz'") == 1


def test_non_string_names_are_unknown() -> None:
    with pytest.raises(GenesysConfigError, match=r"^query\.metrics: unknown name '42'"):
        check_names(["nOffered", 42], CONVERSATION_AGGREGATE_METRICS, "query.metrics")  # type: ignore[list-item]


@pytest.mark.parametrize("values", [{"nOffered": 1}, 42])
def test_non_lists_are_refused(values: Any) -> None:
    with pytest.raises(GenesysConfigError, match=r"^query\.metrics: expected a list of names"):
        check_names(values, CONVERSATION_AGGREGATE_METRICS, "query.metrics")


# --- check_fields -----------------------------------------------------------------------------


def test_known_fields_pass() -> None:
    check_fields(TUTORIAL_QUERY, AGGREGATE_QUERY_FIELDS)
    check_fields({"interval": "x", "paging": {"pageSize": 100, "pageNumber": 1}}, DETAIL_QUERY_FIELDS)
    check_fields({"interval": "x", "startOfDayIntervalMatching": True}, JOB_QUERY_FIELDS, "job")


def test_unknown_field_names_field_and_suggests() -> None:
    with pytest.raises(GenesysConfigError) as caught:
        check_fields({"interval": "x", "granularty": "PT1H"}, AGGREGATE_QUERY_FIELDS)
    text = str(caught.value)
    assert text.startswith("query: unknown field 'granularty' (did you mean 'granularity'?)")


def test_detail_only_field_is_refused_for_jobs() -> None:
    with pytest.raises(GenesysConfigError, match=r"^job_query: unknown field 'paging'"):
        check_fields({"interval": "x", "paging": {}}, JOB_QUERY_FIELDS, "job_query")


def test_non_mapping_query_is_refused() -> None:
    with pytest.raises(GenesysConfigError, match=r"^query: expected a JSON object"):
        check_fields(["interval"], AGGREGATE_QUERY_FIELDS)  # type: ignore[arg-type]


# --- filter_dimensions ------------------------------------------------------------------------


def test_filter_dimensions_walks_nested_clauses() -> None:
    nested = {
        "type": "and",
        "predicates": [{"dimension": "mediaType", "value": "voice"}, {"type": "metric", "metric": "tHandle"}],
        "clauses": [
            {"type": "or", "predicates": [{"dimension": "queueId", "value": "q1"}, {"dimension": "queueId"}]},
            {
                "type": "and",
                "clauses": [
                    {"type": "or", "predicates": [{"dimension": "wrapUpCode", "operator": "exists"}]}
                ],
            },
        ],
    }
    assert filter_dimensions(nested) == ["mediaType", "queueId", "wrapUpCode"]


def test_filter_dimensions_of_tutorial_and_of_detail_filter_lists() -> None:
    assert filter_dimensions(TUTORIAL_QUERY["filter"]) == ["queueId"]
    segment_filters = [
        {"type": "or", "predicates": [{"dimension": "purpose", "value": "agent"}]},
        {"type": "and", "predicates": [{"dimension": "userId", "value": "u1"}]},
    ]
    assert filter_dimensions(segment_filters) == ["purpose", "userId"]
    assert filter_dimensions(None) == []
    assert filter_dimensions({"type": "and"}) == []


def test_filter_dimensions_refuses_non_filters() -> None:
    with pytest.raises(GenesysConfigError, match=r"^query\.filter: expected a filter object"):
        filter_dimensions("queueId", "query.filter")


# --- whole aggregates body --------------------------------------------------------------------


def test_tutorial_query_is_valid() -> None:
    check_conversation_aggregate_query(TUTORIAL_QUERY)


@pytest.mark.parametrize(
    ("change", "field", "suggestion"),
    [
        ({"metrics": ["nOffered", "tHandel"]}, "query.metrics", "tHandle"),
        ({"groupBy": ["queueID"]}, "query.groupBy", "queueId"),
        (
            {"filter": {"type": "and", "predicates": [{"dimension": "mediatype"}]}},
            "query.filter",
            "mediaType",
        ),
        ({"timezone": "UTC"}, "query", "timeZone"),
    ],
)
def test_bad_aggregate_query_names_the_field(change: dict[str, Any], field: str, suggestion: str) -> None:
    with pytest.raises(GenesysConfigError) as caught:
        check_conversation_aggregate_query({**TUTORIAL_QUERY, **change})
    assert caught.value.field == field
    assert repr(suggestion) in str(caught.value)
