"""Turn connection fields (login, password, host, extras) into an engine, validated up front.

The hook and the triggers read an Airflow connection and hand its plain fields here, so
the rules (region or host override, defaults, validation) exist once and need no Airflow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from airflow_provider_genesys.core.auth import ClientCredentials
from airflow_provider_genesys.core.config import EngineSettings, settings_from_extras
from airflow_provider_genesys.core.engine import GenesysEngine
from airflow_provider_genesys.core.regions import DEFAULT_REGION, Endpoints, resolve_endpoints
from airflow_provider_genesys.core.state import ClientRegistry

__all__ = ["CONN_TYPE", "ConnectionConfig", "normalize_extras"]

CONN_TYPE = "genesys_cloud"


def normalize_extras(extras: Mapping[str, Any] | None) -> dict[str, Any]:
    """Accept both plain keys and the form's ``extra__genesys_cloud__<name>`` keys."""
    prefix = f"extra__{CONN_TYPE}__"
    out: dict[str, Any] = {}
    for key, value in (extras or {}).items():
        out[key.removeprefix(prefix)] = value
    return out


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything needed to talk to one Genesys org, without the Airflow connection object."""

    conn_id: str
    endpoints: Endpoints
    credentials: ClientCredentials
    settings: EngineSettings
    region: str

    @classmethod
    def from_fields(
        cls,
        conn_id: str,
        *,
        login: str | None,
        password: str | None,
        host: str | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> ConnectionConfig:
        """Validate the fields before any network call; errors name the field and the fix."""
        extra = normalize_extras(extras)
        region = str(extra.get("region") or DEFAULT_REGION)
        endpoints = resolve_endpoints(region, host)
        credentials = ClientCredentials(str(login or ""), str(password or ""))
        settings = settings_from_extras(extra)
        return cls(conn_id, endpoints, credentials, settings, region)

    @property
    def label(self) -> str:
        """How errors name the target: the connection id and the region or host tried."""
        return f"connection {self.conn_id!r} ({self.endpoints.label})"

    def engine(
        self,
        *,
        registry: ClientRegistry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: Any = None,
        timeout: Any = None,
        on_new_token: Callable[[str], None] | None = None,
    ) -> GenesysEngine:
        """Build an engine; ``max_concurrency``/``timeout`` are the per-task overrides."""
        settings = self.settings.with_overrides(max_concurrency=max_concurrency, timeout=timeout)
        return GenesysEngine(
            self.endpoints,
            self.credentials,
            settings,
            registry=registry,
            transport=transport,
            label=self.label,
            on_new_token=on_new_token,
        )

    def __repr__(self) -> str:
        return f"ConnectionConfig({self.label}, client_id={self.credentials.client_id!r})"
