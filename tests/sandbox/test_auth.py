"""OAuth token exchange, bearer checks (401 missing/unknown/expired/revoked) and 403 permissions."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable

import pytest

from tests.sandbox.conftest import AsgiEnv
from tests.sandbox.support import AGGREGATES, AVAILABILITY, DETAILS, HOUR, TOKEN

Make = Callable[..., Awaitable[AsgiEnv]]
GRANT = {"grant_type": "client_credentials"}
AGG_BODY = {"interval": HOUR, "metrics": ["nOffered"]}
INVALID_CLIENT = {
    "error": "invalid_client",
    "description": "authentication failed",
    "error_description": "authentication failed",
}


async def test_token_shape(asgi_env: AsgiEnv) -> None:
    response = await asgi_env.client.post(TOKEN, auth=("sandbox-client", "sandbox-secret"), data=GRANT)
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 86_400)
    assert response.headers["ININ-Correlation-Id"]
    other = (await asgi_env.client.post(TOKEN, auth=("sandbox-client", "sandbox-secret"), data=GRANT)).json()
    assert other["access_token"] != body["access_token"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"sandbox-client:wrong").decode()},
        {"Authorization": "Basic " + base64.b64encode(b"nobody:sandbox-secret").decode()},
        {"Authorization": "Basic !!notbase64"},
        {"Authorization": "Bearer abc"},
    ],
)
async def test_bad_credentials(asgi_env: AsgiEnv, headers: dict[str, str]) -> None:
    response = await asgi_env.client.post(TOKEN, headers=headers, data=GRANT)
    assert (response.status_code, response.json()) == (401, INVALID_CLIENT)


async def test_auth_error_status_is_configurable(make_asgi: Make) -> None:
    env = await make_asgi(auth_error_status=400)
    response = await env.client.post(TOKEN, auth=("sandbox-client", "nope"), data=GRANT)
    assert (response.status_code, response.json()) == (400, INVALID_CLIENT)


async def test_wrong_grant_type(asgi_env: AsgiEnv) -> None:
    response = await asgi_env.client.post(
        TOKEN, auth=("sandbox-client", "sandbox-secret"), data={"grant_type": "password"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def _expect_401(env: AsgiEnv, headers: dict[str, str], code: str) -> None:
    response = await env.client.get(AVAILABILITY, headers=headers)
    body = response.json()
    assert (response.status_code, body["code"], body["status"]) == (401, code, 401)
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    assert (body["details"], body["errors"]) == ([], [])


async def test_missing_and_unknown_tokens(asgi_env: AsgiEnv) -> None:
    await _expect_401(asgi_env, {}, "authentication.required")
    await _expect_401(asgi_env, {"Authorization": "Bearer not-a-token"}, "authentication.required")
    await _expect_401(asgi_env, {"Authorization": "Basic abc"}, "authentication.required")


async def test_tokens_expire_on_the_sandbox_clock(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, token_ttl=600, auto_advance=False)
    token = await env.token()
    assert (
        await env.client.get(AVAILABILITY, headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    env.clock.advance(599.9)
    assert (
        await env.client.get(AVAILABILITY, headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
    env.clock.advance(0.1)
    await _expect_401(env, {"Authorization": f"Bearer {token}"}, "credentials.expired")


async def test_revoked_tokens_are_refused(make_asgi: Make) -> None:
    env = await make_asgi(rate=0, clients=["a:pa", "b:pb"])
    ta, tb = await env.token("a", "pa"), await env.token("b", "pb")
    assert env.sandbox.revoke("a") == 1
    await _expect_401(env, {"Authorization": f"Bearer {ta}"}, "authentication.required")
    assert (await env.client.get(AVAILABILITY, headers={"Authorization": f"Bearer {tb}"})).status_code == 200
    response = await env.client.post("/sandbox/revoke")
    assert response.json() == {"revoked": 1}
    await _expect_401(env, {"Authorization": f"Bearer {tb}"}, "authentication.required")


async def test_new_token_works_after_revoke(make_asgi: Make) -> None:
    env = await make_asgi(rate=0)
    await env.token()
    await env.client.post("/sandbox/revoke", params={"client_id": "sandbox-client"})
    env.tokens.clear()
    assert (await env.call("GET", AVAILABILITY)).status_code == 200


@pytest.mark.parametrize(
    ("perms", "path", "body", "missing"),
    [
        ("analytics:conversationDetail:view", AGGREGATES, AGG_BODY, "analytics:conversationAggregate:view"),
        (
            "analytics:conversationAggregate:view",
            DETAILS,
            {"interval": HOUR},
            "analytics:conversationDetail:view",
        ),
        ("analytics:conversationAggregate:view", AVAILABILITY, None, "analytics:conversationDetail:view"),
        ("", AGGREGATES, AGG_BODY, "analytics:conversationAggregate:view"),
    ],
)
async def test_403_names_the_missing_permission(
    make_asgi: Make, perms: str, path: str, body: object, missing: str
) -> None:
    env = await make_asgi(rate=0, clients=[f"limited:pw:{perms}"])
    await env.token("limited", "pw")
    response = await env.call("POST" if body else "GET", path, body, client_id="limited")
    error = response.json()
    assert (response.status_code, error["code"]) == (403, "missing.any.permissions")
    assert (
        error["message"] == f"You must have at least one of the following permissions assigned: [{missing}]"
    )
    assert error["messageParams"] == {"permissions": f"[{missing}]"}
