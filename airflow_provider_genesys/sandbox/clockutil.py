"""Integer readings of the injected clock, so windows and deadlines compare exactly."""

from __future__ import annotations

from airflow_provider_genesys.core.clock import Clock

__all__ = ["US", "now_ms", "now_us"]

US = 1_000_000


def now_ms(clock: Clock) -> int:
    """Wall time in epoch milliseconds."""
    return round(clock.time() * 1000)


def now_us(clock: Clock) -> int:
    """Wall time in epoch microseconds (float seconds would drift at window edges)."""
    return round(clock.time() * US)
