"""Small checks shared by the query parsers: body shape, unknown fields, typed fields."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from .errors import ApiError, bad_field, bad_request

__all__ = ["int_field", "parse_json_body", "reject_unknown", "require_object"]


def parse_json_body(raw: bytes) -> object:
    """Decode a request body; 400 when it is not JSON."""
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise bad_request(f"The request body is not valid JSON: {exc}") from None


def require_object(body: object) -> dict[str, Any]:
    """The body as a JSON object; 400 otherwise."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


def reject_unknown(body: dict[str, Any], allowed: Collection[str]) -> None:
    """400 ``unknown.field`` for every top-level field Genesys would not recognise."""
    unknown = sorted(k for k in body if k not in allowed)
    if unknown:
        details = [{"fieldName": name, "errorCode": "unknown.field"} for name in unknown]
        raise ApiError(400, "bad.request", f"Unrecognized field(s): {', '.join(unknown)}", details=details)


def int_field(value: object, field: str, low: int, high: int | None, default: int) -> int:
    """An integer within ``[low, high]`` (``default`` when absent); 400 naming ``field`` otherwise."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_field(field, f"{field} must be an integer")
    if value < low or (high is not None and value > high):
        upper = f" and {high}" if high is not None else ""
        raise bad_field(field, f"{field} must be at least {low}{upper}, got {value}")
    return value
