"""Plain helpers for the sandbox tests: paths, bodies, and recomputing aggregates from details."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import httpx

from airflow_provider_genesys.sandbox import SandboxServer
from airflow_provider_genesys.sandbox.data import METRICS as SANDBOX_METRICS

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
TOKEN = "/oauth/token"
AGGREGATES = "/api/v2/analytics/conversations/aggregates/query"
DETAILS = "/api/v2/analytics/conversations/details/query"
JOBS = "/api/v2/analytics/conversations/details/jobs"
AVAILABILITY = f"{JOBS}/availability"
DAY = "2024-05-01T00:00:00.000Z/2024-05-02T00:00:00.000Z"
HOUR = "2024-05-01T10:00:00.000Z/2024-05-01T11:00:00.000Z"
METRICS = list(SANDBOX_METRICS)
AGENT_METRICS = {"nConnected", "tAnswered", "tTalk", "tAcw", "tHandle", "nTransferred"}
QUEUE_METRICS = {"nOffered", "tWait", "tAbandon"}
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


def job_path(job_id: str, suffix: str = "") -> str:
    return f"{JOBS}/{job_id}{suffix}"


def parse_ts(text: str) -> datetime:
    """A Genesys ``...Z`` timestamp as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def instant(text: str) -> datetime:
    return parse_ts(text).astimezone(timezone.utc)


def aggregate_totals(body: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Sum an aggregates response over every group and bucket: metric → count and sum."""
    out: dict[str, dict[str, int]] = {}
    for result in body.get("results", []):
        for bucket in result["data"]:
            for metric in bucket["metrics"]:
                stats = metric["stats"]
                total = out.setdefault(metric["metric"], {"count": 0, "sum": 0})
                total["count"] += stats["count"]
                total["sum"] += stats.get("sum", stats["count"])
    return out


def observations(conversations: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every session metric of the given details records, with the dimensions it carries."""
    found = []
    for conv in conversations:
        for participant in conv["participants"]:
            for session in participant["sessions"]:
                queue = next((s["queueId"] for s in session["segments"] if "queueId" in s), None)
                for metric in session.get("metrics", []):
                    dims = {"queueId": queue, "mediaType": session["mediaType"]}
                    dims["direction"] = conv["originatingDirection"]
                    if "userId" in participant:
                        dims["userId"] = participant["userId"]
                    found.append({**metric, "dims": dims, "purpose": participant["purpose"]})
    return found


def totals_by_bucket_rule(
    conversations: Iterable[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, dict[str, int]]:
    """Recompute aggregate totals from details: observations emitted in ``[start, end)``."""
    out: dict[str, dict[str, int]] = {}
    for obs in observations(conversations):
        if start <= parse_ts(obs["emitDate"]) < end:
            total = out.setdefault(obs["name"], {"count": 0, "sum": 0})
            total["count"] += 1
            total["sum"] += obs["value"]
    return out


def bearer(server: SandboxServer, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    """Authorization headers for a real-socket server."""
    response = httpx.post(
        server.url + TOKEN, auth=(client_id, secret), data={"grant_type": "client_credentials"}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
