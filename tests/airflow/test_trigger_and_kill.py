"""The deferrable job trigger (JSON only, polls, never submits) and on_kill cancelling jobs."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_genesys.core.state import ClientRegistry
from airflow_provider_genesys.operators.analytics import GenesysConversationDetailsJobOperator
from airflow_provider_genesys.triggers.analytics import GenesysDetailsJobTrigger
from tests.helpers import HOUR, JOBS, make_engine


def _submit(server: Any) -> str:
    engine = make_engine(server.url, ClientRegistry())

    async def go() -> str:
        try:
            body = await engine.request(
                "POST", JOBS, family="jobs", json={"interval": HOUR}, idempotent=False
            )
            return str(body["jobId"])
        finally:
            await engine.aclose()

    return asyncio.run(go())


def _job_operator(tmp_path: Path, **kwargs: Any) -> GenesysConversationDetailsJobOperator:
    return GenesysConversationDetailsJobOperator(
        task_id="job",
        destination=str(tmp_path),
        interval_start="2024-05-01T00:00:00+00:00",
        interval_end="2024-05-02T00:00:00+00:00",
        **kwargs,
    )


def _first_event(trigger: GenesysDetailsJobTrigger) -> dict[str, Any]:
    async def first() -> Any:
        return await trigger.run().__anext__()

    return dict(asyncio.run(first()).payload)


def test_trigger_serialises_to_plain_json_and_round_trips() -> None:
    trigger = GenesysDetailsJobTrigger(["a", "b"], "genesys_cloud_default", 2.0, 1_700_000_000.0)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_genesys.triggers.analytics.GenesysDetailsJobTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert GenesysDetailsJobTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_trigger_polls_until_jobs_end_and_never_submits(sandbox_factory: Any, genesys_conn: Any) -> None:
    server = sandbox_factory(rate=0, job_delay=0.4)
    genesys_conn(server)
    job_id = _submit(server)
    trigger = GenesysDetailsJobTrigger([job_id], "genesys_cloud_default", 0.1, time.time() + 30)
    assert _first_event(trigger) == {"status": "success", "jobs": {job_id: "FULFILLED"}}
    stats = server.sandbox.stats()
    assert stats["jobs_created"] == 1
    assert stats["requests"]["jobs.status"]["200"] >= 2
    # A restarted triggerer runs the same trigger again: still no new job.
    assert _first_event(GenesysDetailsJobTrigger(**trigger.serialize()[1]))["status"] == "success"
    assert server.sandbox.stats()["jobs_created"] == 1


def test_trigger_reports_an_error_at_its_deadline(sandbox_factory: Any, genesys_conn: Any) -> None:
    server = sandbox_factory(rate=0, job_delay=60)
    genesys_conn(server)
    job_id = _submit(server)
    event = _first_event(GenesysDetailsJobTrigger([job_id], "genesys_cloud_default", 0.1, time.time() + 0.3))
    assert event["status"] == "error"
    assert job_id in event["message"] and "job_timeout" in event["message"]
    assert event["job_ids"] == [job_id]


def test_operator_cancels_jobs_the_trigger_gave_up_on(
    sandbox_factory: Any, genesys_conn: Any, tmp_path: Path
) -> None:
    from airflow.sdk.exceptions import AirflowException

    server = sandbox_factory(rate=0, job_delay=60)
    genesys_conn(server)
    job_id = _submit(server)
    op = _job_operator(tmp_path, deferrable=True)
    event = {"status": "error", "message": "job(s) still running", "job_ids": [job_id]}
    with pytest.raises(AirflowException, match="did not finish: job\\(s\\) still running"):
        op.execute_complete({"run_id": "r"}, event)
    assert server.sandbox.jobs.status(server.sandbox.jobs.get(job_id))["state"] == "CANCELLED"


def test_on_kill_cancels_the_running_jobs(sandbox_factory: Any, genesys_conn: Any, tmp_path: Path) -> None:
    server = sandbox_factory(rate=0, job_delay=60)
    genesys_conn(server)
    op = _job_operator(tmp_path)
    extraction = op.make_extraction({"run_id": "r"})
    op._extraction = extraction

    async def submit() -> dict[str, str]:
        try:
            return await extraction.submit_jobs(await extraction.prepare())
        finally:
            await extraction.engine.aclose()

    jobs = asyncio.run(submit())
    op.on_kill()
    stats = server.sandbox.stats()
    assert stats["requests"]["jobs.delete"] == {"204": 1}
    job = server.sandbox.jobs.get(next(iter(jobs.values())))
    assert server.sandbox.jobs.status(job)["state"] == "CANCELLED"


def test_deferred_job_that_failed_fails_the_task_with_its_message(
    sandbox_factory: Any, genesys_conn: Any, tmp_path: Path
) -> None:
    """After deferral the same try collects: a FAILED job fails the task (never silently resubmitted)."""
    from airflow.sdk.exceptions import AirflowException

    server = sandbox_factory(rate=0, job_delay=0.05)
    genesys_conn(server)
    op = _job_operator(tmp_path, deferrable=True)
    context = {"run_id": "r"}
    extraction = op.make_extraction(context)

    async def submit() -> dict[str, str]:
        try:
            return await extraction.submit_jobs(await extraction.prepare())
        finally:
            await extraction.engine.aclose()

    jobs = asyncio.run(submit())
    server.sandbox.set_job_state(next(iter(jobs.values())), "FAILED", "Internal analytics error 7")
    with pytest.raises(AirflowException, match="ended FAILED: Internal analytics error 7"):
        op.execute_complete(context, {"status": "success", "jobs": {}})
    assert server.sandbox.stats()["jobs_created"] == 1
