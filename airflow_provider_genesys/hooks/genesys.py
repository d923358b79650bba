"""The Airflow hook: an Airflow connection in, the Genesys client core out."""

from __future__ import annotations

from typing import Any

import httpx
from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_genesys.core.connection import CONN_TYPE, ConnectionConfig
from airflow_provider_genesys.core.engine import GenesysEngine, SyncGenesysClient
from airflow_provider_genesys.core.errors import GenesysError
from airflow_provider_genesys.core.probe import format_probe_report, probe_permissions
from airflow_provider_genesys.core.state import ClientRegistry

__all__ = ["GenesysCloudHook"]


class GenesysCloudHook(BaseHook):
    """Holds a Genesys Cloud OAuth client (client credentials) and gives the request engine.

    :param genesys_conn_id: the Airflow connection: login = client id, password = client
        secret, ``extra.region`` = AWS region or Genesys domain (default ``us-east-1``),
        optional host = base-URL override, plus the engine settings as extras.
    :param max_concurrency: per-task override of the per-family in-flight caps.
    :param timeout: per-task override of the per-request timeout (seconds).
    :param registry: shared-state registry (tests pass their own; default: the process one).
    :param transport: an httpx transport (tests may pass an in-process ASGI transport).
    """

    conn_name_attr = "genesys_conn_id"
    default_conn_name = "genesys_cloud_default"
    conn_type = CONN_TYPE
    hook_name = "Genesys Cloud"

    def __init__(
        self,
        genesys_conn_id: str = default_conn_name,
        *,
        max_concurrency: Any = None,
        timeout: Any = None,
        registry: ClientRegistry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.genesys_conn_id = genesys_conn_id
        self._overrides = {"max_concurrency": max_concurrency, "timeout": timeout}
        self._registry = registry
        self._transport = transport
        self._config: ConnectionConfig | None = None
        self._engine: GenesysEngine | None = None

    @property
    def config(self) -> ConnectionConfig:
        """The validated connection (read once); raises a clear error before any network call."""
        if self._config is None:
            conn = self.get_connection(self.genesys_conn_id)
            if conn.password:
                mask_secret(conn.password)
            self._config = ConnectionConfig.from_fields(
                self.genesys_conn_id,
                login=conn.login,
                password=conn.password,
                host=conn.host,
                extras=conn.extra_dejson,
            )
        return self._config

    def get_conn(self) -> GenesysEngine:
        """The async request engine for this connection (built once per hook)."""
        if self._engine is None:
            self._engine = self.config.engine(
                registry=self._registry,
                transport=self._transport,
                on_new_token=mask_secret,
                **self._overrides,
            )
        return self._engine

    @property
    def engine(self) -> GenesysEngine:
        return self.get_conn()

    @property
    def client(self) -> SyncGenesysClient:
        """A blocking facade over the engine, for simple synchronous callers."""
        return SyncGenesysClient(self.get_conn())

    def test_connection(self) -> tuple[bool, str]:
        """Succeed when a token is obtained; list each analytics permission as granted or missing."""
        try:
            engine = self.get_conn()
            results = self.client.run(probe_permissions)
        except GenesysError as exc:
            return False, str(exc)
        return True, format_probe_report(self.config.label, engine.client_id, results)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Form behaviour for Airflow < 3.2 (3.2+ reads it from the provider info)."""
        from airflow_provider_genesys._provider_info import UI_FIELD_BEHAVIOUR

        return UI_FIELD_BEHAVIOUR
