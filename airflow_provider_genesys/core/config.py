"""Validated engine settings, read from connection extras, with the documented defaults.

Values may arrive as JSON types or as strings (the connection form stores strings);
each bad value raises :class:`GenesysConfigError` naming the ``extra`` field and the fix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_provider_genesys.core.errors import RESULT_CAP_PATTERN, GenesysConfigError

__all__ = ["FAMILIES", "EngineSettings", "parse_max_concurrency", "settings_from_extras"]

#: The endpoint families that get their own concurrency pool.
FAMILIES: tuple[str, ...] = ("aggregates", "details", "jobs")

_DEFAULT_CONCURRENCY = 4


def _default_pools() -> dict[str, int]:
    return dict.fromkeys(FAMILIES, _DEFAULT_CONCURRENCY)


@dataclass(frozen=True)
class EngineSettings:
    """How the request engine paces, retries and limits requests for one OAuth client."""

    requests_per_minute: float = 300.0
    adaptive_rate: bool = True
    max_concurrency: Mapping[str, int] | int = field(default_factory=_default_pools)
    timeout: float = 60.0
    max_attempts: int = 8
    max_retry_wait: float = 300.0
    retry_deadline: float = 900.0
    #: Pace this fraction below ``requests_per_minute``, so scheduling and network jitter
    #: never push a window over the server's count (2 % ≈ 200 ms of slack per 10 s at 12/s).
    pace_margin: float = 0.02
    #: Refresh a token this long before it expires (capped at 10 % of its lifetime).
    token_refresh_margin: float = 300.0
    #: Extra random delay (0..n seconds) after a shared Retry-After pause; only ever adds time.
    pause_jitter: float = 0.25
    #: Wait after a 429 without ``Retry-After`` (Genesys guidance: 3 s), doubled on repeats.
    missing_retry_after: float = 3.0
    #: First and largest backoff for 5xx, timeouts and connection errors (full jitter).
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    result_cap_pattern: str = RESULT_CAP_PATTERN

    def __post_init__(self) -> None:
        # Accept one number or a partial map, as the connection extras do.
        object.__setattr__(self, "max_concurrency", parse_max_concurrency(self.max_concurrency))

    def pool_size(self, family: str) -> int:
        pools = self.max_concurrency
        assert isinstance(pools, Mapping)
        return int(pools.get(family, _DEFAULT_CONCURRENCY))

    def with_overrides(self, *, max_concurrency: Any = None, timeout: Any = None) -> EngineSettings:
        """Per-task overrides allowed to operators: pools and timeout, never the shared rate."""
        changes: dict[str, Any] = {}
        if max_concurrency is not None:
            changes["max_concurrency"] = parse_max_concurrency(max_concurrency, "max_concurrency")
        if timeout is not None:
            changes["timeout"] = _positive_float(timeout, "timeout")
        return replace(self, **changes) if changes else self


def _positive_float(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise GenesysConfigError(name, f"{value!r} is not a number", "give a positive number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GenesysConfigError(name, f"{value!r} is not a number", "give a positive number") from None
    if not math.isfinite(number) or number <= 0:
        raise GenesysConfigError(name, f"{value!r} must be greater than 0", "give a positive number")
    return number


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise GenesysConfigError(name, f"{value!r} is not a whole number", "give a whole number ≥ 1")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GenesysConfigError(
            name, f"{value!r} is not a whole number", "give a whole number ≥ 1"
        ) from None
    if not number.is_integer() or number < 1:
        raise GenesysConfigError(name, f"{value!r} must be a whole number ≥ 1", "give a whole number ≥ 1")
    return int(number)


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise GenesysConfigError(name, f"{value!r} is not a boolean", "use true or false")


def parse_max_concurrency(value: Any, name: str = "max_concurrency") -> dict[str, int]:
    """Accept one number for every pool, or a map ``{"aggregates": n, "details": n, "jobs": n}``."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise GenesysConfigError(name, f"invalid JSON map ({exc.msg})", _POOL_FIX) from None
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(FAMILIES))
        if unknown:
            raise GenesysConfigError(name, f"unknown pool(s) {', '.join(unknown)}", _POOL_FIX)
        pools = _default_pools()
        for family, size in value.items():
            pools[family] = _positive_int(size, f"{name}.{family}")
        return pools
    size = _positive_int(value, name)
    return dict.fromkeys(FAMILIES, size)


_POOL_FIX = 'give a number, or a map like {"aggregates": 4, "details": 2, "jobs": 2}'

_READERS: dict[str, Callable[[Any, str], Any]] = {
    "requests_per_minute": _positive_float,
    "adaptive_rate": _boolean,
    "max_concurrency": parse_max_concurrency,
    "timeout": _positive_float,
    "max_attempts": _positive_int,
    "max_retry_wait": _positive_float,
    "retry_deadline": _positive_float,
}


def settings_from_extras(extras: Mapping[str, Any], prefix: str = "extra.") -> EngineSettings:
    """Build settings from connection extras; empty values mean "use the default"."""
    values: dict[str, Any] = {}
    for key, reader in _READERS.items():
        raw = extras.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        values[key] = reader(raw, prefix + key)
    return EngineSettings(**values)
