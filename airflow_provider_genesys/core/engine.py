"""The one request path: auth, shared pause, pacing, pools and retries over httpx.

Every call the provider makes to Genesys Cloud goes through :meth:`GenesysEngine.request`:

1. take a slot in the endpoint family's pool (``aggregates``, ``details``, ``jobs``);
2. wait out the client's shared ``Retry-After`` pause, then a paced send slot;
3. send with a cached token; on 401 refresh once and replay once;
4. on 429/5xx/timeouts/connection errors decide with :mod:`.retry` and loop (tenacity);
5. map a final failure to a typed error from :mod:`.errors`.

:class:`SyncGenesysClient` is a thin blocking facade for simple callers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from airflow_provider_genesys import __version__
from airflow_provider_genesys.core.auth import ClientCredentials, Token, fetch_token
from airflow_provider_genesys.core.clock import Clock
from airflow_provider_genesys.core.config import FAMILIES, EngineSettings
from airflow_provider_genesys.core.errors import (
    GenesysAPIError,
    GenesysRateLimitError,
    GenesysServerError,
    GenesysTransportError,
    error_from_response,
)
from airflow_provider_genesys.core.pacing import Pause, Pool, RateLimiter
from airflow_provider_genesys.core.regions import Endpoints
from airflow_provider_genesys.core.retry import (
    RETRYABLE_STATUSES,
    RetryDecision,
    backoff_delay,
    decide_exception,
    decide_status,
    parse_retry_after,
)
from airflow_provider_genesys.core.state import ClientRegistry, ClientState, default_registry

__all__ = ["GenesysEngine", "SyncGenesysClient"]

log = logging.getLogger("airflow_provider_genesys.engine")

T = TypeVar("T")

_USER_AGENT = f"airflow-provider-genesys/{__version__}"


class _RetryAttempt(Exception):  # noqa: N818 (internal control flow, never raised to callers)
    """Internal: one attempt failed in a way the policy retries."""

    def __init__(self, decision: RetryDecision, error: GenesysAPIError, wait: float) -> None:
        super().__init__(decision.cause)
        self.decision = decision
        self.error = error
        self.wait = wait


@dataclass
class _Call:
    """The state of one logical request across its attempts."""

    method: str
    path: str
    family: str
    idempotent: bool
    json: Any
    params: Mapping[str, Any] | None
    authenticated: bool
    paced: bool
    attempts: int = 0
    refreshed: bool = False
    first_send: float | None = None
    last_wait: float = 0.0


class GenesysEngine:
    """Sends requests for one OAuth client, sharing its token, pace and pause process-wide."""

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: ClientCredentials,
        settings: EngineSettings | None = None,
        *,
        registry: ClientRegistry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        label: str | None = None,
        rng: random.Random | None = None,
        on_new_token: Callable[[str], None] | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.settings = settings or EngineSettings()
        self._credentials = credentials
        self.registry = registry or default_registry()
        self.clock: Clock = self.registry.clock
        self.label = label or endpoints.label
        self._transport = transport
        self._rng = rng or random.Random()
        self.state: ClientState = self.registry.state(
            endpoints.api_base, credentials.client_id, self.settings
        )
        self._on_new_token = on_new_token
        if on_new_token is not None:
            self.state.tokens.add_listener(on_new_token)
        self.pools = {family: Pool(family, self.settings.pool_size(family)) for family in FAMILIES}
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._missing_retry_after_streak = 0
        #: Requests this engine sent and 429s it received (the client-wide counts are in ``summary()``).
        self.sent = 0
        self.rate_limited = 0

    @property
    def client_id(self) -> str:
        return self._credentials.client_id

    def __repr__(self) -> str:
        return f"GenesysEngine({self.label}, client_id={self.client_id!r})"

    # -- public API -------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        family: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send one API request with pacing and retries; return the parsed JSON body (or None)."""
        if family not in self.pools:
            raise ValueError(f"unknown endpoint family {family!r}; use one of {', '.join(FAMILIES)}")
        call = _Call(method.upper(), path, family, idempotent, json, params, authenticated=True, paced=True)
        async with self.pools[family]:
            return await self._run(call, self._attempt)

    def detached(self, timeout: float | None = None) -> GenesysEngine:
        """The same client with its own token, pace, pause and pools, for use from another thread
        while this engine's event loop is blocked (e.g. ``on_kill`` inside a signal handler)."""
        settings = self.settings.with_overrides(timeout=timeout) if timeout else self.settings
        return GenesysEngine(
            self.endpoints,
            self._credentials,
            settings,
            registry=ClientRegistry(self.clock),
            transport=self._transport,
            label=self.label,
            on_new_token=self._on_new_token,
        )

    async def token(self) -> Token:
        """A valid token for this client (single flight); used by ``test_connection``."""
        return await self.state.tokens.get(self._fetch_token)

    def summary(self) -> dict[str, Any]:
        """Per-client counters plus this engine's pool peaks, for logs and callers."""
        snapshot = self.state.stats.snapshot()
        pause = self.state.pause
        snapshot.update(
            {
                "client_id": self.client_id,
                "api_base": self.endpoints.api_base,
                "paused_seconds": round(float(getattr(pause, "total_paused", 0.0)), 3),
                "pause_episodes": int(getattr(pause, "episodes", 0)),
                "token_requests": self.state.tokens.requests,
                "current_requests_per_minute": round(self.state.limiter.rate * 60.0, 2),
                "peak_in_flight": {name: pool.peak for name, pool in self.pools.items()},
            }
        )
        return snapshot

    def log_summary(self, logger: Any = None) -> dict[str, Any]:
        """Log the summary at INFO (end of a task) and return it."""
        summary = self.summary()
        (logger or log).info(
            "Genesys requests for client %s: %d sent, %d 2xx, %d rate-limited (429), retries %s, "
            "%.1fs paused on Retry-After, %s requests/min effective, peak in flight %s",
            summary["client_id"],
            summary["requests"],
            summary["responses_2xx"],
            summary["rate_limited"],
            summary["retries"] or "{}",
            summary["paused_seconds"],
            summary["effective_requests_per_minute"],
            summary["peak_in_flight"],
        )
        return summary

    async def aclose(self) -> None:
        """Close the HTTP client of the current event loop."""
        http, self._http, self._http_loop = self._http, None, None
        if http is not None:
            await http.aclose()

    # -- the request path ---------------------------------------------------------------

    async def _run(self, call: _Call, attempt: Callable[[_Call], Awaitable[T]]) -> T:
        """The retry loop every call goes through (API requests and the token request)."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_RetryAttempt),
            wait=self._wait,
            stop=lambda state: self._should_stop(call, state),
            sleep=self.clock.sleep,
            before_sleep=lambda state: self._before_sleep(call, state),
            reraise=True,
        )
        try:
            result: T = await retrying(attempt, call)
            return result
        except _RetryAttempt as exc:
            raise self._final(exc.error, call) from None

    def _backoff(self, call: _Call) -> float:
        """Full-jitter exponential backoff for the call's current attempt."""
        return backoff_delay(call.attempts, self.settings.backoff_base, self.settings.backoff_max, self._rng)

    def _final(self, error: GenesysAPIError, call: _Call) -> GenesysAPIError:
        error.attempts = call.attempts
        error.waited = self._elapsed(call)
        return error

    def _elapsed(self, call: _Call) -> float:
        return 0.0 if call.first_send is None else self.clock.monotonic() - call.first_send

    @staticmethod
    def _wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return exc.wait if isinstance(exc, _RetryAttempt) else 0.0

    def _should_stop(self, call: _Call, state: RetryCallState) -> bool:
        if state.attempt_number >= self.settings.max_attempts:
            return True
        upcoming = max(state.upcoming_sleep or 0.0, self.state.pause.remaining())
        return self._elapsed(call) + upcoming > self.settings.retry_deadline

    def _before_sleep(self, call: _Call, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryAttempt):
            self.state.stats.retried(exc.decision.cause)
            log.debug(
                "retrying %s %s after %s (attempt %d, backoff %.2fs, pause %.2fs)",
                call.method,
                call.path,
                exc.decision.cause,
                state.attempt_number,
                exc.wait,
                self.state.pause.remaining(),
            )

    async def _await_turn(self, call: _Call) -> None:
        """Wait for the shared pause to end and a paced slot that is not inside a pause."""
        pause, limiter = self.state.pause, self.state.limiter
        started = self.clock.monotonic()
        try:
            await self._turn(call, pause, limiter)
        finally:
            call.last_wait = self.clock.monotonic() - started

    async def _turn(self, call: _Call, pause: Pause, limiter: RateLimiter) -> None:
        while True:
            remaining = pause.remaining()
            if remaining > self.settings.max_retry_wait:
                raise self._final(
                    GenesysRateLimitError(
                        f"the client is paused for {remaining:.0f}s by a Retry-After longer than "
                        f"max_retry_wait={self.settings.max_retry_wait:g}s",
                        status=429,
                        retry_after=remaining,
                        method=call.method,
                        path=call.path,
                    ),
                    call,
                )
            await pause.wait()
            if call.paced:
                await limiter.acquire()
            if pause.remaining() <= 0:
                return

    async def _attempt(self, call: _Call) -> Any:
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        token: Token | None = None
        if call.authenticated:
            # The token first: waiting for a refresh after taking a slot would send late, in a burst,
            # and possibly inside a pause that began meanwhile.
            token = await self.token()
            headers["Authorization"] = f"Bearer {token.value}"
        await self._await_turn(call)
        call.attempts += 1
        now = self.clock.monotonic()
        if call.first_send is None:
            call.first_send = now
        if call.paced:
            self.state.stats.sent(now)
            self.sent += 1
        try:
            response = await self._client().request(
                call.method,
                self._url(call.path),
                json=call.json,
                params=call.params,
                headers=headers,
                timeout=self.settings.timeout,
            )
        except httpx.HTTPError as exc:
            raise self._transport_failure(call, exc) from None
        return self._handle(call, response, token)

    def _transport_failure(self, call: _Call, exc: httpx.HTTPError) -> Exception:
        self.state.stats.failed()
        decision = decide_exception(exc, idempotent=call.idempotent)
        kind = type(exc).__name__
        message = f"{kind} after {self.settings.timeout:g}s timeout" if decision.cause == "timeout" else kind
        if decision.reason:
            message += f"; {decision.reason}"
        error = GenesysTransportError(message, method=call.method, path=call.path)
        log.debug("%s %s -> %s (attempt %d)", call.method, call.path, kind, call.attempts)
        if decision.retry:
            wait = self._backoff(call)
            return _RetryAttempt(decision, error, wait)
        return self._final(error, call)

    def _handle(self, call: _Call, response: httpx.Response, token: Token | None) -> Any:
        status = response.status_code
        correlation_id = response.headers.get("ININ-Correlation-Id")
        if call.paced:
            self.state.stats.answered(status)
            self.rate_limited += status == 429
        log.debug(
            "%s %s -> %d (attempt %d, waited %.2fs for pause and pace, correlation_id=%s)",
            call.method,
            call.path,
            status,
            call.attempts,
            call.last_wait,
            correlation_id,
        )
        if 200 <= status < 300:
            return self._success(call, response, correlation_id)
        body = _body(response)
        if status == 401 and token is not None and not call.refreshed:
            call.refreshed = True
            self.state.tokens.invalidate(token.generation)
            error = error_from_response(
                401, body, correlation_id=correlation_id, method=call.method, path=call.path
            )
            raise _RetryAttempt(RetryDecision(True, "401"), error, 0.0)
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock.time())
        error = error_from_response(
            status,
            body,
            correlation_id=correlation_id,
            method=call.method,
            path=call.path,
            retry_after=retry_after,
            result_cap_pattern=self.settings.result_cap_pattern,
        )
        decision = decide_status(status, retry_after, idempotent=call.idempotent)
        if status == 429 and call.paced:
            return self._throttled(call, decision, error, retry_after)
        if decision.retry:
            if retry_after is not None:
                self._pause(call, error, retry_after)
                raise _RetryAttempt(decision, error, 0.0)
            wait = self._backoff(call)
            raise _RetryAttempt(decision, error, wait)
        raise self._final(error, call)

    def _success(self, call: _Call, response: httpx.Response, correlation_id: str | None) -> Any:
        if call.paced:
            self.state.limiter.on_success()
            self._missing_retry_after_streak = 0
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            error = GenesysServerError(
                f"HTTP {response.status_code} with a body that is not JSON",
                status=response.status_code,
                correlation_id=correlation_id,
                method=call.method,
                path=call.path,
            )
            if call.idempotent:
                decision = RetryDecision(True, "5xx")
                wait = self._backoff(call)
                raise _RetryAttempt(decision, error, wait) from None
            raise self._final(error, call) from None

    def _throttled(
        self, call: _Call, decision: RetryDecision, error: GenesysAPIError, retry_after: float | None
    ) -> Any:
        if retry_after is None:
            retry_after = self.settings.missing_retry_after * (2 ** min(self._missing_retry_after_streak, 6))
            self._missing_retry_after_streak += 1
        try:
            self._pause(call, error, retry_after)
        finally:
            # After the pause is set, so one episode (all requests sent before it ends) slows us once.
            self.state.limiter.on_throttled()
        raise _RetryAttempt(decision, error, 0.0)

    def _pause(self, call: _Call, error: GenesysAPIError, retry_after: float) -> None:
        """Hold every request of the client for ``retry_after`` — or fail if that is too long."""
        if retry_after > self.settings.max_retry_wait:
            if isinstance(error, GenesysRateLimitError):
                error.retry_after = retry_after
            else:
                error.message += f" (Retry-After {retry_after:g}s is longer than max_retry_wait)"
                error.args = (error.message,)
            raise self._final(error, call)
        until = self.state.pause.pause_for(retry_after)
        self.state.limiter.defer_until(until)

    # -- plumbing -------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.endpoints.api_base + path

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            total = sum(pool.size for pool in self.pools.values()) + 2
            self._http = httpx.AsyncClient(
                transport=self._transport,
                limits=httpx.Limits(max_connections=total, max_keepalive_connections=total),
                timeout=self.settings.timeout,
                follow_redirects=False,
            )
            self._http_loop = loop
        return self._http

    async def _fetch_token(self) -> tuple[str, float]:
        """The token request: retried like any call, but neither paced nor authenticated."""
        call = _Call(
            "POST", self.endpoints.token_url, "token", True, None, None, authenticated=False, paced=False
        )
        return await self._run(call, self._token_attempt)

    async def _token_attempt(self, call: _Call) -> tuple[str, float]:
        call.attempts += 1
        if call.first_send is None:
            call.first_send = self.clock.monotonic()
        try:
            return await fetch_token(
                self._client(), self.endpoints.token_url, self._credentials, self.label, self.settings.timeout
            )
        except httpx.HTTPError as exc:
            raise self._transport_failure(call, exc) from None
        except GenesysAPIError as exc:
            if exc.status in RETRYABLE_STATUSES:
                raise _RetryAttempt(RetryDecision(True, "token"), exc, self._backoff(call)) from None
            raise


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return response.text


class SyncGenesysClient:
    """A blocking facade over :class:`GenesysEngine` for simple, non-async callers."""

    def __init__(self, engine: GenesysEngine) -> None:
        self.engine = engine

    def run(self, make: Callable[[GenesysEngine], Awaitable[T]]) -> T:
        """Run ``make(engine)`` to completion on a fresh event loop, then close its HTTP client."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("SyncGenesysClient cannot run inside an event loop; await the engine instead")

        async def main() -> T:
            try:
                return await make(self.engine)
            finally:
                await self.engine.aclose()

        return asyncio.run(main())

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Blocking :meth:`GenesysEngine.request`."""
        return self.run(lambda engine: engine.request(method, path, **kwargs))
