"""Apache Airflow provider for Genesys Cloud analytics."""

from __future__ import annotations

from typing import Any

__all__ = ["__version__", "get_provider_info"]

__version__ = "0.1.0"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's provider discovery."""
    from airflow_provider_genesys._provider_info import provider_info

    return provider_info()
