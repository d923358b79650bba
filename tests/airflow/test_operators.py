"""The operators inside Airflow (dag.test) against the sandbox: outputs, XCom, errors, S3."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_genesys.core.errors import GenesysConfigError
from airflow_provider_genesys.operators.analytics import (
    GenesysConversationAggregatesOperator,
    GenesysConversationDetailsJobOperator,
)
from tests.extract_helpers import metric_totals, read_records, truth_totals

pytestmark = pytest.mark.usefixtures("airflow_db")

DAY = pendulum.datetime(2024, 5, 1, tz="UTC")


def _dag(dags_folder: Path, dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder))
    assert bag.import_errors == {}
    return bag.get_dag(dag_id)


def _run(dag: Any, logical_date: datetime = DAY) -> Any:
    run = dag.test(logical_date=logical_date)
    assert run.state == "success", [(ti.task_id, ti.state) for ti in run.get_task_instances()]
    return run


def _xcom(run: Any, task_id: str) -> Any:
    ti = next(ti for ti in run.get_task_instances() if ti.task_id == task_id)
    return ti.xcom_pull(task_ids=task_id)


@pytest.fixture
def out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GENESYS_TEST_OUT", str(tmp_path))
    return tmp_path


def test_aggregates_operator_uses_the_data_interval(
    sandbox: Any, genesys_conn: Any, out: Path, dags_folder: Path
) -> None:
    genesys_conn(sandbox, requests_per_minute=6000, max_concurrency=8)
    run = _run(_dag(dags_folder, "test_genesys_aggregates"))
    folder = out / "agg" / "date=2024-05-01"
    manifest = json.loads((folder / "_manifest.json").read_text())
    assert manifest["complete"] is True
    assert len(manifest["chunks"]) == 6
    assert _xcom(run, "agg") == {
        "destination": f"file://{out}/agg/date=2024-05-01/",
        "manifest": str(folder / "_manifest.json"),
        "records": manifest["totals"]["records"],
        "files": 6,
        "requests": 6,
        "rate_limited": 0,
    }
    truth = sandbox.sandbox.truth(DAY, DAY.add(hours=6))
    assert metric_totals(read_records(folder)) == truth_totals(truth)


def test_details_operator(sandbox: Any, genesys_conn: Any, out: Path, dags_folder: Path) -> None:
    genesys_conn(sandbox, requests_per_minute=6000)
    _run(_dag(dags_folder, "test_genesys_details"))
    ids = [r["conversationId"] for r in read_records(out / "details")]
    assert sorted(ids) == sandbox.sandbox.truth(DAY, DAY.add(days=1))["conversation_ids"]


@pytest.mark.parametrize("mode", ["inline", "deferred"])
def test_details_job_operator(
    sandbox_factory: Any, genesys_conn: Any, out: Path, dags_folder: Path, mode: str
) -> None:
    server = sandbox_factory(rate=0, job_delay=0.3)
    genesys_conn(server)
    _run(_dag(dags_folder, f"test_genesys_job_{mode}"))
    ids = [r["conversationId"] for r in read_records(out / "jobs")]
    assert sorted(ids) == server.sandbox.truth(DAY, DAY.add(days=1))["conversation_ids"]
    stats = server.sandbox.stats()
    assert stats["jobs_created"] == 1
    assert stats["requests"]["jobs.create"] == {"202": 1}


def test_failed_job_fails_the_task_with_its_error_message(
    sandbox_factory: Any, genesys_conn: Any, tmp_path: Path
) -> None:
    server = sandbox_factory(rate=0, job_delay=30)
    genesys_conn(server)
    op = GenesysConversationDetailsJobOperator(
        task_id="job",
        destination=str(tmp_path / "jobs"),
        interval_start="2024-05-01T00:00:00+00:00",
        interval_end="2024-05-02T00:00:00+00:00",
        poll_interval=0.05,
    )
    extraction = op.make_extraction({"run_id": "r", "ti": None})

    async def scenario() -> None:
        todo = await extraction.prepare()
        jobs = await extraction.submit_jobs(todo)
        server.sandbox.set_job_state(next(iter(jobs.values())), "FAILED", "Internal analytics error 42")
        await extraction.fetch(todo)

    import asyncio

    from airflow_provider_genesys.core.errors import GenesysJobError

    with pytest.raises(GenesysJobError, match="ended FAILED: Internal analytics error 42"):
        asyncio.run(scenario())
    manifest = json.loads((tmp_path / "jobs" / "_manifest.json").read_text())
    assert manifest["complete"] is False


def test_interval_after_data_availability_fails_clearly(
    sandbox_factory: Any, genesys_conn: Any, out: Path, dags_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox_factory(rate=0, availability_lag=7200)
    genesys_conn(server)
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    monkeypatch.setenv("GENESYS_TEST_LATE_START", (now - pendulum.duration(hours=3)).isoformat())
    monkeypatch.setenv("GENESYS_TEST_LATE_END", (now - pendulum.duration(hours=1)).isoformat())
    run = _dag(dags_folder, "test_genesys_job_late").test(logical_date=DAY)
    assert run.state == "failed"
    manifest = json.loads((out / "late" / "_manifest.json").read_text())
    assert manifest["complete"] is False
    assert server.sandbox.stats()["jobs_created"] == 0


def test_validation_errors_before_any_request(sandbox: Any, genesys_conn: Any, tmp_path: Path) -> None:
    genesys_conn(sandbox)
    op = GenesysConversationAggregatesOperator(
        task_id="bad", destination=str(tmp_path), query={"metrics": ["nOffered"], "interval": "x"}
    )
    with pytest.raises(GenesysConfigError, match="^query.interval"):
        op.make_extraction({"data_interval_start": DAY, "data_interval_end": DAY.add(days=1), "run_id": "r"})
    bad_dest = GenesysConversationAggregatesOperator(
        task_id="bad2", destination="nope://x/y", query={"metrics": ["nOffered"]}
    )
    with pytest.raises(GenesysConfigError, match="^destination: 'nope://x/y' uses an unsupported scheme"):
        bad_dest.make_extraction(
            {"data_interval_start": DAY, "data_interval_end": DAY.add(days=1), "run_id": "r"}
        )
    relative = GenesysConversationAggregatesOperator(
        task_id="bad3", destination="data/genesys", query={"metrics": ["nOffered"]}
    )
    with pytest.raises(GenesysConfigError, match="^destination: 'data/genesys' is a relative path"):
        relative.make_extraction(
            {"data_interval_start": DAY, "data_interval_end": DAY.add(days=1), "run_id": "r"}
        )
    assert sandbox.sandbox.stats()["requests_total"] == 0
