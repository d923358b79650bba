"""DAGs for the operator tests, configured through environment variables set by each test."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG

from airflow_provider_genesys.operators.analytics import (
    GenesysConversationAggregatesOperator,
    GenesysConversationDetailsJobOperator,
    GenesysConversationDetailsOperator,
)
from airflow_provider_genesys.sandbox.data import METRICS as SANDBOX_METRICS

OUT = os.environ.get("GENESYS_TEST_OUT", "/tmp/genesys-test-out")
START = pendulum.datetime(2024, 5, 1, tz="UTC")
METRICS = list(SANDBOX_METRICS)
DAY = {"interval_start": "2024-05-01T00:00:00+00:00", "interval_end": "2024-05-02T00:00:00+00:00"}

with DAG("test_genesys_aggregates", schedule=None, start_date=START, catchup=False):
    GenesysConversationAggregatesOperator(
        task_id="agg",
        destination="file://" + OUT + "/agg/date={{ ds }}/",
        interval_start="{{ logical_date }}",
        interval_end="{{ logical_date + macros.timedelta(hours=6) }}",
        query={"metrics": METRICS, "granularity": "PT15M", "groupBy": ["queueId"]},
    )

with DAG("test_genesys_details", schedule=None, start_date=START, catchup=False):
    GenesysConversationDetailsOperator(task_id="details", destination=OUT + "/details", **DAY)

for deferrable in (False, True):
    with DAG(f"test_genesys_job_{'deferred' if deferrable else 'inline'}", schedule=None, start_date=START):
        GenesysConversationDetailsJobOperator(
            task_id="job", destination=OUT + "/jobs", deferrable=deferrable, poll_interval=0.1, **DAY
        )

with DAG("test_genesys_job_late", schedule=None, start_date=START, catchup=False):
    GenesysConversationDetailsJobOperator(
        task_id="job",
        destination=OUT + "/late",
        interval_start=os.environ.get("GENESYS_TEST_LATE_START", DAY["interval_start"]),
        interval_end=os.environ.get("GENESYS_TEST_LATE_END", DAY["interval_end"]),
        chunk="PT1H",
    )

with DAG("test_genesys_s3", schedule=None, start_date=START, catchup=False):
    GenesysConversationAggregatesOperator(
        task_id="agg",
        destination="s3://genesys-lake/conversation_aggregates/date={{ ds }}/",
        destination_conn_id="lake_s3",
        interval_start="{{ logical_date }}",
        interval_end="{{ logical_date + macros.timedelta(hours=3) }}",
        query={"metrics": METRICS, "granularity": "PT30M", "groupBy": ["queueId"]},
        output_format=os.environ.get("GENESYS_TEST_FORMAT", "jsonl"),
    )
