"""Writing to an S3-compatible server on loopback (moto) through ``s3://`` and ``destination_conn_id``."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pendulum
import pytest

from tests.extract_helpers import metric_totals, truth_totals
from tests.moto_support import moto_s3

pytestmark = pytest.mark.usefixtures("airflow_db")

DAY = pendulum.datetime(2024, 5, 1, tz="UTC")


@pytest.fixture(scope="module")
def lake() -> Any:
    """One moto server for the module: Airflow caches the S3 filesystem per connection id."""
    with moto_s3("genesys-lake") as url, pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(
            "AIRFLOW_CONN_LAKE_S3",
            json.dumps(
                {
                    "conn_type": "aws",
                    "login": "testing",
                    "password": "testing",
                    "extra": {"endpoint_url": url, "region_name": "us-west-2"},
                }
            ),
        )
        import boto3

        yield boto3.client("s3", endpoint_url=url, region_name="us-west-2")


def _dag(dags_folder: Path, dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(dags_folder)).get_dag(dag_id)


@pytest.mark.parametrize("output_format", ["jsonl", "parquet"])
def test_operator_writes_to_s3_with_destination_conn_id(
    sandbox: Any,
    genesys_conn: Any,
    lake: Any,
    dags_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    output_format: str,
) -> None:
    genesys_conn(sandbox, requests_per_minute=6000)
    monkeypatch.setenv("GENESYS_TEST_FORMAT", output_format)
    run = _dag(dags_folder, "test_genesys_s3").test(logical_date=DAY)
    assert run.state == "success"
    prefix = "conversation_aggregates/date=2024-05-01/"
    manifest = json.loads(
        lake.get_object(Bucket="genesys-lake", Key=prefix + "_manifest.json")["Body"].read()
    )
    assert manifest["complete"] is True and len(manifest["chunks"]) == 3
    listed = sorted(o["Key"] for o in lake.list_objects_v2(Bucket="genesys-lake", Prefix=prefix)["Contents"])
    assert listed == sorted([prefix + c["path"] for c in manifest["chunks"]] + [prefix + "_manifest.json"])
    records: list[dict[str, Any]] = []
    for chunk in manifest["chunks"]:
        body = lake.get_object(Bucket="genesys-lake", Key=prefix + chunk["path"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == chunk["sha256"]
        if output_format == "jsonl":
            records.extend(json.loads(line) for line in gzip.decompress(body).decode().splitlines())
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(io.BytesIO(body))
            assert table.num_rows > 0
            assert {"interval_start", "metric", "count", "sum", "group_json"} <= set(table.column_names)
    if output_format == "jsonl":
        assert metric_totals(records) == truth_totals(sandbox.sandbox.truth(DAY, DAY.add(hours=3)))
