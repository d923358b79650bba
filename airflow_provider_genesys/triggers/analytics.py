"""The trigger that polls async details jobs in the triggerer, freeing the worker slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_genesys.core.connection import ConnectionConfig
from airflow_provider_genesys.core.errors import GenesysError
from airflow_provider_genesys.core.queries import ENTITIES, wait_for_jobs

__all__ = ["GenesysDetailsJobTrigger"]


class GenesysDetailsJobTrigger(BaseTrigger):
    """Poll already-submitted jobs until all end; it never submits one (safe to re-run).

    Serialises to plain JSON: job ids, connection id, poll interval, an absolute deadline
    (epoch seconds, so a triggerer restart does not extend it) and the entity name.
    The event is ``{"status": "success", "jobs": {id: state}}`` or
    ``{"status": "error", "message": ..., "job_ids": [...]}`` (the operator then cancels them).
    """

    def __init__(
        self,
        job_ids: list[str],
        genesys_conn_id: str,
        poll_interval: float,
        deadline: float,
        entity: str = "conversations",
    ) -> None:
        super().__init__()
        self.job_ids = list(job_ids)
        self.genesys_conn_id = genesys_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline)
        self.entity = entity

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_ids": self.job_ids,
                "genesys_conn_id": self.genesys_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "entity": self.entity,
            },
        )

    async def _config(self) -> ConnectionConfig:
        getter = getattr(BaseHook, "aget_connection", None)  # async lookup: task SDK ≥ 1.1 (Airflow 3.1)
        if getter is not None:
            conn = await getter(self.genesys_conn_id)
        else:  # pragma: no cover - Airflow 3.0
            conn = await asyncio.to_thread(BaseHook.get_connection, self.genesys_conn_id)
        return ConnectionConfig.from_fields(
            self.genesys_conn_id,
            login=conn.login,
            password=conn.password,
            host=conn.host,
            extras=conn.extra_dejson,
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        engine = None
        try:
            engine = (await self._config()).engine(on_new_token=mask_secret)
            statuses = await wait_for_jobs(
                engine, ENTITIES[self.entity], self.job_ids, self.poll_interval, self.deadline
            )
            states = {job_id: str(status.get("state")) for job_id, status in statuses.items()}
            yield TriggerEvent({"status": "success", "jobs": states})
        except (GenesysError, TimeoutError) as exc:
            yield TriggerEvent({"status": "error", "message": str(exc), "job_ids": self.job_ids})
        finally:
            if engine is not None:
                await engine.aclose()
