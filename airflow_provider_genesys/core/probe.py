"""Check what an OAuth client may do: a token, then one small call per analytics permission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from airflow_provider_genesys.core.engine import GenesysEngine
from airflow_provider_genesys.core.errors import GenesysAPIError, GenesysPermissionError

__all__ = ["ProbeResult", "format_probe_report", "probe_permissions"]

AGGREGATE_PERMISSION = "analytics:conversationAggregate:view"
DETAIL_PERMISSION = "analytics:conversationDetail:view"


@dataclass(frozen=True)
class ProbeResult:
    """One probed capability: granted, missing (with the permission to grant) or failed."""

    name: str
    permission: str
    status: str
    detail: str = ""

    def line(self) -> str:
        if self.status == "granted":
            return f"{self.name}: granted"
        if self.status == "missing":
            return f"{self.name}: missing (grant the OAuth client's role {self.permission})"
        return f"{self.name}: not checked ({self.detail})"


def _tiny_interval(now: datetime) -> str:
    end = now.replace(second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(minutes=1)
    fmt = "%Y-%m-%dT%H:%M:%S.000Z"
    return f"{start.strftime(fmt)}/{end.strftime(fmt)}"


async def _probe(
    engine: GenesysEngine, name: str, permission: str, method: str, path: str, **kw: object
) -> ProbeResult:
    try:
        await engine.request(method, path, **kw)  # type: ignore[arg-type]
    except GenesysPermissionError as exc:
        return ProbeResult(name, exc.permissions[0] if exc.permissions else permission, "missing")
    except GenesysAPIError as exc:
        return ProbeResult(name, permission, "error", f"HTTP {exc.status}: {exc.message}")
    return ProbeResult(name, permission, "granted")


async def probe_permissions(engine: GenesysEngine) -> list[ProbeResult]:
    """Obtain a token (errors propagate), then probe aggregates, details and jobs availability."""
    await engine.token()
    interval = _tiny_interval(datetime.fromtimestamp(engine.clock.time(), tz=timezone.utc))
    base = "/api/v2/analytics/conversations"
    return [
        await _probe(
            engine,
            "aggregates query",
            AGGREGATE_PERMISSION,
            "POST",
            f"{base}/aggregates/query",
            family="aggregates",
            json={"interval": interval, "metrics": ["nOffered"]},
        ),
        await _probe(
            engine,
            "details query",
            DETAIL_PERMISSION,
            "POST",
            f"{base}/details/query",
            family="details",
            json={"interval": interval, "paging": {"pageSize": 1, "pageNumber": 1}},
        ),
        await _probe(
            engine,
            "jobs availability",
            DETAIL_PERMISSION,
            "GET",
            f"{base}/details/jobs/availability",
            family="jobs",
        ),
    ]


def format_probe_report(label: str, client_id: str, results: list[ProbeResult]) -> str:
    """One message for ``test_connection``: who authenticated where, and each permission."""
    return f"Authenticated to {label} as OAuth client {client_id}. Permissions: " + "; ".join(
        result.line() for result in results
    )
