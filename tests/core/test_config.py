"""Engine settings from connection extras: defaults, string values, and clear errors."""

from __future__ import annotations

import pytest

from airflow_provider_genesys.core.config import EngineSettings, parse_max_concurrency, settings_from_extras
from airflow_provider_genesys.core.connection import ConnectionConfig
from airflow_provider_genesys.core.errors import GenesysConfigError


def test_defaults_match_the_documented_table() -> None:
    settings = settings_from_extras({})
    assert settings == EngineSettings()
    assert settings.requests_per_minute == 300
    assert settings.adaptive_rate is True
    assert dict(settings.max_concurrency) == {"aggregates": 4, "details": 4, "jobs": 4}
    assert (settings.timeout, settings.max_attempts) == (60, 8)
    assert (settings.max_retry_wait, settings.retry_deadline) == (300, 900)


def test_form_strings_are_parsed() -> None:
    settings = settings_from_extras(
        {
            "requests_per_minute": "120",
            "adaptive_rate": "false",
            "max_concurrency": '{"details": 2}',
            "timeout": "",
            "max_attempts": "3",
        }
    )
    assert settings.requests_per_minute == 120
    assert settings.adaptive_rate is False
    assert dict(settings.max_concurrency) == {"aggregates": 4, "details": 2, "jobs": 4}
    assert settings.timeout == 60
    assert settings.max_attempts == 3


@pytest.mark.parametrize(
    ("extras", "field"),
    [
        ({"requests_per_minute": 0}, "extra.requests_per_minute"),
        ({"requests_per_minute": "fast"}, "extra.requests_per_minute"),
        ({"adaptive_rate": "maybe"}, "extra.adaptive_rate"),
        ({"max_concurrency": {"bulk": 2}}, "extra.max_concurrency"),
        ({"max_concurrency": {"jobs": 0}}, "extra.max_concurrency.jobs"),
        ({"max_concurrency": "{bad json"}, "extra.max_concurrency"),
        ({"max_attempts": 2.5}, "extra.max_attempts"),
        ({"timeout": -1}, "extra.timeout"),
        ({"max_retry_wait": "nan"}, "extra.max_retry_wait"),
        ({"retry_deadline": True}, "extra.retry_deadline"),
    ],
)
def test_bad_values_name_the_field(extras: dict[str, object], field: str) -> None:
    with pytest.raises(GenesysConfigError) as info:
        settings_from_extras(extras)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_operator_overrides_pools_and_timeout_only() -> None:
    base = settings_from_extras({"requests_per_minute": 100})
    changed = base.with_overrides(max_concurrency=2, timeout=5)
    assert dict(changed.max_concurrency) == {"aggregates": 2, "details": 2, "jobs": 2}
    assert changed.timeout == 5
    assert changed.requests_per_minute == 100
    with pytest.raises(GenesysConfigError, match="^max_concurrency:"):
        base.with_overrides(max_concurrency="many")


def test_pool_map_accepts_numbers_as_text() -> None:
    assert parse_max_concurrency({"aggregates": "3"}) == {"aggregates": 3, "details": 4, "jobs": 4}


def test_connection_fields_validated_before_network() -> None:
    with pytest.raises(GenesysConfigError, match=r"^login: the OAuth client id is missing"):
        ConnectionConfig.from_fields("c", login="", password="s")
    with pytest.raises(GenesysConfigError, match=r"^password: the OAuth client secret is missing"):
        ConnectionConfig.from_fields("c", login="id", password=None)
    with pytest.raises(GenesysConfigError, match=r"^region: unknown"):
        ConnectionConfig.from_fields("c", login="id", password="s", extras={"region": "nowhere"})


def test_form_prefixed_extras_are_understood() -> None:
    config = ConnectionConfig.from_fields(
        "c", login="id", password="s", extras={"extra__genesys_cloud__region": "mypurecloud.de"}
    )
    assert config.endpoints.api_base == "https://api.mypurecloud.de"
    assert config.label == "connection 'c' (region mypurecloud.de)"


def test_repr_never_shows_the_secret() -> None:
    config = ConnectionConfig.from_fields("c", login="id", password="top-secret-value")
    assert "top-secret-value" not in repr(config)
    assert "top-secret-value" not in repr(config.credentials)
    assert "top-secret-value" not in str(config.credentials)
