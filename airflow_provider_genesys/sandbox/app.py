"""The ASGI app: the Genesys analytics routes plus ``/sandbox`` control, over one :class:`Sandbox`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_genesys.core.clock import Clock

from . import handlers
from .aggregate import AggregateEntity
from .api import Handler, serve_api
from .config import SandboxConfig
from .control import control_routes
from .endpoints import DETAILS as DETAILS_ENDPOINT
from .endpoints import (
    JOBS_AVAILABILITY,
    JOBS_CREATE,
    JOBS_DELETE,
    JOBS_RESULTS,
    JOBS_STATUS,
    Endpoint,
)
from .errors import ApiError
from .responses import error_response, new_correlation_id
from .state import Sandbox

__all__ = ["create_app"]

_DETAILS = "/api/v2/analytics/conversations/details"
_JOBS = f"{_DETAILS}/jobs"


def create_app(config: SandboxConfig | None = None, clock: Clock | None = None) -> Starlette:
    """A fresh sandbox app; its state is ``app.state.sandbox``."""
    sandbox = Sandbox(config, clock)
    routes = [Route("/oauth/token", handlers.token, methods=["POST"])]
    routes += [_aggregates_route(entity) for entity in sandbox.entities.values()]
    routes += [
        _api(f"{_DETAILS}/query", "POST", DETAILS_ENDPOINT, handlers.details),
        _api(_JOBS, "POST", JOBS_CREATE, handlers.jobs_create),
        _api(f"{_JOBS}/availability", "GET", JOBS_AVAILABILITY, handlers.jobs_availability),
        _api(f"{_JOBS}/{{jobId}}", "GET", JOBS_STATUS, handlers.jobs_status),
        _api(f"{_JOBS}/{{jobId}}", "DELETE", JOBS_DELETE, handlers.jobs_delete),
        _api(f"{_JOBS}/{{jobId}}/results", "GET", JOBS_RESULTS, handlers.jobs_results),
    ]
    handlers_by_status = {404: _no_route, 405: _no_route}
    app = Starlette(routes=routes + control_routes(), exception_handlers=handlers_by_status)
    app.state.sandbox = sandbox
    return app


async def _no_route(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in the Genesys error shape, not Starlette's plain text."""
    status = getattr(exc, "status_code", 404)
    code = "not.found" if status == 404 else "method.not.allowed"
    error = ApiError(status, code, f"No {request.method} resource at {request.url.path}")
    return error_response(error, new_correlation_id())


def _aggregates_route(entity: AggregateEntity) -> Route:
    endpoint = Endpoint(entity.endpoint, "aggregates", entity.permission)
    return _api(entity.path, "POST", endpoint, handlers.aggregates_handler(entity))


def _api(path: str, method: str, endpoint: Endpoint, handler: Handler) -> Route:
    async def route(request: Request) -> Response:
        return await serve_api(request.app.state.sandbox, request, endpoint, handler)

    return Route(path, route, methods=[method])
