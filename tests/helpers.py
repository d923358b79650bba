"""Small builders shared by tests (no fixtures here; those live in conftest.py)."""

from __future__ import annotations

import random
from typing import Any

import httpx

from airflow_provider_genesys.core.auth import ClientCredentials
from airflow_provider_genesys.core.config import EngineSettings
from airflow_provider_genesys.core.engine import GenesysEngine
from airflow_provider_genesys.core.regions import resolve_endpoints
from airflow_provider_genesys.core.state import ClientRegistry

SANDBOX_ID = "sandbox-client"
SANDBOX_SECRET = "sandbox-secret"
AGGREGATES = "/api/v2/analytics/conversations/aggregates/query"
DETAILS = "/api/v2/analytics/conversations/details/query"
JOBS = "/api/v2/analytics/conversations/details/jobs"
AVAILABILITY = "/api/v2/analytics/conversations/details/jobs/availability"
HOUR = "2024-05-01T10:00:00.000Z/2024-05-01T11:00:00.000Z"


def make_engine(
    base_url: str,
    registry: ClientRegistry,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    client_id: str = SANDBOX_ID,
    secret: str = SANDBOX_SECRET,
    **settings: Any,
) -> GenesysEngine:
    """An engine for the sandbox at ``base_url`` with a seeded RNG (repeatable jitter)."""
    return GenesysEngine(
        resolve_endpoints(host=base_url),
        ClientCredentials(client_id, secret),
        EngineSettings(**settings),
        registry=registry,
        transport=transport,
        rng=random.Random(7),
        label=f"test connection ({base_url})",
    )


def aggregates_body(interval: str = HOUR, **extra: Any) -> dict[str, Any]:
    return {"interval": interval, "metrics": ["nOffered"], **extra}
