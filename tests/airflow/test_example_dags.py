"""The example DAGs import cleanly and the daily DAG extracts a DST day exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
import pytest

from tests.extract_helpers import metric_totals, read_records, truth_totals

pytestmark = pytest.mark.usefixtures("airflow_db")
ROOT = Path(__file__).resolve().parents[2]


def test_example_dags_import_without_errors_or_warnings() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"), known_pools={"default_pool", "genesys_api"})
    assert bag.import_errors == {}
    assert not bag.dag_warnings
    dag = bag.get_dag("genesys_conversation_aggregates_daily")
    task = dag.get_task("conversation_aggregates")
    assert task.pool == "genesys_api"
    assert task.chunk == "PT1H"


def test_daily_dag_extracts_a_23_hour_new_york_day(
    sandbox: Any, genesys_conn: Any, tmp_path: Path, dags_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    genesys_conn(sandbox, requests_per_minute=6000, max_concurrency=8)
    monkeypatch.setenv("GENESYS_ORG_TIME_ZONE", "America/New_York")
    monkeypatch.setenv("GENESYS_LAKE_URI", tmp_path.as_uri())
    dag = DagBag(dag_folder=str(dags_folder)).get_dag("genesys_conversation_aggregates_daily")
    # A run after midnight of 2024-03-11 in New York covers 2024-03-10, the 23-hour day.
    run = dag.test(logical_date=pendulum.datetime(2024, 3, 11, tz="America/New_York"))
    assert run.state == "success"
    folder = tmp_path / "conversation_aggregates" / "date=2024-03-10"
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert manifest["complete"] is True
    assert manifest["interval"] == {"start": "2024-03-10T05:00:00Z", "end": "2024-03-11T04:00:00Z"}
    assert len(manifest["chunks"]) == 23
    start = pendulum.datetime(2024, 3, 10, tz="America/New_York")
    truth = sandbox.sandbox.truth(start, start.add(days=1))
    totals = metric_totals(read_records(folder))
    assert {m: totals[m] for m in totals} == {m: v for m, v in truth_totals(truth).items() if m in totals}
    assert set(totals) == {
        "nOffered",
        "nConnected",
        "nTransferred",
        "tAnswered",
        "tAbandon",
        "tTalk",
        "tAcw",
        "tHandle",
    }
