"""Fault injection: scripted faults for exact test scenarios, random ones from a seeded RNG.

Scripted faults (``inject``) hit the next ``count`` matching API requests in
arrival order and win over random ones. With ``fault_rate`` p each API request
draws a fault with probability p from the enabled kinds that apply to it; a
random ``429`` also throttles the same client's next 0-2 requests (a burst). The
RNG is seeded from the config seed, so the same request sequence gets the same faults.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .config import FAULT_KINDS, SandboxConfig
from .endpoints import ENDPOINT_SELECTORS, Endpoint
from .errors import ApiError

__all__ = [
    "RETRY_AFTER_FORMATS",
    "SERVER_ERRORS",
    "DroppedConnectionError",
    "Fault",
    "Faults",
    "applies",
    "server_error",
]

SERVER_ERRORS = {
    500: ("internal.server.error", "The server encountered an unexpected condition."),
    502: ("bad.gateway", "The server received an invalid response from an upstream server."),
    503: ("service.unavailable", "The service is currently unavailable. Please try again later."),
    504: ("request.timeout", "The request timed out."),
}
_SHORT_ENDPOINTS = ("details", "jobs.results")


class DroppedConnectionError(Exception):
    """Raised after a partial body so the server aborts the connection (the ``drop`` fault)."""


RETRY_AFTER_FORMATS = ("seconds", "date", "none")


@dataclass(frozen=True)
class Fault:
    """A fault chosen for one request.

    ``retry_after`` is the wait in seconds a 429/5xx announces (None: no header; for a
    429 burst, whatever is left of the client's Retry-After); ``retry_after_format``
    renders it as delta-seconds, as an HTTP date, or not at all (``none``).
    """

    kind: str
    retry_after: int | None = None
    retry_after_format: str = "seconds"


@dataclass
class _Scripted:
    kind: str
    remaining: int
    endpoint: str | None
    retry_after: int | None
    retry_after_format: str


def applies(kind: str, endpoint: Endpoint) -> bool:
    """``short`` only makes sense for paged endpoints; every other kind fits any endpoint."""
    return kind != "short" or endpoint.name in _SHORT_ENDPOINTS


def server_error(fault: Fault, header: str | None) -> ApiError:
    """The Genesys-shaped 5xx for ``fault``; ``header`` is its ``Retry-After`` value, if any."""
    status = 503 if fault.kind == "503-retry-after" else int(fault.kind)
    code, message = SERVER_ERRORS[status]
    return ApiError(status, code, message, headers={"Retry-After": header} if header is not None else None)


class Faults:
    """The scripted queue, the random draw and the 429 bursts in progress."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.rng = random.Random(f"{config.seed}:faults")
        self._scripted: list[_Scripted] = []
        self._bursts: dict[str, int] = {}

    def inject(
        self,
        kind: str,
        count: int = 1,
        endpoint: str | None = None,
        retry_after: int | None = None,
        retry_after_format: str = "seconds",
    ) -> None:
        """Make the next ``count`` API requests to ``endpoint`` (name, family, None = any) fail."""
        if retry_after_format not in RETRY_AFTER_FORMATS:
            raise ValueError(f"retry_after_format must be one of {RETRY_AFTER_FORMATS}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
        if endpoint is not None and endpoint not in ENDPOINT_SELECTORS:
            raise ValueError(f"unknown endpoint {endpoint!r}; known: {sorted(ENDPOINT_SELECTORS)}")
        if count < 1 or (retry_after is not None and retry_after < 0):
            raise ValueError("count must be positive and retry_after not negative")
        self._scripted.append(_Scripted(kind, count, endpoint, retry_after, retry_after_format))

    def draw(self, client_id: str, endpoint: Endpoint) -> Fault | None:
        """The fault for this request, if any: burst, then scripted, then random."""
        if self._bursts.get(client_id, 0) > 0:
            self._bursts[client_id] -= 1
            return Fault("429")
        for entry in self._scripted:
            if endpoint.matches(entry.endpoint) and applies(entry.kind, endpoint):
                entry.remaining -= 1
                self._scripted = [e for e in self._scripted if e.remaining > 0]
                return self._resolve(entry.kind, entry.retry_after, entry.retry_after_format)
        return self._random(client_id, endpoint)

    def _random(self, client_id: str, endpoint: Endpoint) -> Fault | None:
        rate = self.config.fault_rate
        if rate <= 0 or self.rng.random() >= rate:
            return None
        kinds = [k for k in self.config.faults if applies(k, endpoint)]
        if not kinds:
            return None
        fault = self._resolve(self.rng.choice(kinds), None)
        if fault.kind == "429":
            self._bursts[client_id] = self.rng.randint(0, 2)
        return fault

    def _resolve(self, kind: str, forced: int | None, fmt: str = "seconds") -> Fault:
        if kind in ("429", "503-retry-after"):
            return Fault(kind, forced if forced is not None else self.rng.randint(1, 3), fmt)
        if kind in ("500", "502", "503", "504"):
            if forced is not None or fmt != "seconds":
                return Fault(kind, forced if forced is not None else 1, fmt)
            return Fault(kind, 1 if self.rng.random() < 0.5 else None)
        return Fault(kind)

    @property
    def pending(self) -> int:
        """Scripted fault hits still to come."""
        return sum(e.remaining for e in self._scripted)

    def reset(self) -> None:
        """Forget scripted faults and bursts; restart the random sequence from the seed."""
        self.rng = random.Random(f"{self.config.seed}:faults")
        self._scripted.clear()
        self._bursts.clear()
