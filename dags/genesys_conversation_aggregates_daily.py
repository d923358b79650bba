"""Daily Genesys Cloud conversation aggregates for one org, in the org's own time zone.

Every day after midnight (org time) this pulls the previous local day — 23 or 25 hours long
on DST changes — in hourly chunks, with 30-minute buckets grouped by queue and media type,
into one folder per local date, ``.../conversation_aggregates/date=YYYY-MM-DD/``, with a
``_manifest.json`` written last. Re-running a day replaces that day's files.

Settings (environment variables, read when the DAG file is parsed):

- ``GENESYS_ORG_TIME_ZONE``: IANA zone of the contact centre (default ``UTC``);
- ``GENESYS_LAKE_URI``: root URI of the lake (default ``file:///tmp/genesys-lake``);
- ``GENESYS_LAKE_CONN_ID``: storage connection for ``s3://``/``gs://`` roots (optional).

Tasks run in the Airflow pool ``genesys_api``: size it to how many tasks may query the org
at once (``airflow pools set genesys_api 4 "Genesys Cloud API"``). The request engine paces
the requests of each task under the connection's ``requests_per_minute``.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable

from airflow_provider_genesys.operators.analytics import GenesysConversationAggregatesOperator

ORG_TIME_ZONE = os.environ.get("GENESYS_ORG_TIME_ZONE", "UTC")
LAKE_URI = os.environ.get("GENESYS_LAKE_URI", "file:///tmp/genesys-lake").rstrip("/")
LAKE_CONN_ID = os.environ.get("GENESYS_LAKE_CONN_ID") or None

# The local date of the data interval, e.g. 2024-03-10 for the 23-hour day in New York.
LOCAL_DATE = "{{ data_interval_start.in_timezone('" + ORG_TIME_ZONE + "').to_date_string() }}"

with DAG(
    dag_id="genesys_conversation_aggregates_daily",
    description="Yesterday's Genesys Cloud conversation aggregates, hourly chunks, into the lake",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone=ORG_TIME_ZONE),
    start_date=pendulum.datetime(2024, 1, 1, tz=ORG_TIME_ZONE),
    catchup=False,
    max_active_runs=4,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["genesys", "analytics"],
) as dag:
    GenesysConversationAggregatesOperator(
        task_id="conversation_aggregates",
        pool="genesys_api",
        destination=f"{LAKE_URI}/conversation_aggregates/date={LOCAL_DATE}/",
        destination_conn_id=LAKE_CONN_ID,
        chunk="PT1H",
        time_zone=ORG_TIME_ZONE,
        query={
            "granularity": "PT30M",
            "groupBy": ["queueId", "mediaType"],
            "metrics": [
                "nOffered",
                "nConnected",
                "nTransferred",
                "tAnswered",
                "tAbandon",
                "tTalk",
                "tAcw",
                "tHandle",
            ],
        },
    )
