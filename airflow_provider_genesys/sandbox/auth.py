"""OAuth client credentials: token exchange, bearer checks and revocation, on the sandbox clock."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from airflow_provider_genesys.core.clock import Clock

from .config import ClientSpec, SandboxConfig
from .errors import unauthorized

__all__ = ["TokenStore", "parse_basic"]

_MAX_TOKENS = 10_000
_INVALID_CLIENT = {
    "error": "invalid_client",
    "description": "authentication failed",
    "error_description": "authentication failed",
}
_BAD_GRANT = {
    "error": "unsupported_grant_type",
    "description": "grant type is not supported",
    "error_description": "grant type is not supported",
}


@dataclass
class _Token:
    client: ClientSpec
    expires_at: float
    revoked: bool = False


def parse_basic(authorization: str | None) -> tuple[str, str] | None:
    """``(client_id, secret)`` from a Basic ``Authorization`` header, or None."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


class TokenStore:
    """Issued bearer tokens and the clients they belong to."""

    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        self._config, self._clock = config, clock
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()

    def exchange(self, authorization: str | None, form: bytes) -> tuple[int, dict[str, Any], str | None]:
        """Answer ``POST /oauth/token``: status, body and the client id the caller claimed."""
        credentials = parse_basic(authorization)
        claimed = credentials[0] if credentials else None
        client = self._config.client(claimed) if claimed else None
        if (
            client is None
            or credentials is None
            or not secrets.compare_digest(client.client_secret, credentials[1])
        ):
            return self._config.auth_error_status, dict(_INVALID_CLIENT), claimed
        grant = parse_qs(form.decode("latin-1")).get("grant_type", [""])[0]
        if grant != "client_credentials":
            return 400, dict(_BAD_GRANT), claimed
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._prune()
            self._tokens[token] = _Token(client, self._clock.time() + self._config.token_ttl)
        body = {"access_token": token, "token_type": "bearer", "expires_in": int(self._config.token_ttl)}
        return 200, body, claimed

    def authenticate(self, authorization: str | None) -> ClientSpec:
        """The client behind a ``Bearer`` header; 401 when missing, unknown, revoked or expired."""
        if not authorization or authorization[:7].lower() != "bearer ":
            raise unauthorized(
                "authentication.required", "No authentication bearer token specified in header."
            )
        token = self._tokens.get(authorization[7:].strip())
        if token is None or token.revoked:
            raise unauthorized("authentication.required", "Invalid login credentials.")
        if self._clock.time() >= token.expires_at:
            raise unauthorized(
                "credentials.expired", "The supplied credentials are expired and cannot be used."
            )
        return token.client

    def revoke(self, client_id: str | None = None) -> int:
        """Invalidate live tokens of ``client_id`` (all clients when None); return how many."""
        count = 0
        with self._lock:
            for token in self._tokens.values():
                if not token.revoked and (client_id is None or token.client.client_id == client_id):
                    token.revoked = True
                    count += 1
        return count

    def _prune(self) -> None:
        """Forget the oldest tokens once there are many (they then read as unknown)."""
        if len(self._tokens) >= _MAX_TOKENS:
            for key in list(self._tokens)[: _MAX_TOKENS // 10]:
                del self._tokens[key]
