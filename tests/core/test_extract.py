"""Extraction end to end over real HTTP: exact totals and ids, DST days, faults, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_genesys.core.errors import GenesysServerError
from tests.extract_helpers import METRICS, metric_totals, read_records, run_extraction, truth_totals

UTC_DAY = ("2024-05-01T00:00:00+00:00", "2024-05-02T00:00:00+00:00")
NY_SPRING = ("2024-03-10T00:00:00-05:00", "2024-03-11T00:00:00-04:00")  # 23 hours
NY_AUTUMN = ("2024-11-03T00:00:00-04:00", "2024-11-04T00:00:00-05:00")  # 25 hours
AGG_QUERY = {"metrics": METRICS, "granularity": "PT30M", "groupBy": ["queueId", "mediaType"]}
FAST = {"requests_per_minute": 60_000, "max_concurrency": 8}


def _truth(server: Any, start: str, end: str) -> dict[str, Any]:
    return server.sandbox.truth(datetime.fromisoformat(start), datetime.fromisoformat(end))


@pytest.mark.parametrize(
    ("interval", "zone", "hours"),
    [(UTC_DAY, "UTC", 24), (NY_SPRING, "America/New_York", 23), (NY_AUTUMN, "America/New_York", 25)],
)
def test_aggregates_sum_to_ground_truth(
    sandbox: Any, tmp_path: Path, interval: Any, zone: str, hours: int
) -> None:
    result = run_extraction(
        sandbox.url,
        tmp_path,
        "aggregates",
        engine_settings=FAST,
        interval_start=interval[0],
        interval_end=interval[1],
        chunk="PT1H",
        time_zone=zone,
        query=AGG_QUERY,
    )
    manifest = result.manifest
    assert manifest["complete"] is True
    assert len(manifest["chunks"]) == hours
    assert metric_totals(read_records(tmp_path)) == truth_totals(_truth(sandbox, *interval))
    assert result.summary["files"] == hours
    assert sandbox.sandbox.stats()["requests"]["aggregates"] == {"200": hours}


@pytest.mark.parametrize(("interval", "zone"), [(UTC_DAY, "UTC"), (NY_SPRING, "America/New_York")])
@pytest.mark.parametrize("kind", ["details", "jobs"])
def test_conversations_exactly_once(
    sandbox_factory: Any, tmp_path: Path, kind: str, interval: Any, zone: str
) -> None:
    server = sandbox_factory(rate=0, job_delay=0.2)
    spec_args: dict[str, Any] = {"poll_interval": 0.1} if kind == "jobs" else {}
    run_extraction(
        server.url,
        tmp_path,
        kind,
        engine_settings=FAST,
        interval_start=interval[0],
        interval_end=interval[1],
        chunk="PT6H",
        time_zone=zone,
        **spec_args,
    )
    ids = [r["conversationId"] for r in read_records(tmp_path)]
    truth = _truth(server, *interval)
    assert len(ids) == len(set(ids)) == truth["count"] > 0
    assert sorted(ids) == truth["conversation_ids"]


def test_details_and_days_never_share_a_conversation(sandbox: Any, tmp_path: Path) -> None:
    """Adjacent days extracted separately: together exactly the truth of both days, no overlap."""
    first = run_extraction(
        sandbox.url,
        tmp_path / "d1",
        "details",
        engine_settings=FAST,
        interval_start="2024-05-01T00:00:00+00:00",
        interval_end="2024-05-02T00:00:00+00:00",
        chunk="P1D",
    )
    run_extraction(
        sandbox.url,
        tmp_path / "d2",
        "details",
        engine_settings=FAST,
        interval_start="2024-05-02T00:00:00+00:00",
        interval_end="2024-05-03T00:00:00+00:00",
        chunk="P1D",
    )
    day1 = {r["conversationId"] for r in read_records(tmp_path / "d1")}
    day2 = {r["conversationId"] for r in read_records(tmp_path / "d2")}
    assert not day1 & day2
    both = _truth(sandbox, "2024-05-01T00:00:00+00:00", "2024-05-03T00:00:00+00:00")
    assert sorted(day1 | day2) == both["conversation_ids"]
    assert first.manifest["chunks"][0]["total_hits"] >= len(day1)


EVERY_FAULT = ("429", "500", "502", "503", "504", "503-retry-after", "drop", "nonjson", "short")


@pytest.mark.parametrize("kind", ["aggregates", "details", "jobs"])
def test_exact_under_fault_injection(sandbox_factory: Any, tmp_path: Path, kind: str) -> None:
    """Random faults plus one scripted fault of every kind, and a revoked token: still exact."""
    # Creating a job is not idempotent: a 5xx or a dropped answer there fails the task by design
    # (tested in test_engine), so random faults for jobs are the kinds answered before processing.
    random_kinds = "429,503,short" if kind == "jobs" else ",".join(EVERY_FAULT)
    server = sandbox_factory(rate=0, job_delay=0.1, fault_rate=0.1, faults=random_kinds, seed=3)
    scripted_endpoint = {"aggregates": "aggregates", "details": "details", "jobs": "jobs.results"}[kind]
    for fault in EVERY_FAULT:
        server.sandbox.inject_fault(
            fault, count=1, endpoint=scripted_endpoint, retry_after=1 if fault == "429" else None
        )
    server.sandbox.revoke()
    spec_args: dict[str, Any] = {"poll_interval": 0.1, "page_size": 200} if kind == "jobs" else {}
    query = AGG_QUERY if kind == "aggregates" else None
    run_extraction(
        server.url,
        tmp_path,
        kind,
        engine_settings={**FAST, "backoff_base": 0.05, "max_attempts": 20},
        interval_start=UTC_DAY[0],
        interval_end="2024-05-01T06:00:00+00:00",
        chunk="PT2H",
        query=query,
        **spec_args,
    )
    truth = _truth(server, UTC_DAY[0], "2024-05-01T06:00:00+00:00")
    records = read_records(tmp_path)
    injected = server.sandbox.stats()["faults_injected"]
    expected = set(EVERY_FAULT) - ({"short"} if kind == "aggregates" else set())  # aggregates have no pages
    assert expected <= set(injected), injected
    if kind == "aggregates":
        assert metric_totals(records) == truth_totals(truth)
    else:
        ids = [r["conversationId"] for r in records]
        assert len(ids) == len(set(ids))
        assert sorted(ids) == truth["conversation_ids"]


def test_rerun_of_interval_replaces_files(sandbox: Any, tmp_path: Path) -> None:
    args: dict[str, Any] = {
        "interval_start": UTC_DAY[0],
        "interval_end": "2024-05-01T03:00:00+00:00",
        "chunk": "PT1H",
        "query": AGG_QUERY,
    }
    run_extraction(sandbox.url, tmp_path, "aggregates", engine_settings=FAST, run_id="run-1", **args)
    (tmp_path / "stale.jsonl.gz").write_bytes(b"old")
    before = sandbox.sandbox.stats()["requests"]["aggregates"]["200"]
    result = run_extraction(sandbox.url, tmp_path, "aggregates", engine_settings=FAST, run_id="run-2", **args)
    assert sandbox.sandbox.stats()["requests"]["aggregates"]["200"] - before == 3
    assert not (tmp_path / "stale.jsonl.gz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [c["path"] for c in result.manifest["chunks"]] + ["_manifest.json"]
    )
    assert result.manifest["run_id"] == "run-2"


def test_failed_run_leaves_no_complete_manifest(sandbox: Any, tmp_path: Path) -> None:
    sandbox.sandbox.inject_fault("503", count=1000, endpoint="aggregates")
    with pytest.raises(GenesysServerError):
        run_extraction(
            sandbox.url,
            tmp_path,
            "aggregates",
            engine_settings={**FAST, "max_attempts": 2, "backoff_base": 0.01},
            interval_start=UTC_DAY[0],
            interval_end="2024-05-01T03:00:00+00:00",
            chunk="PT1H",
            query=AGG_QUERY,
        )
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert manifest["complete"] is False
    assert manifest["chunks"] == []
    assert [p.name for p in tmp_path.iterdir()] == ["_manifest.json"]


_KILLABLE = """
import sys
from pathlib import Path
from tests.extract_helpers import run_extraction, METRICS
run_extraction(sys.argv[1], Path(sys.argv[2]), "aggregates",
    engine_settings={"requests_per_minute": 60000, "max_concurrency": 1},
    interval_start="2024-05-01T00:00:00+00:00", interval_end="2024-05-02T00:00:00+00:00", chunk="PT1H",
    query={"metrics": METRICS, "granularity": "PT30M", "groupBy": ["queueId"]}, run_id="run-A", try_number=int(sys.argv[3]))
"""


def test_killed_try_resumes_without_refetching(sandbox_factory: Any, tmp_path: Path) -> None:
    server = sandbox_factory(rate=0, latency=0.15)
    out = tmp_path / "resumed"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, server.url, str(out), "1"], cwd=root, env=env)
    manifest_path = out / "_manifest.json"
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest_path.exists():
            try:
                done = len(json.loads(manifest_path.read_text())["chunks"])
            except (ValueError, KeyError):
                done = 0
            if done >= 12:
                break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = json.loads(manifest_path.read_text())
    assert killed["complete"] is False
    written = len(killed["chunks"])
    assert 12 <= written < 24
    before = server.sandbox.stats()["requests"]["aggregates"]["200"]

    subprocess.run(
        [sys.executable, "-c", _KILLABLE, server.url, str(out), "2"], cwd=root, env=env, check=True
    )
    resumed = json.loads(manifest_path.read_text())
    fetched = server.sandbox.stats()["requests"]["aggregates"]["200"] - before
    assert resumed["complete"] is True and resumed["try_number"] == 2
    assert fetched == 24 - written

    clean = tmp_path / "clean"
    subprocess.run(
        [sys.executable, "-c", _KILLABLE, server.url, str(clean), "1"], cwd=root, env=env, check=True
    )
    reference = json.loads((clean / "_manifest.json").read_text())
    assert [c["sha256"] for c in resumed["chunks"]] == [c["sha256"] for c in reference["chunks"]]
    for chunk in reference["chunks"]:
        assert (out / chunk["path"]).read_bytes() == (clean / chunk["path"]).read_bytes()
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in clean.iterdir())


def test_aggregates_result_cap_splits_on_bucket_boundaries(
    sandbox_factory: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = sandbox_factory(rate=0, result_cap=60)
    caplog.set_level("WARNING", logger="airflow_provider_genesys.extract")
    query = {"metrics": METRICS, "granularity": "PT15M", "groupBy": ["queueId", "mediaType"]}
    result = run_extraction(
        server.url,
        tmp_path,
        "aggregates",
        engine_settings=FAST,
        interval_start=UTC_DAY[0],
        interval_end="2024-05-01T16:00:00+00:00",
        chunk="PT4H",
        query=query,
    )
    stats = server.sandbox.stats()
    assert stats["requests"]["aggregates"]["400"] >= 1
    assert "splitting it into" in caplog.text
    assert len(result.manifest["chunks"]) == 4
    assert sum(c["requests"] for c in result.manifest["chunks"]) > 4
    truth = _truth(server, UTC_DAY[0], "2024-05-01T16:00:00+00:00")
    assert metric_totals(read_records(tmp_path)) == truth_totals(truth)


def test_one_bucket_over_the_cap_fails_naming_the_argument(sandbox_factory: Any, tmp_path: Path) -> None:
    from airflow_provider_genesys.core.errors import GenesysConfigError

    server = sandbox_factory(rate=0, result_cap=3)
    with pytest.raises(GenesysConfigError) as info:
        run_extraction(
            server.url,
            tmp_path,
            "aggregates",
            engine_settings=FAST,
            interval_start=UTC_DAY[0],
            interval_end="2024-05-01T02:00:00+00:00",
            chunk="PT1H",
            query={"metrics": ["nOffered"], "granularity": "PT1H", "groupBy": ["queueId"]},
        )
    assert info.value.field == "query.granularity"
    assert "over its limit" in str(info.value) and "single PT1H bucket" in str(info.value)
    assert json.loads((tmp_path / "_manifest.json").read_text())["complete"] is False


def test_job_result_cap_splits_the_interval(sandbox_factory: Any, tmp_path: Path) -> None:
    server = sandbox_factory(rate=0, job_delay=0.05, job_result_cap=700)
    result = run_extraction(
        server.url,
        tmp_path,
        "jobs",
        engine_settings=FAST,
        interval_start=UTC_DAY[0],
        interval_end=UTC_DAY[1],
        chunk="P1D",
        poll_interval=0.05,
    )
    ids = [r["conversationId"] for r in read_records(tmp_path)]
    assert sorted(ids) == _truth(server, *UTC_DAY)["conversation_ids"]
    assert len(result.manifest["chunks"]) == 1
    assert server.sandbox.stats()["jobs_created"] >= 4


def test_short_pages_are_followed_and_the_shortfall_reported(
    sandbox: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="airflow_provider_genesys.extract")
    sandbox.sandbox.inject_fault("short", count=2, endpoint="details")
    result = run_extraction(
        sandbox.url,
        tmp_path,
        "details",
        engine_settings=FAST,
        interval_start=UTC_DAY[0],
        interval_end=UTC_DAY[1],
        chunk="P1D",
    )
    ids = [r["conversationId"] for r in read_records(tmp_path)]
    assert sorted(ids) == _truth(sandbox, *UTC_DAY)["conversation_ids"]
    hits = result.manifest["chunks"][0]["total_hits"]
    assert hits > len(ids)
    assert (
        f"totalHits said {hits} but {len(ids)} record(s) were read ({hits - len(ids)} short)" in caplog.text
    )


def test_jobs_wait_for_data_availability_when_asked(sandbox_factory: Any, tmp_path: Path) -> None:
    from datetime import timedelta, timezone

    server = sandbox_factory(rate=0, job_delay=0.05, availability_lag=3600)
    end = datetime.now(timezone.utc) - timedelta(seconds=3600) + timedelta(seconds=0.6)
    start = end - timedelta(minutes=30)
    result = run_extraction(
        server.url,
        tmp_path,
        "jobs",
        engine_settings=FAST,
        interval_start=start.isoformat(),
        interval_end=end.isoformat(),
        chunk="PT30M",
        poll_interval=0.2,
        wait_for_availability=True,
        job_timeout=30,
    )
    assert result.manifest["complete"] is True
    assert server.sandbox.stats()["requests"]["jobs.availability"]["200"] >= 2


def test_jobs_refuse_an_interval_past_data_availability(sandbox_factory: Any, tmp_path: Path) -> None:
    from datetime import timedelta, timezone

    from airflow_provider_genesys.core.errors import GenesysDataNotAvailableError

    server = sandbox_factory(rate=0, availability_lag=3600)
    end = datetime.now(timezone.utc).replace(microsecond=0)
    with pytest.raises(GenesysDataNotAvailableError, match="wait_for_availability=True"):
        run_extraction(
            server.url,
            tmp_path,
            "jobs",
            engine_settings=FAST,
            interval_start=(end - timedelta(hours=1)).isoformat(),
            interval_end=end.isoformat(),
            chunk="PT1H",
        )
    assert server.sandbox.stats()["jobs_created"] == 0
    assert json.loads((tmp_path / "_manifest.json").read_text())["complete"] is False


def test_jobs_of_an_earlier_try_are_reused_or_replaced_when_gone(
    sandbox_factory: Any, tmp_path: Path
) -> None:
    """A try killed after submitting reuses its job; an expired one is submitted again."""
    import asyncio

    from airflow_provider_genesys.core.clock import SystemClock
    from airflow_provider_genesys.core.extract import Extraction
    from airflow_provider_genesys.core.spec import build_spec
    from airflow_provider_genesys.core.state import ClientRegistry
    from tests.extract_helpers import local_destination
    from tests.helpers import make_engine

    server = sandbox_factory(rate=0, job_delay=0.05)
    args: dict[str, Any] = {
        "interval_start": UTC_DAY[0],
        "interval_end": UTC_DAY[1],
        "chunk": "PT12H",
        "poll_interval": 0.05,
        "run_id": "run-J",
    }

    async def submit_then_die() -> dict[str, str]:
        engine = make_engine(server.url, ClientRegistry(SystemClock()))
        extraction = Extraction(engine, local_destination(tmp_path), build_spec("jobs", **args))
        try:
            return await extraction.submit_jobs(await extraction.prepare())
        finally:
            await engine.aclose()

    jobs = asyncio.run(submit_then_die())
    assert server.sandbox.stats()["jobs_created"] == 2
    first, second = (jobs[name] for name in sorted(jobs))
    server.sandbox.set_job_state(first, "EXPIRED")
    result = run_extraction(server.url, tmp_path, "jobs", engine_settings=FAST, try_number=2, **args)
    assert server.sandbox.stats()["jobs_created"] == 3  # the second reused, the expired one replaced
    assert (
        sorted(r["conversationId"] for r in read_records(tmp_path))
        == _truth(server, *UTC_DAY)["conversation_ids"]
    )

    # A job that FAILED for a transient reason is replaced too, instead of failing every later try.
    jobs = asyncio.run(submit_then_die())
    first, second = (jobs[name] for name in sorted(jobs))
    server.sandbox.set_job_state(second, "FAILED", "Internal analytics error")
    before = server.sandbox.stats()["jobs_created"]
    result = run_extraction(server.url, tmp_path, "jobs", engine_settings=FAST, try_number=3, **args)
    assert server.sandbox.stats()["jobs_created"] == before + 1
    assert result.manifest["complete"] is True and "jobs" not in result.manifest
    assert (
        sorted(r["conversationId"] for r in read_records(tmp_path))
        == _truth(server, *UTC_DAY)["conversation_ids"]
    )
