"""The Airflow hook against the sandbox: connection → engine, test_connection, no leaked secrets."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from airflow_provider_genesys.core.errors import GenesysConfigError
from airflow_provider_genesys.core.state import ClientRegistry
from airflow_provider_genesys.hooks.genesys import GenesysCloudHook
from tests.helpers import AVAILABILITY


def _set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "genesys_cloud", **fields})
    )


def test_hook_attributes() -> None:
    assert GenesysCloudHook.conn_type == "genesys_cloud"
    assert GenesysCloudHook.default_conn_name == "genesys_cloud_default"
    assert GenesysCloudHook.conn_name_attr == "genesys_conn_id"


def test_connection_test_lists_every_permission_granted(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, registry: ClientRegistry
) -> None:
    _set_conn(
        monkeypatch,
        "genesys_cloud_default",
        login="sandbox-client",
        password="sandbox-secret",
        host=sandbox.url,
    )
    ok, message = GenesysCloudHook(registry=registry).test_connection()
    assert ok, message
    assert message == (
        f"Authenticated to connection 'genesys_cloud_default' (host {sandbox.url}) as OAuth client sandbox-client. "
        "Permissions: aggregates query: granted; details query: granted; jobs availability: granted"
    )


def test_connection_test_names_missing_permissions(
    sandbox_factory: Any, monkeypatch: pytest.MonkeyPatch, registry: ClientRegistry
) -> None:
    server = sandbox_factory(rate=0, clients=["agg-only:pw:analytics:conversationAggregate:view"])
    _set_conn(monkeypatch, "genesys_probe", login="agg-only", password="pw", host=server.url)
    ok, message = GenesysCloudHook("genesys_probe", registry=registry).test_connection()
    assert ok
    assert "aggregates query: granted" in message
    assert (
        "details query: missing (grant the OAuth client's role analytics:conversationDetail:view)" in message
    )
    assert (
        "jobs availability: missing (grant the OAuth client's role analytics:conversationDetail:view)"
        in message
    )


def test_connection_test_fails_clearly_on_bad_credentials(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, registry: ClientRegistry
) -> None:
    _set_conn(
        monkeypatch, "genesys_bad", login="sandbox-client", password="not-the-secret-42", host=sandbox.url
    )
    ok, message = GenesysCloudHook("genesys_bad", registry=registry).test_connection()
    assert not ok
    assert f"connection 'genesys_bad' (host {sandbox.url})" in message
    assert "not-the-secret-42" not in message


def test_region_extra_is_used_when_no_host(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_conn(monkeypatch, "genesys_eu", login="id", password="pw", extra={"region": "eu-central-1"})
    config = GenesysCloudHook("genesys_eu").config
    assert config.endpoints.api_base == "https://api.mypurecloud.de"
    assert config.endpoints.token_url == "https://login.mypurecloud.de/oauth/token"


def test_bad_region_fails_before_any_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_conn(monkeypatch, "genesys_nowhere", login="id", password="pw", extra={"region": "moon-1"})
    with pytest.raises(GenesysConfigError, match="^region: unknown Genesys Cloud region 'moon-1'"):
        GenesysCloudHook("genesys_nowhere").get_conn()


def test_missing_secret_fails_before_any_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_conn(monkeypatch, "genesys_nosecret", login="id")
    with pytest.raises(GenesysConfigError, match="^password: the OAuth client secret is missing"):
        GenesysCloudHook("genesys_nosecret").get_conn()


def test_logs_of_a_full_session_carry_neither_secret_nor_token(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, registry: ClientRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _set_conn(
        monkeypatch,
        "genesys_cloud_default",
        login="sandbox-client",
        password="sandbox-secret",
        host=sandbox.url,
    )
    _set_conn(
        monkeypatch, "genesys_wrong", login="sandbox-client", password="wrong-secret-77", host=sandbox.url
    )
    hook = GenesysCloudHook(registry=registry)
    assert hook.test_connection()[0]
    hook.client.request("GET", AVAILABILITY, family="jobs")
    hook.engine.log_summary()
    token = hook.engine.state.tokens.current()
    assert token is not None
    failed = GenesysCloudHook("genesys_wrong", registry=ClientRegistry(registry.clock))
    ok, message = failed.test_connection()
    assert not ok
    text = caplog.text + message + repr(hook.engine) + repr(hook.config) + repr(token)
    assert "POST /api/v2/analytics/conversations/aggregates/query -> 200" in caplog.text  # debug logs were on
    for secret in ("sandbox-secret", "wrong-secret-77", token.value):
        assert secret not in text


def test_token_and_secret_are_registered_with_the_secret_masker(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, registry: ClientRegistry
) -> None:
    from airflow.sdk._shared.secrets_masker import redact

    _set_conn(
        monkeypatch,
        "genesys_cloud_default",
        login="sandbox-client",
        password="sandbox-secret",
        host=sandbox.url,
    )
    hook = GenesysCloudHook(registry=registry)
    hook.client.run(lambda engine: engine.token())
    token = hook.engine.state.tokens.current()
    assert token is not None
    assert redact(f"token {token.value}") == "token ***"
    assert redact("secret sandbox-secret") == "secret ***"
