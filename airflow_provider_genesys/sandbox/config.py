"""Sandbox settings: one dataclass field per command-line flag, and the parser for them."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

__all__ = [
    "AGGREGATE_PERMISSION",
    "ALL_PERMISSIONS",
    "DETAIL_PERMISSION",
    "FAULT_KINDS",
    "ClientSpec",
    "SandboxConfig",
    "build_parser",
    "parse_args",
]

AGGREGATE_PERMISSION = "analytics:conversationAggregate:view"
DETAIL_PERMISSION = "analytics:conversationDetail:view"
ALL_PERMISSIONS = frozenset({AGGREGATE_PERMISSION, DETAIL_PERMISSION})
FAULT_KINDS = ("429", "500", "502", "503", "504", "503-retry-after", "slow", "drop", "nonjson", "short")


@dataclass(frozen=True)
class ClientSpec:
    """An OAuth client the sandbox accepts, with the permissions its roles grant."""

    client_id: str
    client_secret: str
    permissions: frozenset[str] = ALL_PERMISSIONS

    @classmethod
    def parse(cls, text: str) -> ClientSpec:
        """Parse ``ID:SECRET[:PERM1,PERM2]``; an empty permission list means none."""
        parts = text.split(":", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValueError(f"client must be ID:SECRET[:PERM1,PERM2], got {text!r}")
        if len(parts) == 2:
            return cls(parts[0], parts[1])
        perms = frozenset(p.strip() for p in parts[2].split(",") if p.strip())
        return cls(parts[0], parts[1], perms)


DEFAULT_CLIENT = ClientSpec("sandbox-client", "sandbox-secret")


@dataclass(frozen=True)
class SandboxConfig:
    """Everything that shapes the sandbox's behaviour; defaults mirror Genesys where known.

    ``clients`` also accepts ``"ID:SECRET[:PERM1,PERM2]"`` strings and ``faults`` a comma
    list, as on the command line; both are normalised to tuples.
    """

    seed: int = 42
    per_day: int = 2000
    clients: tuple[ClientSpec, ...] = (DEFAULT_CLIENT,)
    token_ttl: float = 86_400
    rate: int = 300
    window: float = 60
    window_mode: str = "sliding"
    max_concurrent: int = 0
    latency: float = 0
    job_delay: float = 2
    availability_lag: float = 300
    result_cap: int = 0
    job_result_cap: int = 400_000
    fault_rate: float = 0
    faults: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 30
    penalty: float = 0
    details_window: str = "day"
    auth_error_status: int = 401

    def __post_init__(self) -> None:
        # Accept the command-line spellings too: "ID:SECRET[:PERMS]" strings and "429,503" lists.
        clients = tuple(ClientSpec.parse(c) if isinstance(c, str) else c for c in self.clients)
        object.__setattr__(self, "clients", clients)
        faults = self.faults.split(",") if isinstance(self.faults, str) else self.faults
        object.__setattr__(self, "faults", tuple(k.strip() for k in faults if k.strip()))
        _check(self.window_mode in ("fixed", "sliding"), "window_mode must be fixed or sliding")
        _check(self.details_window in ("day", "overlap"), "details_window must be day or overlap")
        _check(self.auth_error_status in (400, 401), "auth_error_status must be 400 or 401")
        _check(0 <= self.fault_rate <= 1, "fault_rate must be within 0..1")
        _check(self.window > 0, "window must be positive")
        _check(self.per_day >= 0, "per_day must not be negative")
        _check(bool(self.clients), "at least one client is needed")
        unknown = set(self.faults) - set(FAULT_KINDS)
        _check(not unknown, f"unknown fault kinds: {sorted(unknown)}")
        numbers = (self.token_ttl, self.rate, self.max_concurrent, self.latency, self.job_delay)
        _check(min(numbers) >= 0, "limits and delays must not be negative")
        _check(min(self.result_cap, self.job_result_cap, self.slow_seconds, self.penalty) >= 0, "negative")

    def client(self, client_id: str) -> ClientSpec | None:
        """The configured client with ``client_id``, if any."""
        return next((c for c in self.clients if c.client_id == client_id), None)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m airflow_provider_genesys.sandbox`` command line."""
    p = argparse.ArgumentParser(
        prog="python -m airflow_provider_genesys.sandbox",
        description="An emulated Genesys Cloud analytics API for demos, tests and benchmarks.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = p.add_argument
    add("--host", default="127.0.0.1", help="address to bind")
    add("--port", type=int, default=8765, help="port to bind; 0 picks a free one")
    add("--seed", type=int, default=42, help="seed of the synthetic data and of random faults")
    add("--per-day", type=int, default=2000, help="mean conversations per UTC day")
    add("--client", action="append", type=ClientSpec.parse, help="ID:SECRET[:PERM1,PERM2], repeatable")
    add("--token-ttl", type=float, default=86_400, help="token lifetime in seconds (expires_in)")
    add("--rate", type=int, default=300, help="API requests per window per client; 0 = off")
    add("--window", type=float, default=60, help="rate window in seconds")
    add("--window-mode", choices=("fixed", "sliding"), default="sliding", help="rate window kind")
    add("--max-concurrent", type=int, default=0, help="analytics requests in flight per client; 0 = off")
    add("--latency", type=float, default=0, help="seconds added to each analytics request")
    add("--job-delay", type=float, default=2, help="seconds from job creation to FULFILLED")
    add("--availability-lag", type=float, default=300, help="dataAvailabilityDate = now - this")
    add("--result-cap", type=int, default=0, help="max aggregates rows / details matches; 0 = off")
    add("--job-result-cap", type=int, default=400_000, help="jobs matching more FAIL")
    add("--fault-rate", type=float, default=0, help="probability of a random fault per API request")
    add("--faults", type=_kinds, default=FAULT_KINDS, help="comma list of fault kinds random faults use")
    add("--slow-seconds", type=float, default=30, help="delay of the 'slow' fault")
    add("--penalty", type=float, default=0, help="seconds added to Retry-After per request inside it")
    add("--details-window", choices=("day", "overlap"), default="day", help="details query matching")
    add("--auth-error-status", type=int, choices=(400, 401), default=401, help="status of bad credentials")
    return p


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = set(kinds) - set(FAULT_KINDS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
    return kinds


def parse_args(argv: Sequence[str] | None = None) -> tuple[SandboxConfig, str, int]:
    """Parse the command line into a config plus the host and port to bind."""
    ns = vars(build_parser().parse_args(argv))
    host, port = ns.pop("host"), ns.pop("port")
    clients = ns.pop("client")
    names = {f.name for f in fields(SandboxConfig)}
    config = SandboxConfig(**{k: v for k, v in ns.items() if k in names})
    if clients:
        config = replace(config, clients=tuple(clients))
    return config, host, port
