"""Client-credentials tokens: one cached token per OAuth client, refreshed early, single flight.

The cache lives in a :class:`TokenCache` held by the client registry, so every engine in a
process that uses the same (host, client id) shares one token. A refresh is single flight
across tasks, threads and event loops: concurrent callers wait for the one request in
progress instead of minting their own tokens (Genesys discourages many live tokens).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from airflow_provider_genesys.core.clock import Clock
from airflow_provider_genesys.core.errors import GenesysAuthError, GenesysConfigError, error_from_response

__all__ = ["ClientCredentials", "Token", "TokenCache", "fetch_token"]


@dataclass(frozen=True)
class ClientCredentials:
    """An OAuth client id and secret; the secret never appears in ``repr`` or ``str``."""

    client_id: str
    client_secret: str

    def __post_init__(self) -> None:
        if not self.client_id or not str(self.client_id).strip():
            raise GenesysConfigError(
                "login", "the OAuth client id is missing", "set the connection's Client ID (login)"
            )
        if not self.client_secret or not str(self.client_secret).strip():
            raise GenesysConfigError(
                "password",
                "the OAuth client secret is missing",
                "set the connection's Client secret (password)",
            )

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret='***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Token:
    """An access token with its refresh deadline on the clock's monotonic scale."""

    value: str
    refresh_at: float
    generation: int

    def __repr__(self) -> str:
        return f"Token(generation={self.generation}, refresh_at={self.refresh_at:.1f}, value='***')"

    __str__ = __repr__


async def fetch_token(
    http: httpx.AsyncClient, token_url: str, credentials: ClientCredentials, label: str, timeout: float
) -> tuple[str, float]:
    """POST the client-credentials grant; return (access token, lifetime in seconds)."""
    response = await http.post(
        token_url,
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth(credentials.client_id, credentials.client_secret),
        timeout=timeout,
    )
    body = _json_or_none(response)
    if response.status_code == 429 or response.status_code >= 500:
        raise error_from_response(
            response.status_code,
            body if body is not None else response.text,
            correlation_id=response.headers.get("ININ-Correlation-Id"),
            method="POST",
            path=response.request.url.path,
        )
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        raise _auth_error(response, body, label)
    try:
        lifetime = float(body.get("expires_in", 86400))
    except (TypeError, ValueError):
        lifetime = 86400.0
    return str(body["access_token"]), lifetime


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _auth_error(response: httpx.Response, body: Any, label: str) -> GenesysAuthError:
    data = body if isinstance(body, dict) else {}
    reason = (
        data.get("error_description") or data.get("description") or data.get("message") or "no reason given"
    )
    code = data.get("error") or data.get("code")
    return GenesysAuthError(
        f"could not obtain an OAuth token for {label}: {reason}",
        status=response.status_code,
        code=str(code) if code else None,
        correlation_id=response.headers.get("ININ-Correlation-Id"),
        method="POST",
        path=response.request.url.path,
    )


class TokenCache:
    """One token for one OAuth client, shared by every engine of the process that uses it."""

    def __init__(self, clock: Clock, refresh_margin: float = 300.0) -> None:
        self._clock = clock
        self._margin = refresh_margin
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._generation = 0
        self._inflight: concurrent.futures.Future[Token | None] | None = None
        self._listeners: list[Callable[[str], None]] = []
        self.requests = 0

    def add_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(token)`` for every new token (e.g. to register it with a secret masker)."""
        with self._lock:
            if listener in self._listeners:
                return
            self._listeners.append(listener)
            token = self._token
        if token is not None:
            listener(token.value)

    def current(self) -> Token | None:
        """The cached token if it is still fresh, else None."""
        with self._lock:
            return self._fresh()

    def _fresh(self) -> Token | None:
        token = self._token
        if token is not None and self._clock.monotonic() < token.refresh_at:
            return token
        return None

    def invalidate(self, generation: int) -> None:
        """Drop the token of ``generation`` (after a 401); a newer token is kept."""
        with self._lock:
            if self._token is not None and self._token.generation == generation:
                self._token = None

    async def get(self, fetch: Callable[[], Awaitable[tuple[str, float]]]) -> Token:
        """Return a fresh token, running ``await fetch()`` at most once for all concurrent callers."""
        while True:
            with self._lock:
                token = self._fresh()
                if token is not None:
                    return token
                owner = self._inflight is None
                if owner:
                    self._inflight = concurrent.futures.Future()
                    # RUNNING: a cancelled waiter can no longer cancel the shared future for everyone.
                    self._inflight.set_running_or_notify_cancel()
                future = self._inflight
            assert future is not None
            if owner:
                return await self._refresh(fetch, future)
            # A waiter re-raises the owner's error; None means the owner was cancelled: try again.
            await asyncio.wrap_future(future)

    async def _refresh(
        self,
        fetch: Callable[[], Awaitable[tuple[str, float]]],
        future: concurrent.futures.Future[Token | None],
    ) -> Token:
        try:
            with self._lock:
                self.requests += 1
            value, lifetime = await fetch()
        except Exception as exc:
            self._finish(future, None, exc)
            raise
        except BaseException:
            self._finish(future, None)
            raise
        margin = min(self._margin, lifetime * 0.1)
        with self._lock:
            self._generation += 1
            token = Token(value, self._clock.monotonic() + lifetime - margin, self._generation)
            self._token = token
            listeners = list(self._listeners)
        try:
            for listener in listeners:
                listener(value)
        finally:
            self._finish(future, token)
        return token

    def _finish(
        self,
        future: concurrent.futures.Future[Token | None],
        token: Token | None,
        exc: Exception | None = None,
    ) -> None:
        with self._lock:
            self._inflight = None
        if future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(token)

    def __repr__(self) -> str:
        return f"TokenCache(requests={self.requests}, token={self._token!r})"
