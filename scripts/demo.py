"""The README's main job: run the example DAG for yesterday against the embedded sandbox.

Starts the Genesys Cloud sandbox on a free loopback port, points an isolated Airflow home
(``.demo/airflow``) and the ``genesys_cloud_default`` connection at it, runs
``genesys_conversation_aggregates_daily`` with ``dag.test()`` for yesterday (UTC unless
``GENESYS_ORG_TIME_ZONE`` is set), and prints where the output went and what it cost.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".demo"


def _prepare_environment(sandbox_url: str) -> None:
    lake = DEMO / "lake"
    home = DEMO / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "GENESYS_LAKE_URI": lake.as_uri(),
            "AIRFLOW_CONN_GENESYS_CLOUD_DEFAULT": json.dumps(
                {
                    "conn_type": "genesys_cloud",
                    "login": "sandbox-client",
                    "password": "sandbox-secret",
                    "host": sandbox_url,
                }
            ),
        }
    )


def _run_dag(day: datetime) -> object:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.initdb()
    Pool.create_or_update_pool("genesys_api", 2, "Genesys Cloud API", include_deferred=True)
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag("genesys_conversation_aggregates_daily")
    return dag.test(logical_date=day)


def _summary(run: object) -> dict[str, object] | None:
    """The extraction task's XCom summary (destination, manifest, records, requests, 429s)."""
    for ti in run.get_task_instances():  # type: ignore[attr-defined]
        if ti.task_id == "conversation_aggregates":
            value = ti.xcom_pull(task_ids=ti.task_id)
            return value if isinstance(value, dict) else None
    return None


def main() -> int:
    # Airflow 3.3 imports Starlette's deprecated test client; the warning is not ours to fix.
    warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
    from airflow_provider_genesys.sandbox import SandboxConfig, SandboxServer

    zone = ZoneInfo(os.environ.get("GENESYS_ORG_TIME_ZONE", "UTC"))
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    yesterday = today - timedelta(days=1)
    with SandboxServer(SandboxConfig()) as server:
        _prepare_environment(server.url)
        print(
            f"Genesys Cloud sandbox on {server.url}; extracting {yesterday.date()} ({zone.key})", flush=True
        )
        # A manual run "after" today's midnight covers the previous full day: yesterday.
        run = _run_dag(today)
        state = getattr(run, "state", None)
        summary = _summary(run)
        if state != "success" or not summary:
            print(f"The DAG run ended {state}; see the log above.", file=sys.stderr)
            return 1
        manifest_path = Path(str(summary["manifest"]))
        folder = manifest_path.parent
        manifest = json.loads(manifest_path.read_text())
        totals = manifest["totals"]
        stats = server.sandbox.stats()
        interval = manifest["interval"]
        print(f"Interval: {interval['start']} → {interval['end']} ({manifest['time_zone']})")
        print(f"Output:   {folder}")
        print(f"Manifest: {manifest_path} (complete={manifest['complete']})")
        print(
            f"Records:  {totals['records']} aggregate result(s) in {totals['files']} hourly file(s); "
            f"requests {totals['requests']}, rate-limited (429) {totals['rate_limited']}"
        )
        print(f"Sandbox:  {stats['requests_total']} API request(s), {stats['rate_limited']} answered 429")
    return 0


if __name__ == "__main__":
    sys.exit(main())
