"""The provider description Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_genesys.core.regions import DEFAULT_REGION, region_names

__all__ = ["CONN_FIELDS", "UI_FIELD_BEHAVIOUR", "provider_info"]

_NAME = "Genesys Cloud"

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {"login": "Client ID", "password": "Client secret", "host": "Base URL override (optional)"},
    "placeholders": {
        "login": "OAuth client id (client credentials grant)",
        "password": "OAuth client secret",
        "host": "leave empty to use the region; e.g. https://api.mypurecloud.ie or http://127.0.0.1:8765",
    },
}


def _number(label: str, default: float | int, description: str, kind: str = "number") -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "schema": {"type": [kind, "null"], "default": default},
    }


CONN_FIELDS: dict[str, Any] = {
    "region": {
        "label": "Region",
        "description": "AWS region (eu-west-1) or Genesys domain (mypurecloud.ie); a host overrides it.",
        "schema": {"type": ["string", "null"], "enum": [*region_names(), None], "default": DEFAULT_REGION},
    },
    "requests_per_minute": _number(
        "Requests per minute", 300, "Client-side pace shared by every task of this OAuth client."
    ),
    "adaptive_rate": {
        "label": "Adaptive rate",
        "description": "Lower the pace on 429 and recover while requests succeed (never above the maximum).",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "max_concurrency": {
        "label": "Max concurrency",
        "description": 'In-flight requests per pool: n, or {"aggregates": 4, "details": 4, "jobs": 4}.',
        "schema": {"type": ["string", "null"], "default": "4"},
    },
    "timeout": _number("Timeout (s)", 60, "Seconds allowed for one request."),
    "max_attempts": _number("Max attempts", 8, "Attempts per request before failing.", "integer"),
    "max_retry_wait": _number("Max Retry-After wait (s)", 300, "A longer Retry-After fails the request."),
    "retry_deadline": _number("Retry deadline (s)", 900, "Total seconds one request may spend retrying."),
}


def provider_info() -> dict[str, Any]:
    """The dictionary returned by ``airflow_provider_genesys.get_provider_info``."""
    from airflow_provider_genesys import __version__

    return {
        "package-name": "airflow-provider-genesys",
        "name": _NAME,
        "description": "Genesys Cloud analytics: paced, retrying extraction of conversation aggregates, "
        "details and async jobs to files or object storage.",
        "versions": [__version__],
        "integrations": [{"integration-name": _NAME, "external-doc-url": "https://developer.genesys.cloud/"}],
        "hooks": [{"integration-name": _NAME, "python-modules": ["airflow_provider_genesys.hooks.genesys"]}],
        "connection-types": [
            {
                "connection-type": "genesys_cloud",
                "hook-class-name": "airflow_provider_genesys.hooks.genesys.GenesysCloudHook",
                "hook-name": _NAME,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": CONN_FIELDS,
            }
        ],
    }
