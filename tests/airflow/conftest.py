"""Airflow fixtures: a migrated metadata database in the throwaway AIRFLOW_HOME."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """Create the metadata tables once per session (SQLite in the test AIRFLOW_HOME)."""
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.resetdb()
    Pool.create_or_update_pool("genesys_api", 2, "Genesys Cloud API", include_deferred=True)
    yield


@pytest.fixture
def genesys_conn(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point ``genesys_cloud_default`` at a sandbox: ``genesys_conn(server, **extra)``."""

    def set_conn(server: Any, conn_id: str = "genesys_cloud_default", **extra: Any) -> None:
        fields = {
            "conn_type": "genesys_cloud",
            "login": "sandbox-client",
            "password": "sandbox-secret",
            "host": server.url,
            "extra": extra,
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))

    return set_conn
